"""`payerpolicy units`: the units a patient-day's treatment minutes bill, and every split the rule allows."""

from __future__ import annotations

import argparse
import json
import re
import sys

from payerpolicy import UnitsError, day_report
from payerpolicy.cli.help import Command, option

# A period of treatment as the command line writes it: 09:00-09:24.
_PERIOD = re.compile(r"^\s*([0-9]{1,2}:[0-9]{2})\s*-\s*([0-9]{1,2}:[0-9]{2})\s*$")


def _units_option_value(tokens: list[str], i: int, token: str, option: str, choices: str) -> tuple[str, int]:
    """The value of `--option VALUE` or `--option=VALUE` at tokens[i - 1], and where reading goes on."""
    if token != option:
        return token.removeprefix(option + "="), i
    if i == len(tokens):
        raise UnitsError(f"{option} needs a value: {choices}")
    return tokens[i], i + 1


def run(args) -> int:
    # argparse reads options only before the first CODE=MINUTES; the rest are read here, so `--method` and
    # `--untimed` may come anywhere, and codes after `--untimed` that carry minutes are still timed input.
    tokens = (["--untimed", *args.untimed] if args.untimed else []) + args.given
    method, form = args.method, args.format
    untimed: list[str] = []
    given: dict[str, list] = {}
    after_untimed = False
    try:
        i = 0
        while i < len(tokens):
            token = tokens[i]
            i += 1
            if token in ("-h", "--help"):
                args.units_parser.print_help()
                args.units_parser.exit()
            elif token == "--method" or token.startswith("--method="):
                method, i = _units_option_value(tokens, i, token, "--method", "cms or ama")
                after_untimed = False
            elif token == "--format" or token.startswith("--format="):
                form, i = _units_option_value(tokens, i, token, "--format", "json or text")
                after_untimed = False
            elif token == "--untimed":
                after_untimed = True
            elif token.startswith("--untimed="):
                untimed += token.removeprefix("--untimed=").split(",")
            elif token.startswith("-"):
                raise UnitsError(f"unknown option {token}; the options are --method, --format and --untimed")
            elif "=" in token:
                code, pieces = parse_assignment(token)
                given.setdefault(code, []).extend(pieces)
            elif after_untimed:
                untimed += token.split(",")
            else:
                raise UnitsError(
                    f"{token!r} has no minutes: write CODE=MINUTES, such as 97112=24, or name an "
                    "untimed code after --untimed"
                )
        for code in untimed:
            given.setdefault(code.strip(), [])
        if not given:
            raise UnitsError("no codes given: write CODE=MINUTES, such as payerpolicy units 97112=24 97110=23")
        if form not in ("json", "text"):
            raise UnitsError(f"unknown format `{form}`: use json or text")
        report = day_report(given, method, untimed=[code.strip() for code in untimed])
    except UnitsError as exc:
        print(f"payerpolicy: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report) if form == "json" else _units_text(report))
    return 0


def _units_text(report: dict) -> str:
    """`payerpolicy units --format text`: the day's units, then every split the rule allows."""

    def split(units: dict) -> str:
        return ", ".join(f"{code} x{n}" for code, n in units.items())

    out = [
        f"{split(report['units'])}: {report['total_units']} unit{'' if report['total_units'] == 1 else 's'} "
        f"from {report['total_minutes']} timed minutes ({report['method']})"
    ]
    if report["choice"] is None:
        out.append("this is the only split the rule allows")
    else:
        count = report["split_count"]
        out.append(f"{count} splits are allowed: {report['choice']}")
        out += [f"  {split(units)}" for units in report["splits"]]
        if count > len(report["splits"]):
            out.append(f"  ... and {count - len(report['splits'])} more")
    return "\n".join(out)


def parse_assignment(text: str) -> tuple[str, list[int | str]]:
    """A command-line CODE=MINUTES: MINUTES is `24`, `20+25` (periods that add up) or times `09:00-09:24`
    (several joined by `+` or `,`), mixed if wanted. Returns the code and the pieces (numbers and "HH:MM-HH:MM"
    periods), ready for `payerpolicy.units`."""
    code, equals, minutes = text.partition("=")
    if not equals or not code.strip():
        raise UnitsError(f"{text!r} is not CODE=MINUTES, such as 97112=24")
    pieces: list[int | str] = []
    for piece in re.split(r"[+,]", minutes):
        piece = piece.strip()
        if piece.isdigit():
            pieces.append(int(piece))
        elif _PERIOD.match(piece):
            pieces.append(piece)
        else:
            what = f"{piece!r} is not minutes" if piece else "minutes are missing"
            raise UnitsError(
                f"{text}: {what}; write minutes as 24, periods that add up as 20+25, or times "
                "as 09:00-09:24 (several joined with + or ,)"
            )
    return code.strip(), pieces


COMMAND = Command(
    "units",
    "the units a day's treatment minutes bill",
    (
        "payerpolicy units 97112=24 97110=23",
        "payerpolicy units --method ama --format text 97140=20+10",
        "payerpolicy units 97110=09:00-09:24 97010=10 --untimed 97010",
    ),
    run,
    options=(
        option(
            "--method",
            default="cms",
            metavar="cms|ama",
            help="cms: the Medicare 8-minute rule, minutes pooled (default); ama: the CPT midpoint "
            "rule, each code on its own",
        ),
        option("--format", default="json", metavar="json|text", help="json (default) or text, for people"),
        option(
            "--untimed",
            action="extend",
            nargs="+",
            default=[],
            metavar="CODE",
            help="codes (not CODE=MINUTES) to bill as untimed, 1 unit with minutes not counted, "
            "besides Medicare's untimed codes; a code named only here bills 1 unit",
        ),
        option("given", nargs=argparse.REMAINDER, metavar="CODE=MINUTES", help="a code and its minutes"),
    ),
    parser_as="units_parser",  # for `--help` given among the codes, which argparse leaves alone
    settings=dict(
        usage="payerpolicy units [--method cms|ama] [--format json|text] CODE=MINUTES... [--untimed CODE...]",
        description="The units one patient-day's minutes bill, and every split of them the rule allows, as JSON "
        "or text. MINUTES is 24, periods that add up "
        "(20+25) or times (09:00-09:24, several joined with + or ,); a code given twice adds up. "
        "Options may come anywhere among the codes.",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the description as written, not wrapped
    ),
)
