"""One road for judging a stream of claims, on this process or on worker processes.

`Policy.check_many` (one policy for every claim) and `Session.check_many` (each claim routed to its payer's
policy, a claim history) both take it: a claim is read, routed, ordered and judged the same way whichever
door it came in by, and a change to how runs work is made here once.

What differs between the two doors is the `Routing`: which judge a claim goes to, and which policy a worker
judges it with.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Iterator, Protocol

from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.claims.model import Claim, ClaimRecord, UnreadableClaim
from payerpolicy.decision import Decision
from payerpolicy.judge.history import ClaimHistory
from payerpolicy.judge.memory_history import MemoryHistory
from payerpolicy.judge.judge import Judge
from payerpolicy.judge.window import judge_in_order
from payerpolicy.parallel import PolicySource, Route, judge_in_parallel, patient_key_of

__all__ = ["Routing", "as_record", "judge_claims"]


class Routing(Protocol):
    """Where each claim of a run goes."""

    def judge_for(self, record: ClaimRecord) -> Judge | Decision:
        """The judge of the claim's policy, or an error decision when no policy serves its payer."""

    def source_for(self, record: Claim) -> PolicySource:
        """The policy a worker judges this claim with (called after `judge_for` gave a judge)."""

    @property
    def only_source(self) -> PolicySource | None:
        """The one policy of every claim, when there is one: a claim in JSON form then goes to a worker
        unread, and is read on the worker's core."""


def as_record(claim: object) -> ClaimRecord:
    """A claim as the judge takes it: a claim JSON dict is read (an unreadable one becomes its error record)."""
    if isinstance(claim, (Claim, UnreadableClaim)):
        return claim
    if isinstance(claim, dict):
        return claim_from_dict(claim)
    raise TypeError(f"a claim is a dict in the claim JSON form or a payerpolicy Claim, not {type(claim).__name__}")


def judge_claims(
    claims: Iterable[dict[str, Any] | ClaimRecord],
    routing: Routing,
    *,
    window: int,
    workers: int = 1,
    history: ClaimHistory | MemoryHistory | None = None,
    start_method: str | None = None,
) -> Iterator[Decision]:
    """One decision per claim, in input order, streamed: a patient's claims read within `window` claims of
    each other are judged together (judge.window). `workers` > 1 judges on that many processes, split by
    patient, with the same decisions. `history`: the run's claim history, if any (decisions are given out
    once written to it; each worker opens it itself)."""
    if workers < 1:
        raise ValueError("workers must be 1 or more")
    if workers == 1:
        decisions = judge_in_order((as_record(c) for c in claims), routing.judge_for, window)
        return history.written_first(decisions) if history is not None else decisions
    only = routing.only_source

    def prepare(claim: object) -> Decision | Route:
        if only is not None and isinstance(claim, dict):
            patient = patient_key_of(claim)
            if patient is not None:
                return Route(patient, only, claim)  # read on the worker's core
        record = as_record(claim)
        target = routing.judge_for(record)
        if isinstance(target, Decision):  # no policy for its payer
            return target
        if not isinstance(record, Claim):  # unreadable: decided without context, here
            return target.decide(record, None)
        return Route(record.patient_id, routing.source_for(record), record)

    if isinstance(history, MemoryHistory):
        raise ValueError("a history in memory is one process's: judge with workers=1, or give a history file")
    # ":memory:" gives each worker its own history, which is the same for its own patients.
    shared = None
    if history is not None:
        shared = history.path if history.path == ":memory:" else os.path.abspath(history.path)
    return judge_in_parallel(
        claims, prepare, window=window, workers=workers, history_path=shared, start_method=start_method
    )
