"""The judging window: which claims a claim is judged together with, in one algorithm for every run.

Claims of one patient and date of service that stand within `window` claims of each other in the input are
judged together (a claim always sees every earlier claim of its day), and at most about `window` claims are
held at once. A run in one process numbers the claims 0, 1, 2 ...; a worker process of a parallel run
(parallel) gets only its patients' claims, with their positions in the whole input, and is told how far
the whole input has been read, so that it decides each claim in exactly the state one process would.
"""
from __future__ import annotations

import collections
from typing import Callable, Iterable, Iterator

from payerpolicy.decision import Decision
from payerpolicy.judge.judge import Judge

__all__ = ["WindowedJudging", "judge_in_order"]




class WindowedJudging:
    """The window over claims that carry their position in the whole input.

    A claim at position p is decided with the day book holding exactly the claims at positions
    p - window ... p + window (of the patients given here), and after every claim before it: the state
    `judge_in_order` has when it decides p. Positions must increase; gaps (other workers' claims) are fine.
    Decisions go to `decided` as (position, decision), in position order.

    `add(position, record, judge)`: a claim read (judge: its policy's `Judge`, or the `Decision` of a claim
    that cannot be judged). `advance(frontier)`: the whole input has been read up to `frontier`. `finish()`:
    the input is over. With positions 0, 1, 2 ... and `advance` never called, this is `judge_in_order`.
    """

    def __init__(self, window: int):
        if window < 0:
            raise ValueError("window must be 0 or more")
        self.window = window
        self.pending: collections.deque = collections.deque()  # (position, record, judge, views): filed
        self.judged: collections.deque = collections.deque()  # (position, judge, views): still in the book
        self.decided: list[tuple[int, Decision]] = []
        # What was being done when an exception came: ("decide", p) or ("file", q); see `limit_after_error`.
        self.doing: tuple[str, int] | None = None

    def add(self, position: int, record, judge) -> None:
        # One process decides claim p right after filing p + window, so before filing this one it has
        # decided every claim more than `window` before it, and none after.
        self.advance(position - 1)
        self.doing = ("file", position)
        views = judge.file(record) if isinstance(judge, Judge) else None
        self.pending.append((position, record, judge, views))
        self.doing = None

    def advance(self, frontier: int) -> None:
        while self.pending and self.pending[0][0] + self.window <= frontier:
            self.decide_next()

    def finish(self) -> None:
        while self.pending:
            self.decide_next()
        for _, judge, views in self.judged:  # the run is over: leave the judges' day books as they were
            if isinstance(judge, Judge):
                judge.forget(views)
        self.judged.clear()

    def decide_next(self) -> None:
        """Decide the first claim filed and not yet decided."""
        position, record, judge, views = self.pending[0]
        self.doing = ("decide", position)
        # Claims more than `window` before this one are out of its sight: one process has forgotten them
        # by now (it forgets claim e right after deciding e + window).
        while self.judged and self.judged[0][0] < position - self.window:
            _, old_judge, old_views = self.judged.popleft()
            if isinstance(old_judge, Judge):
                old_judge.forget(old_views)
        decision = judge.decide(record, views) if isinstance(judge, Judge) else judge
        self.pending.popleft()
        self.judged.append((position, judge, views))
        self.decided.append((position, decision))
        self.doing = None

    def limit_after_error(self) -> int:
        """After an exception: how many decisions (positions 0 .. n-1) one process would have given out
        before raising it. Deciding p fails after every claim before p is out; filing q fails before claims
        q - window and later are decided."""
        what, position = self.doing or ("decide", 0)
        return position if what == "decide" else max(position - self.window, 0)


def judge_in_order(records: Iterable, judge_for: Callable, window: int) -> Iterator[Decision]:
    """Decisions for a stream of claims, in input order, each claim judged with the `window` claims before
    and after it in the day book. `judge_for(record)` gives the `Judge` of the claim's policy, or a
    `Decision` when the claim cannot be judged at all (no policy for its payer)."""
    judging = WindowedJudging(window)
    pending, decided = judging.pending, judging.decided
    # `add` and `advance` with positions 0, 1, 2 ..., unrolled: this is every serial run's inner loop.
    for position, record in enumerate(records):
        judge = judge_for(record)
        pending.append((position, record, judge, judge.file(record) if isinstance(judge, Judge) else None))
        if position >= window:  # the claim `window` back now has its whole window filed
            judging.decide_next()
            yield decided.pop()[1]
    judging.finish()
    yield from (decision for _, decision in decided)
