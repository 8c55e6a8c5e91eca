"""The progress line of a long `check`: only where asked for, redrawn sparingly, cleared at the end."""

from __future__ import annotations

import io

from payerpolicy.cli.progress import Progress


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_counts_claims_and_rate_and_clears_its_line():
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, enabled=True, clock=clock)
    for _ in range(640):
        clock.now += 0.01  # 100 claims a second
        progress.tick()
    shown = out.getvalue()
    assert shown.startswith("\r") and "640 claims judged, 100 claims/s, 0:00:06" in shown
    assert shown.count("\r") <= 10  # redrawn at most twice a second, not once per claim
    progress.finish()
    assert out.getvalue().endswith("\r\033[K")


def test_nothing_is_shown_for_a_short_run_or_when_off():
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, enabled=True, clock=clock)
    for _ in range(200):
        clock.now += 0.001
        progress.tick()
    progress.finish()
    assert out.getvalue() == ""
    quiet = Progress(io.StringIO(), enabled=False, clock=clock)
    for _ in range(10_000):
        clock.now += 0.01
        quiet.tick()
    quiet.finish()
    assert quiet.stream.getvalue() == ""


def test_not_a_terminal_means_no_progress():
    assert Progress(io.StringIO()).enabled is False  # a file, a pipe or CI's log
