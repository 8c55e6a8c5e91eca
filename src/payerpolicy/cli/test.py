"""`payerpolicy test`: run policy regression cases, report in billing words, measure rule coverage.

Exit status: 0 every case passed (and coverage reached --min-coverage, and each policy's own
`tests: min_coverage:`); 1 a case failed or coverage fell short; 2 a case file or a policy could not be loaded.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
import time

from payerpolicy.cli import arguments
from payerpolicy.cli.help import Command, option
from pathlib import Path

from payerpolicy.cases import (
    COVERAGE_SCOPES,
    CaseResult,
    CaseRunner,
    find_case_files,
    junit_bytes,
    read_case_file,
    update_case_file,
    write_junit,
)
from payerpolicy.diagnostics import PolicyError, SourceFiles

# The cases that failed in the last run from this folder, for --fail-only (case names only: no claim data).
LAST_FAILED = Path(".payerpolicy") / "last-failed.json"


def run(args) -> int:
    if arguments.missing(args.paths, "file or folder", lambda p: Path(p).exists()):
        return 2
    files = find_case_files([Path(p) for p in args.paths])
    if not files:
        print(f"payerpolicy: no policy test cases (test_*.yaml) in {', '.join(args.paths)}", file=sys.stderr)
        return 2
    sources = SourceFiles()
    diagnostics: list = []
    case_files = [cf for cf in (read_case_file(path, sources, diagnostics) for path in files) if cf is not None]
    broken = bool(diagnostics)
    if diagnostics:
        print(PolicyError(diagnostics, sources).render() + "\n", file=sys.stderr)
    runner = CaseRunner(scope=args.coverage_scope)
    chosen = _chooser(args)
    results: list[CaseResult] = []
    seconds: dict[int, float] = {}
    for case_file in case_files:
        file_results = []
        for case in case_file.cases:
            if not chosen(case):
                continue
            start = time.perf_counter()
            result = runner.run(case)
            seconds[id(result)] = time.perf_counter() - start
            file_results.append(result)
            if args.format == "text":
                _print_result(result, args.quiet)
        results += file_results
        if args.update and file_results and update_case_file(case_file, file_results):
            print(f"updated {case_file.display}", file=sys.stderr if args.format != "text" else sys.stdout)
    _remember_failures(results)
    return _summary(args, runner, results, seconds, broken, _broken_files(diagnostics, sources))


def _case_key(case) -> str:
    return f"{case.file}::{case.name}"


def _chooser(args):
    """Which cases run: those --run names (a substring, or a shell pattern), of those that failed last time
    with --fail-only (all of them when none failed, or no run is remembered)."""
    failed = None
    if args.fail_only:
        try:
            failed = set(json.loads(LAST_FAILED.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            failed = None
        if not failed:
            print("payerpolicy: no case failed in the last run here; running them all", file=sys.stderr)
            failed = None
    pattern = args.run

    def chosen(case) -> bool:
        key = _case_key(case)
        if failed is not None and key not in failed:
            return False
        if pattern is None:
            return True
        if any(c in pattern for c in "*?["):
            return fnmatch.fnmatchcase(key.lower(), f"*{pattern.lower()}*")
        return pattern.lower() in key.lower()

    return chosen


def _remember_failures(results: list[CaseResult]) -> None:
    """Keep the names of the cases that did not pass, for the next --fail-only (best effort)."""
    try:
        LAST_FAILED.parent.mkdir(exist_ok=True)
        LAST_FAILED.write_text(json.dumps([_case_key(r.case) for r in results if not r.passed]), encoding="utf-8")
    except OSError:
        pass


def _print_result(result: CaseResult, quiet: bool) -> None:
    if result.passed:
        if not quiet:
            print(f"PASS  {result.case.file}: {result.case.name}")
        return
    print(f"{'FAIL' if result.outcome == 'failed' else 'ERROR'}  {result.case.file}: {result.case.name}")
    print("\n".join("      " + line for line in result.report().splitlines()[1:]))


def _broken_files(diagnostics: list, sources: SourceFiles) -> dict[str, str]:
    """Each case file with errors, and its diagnostics rendered."""
    by_file: dict[str, list] = {}
    for d in diagnostics:
        if d.severity == "error":
            by_file.setdefault(d.span.file if d.span else "(case files)", []).append(d)
    return {file: PolicyError(found, sources).render() for file, found in by_file.items()}


def _summary(
    args, runner: CaseRunner, results: list[CaseResult], seconds: dict, broken: bool, broken_files: dict[str, str]
) -> int:
    counts = {o: sum(r.outcome == o for r in results) for o in ("passed", "failed", "error")}
    if args.junit:
        write_junit(results, Path(args.junit), seconds, broken_files)
    coverage = runner.coverage_percent()
    # A policy's own gate is for a whole run of its cases: a selection (--run, --fail-only) is not held to it.
    shortfalls = runner.coverage_shortfalls() if not (args.run or args.fail_only) else []
    if args.min_coverage is not None and coverage < args.min_coverage:
        shortfalls.insert(0, f"rule coverage {coverage:.1f}% is below the minimum of {args.min_coverage:g}%")
    if args.format != "text":
        _write_machine(args.format, results, runner, seconds, broken_files, shortfalls)
    else:
        _print_coverage(runner, results, counts, shortfalls)
    if broken or counts["error"]:
        return 2
    if counts["failed"] or shortfalls:
        return 1
    return 0


def _print_coverage(runner: CaseRunner, results: list[CaseResult], counts: dict, shortfalls: list[str]) -> None:
    print()
    for policy, table in runner.coverage.items():
        never_fired = [e for e in table.values() if not e.fired]
        never_passed = [e for e in table.values() if not e.passed]
        count = f"{len(table)} rule{'s' if len(table) != 1 else ''}"
        print(
            f"{policy}: {count}; {len(table) - len(never_fired)} fire in some case, "
            f"{len(table) - len(never_passed)} are met without firing in some case"
        )
        for entry in never_fired:
            print(f"  never fires:                {entry.rule} ({entry.source})")
        for entry in never_passed:
            print(f"  never met without firing:   {entry.rule} ({entry.source})")
    print(f"rule coverage: {runner.coverage_percent():.1f}%")
    errors = counts["error"]
    print(
        f"{len(results)} cases: {counts['passed']} passed, {counts['failed']} failed"
        + (f", {errors} could not run" if errors else "")
    )
    for line in shortfalls:
        print(line)


def _write_machine(
    form: str,
    results: list[CaseResult],
    runner: CaseRunner,
    seconds: dict,
    broken_files: dict[str, str],
    shortfalls: list[str],
) -> None:
    if form == "junit":
        sys.stdout.write(junit_bytes(results, seconds, broken_files).decode("utf-8"))
    elif form == "tap":
        sys.stdout.write(_tap(results, runner, broken_files, shortfalls))
    else:
        sys.stdout.write(json.dumps(_json_report(results, runner, broken_files, shortfalls), indent=2) + "\n")


def _coverage_report(runner: CaseRunner) -> dict:
    return {
        folder: {
            "rules": len(table),
            "coverage": round(runner.coverage_percent(folder), 1),
            "never_fires": [f"{e.rule} ({e.source})" for e in table.values() if not e.fired],
            "never_met_without_firing": [f"{e.rule} ({e.source})" for e in table.values() if not e.passed],
        }
        for folder, table in runner.coverage.items()
    }


def _json_report(results: list[CaseResult], runner: CaseRunner, broken_files: dict, shortfalls: list[str]) -> dict:
    cases = [
        {"file": r.case.file, "line": r.case.line, "name": r.case.name, "outcome": r.outcome, "problems": r.problems}
        for r in results
    ]
    cases += [
        {"file": file, "line": 1, "name": "(the case file could not be read)", "outcome": "error", "problems": [text]}
        for file, text in broken_files.items()
    ]
    counts = {o: sum(c["outcome"] == o for c in cases) for o in ("passed", "failed", "error")}
    return {
        "cases": cases,
        "coverage": _coverage_report(runner),
        "summary": {
            "cases": len(cases),
            **counts,
            "rule_coverage": round(runner.coverage_percent(), 1),
            "shortfalls": shortfalls,
        },
    }


def _tap(results: list[CaseResult], runner: CaseRunner, broken_files: dict, shortfalls: list[str]) -> str:
    """TAP version 13: one test point per case, a failure's report as a YAML block, coverage as comments."""
    points = [(r.passed, f"{r.case.file}: {r.case.name}", r.report() if not r.passed else "") for r in results]
    points += [(False, f"{file}: (the case file could not be read)", text) for file, text in broken_files.items()]
    lines = ["TAP version 13", f"1..{len(points)}"]
    for number, (passed, title, report) in enumerate(points, 1):
        title = title.replace("#", "\\#")
        lines.append(f"{'ok' if passed else 'not ok'} {number} - {title}")
        if not passed:
            lines += ["  ---", "  message: |"] + ["    " + line for line in report.splitlines()] + ["  ..."]
    for folder, report in _coverage_report(runner).items():
        lines.append(f"# {folder}: {report['rules']} rules, coverage {report['coverage']}%")
    lines += [f"# {line}" for line in shortfalls]
    return "\n".join(lines) + "\n"


