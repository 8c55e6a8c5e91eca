"""The quick road for claim JSON already in the usual shape: one pass, checking only where a value can fail.

`json_claims.claim_from_dict` reads every claim field by field, collecting every problem in a biller's words;
that careful road cost about 60 µs for a claim of four lines, most of the cost of `Policy.check`. Most claims
are written by software in one shape: known fields, codes, modifiers and dates as text, counts as numbers,
no treatment periods, nothing for a payer's front end to reject. `quick_claim` reads such a claim and gives
the `Claim` the careful road would give, or None the moment anything differs from the usual shape (an
unknown or missing field, a value of another type, a lower-case code, a field this road does not read, any
data fault), and the careful road then reads the claim from the start: every problem and data fault, and its
wording, comes from there alone. `tests/test_claim_quick.py` holds the two roads to the same claims.

Values seen before are looked up rather than checked again (codes, modifiers, dates of service, diagnoses,
providers): a claim file holds a few hundred distinct ones. Each table only ever holds values that passed
the careful road's own check, and is emptied when full, so a file of odd values costs memory for a moment
only. Nothing that identifies a patient is kept (no patient id or birth date).
"""

from __future__ import annotations

import datetime

from payerpolicy._frozen import maker
from payerpolicy.claims import json_fields
from payerpolicy.claims.model import Claim, Provider, ServiceLine
from payerpolicy.claims.values import (
    CPT_HCPCS,
    FREQUENCIES,
    ISO_DATE,
    MAX_COUNT,
    MAX_DIAGNOSIS_POINTER,
    MAX_MODIFIERS,
    MODIFIER,
    PLACE_OF_SERVICE,
    PROVIDER_TYPES,
    icd10_with_dot,
    is_amount,
    is_text,
    npi_fault,
    upper_ascii,
)

__all__ = ["quick_claim", "claim_head"]


# The fields this road reads (`json_fields`: every field but the careful road's own); a claim with any other
# (periods, a birth date, a misspelling) takes the careful road.
_CLAIM_FIELDS = json_fields.CLAIM.quick
_LINE_FIELDS = json_fields.LINE.quick
# The fields most lines have: a line with no others skips looking for the rest (pointers, place, authorization).
_USUAL_LINE_FIELDS = frozenset({"code", "modifiers", "units", "minutes", "date", "charge", "provider"})
_PATIENT_FIELDS = json_fields.PATIENT.quick
_PROVIDER_FIELDS = json_fields.PROVIDER.quick
_PROVIDER_TYPES = frozenset(PROVIDER_TYPES)

_make_line = maker(ServiceLine)
_make_claim = maker(Claim)

_NEITHER = (None, None)  # no place of service, no prior authorization
_LIMIT = 20_000  # values per table before it is emptied: more than a real file's distinct codes or NPIs
_codes: dict[str, str] = {}  # code as written -> as the model keeps it (upper case)
_modifiers: set[str] = set()  # modifiers as written that are already what the model keeps
# Lists of them as the model keeps them (tuples of plain text), each under itself: a line's list is found by
# equality, so the same modifiers as a str subclass (an enum's members) give the plain text the careful road
# gives; such a list is never kept (the walk below refuses anything but plain text).
_modifier_lists: dict[tuple, tuple[str, ...]] = {}
_dates: dict[str, datetime.date] = {}
_diagnoses: dict[str, str] = {}  # as written -> with the dot
_providers: dict[tuple, Provider] = {}  # (npi, type) -> the one Provider for it (frozen, so shared)


def quick_claim(obj: dict) -> Claim | None:
    """The `Claim` the careful road reads from `obj`, or None when `obj` is not in the usual shape (then
    nothing is known about it: the careful road reads it)."""
    head = claim_head(obj)
    if head is None:
        return None
    claim_id, patient_id, payer, provider, diagnoses, frequency, place, authorization, raw_lines = head
    lines = []
    for number, raw in enumerate(raw_lines, 1):
        line = _line(raw, number, len(diagnoses))
        if line is None:
            return None
        lines.append(line)
    return _make_claim(
        claim_id,
        patient_id,
        tuple(lines),
        payer,
        provider,
        diagnoses,
        frequency,
        place,
        authorization,
        None,
        None,
        None,
        (),
    )


def claim_head(obj: dict) -> tuple | None:
    """What the quick road reads of a claim before its lines: (id, patient id, payer, provider, diagnoses,
    frequency, place of service, prior authorization, the lines as written: a list, not empty), or None when
    any of it is not in the usual shape."""
    if not _CLAIM_FIELDS.issuperset(obj):
        return None
    claim_id = _id(obj.get("id"))
    patient = obj.get("patient")
    if claim_id is None or type(patient) is not dict or not _PATIENT_FIELDS.issuperset(patient):
        return None
    patient_id = _id(patient.get("id"))
    payer = obj.get("payer")
    if patient_id is None or not (payer is None or (type(payer) is str and payer.strip())):
        return None
    provider = obj.get("provider")
    if provider is not None and (provider := _provider(provider)) is None:
        return None
    if (diagnoses := _diagnoses_of(obj.get("diagnoses"))) is None:
        return None
    frequency = obj.get("frequency")
    if frequency is not None and not (type(frequency) is str and frequency in FREQUENCIES):
        return None
    if (found := _place_and_authorization(obj)) is None:
        return None
    place, authorization = found
    raw_lines = obj.get("lines")
    if type(raw_lines) is not list or not raw_lines:
        return None
    return claim_id, patient_id, payer, provider, diagnoses, frequency, place, authorization, raw_lines


