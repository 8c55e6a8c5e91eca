"""One claim as a careful reader reads it, and the one step that ends every reading.

Each format's careful reader (`json_claims`, `x12`, `fhir`) reads its claims in its own order and words, but
they all end alike: a claim with any problem is sent back (`UnreadableClaim.sent_back`, its data faults told
as problems too), and any other becomes a `Claim` with its data faults; a line with a problem of its own is
left out, and the claim is sent back for it. A reader fills a `ClaimReading` (and a `LineReading` per line)
piece by piece as it finds them, and `ClaimReading.record` and `LineReading.done` take that last step, here
alone.

A piece not read yet, or not readable, is None, or empty as on the model; what each piece means is said on
the model (`claims.model.Claim`, `ServiceLine`). The quick roads (`json_quick`, `x12_quick`) build the model
directly: they only ever give a claim that has no problem.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from payerpolicy._internal_error import FIELD as BUG_FIELD
from payerpolicy._internal_error import reading_failed
from payerpolicy.claims.model import (
    Claim,
    ClaimProblem,
    ClaimRecord,
    DataFault,
    Provider,
    ServiceLine,
    TreatmentPeriod,
    UnreadableClaim,
)

__all__ = ["ClaimReading", "LineReading", "failed_reading"]


@dataclass(slots=True)
class ClaimReading:
    """What a reader has found of one claim so far: its pieces, every problem and every data fault."""

    where: str  # where the claim stood in its input ("claims.837 segment 23"), kept when it is sent back
    problems: list[ClaimProblem] = field(default_factory=list)
    faults: list[DataFault] = field(default_factory=list)  # a front end rejects them, yet the lines are judged
    lines: list[ServiceLine] = field(default_factory=list)  # each read by a `LineReading`, in claim order
    id: str | None = None  # a claim without one is sent back, with the problem that says so
    patient_id: str | None = None  # likewise
    payer: str | None = None
    provider: Provider | None = None
    diagnoses: tuple[str, ...] = ()
    frequency: str | None = None
    place_of_service: str | None = None
    prior_authorization: str | None = None
    patient_birth_date: datetime.date | None = None
    referring_npi: str | None = None
    treatment_began: datetime.date | None = None

    def record(self) -> ClaimRecord:
        """The claim as read, or sent back with every problem (and its data faults, so that the claim is
        fixed in one pass). A missing id or patient id comes with its problem."""
        claim_id, patient_id = self.id, self.patient_id
        if self.problems or claim_id is None or patient_id is None:
            return UnreadableClaim.sent_back(
                claim_id, self.problems, self.faults, where=self.where, payer=self.payer, patient_id=patient_id
            )
        return Claim(
            id=claim_id,
            patient_id=patient_id,
            lines=tuple(self.lines),  # all of the claim's: a line left out had a problem, which sent it back
            payer=self.payer,
            provider=self.provider,
            diagnoses=self.diagnoses,
            frequency=self.frequency,
            place_of_service=self.place_of_service,
            prior_authorization=self.prior_authorization,
            patient_birth_date=self.patient_birth_date,
            referring_npi=self.referring_npi,
            treatment_began=self.treatment_began,
            faults=tuple(self.faults),
        )


@dataclass(slots=True)
class LineReading:
    """What a reader has found of one service line of `claim` so far. A problem the claim gets after the
    line's reading began is the line's own."""

    claim: ClaimReading
    number: int  # the line's number on the claim, from 1
    code: str | None = None  # a line is read only with its code, date of service and units
    date_of_service: datetime.date | None = None
    units: int | None = None
    modifiers: tuple[str, ...] = ()
    minutes: int | None = None
    periods: tuple[TreatmentPeriod, ...] | None = None  # None when the line gives none, or none usable
    charge: float | None = None
    diagnosis_pointers: tuple[int, ...] = ()
    provider: Provider | None = None
    place_of_service: str | None = None
    prior_authorization: str | None = None
    problems_before: int = field(init=False)

    def __post_init__(self) -> None:
        self.problems_before = len(self.claim.problems)

    def done(self) -> None:
        """The line joins its claim's lines; one with a problem of its own (a missing code, date or units has
        one) is left out, and the claim is sent back for it."""
        code, date, units = self.code, self.date_of_service, self.units
        if len(self.claim.problems) > self.problems_before or code is None or date is None or units is None:
            return
        line = ServiceLine(
            number=self.number,
            code=code,
            date_of_service=date,
            units=units,
            modifiers=self.modifiers,
            minutes=self.minutes,
            periods=self.periods or (),
            charge=self.charge,
            diagnosis_pointers=self.diagnosis_pointers,
            provider=self.provider,
            place_of_service=self.place_of_service,
            prior_authorization=self.prior_authorization,
        )
        self.claim.lines.append(line)


def failed_reading(claim_id: object, where: str, exc: Exception) -> UnreadableClaim:
    """A claim a reader failed on (a bug in payerpolicy, `payerpolicy._internal_error`): sent back with the one
    problem that says so, under its id when the reader had found one, so that the run goes on."""
    problem = ClaimProblem(BUG_FIELD, reading_failed(exc))
    return UnreadableClaim(claim_id if isinstance(claim_id, str) else None, (problem,), where=where)
