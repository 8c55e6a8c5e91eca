"""The quick road for 837P claims in the usual shape: one pass over a claim's segments, checking only where a
value can fail, and stepping aside at the first doubt.

The careful road (`claims.x12`, `_read_claim`) files a claim's segments by loop, reads each element through
`Segment.get`, and words every problem and data fault as it goes; about 100 µs for a claim of four lines,
most of the cost of reading an 837P file. Most claims are sent by software in one shape: a CLM, its HI, a
rendering provider, and per line an LX, SV1 and DTP*472, all sound. `QuickReading.claim` reads such a claim
and gives the `Claim` the careful road would give, or None the moment anything differs from that shape (a
damaged or unknown segment, another payer's loops (SBR, SVD), an ICD-9 code, a date range, any value the
careful road would report as a problem or a data fault), and the careful road then reads the claim from the
start: every problem and data fault, and its wording, comes from there alone. `tests/test_x12_quick.py`
holds the two roads to the same claims, sound and damaged.

The loops are told as the careful road tells them (`x12_segments.sort_segments`): HI, REF*G1 and DTP*454
belong to the claim before its first LX; NM1*82 opens 2310B before the first line and 2420A after it, NM1*DN
or NM1*P3 opens 2310A, any other NM1 another provider loop whose PRV is not the rendering provider's.

Values seen before in the same file are looked up rather than checked again (procedure composites, charges,
dates, diagnoses, NPIs, taxonomy codes, CLM05): a claim file holds a few hundred distinct ones. Each table
only ever holds values that passed the careful road's own check, is emptied when full, and lives as long as
the file's reading. Nothing that identifies a patient is kept (no member id, name or birth date).
"""

from __future__ import annotations

import datetime
from typing import TypeVar

from payerpolicy._frozen import maker
from payerpolicy.claims.model import Claim, Provider, ServiceLine
from payerpolicy.claims import values
from payerpolicy.claims.values import FREQUENCIES, PLACE_OF_SERVICE, icd10_with_dot, npi_fault
from payerpolicy.claims.x12_people import birth_text, d8_date, patient_key, payer_of, person_name
from payerpolicy.claims.x12_segments import (
    CLAIM_SEGMENTS,
    DECIMAL,
    ENTITIES,
    BillingProvider,
    ClaimBlock,
    Delimiters,
    Segment,
)

__all__ = ["QuickReading"]

_make_line = maker(ServiceLine)
_make_claim = maker(Claim)

_LIMIT = 20_000  # values per table before it is emptied: more than a real file's distinct codes or NPIs
_ICD10_QUALIFIERS = ("ABK", "ABF")
_NOT_DIAGNOSES = ("BP", "BO", "BG")  # HI qualifiers of procedures and condition codes: not listed diagnoses

K = TypeVar("K")
V = TypeVar("V")


# What an SV1 says: code, modifiers, charge, units, minutes, diagnosis pointers, the highest one, place.
_Service = tuple[str, tuple[str, ...], float | None, int, int | None, tuple[int, ...], int, str | None]


class _Aside(Exception):
    """The claim is not in the usual shape: the careful road reads it."""


def _remember(table: dict[K, V], key: K, value: V) -> V:
    if len(table) >= _LIMIT:
        table.clear()
    table[key] = value
    return value


def _element(elements: list[str], position: int) -> str:
    """What `Segment.get` gives: element `position` without surrounding spaces, "" when absent."""
    return elements[position].strip() if position < len(elements) else ""


class _Line:
    """The segments of one service line (loop 2400), as the careful road files them."""

    # Class attributes as the defaults: a line is made without an __init__ call, one per line of every claim.
    service: list[str] | None = None  # SV1's elements
    date: list[str] | None = None  # DTP*472
    provider: list[str] | None = None  # NM1*82 of 2420A
    taxonomy: list[str] | None = None  # PRV of 2420A
    authorization: list[str] | None = None  # REF*G1 of 2400


