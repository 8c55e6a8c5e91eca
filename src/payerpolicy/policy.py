"""`Policy`: a loaded, compiled policy, and the library's way to judge claims with it."""
from __future__ import annotations

import datetime
from typing import Iterable, Iterator

from .claim_model import Claim, ClaimRecord, UnreadableClaim
from .claim_read import claim_from_dict
from .decision import Decision
from .evaluate import Judge, judge_in_order

# How many claims after a claim are read before it is judged: claims of one visit sent a little apart in
# the input are still judged together.
DEFAULT_WINDOW = 10_000
from .program_compile import RuleProgram


class Policy:
    def __init__(self, program: RuleProgram, warnings=(), *, source=None, as_of=None, cwd=None):
        self.program = program
        self.warnings = list(warnings)
        # What it was loaded from (set by `payerpolicy.load`): worker processes load it again from there,
        # since a compiled program does not pickle. `as_of` is the date it was known on; `cwd` the working
        # folder, against which a relative source and the file names findings cite are read.
        self.source, self.as_of, self.cwd = source, as_of, cwd
        spec = program.policy
        self.payer, self.name, self.version = spec.payer, spec.name, spec.version
        self.fictional = spec.fictional

    def __repr__(self) -> str:
        return f"<Policy {self.payer} {self.version}: {self.program.rule_count} rules>"

    def check(self, claim: dict | ClaimRecord, received: datetime.date | None = None) -> Decision:
        """Judge one claim on its own (its lines still form days together). `received`: the date the payer
        receives it (`claim.received` in rules; a claim does not carry it), by default today."""
        judge, record = Judge(self.program, remember=False, received=received), _as_record(claim)
        return judge.decide(record, judge.file(record))

    def check_many(self, claims: Iterable[dict | ClaimRecord], window: int = DEFAULT_WINDOW,
                   workers: int = 1, received: datetime.date | None = None) -> Iterator[Decision]:
        """Judge a stream of claims, yielding one decision per claim in input order.

        Claims that share patient and date of service are judged together when they stand within `window`
        claims of each other in the input (a claim always sees every earlier claim of its day). At most
        `window` claims are held at once.

        `workers` > 1 judges on that many processes, each taking a share of the patients; the decisions are
        the same as with one. The workers load the policy again from what `payerpolicy.load` was given, so
        a script that uses them must start from an `if __name__ == "__main__":` block (Python's rule for
        processes it starts).

        `received` is the date the payer receives the claims (`claim.received` in rules), by default today.
        """
        if workers != 1:
            from .judge_parallel import check_many
            return check_many(self, claims, window, workers, received=received)
        judge = Judge(self.program, received=received)
        return judge_in_order((_as_record(c) for c in claims), lambda record: judge, window)


def _as_record(claim) -> ClaimRecord:
    if isinstance(claim, (Claim, UnreadableClaim)):
        return claim
    if isinstance(claim, dict):
        return claim_from_dict(claim)
    raise TypeError(f"a claim is a dict in the claim JSON form or a payerpolicy Claim, not {type(claim).__name__}")
