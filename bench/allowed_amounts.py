"""Benchmark: judging with a fee schedule loaded (every line priced, the KX threshold on allowed amounts)
against the shipped Medicare policy without one.

    python bench/allowed_amounts.py [--claims N] [--rounds N]

Generates N claims (bench/generate.py), moved into 2026 so that the invented fee schedule of the Medicare
test payer (policies/medicare/tests/fee-schedule: NOT CMS figures) covers them, reads them once, then judges
them as one run with each policy, the two policies taking turns for --rounds rounds with the collector on, and
prints the median claims/s and lines/s of each and the median of the rounds' paired ratios (other load on the
machine slows both alike; this used to print the best round of each, which hid the collector and flattered).
Both figures include the rules that fire: with the invented fees many more claims cross the KX threshold, and
their findings are made.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

from payerpolicy.claims.json_claims import claim_from_dict  # noqa: E402
from payerpolicy.judge.judge import Judge  # noqa: E402
from payerpolicy.pipeline import load_program  # noqa: E402

POLICIES = (
    ("medicare (no fee schedule)", "medicare"),
    ("medicare + invented fee schedule", str(HERE.parent / "policies" / "medicare" / "tests" / "fee-schedule")),
)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--claims", type=int, default=20_000)
    options.add_argument("--rounds", type=int, default=3)
    args = options.parse_args()
    raw = generate.claims(args.claims)
    for claim in raw:  # into 2026, the year the invented schedule covers
        for line in claim["lines"]:
            line["date"] = "2026" + line["date"][4:]
    records = [claim_from_dict(claim) for claim in raw]
    lines = sum(len(record.lines) for record in records)
    programs = {name: load_program(source, datetime.date(2026, 12, 1))[0] for name, source in POLICIES}
    seconds: dict[str, list[float]] = {name: [] for name in programs}
    for _ in range(args.rounds):
        for name, program in programs.items():
            judge = Judge(program)
            start = time.perf_counter()
            judge.judge(records)
            seconds[name].append(time.perf_counter() - start)
    for name, taken in seconds.items():
        median = statistics.median(taken)
        print(
            f"{name}: {len(records):,} claims, {lines:,} lines: {len(records) / median:,.0f} claims/s, "
            f"{lines / median:,.0f} lines/s (median of {args.rounds})"
        )
    plain, priced = seconds.values()
    ratio = statistics.median(a / b for a, b in zip(plain, priced))
    print(f"with the fee schedule / without: {ratio:.2f} of the claims/s (median of the rounds' paired ratios)")


if __name__ == "__main__":
    main()
