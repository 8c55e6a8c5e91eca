"""How the time to judge one claim grows with its lines (all on one day), in one process, sizes interleaved.

    python bench/big_claim.py [--lines 5000] [--rounds 2] [--codes 59]

Prints, for n and 2n lines, the best time of each and their ratio: about 2 for linear work, 4 for n * n.
The lines cycle through `--codes` of the codes the Medicare policy has rules for (59: all of them); a count
that compares a line with the earlier lines of its own code still costs (n / codes)^2 per code."""
from __future__ import annotations

import argparse
import time

import payerpolicy


def claim(lines: int, codes: list[str]) -> dict:
    return {"id": "BIG", "patient": {"id": "P-1"}, "provider": {"type": "PT"}, "referring_npi": "1245319599",
            "diagnoses": ["I69.351"],
            "lines": [{"code": codes[n % len(codes)], "modifiers": ["GP"], "units": 1, "date": "2026-03-02"}
                      for n in range(lines)]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--codes", type=int, default=59)
    args = parser.parse_args()
    policy = payerpolicy.load("medicare")
    codes = sorted(policy.program.judge_by_code)[:args.codes]
    sizes = (args.lines, 2 * args.lines)
    claims = {n: claim(n, codes) for n in sizes}
    best = {n: float("inf") for n in sizes}
    for _ in range(args.rounds):
        for n in sizes:
            start = time.perf_counter()
            policy.check(claims[n])
            best[n] = min(best[n], time.perf_counter() - start)
    for n in sizes:
        print(f"{n:>7} lines: {best[n]:.2f} s")
    print(f"ratio {sizes[1]}/{sizes[0]} lines: {best[sizes[1]] / best[sizes[0]]:.2f} (2 linear, 4 quadratic)")


if __name__ == "__main__":
    main()
