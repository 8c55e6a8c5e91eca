"""Peer policy-engine benchmark: one claim-line policy, many engines.

    python run.py                      # full run: 100,000 claims, 3 rounds
    python run.py --n 5000 --rounds 1  # quick smoke run
    python run.py --engines floor,regorus,cedar

Generates the seeded claim batch, loads the policy into every engine that
imports, checks that each engine returns exactly the hand-coded floor's
violations for every claim, then times one-claim-per-call evaluation of the
whole batch.  Rounds are interleaved (floor, then each engine, repeated) and
the median of the rounds is reported.  Writes bench/PEERS.md and bench/peers/results.json
(paths are taken relative to this folder).
"""

import argparse
import datetime
import gc
import importlib
import importlib.metadata as md
import json
import math
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import claimgen  # noqa: E402
import engines  # noqa: E402

perf = time.perf_counter


def log(*a):
    print(*a, flush=True)


def version_of(dist):
    if dist is None:
        return "Python " + platform.python_version()
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def canon(violations):
    return sorted((str(r), int(i)) for r, i in violations)


def time_batch(check, claims):
    gc.collect()
    t0 = perf()
    out = [check(c) for c in claims]
    return perf() - t0, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="claims in the batch")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--rounds", type=int, default=3, help="timed runs per engine")
    ap.add_argument("--setup-repeats", type=int, default=3)
    ap.add_argument(
        "--engines",
        default="",
        help="comma-separated keys (default: all); keys: " + ",".join(s["key"] for s in engines.SPECS),
    )
    ap.add_argument("--results", default="../PEERS.md", help="markdown output (relative to this folder)")
    ap.add_argument("--json", default="results.json", help="json output (relative to this folder)")
    ap.add_argument("--render-only", action="store_true", help="only rewrite the markdown from an existing --json file")
    args = ap.parse_args()

    if args.render_only:
        with open(os.path.join(HERE, args.json)) as f:
            saved = json.load(f)
        with open(os.path.join(HERE, args.results), "w") as f:
            f.write(render_markdown(saved["environment"], saved["results"]))
        log("re-rendered %s from %s" % (args.results, args.json))
        return

    wanted = [k for k in args.engines.split(",") if k]
    specs = [s for s in engines.SPECS if not wanted or s["key"] in wanted or s["key"] == "floor"]

    log("generating %d claims (seed %d)" % (args.n, args.seed))
    t0 = perf()
    claims = claimgen.make_claims(args.n, seed=args.seed)
    gen_s = perf() - t0
    nlines = sum(len(c["lines"]) for c in claims)

    import floor

    reference = [canon(floor.check(c)) for c in claims]
    n_bad_claims = sum(1 for r in reference if r)
    by_rule = {}
    for r in reference:
        for rule, _ in r:
            by_rule[rule] = by_rule.get(rule, 0) + 1
    log(
        "  %d lines, %d claims with violations (%.1f%%), violations by rule %s"
        % (nlines, n_bad_claims, 100.0 * n_bad_claims / len(claims), by_rule)
    )

    # ---- import + setup
    state = {}
    for s in specs:
        st = state[s["key"]] = dict(
            spec=s, version=version_of(s["dist"]), runs=[], setups_ms=[], mismatches=None, examples=[], error=None
        )
        t0 = perf()
        try:
            importlib.import_module(s["module"])
        except Exception as e:  # noqa: BLE001
            st["error"] = "import failed: %s: %s" % (type(e).__name__, e)
            log("%-45s %s" % (s["name"], st["error"]))
            continue
        st["import_ms"] = (perf() - t0) * 1e3
        try:
            for _ in range(args.setup_repeats):
                gc.collect()
                t0 = perf()
                check = s["setup"]()
                st["setups_ms"].append((perf() - t0) * 1e3)
            st["check"] = check
        except Exception as e:  # noqa: BLE001
            st["error"] = "setup failed: %s: %s" % (type(e).__name__, e)
            log("%-45s %s" % (s["name"], st["error"]))
            continue
        log(
            "%-45s %-16s import %8.1f ms  setup %8.2f ms (median of %d)"
            % (s["name"], st["version"], st["import_ms"], statistics.median(st["setups_ms"]), len(st["setups_ms"]))
        )

    # ---- interleaved timed rounds; every round's output is verified.
    # The floor is re-timed right before every engine run ("paired" floor) so
    # each ratio compares two runs taken moments apart on this noisy machine.
    active = [s["key"] for s in specs if state[s["key"]]["error"] is None]
    others = [k for k in active if k != "floor"] or ["floor"]
    for rnd in range(args.rounds):
        shift = rnd % len(others)
        order = others[shift:] + others[:shift]
        for key in order:
            st = state[key]
            if st["error"] is not None:
                continue
            fdt, _ = time_batch(state["floor"]["check"], claims)
            state["floor"]["runs"].append(dict(seconds=fdt, claims=len(claims), claims_per_s=len(claims) / fdt))
            if key == "floor":
                continue
            subset = st["spec"].get("subset")
            batch = claims[:subset] if subset else claims
            try:
                dt, out = time_batch(st["check"], batch)
            except Exception as e:  # noqa: BLE001
                st["error"] = "evaluation failed in round %d: %s: %s" % (rnd + 1, type(e).__name__, e)
                log("%-45s %s" % (st["spec"]["name"], st["error"]))
                continue
            bad = 0
            for i, v in enumerate(out):
                got = canon(v)
                if got != reference[i]:
                    bad += 1
                    if len(st["examples"]) < 3:
                        st["examples"].append(dict(claim=i, engine=got, floor=reference[i]))
            st["mismatches"] = max(bad, st["mismatches"] or 0)
            st["runs"].append(
                dict(
                    seconds=dt,
                    claims=len(batch),
                    claims_per_s=len(batch) / dt,
                    paired_floor_claims_per_s=len(claims) / fdt,
                )
            )
            log(
                "round %d  %-45s %8.2f s  %10.0f claims/s  (floor %8.0f)  mismatched claims %d/%d"
                % (rnd + 1, st["spec"]["name"], dt, len(batch) / dt, len(claims) / fdt, bad, len(batch))
            )
            del out

    # ---- summarise
    state["floor"]["mismatches"] = 0  # the floor is the reference
    floor_cps = statistics.median(r["claims_per_s"] for r in state["floor"]["runs"])
    rows = []
    for s in specs:
        st = state[s["key"]]
        row = dict(
            key=s["key"],
            engine=s["name"],
            version=st["version"],
            note=s["note"],
            error=st["error"],
            subset=s.get("subset"),
        )
        if st["setups_ms"]:
            row["setup_ms"] = statistics.median(st["setups_ms"])
            row["import_ms"] = st["import_ms"]
        if st["runs"]:
            cps = statistics.median(r["claims_per_s"] for r in st["runs"])
            if s["key"] == "floor":
                paired = 1.0
            else:
                paired = statistics.median(r["claims_per_s"] / r["paired_floor_claims_per_s"] for r in st["runs"])
            row.update(
                claims_per_s=cps,
                ratio_to_floor=paired,
                ratio_of_medians=cps / floor_cps,
                runs_claims_per_s=[r["claims_per_s"] for r in st["runs"]],
                claims_timed=st["runs"][0]["claims"],
                mismatched_claims=st["mismatches"],
                mismatch_examples=st["examples"],
            )
        rows.append(row)

    env = dict(
        command=" ".join(["python", "bench/peers/run.py"] + sys.argv[1:]),
        date_utc=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        python=sys.version.split()[0],
        implementation=platform.python_implementation(),
        platform=platform.platform(),
        cpu=cpu_model(),
        cpus=os.cpu_count(),
        n_claims=args.n,
        n_lines=nlines,
        seed=args.seed,
        rounds=args.rounds,
        claims_with_violations=n_bad_claims,
        violations_by_rule=by_rule,
        generate_s=gen_s,
        support_versions={d: version_of(d) for d in ("lark", "pyyaml", "jsonschema", "google-re2")},
    )
    with open(os.path.join(HERE, args.json), "w") as f:
        json.dump(dict(environment=env, results=rows), f, indent=1, default=str)
    with open(os.path.join(HERE, args.results), "w") as f:
        f.write(render_markdown(env, rows))
    log("wrote %s and %s" % (args.results, args.json))


