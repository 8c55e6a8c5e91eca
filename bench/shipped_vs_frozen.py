"""What the shipped Medicare policy costs against the frozen copy the benchmark judges (bench/policies/medicare).

    python bench/shipped_vs_frozen.py [--claims N] [--rounds N]

bench/run.py measures the engine against a hand-written floor on a frozen policy, so that the ratio does not
move when the shipped policy gains rules. This script says what those rules cost users: both policies judge
the same generated claims (read into the claim model first) with `check_many`, in turns, round after round
in one process, the garbage collector included; it prints each one's best and median claims/s and the
shipped policy's speed as a share of the frozen one's.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import floor  # noqa: E402
import generate  # noqa: E402

import payerpolicy  # noqa: E402
from payerpolicy.claims.json_claims import claim_from_dict  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    claims = [claim_from_dict(c) for c in generate.claims(args.claims, seed=7)]
    policies = {"frozen 2026.1": payerpolicy.load(floor.POLICY_FOLDER), "shipped": payerpolicy.load("medicare")}
    rates: dict[str, list[float]] = {name: [] for name in policies}
    for _ in range(args.rounds):
        for name, policy in policies.items():
            gc.collect()
            start = time.perf_counter()
            for _ in policy.check_many(claims):
                pass
            rates[name].append(args.claims / (time.perf_counter() - start))
    for name, policy in policies.items():
        print(
            f"{name:<14} {policy.program.rule_count:>3} rules  best {max(rates[name]):>7,.0f} claims/s  "
            f"median {statistics.median(rates[name]):>7,.0f}"
        )
    shares = [s / f for s, f in zip(rates["shipped"], rates["frozen 2026.1"], strict=True)]
    print(
        f"shipped / frozen, round by round: median {statistics.median(shares):.2f} "
        f"(from {min(shares):.2f} to {max(shares):.2f})"
    )


if __name__ == "__main__":
    main()