COMMAND = Command(
    "test",
    "run policy regression cases (test_*.yaml)",
    (
        "payerpolicy test policies --min-coverage 100",
        "payerpolicy test policies/acme --coverage-scope own --format tap",
        "payerpolicy test policies --run 97112 --update",
        "payerpolicy test policies --fail-only",
    ),
    run,
    options=(
        option(
            "paths",
            nargs="*",
            default=["."],
            metavar="PATH",
            help="case files, or folders to search for test_*.yaml (default: the current folder)",
        ),
        option("--junit", metavar="FILE", help="also write the results as JUnit XML, for CI"),
        option(
            "--min-coverage",
            type=float,
            metavar="PCT",
            help="fail when less than PCT%% of the rules' goals (fire in some case, and be met "
            "without firing in another) are reached",
        ),
        option(
            "--update",
            action="store_true",
            help="write each case's current decisions into its `expect`, for review as a diff",
        ),
        option("--quiet", "-q", action="store_true", help="print failures and the summary only"),
        option(
            "--format",
            choices=("text", "json", "tap", "junit"),
            default="text",
            help="text (for people, default), json, tap (Test Anything Protocol) or junit (JUnit XML)",
        ),
        option(
            "--run",
            metavar="PATTERN",
            help="run only the cases whose file or name contains PATTERN (or matches it, with * and ?)",
        ),
        option(
            "--fail-only",
            action="store_true",
            help=f"run only the cases that failed in the last run from this folder (kept in {LAST_FAILED})",
        ),
        option(
            "--coverage-scope",
            choices=COVERAGE_SCOPES,
            help="own: a policy's cases count coverage of its own rules only (a payer built on "
            "medicare reaches its gate without testing medicare's rules); all: every rule they "
            "judge with. Default: each policy's `tests: coverage_scope:`, else all",
        ),
    ),
    settings=dict(
        description="Run the policy test cases in test_*.yaml files under PATHS.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ),
)
