"""The read stage for X12, its second half: the claims of 837P professional claim files (005010X222A1)
become the claim model.

An 837P file is a stream of segments (`SV1*HC:97112:GP*120*UN*2***1:2~`). `claims.x12_segments` finds the file's
delimiters, cuts it into numbered segments, walks the envelope (ISA, GS, ST ... SE, GE, IEA) and the
hierarchy (HL 20 billing provider, HL 22 subscriber and payer, HL 23 patient), and hands over each claim: a
CLM with its segments filed by loop, and the billing provider, subscriber and patient above it. This module
reads one such claim (`_ClaimReader`) loop by loop (2300 claim, 2310B rendering provider, 2400 service
line, 2420A the line's rendering provider) into a `Claim`, or an `UnreadableClaim` with every problem
found, checked by the rules every claim reader shares (`claims.values`: codes, at most four modifiers, whole
units, real dates, ICD-10 with the dot).

`read_x12` yields one record per CLM, in file order. A faulty claim never stops the rest. A file that cannot
be read from some point on (no ISA header, a broken envelope, not an 837P) yields one `UnreadableClaim`
saying why and where, after the claims read before that point. No exception leaves this module for bad
data. Problems name the element, the loop and the segment (`SV104 in loop 2400, segment 23`) and say, in
a billing specialist's words, what was found and what is expected.

Decisions taken here, and why:
- Unit basis MJ (minutes, SV103): the count goes to `minutes` and `units` is 0, because the file billed no
  units; turning minutes into units is the policy's business (the 8-minute rule or the AMA midpoint rule),
  and the evaluator does it from `minutes`. So a timed therapy code billed in minutes is judged as "0 units
  billed, N minutes" and its policy says what to bill.
- A date range (DTP*472*RD8) dates the line on its first day: the model has one date per line.
- Payer: `medicare` when the claim filing indicator (SBR09) is MA or MB (Medicare Part A or B), or the
  payer's name (NM1*PR) has the word MEDICARE and SBR09 is not 16 (a Medicare HMO, a private plan);
  otherwise None, so that the default policy applies. A payer's name is never passed on as `payer`: the
  evaluator takes `payer` as the name of a shipped policy.
- ICD-9 diagnoses (qualifiers BK, BF) are kept as written, without a dot, so that they cannot pass for
  ICD-10 codes; on a claim with a line's date of service on or after 2015-10-01, when ICD-9 stopped being
  valid, they are a data fault.
- Data faults (`claims.model.DataFault`): what a payer's front end rejects the claim for, but which leaves
  the lines meaningful, is recorded on the claim rather than making it unreadable, so that the claim is
  judged and every other finding produced: an NPI not announced by XX, of the wrong length or failing its
  check digit (kept as written: it still names the provider), a pointer to no diagnosis (kept: the line
  just has fewer diagnoses), ICD-9 after 2015-10-01, a diagnosis written as two elements (HI*BK*8901, read
  as meant), a taxonomy code that is not one, a place of service that is not two digits, a birth date or
  date treatment began that is not a date or falls after a service. A claim unreadable for other reasons
  lists its data faults among its problems.
- Claim fields payer rules need: place of service (CLM05-1, SV105 for a line), prior authorization (REF*G1
  in 2300, or 2400 for a line), the patient's birth date (DMG of 2010CA, else 2010BA), the referring or
  certifying provider's NPI (2310A: NM1*DN, else NM1*P3), the date treatment began (DTP*454).
- Patient: the subscriber's member id (NM109 of 2010BA) when the subscriber is the patient; for a patient
  of their own (HL 23, 2010CA, who has no member id in 5010) the subscriber's member id, the patient's name
  and birth date, so that two children on one policy are two patients on the same day. Where name and birth
  date are part of the key, the key is their keyed hash (`patient_key`), never the name in clear: the key
  goes into claim histories and worker messages.
- Rendering provider: 2310B on the claim, 2420A on a line. Without 2310B, the billing provider (2010AA,
  with the taxonomy of PRV*BI) is the rendering provider, as the implementation guide says.
- Lines are numbered by their position on the claim (1, 2, ...), which is what LX01 should say.
- Control counts and numbers (SE01, GE01, IEA01, ...) are not checked: they say nothing about the claims,
  and validating the envelope is the clearinghouse's work. What is checked is what could make a claim's
  data wrong without a word: a segment id or an NM1 entity code that no 837P holds (a damaged segment,
  whose content would be lost), a member id or NPI not announced by its qualifier (an element shifted).
"""

from __future__ import annotations

import datetime
import itertools
import re
from decimal import Decimal, InvalidOperation
from typing import IO, Iterator, NamedTuple

