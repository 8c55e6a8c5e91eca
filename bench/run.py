"""Benchmark: compile time and judging speed of the shipped Medicare policy.

    python bench/run.py [--claims N]

Prints the cold compile time, claims/s and lines/s for `check_many` over N generated claims and for `check`
one claim per call, the p50/p99 latency of one `check`, and peak memory. Claims are read into the claim model
before timing, so the figures are the engine's, not the JSON reader's (reading is timed on its own line).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402

import payerpolicy  # noqa: E402
from payerpolicy.claim_read import claim_from_dict  # noqa: E402
from payerpolicy.rule_parse import parser  # noqa: E402


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--claims", type=int, default=100_000)
    args = options.parse_args()

    start = time.perf_counter()
    parser()
    grammar_seconds = time.perf_counter() - start
    start = time.perf_counter()
    policy = payerpolicy.load("medicare")
    compile_seconds = time.perf_counter() - start
    print(f"grammar built in {grammar_seconds * 1000:.0f} ms; medicare policy loaded and compiled in "
          f"{compile_seconds * 1000:.0f} ms ({policy.program.rule_count} rules)")

    raw = generate.claims(args.claims)
    start = time.perf_counter()
    claims = [claim_from_dict(c) for c in raw]
    read_seconds = time.perf_counter() - start
    lines = sum(len(c["lines"]) for c in raw)
    print(f"{len(claims):,} claims, {lines:,} lines; read into the claim model at "
          f"{len(claims) / read_seconds:,.0f} claims/s")

    start = time.perf_counter()
    decisions = list(policy.check_many(claims))
    many_seconds = time.perf_counter() - start
    # Memory is measured on a second pass: tracing allocations slows them several times over.
    tracemalloc.start()
    for _ in policy.check_many(claims):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    denied = sum(d.status == "denied" for d in decisions)
    print(f"check_many: {len(claims) / many_seconds:,.0f} claims/s, {lines / many_seconds:,.0f} lines/s "
          f"({denied:,} denied); peak traced memory while judging {peak / 2**20:,.0f} MiB")

    latencies = []
    start = time.perf_counter()
    for claim in claims:
        t = time.perf_counter()
        policy.check(claim)
        latencies.append(time.perf_counter() - t)
    one_seconds = time.perf_counter() - start
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"check (one claim a call): {len(claims) / one_seconds:,.0f} claims/s, {lines / one_seconds:,.0f} "
          f"lines/s; latency p50 {statistics.median(latencies) * 1e6:,.0f} us, p99 {p99 * 1e6:,.0f} us")


if __name__ == "__main__":
    main()
