"""Benchmark: is `payerpolicy check` flat over a long run? Throughput per slice of the input and memory.

    python bench/scale.py [--claims N] [--slice N] [--history | --no-history] [--history-memory MB]
                          [--format jsonl|x12]
                          [--patients N] [--dates random|in-order] [--corpus FILE] [--keep-corpus]
                          [--base TREE --rounds N]

Writes N generated claims (bench/generate.py, the defaults: 20,000 patients over 300 days, so a patient's
year grows to about N / 20,000 claims) to a corpus file, then runs the command line on it as a user would,

    payerpolicy check --payer medicare --format json [--history TMP] CORPUS

in a child process, reading its decisions as they come (one a line) and noting the time and the child's
resident memory (VmRSS) at the end of every slice of --slice claims. It prints claims/s per slice, the
last slice's throughput as a share of the first's (the run is flat when that stays near 1), the whole run's
claims/s, the resident memory at each slice end and the peak (VmHWM). Start-up (imports, compiling the
policy) is before the first decision and in no slice. Beside the wall clock, each slice gives claims per
second of the child's own CPU time (/proc/PID/stat): on a machine other work loads, that share is what
still says whether the run is flat. `--patients` (default 20,000) spreads the claims over fewer patients
to fill their years sooner: 40,000 claims over 2,000 patients give each the 20 claims a patient has
after 400,000 claims at the default. `--dates in-order` gives dates of service that rise through the file
(one claim in twenty billed late), as claims reach a clearinghouse; the default gives any claim any date.

The figures are end to end: reading the file, judging, the claim history, writing the decisions. The corpus
and the history file are in a private temporary folder, removed at the end (--keep-corpus keeps the corpus
at --corpus for the next run). `--base TREE` (a git worktree of another commit) runs that tree's payerpolicy
and this one's on the same corpus, taking turns, `--rounds` times, and prints the medians side by side:
each's last steady slice / first per CPU second, and this tree's whole-run claims per CPU second over the
base's. --format x12 writes the same claims as one 837P interchange instead.
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
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402


WINDOW = 10_000  # the command's default --window


# How the corpus's dates of service follow its claims (`--dates`): "random", any date of the 300 days for
# any claim (each patient's claims come in no order of their dates: the hardest case for counts carried from
# a patient's last claim); "in-order", dates that rise through the file as claims arrive at a clearinghouse
# over the year, one claim in twenty billed late (up to 30 days before its place).
DATES = ("random", "in-order")
LATE = 0.05


def write_corpus(
    path: str, count: int, kind: str, seed: int = 2026, patients: int = 20_000, dates: str = "random"
) -> None:
    rng = random.Random(seed)

    def day(number: int) -> int | None:
        if dates == "random":
            return None
        arrival = number * 300 // count
        return max(0, arrival - rng.randrange(1, 31)) if rng.random() < LATE else arrival

    claims = (generate.claim(rng, i, patients=patients, day=day(i)) for i in range(count))
    with open(path, "w") as out:
        if kind == "jsonl":
            for claim in claims:
                out.write(json.dumps(claim) + "\n")
        else:
            import x12_corpus

            x12_corpus.write_837p(out, claims)


def memory_of(pid: int) -> dict[str, int]:
    """The child's VmRSS and VmHWM in kB (Linux /proc)."""
    found = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for row in status:
                if row.startswith(("VmRSS:", "VmHWM:")):
                    name, value = row.split(":")
                    found[name] = int(value.split()[0])
    except OSError:
        pass
    return found