from payerpolicy._internal_error import NOT_A_BUG
from payerpolicy.claims.model import Claim, ClaimProblem, DataFault, Provider, UnreadableClaim
from payerpolicy.claims.reading import ClaimReading, LineReading, failed_reading

# The rules every claim reader applies, so that a claim is read alike in any format.
from payerpolicy.claims.values import (
    CPT_HCPCS,
    FREQUENCIES,
    MAX_AMOUNT,
    MAX_COUNT,
    MAX_DIAGNOSIS_POINTER,
    MAX_MODIFIERS,
    MODIFIER,
    PLACE_OF_SERVICE,
    TAXONOMY,
    TAXONOMY_TYPES,
    icd10_with_dot,
    npi_fault,
    quote,
)
from payerpolicy.claims.x12_quick import QuickReading
from payerpolicy.claims.x12_people import birth_text, d8_date, patient_key, payer_of, person_name, reference
from payerpolicy.claims.x12_segments import (
    DECIMAL,
    ClaimBlock,
    ClaimSegments,
    Delimiters,
    LineSegments,
    Segment,
    Unreadable,
    claim_blocks,
    read_delimiters,
    sort_segments,
    iter_segments,
)

__all__ = ["patient_key", "read_x12"]

_ICD10_START = datetime.date(2015, 10, 1)

_D8 = re.compile(r"[0-9]{8}")  # CCYYMMDD
_ICD9 = re.compile(r"[0-9]{3,5}|V[0-9]{2,4}|E[0-9]{3,4}")

# Qualifiers of the HI segment. Diagnoses: ABK principal and ABF other ICD-10-CM; BK and BF the same in ICD-9.
_ICD10_QUALIFIERS = ("ABK", "ABF")
_ICD9_QUALIFIERS = ("BK", "BF")
_OTHER_HI_QUALIFIERS = ("BP", "BO", "BG")  # anesthesia-related procedures, condition codes: not diagnoses

_WHOSE_NPI = {
    "2310B": "the rendering provider's NPI",
    "2420A": "the NPI of the line's rendering provider",
    "2010AA": "the billing provider's NPI",
    "2310A": "the referring provider's NPI",
}
_NPI_FAULT = {"2310B": "rendering_npi", "2420A": "rendering_npi", "2010AA": "billing_npi", "2310A": "referring_npi"}
_STANDS_FOR = {"2010AA": " (the billing provider stands for the rendering provider: the claim names none in 2310B)"}


# ---------------------------------------------------------------------------------------------------------
# One claim


def _read_claim(block: ClaimBlock, delimiters: Delimiters, name: str) -> Claim | UnreadableClaim:
    """One claim: a `Claim`, or an `UnreadableClaim` with every problem found (where: its CLM segment)."""
    reading = ClaimReading(f"{name} segment {block.clm.number}")
    if block.damage is not None:
        reading.problems.append(block.damage)
    reader = _ClaimReader(delimiters, reading)
    reading.id, reading.frequency, reading.place_of_service = reader.header(block.clm)
    parts = sort_segments(block, reading.problems)
    reading.diagnoses, listed, icd9 = reader.diagnoses(parts.diagnoses)
    reading.provider = reader.claim_provider(block, parts)
    referring = reader.provider(parts.referring, None, "2310A") if parts.referring is not None else None
    reading.referring_npi = referring.npi if referring is not None else None
    reading.prior_authorization = reference(parts.prior_authorization)
    if not parts.lines:
        reading.problems.append(
            ClaimProblem(
                block.clm.at("CLM", "2300"), "a claim needs at least one service line (LX with SV1); this one has none"
            )
        )
    for raw in parts.lines:
        reader.line(raw, listed)
    reader.check_icd9(icd9)
    reading.patient_id = reader.patient_id(block)
    reading.patient_birth_date = reader.birth_date(block)
    reading.treatment_began = reader.treatment_began(parts.treatment_began)
    reading.payer = payer_of(block.subscriber)
    if block.cut_short is not None:
        reading.problems.append(_cut_short(block.cut_short))
    return reading.record()


def _cut_short(last: Segment) -> ClaimProblem:
    """The problem of a claim the file ends inside: `last` is the file's last segment."""
    return ClaimProblem(
        f"{last.tag}, segment {last.number}",
        f"the file ends at segment {last.number} ({last.tag}), inside this claim, without the SE that closes "
        f"its transaction set: the file is cut short, and the claim may have lost lines or part of its "
        f"last segment",
    )


class _Entry(NamedTuple):
    """One element of HI as read: the code (None when bad or not a diagnosis), whether it counts as a listed
    diagnosis for the pointers, and how many elements it took."""

    code: str | None = None
    lists: bool = True
    elements: int = 1


