"""Two policies judging the same claims in step, for the impact diff: each claim is read, checked, put in
its patient's group and ordered once, and each policy decides it in turn.

`SideBySide` stands where a `Judge` stands in `judge.window.WindowedJudging` (and in a worker process of
`parallel`): `file`, `decide` and `forget` do what a judge's do, for both policies, and `decide` gives a
pair of decisions (old, new). Each policy decides exactly as it would judging the claims alone:

- Both policies' day books hold the same line views (made once), unless a policy prices lines with a fee
  schedule: pricing writes each line's allowed amount on its view, which a rule may read on the day's other
  lines, so then each policy files views of its own.
- Policies that count timed units alike (same timed codes and method) share each patient-day's split of the
  timed units (`Judge.shared_days`), worked out once per group and dropped when the group is judged.
- A run without a claim history file counts the claims of the run in one `RunHistory` for both policies,
  when what is recorded does not depend on the policy (same payer, no pricing): the old policy's judge
  records each claim, and the new one, which decides it right after, reads the same lines it would have
  recorded itself. Its lookups leave out the claim being judged, so the claim recorded a moment earlier
  is not seen. The run's history then costs the memory of one `check`, not two.
- With claim history files (`histories`: one per policy, each its own copy), each judge has its own.
"""

from __future__ import annotations

import datetime
from typing import Sequence

from payerpolicy.claims.model import Claim
from payerpolicy.decision import Decision
from payerpolicy.judge.judge import Judge, LineView
from payerpolicy.judge.history_cache import Revision
from payerpolicy.judge.run_history import RunHistory
from payerpolicy.program.compile import RuleProgram

__all__ = ["SideBySide"]


class _Filed(tuple):
    """Each policy's own views of a claim's lines (when the policies price lines)."""


class _RecordedByTheOther(RunHistory):
    """The run's history as the second judge sees it: the first judge records each claim, with the same lines
    (same views, same payer, no allowed amounts); this one only reads."""

    def __init__(self, shared: RunHistory) -> None:  # no history of its own
        self.shared = shared

    def record(self, claim, *, payer=None, views=None, allowed=None) -> None:
        pass  # recorded by the first judge, the same lines

    def lines(self, patient_id, date_from, date_to, *, exclude_claim=None, payer=None):
        return self.shared.lines(patient_id, date_from, date_to, exclude_claim=exclude_claim, payer=payer)

    def revision(self, patient_id: str, claim_id: str) -> Revision | None:  # counts carried between claims
        return self.shared.revision(patient_id, claim_id)

    def may_hold(self, patient_id: str) -> bool:
        return self.shared.may_hold(patient_id)

    def lines_after(self, patient_id, claim_id, revision, claims_seen, *, payer=None):  # dates carried, likewise
        return self.shared.lines_after(patient_id, claim_id, revision, claims_seen, payer=payer)


class SideBySide:
    """The judges of two policies (`programs`: old, new), deciding each claim in turn."""

    def __init__(
        self, programs: Sequence[RuleProgram], histories: Sequence = (None, None), received: datetime.date | None = None
    ):
        old, new = programs
        priced = old.pricing is not None or new.pricing is not None
        self.shared_views = not priced
        history = [h if h is not None and p.uses_history else None for p, h in zip(programs, histories)]
        if (
            all(h is None for h in histories)
            and not priced
            and old.uses_history
            and new.uses_history
            and old.policy.payer == new.policy.payer
        ):
            run = RunHistory()
            history = [run, _RecordedByTheOther(run)]
        self.judges = (
            Judge(old, history=history[0], received=received),
            Judge(new, history=history[1], received=received),
        )
        self.shared_days: dict | None = None
        if self.shared_views and old.timed_codes == new.timed_codes and old.timed_method == new.timed_method:
            self.shared_days = {}
            for judge in self.judges:
                judge.shared_days = self.shared_days

    def file(self, record) -> list[LineView] | _Filed | None:
        if not isinstance(record, Claim):
            return None
        old, new = self.judges
        if self.shared_views:
            return new.file(record, old.file(record))
        return _Filed((old.file(record), new.file(record)))

    def decide(self, record, lines, counts: bool = True) -> tuple[Decision, Decision]:
        old, new = self.judges
        if isinstance(lines, _Filed):
            return old.decide(record, lines[0], counts), new.decide(record, lines[1], counts)
        before = old.decide(record, lines, counts)
        if lines and not self.shared_views:
            # A claim's own lines only (a version a replacement in its group stands for): priced anew.
            for view in lines:
                view.allowed = view.fee_schedule = None
        return before, new.decide(record, lines, counts)

    def forget(self, lines) -> None:
        if isinstance(lines, _Filed):
            for judge, views in zip(self.judges, lines):
                judge.forget(views)
        else:
            for judge in self.judges:
                judge.forget(lines)
        if self.shared_days:
            # The group is judged: its views go, and with them what was worked out of them (keyed by id()).
            self.shared_days.clear()
