"""How the time to judge one claim grows with its lines (all on one day), in one process, sizes interleaved.

    python bench/big_claim.py [--lines 5000] [--rounds 2] [--codes 59]
    python bench/big_claim.py --sizes 1000,10000 --rounds 3 --codes 1

Prints, per size, the median time of the rounds (the collector on) and the time per line; then the ratio
of the largest size's time per line to the smallest's: about 1 for linear work, the ratio of the sizes for
n * n. Without `--sizes`, the sizes are n and 2n (`--lines`). The lines cycle through `--codes` of the codes
the Medicare policy has rules for (59: all of them; 1: a claim of one code, the worst case for counts over the
earlier lines of a code)."""

from __future__ import annotations

import argparse
import statistics
import time

import payerpolicy


def claim(lines: int, codes: list[str]) -> dict:
    return {
        "id": "BIG",
        "patient": {"id": "P-1"},
        "provider": {"type": "PT"},
        "referring_npi": "1245319599",
        "diagnoses": ["I69.351"],
        "lines": [
            {"code": codes[n % len(codes)], "modifiers": ["GP"], "units": 1, "date": "2026-03-02"} for n in range(lines)
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--sizes", help="comma-separated claim sizes in lines (default: --lines and twice it)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--codes", type=int, default=59)
    args = parser.parse_args()
    policy = payerpolicy.load("medicare")
    codes = sorted(policy.program.judge_by_code)[: args.codes]
    sizes = tuple(int(n) for n in args.sizes.split(",")) if args.sizes else (args.lines, 2 * args.lines)
    claims = {n: claim(n, codes) for n in sizes}
    times: dict[int, list[float]] = {n: [] for n in sizes}
    policy.check(claim(10, codes))  # warm
    for _ in range(args.rounds):
        for n in sizes:  # interleaved: each round runs every size once
            start = time.perf_counter()
            policy.check(claims[n])
            times[n].append(time.perf_counter() - start)
    per_line = {n: statistics.median(times[n]) / n for n in sizes}
    for n in sizes:
        print(f"{n:>7} lines: {statistics.median(times[n]):.2f} s, {per_line[n] * 1e6:.0f} µs a line")
    small, large = min(sizes), max(sizes)
    print(
        f"time per line, {large} / {small} lines: {per_line[large] / per_line[small]:.2f} "
        f"(1 linear, {large / small:.0f} quadratic)"
    )


if __name__ == "__main__":
    main()
