"""A claim payerpolicy itself failed on while judging it: reported as that claim's result, so one bug ends no run.

A clearinghouse judges a million claims in a run. A claim that meets a bug in payerpolicy (a value a rule's
code did not foresee) used to end the run after the decisions before it. Now the claim gets a result of its
own, status `error`, which says the fault is payerpolicy's, not the claim's, and the run goes on: every input
claim still gets exactly one result (`judge.window` asks for it; `payerpolicy._internal_error` says what counts
as a bug and where it was met).
"""

from __future__ import annotations

from payerpolicy._internal_error import FIELD, REPORT, where_it_failed
from payerpolicy.decision import Decision

__all__ = ["failed_decision"]


def failed_decision(
    claim_id: str | None, policy: dict | None, exc: Exception, where: str = "", doing: str = "judging this claim"
) -> Decision:
    """The result of a claim that payerpolicy failed on while `doing` (judging it, writing out its decision)."""
    message = (
        f"payerpolicy failed while {doing} ({where_it_failed(exc)}). This is a bug in payerpolicy, not a "
        f"fault of the claim; the run went on without its decision: {REPORT}"
    )
    return Decision(claim_id, policy, "error", errors=({"field": FIELD, "message": message},), where=where)
