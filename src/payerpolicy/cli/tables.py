"""`payerpolicy tables import KIND FILE...`: turn CMS's published reference files into a policy's tables.

Exit status: 0 imported; 1 a row is bad (every bad row is listed with its file and line, and nothing is
written); 2 bad arguments or a file that cannot be read or written.
"""

from __future__ import annotations

from payerpolicy.cli import arguments
from payerpolicy.cli.help import Command, option

import sys
from pathlib import Path

from payerpolicy import TABLE_KINDS, TableImportError, import_table

_WHAT = {
    "ptp": ("code pair edit", "code pair edits"),
    "mue": ("MUE value", "MUE values"),
    "rvu": ("fee schedule row", "fee schedule rows"),
    "fees": ("fee amount", "fee amounts"),
}


_EXAMPLES = (
    "payerpolicy tables import mue MCR_MUE_PractitionerServices_Eff_10-01-2026.csv --quarter 2026Q4 \\",
    "    --out policies/acme-health/reference/mue-2026q4.csv",
    "payerpolicy tables import ptp ccipra-v324r0-f1.TXT ccipra-v324r0-f2.TXT --quarter 2026Q4 --out ptp.csv",
)


def run(args) -> int:
    if arguments.missing(args.files, "file", lambda f: Path(f).is_file()):
        return 2
    try:
        result = import_table(
            args.kind,
            [Path(f) for f in args.files],
            args.quarter,
            Path(args.out),
            args.effective_from,
            args.effective_to,
        )
    except TableImportError as problem:
        print(problem.render(), file=sys.stderr)
        print(
            f"payerpolicy: nothing was written to {args.out}: correct the rows above and import again", file=sys.stderr
        )
        return 1
    except ValueError as problem:
        print(f"payerpolicy: {problem}", file=sys.stderr)
        return 2
    except OSError as problem:
        print(f"payerpolicy: {problem.filename or args.out}: {problem.strerror}", file=sys.stderr)
        return 2
    skipped = f"; {result.skipped:,} not applied (indicator 9) left out" if result.skipped else ""
    # PTP edits carry their own effective and deletion dates; the other tables apply to the quarter's dates.
    dates = (
        "each edit with its own dates"
        if result.kind == "ptp"
        else f"dates of service {result.effective_from} to {result.effective_to}"
    )
    print(
        f"{result.rows:,} {_WHAT[result.kind][result.rows != 1]} from {len(result.files)} file{'s' if len(result.files) > 1 else ''} "
        f"({result.quarter}, {dates}) written to {result.out}{skipped}"
    )
    return 0


COMMAND = Command(
    "tables",
    "reference tables from CMS's published files",
    _EXAMPLES,
    run,
    subcommands=(
        Command(
            "import",
            "read CMS's published files of one kind and write the policy's table",
            _EXAMPLES,
            options=(
                option(
                    "kind",
                    choices=TABLE_KINDS,
                    help="ptp: NCCI practitioner PTP edit files (tab-separated; several a quarter are merged); "
                    "mue: practitioner services MUE file (CSV); rvu: physician fee schedule RVU file "
                    "(CSV, status codes); fees: payment amount file (CSV)",
                ),
                option("files", nargs="+", metavar="FILE", help="the CMS files, unzipped"),
                option(
                    "--quarter",
                    required=True,
                    metavar="YYYYQn",
                    help="the quarter the files are for (2026Q4): the table applies to dates of service in it",
                ),
                option("--out", required=True, metavar="PATH", help="the table file to write (replaced whole)"),
                arguments.date_option(
                    "--effective-from", "first date of service the table applies to (default: the quarter's first day)"
                ),
                arguments.date_option(
                    "--effective-to", "last date of service the table applies to (default: the quarter's last day)"
                ),
            ),
            settings=dict(
                description="Read CMS files in their published layout, check every row, and write the table a "
                "policy names. A bad row is reported with its file and line; then nothing is written.",
            ),
        ),
    ),
    chosen_as="tables_command",
    settings=dict(
        description="Work with the reference tables a policy names (NCCI PTP, MUE, "
        "fee schedule RVU and payment amounts).",
    ),
)
