"""What recording a judged claim in the run's own history costs (`RunHistory.record`, on every claim's road
in `check_many` and in `check` without `--history`), per claim.

    python bench/run_history_record.py [--claims N] [--patients N] [--repeat N]

Reads `--claims` generated claims (bench/generate.py) of `--patients` patients, makes their line views as the
judge does (each line's discipline worked out, as the rules over the year have it), then times recording them
all in a new `RunHistory`, best of `--repeat`: microseconds per claim. Only recording: nothing asks the history
about a patient, as for a batch's claims that are their patient's only one. To set two trees side by side, run
it in each, taking turns (`PYTHONPATH=OTHER/src python bench/run_history_record.py` for the other tree).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402

from payerpolicy.claims.json_claims import claim_from_dict  # noqa: E402
from payerpolicy.judge.judge import LineView  # noqa: E402
from payerpolicy.judge.run_history import RunHistory  # noqa: E402


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--claims", type=int, default=10_000)
    options.add_argument("--patients", type=int, default=20_000)
    options.add_argument("--repeat", type=int, default=7)
    args = options.parse_args()
    claims = [claim_from_dict(c) for c in generate.claims(args.claims, patients=args.patients)]
    views = [[LineView(claim, line) for line in claim.lines] for claim in claims]
    for view in (view for judged in views for view in judged):
        view.discipline  # noqa: B018  (worked out, as judging leaves it)
    best = float("inf")
    for _ in range(args.repeat):
        history = RunHistory()
        start = time.perf_counter()
        for claim, judged in zip(claims, views):
            history.record(claim, payer="medicare", views=judged)
        best = min(best, time.perf_counter() - start)
    print(
        f"RunHistory.record: {best / len(claims) * 1e6:.2f} µs a claim (best of {args.repeat}, {len(claims):,} claims)"
    )


if __name__ == "__main__":
    main()
