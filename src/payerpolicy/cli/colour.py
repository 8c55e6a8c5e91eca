"""Whether the text report and lint's text are coloured (only on a terminal, never when NO_COLOR is set), and
lint's verdict line. The words themselves are coloured where they are written: the decisions' status words by
`render.text`, the diagnostics' severity words by `diagnostics.render`.

NO_COLOR (https://no-color.org) set to anything but the empty string turns colour off, as does TERM=dumb; a
pipe, a file or CI's log never gets escape codes, whatever the environment says.
"""

from __future__ import annotations

import os

from payerpolicy.cli.progress import is_terminal


def wanted(stream) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return is_terminal(stream)


def paint_verdict(text: str, ok: bool) -> str:
    """A policy's last lint line (`...: ok, 66 rules` or `...: cannot be loaded`)."""
    return f"\033[{'32' if ok else '31;1'}m{text}\033[0m"
