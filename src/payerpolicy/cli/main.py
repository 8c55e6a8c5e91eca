"""The command line: `payerpolicy check`, `payerpolicy lint` and `payerpolicy units`.

Exit codes (check): 0 every claim accepted; 1 a claim denied or unreadable; 2 nothing could be checked (bad
arguments, a policy with errors, a missing file). lint: 0 clean, 1 errors. No traceback reaches the user:
an unexpected failure is reported in one line with a request to report it.
"""

from __future__ import annotations

import argparse
import datetime
import sqlite3
import json
import os
import sys
import traceback

# The command line is a client of the public API (`payerpolicy.__all__`), plus its own subcommand modules.
from payerpolicy import (
    __version__,
    DEFAULT_HISTORY_MEMORY,
    DEFAULT_WINDOW,
    INPUT_FORMATS,
    OUTPUT_FORMATS,
    ClaimFileError,
    DecisionWriter,
    HistoryError,
    HistoryMemoryUse,
    Policies,
    PolicyError,
    Session,
    WorkerError,
    explain_code,
    lint,
    read_claims,
)
from payerpolicy.cli import lint_formats
from payerpolicy.cli import arguments
from payerpolicy.cli.help import Command, OneOf, add_command, option
from payerpolicy.cli import lsp as cli_lsp
from payerpolicy.cli import new as cli_new
from payerpolicy.cli.progress import Progress
from payerpolicy.cli.collector import KeptOutOfCollections
from payerpolicy.cli import serve as cli_serve
from payerpolicy.cli import diff as cli_diff
from payerpolicy.cli import colour as cli_colour
from payerpolicy.cli import fmt as cli_fmt
from payerpolicy.cli import tables as cli_tables
from payerpolicy.cli import test as cli_test
from payerpolicy.cli import units as cli_units


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="payerpolicy", description="Judge therapy claim lines against payer policies."
    )
    parser.add_argument("--version", action="version", version=f"payerpolicy {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in _COMMANDS:
        add_command(commands, command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _RUNS[args.command](args)
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: never show a traceback to a biller
        # Not the exception's text: it can hold a claim's values (patient data), and stderr goes to logs.
        frames = traceback.extract_tb(exc.__traceback__)
        place = f" at {os.path.basename(frames[-1].filename)} line {frames[-1].lineno}" if frames else ""
        print(
            f"payerpolicy: internal error ({type(exc).__name__}{place})\n"
            "This is a bug in payerpolicy; please report it with the command you ran.",
            file=sys.stderr,
        )
        return 2


# ------------------------------------------------------------------------------------------------ check


def _check(args) -> int:
    if args.history_memory is not None and args.history is None:
        print("payerpolicy: --history-memory is the memory of a --history FILE: give one", file=sys.stderr)
        return 2
    missing = [f for f in args.files if f != "-" and not os.path.isfile(f)]
    if missing:
        for f in missing:
            print(f"payerpolicy: no such claim file: {f}", file=sys.stderr)
        return 2
    try:
        # Every policy of the run is known on one date, fixed here, so that worker processes load the same rules.
        policies = Policies(args.policies, as_of=args.as_of or datetime.date.today())
        # --payer names a payer of the search path; one not there is loaded as a name, for its diagnostic.
        target = policies.get(args.payer) if args.payer in policies else (args.policy or args.payer or policies)
        # The options of `check` that a session takes under the same name pass straight through.
        passed = {name: getattr(args, name) for name in ("received", "history", "window", "history_memory")}
        session = Session(target, as_of=policies.as_of, workers=args.jobs, **passed)
    except PolicyError as exc:  # a bad policy is reported before any output
        print(exc.render(), file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"payerpolicy: {exc}", file=sys.stderr)
        return 2
    except (HistoryError, sqlite3.Error) as exc:
        print(f"payerpolicy: cannot use {args.history} as a claim history: {exc}", file=sys.stderr)
        return 2
    writer = DecisionWriter(sys.stdout, args.format, colour=cli_colour.wanted(sys.stdout))
    progress = Progress(enabled=False if args.quiet else None)
    with session:
        stopped = _write_decisions(args, session, writer, progress)
        use = session.history_memory_use()
    progress.finish()
    writer.finish()
    advice = memory_advice(use, writer.summary["claims"], args.history, args.history_memory)
    if advice and not args.quiet:
        print(advice, file=sys.stderr)
    warned = writer.warned
    if stopped is not None:
        print(stopped, file=sys.stderr)
        return 2
    return _check_exit(writer.summary, warned, args.fail_on)


def _write_decisions(args, session: Session, writer: DecisionWriter, progress: Progress) -> str | None:
    """Judge the claim files and write each decision as it comes. What is returned says why the run stopped
    early (None: it did not): every claim so far is reported and the output is closed."""
    try:
        writer.start()
        # With --jobs, a JSON Lines file goes to the workers as lines of text, read on their cores.
        records = (
            record for name in args.files for record in read_claims(name, args.input_format, unread_lines=args.jobs > 1)
        )
        # Each decision is rendered where it is made (on the workers, with --jobs): this process writes text.
        with KeptOutOfCollections() as kept:
            for rendered in session.render_many(records, writer.render):
                writer.write_rendered(rendered)
                progress.tick()
                kept.tick()
    except PolicyError as exc:
        return exc.render()
    except (ClaimFileError, WorkerError) as exc:  # a file gone mid-run; a worker process that died
        return f"payerpolicy: {exc}"
    except (HistoryError, sqlite3.Error) as exc:  # a full disk, a file made read-only mid-run
        return (
            f"payerpolicy: the claim history {args.history} could not be written after "
            f"{writer.summary['claims']} claims ({exc}); the run stopped there, and those claims are "
            f"reported above"
        )
    return None


# A run is told its history memory was too small when at least this many patients were read back after memory
# let them go, and they are at least a tenth of its claims: below that, reading back costs the run little.
ADVICE_AFTER = 1_000


def memory_advice(use: HistoryMemoryUse | None, claims: int, history: str, given: int | None) -> str | None:
    """What to tell a user whose run read patients back from the history file because `--history-memory` could
    not hold them (on standard error, after the decisions): how often, and the memory that holds them all."""
    if use is None or use.read_again < ADVICE_AFTER or use.read_again * 10 < claims:
        return None
    step = 10 if use.wanted_mb < 100 else 100
    enough = -(-use.wanted_mb // step) * step  # rounded up
    budget = f"--history-memory {given}" if given else f"the default --history-memory ({DEFAULT_HISTORY_MEMORY} MB)"
    return (
        f"payerpolicy: note: {budget} was too small for this run: {use.read_again:,} times, a patient that memory "
        f"had let go was read back from {history} ({use.lines_read_again:,} of their lines made again in all), which "
        f"slows a long run down. This run's patients fit in {'at least ' if use.at_least else ''}"
        f"about {use.wanted_mb:,} MB: --history-memory {enough} would hold them all (each worker of --jobs takes "
        f"that much)."
    )


# Exit codes of `check` (the README's table): 0 nothing to fail on, 1 a claim denied or adjusted (or with a
# warning, under --fail-on warn), 2 the run could not finish, 3 a claim could not be read.


def _check_exit(summary: dict, warned: bool, fail_on: str) -> int:
    if fail_on == "never":
        return 0
    if summary["errors"]:
        return 3
    if summary["claims"] != summary["accepted"] or (fail_on == "warn" and warned):
        return 1
    return 0


# ------------------------------------------------------------------------------------------------ lint


def _lint(args) -> int:
    if args.explain:
        meaning = explain_code(args.explain)
        if meaning is None:
            print(
                f"payerpolicy: no diagnostic code {args.explain}; `payerpolicy lint --explain E401`, say",
                file=sys.stderr,
            )
            return 2
        print(f"{args.explain.upper()}: {meaning}")
        return 0
    if not args.paths:
        print("payerpolicy: lint needs a policy folder or file (or --explain CODE)", file=sys.stderr)
        return 2
    failed = False
    report = []
    checked = []
    colour = args.format == "text" and cli_colour.wanted(sys.stdout)  # never in a pipe, a file or CI's log
    for raw in args.paths:
        try:
            results = lint(raw)
        except FileNotFoundError as exc:
            print(f"payerpolicy: {exc}", file=sys.stderr)
            failed = True
            continue
        for result in results:
            failed = failed or not result.ok
            checked.append(result)
            report.append(result.to_dict())
            if args.format != "text":
                continue
            rendered = result.render(colour=colour)
            if not result.ok:
                verdict = f"{result.policy}: cannot be loaded"
                print(rendered + "\n" + (cli_colour.paint_verdict(verdict, False) if colour else verdict) + "\n")
                continue
            if result.diagnostics:
                print(rendered + "\n")
            verdict = f"{result.policy}: ok, {result.rule_count_words}"
            print(cli_colour.paint_verdict(verdict, True) if colour else verdict)
    if args.format == "json":
        print(json.dumps({"policies": report}, indent=2))
    elif args.format == "sarif":
        lint_formats.write_sarif(checked, sys.stdout)
    elif args.format == "github":
        for line in lint_formats.github(checked):
            print(line)
    if args.strict and any(d.severity == "warning" for result in checked for d in result.diagnostics):
        failed = True
    return 1 if failed else 0


_CHECK = Command(
    "check",
    "judge claims (claim JSON, JSON Lines, X12 837P, FHIR R4)",
    (
        "payerpolicy check --format text examples/claims.json",
        "payerpolicy check day.837 --history claims.sqlite > decisions.json",
        "payerpolicy check claims.jsonl --policies my-payers --jobs 2 --format csv",
        "payerpolicy check claims.jsonl --fail-on warn --quiet > /dev/null",
    ),
    _check,
    options=(
        option("files", nargs="+", metavar="FILE", help="claim files; - reads standard input"),
        OneOf(
            (
                option("--payer", help=f"a shipped payer policy for every claim ({', '.join(Policies().names())})"),
                option("--policy", help="a policy folder or file for every claim"),
            )
        ),
        arguments.policies_option(),
        # What comes in, how it is judged, what goes out and what fails the run.
        option(
            "--format",
            choices=OUTPUT_FORMATS,
            default="json",
            help="json (the decision contract, default), text (for people), csv (one row per finding), "
            "835 (the adjustment segments of an X12 835 remittance for denied and adjusted lines)",
        ),
        arguments.input_format_option(INPUT_FORMATS),
        arguments.date_option("--as-of", "judge with the policies as they were known on that date (default: today)"),
        arguments.date_option(
            "--received",
            "the date the payer receives the claims, for rules that key on it (`claim.received`; "
            "Medicare's one line per timed code a day): default today, as if sent now",
        ),
        option(
            "--history",
            metavar="FILE",
            help="a claim history (SQLite) kept between runs: judged claims are added to it, and rules "
            "over the patient's year (the KX threshold) count the claims in it",
        ),
        option(
            "--history-memory",
            type=arguments.jobs,
            metavar="MB",
            help="megabytes of recent patients' claims the history keeps in memory, in each process (default "
            f"{DEFAULT_HISTORY_MEMORY}); a run whose patients all fit reads nothing back from the file: about 1,000 for a million "
            "claims",
        ),
        arguments.window_option(
            DEFAULT_WINDOW,
            "a patient's claims are judged together, in date-of-service order, when read within N "
            f"claims of the first of them (default {DEFAULT_WINDOW:,}); see the README",
        ),
        option(
            "--fail-on",
            choices=("deny", "warn", "never"),
            default="deny",
            help="which decisions make the exit code 1 (or 3): deny (a denied or adjusted line, or a "
            "claim that could not be read; default), warn (also a warning), never (only a run "
            "that cannot finish fails)",
        ),
        option(
            "--quiet",
            "-q",
            action="store_true",
            help="no progress line on standard error (it is shown only on a terminal anyway)",
        ),
        arguments.jobs_option(
            "judge on N processes, each taking a share of the patients; the results are the same as with one "
            "(default 1)",
        ),
    ),
)

_LINT = Command(
    "lint",
    "check policy files without judging claims",
    (
        "payerpolicy lint policies",
        "payerpolicy lint my-payers/acme --strict --format github",
        "payerpolicy lint my-payers --format sarif > lint.sarif",
        "payerpolicy lint --explain E401",
    ),
    _lint,
    options=(
        option(
            "paths",
            nargs="*",
            metavar="PATH",
            help="a policy folder or file, or a folder of policy folders (such as policies/)",
        ),
        option("--explain", metavar="CODE", help="say what a diagnostic code (E401, W501...) means"),
        option(
            "--format",
            choices=("text", "json", "sarif", "github"),
            default="text",
            help="text (for people, default), json, sarif (SARIF 2.1.0, for code scanning) or github "
            "(workflow annotations on the pull request)",
        ),
        option("--strict", action="store_true", help="fail on warnings too, not only on errors"),
    ),
)

# The commands, in the order `payerpolicy --help` lists them, and what runs each.
_COMMANDS = (
    _CHECK,
    _LINT,
    cli_units.COMMAND,
    cli_test.COMMAND,
    cli_tables.COMMAND,
    cli_new.COMMAND,
    cli_lsp.COMMAND,
    cli_serve.COMMAND,
    cli_diff.COMMAND,
    cli_fmt.COMMAND,
)
_RUNS = {command.name: command.run for command in _COMMANDS if command.run is not None}


if __name__ == "__main__":
    sys.exit(main())