def _fmt_int(x):
    return "{:,.0f}".format(x)


def _fmt_ratio(x):
    """Two significant digits, never scientific notation."""
    decimals = max(2, 1 - math.floor(math.log10(x)))
    return "%.*f" % (decimals, x)


def render_markdown(env, rows):
    out = []
    w = out.append
    w("# Peer policy engines: claim-line policy benchmark results\n")
    w(
        "Generated by `%s` on %s, from one run. Engines and policies: see peers/README.md.\n"
        % (env.get("command", "python bench/peers/run.py"), env["date_utc"])
    )
    w(
        "Batch: %s synthetic claims (%s lines, seed %d), %s claims (%.1f%%) with at least one "
        "violation; violations by rule: %s. Each engine evaluates one claim per call from Python "
        "dicts; claims/s is the median of %d interleaved runs over the whole batch (unless marked "
        "as a subset). The hand-coded floor is re-timed on the whole batch immediately before "
        "every engine run; ratio = median over the runs of (engine claims/s / that paired floor "
        "claims/s), so under 1 means slower than the floor. The floor's own claims/s is the "
        "median of all its runs. Setup = policy load/compile into a fresh engine "
        "object, median of 3, module import excluded (listed separately below).\n"
        % (
            _fmt_int(env["n_claims"]),
            _fmt_int(env["n_lines"]),
            env["seed"],
            _fmt_int(env["claims_with_violations"]),
            100.0 * env["claims_with_violations"] / env["n_claims"],
            ", ".join("%s %s" % kv for kv in sorted(env["violations_by_rule"].items())),
            env["rounds"],
        )
    )
    w(
        "Machine: %s, %s logical CPUs, %s; %s %s. The machine is shared and noisy: "
        "compare ratios, not absolute claims/s.\n"
        % (env["cpu"], env["cpus"], env["platform"], env["implementation"], env["python"])
    )
    w("| engine | version | setup ms | claims/s | ratio to hand-coded Python | agrees |")
    w("|---|---|---:|---:|---:|---|")
    for r in rows:
        if "claims_per_s" not in r:
            w(
                "| %s | %s | %s | – | – | – (%s) |"
                % (r["engine"], r["version"], "%.2f" % r["setup_ms"] if "setup_ms" in r else "–", r["error"])
            )
            continue
        ratio = r["ratio_to_floor"]
        ratio_s = (
            "1 (reference)"
            if r["key"] == "floor"
            else ("%s (%s× slower)" % (_fmt_ratio(ratio), _fmt_int(1 / ratio)) if ratio < 1 else "%.2f" % ratio)
        )
        if r["key"] == "floor":
            agrees = "reference"
        elif r["mismatched_claims"] == 0:
            agrees = "yes"
        else:
            agrees = "no (%s of %s claims differ)" % (_fmt_int(r["mismatched_claims"]), _fmt_int(r["claims_timed"]))
        if r["subset"]:
            agrees += " (first %s claims only)" % _fmt_int(r["subset"])
        cps = _fmt_int(r["claims_per_s"])
        if r["subset"]:
            cps += "*"
        if r.get("error"):
            agrees += "; " + r["error"]
        w("| %s | %s | %.2f | %s | %s | %s |" % (r["engine"], r["version"], r["setup_ms"], cps, ratio_s, agrees))
    w("")
    if any(r.get("subset") for r in rows):
        w("\\* timed and verified on the first claims of the batch only (see the agrees column).\n")
    w("## Per-run detail\n")
    w("| engine | runs (claims/s) | import ms | how it is called |")
    w("|---|---|---:|---|")
    for r in rows:
        xs = r.get("runs_claims_per_s", [])
        if r["key"] == "floor" and xs:
            runs = "%d runs, min %s, median %s, max %s" % (
                len(xs),
                _fmt_int(min(xs)),
                _fmt_int(statistics.median(xs)),
                _fmt_int(max(xs)),
            )
        else:
            runs = ", ".join(_fmt_int(x) for x in xs) or "–"
        imp = "%.1f" % r["import_ms"] if "import_ms" in r else "–"
        w("| %s | %s | %s | %s |" % (r["engine"], runs, imp, r["note"]))
    w("")
    w(
        "Import times are indicative only (measured in one process, so modules shared by "
        "several engines are charged to the first one imported).\n"
    )
    bad = [r for r in rows if r.get("mismatch_examples")]
    if bad:
        w("## Mismatch examples\n")
        for r in bad:
            for ex in r["mismatch_examples"]:
                w("- %s, claim %d: engine %s, floor %s" % (r["engine"], ex["claim"], ex["engine"], ex["floor"]))
        w("")
    notes = os.path.join(HERE, "install_notes.md")
    if os.path.exists(notes):
        with open(notes, encoding="utf-8") as f:
            w(f.read())
    return "\n".join(out)


if __name__ == "__main__":
    main()
