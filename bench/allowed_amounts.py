"""Benchmark: judging with a fee schedule loaded (every line priced, the KX threshold on allowed amounts)
against the shipped Medicare policy without one.

    python bench/allowed_amounts.py [--claims N] [--rounds N]

Generates N claims (bench/generate.py), moved into 2026 so that the invented fee schedule of the Medicare
test payer (policies/medicare/tests/fee-schedule: NOT CMS figures) covers them, reads them once, then judges
them as one run with each policy, best of --rounds, and prints claims/s and lines/s. Both figures include the
rules that fire: with the invented fees many more claims cross the KX threshold, and their findings are made.
"""

from __future__ import annotations

import argparse
import datetime
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
    for name, source in POLICIES:
        program, _ = load_program(source, datetime.date(2026, 12, 1))
        best = float("inf")
        for _ in range(args.rounds):
            judge = Judge(program)
            start = time.perf_counter()
            judge.judge(records)
            best = min(best, time.perf_counter() - start)
        print(
            f"{name}: {len(records):,} claims, {lines:,} lines: {len(records) / best:,.0f} claims/s, "
            f"{lines / best:,.0f} lines/s"
        )


if __name__ == "__main__":
    main()
