"""`Policy.check_many` and `Session.check_many` on their shared road (payerpolicy.run) against the road
`Policy.check_many` had of its own: one `Judge` and `judge_in_order`, written out here as it was.

    python bench/check_many_road.py [--claims N] [--rounds N]

Judges the same generated claims, from their claim JSON dicts (reading included), one process, in paired
rounds that take turns going first, the garbage collector on. Prints each round's claims/s and the median over
rounds of each road's claims/s divided by the old road's in the same round (1.00: as fast).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import floor  # noqa: E402
import generate  # noqa: E402

import payerpolicy  # noqa: E402
from payerpolicy.api import DEFAULT_WINDOW  # noqa: E402
from payerpolicy.judge.judge import Judge  # noqa: E402
from payerpolicy.judge.window import judge_in_order  # noqa: E402
from payerpolicy.run import as_record  # noqa: E402


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--claims", type=int, default=20_000)
    options.add_argument("--rounds", type=int, default=5)
    args = options.parse_args()
    policy = payerpolicy.load(floor.POLICY_FOLDER)
    claims = generate.claims(args.claims)

    def old_road() -> list:
        judge = Judge(policy.program)
        return list(judge_in_order((as_record(c) for c in claims), lambda record: judge, DEFAULT_WINDOW))

    def policy_road() -> list:
        return list(policy.check_many(claims))

    def session_road() -> list:
        with payerpolicy.Session(policy) as session:
            return list(session.check_many(claims))

    roads = [("old", old_road), ("Policy.check_many", policy_road), ("Session.check_many", session_road)]
    assert old_road() == policy_road() == session_road(), "the roads must give the same decisions"
    print(f"{len(claims):,} claims of bench/generate.py, the benchmark's Medicare policy, from claim JSON dicts")
    ratios: dict[str, list[float]] = {name: [] for name, _ in roads[1:]}
    for number in range(args.rounds):
        order = roads[number % 3 :] + roads[: number % 3]  # each goes first in turn
        rate = {}
        for name, run in order:
            start = time.perf_counter()
            run()
            rate[name] = len(claims) / (time.perf_counter() - start)
        print(f"  round {number + 1}: " + ", ".join(f"{name} {rate[name]:,.0f} claims/s" for name, _ in roads))
        for name in ratios:
            ratios[name].append(rate[name] / rate["old"])
    for name, values in ratios.items():
        print(f"{name} / old road, median of {len(values)} paired rounds: {statistics.median(values):.2f}")


if __name__ == "__main__":
    main()
