"""What the Spark job spends turning decisions into Arrow rows: column builders against a dict per claim.

    pip install -e '.[spark]' && python bench/spark_rows.py --claims 20000 --rounds 5

The decisions of generated claims are made once; then each round builds the job's output batches (2,048 rows)
both ways, in turns, in one process with the garbage collector on: `columns` (payerpolicy.spark.columns, what
the job does now), `dicts` (the former way, kept here as the baseline: `to_dict` per claim, a row dict per
claim and per finding, then `RecordBatch.from_pylist`), and `columns, no JSON` (the structured columns alone,
to show what the `decision` column's JSON text costs). Prints microseconds per claim (median of rounds) and
the ratio to `dicts`, paired per round. Judging is not timed here: bench/spark_vs_jobs.py times the whole job.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import time
from pathlib import Path

import pyarrow as pa

import payerpolicy
from payerpolicy.spark.columns import arrow_decision_schema, decision_batch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402

ROWS = 2048


def dict_rows(decisions, positions):
    """The former way (payerpolicy.spark before the column builders)."""

    def texts(mapping):
        return [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in mapping.items()]

    def finding(f):
        fix = f.get("fix")
        return {
            "rule": f["rule"],
            "family": f["family"],
            "severity": f["severity"],
            "kind": f["kind"],
            "line": f["line"],
            "message": f["message"],
            "reason": texts(f["reason"]),
            "source": texts(f["source"]),
            "fix": None
            if fix is None
            else {
                "action": fix["action"],
                "line": fix["line"],
                "value": None if fix.get("value") is None else str(fix["value"]),
                "note": fix.get("note"),
            },
        }

    rows = []
    for decision, position in zip(decisions, positions):
        d = decision.to_dict()
        policy = d["policy"] or {}
        rows.append(
            {
                "position": position,
                "id": d["id"],
                "payer": policy.get("payer"),
                "policy_version": policy.get("version"),
                "status": d["status"],
                "lines": d["lines"],
                "findings": [finding(f) for f in d["findings"]],
                "errors": [{"field": e.get("field"), "message": e.get("message")} for e in d["errors"]],
                "where": d.get("where"),
                "decision": json.dumps(d),
            }
        )
    return pa.RecordBatch.from_pylist(rows, schema=arrow_decision_schema())


WAYS = {
    "dicts": dict_rows,
    "columns": decision_batch,
    "columns, no JSON": lambda decisions, positions: decision_batch(decisions, positions, with_json=False),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    day = datetime.date(2026, 12, 1)
    claims = generate.claims(args.claims, 2026, patients=max(1, args.claims // 10), days=300)
    with payerpolicy.Session(as_of=day, received=day) as session:
        decisions = list(session.check_many(claims))
    chunks = [
        (decisions[i : i + ROWS], list(range(i, min(i + ROWS, len(decisions))))) for i in range(0, len(decisions), ROWS)
    ]
    findings = sum(len(d.findings) for d in decisions)
    times: dict[str, list[float]] = {name: [] for name in WAYS}
    for _ in range(args.rounds):
        for name, build in WAYS.items():  # in turns, so that a noisy machine moves every way alike
            start = time.perf_counter()
            for chunk, positions in chunks:
                build(chunk, positions)
            times[name].append(time.perf_counter() - start)
    print(f"{args.claims:,} decisions ({findings:,} findings), batches of {ROWS}, {args.rounds} rounds in turns:")
    for name, spent in times.items():
        ratio = statistics.median(d / s for d, s in zip(times["dicts"], spent))
        print(
            f"  {name:18} {statistics.median(spent) / args.claims * 1e6:7.1f} us/claim   "
            f"{ratio:.2f}x the speed of dicts"
        )


if __name__ == "__main__":
    main()
