"""The kinds of value the commands' options take, each refused in words when it is not one."""

from __future__ import annotations

import argparse
import datetime
import sys
from typing import Callable

from payerpolicy.cli.help import Option, option


def date_value(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date written YYYY-MM-DD, not {text!r}") from None


def count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number of 0 or more, not {text!r}")
    return int(text)


def jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, not {text!r}")
    return int(text)


# The options several commands share, each declared once: the same name, type, default and metavar wherever
# it is taken. Their help says what the option does for that command, so it is given by the command.


def policies_option(as_for: str = "") -> Option:
    return option(
        "--policies",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of your own payers' policy folders (or one policy folder), searched by "
        f"payer name before the shipped ones{as_for}; may be given more than once",
    )


def input_format_option(formats: tuple[str, ...]) -> Option:
    return option(
        "--input-format",
        choices=("auto",) + formats,
        default="auto",
        help="what the claim files hold (default: told from their content)",
    )


def date_option(flag: str, help: str) -> Option:
    return option(flag, type=date_value, metavar="YYYY-MM-DD", help=help)


def window_option(default: int, help: str) -> Option:
    return option("--window", type=count, default=default, metavar="N", help=help)


def jobs_option(help: str) -> Option:
    return option("--jobs", type=jobs, default=1, metavar="N", help=help)


def missing(paths: list[str], what: str, exists: Callable[[str], bool]) -> bool:
    """Whether any of `paths` is missing, each said on standard error (`payerpolicy: no such file: PATH`)."""
    gone = [path for path in paths if not exists(path)]
    for path in gone:
        print(f"payerpolicy: no such {what}: {path}", file=sys.stderr)
    return bool(gone)
