"""What an impact diff costs against one `check` of the same claims (issue: at most 2.2 times).

    python bench/impact_diff.py [--claims N] [--rounds N] [--memory]

Generates N seeded claims (`bench/generate.py`, default 100,000) into a JSON Lines file, and an edited copy of
the shipped Medicare policy (the 97112 guideline lowered from 4 to 3 units, a code pair row 97110/97140 added),
so that the diff has changes to report. Then, round after round in one process, in turns (the order swapped
every round, the garbage collector included):

- check: `Session(shipped medicare).check_many(read_claims(file))`, every decision consumed;
- diff:  `payerpolicy.diff(shipped, edited, read_claims(file))`, every change consumed.

Both read and parse the claim file: the diff reads it once for both policies. Policies are loaded before the
rounds (in both). It prints each round's diff/check ratio and their median. `--memory` then measures, with
tracemalloc, the peak memory of each over the same claims (slower: run it apart from the timing).
"""
from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

import payerpolicy  # noqa: E402
from payerpolicy.impact import side  # noqa: E402


def edited_medicare(folder: Path) -> Path:
    shipped = Path(payerpolicy.load("medicare").program.policy.folder)
    target = folder / "medicare-edited"
    shutil.copytree(shipped, target, ignore=shutil.ignore_patterns("tests"))
    caps = target / "caps.yaml"
    caps.write_text(caps.read_text(encoding="utf-8").replace("max_units: 4", "max_units: 3", 1), encoding="utf-8")
    with open(target / "code-pairs.yaml", "a", encoding="utf-8") as out:
        out.write("\n  - id: bench.pair.97110-97140\n    column1: 97110\n    column2: 97140\n"
                  "    modifier_indicator: 0\n    source: \"benchmark row\"\n")
    return target


def run_check(policy, path: Path) -> int:
    with payerpolicy.Session(policy) as session:
        return sum(1 for _ in session.check_many(payerpolicy.read_claims(path)))


def run_diff(old, new, path: Path) -> int:
    impact = payerpolicy.diff(old, new, payerpolicy.read_claims(path))
    changed = sum(len(change.lines) for change in impact)
    assert changed == impact.summary["lines_changed"]
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="also the peak memory of each (tracemalloc)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="payerpolicy-bench-"))
    try:
        path = folder / "claims.jsonl"
        with open(path, "w", encoding="utf-8") as out:
            for claim in generate.claims(args.claims, seed=7):
                out.write(json.dumps(claim, default=str) + "\n")
        old, new = side("medicare"), side(edited_medicare(folder))
        print(f"{args.claims:,} claims; {run_diff(old, new, path):,} lines decided differently")
        ratios = []
        for round_number in range(args.rounds):
            times = {}
            order = ("check", "diff") if round_number % 2 == 0 else ("diff", "check")
            for name in order:
                gc.collect()
                start = time.perf_counter()
                if name == "check":
                    run_check(old.policy, path)
                else:
                    run_diff(old, new, path)
                times[name] = time.perf_counter() - start
            ratios.append(times["diff"] / times["check"])
            print(f"round {round_number + 1}: check {args.claims / times['check']:,.0f} claims/s, "
                  f"diff {args.claims / times['diff']:,.0f} claims/s, diff/check {ratios[-1]:.2f}")
        print(f"diff / check, round by round: median {statistics.median(ratios):.2f} "
              f"(from {min(ratios):.2f} to {max(ratios):.2f}); the issue's bound is 2.2")
        if args.memory:
            for name, work in (("check", lambda: run_check(old.policy, path)), ("diff", lambda: run_diff(old, new, path))):
                gc.collect()
                tracemalloc.start()
                work()
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                print(f"peak memory while judging, {name}: {peak / 2**20:,.1f} MiB")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
