"""Benchmark: compile time and judging speed of the shipped Medicare policy, against a hand-written floor.

    python bench/run.py [--claims N] [--rounds N] [--large-claims N] [--skip-large] [--workers N]

Prints the cold compile time, claims/s and lines/s for `check_many` over N generated claims and for `check`
one claim per call, the p50/p99 latency of one `check`, and peak memory. Claims are read into the claim model
before timing, so the figures are the engine's, not the JSON reader's (reading is timed on its own line).

The same figures are then taken for the floor (`bench/floor.py`): the same rules written by hand as plain
Python, building the same decisions. A table sets the two side by side with payerpolicy's throughput as a
share of the floor's. Each figure is the median of --rounds runs (3), the engine and the floor taking turns
with the garbage collector on, and each share the median of the rounds' paired ratios, so that other load on
the machine slows both alike. This floor judges claims already read and builds payerpolicy's own decisions:
a same-output reference for judging alone. The lean floor (plain results, reading included) is in
bench/peers (`python bench/peers/run.py`), where payerpolicy runs against the peer engines. `check` from
the claim JSON dicts, reading included, is timed too. Last, every claim's
decision is compared between the two (through `check_many` and `check`); the run exits with status 1, naming
the first claim that differs, if any does, since figures for two programs that decide differently compare
nothing.

Then the payer-scale policy (bench/large_policy.py: 10,000 more rules and a million code pairs) is written to
a temporary folder and loaded cold and from the compiled-policy cache (each in a fresh process, with its
peak memory), and judges the first --large-claims claims, which it must decide as the shipped policy does:
medians of three rounds taking turns with the shipped policy, and the median of the rounds' paired ratios.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import floor  # noqa: E402
import generate  # noqa: E402
import large_policy  # noqa: E402

import payerpolicy  # noqa: E402
from payerpolicy.claims.json_claims import claim_from_dict  # noqa: E402
from payerpolicy.pipeline import load_program  # noqa: E402
from payerpolicy.rules.parse import parser  # noqa: E402


def measure(check, check_many, claims: list) -> dict:
    """Time `check_many` over all claims and `check` claim by claim, once."""
    gc.collect()  # each program starts from the same heap: the claims, nothing left by the other
    start = time.perf_counter()
    decisions = list(check_many(claims))
    many_seconds = time.perf_counter() - start
    denied = sum(d.status == "denied" for d in decisions)
    del decisions
    gc.collect()
    latencies = []
    start = time.perf_counter()
    for claim in claims:
        t = time.perf_counter()
        check(claim)
        latencies.append(time.perf_counter() - t)
    one_seconds = time.perf_counter() - start
    latencies.sort()
    return {
        "many_seconds": many_seconds,
        "denied": denied,
        "one_seconds": one_seconds,
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
    }


def peak_memory(check_many, claims: list) -> int:
    """Peak traced memory of one `check_many` pass (a pass of its own: tracing slows allocations)."""
    gc.collect()
    tracemalloc.start()
    for _ in check_many(claims):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gc.collect()
    return peak


def measure_both(programs: dict, claims: list, rounds: int) -> dict:
    """Each program's median figures over `rounds` rounds, the programs taking turns within a round and
    starting in turn from round to round, the garbage collector on (as in any application), and each ratio
    of the first program to the second taken within a round (paired), then its median: whatever else the
    machine runs meanwhile slows both alike. (This used to keep the best of the rounds, which hides the
    collector's pauses and the machine's noise alike, and flattered.)"""
    runs: dict = {name: [] for name in programs}
    names = list(programs)
    for round_number in range(rounds):
        for name in names[round_number % len(names) :] + names[: round_number % len(names)]:
            check, check_many = programs[name]
            runs[name].append(measure(check, check_many, claims))
    medians: dict = {}
    for name, figures in runs.items():
        medians[name] = {key: statistics.median(f[key] for f in figures) for key in figures[0]}
        medians[name]["peak"] = peak_memory(programs[name][1], claims)
    first, second = names[0], names[1]
    medians["paired"] = {
        key: statistics.median(b[key] / a[key] for a, b in zip(runs[first], runs[second]))
        for key in ("many_seconds", "one_seconds")
    }  # first's speed as a share of second's
    return medians


def read_and_check(policy, raw: list[dict], claims: list, rounds: int) -> dict:
    """`Policy.check` from the claim JSON dicts (what a user's claim goes through) against `check` on the
    same claims read beforehand, taking turns: the median seconds from the dicts, and the median of the
    rounds' paired shares (check from dicts as a share of check on read claims)."""
    from_dicts, shares = [], []
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        for claim in raw:
            policy.check(claim)
        seconds = time.perf_counter() - start
        gc.collect()
        start = time.perf_counter()
        for claim in claims:
            policy.check(claim)
        shares.append((time.perf_counter() - start) / seconds)
        from_dicts.append(seconds)
    return {"dict": statistics.median(from_dicts), "share": statistics.median(shares)}


def first_difference(policy, claims: list) -> tuple[str, object, object, object] | None:
    """The first claim the engine and the floor decide differently: (how judged, claim, engine's, floor's)."""
    for claim, engine, hand in zip(claims, policy.check_many(claims), floor.check_many(claims)):
        if engine != hand:
            return "check_many", claim, engine, hand
    for claim in claims:
        engine, hand = policy.check(claim), floor.check(claim)
        if engine != hand:
            return "check", claim, engine, hand
    return None


def what_differs(mine, theirs) -> str:
    """The first part of two decisions that differs, both sides shown."""
    for part in ("findings", "lines"):
        for a, b in itertools.zip_longest(getattr(mine, part), getattr(theirs, part)):
            if a != b:
                return f"  {part}: payerpolicy has {a}\n  {' ' * len(part)}  the floor has   {b}"
    return f"  payerpolicy: {mine}\n  the floor:   {theirs}"


def table(engine: dict, hand: dict, paired: dict, claims: int, lines: int) -> str:
    def rate(count, seconds):
        return count / seconds

    many, one = (engine["many_seconds"], hand["many_seconds"]), (engine["one_seconds"], hand["one_seconds"])
    rows = [  # (what, payerpolicy's figure, the floor's figure, format, the paired ratio or None)
        ("check_many  claims/s", rate(claims, many[0]), rate(claims, many[1]), "{:,.0f}", paired["many_seconds"]),
        ("            lines/s", rate(lines, many[0]), rate(lines, many[1]), "{:,.0f}", None),
        ("check       claims/s", rate(claims, one[0]), rate(claims, one[1]), "{:,.0f}", paired["one_seconds"]),
        ("            lines/s", rate(lines, one[0]), rate(lines, one[1]), "{:,.0f}", None),
        ("            latency p50 (us)", engine["p50"] * 1e6, hand["p50"] * 1e6, "{:,.0f}", None),
        ("            latency p99 (us)", engine["p99"] * 1e6, hand["p99"] * 1e6, "{:,.0f}", None),
        ("check_many  peak traced memory (MiB)", engine["peak"] / 2**20, hand["peak"] / 2**20, "{:,.1f}", None),
    ]
    out = [f"{'':38}{'payerpolicy':>13}{'floor':>13}{'payerpolicy / floor':>22}"]
    for what, mine, theirs, form, ratio in rows:
        out.append(
            f"{what:38}{form.format(mine):>13}{form.format(theirs):>13}"
            + (f"{ratio:>22.2f}" if ratio is not None else "")
        )
    out.append(
        "payerpolicy / floor: the engine's throughput as a share of the floor's, the median of the rounds' "
        "paired ratios (1.00: as fast; 0.50: half as fast). Judging only: both take claims already read "
        "into the claim model, and this floor builds payerpolicy's own Decision objects, so it is a "
        "same-output reference, not the floor of a scrubber; bench/peers/run.py holds the lean floor "
        "(plain results, reading included) against payerpolicy and the peer engines."
    )
    return "\n".join(out)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--claims", type=int, default=100_000)
    options.add_argument(
        "--large-claims", type=int, default=20_000, help="claims judged with the payer-scale policy (default 20,000)"
    )
    options.add_argument("--skip-large", action="store_true", help="leave out the payer-scale policy")
    options.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="time each program this many times, taking turns; medians are kept (default 3)",
    )
    options.add_argument(
        "--workers", type=int, default=2, help="also time check_many on this many worker processes (default 2; 1: skip)"
    )
    args = options.parse_args()

    start = time.perf_counter()
    parser()
    grammar_seconds = time.perf_counter() - start
    start = time.perf_counter()
    load_program(str(floor.POLICY_FOLDER), cache=False)
    compile_seconds = time.perf_counter() - start
    payerpolicy.load(floor.POLICY_FOLDER)  # into the compiled-policy cache, if it was not there
    start = time.perf_counter()
    policy = payerpolicy.load(floor.POLICY_FOLDER)
    cached_seconds = time.perf_counter() - start
    print(
        f"grammar built in {grammar_seconds * 1000:.0f} ms; medicare policy loaded and compiled in "
        f"{compile_seconds * 1000:.0f} ms ({policy.program.rule_count} rules), "
        f"{cached_seconds * 1000:.0f} ms from the compiled-policy cache"
    )

    raw = generate.claims(args.claims)
    start = time.perf_counter()
    claims = [claim_from_dict(c) for c in raw]
    read_seconds = time.perf_counter() - start
    lines = sum(len(c["lines"]) for c in raw)
    print(
        f"{len(claims):,} claims, {lines:,} lines; read into the claim model at "
        f"{len(claims) / read_seconds:,.0f} claims/s"
    )

    figures = measure_both(
        {"payerpolicy": (policy.check, policy.check_many), "floor": (floor.check, floor.check_many)},
        claims,
        args.rounds,
    )
    engine, hand = figures["payerpolicy"], figures["floor"]
    print(f"median of {args.rounds} rounds, payerpolicy and the floor taking turns, the garbage collector on:")
    print(
        f"check_many: {len(claims) / engine['many_seconds']:,.0f} claims/s, "
        f"{lines / engine['many_seconds']:,.0f} lines/s ({engine['denied']:,} denied); peak traced memory "
        f"while judging {engine['peak'] / 2**20:,.0f} MiB"
    )
    print(
        f"check (one claim a call): {len(claims) / engine['one_seconds']:,.0f} claims/s, "
        f"{lines / engine['one_seconds']:,.0f} lines/s; latency p50 {engine['p50'] * 1e6:,.0f} us, "
        f"p99 {engine['p99'] * 1e6:,.0f} us"
    )

    print()
    print(f"payerpolicy against the hand-written floor (bench/floor.py), {len(claims):,} claims, {lines:,} lines:")
    print(table(engine, hand, figures["paired"], len(claims), lines))
    reading = read_and_check(policy, raw, claims, args.rounds)
    print(
        f"check from the claim JSON dict (reading included): {len(raw) / reading['dict']:,.0f} claims/s, "
        f"{reading['share']:.2f} of check on claims already read (median of {args.rounds} paired rounds)"
    )
    if args.workers > 1:
        gc.collect()
        start = time.perf_counter()
        parallel = list(policy.check_many(claims, workers=args.workers))
        seconds = time.perf_counter() - start
        one = len(claims) / engine["many_seconds"]
        print(
            f"check_many(workers={args.workers}): {len(claims) / seconds:,.0f} claims/s, "
            f"{len(claims) / seconds / one:.2f} of one worker's, "
            f"{len(claims) / seconds / (len(claims) / hand['many_seconds']):.2f} of the floor's "
            f"({os.cpu_count()} cores here); decisions "
            f"{'the same as' if parallel == list(policy.check_many(claims)) else 'DIFFERENT FROM'} one worker's"
        )
    print()

    difference = first_difference(policy, claims)
    if difference is not None:
        how, claim, mine, theirs = difference
        print(
            f"DISAGREE: payerpolicy and the floor decide claim {claim.id} differently ({how}); the figures "
            f"above compare two different things.\n{what_differs(mine, theirs)}",
            file=sys.stderr,
        )
        sys.exit(1)
    if engine["denied"] != hand["denied"]:  # cannot happen when every decision agrees; a last guard
        print(
            f"DISAGREE: payerpolicy denied {engine['denied']:,} claims, the floor {hand['denied']:,}", file=sys.stderr
        )
        sys.exit(1)
    print(
        f"decisions agree: payerpolicy and the floor decide all {len(claims):,} claims alike "
        f"(check_many and check; {engine['denied']:,} denied)"
    )
    if args.skip_large:
        return
    print()
    sample = claims[: args.large_claims]
    with tempfile.TemporaryDirectory(prefix="payerpolicy-bench-") as workdir:
        # The large policy extends the shipped Medicare policy, so it is set against that one.
        scale = large_policy.measure_scale(payerpolicy.load("medicare"), sample, Path(workdir))
    print(scale_report(scale, len(sample)))
    if not scale["agree"]:
        print("DISAGREE: the large policy decides the claims differently from the shipped one", file=sys.stderr)
        sys.exit(1)


