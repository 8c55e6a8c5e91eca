"""What an impact diff costs against one `check` of the same claims (issue: at most 2.2 times), and its memory.

    python bench/impact_diff.py [--claims N] [--rounds N] [--memory N,N,...]

Generates N seeded claims (`bench/generate.py`, default 100,000) into a JSON Lines file, and an edited copy of
the shipped Medicare policy (the 97112 guideline lowered from 4 to 3 units, a code pair row 97110/97140 added),
so that the diff has changes to report. Then, round after round in one process, in turns (the order swapped
every round, the garbage collector on and collected before each):

- check: `Session(shipped medicare).check_many(read_claims(file))`, every decision consumed;
- diff:  `payerpolicy.diff(shipped, edited, read_claims(file))`, every change consumed and its summary made.

Both read and parse the same claim file, with the same history settings (none given: each policy counts the
run's own claims), and neither writes output (the command's JSON encoding of every decision would make
`check` dearer and flatter the ratio). Policies are loaded before the rounds (in both). It prints each round's
diff/check ratio (by wall time and by this process's CPU time) and their medians.

`--memory 5000,50000` then measures peak memory (the process's peak resident set, VmHWM) of check and of
diff over that many claims, each in a fresh process that loads both policies and then runs one of them, with
the number of lines the diff found changed: diff's growth beyond check's should follow the changed lines.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

import payerpolicy  # noqa: E402
from payerpolicy.impact import side  # noqa: E402


def edited_medicare(folder: Path) -> Path:
    shipped = Path(payerpolicy.load("medicare").program.policy.folder)
    target = folder / "medicare-edited"
    shutil.copytree(shipped, target, ignore=shutil.ignore_patterns("tests"))
    caps = target / "caps.yaml"
    caps.write_text(caps.read_text(encoding="utf-8").replace("max_units: 4", "max_units: 3", 1), encoding="utf-8")
    with open(target / "code-pairs.yaml", "a", encoding="utf-8") as out:
        out.write(
            "\n  - id: bench.pair.97110-97140\n    column1: 97110\n    column2: 97140\n"
            '    modifier_indicator: 0\n    source: "benchmark row"\n'
        )
    return target


def run_check(policy, path: Path) -> int:
    with payerpolicy.Session(policy) as session:
        return sum(1 for _ in session.check_many(payerpolicy.read_claims(path)))


def run_diff(old, new, path: Path) -> int:
    impact = payerpolicy.diff(old, new, payerpolicy.read_claims(path))
    changed = sum(len(change.lines) for change in impact)
    assert changed == impact.summary["lines_changed"]  # the summary is made, as the command makes it
    return changed


def high_water_kib() -> int:
    """The process's peak resident set so far, in KiB: VmHWM, which starts afresh with the program (ru_maxrss
    on Linux carries the high-water mark of the process that forked it over exec)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status: --memory needs Linux")


def peak_rss(work: str, path: Path, edited: Path) -> None:
    """In a fresh process (`--peak`): load both policies, run `work` on the claims, print the peak RSS in KiB."""
    old, new = side("medicare"), side(edited)
    gc.collect()
    loaded = high_water_kib()
    changed = run_check(old.policy, path) if work == "check" else run_diff(old, new, path)
    peak = high_water_kib()
    print(json.dumps({"loaded_kib": loaded, "peak_kib": peak, "changed_lines": changed if work == "diff" else None}))


def memory(counts: list[int], folder: Path, edited: Path) -> None:
    import subprocess

    for count in counts:
        path = folder / f"claims-{count}.jsonl"
        write_claims(path, count)
        found = {}
        for work in ("check", "diff"):
            done = subprocess.run(
                [sys.executable, __file__, "--peak", work, str(path), str(edited)],
                capture_output=True,
                text=True,
                check=True,
            )
            found[work] = json.loads(done.stdout.splitlines()[-1])
        check, diff = found["check"], found["diff"]
        print(
            f"{count:,} claims: peak RSS check {check['peak_kib'] / 1024:,.1f} MiB, diff "
            f"{diff['peak_kib'] / 1024:,.1f} MiB (policies loaded: {check['loaded_kib'] / 1024:,.1f} / "
            f"{diff['loaded_kib'] / 1024:,.1f} MiB); diff - check {(diff['peak_kib'] - check['peak_kib']) / 1024:,.1f} "
            f"MiB; {diff['changed_lines']:,} lines decided differently"
        )


def write_claims(path: Path, count: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for claim in generate.claims(count, seed=7):
            out.write(json.dumps(claim, default=str) + "\n")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--peak":
        peak_rss(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--memory",
        metavar="N,N,...",
        help="also the peak memory of each over these claim counts, each in a fresh process",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="payerpolicy-bench-"))
    try:
        edited = edited_medicare(folder)
        if args.rounds:
            path = folder / "claims.jsonl"
            write_claims(path, args.claims)
            old, new = side("medicare"), side(edited)
            print(f"{args.claims:,} claims; {run_diff(old, new, path):,} lines decided differently")
            rounds(args, old, new, path)
        if args.memory:
            memory([int(n) for n in args.memory.split(",")], folder, edited)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def rounds(args, old, new, path: Path) -> None:
    """Check and diff in turns; the ratio of each round by wall time and by CPU time of this process (on a
    machine shared with other work, wall time swings with their load; CPU time much less)."""
    ratios: dict[str, list[float]] = {"wall": [], "cpu": []}
    for round_number in range(args.rounds):
        times: dict[str, dict[str, float]] = {"wall": {}, "cpu": {}}
        order = ("check", "diff") if round_number % 2 == 0 else ("diff", "check")
        for name in order:
            gc.collect()
            start, cpu = time.perf_counter(), time.process_time()
            if name == "check":
                run_check(old.policy, path)
            else:
                run_diff(old, new, path)
            times["wall"][name] = time.perf_counter() - start
            times["cpu"][name] = time.process_time() - cpu
        for clock in ratios:
            ratios[clock].append(times[clock]["diff"] / times[clock]["check"])
        print(
            f"round {round_number + 1}: check {args.claims / times['wall']['check']:,.0f} claims/s, "
            f"diff {args.claims / times['wall']['diff']:,.0f} claims/s, diff/check {ratios['wall'][-1]:.2f} "
            f"(CPU time {times['cpu']['check']:.1f} s and {times['cpu']['diff']:.1f} s: {ratios['cpu'][-1]:.2f})",
            flush=True,
        )
    for clock, found in ratios.items():
        print(
            f"diff / check by {clock} time, round by round: median {statistics.median(found):.2f} "
            f"(from {min(found):.2f} to {max(found):.2f}); the issue's bound is 2.2"
        )


if __name__ == "__main__":
    main()