class _Icd9(NamedTuple):
    """An ICD-9 code on the claim, and where it stands, for the check against the dates of service."""

    hi: Segment
    element: str
    qualifier: str
    code: str


class _ClaimReader:
    """Reads the parts of one claim into its `ClaimReading`, collecting every problem and data fault there."""

    def __init__(self, delimiters: Delimiters, reading: ClaimReading):
        self.delimiters = delimiters
        self.reading = reading
        self.problems = reading.problems
        self.faults = reading.faults  # what a front end rejects, though the claim can be judged
        self.dates: list[tuple[int, datetime.date]] = []  # (line, date of service) of every line with a good date

    def problem(self, segment: Segment, element: str, loop: str | None, message: str) -> None:
        self.problems.append(ClaimProblem(segment.at(element, loop), message))

    def fault(
        self, fault: str, segment: Segment, element: str, loop: str | None, message: str, line: int | None = None
    ) -> None:
        self.faults.append(DataFault(fault, segment.at(element, loop), message, line))

    def parts(self, segment: Segment, position: int) -> list[str]:
        """The components of a composite element (SV101 is parts(sv1, 1)), without surrounding spaces."""
        return [part.strip() for part in segment.get(position).split(self.delimiters.component)]

    def holds_separator(self, value: str) -> bool:
        """Whether a plain element holds the component or repetition separator: a damaged or shifted element."""
        repetition = self.delimiters.repetition
        return self.delimiters.component in value or (repetition is not None and repetition in value)

    def contradiction(self, value: str) -> str:
        """A hint for a composite written without the declared component separator, when another one shows."""
        if self.delimiters.component in value:
            return ""
        other = next((char for char in value if not char.isalnum() and not char.isspace() and char not in ".-/"), None)
        if other is None:
            return ""
        return (
            f"; it seems to use `{other}` as the component separator, but ISA16 declares "
            f"`{self.delimiters.component}`: the file's body contradicts its ISA header"
        )

    # -- the claim (2300)

    def header(self, clm: Segment) -> tuple[str | None, str | None, str | None]:
        """The claim id (CLM01, the patient control number), frequency code (CLM05-3) and place of service
        (CLM05-1)."""
        claim_id = clm.get(1) or None
        if claim_id is None:
            self.problem(
                clm, "CLM01", "2300", "missing: every claim needs its claim id (CLM01, the patient control number)"
            )
        elif self.holds_separator(claim_id):
            self.problem(
                clm,
                "CLM01",
                "2300",
                f"the claim id {quote(claim_id)} holds a separator of the file; a claim id is plain text",
            )
        facility = clm.get(5)
        parts = self.parts(clm, 5)
        frequency = parts[2] if len(parts) > 2 else ""
        place = self.place_of_service(clm, "CLM05-1", "2300", parts[0] if frequency else "")
        if not frequency:
            c = self.delimiters.component
            found = f"CLM05 {quote(facility)} has none" if facility else "CLM05 is empty"
            self.problem(
                clm,
                "CLM05-3",
                "2300",
                f"missing: the claim frequency code is the third part of CLM05, "
                f"after the place of service and B (11{c}B{c}1); {found}"
                f"{self.contradiction(facility)}",
            )
            return claim_id, None, place
        if frequency not in FREQUENCIES:
            self.problem(
                clm,
                "CLM05-3",
                "2300",
                f"the claim frequency code must be 1 (original claim), "
                f"7 (replacement) or 8 (void); found {quote(frequency)}",
            )
            return claim_id, None, place
        return claim_id, frequency, place

    def place_of_service(
        self, segment: Segment, element: str, loop: str, value: str, line: int | None = None
    ) -> str | None:
        """A place of service (CLM05-1, SV105): two digits; anything else is a fault, and no place."""
        if not value:
            return None
        if PLACE_OF_SERVICE.fullmatch(value):
            return value
        where = f"line {line}: " if line is not None else ""
        self.fault(
            "place_of_service",
            segment,
            element,
            loop,
            f"{where}the place of service {quote(value)} is not a place of service code (two digits: 11 "
            f"office, 22 outpatient hospital)",
            line,
        )
        return None

    def diagnoses(self, his: list[Segment]) -> tuple[tuple[str, ...], int, list[_Icd9]]:
        """The claim's diagnoses, in order; how many entries the claim lists, good or bad (so that a pointer
        at a bad one is not reported twice); and the ICD-9 codes with where they stand."""
        codes: list[str] = []
        listed = 0
        icd9: list[_Icd9] = []
        for hi in his:
            position = 1
            while position < len(hi.elements):
                entry = self.diagnosis(hi, position, icd9)
                listed += entry.lists
                if entry.code:
                    codes.append(entry.code)
                position += entry.elements
        return tuple(codes), listed, icd9

    def diagnosis(self, hi: Segment, position: int, icd9: list[_Icd9]) -> _Entry:
        """One element of HI: a diagnosis, a bad one, or something else (a condition code, an empty slot)."""
        value = hi.get(position)
        element = f"HI{position:02d}"
        if not value:
            return _Entry(lists=False)
        parts = self.parts(hi, position)
        if len(parts) < 2 or not parts[1]:
            following = hi.get(position + 1)
            if (
                parts[0] in _ICD10_QUALIFIERS + _ICD9_QUALIFIERS
                and following
                and self.delimiters.component not in following
            ):
                # HI*BK*8901: qualifier and code written as two elements rather than one composite. Which
                # code is meant is plain, so it is read; a front end rejects the segment all the same.
                self.fault(
                    "diagnosis_format",
                    hi,
                    f"{element}-HI{position + 1:02d}",
                    "2300",
                    f"diagnosis qualifier {quote(parts[0])} and code {quote(following)} are written as two "
                    f"elements; write them as one, joined by `{self.delimiters.component}` "
                    f"({parts[0]}{self.delimiters.component}{following})",
                )
                entry = self.coded(hi, element, parts[0].upper(), following.upper(), following, icd9)
                return entry._replace(elements=2)
            self.problem(
                hi,
                element,
                "2300",
                f"{quote(value)} is not a diagnosis written qualifier"
                f"{self.delimiters.component}code (ABK{self.delimiters.component}"
                f"I69351){self.contradiction(value)}",
            )
            return _Entry()
        return self.coded(hi, element, parts[0].upper(), parts[1].upper(), parts[1], icd9)

    def coded(self, hi: Segment, element: str, qualifier: str, code: str, written: str, icd9: list[_Icd9]) -> _Entry:
        """One diagnosis of HI by its qualifier and code (upper case; `written` as the file has it)."""
        parts = [qualifier, written]
        if qualifier in _OTHER_HI_QUALIFIERS:
            return _Entry(lists=False)
        if qualifier in _ICD10_QUALIFIERS:
            dotted = icd10_with_dot(code) if code.isascii() else None
            if dotted is None:
                self.problem(
                    hi,
                    element,
                    "2300",
                    f"diagnosis {quote(parts[1])} is not an ICD-10-CM code (a "
                    f"letter, a digit, a letter or digit, then up to four more: "
                    f"I69351, R2689)",
                )
                return _Entry()
            return _Entry(code=dotted)
        if qualifier in _ICD9_QUALIFIERS:
            if not _ICD9.fullmatch(code):
                self.problem(
                    hi,
                    element,
                    "2300",
                    f"diagnosis {quote(parts[1])} (qualifier {qualifier}) is not an "
                    f"ICD-9-CM code (3 to 5 digits, V and 2 to 4 digits, E and 3 or 4)",
                )
                return _Entry()
            icd9.append(_Icd9(hi, element, qualifier, code))
            return _Entry(code=code)  # kept as written, without a dot, so that it cannot pass for ICD-10
        self.problem(
            hi,
            element,
            "2300",
            f"diagnosis qualifier {quote(parts[0])} is not one of ABK (principal) "
            f"or ABF (other) for ICD-10-CM, BK or BF for ICD-9-CM",
        )
        return _Entry()

    def check_icd9(self, icd9: list[_Icd9]) -> None:
        """ICD-9 codes stand when every date of service is before ICD-10 began (lines with other problems
        count too: their dates are good)."""
        late = [(number, date) for number, date in self.dates if date >= _ICD10_START]
        if not icd9 or not late:
            return
        first = icd9[0]
        codes = ", ".join(f"{quote(entry.code)} ({entry.qualifier})" for entry in icd9)
        verb = "is an ICD-9 code" if len(icd9) == 1 else "are ICD-9 codes"
        self.fault(
            "diagnosis_code_set",
            first.hi,
            first.element,
            "2300",
            f"{'diagnosis' if len(icd9) == 1 else 'diagnoses'} {codes} {verb}, and ICD-9 is invalid for "
            f"services on or after 2015-10-01: line {late[0][0]} is on {late[0][1]}. Code the diagnoses "
            f"in ICD-10-CM (qualifiers ABK, ABF)",
        )

    # -- providers (2310B, 2420A; 2010AA when the billing provider rendered the service)

    def claim_provider(self, block: ClaimBlock, parts: ClaimSegments) -> Provider | None:
        """The claim's rendering provider (2310B), else the billing provider (2010AA), who then renders too. A
        front end checks the billing provider's NPI either way."""
        billing = block.billing
        if parts.provider is not None:
            provider = self.provider(parts.provider, parts.taxonomy, "2310B")
            if billing is not None and billing.name is not None:
                self.provider(billing.name, billing.taxonomy, "2010AA", stands_for=False)
            return provider
        if billing is not None and billing.name is not None:
            return self.provider(billing.name, billing.taxonomy, "2010AA")
        return None

    def provider(
        self, nm1: Segment, prv: Segment | None, loop: str, line: int | None = None, stands_for: bool = True
    ) -> Provider | None:
        """NPI (NM109 when NM108 is XX) and provider type (the taxonomy code of PRV) of a rendering provider."""
        npi = None
        qualifier, value = nm1.get(8), nm1.get(9)
        note = _STANDS_FOR.get(loop, "") if stands_for else ""
        if qualifier == "XX":
            wrong = npi_fault(value) if value else "is missing"
            if wrong is None or (value.isascii() and value.isdigit()):
                npi = value  # kept as written, fault or not: it is still the provider the claim names
            if wrong is not None:
                self.fault(
                    _NPI_FAULT[loop],
                    nm1,
                    "NM109",
                    loop,
                    f"{_WHOSE_NPI[loop]} {quote(value) if value else ''}{' ' if value else ''}{wrong}{note}",
                    line,
                )
        elif qualifier or any(element.strip() for element in nm1.elements[9:]):
            # 5010 names providers by NPI alone; anything else here is a shifted element or another id.
            found = f"`{qualifier}`" if qualifier else "none"
            self.fault(
                _NPI_FAULT[loop],
                nm1,
                "NM108",
                loop,
                f"NM108 must be XX, saying that NM109 is {_WHOSE_NPI[loop]}; "
                f"found {found} (an element too many or too few before it?)"
                f"{note}",
                line,
            )
        kind = self.provider_type(prv, "2000A" if loop == "2010AA" else loop, note, line) if prv is not None else None
        return Provider(npi=npi, type=kind) if npi or kind else None

    def provider_type(self, prv: Segment, loop: str, note: str = "", line: int | None = None) -> str | None:
        """The provider type of a taxonomy code (PRV03): PT, OT, SLP...; None for one that names no type here."""
        if prv.get(2) != "PXC":  # 5010 knows no other kind of provider code here
            self.fault(
                "taxonomy",
                prv,
                "PRV02",
                loop,
                f"PRV02 must be PXC (a taxonomy code follows); found "
                f"{quote(prv.get(2)) if prv.get(2) else 'none'}{note}",
                line,
            )
            return None
        taxonomy = prv.get(3).upper()
        if not TAXONOMY.fullmatch(taxonomy):
            self.fault(
                "taxonomy",
                prv,
                "PRV03",
                loop,
                f"taxonomy code {quote(prv.get(3))} is not a provider "
                f"taxonomy code (ten letters and digits: 225100000X for a "
                f"physical therapist){note}",
                line,
            )
            return None
        return TAXONOMY_TYPES.get(taxonomy[:4])

    # -- service lines (2400)

    def line(self, raw: LineSegments, listed: int) -> None:
        number = raw.number
        if raw.service is None:
            self.problem(raw.lx, "LX", "2400", f"line {number} has no SV1 segment (the service: code, charge, units)")
            return
        sv1 = raw.service
        line = LineReading(self.reading, number)
        line.code, line.modifiers = self.procedure(sv1, number)
        line.charge = self.charge(sv1, number)
        line.units, line.minutes = self.quantity(sv1, number)
        line.diagnosis_pointers = self.pointers(sv1, number, listed)
        line.date_of_service = self.date_of_service(raw, number)
        if line.date_of_service is not None:
            self.dates.append((number, line.date_of_service))
        if raw.provider is not None:
            line.provider = self.provider(raw.provider, raw.taxonomy, "2420A", number)
        line.place_of_service = self.place_of_service(sv1, "SV105", "2400", sv1.get(5), number)
        line.prior_authorization = reference(raw.prior_authorization)
        line.done()

    def procedure(self, sv1: Segment, number: int) -> tuple[str | None, tuple[str, ...]]:
        """SV101: HC, the CPT/HCPCS code, up to four modifiers (empty slots allowed), a description."""
        value = sv1.get(1)
        parts = self.parts(sv1, 1)
        qualifier = parts[0].upper()
        if qualifier != "HC":
            what = f"found {quote(value)}" if value else "it is empty"
            self.problem(
                sv1,
                "SV101",
                "2400",
                f"line {number}: SV101 must be `HC`, the procedure code and its "
                f"modifiers (HC{self.delimiters.component}97110"
                f"{self.delimiters.component}GP); {what}{self.contradiction(value)}",
            )
            return None, ()
        raw_code = parts[1] if len(parts) > 1 else ""
        code = raw_code.upper() if raw_code.isascii() else ""
        if not CPT_HCPCS.fullmatch(code):
            found = f"code {quote(raw_code)} is" if raw_code else "the code is missing: SV101-2 is"
            self.problem(
                sv1, "SV101-2", "2400", f"line {number}: {found} not a CPT/HCPCS code (five characters: 97112, G0283)"
            )
            return None, self.modifiers(sv1, parts, number)
        return code, self.modifiers(sv1, parts, number)

    def modifiers(self, sv1: Segment, parts: list[str], number: int) -> tuple[str, ...]:
        modifiers = []
        for position, raw in enumerate(parts[2:6], 3):
            if not raw:
                continue  # an empty slot: HC:97110::GP
            modifier = raw.upper()
            if not (modifier.isascii() and MODIFIER.fullmatch(modifier)):
                self.problem(
                    sv1,
                    f"SV101-{position}",
                    "2400",
                    f"line {number}: modifier {quote(raw)} is not a modifier (two letters or digits: GP, 59, KX)",
                )
                continue
            modifiers.append(modifier)
        description = parts[6] if len(parts) > 6 else ""
        if len(parts) > 8 or (
            len(modifiers) == MAX_MODIFIERS and description.isascii() and MODIFIER.fullmatch(description.upper())
        ):
            # A fifth modifier lands in SV101-7, the description: the claim form has room for four.
            extra = len([part for part in parts[2:] if part])
            self.problem(
                sv1,
                "SV101",
                "2400",
                f"line {number}: a line may carry at most {MAX_MODIFIERS} "
                f"modifiers (SV101-3 to SV101-6); found {extra} parts after the code",
            )
        return tuple(modifiers)

    def charge(self, sv1: Segment, number: int) -> float | None:
        value = sv1.get(2)
        if not value:
            return None  # required by the guide, but no rule needs it
        if DECIMAL.fullmatch(value) and not value.startswith("-"):
            if len(value) <= 18 and float(value) <= MAX_AMOUNT:  # SV102 is at most 18 characters
                return float(value)
            self.problem(
                sv1,
                "SV102",
                "2400",
                f"line {number}: the charge must be at most {MAX_AMOUNT:,.2f}; found {quote(value)}",
            )
            return None
        self.problem(
            sv1,
            "SV102",
            "2400",
            f"line {number}: the charge must be an amount of 0 or more, e.g. 120.00; found {quote(value)}",
        )
        return None

    def quantity(self, sv1: Segment, number: int) -> tuple[int | None, int | None]:
        """Units and minutes from the unit basis (SV103) and count (SV104). UN: units. MJ: minutes, and no
        units (0), since the file billed none; the policy says what the minutes are worth."""
        basis, value = sv1.get(3).upper(), sv1.get(4)
        if basis not in ("UN", "MJ"):
            found = f"found {quote(sv1.get(3))}" if basis else "it is missing"
            self.problem(
                sv1, "SV103", "2400", f"line {number}: the unit basis must be UN (units) or MJ (minutes); {found}"
            )
            return None, None
        noun = "units" if basis == "UN" else "minutes"
        if not value:
            self.problem(sv1, "SV104", "2400", f"missing: line {number} needs its count of {noun} (SV104)")
            return None, None
        count = _decimal(value)
        if count is None or count < 0:
            self.problem(
                sv1, "SV104", "2400", f"line {number}: {noun} must be a number of 0 or more; found {quote(value)}"
            )
            return None, None
        if count > MAX_COUNT:
            self.problem(
                sv1, "SV104", "2400", f"line {number}: {noun} must be at most {MAX_COUNT:,}; found {quote(value)}"
            )
            return None, None
        if count != count.to_integral_value():
            self.problem(
                sv1,
                "SV104",
                "2400",
                f"line {number}: {value} {noun} is not a whole number; {noun} are billed whole (1, 2, 3)",
            )
            return None, None
        return (int(count), None) if basis == "UN" else (0, int(count))

    def pointers(self, sv1: Segment, number: int, listed: int) -> tuple[int, ...]:
        """SV107: up to four diagnosis pointers, positions (from 1) in the claim's HI list. A pointer to no
        diagnosis is a fault, kept as written: the line just has fewer diagnoses."""
        value = sv1.get(7)
        if not value:
            return ()
        parts = [part for part in self.parts(sv1, 7) if part]
        if len(parts) > 4:
            self.problem(
                sv1, "SV107", "2400", f"line {number}: SV107 holds at most four diagnosis pointers; found {len(parts)}"
            )
        pointers = []
        for part in parts:
            # A pointer is 1 to 12; a long run of digits is just out of range (and never read as a number).
            pointer = (
                (int(part) if len(part) <= 4 else MAX_DIAGNOSIS_POINTER + 1)
                if part.isdigit() and part.isascii()
                else None
            )
            if pointer is None:
                self.problem(
                    sv1,
                    "SV107",
                    "2400",
                    f"line {number}: diagnosis pointers must be whole numbers from 1 "
                    f"to {MAX_DIAGNOSIS_POINTER}; found {quote(part)}"
                    f"{self.contradiction(value)}",
                )
                continue
            if not 1 <= pointer <= MAX_DIAGNOSIS_POINTER:
                self.fault(
                    "diagnosis_pointer",
                    sv1,
                    "SV107",
                    "2400",
                    f"line {number}: diagnosis pointer {quote(part)} is not one of 1 to {MAX_DIAGNOSIS_POINTER}",
                    number,
                )
            elif pointer > listed:
                listing = f"lists only {listed}" if listed else "lists none"
                self.fault(
                    "diagnosis_pointer",
                    sv1,
                    "SV107",
                    "2400",
                    f"line {number}: diagnosis pointer {pointer} points at no diagnosis: the claim {listing}",
                    number,
                )
            pointers.append(pointer)
        return tuple(pointers)

    def date_of_service(self, raw: LineSegments, number: int) -> datetime.date | None:
        """DTP*472: D8 one date; RD8 a range, which dates the line on its first day."""
        dtp = raw.date
        if dtp is None:
            self.problem(raw.lx, "LX", "2400", f"missing: line {number} needs its date of service (DTP*472)")
            return None
        form, value = dtp.get(2), dtp.get(3)
        if form == "D8":
            return self.date(dtp, value, number)
        if form == "RD8":
            first, dash, last = value.partition("-")
            start = self.date(dtp, first, number)
            end = self.date(dtp, last, number) if dash else None
            if start is None or end is None:
                if start is not None:
                    self.problem(
                        dtp,
                        "DTP03",
                        "2400",
                        f"line {number}: a date range (RD8) is written CCYYMMDD-CCYYMMDD; found {quote(value)}",
                    )
                return None
            if end < start:
                self.problem(
                    dtp, "DTP03", "2400", f"line {number}: the date range {quote(value)} ends before it starts"
                )
                return None
            return start
        self.problem(
            dtp,
            "DTP02",
            "2400",
            f"line {number}: the date format must be D8 (a date) or RD8 (a range); "
            f"found {quote(form) if form else 'none'}",
        )
        return None

    def date(self, dtp: Segment, value: str, number: int) -> datetime.date | None:
        if _D8.fullmatch(value):
            try:
                return datetime.date(int(value[:4]), int(value[4:6]), int(value[6:]))
            except ValueError:
                self.problem(
                    dtp, "DTP03", "2400", f"line {number}: date of service {quote(value)} is not a real date (CCYYMMDD)"
                )
                return None
        self.problem(
            dtp,
            "DTP03",
            "2400",
            f"line {number}: date of service {quote(value)} is not written CCYYMMDD (e.g. 20260302)",
        )
        return None

    # -- the patient (2010BA, 2010CA)

    def patient_id(self, block: ClaimBlock) -> str | None:
        """Who the patient is, for judging a patient's day across claims (see the module's docstring)."""
        subscriber = block.subscriber
        if subscriber is None or subscriber.name is None:
            self.problem(
                block.clm,
                "CLM",
                "2300",
                "missing: the claim has no subscriber above it (HL*...*22 with NM1*IL), so its patient is unknown",
            )
            return None
        member = self.member_id(subscriber.name)
        if block.patient is not None:  # a patient of their own: no member id, so the subscriber's, name and birth
            person = block.patient.name
            if person is None or not person_name(person):
                self.problem(
                    block.clm,
                    "CLM",
                    "2300",
                    "missing: the patient level (HL*...*23) above this claim "
                    "names no patient (NM1*QC with a last name)",
                )
                return None
            return patient_key(member, person_name(person), birth_text(block.patient.birth))
        if member:
            return member
        name = person_name(subscriber.name)
        if not name:
            self.problem(
                subscriber.name,
                "NM109",
                "2010BA",
                "missing: the subscriber has neither a member id (NM109) nor a name, so the patient is unknown",
            )
            return None
        return patient_key(None, name, birth_text(subscriber.birth))

    def birth_date(self, block: ClaimBlock) -> datetime.date | None:
        """The patient's date of birth: DMG02 of the patient (2010CA), else of the subscriber (2010BA)."""
        person, loop = (block.patient, "2010CA") if block.patient is not None else (block.subscriber, "2010BA")
        dmg = person.birth if person is not None else None
        if dmg is None or not (dmg.get(1) or dmg.get(2)):
            return None
        return self.day_before_services(
            "patient_birth_date",
            dmg,
            1,
            loop,
            "the patient's date of birth",
            "the patient's date of birth is written DMG01 D8, then CCYYMMDD in DMG02",
        )

    def treatment_began(self, dtp: Segment | None) -> datetime.date | None:
        """DTP*454: the date treatment began (initial treatment date), which chiropractic claims carry."""
        if dtp is None:
            return None
        return self.day_before_services(
            "date_treatment_began",
            dtp,
            2,
            "2300",
            "the date treatment began",
            "the date treatment began (DTP*454) is written D8, then CCYYMMDD",
        )

    def day_before_services(
        self, fault: str, segment: Segment, qualifier: int, loop: str, what: str, written: str
    ) -> datetime.date | None:
        """A date of the claim's that no service comes before (the patient's birth, the date treatment began):
        D8 in element `qualifier` of `segment`, CCYYMMDD in the next. One not written so (`written` says how
        it should be), or after a line's date of service, is a data fault: the lines can still be judged."""
        code, text = segment.get(qualifier), segment.get(qualifier + 1)
        element = f"{segment.tag}{qualifier + 1:02d}"
        day = d8_date(text) if code == "D8" else None
        if day is None:
            self.fault(fault, segment, element, loop, f"{written}; found {quote(code)} {quote(text)}")
            return None
        later = [(number, date) for number, date in self.dates if date < day]
        if later:
            self.fault(
                fault,
                segment,
                element,
                loop,
                f"{what} {day} is after line {later[0][0]}'s date of service {later[0][1]}",
            )
        return day

    def member_id(self, nm1: Segment) -> str | None:
        """The subscriber's member id: NM109, which NM108 MI (or II, a national health identifier) announces.
        Anything else there is an element out of place, and the id read would be someone else's."""
        qualifier, member = nm1.get(8), nm1.get(9)
        if not qualifier and not member:
            return None
        if qualifier not in ("MI", "II") or not member or self.holds_separator(member):
            found = " ".join(quote(value) for value in (qualifier, member) if value)
            self.problem(
                nm1,
                "NM108",
                "2010BA",
                f"the subscriber's member id is written NM108 MI, then the id in NM109 (MI*1EG4TE5MK73); found {found}",
            )
            return None
        return member


