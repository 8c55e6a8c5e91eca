"""Benchmark: the 837P reader streams. Peak memory for a small and a large file, and claims/s against JSONL.

    python bench/x12_stream.py [--small N] [--large N] [--rounds N]

Writes the same generated claims (bench/generate.py) as an 837P interchange (bench/x12_corpus.py) and as JSON
Lines, --small (5,000) and --large (40,000) of them, in a private temporary folder removed at the end. Each
file is read into the claim model (`payerpolicy.read_claims`, the format told from the content) in a fresh
process, which reports its seconds and its peak resident memory (VmHWM); the formats take turns, --rounds
times (3). Printed: the median peak memory of each file, the large 837P's peak as a share of the small one's
(streamed, it stays near 1), and the medians of claims/s of 837P and JSONL on the large files with their ratio.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402
import x12_corpus  # noqa: E402

READ = """
import sys, time
import payerpolicy
start = time.perf_counter()
count = sum(1 for _ in payerpolicy.read_claims(sys.argv[1]))
seconds = time.perf_counter() - start
peak = [int(row.split()[1]) for row in open("/proc/self/status") if row.startswith("VmHWM:")][0]
print(count, seconds, peak)
"""


def write(folder: str, count: int) -> dict[str, str]:
    paths = {"x12": os.path.join(folder, f"claims-{count}.837"), "jsonl": os.path.join(folder, f"claims-{count}.jsonl")}
    claims = [generate.claim(random.Random(2026 + i), i) for i in range(count)]
    with open(paths["x12"], "w") as out:
        x12_corpus.write_837p(out, claims)
    with open(paths["jsonl"], "w") as out:
        out.writelines(json.dumps(c) + "\n" for c in claims)
    return paths


def read(path: str, count: int) -> tuple[float, int]:
    out = subprocess.run([sys.executable, "-c", READ, path], capture_output=True, text=True, check=True).stdout
    read_count, seconds, peak = out.split()
    if int(read_count) != count:
        raise SystemExit(f"{path}: {read_count} records for {count} claims")
    return count / float(seconds), int(peak)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=5_000)
    parser.add_argument("--large", type=int, default=40_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="payerpolicy-bench-")
    try:
        files = {size: write(folder, size) for size in (args.small, args.large)}
        figures: dict = {}
        for _ in range(args.rounds):
            for size in (args.small, args.large):
                for kind in ("x12", "jsonl"):
                    figures.setdefault((size, kind), []).append(read(files[size][kind], size))
        median = {
            key: (statistics.median(r for r, _ in runs), statistics.median(p for _, p in runs))
            for key, runs in figures.items()
        }
        for (size, kind), (rate, peak) in sorted(median.items()):
            print(f"  {kind:>5} {size:>7,} claims: {rate:>8,.0f} claims/s read, peak RSS {peak / 1024:6.1f} MB")
        print(
            f"  837P peak RSS, {args.large:,} / {args.small:,} claims: "
            f"{median[(args.large, 'x12')][1] / median[(args.small, 'x12')][1]:.2f}"
        )
        print(
            f"  837P / JSONL claims/s read ({args.large:,} claims): "
            f"{median[(args.large, 'x12')][0] / median[(args.large, 'jsonl')][0]:.2f}"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
