"""The claim model: what every claim reader produces and what the evaluator judges.

Readers (JSON today; X12 837P and FHIR later) turn their input into these objects, so the evaluator never
sees a file format. A claim that cannot be read becomes an `UnreadableClaim` carrying every problem found,
so that a batch still yields exactly one record per claim read. A fault that a payer's front end rejects a
claim for but that leaves its lines meaningful (a 9-digit NPI, a pointer to no diagnosis) is a `DataFault`
on a readable `Claim`: the claim is judged, and the policy reports the fault.
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
    diagnosis_pointers: tuple[int, ...] = ()  # as written: one that points at no diagnosis is a data fault
    provider: Provider | None = None  # the line's own rendering provider, when it differs from the claim's
    place_of_service: str | None = None  # the line's own (837P SV105), when it differs from the claim's
    prior_authorization: str | None = None  # the line's own prior-authorization number (837P 2400 REF*G1)


@dataclass(frozen=True, slots=True)
class Claim:
    id: str
    patient_id: str
    lines: tuple[ServiceLine, ...]
    payer: str | None = None
    provider: Provider | None = None
    diagnoses: tuple[str, ...] = ()  # ICD-10-CM, written with the dot (I69.351)
    frequency: str | None = None  # claim frequency code: 1 original, 7 replacement, 8 void
    place_of_service: str | None = None  # two digits (11 office, 22 outpatient hospital): 837P CLM05-1
    prior_authorization: str | None = None  # the payer's prior-authorization number: 837P REF*G1
    patient_birth_date: datetime.date | None = None  # 837P DMG02 of the patient (2010CA) or subscriber (2010BA)
    referring_npi: str | None = None  # the referring or certifying provider: 837P loop 2310A, NM1*DN or NM1*P3
    treatment_began: datetime.date | None = None  # the date treatment began (chiropractic): 837P DTP*454
    # What a payer's front end would reject the claim for, though every line can still be judged (a 9-digit
    # NPI, a pointer to no diagnosis): policies report them (`data_fault` fields), the lines are judged.
    faults: tuple["DataFault", ...] = ()

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

    def place_of_service_of(self, line: ServiceLine) -> str | None:
        return line.place_of_service or self.place_of_service

    def diagnoses_of(self, line: ServiceLine) -> tuple[str, ...]:
        """The diagnoses a line points to; all of the claim's when the line points to none. A pointer to no
        diagnosis (a data fault) gives none: the line just has fewer diagnoses."""
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
class DataFault:
    """A fault in a claim's data that a payer's front end rejects the claim for, but that leaves the claim's
    lines meaningful, so they are still judged: an NPI of the wrong length or check digit, a diagnosis
    pointer to no diagnosis, an ICD-9 code after 2015-10-01, a malformed taxonomy code.

    `fault` names the kind, from `FAULTS`, as policy rules ask for it (`data_fault.npi`); `field` and
    `message` say where and what, as a `ClaimProblem` does; `line` is the line it concerns, or None for the
    claim as a whole."""

    fault: str
    field: str
    message: str
    line: int | None = None

    def to_dict(self) -> dict:
        out: dict[str, str | int] = {"fault": self.fault, "field": self.field, "message": self.message}
        if self.line is not None:
            out["line"] = self.line
        return out

    def problem(self) -> ClaimProblem:
        return ClaimProblem(self.field, self.message)


FAULTS = {
    "rendering_npi": "the rendering provider's NPI (2310B, 2420A) is not 10 digits, fails its check digit, or is "
    "not announced as an NPI",
    "billing_npi": "the billing provider's NPI (2010AA) is not 10 digits, fails its check digit, or is not "
    "announced as an NPI",
    "referring_npi": "the referring or certifying provider's NPI (2310A) is not 10 digits, fails its check "
    "digit, or is not announced as an NPI",
    "taxonomy": "a provider taxonomy code that is not one (ten letters and digits), or not announced as one",
    "diagnosis_pointer": "a diagnosis pointer to no diagnosis on the claim, or beyond the twelfth",
    "diagnosis_code_set": "an ICD-9 diagnosis on a claim with a service from 2015-10-01, when ICD-10-CM began",
    "diagnosis_format": "a diagnosis written as two elements instead of one qualifier:code composite",
    "place_of_service": "a place of service that is not two digits",
    "date_treatment_began": "a date treatment began that is not a date, or falls after a date of service",
    "patient_birth_date": "a patient date of birth that is not a date, or falls after a date of service",
}
"""The kinds of data fault the readers record, by the name rules use (`data_fault.<name>`)."""


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

    @classmethod
    def sent_back(
        cls,
        id: str | None,
        problems: list[ClaimProblem],
        faults: list[DataFault],
        *,
        where: str,
        payer: str | None,
        patient_id: str | None,
    ) -> UnreadableClaim:
        """A claim a reader could not turn into a `Claim`: every problem found, and its data faults told as
        problems too (on a readable claim they are judged instead), so that the claim is fixed in one pass."""
        return cls(id, (*problems, *(fault.problem() for fault in faults)), where, payer, patient_id)


ClaimRecord = Claim | UnreadableClaim
