"""`payerpolicy test`: run policy regression cases, report in billing words, measure rule coverage.

Exit status: 0 every case passed (and coverage reached --min-coverage); 1 a case failed or coverage fell
short; 2 a case file or a policy could not be loaded.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from payerpolicy.cases.files import find_case_files, read_case_file
from payerpolicy.cases.run import CaseResult, CaseRunner
from payerpolicy.cases.update import update_case_file
from payerpolicy.diagnostics import PolicyError, SourceFiles
from payerpolicy.cases.junit import write_junit


def add_parser(commands) -> None:
    test = commands.add_parser("test", help="run policy regression cases (test_*.yaml)",
                               description="Run the policy test cases in test_*.yaml files under PATHS.")
    test.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                      help="case files, or folders to search for test_*.yaml (default: the current folder)")
    test.add_argument("--junit", metavar="FILE", help="also write the results as JUnit XML, for CI")
    test.add_argument("--min-coverage", type=float, metavar="PCT",
                      help="fail when less than PCT%% of the rules' goals (fire in some case, and be met "
                           "without firing in another) are reached")
    test.add_argument("--update", action="store_true",
                      help="write each case's current decisions into its `expect`, for review as a diff")
    test.add_argument("--quiet", "-q", action="store_true", help="print failures and the summary only")


def run(args) -> int:
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        for p in missing:
            print(f"payerpolicy: no such file or folder: {p}", file=sys.stderr)
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
    runner = CaseRunner()
    results: list[CaseResult] = []
    seconds: dict[int, float] = {}
    for case_file in case_files:
        file_results = []
        for case in case_file.cases:
            start = time.perf_counter()
            result = runner.run(case)
            seconds[id(result)] = time.perf_counter() - start
            file_results.append(result)
            _print_result(result, args.quiet)
        results += file_results
        if args.update and update_case_file(case_file, file_results):
            print(f"updated {case_file.display}")
    return _summary(args, runner, results, seconds, broken, _broken_files(diagnostics, sources))


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


def _summary(args, runner: CaseRunner, results: list[CaseResult], seconds: dict, broken: bool,
             broken_files: dict[str, str]) -> int:
    counts = {o: sum(r.outcome == o for r in results) for o in ("passed", "failed", "error")}
    if args.junit:
        write_junit(results, Path(args.junit), seconds, broken_files)
    print()
    for policy, table in runner.coverage.items():
        never_fired = [e for e in table.values() if not e.fired]
        never_passed = [e for e in table.values() if not e.passed]
        count = f"{len(table)} rule{'s' if len(table) != 1 else ''}"
        print(f"{policy}: {count}; {len(table) - len(never_fired)} fire in some case, "
              f"{len(table) - len(never_passed)} are met without firing in some case")
        for entry in never_fired:
            print(f"  never fires:                {entry.rule} ({entry.source})")
        for entry in never_passed:
            print(f"  never met without firing:   {entry.rule} ({entry.source})")
    coverage = runner.coverage_percent()
    print(f"rule coverage: {coverage:.1f}%")
    errors = counts["error"]
    print(f"{len(results)} cases: {counts['passed']} passed, {counts['failed']} failed"
          + (f", {errors} could not run" if errors else ""))
    if broken or errors:
        return 2
    if counts["failed"]:
        return 1
    if args.min_coverage is not None and coverage < args.min_coverage:
        print(f"rule coverage {coverage:.1f}% is below the minimum of {args.min_coverage:g}%")
        return 1
    return 0
