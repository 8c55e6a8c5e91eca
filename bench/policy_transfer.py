"""How a compiled policy gets to another process: loaded from its files, from the compiled-policy cache, or
unpickled from the parent (what worker processes and Spark tasks do since `Policy` pickles).

    python bench/policy_transfer.py [--rounds N] [--pairs N] [--rules N]

For the shipped Medicare policy and a payer-scale policy (bench/large_policy.py; 10,000 rules and 1,000,000
code pairs by default), each way is timed in a fresh process (so nothing is warm but the operating system's
file cache), the three ways taking turns round after round, and the median of the rounds is printed with the
pickle's size. A figure is the whole of getting a usable `Policy`: imports excluded, compiling the
functions' shapes included.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

CHILD = r"""
import json, os, pickle, sys, time
import payerpolicy
how, source, blob = sys.argv[1], sys.argv[2], sys.argv[3]
start = time.perf_counter()
if how == "unpickle":
    with open(blob, "rb") as handle:
        policy = pickle.load(handle)
else:
    policy = payerpolicy.load(source)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rules": policy.program.rule_count}))
"""


def _child(how: str, source: str, blob: str, cache: str) -> float:
    env = dict(os.environ, PAYERPOLICY_CACHE=cache)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, how, source, blob], env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out)["seconds"]


def measure(source: str, workdir: Path, rounds: int) -> dict:
    import payerpolicy

    cache = workdir / "cache"
    os.environ["PAYERPOLICY_CACHE"] = str(cache)
    policy = payerpolicy.load(source)  # also fills the cache for the "cached" runs
    blob = workdir / "policy.pickle"
    blob.write_bytes(pickle.dumps(policy))
    times: dict[str, list[float]] = {"files": [], "cached": [], "unpickle": []}
    for _ in range(rounds):
        times["files"].append(_child("load", source, str(blob), "off"))
        times["cached"].append(_child("load", source, str(blob), str(cache)))
        times["unpickle"].append(_child("unpickle", source, str(blob), "off"))
    return {"pickle_kb": blob.stat().st_size / 1024, **{k: statistics.median(v) for k, v in times.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--rules", type=int, default=10_000)
    args = parser.parse_args()
    import large_policy

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = []
        (work / "shipped").mkdir()
        rows.append(("medicare (shipped)", measure("medicare", work / "shipped", args.rounds)))
        large = work / "large"
        large_policy.write(large, pairs=args.pairs, rules=args.rules)
        (work / "large-run").mkdir()
        rows.append(
            (
                f"payer scale ({args.rules:,} rules, {args.pairs:,} pairs)",
                measure(str(large), work / "large-run", args.rounds),
            )
        )
    print(f"median of {args.rounds} rounds, each way in a fresh process")
    print(f"{'policy':<44} {'from files':>11} {'from cache':>11} {'unpickled':>11} {'pickle':>10}")
    for name, r in rows:
        print(f"{name:<44} {r['files']:>10.3f}s {r['cached']:>10.3f}s {r['unpickle']:>10.3f}s {r['pickle_kb']:>8.0f}kB")


if __name__ == "__main__":
    main()
