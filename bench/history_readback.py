"""What a claim history file costs a long run: writing claims to it, and reading a patient back from it.

    python bench/history_readback.py [--claims N] [--patients N] [--reads N] [--base SRC --pairs N]

A run keeps its recent patients' lines in memory (`--history-memory`); a claim whose patient has fallen out is
read back from the file, every line of the patient's record, before it is judged. Over a long run with many
patients that is most claims, so the time of one read-back is what the end of the run costs per claim.

Records `--claims` generated claims (bench/generate.py, 20 claims a patient by default) in a new history file
as a run does (`ClaimHistory.record`, transactions of 1,000), then reads `--reads` patients drawn at random
back from the file, memory emptied before each, and prints the microseconds of a write per claim and of a
read-back per patient (CPU time), the lines a patient has, and the file's size. With `--base SRC` (the src
folder of another tree: `git worktree add /tmp/base COMMIT`), both trees run in turn, `--pairs` times, each
writing its own file in its own schema, and the medians of this / base are printed; the two must read back
the same lines.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import paired  # noqa: E402


def measure(claims: int, patients: int, reads: int) -> dict:
    import generate

    from payerpolicy.claims.json_claims import claim_from_dict
    from payerpolicy.judge.history import ClaimHistory

    rng = random.Random(2026)
    records = [claim_from_dict(generate.claim(rng, i, patients=patients)) for i in range(claims)]
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "history.sqlite")
        started = time.process_time()
        with ClaimHistory(path, batch=1000) as history:
            for record in records:
                history.record(record, payer="medicare")
        written = time.process_time() - started
        size = os.path.getsize(path)
        ids = sorted({record.patient_id for record in records})
        chosen = [random.Random(7).choice(ids) for _ in range(reads)]
        digest, lines = hashlib.sha256(), 0
        with ClaimHistory(path, cache_lines=1) as history:
            started = time.process_time()
            for patient_id in chosen:
                history._cache.clear()  # the patient has fallen out of memory: read back from the file
                # its whole record asked for (a patient read back makes its lines only when a question needs them)
                lines += len(history.lines(patient_id, datetime.date.min, datetime.date.max))
            read_back = time.process_time() - started
            for patient_id in ids[:50]:
                for line in history.lines(patient_id, datetime.date.min, datetime.date.max):
                    digest.update(repr(tuple(getattr(line, f) for f in line.__slots__)).encode())
    return {
        "write_us_per_claim": written / claims * 1e6,
        "read_back_us_per_patient": read_back / reads * 1e6,
        "lines_per_patient": lines / reads,
        "file_mb": size / 1e6,
        "digest": digest.hexdigest(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--patients", type=int, default=5_000)
    parser.add_argument("--reads", type=int, default=3_000)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    paired.add_base(parser)
    args = parser.parse_args()
    sizes = [str(args.claims), str(args.patients), str(args.reads)]
    if args.child:
        print(json.dumps(measure(args.claims, args.patients, args.reads)))
        return
    if args.base is None:
        found = measure(args.claims, args.patients, args.reads)
        print(
            f"{args.claims:,} claims over {args.patients:,} patients: write {found['write_us_per_claim']:.0f} us a "
            f"claim; read back {found['read_back_us_per_patient']:.0f} us a patient of "
            f"{found['lines_per_patient']:.0f} lines; file {found['file_mb']:.0f} MB"
        )
        return
    base = paired.check_base(parser, args.base)
    script = str(Path(__file__).resolve())
    runs: dict[str, list[dict]] = {"base": [], "this": []}
    for pair in range(args.pairs):
        sides = [("base", base), ("this", paired.HERE)]
        if pair % 2:
            sides.reverse()
        for name, src in sides:
            runs[name].append(
                paired.child_json(
                    src, [script, "--child", "--claims", sizes[0], "--patients", sizes[1], "--reads", sizes[2]]
                )
            )
        if runs["this"][-1]["digest"] != runs["base"][-1]["digest"]:
            raise SystemExit("the two trees read back different lines")
        print(
            f"  pair {pair + 1}: read back base {runs['base'][-1]['read_back_us_per_patient']:.0f} us, this "
            f"{runs['this'][-1]['read_back_us_per_patient']:.0f} us; write base "
            f"{runs['base'][-1]['write_us_per_claim']:.1f} us, this {runs['this'][-1]['write_us_per_claim']:.1f} us"
        )
    print(f"{args.claims:,} claims over {args.patients:,} patients, {args.pairs} pairs (medians, CPU time):")
    for key, words in (
        ("read_back_us_per_patient", "read back, us a patient"),
        ("write_us_per_claim", "write, us a claim"),
        ("file_mb", "file, MB"),
    ):
        this = statistics.median(r[key] for r in runs["this"])
        was = statistics.median(r[key] for r in runs["base"])
        ratios = statistics.median(t[key] / b[key] for t, b in zip(runs["this"], runs["base"]))
        print(f"  {words:26s} base {was:9.1f}  this {this:9.1f}  this/base {ratios:.2f}")
    print(f"  lines a patient: {statistics.median(r['lines_per_patient'] for r in runs['this']):.0f}")


if __name__ == "__main__":
    main()
