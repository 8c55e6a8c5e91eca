"""The judging window: which claims a claim is judged together with, in one algorithm for every run.

The rule (README, "Which claims are judged together"): a claim's decision depends on its patient's claims
(and the claim history), never on where it stands in the input.

- A patient's claims are gathered into a *group*, which starts at the patient's first claim not yet judged
  and takes every claim of the patient read in the `window` claims after it. When the input has been read
  `window` claims past the group's first claim (or is over), the group is judged, all together.
- Within a group, claims are judged in date-of-service order: by the claim's first date of service, then
  claim id, then frequency (an original before its replacement before its void), then the claim's content:
  never by input position. Every claim of the group is in the day book while the group is judged, so a
  claim sees every line of its patient-days in the group, in that order ("earlier that day" is earlier in
  it), and the patient's year as judged before it (the history: earlier groups, earlier runs).
- A replacement (7) or void (8) in a group stands for its claim id: the other versions in the group are
  judged alone on their own lines and count for no other claim.
- A claim of the patient read more than `window` claims after the group's first starts a new group, which
  sees the earlier groups as it sees an earlier run: through the claim history (the run's own when none is
  given), for policies that count over the year or the record.

So, within a patient's `window`, the same claims in any order give the same decisions, claim by claim; a
file no longer than the window (10,000 claims by default) is judged the same in every order. At most about
`window` claims are held at once. Groups start and end by position in the WHOLE input, so a worker process
(parallel), which gets only its patients' claims with their positions and is told how far the whole input
has been read, forms exactly the groups one process forms.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

from payerpolicy.claims.model import Claim
from payerpolicy.decision import Decision
from payerpolicy._internal_error import NOT_A_BUG
from payerpolicy.judge.failure import failed_decision
from payerpolicy.judge.judge import Judge, line_view

__all__ = ["WindowedJudging", "days_apart", "judge_in_order", "judging_order"]

# A replacement is judged after the claim it replaces, a void after both (claim frequency codes).
_FREQUENCY_RANK = {"7": 1, "8": 2}


class _Content:
    """The last tie-break of the judging order: the claim's whole content (its repr, made only when two
    claims of a patient share first date, id and frequency), so that not even identical keys fall back on
    input position."""

    __slots__ = ("claim", "_text")

    def __init__(self, claim: Claim):
        self.claim = claim
        self._text: str | None = None

    def text(self) -> str:
        if self._text is None:
            self._text = repr(self.claim)
        return self._text

    def __lt__(self, other: "_Content") -> bool:
        return self.text() < other.text()

    def __eq__(self, other) -> bool:
        return isinstance(other, _Content) and self.text() == other.text()

    __hash__ = None  # type: ignore[assignment]


def judging_order(claim: Claim) -> tuple:
    """The key claims of one patient are judged in: first date of service, claim id, frequency, content."""
    first = min(line.date_of_service for line in claim.lines)
    return (first, claim.id, _FREQUENCY_RANK.get(claim.frequency or "", 0), _Content(claim))


class _Group:
    """A patient's claims read since the first of them not yet judged: (position, claim, judge)."""

    __slots__ = ("first", "claims")

    def __init__(self, first: int):
        self.first = first
        self.claims: list[tuple[int, Claim, Judge]] = []


