"""`payerpolicy check --jobs 2` against `--jobs 1`, as whole processes, on generated JSON Lines claims.

    python bench/jobs.py --sizes 2000,20000,200000 --rounds 3 [--history] [--format json]

Each round runs one job and two jobs in turns (which goes first alternates), each a fresh `payerpolicy check`
process writing its decisions to a file, and compares the two outputs byte for byte before any figure is
printed (a run whose outputs differ stops the bench). Start-up, reading, judging and writing are all in:
that is what a user waits for. For each size it prints, per round and as medians:

- the speed-up: one job's wall time over two jobs' wall time, in the same round;
- CPU microseconds per claim (user + system of the command and its worker processes) for each side, and
  their ratio: what the parallel run costs beyond the serial one, which load on the machine hardly moves.

With --history each run starts from a fresh claim history file (`--history FILE`).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402


def write_claims(path: Path, count: int) -> None:
    with open(path, "w") as out:
        for claim in generate.claims(count):
            out.write(json.dumps(claim) + "\n")


def run_check(claims: Path, jobs: int, out: Path, fmt: str, history: Path | None) -> tuple[float, float]:
    """Wall seconds and CPU seconds (the process and its workers) of one `payerpolicy check`."""
    command = [sys.executable, "-m", "payerpolicy", "check", str(claims), "--format", fmt, "--quiet"]
    command += ["--jobs", str(jobs), "--fail-on", "never"]
    if history is not None:
        history.unlink(missing_ok=True)
        command += ["--history", str(history)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(out, "wb") as sink:
        finished = subprocess.run(command, stdout=sink, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if finished.returncode != 0:
        raise SystemExit(f"check --jobs {jobs} failed ({finished.returncode}): {finished.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def bench_size(folder: Path, count: int, rounds: int, jobs: int, fmt: str, history: bool) -> dict:
    claims = folder / f"claims-{count}.jsonl"
    if not claims.exists():
        write_claims(claims, count)
    outputs = {1: folder / "out-1", jobs: folder / f"out-{jobs}"}
    histories = {1: folder / "history-1.sqlite", jobs: folder / f"history-{jobs}.sqlite"} if history else {}
    speedups, cpu_ratios, cpu_one, cpu_many = [], [], [], []
    for number in range(rounds):
        order = [1, jobs] if number % 2 == 0 else [jobs, 1]
        figures = {n: run_check(claims, n, outputs[n], fmt, histories.get(n)) for n in order}
        if not filecmp.cmp(outputs[1], outputs[jobs], shallow=False):
            raise SystemExit(f"{count} claims: --jobs {jobs} wrote other output than --jobs 1")
        (wall_1, cpu_1), (wall_n, cpu_n) = figures[1], figures[jobs]
        speedups.append(wall_1 / wall_n)
        cpu_ratios.append(cpu_n / cpu_1)
        cpu_one.append(cpu_1 / count * 1e6)
        cpu_many.append(cpu_n / count * 1e6)
        print(
            f"  {count:>9,} claims, round {number + 1}: 1 job {wall_1:7.2f} s ({cpu_1 / count * 1e6:5.0f} µs CPU a "
            f"claim), {jobs} jobs {wall_n:7.2f} s ({cpu_n / count * 1e6:5.0f} µs CPU a claim): "
            f"speed-up {wall_1 / wall_n:.2f}, CPU {cpu_n / cpu_1:.2f}",
            flush=True,
        )
    result = {
        "claims": count,
        "speedup": statistics.median(speedups),
        "cpu_ratio": statistics.median(cpu_ratios),
        "cpu_us_one": statistics.median(cpu_one),
        "cpu_us_many": statistics.median(cpu_many),
    }
    print(
        f"{count:>9,} claims: median speed-up {result['speedup']:.2f}, CPU per claim {result['cpu_us_one']:.0f} µs "
        f"(1 job) vs {result['cpu_us_many']:.0f} µs ({jobs} jobs), ratio {result['cpu_ratio']:.2f}; outputs identical",
        flush=True,
    )
    return result


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--sizes", default="2000,20000,200000", help="claim counts, comma-separated")
    options.add_argument("--rounds", type=int, default=3)
    options.add_argument("--jobs", type=int, default=2)
    options.add_argument("--format", default="json", choices=("json", "text", "csv", "835"))
    options.add_argument("--history", action="store_true", help="each run keeps a fresh claim history")
    options.add_argument("--keep", metavar="DIR", help="generate claims into DIR and keep them for later runs")
    args = options.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    print(
        f"check --jobs {args.jobs} vs --jobs 1, --format {args.format}, history {'on' if args.history else 'off'}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.keep) if args.keep else Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for count in sizes:
            bench_size(folder, count, args.rounds, args.jobs, args.format, args.history)


if __name__ == "__main__":
    main()