def scale_report(scale: dict, claims: int) -> str:
    cold, cached = scale["cold"], scale["cached"]
    many, check = scale["many_ratio"], scale["check_ratio"]  # paired medians, not a ratio of medians
    return "\n".join(
        [
            f"payer-scale policy (bench/large_policy.py): the shipped Medicare policy plus {scale['rules'] - 35:,} "
            f"generated rules and a table of {scale['pairs']:,} code pairs, itself one rule ({scale['rules']:,} "
            f"rules in all)",
            f"  load, cold:                       {cold['seconds']:6.2f} s, peak memory {cold['peak_mb']:,.0f} MB "
            f"(target: under 5 s)",
            f"  load, from the compiled cache:    {cached['seconds']:6.2f} s, peak memory {cached['peak_mb']:,.0f} MB "
            f"(target: under 0.5 s, under 500 MB)",
            f"  check_many over {claims:,} claims: {scale['large_many']:,.0f} claims/s against {scale['shipped_many']:,.0f}"
            f" with the shipped policy (medians of 3 rounds in turns): {many:.2f} of it, paired median (target: 0.80 or more)",
            f"  check, one claim a call:          {scale['large_check']:,.0f} claims/s against "
            f"{scale['shipped_check']:,.0f}: {check:.2f} of it, paired median",
            f"  decisions {'agree' if scale['agree'] else 'DIFFER'} with the shipped policy's on every claim",
        ]
    )


if __name__ == "__main__":
    main()
