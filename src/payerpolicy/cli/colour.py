"""Whether the text report is coloured: only on a terminal, and never when NO_COLOR is set.

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
