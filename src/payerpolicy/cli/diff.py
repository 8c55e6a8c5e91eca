"""`payerpolicy diff OLD NEW CLAIMS...`: what a policy change does to claims, before it ships.

Exit status: 0 the diff ran and no gate was crossed; 1 a gate was crossed (--fail-on-change,
--fail-on-newly-denied, --max-changed-lines, --max-at-stake); 2 nothing could be diffed (a bad argument, a
missing claim file, a policy that does not load, policies of different payers, a revision git cannot give,
a claim history that cannot be read). Claims that cannot be read are reported once and cross no gate.
"""

from __future__ import annotations


import argparse
import datetime
import os
import sqlite3
import sys

from payerpolicy import DEFAULT_WINDOW, INPUT_FORMATS, ClaimFileError, HistoryError, Policies, PolicyError, read_claims
from payerpolicy.cli import arguments
from payerpolicy.cli.help import Command, Headed, option
from payerpolicy.impact import IMPACT_FORMATS, ImpactError, ImpactWriter, PolicyAtRevision, RevisionError, diff, side


def _dollars(text: str) -> float:
    try:
        amount = float(text.replace(",", "").removeprefix("$"))
    except ValueError:
        amount = -1.0
    if amount < 0:
        raise argparse.ArgumentTypeError(f"expected an amount in dollars such as 2500 or 2500.00, not {text!r}")
    return amount


def run(args) -> int:
    given = list(args.given)
    needed = 2 if args.base else 3
    if len(given) < needed:
        print(
            "payerpolicy: diff needs "
            + ("NEW and at least one claim file with --base" if args.base else "OLD, NEW and at least one claim file")
            + "; see payerpolicy diff --help",
            file=sys.stderr,
        )
        return 2
    new_source = given[1] if not args.base else given[0]
    old_source = PolicyAtRevision(args.base, new_source) if args.base else given[0]
    files = given[1:] if args.base else given[2:]
    if arguments.missing(files, "claim file", lambda f: f == "-" or os.path.isfile(f)):
        return 2
    as_of = args.as_of or datetime.date.today()
    sides = _load_sides(args, old_source, new_source, as_of)
    if sides is None:
        return 2
    records = (record for name in files for record in read_claims(name, args.input_format))
    try:
        impact = diff(
            sides[0],
            sides[1],
            records,
            as_of=as_of,
            received=args.received,
            history=args.history,
            window=args.window,
            different_payers=args.different_payers,
            jobs=args.jobs,
        )
    except ImpactError as exc:
        print(f"payerpolicy: {exc}", file=sys.stderr)
        return 2
    writer = ImpactWriter(sys.stdout, args.format, args.show)
    writer.start(impact)
    try:
        for change in impact:
            writer.write(change)
    except (ClaimFileError, HistoryError, sqlite3.Error) as exc:
        writer.finish(impact)
        print(
            f"payerpolicy: {exc}; the diff stopped there, and the claims before it are reported above", file=sys.stderr
        )
        return 2
    writer.finish(impact)
    return _gates(args, impact.summary)


def _load_sides(args, old_source, new_source, as_of: datetime.date) -> list | None:
    """Both policies loaded, or None when one cannot be (what is wrong said on standard error)."""
    try:
        policies = Policies(args.policies, as_of=as_of) if args.policies else None
    except FileNotFoundError as exc:
        print(f"payerpolicy: --policies: {exc}", file=sys.stderr)
        return None
    sides = []
    for which, source in (("old", old_source), ("new", new_source)):
        label = source.label if isinstance(source, PolicyAtRevision) else source
        try:
            sides.append(side(source, as_of, policies))
        except PolicyError as exc:  # its diagnostics, and no diff
            print(exc.render(), file=sys.stderr)
            print(f"payerpolicy: the {which} policy {label} cannot be loaded; nothing was diffed", file=sys.stderr)
            if isinstance(source, str) and not os.path.exists(source) and not args.policies:
                print("payerpolicy: a payer of your own is found by name with --policies FOLDER", file=sys.stderr)
            return None
        except RevisionError as exc:
            print(f"payerpolicy: --base {args.base}: {exc}", file=sys.stderr)
            return None
    return sides