def _decimal(value: str) -> Decimal | None:
    if not DECIMAL.fullmatch(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


# ---------------------------------------------------------------------------------------------------------
# The stage


def read_x12(text: str | IO[str], name: str, quick: bool = True) -> Iterator[Claim | UnreadableClaim]:
    """Read the claims of an X12 837P file: one `Claim` or `UnreadableClaim` per CLM, in file order.

    `text` is the whole file, or a text stream read a chunk at a time (the file is never held whole: a
    claim is read from the segments of its own block); `name` is shown in `where` ("claims.837 segment
    23"). After the claims read so far, a file that cannot be read from some point on yields one
    `UnreadableClaim` naming the problem and the segment. Never raises for bad data.

    A claim in the usual shape takes the quick road (`claims.x12_quick`), which gives the same `Claim`;
    `quick=False` reads every claim by the careful road alone (to compare the two).
    """
    chunks = iter([text]) if isinstance(text, str) else iter(lambda: text.read(_CHUNK), "")
    head = ""
    for chunk in chunks:  # enough of the file for the ISA header, without the blank lines before it
        head = (head + chunk).lstrip("\ufeff \t\r\n")  # a byte order mark, blank lines before the header
        if len(head) >= _HEADER:
            break
    try:
        delimiters = read_delimiters(head, name)
        fast = QuickReading(delimiters).claim if quick else _careful_only
        for block in claim_blocks(iter_segments(itertools.chain([head], chunks), delimiters), delimiters):
            try:
                record = fast(block) or _read_claim(block, delimiters, name)
            except NOT_A_BUG:
                raise
            except Exception as exc:  # a bug in the reader, met on this claim: it is sent back, the rest read
                record = failed_reading(block.clm.get(1) or None, f"{name} segment {block.clm.number}", exc)
            yield record
    except Unreadable as err:
        yield err.record(name)


def _careful_only(block: ClaimBlock) -> None:
    return None


_CHUNK = 1 << 20  # characters read at a time from a stream
_HEADER = 4000  # characters enough for any ISA header (106 with its padding; 2,000 searched for separators)