class _Filed:
    """A claim's segments filed by loop, as element lists (see `x12_segments.ClaimSegments`)."""

    __slots__ = ("diagnoses", "provider", "taxonomy", "referring", "authorization", "began", "lines")

    def __init__(self) -> None:
        self.diagnoses: list[list[str]] = []
        self.provider: list[str] | None = None
        self.taxonomy: list[str] | None = None
        self.referring: list[str] | None = None
        self.authorization: list[str] | None = None
        self.began: list[str] | None = None
        self.lines: list[_Line] = []


class QuickReading:
    """The quick road through one file's claims, with the tables of values its claims have shown."""

    def __init__(self, delimiters: Delimiters) -> None:
        self.component = delimiters.component
        self.repetition = delimiters.repetition or delimiters.component  # the component again: one test less
        self.services: dict[tuple[str, ...], _Service] = {}  # SV1's elements -> what they say
        self.procedures: dict[str, tuple[str, tuple[str, ...]]] = {}  # SV101 -> code, modifiers
        self.charges: dict[str, float | None] = {}  # SV102 -> the charge
        self.dates: dict[str, datetime.date] = {}  # DTP03 (D8) -> the date
        self.diagnoses: dict[str, str | None] = {}  # an HI element -> its code, None for no listed diagnosis
        self.pointers: dict[str, tuple[int, ...]] = {}  # SV107 -> the pointers
        self.facilities: dict[str, tuple[str, str | None]] = {}  # CLM05 -> frequency, place of service
        self.npis: set[str] = set()  # NPIs that pass the check digit
        self.taxonomies: dict[str, str | None] = {}  # PRV03 -> the provider type
        self.providers: dict[tuple[str | None, str | None], Provider] = {}
        self.billing: tuple[Segment | None, Segment | None, Provider | None] | None = None  # the last checked

    def claim(self, block: ClaimBlock) -> Claim | None:
        """The careful road's `Claim` for `block`, or None when the careful road must read it."""
        if block.damage is not None or block.cut_short is not None or block.clm.fault is not None:
            return None
        try:
            return self._claim(block)
        except _Aside:
            return None

    def _claim(self, block: ClaimBlock) -> Claim:
        clm = block.clm.elements
        claim_id = _element(clm, 1)
        if not claim_id or self._holds_separator(claim_id):
            raise _Aside
        frequency, place = self._facility(_element(clm, 5))
        filed = _file(block.segments)
        if not filed.lines:
            raise _Aside
        diagnoses = self._diagnoses(filed.diagnoses)
        provider = self._claim_provider(filed, block.billing)
        referring = self._provider(filed.referring, None) if filed.referring is not None else None
        listed = len(diagnoses)
        lines = tuple([self._line(number, line, listed) for number, line in enumerate(filed.lines, 1)])
        earliest = min([line.date_of_service for line in lines])
        return _make_claim(
            claim_id,
            self._patient_id(block),
            lines,
            payer_of(block.subscriber),
            provider,
            diagnoses,
            frequency,
            place,
            _reference(filed.authorization),
            _birth_date(block, earliest),
            referring.npi if referring is not None else None,
            _treatment_began(filed.began, earliest),
            (),
        )

    # -- the claim (2300)

    def _holds_separator(self, value: str) -> bool:
        return self.component in value or self.repetition in value

    def _facility(self, value: str) -> tuple[str, str | None]:
        """CLM05: the frequency code (its third part) and the place of service (its first)."""
        known = self.facilities.get(value)
        if known is not None:
            return known
        parts = [part.strip() for part in value.split(self.component)]
        frequency = parts[2] if len(parts) > 2 else ""
        if frequency not in FREQUENCIES:
            raise _Aside
        place = parts[0] or None
        if place is not None and not PLACE_OF_SERVICE.fullmatch(place):
            raise _Aside
        return _remember(self.facilities, value, (frequency, place))

    def _diagnoses(self, his: list[list[str]]) -> tuple[str, ...]:
        codes = []
        for hi in his:
            for raw in hi[1:]:
                code = self.diagnoses.get(raw)
                if code is None and raw not in self.diagnoses:
                    code = self._diagnosis(raw)
                if code:
                    codes.append(code)
        return tuple(codes)

    def _diagnosis(self, raw: str) -> str | None:
        """One HI element: an ICD-10-CM code with its dot; None for an empty one or a condition code."""
        value = raw.strip()
        if not value:
            return _remember(self.diagnoses, raw, None)
        parts = [part.strip() for part in value.split(self.component)]
        if len(parts) < 2 or not parts[1]:
            raise _Aside  # a qualifier without its code: a problem, or a diagnosis written as two elements
        qualifier, code = parts[0].upper(), parts[1].upper()
        if qualifier in _NOT_DIAGNOSES:
            return _remember(self.diagnoses, raw, None)
        if qualifier not in _ICD10_QUALIFIERS or not code.isascii():
            raise _Aside  # ICD-9 (checked against the dates of service) or a qualifier no diagnosis has
        dotted = icd10_with_dot(code)
        if dotted is None:
            raise _Aside
        return _remember(self.diagnoses, raw, dotted)

    # -- providers (2310B, 2420A, 2010AA, 2310A)

    def _claim_provider(self, filed: _Filed, billing: BillingProvider | None) -> Provider | None:
        """2310B's provider; the billing provider's when the claim names none. The billing provider's NPI is
        checked either way, as a front end does."""
        billed = self._billing(billing)
        if filed.provider is not None:
            return self._provider(filed.provider, filed.taxonomy)
        return billed

    def _billing(self, billing: BillingProvider | None) -> Provider | None:
        if billing is None or billing.name is None:
            return None
        name, taxonomy = billing.name, billing.taxonomy
        last = self.billing
        if last is not None and last[0] is name and last[1] is taxonomy:
            return last[2]  # the same billing provider as the claim before: every claim of its level
        provider = self._provider(name.elements, taxonomy.elements if taxonomy is not None else None)
        self.billing = (name, taxonomy, provider)
        return provider

    def _provider(self, nm1: list[str], prv: list[str] | None) -> Provider | None:
        """NPI (NM109, announced by NM108 XX) and provider type (PRV03) of a provider; None with neither."""
        qualifier, npi = _element(nm1, 8), _element(nm1, 9)
        if qualifier == "XX":
            if npi not in self.npis:
                if not npi or npi_fault(npi) is not None:
                    raise _Aside
                if len(self.npis) >= _LIMIT:
                    self.npis.clear()
                self.npis.add(npi)
        elif qualifier or any(element.strip() for element in nm1[9:]):
            raise _Aside  # an id not announced as an NPI: a data fault
        else:
            npi = ""
        kind = self._provider_type(prv) if prv is not None else None
        if not npi and kind is None:
            return None
        key = (npi or None, kind)
        found = self.providers.get(key)
        return found if found is not None else _remember(self.providers, key, Provider(*key))

    def _provider_type(self, prv: list[str]) -> str | None:
        if _element(prv, 2) != "PXC":
            raise _Aside
        raw = _element(prv, 3)
        if raw in self.taxonomies:
            return self.taxonomies[raw]
        taxonomy = raw.upper()
        if not values.TAXONOMY.fullmatch(taxonomy):
            raise _Aside
        return _remember(self.taxonomies, raw, values.TAXONOMY_TYPES.get(taxonomy[:4]))

    # -- service lines (2400)

    def _line(self, number: int, line: _Line, listed: int) -> ServiceLine:
        sv1, dtp = line.service, line.date
        if sv1 is None or dtp is None:
            raise _Aside
        service = self.services.get(tuple(sv1)) or self._service(sv1)
        code, modifiers, charge, units, minutes, pointers, highest, place = service
        if highest > listed:
            raise _Aside  # a pointer to no diagnosis: a data fault
        date = self.dates.get(dtp[3]) if len(dtp) == 4 and dtp[2] == "D8" else None
        return _make_line(
            number,
            code,
            date or self._date_of_service(dtp),
            units,
            modifiers,
            minutes,
            (),
            charge,
            pointers,
            self._provider(line.provider, line.taxonomy) if line.provider is not None else None,
            place,
            _reference(line.authorization),
        )

    def _service(self, sv1: list[str]) -> _Service:
        """SV1 read: the procedure (SV101), charge (SV102), units or minutes (SV103, SV104), place of service
        (SV105) and diagnosis pointers (SV107), with the highest pointer (checked against the claim's HI)."""
        key = tuple(sv1)
        if len(sv1) < 8:
            sv1 = sv1 + [""] * (8 - len(sv1))
        code, modifiers = self.procedures.get(sv1[1]) or self._procedure(sv1[1])
        charge = self.charges[sv1[2]] if sv1[2] in self.charges else self._charge(sv1[2])
        basis, count = sv1[3].strip().upper(), sv1[4].strip()
        if basis not in ("UN", "MJ") or not (count.isascii() and count.isdigit() and len(count) <= 9):
            raise _Aside  # 2.0 units, a count that is not a number, another unit basis: the careful road's
        quantity = int(count)
        if quantity > values.MAX_COUNT:
            raise _Aside
        pointers = self.pointers.get(sv1[7])
        if pointers is None:
            pointers = self._pointers(sv1[7])
        place = sv1[5].strip() or None
        if place is not None and not PLACE_OF_SERVICE.fullmatch(place):
            raise _Aside
        units, minutes = (quantity, None) if basis == "UN" else (0, quantity)
        service = (code, modifiers, charge, units, minutes, pointers, max(pointers, default=0), place)
        return _remember(self.services, key, service)

    def _procedure(self, raw: str) -> tuple[str, tuple[str, ...]]:
        """SV101: HC, the code, up to four modifiers (empty slots allowed), a description."""
        parts = [part.strip() for part in raw.strip().split(self.component)]
        code = parts[1].upper() if len(parts) > 1 and parts[1].isascii() else ""
        if parts[0].upper() != "HC" or not values.CPT_HCPCS.fullmatch(code) or len(parts) > 8:
            raise _Aside
        modifiers = []
        for written in parts[2:6]:
            if not written:
                continue
            modifier = written.upper()
            if not (modifier.isascii() and values.MODIFIER.fullmatch(modifier)):
                raise _Aside
            modifiers.append(modifier)
        description = parts[6] if len(parts) > 6 else ""
        if (
            len(modifiers) == values.MAX_MODIFIERS
            and description.isascii()
            and values.MODIFIER.fullmatch(description.upper())
        ):
            raise _Aside  # a fifth modifier where the description stands
        return _remember(self.procedures, raw, (code, tuple(modifiers)))

    def _charge(self, raw: str) -> float | None:
        value = raw.strip()
        if not value:
            return _remember(self.charges, raw, None)
        if not DECIMAL.fullmatch(value) or value.startswith("-") or len(value) > 18 or float(value) > values.MAX_AMOUNT:
            raise _Aside
        return _remember(self.charges, raw, float(value))

    def _pointers(self, raw: str) -> tuple[int, ...]:
        """SV107: up to four diagnosis pointers, each 1 to 12 (whether each points at a diagnosis is the
        line's to check: it depends on the claim)."""
        parts = [part for part in (part.strip() for part in raw.strip().split(self.component)) if part]
        if len(parts) > 4 or not all(part.isascii() and part.isdigit() and len(part) <= 2 for part in parts):
            raise _Aside
        pointers = tuple(int(part) for part in parts)
        if not all(1 <= pointer <= values.MAX_DIAGNOSIS_POINTER for pointer in pointers):
            raise _Aside
        return _remember(self.pointers, raw, pointers)

    def _date_of_service(self, dtp: list[str]) -> datetime.date:
        """DTP*472*D8: the line's date (a range, RD8, is the careful road's)."""
        if _element(dtp, 2) != "D8":
            raise _Aside
        raw = _element(dtp, 3)
        date = self.dates.get(raw)
        if date is None:
            date = d8_date(raw)
            if date is None:
                raise _Aside
            _remember(self.dates, raw, date)
        return date

    # -- the patient (2010BA, 2010CA)

    def _patient_id(self, block: ClaimBlock) -> str:
        """The careful road's patient id (`_ClaimReader.patient_id`), or aside where it finds a problem."""
        subscriber = block.subscriber
        if subscriber is None or subscriber.name is None:
            raise _Aside
        name = subscriber.name.elements
        qualifier, member = _element(name, 8), _element(name, 9)
        if qualifier or member:
            if qualifier not in ("MI", "II") or not member or self._holds_separator(member):
                raise _Aside
        if block.patient is not None:
            person = block.patient.name
            who = person_name(person) if person is not None else ""
            if not who:
                raise _Aside
            return patient_key(member or None, who, birth_text(block.patient.birth))
        if member:
            return member
        who = person_name(subscriber.name)
        if not who:
            raise _Aside
        return patient_key(None, who, birth_text(subscriber.birth))


