"""`Policy`: a loaded, compiled policy, and the library's way to judge claims with it."""
from __future__ import annotations

import itertools
from typing import Iterable, Iterator

from .claim_model import Claim, ClaimRecord, UnreadableClaim
from .claim_read import claim_from_dict
from .decision import Decision
from .evaluate import Judge
from .program_compile import RuleProgram


class Policy:
    def __init__(self, program: RuleProgram, warnings=()):
        self.program = program
        self.warnings = list(warnings)
        spec = program.policy
        self.payer, self.name, self.version = spec.payer, spec.name, spec.version
        self.fictional = spec.fictional

    def __repr__(self) -> str:
        return f"<Policy {self.payer} {self.version}: {self.program.rule_count} rules>"

    def check(self, claim: dict | ClaimRecord) -> Decision:
        """Judge one claim on its own (its lines still form days together)."""
        return Judge(self.program).judge([_as_record(claim)])[0]

    def check_many(self, claims: Iterable[dict | ClaimRecord], batch_size: int = 2000) -> Iterator[Decision]:
        """Judge a stream of claims, yielding one decision per claim in input order.

        Claims that share patient and date of service are judged together: within a batch each sees the
        others, and a claim always sees the lines of earlier batches. Memory grows with the number of
        patient-days seen, not with the number of claims held at once.
        """
        judge = Judge(self.program)
        iterator = iter(claims)
        while batch := list(itertools.islice(iterator, batch_size)):
            yield from judge.judge([_as_record(c) for c in batch])


def _as_record(claim) -> ClaimRecord:
    if isinstance(claim, (Claim, UnreadableClaim)):
        return claim
    if isinstance(claim, dict):
        return claim_from_dict(claim)
    raise TypeError(f"a claim is a dict in the claim JSON form or a payerpolicy Claim, not {type(claim).__name__}")