def _line(raw: object, number: int, listed_diagnoses: int) -> ServiceLine | None:
    if type(raw) is not dict:
        return None
    usual = _USUAL_LINE_FIELDS.issuperset(raw)
    if not usual and not _LINE_FIELDS.issuperset(raw):
        return None
    code = raw.get("code")
    if type(code) is not str or (code := _codes.get(code) or _learn_code(code)) is None:
        return None
    units, minutes = raw.get("units"), raw.get("minutes")
    if type(units) is not int or not 0 <= units <= MAX_COUNT:
        return None
    if minutes is not None and (type(minutes) is not int or not 0 <= minutes <= MAX_COUNT):
        return None
    date = raw.get("date")
    if type(date) is not str or (date := _dates.get(date) or _learn_date(date)) is None:
        return None
    if (modifiers := _modifiers_of(raw.get("modifiers"))) is None:
        return None
    provider = raw.get("provider")
    if provider is not None and (provider := _provider(provider)) is None:
        return None
    charge = raw.get("charge")
    if charge is not None:
        if not is_amount(charge):
            return None
        charge = float(charge)
    if usual:
        return _make_line(number, code, date, units, modifiers, minutes, (), charge, (), provider, None, None)
    if (pointers := _pointers(raw.get("diagnosis_pointers"), listed_diagnoses)) is None:
        return None
    if (found := _place_and_authorization(raw)) is None:
        return None
    place, authorization = found
    return _make_line(
        number, code, date, units, modifiers, minutes, (), charge, pointers, provider, place, authorization
    )


def _place_and_authorization(obj: dict) -> tuple[str | None, str | None] | None:
    """A claim's or a line's place of service and prior authorization number, as the careful reader takes
    them; None when either is not in the usual shape (the careful reader then says what is wrong)."""
    if "place_of_service" not in obj and "prior_authorization" not in obj:  # most claims and lines have neither
        return _NEITHER
    place = obj.get("place_of_service")
    if place is not None and not (type(place) is str and PLACE_OF_SERVICE.fullmatch(place)):
        return None
    authorization = obj.get("prior_authorization")
    if authorization is not None:
        if type(authorization) is not str:
            return None
        authorization = authorization.strip() or None
    return place, authorization


def _id(value: object) -> str | None:
    """A claim or patient id the careful road takes as it is (text, or a whole number of up to 64 bits)."""
    if type(value) is str:
        return value if value.strip() and (value.isascii() or is_text(value)) else None
    if type(value) is int and value.bit_length() <= 64:
        return str(value)
    return None


def _provider(value: object) -> Provider | None:
    """A provider object with a valid NPI and a provider type as written in upper case; None otherwise,
    also for an empty one (the careful road takes that as no provider, and says why)."""
    if type(value) is not dict or not _PROVIDER_FIELDS.issuperset(value):
        return None
    npi, kind = value.get("npi"), value.get("type")
    key = (npi, kind)
    try:
        return _providers[key]
    except (KeyError, TypeError):  # TypeError: an npi or type that is a list or an object
        pass
    if npi is None and kind is None:
        return None
    if npi is not None and (type(npi) is not str or npi_fault(npi) is not None):
        return None
    if kind is not None and (type(kind) is not str or kind not in _PROVIDER_TYPES):  # a list is no type
        return None
    return _remember(_providers, key, Provider(npi, kind))


# A list field read by one of the three below is absent (None: an empty list), a list in the usual shape, or
# not in the usual shape at all (None is returned: the careful road reads the claim and says what is wrong).


def _modifiers_of(value: object) -> tuple[str, ...] | None:
    if type(value) is not list:
        return () if value is None else None
    if len(value) > MAX_MODIFIERS:
        return None
    listed = tuple(value)
    try:  # a list of modifiers seen before (most lines): the tuple the model kept then, of plain text
        return _modifier_lists[listed]
    except KeyError:
        pass
    except TypeError:  # an unhashable modifier (a list, an object): not one
        return None
    for modifier in value:
        if type(modifier) is not str:
            return None
        if modifier not in _modifiers:
            if not (modifier.isascii() and modifier == modifier.upper() and MODIFIER.fullmatch(modifier)):
                return None
            if len(_modifiers) >= _LIMIT:
                _modifiers.clear()
            _modifiers.add(modifier)
    return _remember(_modifier_lists, listed, listed)


def _diagnoses_of(value: object) -> tuple[str, ...] | None:
    if type(value) is not list:
        return () if value is None else None
    codes = []
    for raw in value:
        if type(raw) is not str:
            return None
        code = _diagnoses.get(raw)
        if code is None:
            code = icd10_with_dot(upper_ascii(raw) or "")
            if code is None:
                return None
            _remember(_diagnoses, raw, code)
        codes.append(code)
    return tuple(codes)


def _pointers(value: object, listed_diagnoses: int) -> tuple[int, ...] | None:
    """Pointers that each point at a listed diagnosis (one that points at none is a data fault)."""
    if type(value) is not list:
        return () if value is None else None
    highest = min(listed_diagnoses, MAX_DIAGNOSIS_POINTER)
    for pointer in value:
        if type(pointer) is not int or not 1 <= pointer <= highest:
            return None
    return tuple(value)


def _learn_code(code: str) -> str | None:
    upper = upper_ascii(code)
    if upper is None or not CPT_HCPCS.fullmatch(upper):
        return None
    return _remember(_codes, code, upper)


def _learn_date(text: str) -> datetime.date | None:
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        date = datetime.date.fromisoformat(text)
    except ValueError:
        return None
    return _remember(_dates, text, date)


def _remember(table: dict, key, value):
    if len(table) >= _LIMIT:
        table.clear()
    table[key] = value
    return value