def _file(segments: list[Segment]) -> _Filed:
    """A claim's segments filed by loop as `x12_segments.sort_segments` files them; aside for a faulty or
    unknown segment, an NM1 of no 837P entity, another payer's loops (SBR, SVD, LQ), an SV1 out of place."""
    filed = _Filed()
    loop = "2300"
    line: _Line | None = None
    for _, tag, elements, fault in segments:
        if fault is not None:
            raise _Aside
        if tag == "SV1" and line is not None:  # the most frequent segments first, with the fewest tests
            if line.service is not None:
                raise _Aside  # a second SV1
            line.service = elements
            continue
        if tag == "LX":
            line, loop = _Line(), "2400"
            filed.lines.append(line)
            continue
        if tag not in _FILED:
            raise _Aside
        first = elements[1].strip() if len(elements) > 1 else ""
        if tag == "NM1" and first not in ENTITIES:
            raise _Aside
        if line is None:
            loop = _file_claim_segment(filed, loop, tag, first, elements)
        elif tag == "DTP" and loop == "2400" and first == "472":
            line.date = line.date or elements
        else:
            loop = _file_line_segment(line, loop, tag, first, elements)
    return filed


_ASIDE_TAGS = frozenset({"SBR", "SVD", "LQ"})  # other payers' loops (2320, 2430) and forms (2440)
_FILED = CLAIM_SEGMENTS - _ASIDE_TAGS  # the segments the quick road files or passes over


