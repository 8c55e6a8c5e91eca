"""Benchmark: `payerpolicy check` of this tree against another (a commit checked out elsewhere), paired.

    python bench/check_ab.py --base SRC_DIR [--claims N] [--patients N] [--pairs N] [--no-history] [--format 837]

SRC_DIR is the `src` folder of the other tree (for a commit: `git archive COMMIT | tar -x -C DIR`,
then DIR/src). Writes N generated claims (bench/generate.py), then runs, in pairs and alternating which goes
first,

    payerpolicy check --payer medicare --format json --history NEW_FILE CORPUS > FILE

(CORPUS as JSON Lines, or with --format 837 the same claims as an 837P interchange, bench/x12_corpus.py: the
X12 reader's road)

once with the other tree's code and once with this one's, each in a fresh process with a new history file
(so a run pays for every write, read and commit of its history, as a user's first run of a file does), the
garbage collector on. It prints each pair's CPU seconds (user + system of the child, which a loaded machine
disturbs less than the wall clock) and the ratio this / base, then the median ratio; and checks that both
trees wrote the same decisions (the bench fails otherwise: a faster run with other decisions is no result).
Start-up (imports, compiling the policy) is in both runs alike.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import paired  # noqa: E402
import scale  # noqa: E402


def run(src: str, corpus: str, history: str | None, out: str) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one `payerpolicy check` with the code in `src`."""
    env = dict(os.environ, PYTHONPATH=src)
    command = [sys.executable, "-m", "payerpolicy.cli.main", "check", "--payer", "medicare", "--format", "json"]
    command += ["--history", history] if history else []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(out, "w") as sink:
        code = subprocess.run([*command, corpus], stdout=sink, env=env).returncode
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # 1 is also "some claims denied": the run counts only when it wrote its whole document
    if code not in (0, 1) or not _ends_with_summary(out):
        raise SystemExit(f"payerpolicy check ({src}) failed (exit {code})")
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, wall


def _ends_with_summary(path: str) -> bool:
    with open(path, "rb") as written:
        written.seek(max(os.path.getsize(path) - 200, 0))
        return b'"summary": ' in written.read()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    paired.add_base(parser)
    parser.add_argument("--claims", type=int, default=20_000)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--history", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--format", choices=("jsonl", "837"), default="jsonl", help="the corpus's claim format")
    args = parser.parse_args(argv)
    base = paired.check_base(parser, args.base)
    with tempfile.TemporaryDirectory(prefix="payerpolicy-ab-") as folder:
        corpus = os.path.join(folder, f"claims.{args.format}")
        scale.write_corpus(corpus, args.claims, args.format, patients=args.patients)
        print(
            f"payerpolicy check, {args.claims:,} claims ({args.format}) over {args.patients:,} patients, "
            f"{'with' if args.history else 'without'} --history; CPU seconds, this tree / base"
        )
        runs = itertools.count()

        def check(name: str, src: str) -> tuple[float, str]:
            history = os.path.join(folder, f"{name}-{next(runs)}.sqlite") if args.history else None
            out = os.path.join(folder, f"{name}.json")
            cpu, _ = run(src, corpus, history, out)
            with open(out, "rb") as decisions:
                return cpu, hashlib.sha256(decisions.read()).hexdigest()

        median = paired.median_ratio(base, args.pairs, check)
        print(f"  median ratio this / base: {median:.2f} (decisions identical)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
