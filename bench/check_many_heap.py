"""`check_many` against `check`, per claim, in an application with a large heap of its own.

    python bench/check_many_heap.py [--claims N] [--rounds N] [--heap N]

An application that judges claims usually holds much else in memory. Python's cycle collector walks the
objects that survived earlier collections whenever enough new ones have been made, so a judging path that
makes reference cycles, or keeps claims alive long enough to reach the oldest generation, pays for the
application's heap as well as its own. This script holds `--heap` small objects (a million by default)
alive, then judges the same generated claims, from their claim JSON dicts (reading included), with
`Policy.check` one claim a call and with `Policy.check_many`, taking turns, the garbage collector on as in
any application. It prints each round and the median over rounds of check_many's claims/s divided by
check's in the same round (1.00: as fast per claim; the goal is at least that), with and without the heap,
and how many collections of the oldest generation each ran.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import floor  # noqa: E402
import generate  # noqa: E402

import payerpolicy  # noqa: E402


def timed(run) -> tuple[float, int]:
    """Seconds `run` took, and the collections of the oldest generation during it."""
    gc.collect()
    before = gc.get_stats()[2]["collections"]
    start = time.perf_counter()
    run()
    return time.perf_counter() - start, gc.get_stats()[2]["collections"] - before


def rounds_of(policy, claims: list, rounds: int) -> list[dict]:
    def one_by_one():
        for claim in claims:
            policy.check(claim)

    def many():
        for _ in policy.check_many(claims):
            pass

    out = []
    for number in range(rounds):
        pair = [("check", one_by_one), ("check_many", many)]
        if number % 2:
            pair.reverse()  # each goes first in turn
        figures = {name: timed(run) for name, run in pair}
        out.append({name: (len(claims) / seconds, full) for name, (seconds, full) in figures.items()})
    return out


def report(label: str, results: list[dict]) -> float:
    ratios = [r["check_many"][0] / r["check"][0] for r in results]
    for number, r in enumerate(results, 1):
        print(
            f"  round {number}: check {r['check'][0]:8,.0f} claims/s ({r['check'][1]} full collections), "
            f"check_many {r['check_many'][0]:8,.0f} claims/s ({r['check_many'][1]} full collections)"
        )
    median = statistics.median(ratios)
    print(f"{label}: check_many / check per claim, median of {len(ratios)} paired rounds: {median:.2f}")
    return median


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--claims", type=int, default=20_000)
    options.add_argument("--rounds", type=int, default=5)
    options.add_argument("--heap", type=int, default=1_000_000, help="objects the application holds (1,000,000)")
    args = options.parse_args()
    policy = payerpolicy.load(floor.POLICY_FOLDER)
    claims = generate.claims(args.claims)
    print(f"{len(claims):,} claims of bench/generate.py, the benchmark's Medicare policy, from claim JSON dicts")
    report("without a heap", rounds_of(policy, claims, args.rounds))
    heap = [[n, str(n)] for n in range(args.heap)]  # an application's own objects: lists the collector tracks
    gc.collect()
    print(f"holding {len(heap):,} lists of the application's own")
    report(f"with a heap of {len(heap):,} objects", rounds_of(policy, claims, args.rounds))


if __name__ == "__main__":
    main()
