"""The claim model: what every claim reader produces and what the evaluator judges.

Readers (JSON today; X12 837P and FHIR later) turn their input into these objects, so the evaluator never
sees a file format. A claim that cannot be read becomes an `UnreadableClaim` carrying every problem found,
so that a batch still yields exactly one record per claim read.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Provider:
    """Who rendered a service: NPI and provider type (PT, PTA, OT, OTA, SLP, DC, MD, DO, NP, PA)."""

    npi: str | None = None
    type: str | None = None


@dataclass(frozen=True, slots=True)
class TreatmentPeriod:
    """One stretch of direct treatment, from start to end on the line's date of service (minutes of day)."""

    start_minute: int
    end_minute: int
    provider: Provider | None = None  # who furnished this stretch, when not the line's provider (a PTA, say)

    @property
    def minutes(self) -> int:
        return self.end_minute - self.start_minute


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """One service line: a procedure code on one date of service."""

    number: int  # position on the claim, counting from 1, as on the claim form and in X12 LX
    code: str
    date_of_service: datetime.date
    units: int
    modifiers: tuple[str, ...] = ()
    minutes: int | None = None  # direct treatment minutes; the sum of the periods when periods are given
    periods: tuple[TreatmentPeriod, ...] = ()
    charge: float | None = None
    diagnosis_pointers: tuple[int, ...] = ()
    provider: Provider | None = None  # the line's own rendering provider, when it differs from the claim's


@dataclass(frozen=True, slots=True)
class Claim:
    id: str
    patient_id: str
    lines: tuple[ServiceLine, ...]
    payer: str | None = None
    provider: Provider | None = None
    diagnoses: tuple[str, ...] = ()  # ICD-10-CM, written with the dot (I69.351)
    frequency: str | None = None  # claim frequency code: 1 original, 7 replacement, 8 void

    def provider_of(self, line: ServiceLine) -> Provider | None:
        """The provider who rendered `line`: its own when given, else the claim's.

        A line provider that gives only part (an NPI without a type) takes the rest from the claim's.
        """
        own, claim = line.provider, self.provider
        if own is None or claim is None:
            return own if own is not None else claim
        if own.type is None or own.npi is None:
            return Provider(own.npi or claim.npi, own.type or claim.type)
        return own

    def diagnoses_of(self, line: ServiceLine) -> tuple[str, ...]:
        """The diagnoses a line points to; all of the claim's when the line points to none."""
        if not line.diagnosis_pointers:
            return self.diagnoses
        return tuple(self.diagnoses[p - 1] for p in line.diagnosis_pointers if 0 < p <= len(self.diagnoses))


@dataclass(frozen=True, slots=True)
class ClaimProblem:
    """Why (part of) a claim could not be read: the field, in words a biller recognises, and what is wrong."""

    field: str  # "patient.id", "lines[2].units" (line numbers count from 1, as on the claim)
    message: str

    def to_dict(self) -> dict:
        return {"field": self.field, "message": self.message}


@dataclass(frozen=True, slots=True)
class UnreadableClaim:
    """A claim the reader could not turn into a `Claim`; it still gets its own record in the output."""

    id: str | None
    problems: tuple[ClaimProblem, ...]
    where: str = ""  # where in the input it stood ("claims.jsonl line 7"), for claims without a usable id
    payer: str | None = None
    patient_id: str | None = None

    def __post_init__(self) -> None:
        if not self.problems:
            raise ValueError("an unreadable claim needs at least one problem")


ClaimRecord = Claim | UnreadableClaim
