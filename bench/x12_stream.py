"""Benchmark: the 837P reader streams, and how fast it reads and checks against JSON Lines.

    python bench/x12_stream.py [--small N] [--large N] [--rounds N] [--careful]

Writes the same generated claims (bench/generate.py, without minutes, which an 837P line does not carry) as
an 837P interchange (bench/x12_corpus.py) and as JSON Lines, --small (5,000) and --large (40,000) of them, in
a private temporary folder removed at the end. Every figure comes from a fresh process, the garbage collector
on, timed inside the process (interpreter start and imports left out):

- read: the file read into the claim model (`payerpolicy.read_claims`, the format told from the content), and
  the process's peak resident memory (VmHWM);
- check: `payerpolicy check FILE --format json` end to end (the CLI's `main`, output to /dev/null), the
  loading of the cached medicare policy included.

Each round runs the large 837P and the large JSONL file back to back, in turns (which goes first alternates),
and gives the ratio of their claims/s: paired, so that a load on the machine hits both sides of a ratio alike.
Claims/s are counted both per second of CPU time of the process (what a loaded machine disturbs least) and
per second of elapsed time. Printed: the peak memory of each file (medians), the large 837P's peak as a share
of the small one's (streamed, it stays near 1), each round's claims per CPU second, and the ratios' medians. --careful adds a third side to each
pair, the 837P read by the careful road alone (`read_x12(quick=False)`), for the quick road's share.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402
import x12_corpus  # noqa: E402

READ = """
import sys, time
import payerpolicy
from payerpolicy.claims.x12 import read_x12
path, mode = sys.argv[1], sys.argv[2]
start, cpu = time.perf_counter(), time.process_time()
if mode == "careful":
    with open(path, encoding="utf-8-sig", newline="") as stream:
        count = sum(1 for _ in read_x12(stream, path, quick=False))
else:
    count = sum(1 for _ in payerpolicy.read_claims(path))
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
peak = [int(row.split()[1]) for row in open("/proc/self/status") if row.startswith("VmHWM:")][0]
print(count, seconds, cpu, peak)
"""

CHECK = """
import contextlib, json, os, sys, time
from payerpolicy.cli.main import main
path = sys.argv[1]
start, cpu = time.perf_counter(), time.process_time()
with open(os.devnull, "w") as out, contextlib.redirect_stdout(out):
    code = main(["check", path, "--format", "json"])
print(code, time.perf_counter() - start, time.process_time() - cpu)
"""


def write(folder: str, count: int) -> dict[str, str]:
    paths = {"x12": os.path.join(folder, f"claims-{count}.837"), "jsonl": os.path.join(folder, f"claims-{count}.jsonl")}
    claims = [generate.claim(random.Random(2026 + i), i) for i in range(count)]
    for claim in claims:  # the same claims in both files: an 837P line bills units, not minutes
        for line in claim["lines"]:
            line.pop("minutes", None)
    with open(paths["x12"], "w") as out:
        x12_corpus.write_837p(out, claims)
    with open(paths["jsonl"], "w") as out:
        out.writelines(json.dumps(c) + "\n" for c in claims)
    return paths


class Rate(NamedTuple):
    wall: float  # claims per second of elapsed time
    cpu: float  # claims per second of the process's CPU time: what a loaded machine disturbs least


def read(path: str, count: int, mode: str = "auto") -> tuple[Rate, int]:
    """Claims/s and peak memory (KiB) of reading `path` in a fresh process."""
    out = subprocess.run([sys.executable, "-c", READ, path, mode], capture_output=True, text=True, check=True).stdout
    read_count, seconds, cpu, peak = out.split()
    if int(read_count) != count:
        raise SystemExit(f"{path}: {read_count} records for {count} claims")
    return Rate(count / float(seconds), count / float(cpu)), int(peak)


def check(path: str, count: int) -> Rate:
    """Claims/s of `payerpolicy check --format json` on `path` in a fresh process."""
    run = subprocess.run([sys.executable, "-c", CHECK, path], capture_output=True, text=True)
    if run.returncode != 0 or not run.stdout.strip():
        raise SystemExit(f"check {path} failed: {run.stderr[-2000:]}")
    code, seconds, cpu = run.stdout.split()
    if int(code) not in (0, 1, 3):  # 1: a claim denied, 3: a claim unreadable (neither is a failed run)
        raise SystemExit(f"check {path} exited {code}")
    return Rate(count / float(seconds), count / float(cpu))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=5_000)
    parser.add_argument("--large", type=int, default=40_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--careful", action="store_true", help="also read the 837P by the careful road alone")
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="payerpolicy-bench-")
    try:
        files = {size: write(folder, size) for size in (args.small, args.large)}
        large = files[args.large]
        peaks: dict[tuple[int, str], list[int]] = {}
        ratios: dict[tuple[str, str], list[float]] = {}
        for round_number in range(args.rounds):
            for size in (args.small, args.large):  # memory: each file once a round
                for kind in ("x12", "jsonl"):
                    peaks.setdefault((size, kind), []).append(read(files[size][kind], size)[1])
            kinds = ["x12", "jsonl"] if round_number % 2 == 0 else ["jsonl", "x12"]
            rates = {("read", kind): read(large[kind], args.large)[0] for kind in kinds}
            if args.careful:
                rates[("read", "careful")] = read(large["x12"], args.large, "careful")[0]
            rates.update({("check", kind): check(large[kind], args.large) for kind in kinds})
            for what, side in [("read", "x12"), ("read", "careful"), ("check", "x12")]:
                if (what, side) in rates:
                    mine, theirs = rates[(what, side)], rates[(what, "jsonl")]
                    ratios.setdefault((f"{what}, {side}", "cpu"), []).append(mine.cpu / theirs.cpu)
                    ratios.setdefault((f"{what}, {side}", "wall"), []).append(mine.wall / theirs.wall)
            shown = ", ".join(f"{what} {side} {rate.cpu:,.0f}/s" for (what, side), rate in rates.items())
            print(f"  round {round_number + 1} (claims per CPU second): {shown}", flush=True)
        for (size, kind), runs in sorted(peaks.items()):
            print(f"  {kind:>5} {size:>7,} claims: peak RSS {statistics.median(runs) / 1024:6.1f} MB (median)")
        small_peak = statistics.median(peaks[(args.small, "x12")])
        large_peak = statistics.median(peaks[(args.large, "x12")])
        print(f"  837P peak RSS, {args.large:,} / {args.small:,} claims: {large_peak / small_peak:.2f}")
        for (what, clock), values in ratios.items():
            shown = ", ".join(f"{value:.2f}" for value in values)
            print(
                f"  837P / JSONL claims/s, {what} ({args.large:,} claims, {clock} time): "
                f"median {statistics.median(values):.2f} ({shown})"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
