"""Where a long run with a claim history spends its time: its first slice of claims against its last.

    python bench/tail_profile.py [--claims N] [--patients N] [--slice N] [--history-memory MB] [--top N]

`bench/scale.py` says whether a long run slows down; this says why. It writes N generated claims
(bench/generate.py; `--patients` spreads them, so 300,000 claims over 6,000 patients fill each patient's
year as 1,000,000 over 20,000 do), opens a history file in a private temporary folder, and judges the
claims as `payerpolicy check --payer medicare --history FILE` does (`Session.render_many`, decision JSON
out), in this process. The profiler (cProfile) runs only while an early `--slice` of decisions and the last
before the final window are made (`profiled_slices` says which), so the run between them goes at full speed.

For each of the two slices it prints the CPU seconds per claim and the share of them spent in each stage of
the run, worked out from the profile's inclusive times of the functions that begin the stage:

    reading     the claim's JSON text into the claim model (claims.json_files, claims.json_quick)
    read back   a patient not held in memory, read from the history file (ClaimHistory._patient), and
                the lines of its claims made when asked (PatientLines._make_now)
    recording   a judged claim's lines, stored and written (RecordingHistory.record, ClaimHistory.flush)
    writing     the decision as JSON (render.stream)

then the functions whose own time grew most from the first slice to the last. cProfile slows small
functions more than large ones, so compare the shares of the two slices, not these seconds with scale.py's.
Figures go in a note with this command.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale  # noqa: E402  (its corpus: the same claims scale.py times)

import payerpolicy  # noqa: E402

# Stage -> (file ending, function name) whose inclusive time is the stage's. Nested stages (a read back
# inside judging) are counted in their own stage and also in what calls them: the shares do not add to 1.
STAGES = {
    "reading": [("claims/json_files.py", "read_claim_text"), ("claims/json_files.py", "_json_lines")],
    "read back": [("judge/history.py", "_patient"), ("judge/history_cache.py", "_make_now")],
    "recording": [("judge/history.py", "record"), ("judge/history.py", "flush")],
    "writing": [("render/stream.py", "__call__")],
}


def profiled_slices(path: str, history: str, count: int, slice_size: int, memory: int) -> list[tuple]:
    """Judge the corpus as `check --format json --history` does; (CPU seconds, pstats.Stats) of the work
    done while `slice_size` decisions came out after the first window, and while the last `slice_size` did
    before the final window. The run judges a window's claims (10,000) as its first decision is asked for,
    reading the next window's, so a slice is whole windows; the first window is left out (the run reads two
    windows for it) and so is the final one (judged after the input ends). The
    profiler is switched on and off here, at the top of the run's stack: switched on inside it, the frames
    already running are not profiled."""
    from payerpolicy.cli.collector import KeptOutOfCollections  # as the command line runs
    from payerpolicy.render.stream import Renderer

    window = payerpolicy.Session.__init__.__kwdefaults__["window"]
    if slice_size % window:
        raise SystemExit(f"--slice must be whole windows of {window:,} claims")
    starts = (window, count - window - slice_size)
    slices: list[tuple] = []
    session = payerpolicy.Session("medicare", history=history, history_memory=memory)
    profile = cpu = None
    try:
        with KeptOutOfCollections() as kept:
            rendered = session.render_many(payerpolicy.read_claims(path, "json"), Renderer("json"))
            for number in range(count):
                if number in starts:
                    profile, cpu = cProfile.Profile(), time.process_time()
                    profile.enable()
                next(rendered)
                kept.tick()
                if profile is not None and number + 1 - slice_size in starts:
                    profile.disable()
                    slices.append((time.process_time() - cpu, pstats.Stats(profile, stream=io.StringIO())))
                    profile = None
            for _ in rendered:
                raise AssertionError("more decisions than claims")
    finally:
        session.close()
    return slices


def own_and_inclusive(stats: pstats.Stats) -> tuple[dict, dict]:
    """Per function (file, line, name): its own seconds, and its inclusive seconds."""
    own, inclusive = {}, {}
    for key, (_, _, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        own[key], inclusive[key] = tottime, cumtime
    return own, inclusive


def stage_seconds(inclusive: dict) -> dict[str, float]:
    found = {}
    for stage, starts in STAGES.items():
        found[stage] = sum(
            seconds
            for (file, _, name), seconds in inclusive.items()
            if any(file.endswith(ending) and name == wanted for ending, wanted in starts)
        )
    return found


def name_of(key: tuple) -> str:
    file, line, name = key
    if "payerpolicy/" in file:
        file = file.split("payerpolicy/", 1)[1]
    return f"{file}:{line} {name}"


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--claims", type=int, default=300_000)
    options.add_argument("--patients", type=int, default=6_000)
    options.add_argument("--slice", type=int, default=20_000, help="claims, whole windows of 10,000")
    options.add_argument("--history-memory", type=int, default=100, help="megabytes, as check's option (100)")
    options.add_argument("--top", type=int, default=15)
    options.add_argument("--dates", choices=scale.DATES, default="random", help="as scale.py's")
    args = options.parse_args()
    if args.slice * 2 + 20_000 > args.claims:  # the first and final windows are left out (profiled_slices)
        options.error("--claims must hold two slices and two windows (10,000 claims each)")
    with tempfile.TemporaryDirectory(prefix="payerpolicy-bench-") as folder:
        os.chmod(folder, 0o700)
        path = os.path.join(folder, "claims.jsonl")
        scale.write_corpus(path, args.claims, "jsonl", patients=args.patients, dates=args.dates)
        first, last = profiled_slices(
            path, os.path.join(folder, "history.sqlite"), args.claims, args.slice, args.history_memory
        )
    print(
        f"{args.claims:,} claims over {args.patients:,} patients, history on, --history-memory {args.history_memory}; "
        f"profiled: {args.slice:,} decisions after the first 10,000, and the last {args.slice:,} before the final 10,000"
    )
    (first_cpu, first_stats), (last_cpu, last_stats) = first, last
    first_own, first_incl = own_and_inclusive(first_stats)
    last_own, last_incl = own_and_inclusive(last_stats)
    first_total, last_total = sum(first_own.values()), sum(last_own.values())
    print(
        f"CPU per claim (profiled): first slice {first_cpu / args.slice * 1e6:,.0f} µs, last {last_cpu / args.slice * 1e6:,.0f} µs, last/first {last_cpu / first_cpu:.2f}"
    )
    print(f"{'stage':12} {'first':>7} {'last':>7}   share of each slice's profiled time")
    first_stages, last_stages = stage_seconds(first_incl), stage_seconds(last_incl)
    for stage in STAGES:
        print(f"{stage:12} {first_stages[stage] / first_total:7.1%} {last_stages[stage] / last_total:7.1%}")
    print("\nown time per claim that grew most, first -> last slice (µs a claim, profiled):")
    grown = sorted(
        ((last_own.get(key, 0) - first_own.get(key, 0), key) for key in set(first_own) | set(last_own)), reverse=True
    )
    for _, key in grown[: args.top]:
        print(
            f"  {first_own.get(key, 0) / args.slice * 1e6:8.1f} -> {last_own.get(key, 0) / args.slice * 1e6:8.1f}  {name_of(key)}"
        )


if __name__ == "__main__":
    main()