class WindowedJudging:
    """The groups of claims that carry their position in the whole input.

    `add(position, record, judge)`: a claim read (judge: its policy's `Judge`, or the `Decision` of a claim
    that cannot be judged). `advance(frontier)`: the whole input has been read up to position `frontier`.
    `finish()`: the input is over. Decisions go to `decided` as (position, decision), in the order they are
    made (not input order). Positions must increase; gaps (other workers' claims) are fine.
    """

    def __init__(self, window: int):
        if window < 0:
            raise ValueError("window must be 0 or more")
        self.window = window
        self.groups: dict[str, _Group] = {}  # by patient, oldest first
        # The input position at which the oldest group is due (its first + window); None with no group. Kept
        # as groups come and go, so that the two calls of `advance` per claim read one number.
        self.due: int | None = None
        self.decided: list[tuple[int, Decision]] = []
        self.judging: _Group | None = None  # the group being judged, for `limit_after_error`
        # Set once the input is over: no claim comes after a group's last, so the judge is told it is the
        # patient's last of the run (`Judge.decide_alone`).
        self.input_over = False

    def add(self, position: int, record, judge) -> None:
        # Groups due before this claim was read are judged first: it must not join them.
        self.advance(position - 1)
        if isinstance(judge, Decision):  # no policy for its payer: decided without context
            self.decided.append((position, judge))
        elif not isinstance(record, Claim):  # unreadable: its error, without context
            self.decided.append((position, judge.decide(record, None)))
        else:
            group = self.groups.get(record.patient_id)
            if group is None:
                group = self.groups[record.patient_id] = _Group(position)
                if self.due is None:
                    self.due = position + self.window
            group.claims.append((position, record, judge))

    def advance(self, frontier: int) -> None:
        while self.due is not None and self.due <= frontier:
            self.judge_next()

    def finish(self) -> None:
        self.input_over = True
        while self.groups:
            self.judge_next()

    def judge_next(self) -> None:
        """Judge the oldest group: its claims in judging order, each on its own or all in the day book."""
        patient = next(iter(self.groups))
        group = self.judging = self.groups[patient]
        entries = group.claims
        # Most groups are a patient's only claim in the window; nearly all the rest are claims of the patient
        # on days of their own (`days_apart`). No claim of those has a line on another's patient-day, so
        # each, in judging order, is judged as a claim on its own (`Judge.decide_alone`), no filing: the
        # history gives it the claims judged before it (earlier groups, and earlier claims of this one), as
        # the day book's road does (that road reads the year from the history too, never from the day book).
        alone = len(entries) == 1 and isinstance(entries[0][2], Judge)
        if not alone:
            entries = sorted(entries, key=lambda entry: judging_order(entry[1]))
            alone = days_apart(entries)
        if alone:
            last = len(entries) - 1 if self.input_over else -1
            for index, (position, claim, judge) in enumerate(entries):
                try:
                    decision = judge.decide_alone(claim, index == last)
                except NOT_A_BUG:
                    raise
                except Exception as exc:  # a bug met on this claim: it is reported, the run goes on
                    decision = failed_decision(claim.id, judge.policy_label, exc)
                self.decided.append((position, decision))
        else:
            self._judge_together(entries)
        del self.groups[patient]
        self.due = next(iter(self.groups.values())).first + self.window if self.groups else None
        self.judging = None

    def _judge_together(self, entries: list) -> None:
        """A group's claims (in judging order) of which some share a patient-day: every claim filed in the
        day book, then each decided, then all taken out."""
        superseded = _superseded(entries)
        filed: list = []  # each claim's line views, as filed (None: nothing to file)
        failed: dict[int, Decision] = {}  # by id(claim): the claims payerpolicy failed on
        for _, claim, judge in entries:
            try:
                if id(claim) in superseded:
                    filed.append([line_view(claim, line) for line in claim.lines])  # its own lines only
                else:
                    filed.append(judge.file(claim))
            except NOT_A_BUG:
                raise
            except Exception as exc:  # a bug met on this claim: it is reported, the others judged
                filed.append(None)
                failed[id(claim)] = failed_decision(claim.id, judge.policy_label, exc)
        try:
            for (position, claim, judge), views in zip(entries, filed):
                decision = failed.get(id(claim))
                if decision is None:
                    try:
                        decision = judge.decide(claim, views, counts=id(claim) not in superseded)
                    except NOT_A_BUG:
                        raise
                    except Exception as exc:
                        decision = failed_decision(claim.id, judge.policy_label, exc)
                self.decided.append((position, decision))
        finally:
            for (_, claim, judge), views in zip(entries, filed):
                if id(claim) not in superseded:
                    judge.forget(views)

    def limit_after_error(self) -> int:
        """After an exception while judging: how many decisions (positions 0 .. n-1) one process gives out
        before raising it. One process gives out position p once the input is read to p + window, and
        judges a group when the input is read to its first + window: every position before the group's
        first, and none from it on."""
        return self.judging.first if self.judging is not None else 0


def days_apart(entries) -> bool:
    """Whether a group's claims (`(position, claim, judge)`, in judging order) may each be judged on its own:
    every one judged by a `Judge` (not side by side), no two with a line on the same date of service (a
    patient-day), no two of one claim id (so no replacement or void stands for another, and no claim is
    recorded over another of the group)."""
    days: set = set()
    ids: set = set()
    for _, claim, judge in entries:
        if not isinstance(judge, Judge) or claim.id in ids:
            return False
        ids.add(claim.id)
        own = {line.date_of_service for line in claim.lines}
        if not days.isdisjoint(own):
            return False
        days |= own
    return True


def _superseded(entries) -> set[int]:
    """The claims (by id()) of a group that a replacement or void of their claim id in the group stands for:
    of the versions of a claim id, the one of highest frequency rank (a void over a replacement over an
    original), the last in judging order among equals, when any version is a replacement or void."""
    versions: dict[str, list[Claim]] = {}
    for _, claim, _ in entries:
        versions.setdefault(claim.id, []).append(claim)
    out: set[int] = set()
    for claims in versions.values():
        if len(claims) < 2 or not any(c.frequency in _FREQUENCY_RANK for c in claims):
            continue
        standing = max(reversed(claims), key=lambda c: _FREQUENCY_RANK.get(c.frequency or "", 0))
        out.update(id(c) for c in claims if c is not standing)
    return out


def judge_in_order(records: Iterable, judge_for: Callable, window: int) -> Iterator[Decision]:
    """Decisions for a stream of claims, in input order, each claim judged in its patient's group (see the
    module's doc). `judge_for(record)` gives the `Judge` of the claim's policy, or a `Decision` when the
    claim cannot be judged at all (no policy for its payer). A decision is given out once the input is read
    `window` claims past it, so that what one process has given out before an error depends on positions
    only (worker processes give out the same)."""
    judging = WindowedJudging(window)
    decided = judging.decided
    ready: dict[int, Decision] = {}
    next_out = 0
    for position, record in enumerate(records):
        judging.add(position, record, judge_for(record))
        judging.advance(position)
        if decided:
            ready.update(decided)
            decided.clear()
        while next_out + window <= position:
            yield ready.pop(next_out)
            next_out += 1
    judging.input_over = True
    while True:  # the input is over: each group in turn, giving out what is ready after each
        while next_out in ready:
            yield ready.pop(next_out)
            next_out += 1
        if not judging.groups:
            break
        judging.judge_next()
        ready.update(decided)
        decided.clear()
    assert not ready, "a decision was made for a position that was never read"