def cpu_seconds(pid: int) -> float:
    """The child's user + system CPU seconds so far (Linux /proc; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def run(
    corpus: str, history: str | None, count: int, slice_size: int, extra: list[str], tree: str | None = None
) -> dict:
    """One run of the command; `tree`: a source tree (its `src`) whose payerpolicy runs instead of this one."""
    env = None
    if tree is not None:
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join([os.path.join(tree, "src"), os.environ.get("PYTHONPATH", "")])
        )
    command = [
        sys.executable,
        "-m",
        "payerpolicy.cli.main",
        "check",
        "--payer",
        "medicare",
        "--format",
        "json",
        *(["--history", history] if history else []),
        *extra,
        corpus,
    ]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1 << 20, env=env)
    marks, rss, peak, cpu = [], [], 0, []
    decided = 0
    start = None
    for row in child.stdout:
        if not row.startswith("  {"):
            continue  # the document's opening and closing rows
        decided += 1
        if start is None:
            start = time.perf_counter()
            marks.append((1, start))
            cpu.append(cpu_seconds(child.pid))
        if decided % slice_size == 0 or decided == count:
            marks.append((decided, time.perf_counter()))
            cpu.append(cpu_seconds(child.pid))
            memory = memory_of(child.pid)
            rss.append(memory.get("VmRSS", 0))
            peak = max(peak, memory.get("VmHWM", 0))
            print_slice(marks[-2:], cpu[-2:], rss[-1])  # as it ends: a long run shows how it goes
    child.wait()
    if child.returncode not in (0, 1):
        raise SystemExit(f"payerpolicy check exited {child.returncode}")
    if decided != count:
        raise SystemExit(f"{decided} decisions for {count} claims")
    return {"marks": marks, "rss": rss, "peak": peak, "cpu": cpu}


def print_slice(marks: list, cpu: list, rss: int) -> None:
    (n0, t0), (n1, t1) = marks
    rate, cpu_rate = (n1 - n0) / (t1 - t0), (n1 - n0) / max(cpu[1] - cpu[0], 1e-9)
    print(
        f"  claims {n0 - (n0 == 1):>9,} - {n1:>9,}: {rate:>9,.0f} claims/s, "
        f"{cpu_rate:>9,.0f} per CPU second   RSS {rss / 1024:7.1f} MB",
        flush=True,
    )


def report(figures: dict, slice_size: int) -> dict:
    """The whole run's figures (each slice was printed as it ended); the shares, for a paired run."""
    marks = figures["marks"]
    rates, cpu_rates = [], []
    cpu = figures["cpu"]
    for (n0, t0), (n1, t1), c0, c1 in zip(marks, marks[1:], cpu, cpu[1:]):
        rates.append((n1 - n0) / (t1 - t0))
        cpu_rates.append((n1 - n0) / max(c1 - c0, 1e-9))
    whole = (marks[-1][0] - 1) / (marks[-1][1] - marks[0][1])
    # The last `window` claims are decided after the input ends, with nothing left to read: a slice that
    # holds them is not the steady state, so the share compares the last slice ending before them.
    steady = [rate for (n1, _), rate in zip(marks[1:], rates) if n1 <= marks[-1][0] - WINDOW] or rates
    steady_cpu = [rate for (n1, _), rate in zip(marks[1:], cpu_rates) if n1 <= marks[-1][0] - WINDOW] or cpu_rates
    print(
        f"  whole run: {whole:,.0f} claims/s; last steady slice / first slice = {steady[-1] / rates[0]:.2f}; "
        f"RSS last / first slice end = {figures['rss'][-1] / figures['rss'][0]:.2f}; "
        f"peak RSS {figures['peak'] / 1024:.1f} MB"
    )
    print(f"  per CPU second: last steady slice / first slice = {steady_cpu[-1] / cpu_rates[0]:.2f}")
    return {
        "steady_cpu_share": steady_cpu[-1] / cpu_rates[0],
        "cpu_rate": (marks[-1][0] - 1) / max(cpu[-1] - cpu[0], 1e-9),
        "peak": figures["peak"],
    }


def paired(corpus: str, folder: str, args, slice_size: int) -> None:
    """This tree and `--base`, taking turns (each goes first in turn), on the same corpus, `--rounds` times;
    the median of each's last steady slice / first (per CPU second) and of this / base's CPU throughput."""
    shares: dict[str, list] = {"this": [], "base": []}
    speed = []
    for number in range(args.rounds):
        order = [("this", None), ("base", args.base)]
        if number % 2:
            order.reverse()
        found = {}
        for name, tree in order:
            history = os.path.join(folder, f"history-{name}-{number}.sqlite") if args.history else None
            print(f"round {number + 1}, {name} ({tree or 'this tree'}):", flush=True)
            found[name] = report(run(corpus, history, args.claims, slice_size, [], tree), slice_size)
            shares[name].append(found[name]["steady_cpu_share"])
        speed.append(found["this"]["cpu_rate"] / found["base"]["cpu_rate"])
    print(
        f"paired, {args.rounds} rounds: last steady slice / first per CPU second: this "
        f"{statistics.median(shares['this']):.2f} ({', '.join(f'{x:.2f}' for x in shares['this'])}), base "
        f"{statistics.median(shares['base']):.2f} ({', '.join(f'{x:.2f}' for x in shares['base'])}); "
        f"whole run claims per CPU second, this / base: {statistics.median(speed):.2f} "
        f"({', '.join(f'{x:.2f}' for x in speed)})"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--slice", type=int, default=None, help="claims per slice (default: a tenth of the run)")
    parser.add_argument(
        "--history",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="judge with --history FILE (a new file in the temporary folder); default on",
    )
    parser.add_argument("--format", choices=["jsonl", "x12"], default="jsonl")
    parser.add_argument("--history-memory", metavar="MB", help="passed to the command (`check --history-memory`)")
    parser.add_argument("--corpus", help="the corpus file to use, written first if it is not there")
    parser.add_argument("--keep-corpus", action="store_true")
    parser.add_argument("--patients", type=int, default=20_000, help="patients the claims are spread over")
    parser.add_argument("--dates", choices=DATES, default="random", help="how dates of service follow the claims")
    parser.add_argument("--base", help="a source tree (git worktree) to run paired with this one, taking turns")
    parser.add_argument("--rounds", type=int, default=1, help="paired rounds with --base")
    args = parser.parse_args(argv)
    slice_size = args.slice or max(args.claims // 10, 1)
    folder = tempfile.mkdtemp(prefix="payerpolicy-bench-")
    try:
        corpus = args.corpus or os.path.join(folder, f"claims.{args.format}")
        if not os.path.exists(corpus):
            write_corpus(corpus, args.claims, args.format, patients=args.patients, dates=args.dates)
        history = os.path.join(folder, "history.sqlite") if args.history else None
        print(
            f"payerpolicy check, {args.claims:,} {args.format} claims, "
            f"{'with' if history else 'without'} --history, slices of {slice_size:,}",
            flush=True,
        )
        if args.base:
            paired(corpus, folder, args, slice_size)
        else:
            memory = ["--history-memory", args.history_memory] if args.history_memory and history else []
            report(run(corpus, history, args.claims, slice_size, memory), slice_size)
        if args.corpus and not args.keep_corpus and corpus.startswith(folder):
            os.unlink(corpus)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
