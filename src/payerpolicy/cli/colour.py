"""Whether the text report and lint's text are coloured, and how lint's are: only on a terminal, and never when NO_COLOR is set.

NO_COLOR (https://no-color.org) set to anything but the empty string turns colour off, as does TERM=dumb; a
pipe, a file or CI's log never gets escape codes, whatever the environment says.
"""

from __future__ import annotations

import os
import re

from payerpolicy.cli.progress import is_terminal


def wanted(stream) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return is_terminal(stream)


# The head line of a rendered diagnostic: `file:line:column: error[E201]: message` (diagnostics.render).
_HEAD = re.compile(r"^((?:.*?: )?)(error|warning|info)(\[[A-Z]\d+\])", re.MULTILINE)
_SEVERITY = {"error": "31;1", "warning": "33", "info": "36"}


def paint_diagnostics(text: str) -> str:
    """Lint's diagnostics with their severity word coloured (red errors, yellow warnings), the rest as is."""
    return _HEAD.sub(lambda m: f"{m[1]}\033[{_SEVERITY[m[2]]}m{m[2]}\033[0m{m[3]}", text)


def paint_verdict(text: str, ok: bool) -> str:
    """A policy's last lint line (`...: ok, 66 rules` or `...: cannot be loaded`)."""
    return f"\033[{'32' if ok else '31;1'}m{text}\033[0m"