def _gates(args, summary: dict) -> int:
    """1 when a gate the run was given is crossed, saying which on standard error; else 0."""
    crossed = []
    if args.fail_on_change and summary["lines_changed"]:
        crossed.append(f"{summary['lines_changed']:,} lines decided differently (--fail-on-change)")
    newly_denied = summary["by_kind"]["newly_denied"]["lines"]
    if args.fail_on_newly_denied and newly_denied:
        crossed.append(f"{newly_denied:,} lines newly denied (--fail-on-newly-denied)")
    if args.max_changed_lines is not None and summary["lines_changed"] > args.max_changed_lines:
        crossed.append(
            f"{summary['lines_changed']:,} lines decided differently, more than "
            f"{args.max_changed_lines:,} (--max-changed-lines)"
        )
    at_stake = summary["money"]["at_stake_charges"]
    if args.max_at_stake is not None and at_stake > args.max_at_stake:
        crossed.append(
            f"${at_stake:,.2f} of billed charges change status, more than ${args.max_at_stake:,.2f} (--max-at-stake)"
        )
    for said in crossed:
        print(f"payerpolicy: gate crossed: {said}", file=sys.stderr)
    return 1 if crossed else 0


COMMAND = Command(
    "diff",
    "what a policy change does to claims: lines newly denied or passed, by rule, money at stake",
    (
        "payerpolicy diff medicare my-edit/medicare claims.jsonl",
        "payerpolicy diff acme-health next-quarter/acme-health q3.jsonl --policies my-payers --jobs 2",
        "payerpolicy diff --base origin/main policies/acme-health q3.837 --format markdown",
        "payerpolicy diff --base HEAD~1 policies/acme-health claims.json --fail-on-newly-denied",
    ),
    run,
    options=(
        option(
            "given",
            nargs="+",
            metavar="OLD NEW CLAIMS",
            help="the old and new policy (a payer's name, a policy folder or file), then claim "
            "files (- reads standard input); with --base, only NEW and the claim files",
        ),
        arguments.policies_option(as_for=", as for check"),
        option(
            "--base",
            metavar="REV",
            help="the old policy is NEW's folder as it was at this git revision (read with git show, "
            "nothing checked out): diff a pull request against its base",
        ),
        option(
            "--format",
            choices=IMPACT_FORMATS,
            default="json",
            help="json (the impact contract, default), text (for people: summary first), csv (one row "
            "per changed line), markdown (short, for a pull-request comment)",
        ),
        option(
            "--show",
            type=arguments.count,
            metavar="N",
            help="changed lines shown by text and markdown (default 50 and 20); the rest are counted",
        ),
        # How the claims are read and judged: as `check` takes it, for both policies alike.
        arguments.input_format_option(INPUT_FORMATS),
        arguments.date_option("--as-of", "load both policies as they were known on that date (default: today)"),
        arguments.date_option("--received", "the date the payer receives the claims (default today), as for check"),
        option(
            "--history",
            metavar="FILE",
            help="a claim history (SQLite) whose claims count for rules over the patient's year; each "
            "policy gets its own private copy, and the file is never written",
        ),
        arguments.window_option(DEFAULT_WINDOW, f"the judging window, as for check (default {DEFAULT_WINDOW:,})"),
        arguments.jobs_option(
            "judge on N processes, each taking a share of the patients; the output is the same as with one (default 1)",
        ),
        option("--different-payers", action="store_true", help="allow OLD and NEW to be policies of different payers"),
        Headed(
            "gates for CI (exit status 1 when one is crossed)",
            (
                option("--fail-on-change", action="store_true", help="any line decided differently"),
                option("--fail-on-newly-denied", action="store_true", help="any line newly denied"),
                option(
                    "--max-changed-lines",
                    type=arguments.count,
                    metavar="N",
                    help="more than N lines decided differently",
                ),
                option(
                    "--max-at-stake",
                    type=_dollars,
                    metavar="DOLLARS",
                    help="more than DOLLARS of billed charges on lines whose status changes",
                ),
            ),
        ),
    ),
    settings=dict(
        usage="payerpolicy diff OLD NEW CLAIMS... | payerpolicy diff --base REV NEW CLAIMS... [options]",
        description="Judge the same claims by two policies, each exactly as `payerpolicy check --policy` would, "
        "and report every line decided differently: newly denied, newly passed, denied for another "
        "reason, units or fixes changed; totals by kind and by rule; the billed charges (and, with a "
        "fee schedule, allowed amounts) at stake; and which rules and table rows differ.",
    ),
)
