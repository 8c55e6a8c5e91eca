"""Progress of a long `check` on standard error: claims judged, claims per second, time taken.

Shown only when standard error is a terminal and the decisions go elsewhere (`check big.jsonl > out.json`: a
progress line between decisions on one screen would garble them), never in a pipe, a log file or CI, and not
with --quiet;
redrawn at most twice a second, so that it costs nothing next to judging; the line is cleared at the end so
that what the run prints afterwards (the summary, an error) starts clean. It says nothing about any claim.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    EVERY = 0.5  # seconds between redraws
    AFTER = 1.0  # nothing is shown for a run shorter than this

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None, clock=time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled if enabled is not None else (is_terminal(self.stream) and not is_terminal(sys.stdout))
        self.clock = clock
        self.start = self.last = clock()
        self.count = 0
        self.shown = False

    def tick(self) -> None:
        """One more claim judged."""
        self.count += 1
        if not self.enabled or self.count & 63:  # the clock is read every 64 claims only
            return
        now = self.clock()
        if now - self.last >= self.EVERY and now - self.start >= self.AFTER:
            self.last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = now - self.start
        rate = self.count / elapsed if elapsed > 0 else 0.0
        minutes, seconds = divmod(int(elapsed), 60)
        self.stream.write(
            f"\r{self.count:,} claims judged, {rate:,.0f} claims/s, "
            f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}\033[K"
        )
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
