"""Benchmark: writing a decision's JSON straight from it (`render.decision_json`) against
`json.dumps(decision.to_dict())`, as `payerpolicy check --format json` did before.

    python bench/decision_json.py [--claims N] [--rounds N]

Judges N generated claims (bench/generate.py) with the shipped Medicare policy, checks that both give the
same text for every decision, then times both over all the decisions, alternating, for --rounds rounds in
one process (CPU time, the garbage collector on), and prints each round's ratio (direct / dumps) and the
median. Judging is outside the timing: only the writing of the JSON text is compared.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402

import payerpolicy  # noqa: E402
from payerpolicy.render.decision_json import decision_json  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(2026)
    claims = [generate.claim(rng, i) for i in range(args.claims)]
    decisions = list(payerpolicy.load("medicare").check_many(claims))
    if any(decision_json(d) != json.dumps(d.to_dict()) for d in decisions):
        raise SystemExit("decision_json and json.dumps(to_dict()) wrote different text")
    findings = sum(len(d.findings) for d in decisions) / len(decisions)
    print(f"{len(decisions):,} decisions ({findings:.2f} findings each); CPU time per decision")
    ratios = []
    for _ in range(args.rounds):
        start = time.process_time()
        for decision in decisions:
            json.dumps(decision.to_dict())
        dumps = time.process_time() - start
        start = time.process_time()
        for decision in decisions:
            decision_json(decision)
        direct = time.process_time() - start
        ratios.append(direct / dumps)
        per = 1e6 / len(decisions)
        print(f"  dumps(to_dict) {dumps * per:6.1f} us, direct {direct * per:6.1f} us, ratio {ratios[-1]:.2f}")
    print(f"  median ratio direct / dumps: {statistics.median(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