def _file_claim_segment(filed: _Filed, loop: str, tag: str, first: str, elements: list[str]) -> str:
    """One segment of the claim's own loops, before its first line; the loop it leaves the claim in."""
    if tag == "SV1":
        raise _Aside  # before the LX that opens its line
    if tag == "HI":
        filed.diagnoses.append(elements)
    elif tag == "REF" and loop == "2300" and first == "G1":
        filed.authorization = filed.authorization or elements
    elif tag == "DTP" and loop == "2300" and first == "454":
        filed.began = filed.began or elements
    elif tag == "NM1":
        loop = "2310B" if first == "82" else "2310A" if first in ("DN", "P3") else "2310"
        if loop == "2310B":
            filed.provider = elements
        elif loop == "2310A" and (filed.referring is None or first == "DN"):
            filed.referring = elements
    elif tag == "PRV" and loop == "2310B":
        filed.taxonomy = elements
    return loop


def _file_line_segment(line: _Line, loop: str, tag: str, first: str, elements: list[str]) -> str:
    """One segment of a service line other than its SV1 and DTP*472; the loop it leaves the line in."""
    if tag == "REF" and loop == "2400" and first == "G1":
        line.authorization = line.authorization or elements
    elif tag == "NM1":
        loop = "2420A" if first == "82" else "2420"
        if loop == "2420A":
            line.provider = elements
    elif tag == "PRV" and loop == "2420A":
        line.taxonomy = elements
    return loop


def _reference(ref: list[str] | None) -> str | None:
    return (_element(ref, 2) or None) if ref is not None else None


def _birth_date(block: ClaimBlock, earliest: datetime.date) -> datetime.date | None:
    """DMG02 of the patient (2010CA), else of the subscriber (2010BA); aside when it is not a date or falls
    after a service."""
    person = block.patient if block.patient is not None else block.subscriber
    dmg = person.birth if person is not None else None
    if dmg is None:
        return None
    form, value = _element(dmg.elements, 1), _element(dmg.elements, 2)
    if not (form or value):
        return None
    born = d8_date(value) if form == "D8" else None
    if born is None or earliest < born:
        raise _Aside
    return born


def _treatment_began(dtp: list[str] | None, earliest: datetime.date) -> datetime.date | None:
    """DTP*454: the date treatment began; aside when it is not a date or falls after a service."""
    if dtp is None:
        return None
    began = d8_date(_element(dtp, 3)) if _element(dtp, 2) == "D8" else None
    if began is None or earliest < began:
        raise _Aside
    return began
