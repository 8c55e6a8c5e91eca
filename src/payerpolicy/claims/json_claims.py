"""The read stage: claims written as JSON become the claim model.

A claims file holds one claim (a JSON object), a JSON array of claims, or JSON Lines (one claim per line).
`read_claims` tells which from the content, not from the file name, and yields one record per claim, in
input order: a `Claim` when the claim could be read, an `UnreadableClaim` when it could not. A bad claim
never stops a batch, and no exception leaves this module for bad data; the only exception is
`ClaimFileError`, for a file that cannot be opened at all.

`claim_from_dict` turns one decoded claim into the model. It checks every field and collects every problem
it finds, so that a billing specialist can fix a claim in one pass. What a payer's front end would reject
but which leaves the lines meaningful (an NPI of the wrong length or check digit, a pointer to no diagnosis,
a place of service, birth date or date treatment began that is wrong) is a data fault on a readable claim,
judged like any other (`claims.model.DataFault`). Field names in problems are those of the
JSON (`lines[2].units`), with lines and diagnoses counted from 1 as on the claim form; messages say what was
found and what is expected, in plain words.

This runs once per claim, so it uses precompiled regular expressions and plain checks rather than the
JSON Schema (`schemas/claim.schema.json`), which documents the same rules for integrators. The rules for
values that every claim reader shares (code shapes, NPIs, whole numbers, the wording of found values) live
in `claims.values`; how claims are laid out in a file, and read from it, in `claims.json_files`.
"""

from __future__ import annotations

import datetime
import difflib
import itertools
import os
import re
from typing import IO, Iterator

from payerpolicy._internal_error import NOT_A_BUG
from payerpolicy.claims.model import (
    Claim,
    ClaimProblem,
    DataFault,
    ClaimRecord,
    Provider,
    ServiceLine,
    TreatmentPeriod,
    UnreadableClaim,
)
from payerpolicy.claims import json_fields
from payerpolicy.claims.reading import ClaimReading, LineReading, failed_reading
from payerpolicy.claims.json_quick import quick_claim
from payerpolicy.claims.json_files import SAMPLE_CHARS, ClaimFileError, read_json_claims
from payerpolicy.claims.values import (
    CPT_HCPCS,
    FREQUENCIES,
    ISO_DATE,
    MAX_AMOUNT,
    MAX_COUNT,
    MAX_DIAGNOSIS_POINTER,
    MAX_MODIFIERS,
    PLACE_OF_SERVICE,
    PROVIDER_TYPES,
    describe,
    diagnosis_code,
    modifier_code,
    is_amount,
    is_text,
    npi_fault,
    quote,
    too_large,
    upper_ascii,
    whole_number,
    written_as,
)

__all__ = ["ClaimFileError", "claim_from_dict", "read_claims"]

_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")

# Allowed fields per level (`json_fields`, which the quick road reads too); a tuple keeps the order for the
# "fields allowed here" hint.
_CLAIM_FIELDS = json_fields.CLAIM.fields
_PATIENT_FIELDS = json_fields.PATIENT.fields
_PROVIDER_FIELDS = json_fields.PROVIDER.fields
_LINE_FIELDS = json_fields.LINE.fields
_PERIOD_FIELDS = json_fields.PERIOD.fields


# ---------------------------------------------------------------------------------------------------------
# One claim


def claim_from_dict(obj: object, where: str = "") -> Claim | UnreadableClaim:
    """Turn one claim in the JSON form of design.md into a `Claim`, or an `UnreadableClaim` with every problem.

    `where` says where the claim stood in its input ("claims.jsonl line 7"); it is kept on an unreadable
    claim so that a claim without a usable id can still be found. Never raises for bad data.

    A claim in the usual shape takes the quick road (`claims.json_quick`), which gives the same `Claim`;
    anything else is read here, field by field, and every problem in it is found.
    """
    try:
        if type(obj) is dict:
            claim = quick_claim(obj)
            if claim is not None:
                return claim
        return claim_field_by_field(obj, where)
    except NOT_A_BUG:
        raise
    except Exception as exc:  # a bug in a reader, met on this claim: it is sent back, the run goes on
        return failed_reading(obj.get("id") if isinstance(obj, dict) else None, where, exc)


def claim_field_by_field(obj: object, where: str = "") -> Claim | UnreadableClaim:
    """The careful road of `claim_from_dict`: every field read and checked, every problem found."""
    if not isinstance(obj, dict):
        problem = ClaimProblem("claim", f"a claim must be a JSON object in braces {{...}}; found {describe(obj)}")
        return UnreadableClaim(id=None, problems=(problem,), where=where)
    reading = ClaimReading(where)
    problems, faults = reading.problems, reading.faults
    _check_fields(obj, _CLAIM_FIELDS, "", "on the claim", problems)
    reading.id = _read_id(obj.get("id"), "id", "an id", "the claim id", problems)
    reading.patient_id = _read_patient(obj.get("patient"), problems)
    reading.payer = _read_payer(obj.get("payer"), problems)
    reading.provider = _read_provider(obj.get("provider"), "provider", "the claim's provider", problems, faults)
    reading.diagnoses, listed = _read_diagnoses(obj.get("diagnoses"), problems)
    reading.frequency = _read_frequency(obj.get("frequency"), problems)
    reading.place_of_service = _read_place(obj.get("place_of_service"), "place_of_service", None, problems, faults)
    reading.prior_authorization = _read_text(
        obj.get("prior_authorization"), "prior_authorization", "the prior-authorization number", problems
    )
    reading.referring_npi = _read_npi(
        obj.get("referring_npi"),
        "referring_npi",
        "the referring provider's NPI",
        "referring_npi",
        None,
        problems,
        faults,
    )
    _read_lines(obj.get("lines"), listed, reading)
    if reading.lines:
        _check_periods_across_lines(reading.lines, problems)
    reading.patient_birth_date, reading.treatment_began = _read_claim_days(obj, reading.lines, faults)
    return reading.record()


def _read_claim_days(
    obj: dict, lines: list[ServiceLine], faults: list[DataFault]
) -> tuple[datetime.date | None, datetime.date | None]:
    """The patient's date of birth and the date treatment began, each held to the lines' dates of service."""
    dates = [line.date_of_service for line in lines]
    born = _read_day(
        obj["patient"].get("birth_date") if isinstance(obj.get("patient"), dict) else None,
        "patient.birth_date",
        "the patient's date of birth",
        "patient_birth_date",
        dates,
        faults,
    )
    began = _read_day(
        obj.get("treatment_began"), "treatment_began", "the date treatment began", "date_treatment_began", dates, faults
    )
    return born, began


def _read_text(value: object, field: str, what: str, problems: list[ClaimProblem]) -> str | None:
    """Plain text such as a prior-authorization number; a number is taken as its digits."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    problems.append(ClaimProblem(field, f"{what} must be text; found {describe(value)}"))
    return None


def _read_place(
    value: object, field: str, line: int | None, problems: list[ClaimProblem], faults: list[DataFault]
) -> str | None:
    """A place of service: two digits as text ("11"); a whole number is taken as its two digits."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 99:
        return f"{value:02d}"
    if not isinstance(value, str):
        problems.append(
            ClaimProblem(field, f'the place of service must be text of two digits, e.g. "11"; found {describe(value)}')
        )
        return None
    if PLACE_OF_SERVICE.fullmatch(value):
        return value
    where = f"line {line}: " if line is not None else ""
    faults.append(
        DataFault(
            "place_of_service",
            field,
            f"{where}the place of service {quote(value)} is not a place "
            f"of service code (two digits: 11 office, 22 outpatient "
            f"hospital)",
            line,
        )
    )
    return None


def _read_npi(
    value: object,
    field: str,
    whose: str,
    fault: str,
    line: int | None,
    problems: list[ClaimProblem],
    faults: list[DataFault],
) -> str | None:
    """An NPI written as text. One of the wrong length or check digit is a data fault, kept as written when
    it is digits; anything but text is a problem (a number would lose leading zeros)."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(
            ClaimProblem(field, f'an NPI is 10 digits written as text, e.g. "1234567893"; found {describe(value)}')
        )
        return None
    wrong = npi_fault(value)
    if wrong is not None:
        faults.append(DataFault(fault, field, f"{whose} {quote(value)} {wrong}", line))
    return value if wrong is None or (value.isascii() and value.isdigit()) else None


def _read_day(
    value: object, field: str, what: str, fault: str, dates: list[datetime.date], faults: list[DataFault]
) -> datetime.date | None:
    """A date of the claim (birth, treatment began): YYYY-MM-DD, on or before every date of service. One that
    is not, or falls after a service, is a data fault: the lines can still be judged."""
    if value is None:
        return None
    day = None
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            pass
    if day is None:
        faults.append(
            DataFault(fault, field, f"{what} must be a real date written YYYY-MM-DD; found {describe(value)}")
        )
        return None
    later = [date for date in dates if date < day]
    if later:
        faults.append(DataFault(fault, field, f"{what} {day} is after a date of service ({min(later)})"))
    return day


def _check_periods_across_lines(lines, problems: list[ClaimProblem]) -> None:
    """One patient is not treated twice at once: periods of different lines on one date must not overlap
    (within a line, `_read_periods` already checked). Minutes counted twice would bill units twice."""
    timed = [(line, period) for line in lines for period in line.periods]
    for (line_a, a), (line_b, b) in itertools.combinations(timed, 2):
        if line_a is line_b or line_a.date_of_service != line_b.date_of_service:
            continue
        if a.start_minute < b.end_minute and b.start_minute < a.end_minute:
            problems.append(
                ClaimProblem(
                    f"lines[{line_b.number}].periods",
                    f"period {_span(b)} of line {line_b.number} ({line_b.code}) overlaps period {_span(a)} of line "
                    f"{line_a.number} ({line_a.code}) on {line_a.date_of_service}; one patient cannot be treated "
                    f"twice at the same time",
                )
            )


def _check_fields(obj: dict, allowed: tuple[str, ...], prefix: str, place: str, problems: list[ClaimProblem]) -> None:
    """Report fields the claim JSON does not define: they are nearly always misspellings of one that it does."""
    for key in obj:
        if key in allowed:
            continue
        name = str(key)
        close = difflib.get_close_matches(name.lower(), allowed, n=1)
        hint = f"did you mean `{close[0]}`?" if close else "the fields allowed here are " + ", ".join(allowed)
        problems.append(ClaimProblem(prefix + name, f"unknown field `{name}` {place}; {hint}"))


def _read_id(value: object, field: str, noun: str, name: str, problems: list[ClaimProblem]) -> str | None:
    """A claim or patient id: text, or a whole number (written as text in the model)."""
    if value is None:
        problems.append(ClaimProblem(field, f"missing: every claim needs {noun}"))
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # the JSON Schema's "integer" takes 1001.0 too
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        problems.append(ClaimProblem(field, f"{name} must be text or a whole number; found {describe(value)}"))
        return None
    if isinstance(value, int) and value.bit_length() > 64:
        problems.append(ClaimProblem(field, f"{name} is {describe(value)}: too long to be an id"))
        return None
    text = str(value)
    if not text.strip():
        problems.append(ClaimProblem(field, f"{name} is empty; every claim needs {noun}"))
        return None
    if not is_text(text):
        problems.append(
            ClaimProblem(field, f"{name} holds a character that is not text (a lone UTF-16 surrogate such as \\ud800)")
        )
        return None
    return text


def _read_patient(value: object, problems: list[ClaimProblem]) -> str | None:
    if value is None:
        problems.append(ClaimProblem("patient.id", "missing: every claim needs a patient id"))
        return None
    if not isinstance(value, dict):
        problems.append(
            ClaimProblem("patient", f'patient must be an object like {{"id": "P-1"}}; found {describe(value)}')
        )
        return None
    _check_fields(value, _PATIENT_FIELDS, "patient.", "in patient", problems)
    return _read_id(value.get("id"), "patient.id", "a patient id", "the patient id", problems)


def _read_payer(value: object, problems: list[ClaimProblem]) -> str | None:
    if value is None:  # null is taken as "not given" for every optional field
        return None
    if isinstance(value, str) and value.strip():
        return value
    problems.append(
        ClaimProblem("payer", f"payer must be the payer's name as text, e.g. `medicare`; found {describe(value)}")
    )
    return None


def _read_provider(
    value: object,
    field: str,
    what: str,
    problems: list[ClaimProblem],
    faults: list[DataFault] | None = None,
    line: int | None = None,
) -> Provider | None:
    """A rendering provider. An empty object counts as no provider, so it cannot hide the claim's. An NPI of
    the wrong length or check digit is a data fault (in `faults`, when given: a period's provider has none)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.append(
            ClaimProblem(
                field, f'{what} must be an object like {{"npi": "1234567893", "type": "PT"}}; found {describe(value)}'
            )
        )
        return None
    _check_fields(value, _PROVIDER_FIELDS, field + ".", "in " + what, problems)
    npi, kind = value.get("npi"), value.get("type")
    npi = _read_npi(
        npi, field + ".npi", "the NPI of " + what, "rendering_npi", line, problems, faults if faults is not None else []
    )
    if kind is not None:
        kind = upper_ascii(kind)
        if kind not in PROVIDER_TYPES:
            problems.append(
                ClaimProblem(
                    field + ".type",
                    f"provider type must be one of {', '.join(PROVIDER_TYPES)}; found {describe(value.get('type'))}",
                )
            )
            kind = None
    if npi is None and kind is None:
        return None
    return Provider(npi=npi, type=kind)


def _read_diagnoses(value: object, problems: list[ClaimProblem]) -> tuple[tuple[str, ...], int]:
    """ICD-10-CM codes, written with the dot. Also returns how many entries the claim lists, good or bad,
    so that a pointer at a bad entry is not reported a second time as pointing at nothing."""
    if value is None:
        return (), 0
    if not isinstance(value, list):
        problems.append(
            ClaimProblem("diagnoses", f'diagnoses must be a list like ["I69.351", "R26.89"]; found {describe(value)}')
        )
        return (), 0
    codes = []
    for number, raw in enumerate(value, 1):
        code = diagnosis_code(raw, f"diagnoses[{number}]", problems)
        if code is not None:
            codes.append(code)
    return tuple(codes), len(value)


def _read_frequency(value: object, problems: list[ClaimProblem]) -> str | None:
    if value is None:
        return None
    number = whole_number(value)
    text = str(number) if number is not None else value
    if isinstance(text, str) and text in FREQUENCIES:
        return text
    problems.append(
        ClaimProblem(
            "frequency", f"frequency must be 1 (original claim), 7 (replacement) or 8 (void); found {describe(value)}"
        )
    )
    return None


# ---------------------------------------------------------------------------------------------------------
# Service lines


def _read_lines(value: object, listed_diagnoses: int, reading: ClaimReading) -> None:
    problems = reading.problems
    if value is None:
        problems.append(ClaimProblem("lines", "missing: every claim needs at least one service line"))
        return
    if not isinstance(value, list):
        problems.append(ClaimProblem("lines", f"lines must be a list [...] of service lines; found {describe(value)}"))
        return
    if not value:
        problems.append(ClaimProblem("lines", "a claim needs at least one service line; found an empty list"))
        return
    for number, raw in enumerate(value, 1):
        _read_line(raw, number, listed_diagnoses, reading)


def _read_line(raw: object, number: int, listed_diagnoses: int, reading: ClaimReading) -> None:
    problems, faults = reading.problems, reading.faults
    at = f"lines[{number}]"
    if not isinstance(raw, dict):
        problems.append(ClaimProblem(at, f"line {number} must be an object in braces {{...}}; found {describe(raw)}"))
        return
    line = LineReading(reading, number)
    _check_fields(raw, _LINE_FIELDS, at + ".", f"on line {number}", problems)
    line.code = _read_code(raw.get("code"), at, problems)
    line.modifiers = _read_modifiers(raw.get("modifiers"), at, problems)
    line.units = _read_count(
        raw.get("units"),
        at + ".units",
        "units",
        problems,
        missing="missing: every line needs units (how many units are billed)",
    )
    line.minutes = _read_count(raw.get("minutes"), at + ".minutes", "minutes", problems)
    line.periods = _read_periods(raw.get("periods"), at, number, problems)
    if line.periods:  # the periods are the detail behind the minutes: they must agree
        line.minutes = _minutes_of_periods(line.periods, line.minutes, at, problems)
    line.date_of_service = _read_date(raw.get("date"), at, problems)
    line.charge = _read_charge(raw.get("charge"), at, problems)
    line.diagnosis_pointers = _read_pointers(
        raw.get("diagnosis_pointers"), at, number, listed_diagnoses, problems, faults
    )
    line.provider = _read_provider(
        raw.get("provider"), at + ".provider", f"the provider of line {number}", problems, faults, number
    )
    line.place_of_service = _read_place(raw.get("place_of_service"), at + ".place_of_service", number, problems, faults)
    line.prior_authorization = _read_text(
        raw.get("prior_authorization"), at + ".prior_authorization", "the prior-authorization number", problems
    )
    line.done()


def _read_code(value: object, at: str, problems: list[ClaimProblem]) -> str | None:
    if value is None:
        problems.append(ClaimProblem(at + ".code", "missing: every line needs a procedure code (CPT/HCPCS)"))
        return None
    if not isinstance(value, str):  # a number would lose leading zeros: 0001F
        problems.append(
            ClaimProblem(at + ".code", f'the code must be text in double quotes, e.g. "97110"; found {describe(value)}')
        )
        return None
    code = upper_ascii(value)
    if code is not None and CPT_HCPCS.fullmatch(code):
        return code
    problems.append(
        ClaimProblem(at + ".code", f"code {quote(value)} is not a CPT/HCPCS code (five characters: 97112, G0283)")
    )
    return None


def _list_or_problem(value: object, field: str, must: str, problems: list[ClaimProblem]) -> list | None:
    """`value` when it is a list; None when it is missing (nothing to read) or, with the problem, not a list."""
    if value is None or isinstance(value, list):
        return value
    problems.append(ClaimProblem(field, f"{must}; found {describe(value)}"))
    return None


def _read_modifiers(value: object, at: str, problems: list[ClaimProblem]) -> tuple[str, ...]:
    field = at + ".modifiers"
    if (value := _list_or_problem(value, field, 'modifiers must be a list like ["GP", "KX"]', problems)) is None:
        return ()
    if len(value) > MAX_MODIFIERS:
        problems.append(ClaimProblem(field, f"a line may carry at most {MAX_MODIFIERS} modifiers; found {len(value)}"))
    modifiers = []
    for raw in value:
        modifier = modifier_code(raw, field, problems)
        if modifier is not None:
            modifiers.append(modifier)
    return tuple(modifiers)


def _read_count(
    value: object, field: str, noun: str, problems: list[ClaimProblem], missing: str | None = None
) -> int | None:
    """Units and minutes: a whole number of 0 or more. Required only when `missing` says what to tell."""
    if value is None:
        if missing:
            problems.append(ClaimProblem(field, missing))
        return None
    number = whole_number(value)
    if number is None and too_large(value):
        problems.append(ClaimProblem(field, f"{noun} must be at most {MAX_COUNT:,}; found {describe(value)}"))
    elif number is None:
        problems.append(ClaimProblem(field, f"{noun} must be a whole number of 0 or more; found {describe(value)}"))
    return number


def _read_periods(
    value: object, at: str, number: int, problems: list[ClaimProblem]
) -> tuple[TreatmentPeriod, ...] | None:
    """Treatment periods of a line, or None when they are absent or cannot be used."""
    if value is None:
        return None
    if not isinstance(value, list):
        problems.append(
            ClaimProblem(
                at + ".periods",
                f'periods must be a list like [{{"start": "09:00", "end": "09:24"}}]; found {describe(value)}',
            )
        )
        return None
    periods = [
        _read_period(raw, f"{at}.periods[{index}]", f"in period {index} of line {number}", problems)
        for index, raw in enumerate(value, 1)
    ]
    usable = [period for period in periods if period is not None]
    overlapping = False
    for first, second in itertools.combinations(usable, 2):
        if first.start_minute < second.end_minute and second.start_minute < first.end_minute:
            overlapping = True
            problems.append(
                ClaimProblem(
                    at + ".periods",
                    f"periods {_span(first)} and {_span(second)} overlap; the same minutes cannot be counted twice",
                )
            )
    return None if overlapping or len(usable) < len(periods) else tuple(usable)


def _read_period(raw: object, field: str, place: str, problems: list[ClaimProblem]) -> TreatmentPeriod | None:
    if not isinstance(raw, dict):
        problems.append(
            ClaimProblem(
                field, f'a period must be an object like {{"start": "09:00", "end": "09:24"}}; found {describe(raw)}'
            )
        )
        return None
    _check_fields(raw, _PERIOD_FIELDS, field + ".", place, problems)
    start = _read_time(raw.get("start"), field + ".start", "start", problems)
    end = _read_time(raw.get("end"), field + ".end", "end", problems)
    # Who furnished a period is in the notes, not on the claim the payer sees: no data fault for its NPI.
    provider = _read_provider(raw.get("provider"), field + ".provider", f"the provider {place}", problems)
    if start is None or end is None:
        return None
    period = TreatmentPeriod(start_minute=start, end_minute=end, provider=provider)
    if end <= start:
        problems.append(
            ClaimProblem(field, f"period {_span(period)} must end after it starts (a period cannot run past midnight)")
        )
        return None
    return period


def _read_time(value: object, field: str, noun: str, problems: list[ClaimProblem]) -> int | None:
    """A time of day HH:MM, as minutes since midnight."""
    if value is None:
        problems.append(ClaimProblem(field, f"missing: every period needs its {noun} time (HH:MM)"))
        return None
    match = written_as(
        value,
        _TIME,
        field,
        problems,
        must=f"{noun} time",
        named=f"{noun} time",
        form="HH:MM",
        example="09:00",
        not_one="a time of day written HH:MM (24-hour clock: 09:00, 14:30)",
    )
    if match is None:
        return None
    return int(match[1]) * 60 + int(match[2])


def _minutes_of_periods(
    periods: tuple[TreatmentPeriod, ...], minutes: int | None, at: str, problems: list[ClaimProblem]
) -> int:
    total = sum(period.minutes for period in periods)
    if minutes is not None and minutes != total:
        problems.append(
            ClaimProblem(
                at + ".minutes",
                f"minutes ({minutes}) do not match the periods, which add up "
                f"to {total} minutes; give one or the other, or make them agree",
            )
        )
    return total


def _read_date(value: object, at: str, problems: list[ClaimProblem]) -> datetime.date | None:
    field = at + ".date"
    if value is None:
        problems.append(ClaimProblem(field, "missing: every line needs a date of service (YYYY-MM-DD)"))
        return None
    if not isinstance(value, str):
        problems.append(
            ClaimProblem(field, f'date must be text written YYYY-MM-DD, e.g. "2026-03-02"; found {describe(value)}')
        )
        return None
    if not ISO_DATE.fullmatch(value):
        problems.append(ClaimProblem(field, f"date {quote(value)} is not written YYYY-MM-DD (e.g. 2026-03-02)"))
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        problems.append(ClaimProblem(field, f"date {quote(value)} is not a real date (expected YYYY-MM-DD)"))
        return None


def _read_charge(value: object, at: str, problems: list[ClaimProblem]) -> float | None:
    if value is None:
        return None
    if is_amount(value):
        return float(value)
    if too_large(value, MAX_AMOUNT):
        problems.append(
            ClaimProblem(at + ".charge", f"charge must be at most {MAX_AMOUNT:,.2f}; found {describe(value)}")
        )
        return None
    problems.append(
        ClaimProblem(at + ".charge", f"charge must be an amount of 0 or more, e.g. 120.00; found {describe(value)}")
    )
    return None


def _read_pointers(
    value: object, at: str, number: int, listed_diagnoses: int, problems: list[ClaimProblem], faults: list[DataFault]
) -> tuple[int, ...]:
    """Diagnosis pointers: positions (from 1) in the claim's list of diagnoses. One that points at no
    diagnosis, or past the twelfth, is a data fault, kept as written: the line just has fewer diagnoses."""
    field = at + ".diagnosis_pointers"
    if (value := _list_or_problem(value, field, "diagnosis pointers must be a list like [1, 2]", problems)) is None:
        return ()
    pointers = []
    for raw in value:
        pointer = whole_number(raw)
        if pointer is None or pointer == 0:
            problems.append(
                ClaimProblem(
                    field,
                    f"diagnosis pointers must be whole numbers from 1 to "
                    f"{MAX_DIAGNOSIS_POINTER}; found {describe(raw)}",
                )
            )
            continue
        if pointer > MAX_DIAGNOSIS_POINTER:
            faults.append(
                DataFault(
                    "diagnosis_pointer",
                    field,
                    f"line {number}: diagnosis pointer {pointer} is not one of 1 to {MAX_DIAGNOSIS_POINTER}",
                    number,
                )
            )
        elif pointer > listed_diagnoses:
            listed = f"lists only {listed_diagnoses}" if listed_diagnoses else "lists none"
            faults.append(
                DataFault(
                    "diagnosis_pointer",
                    field,
                    f"line {number}: diagnosis pointer {pointer} points at no diagnosis: the claim {listed}",
                    number,
                )
            )
        pointers.append(pointer)
    return tuple(pointers)


# ---------------------------------------------------------------------------------------------------------
# Small helpers for messages


def _span(period: TreatmentPeriod) -> str:
    return f"{_clock(period.start_minute)}-{_clock(period.end_minute)}"


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# ---------------------------------------------------------------------------------------------------------
# Files

# Passed on at every call, so that a test can make the sample small (claims.json_files.SAMPLE_CHARS says why).
_SAMPLE_CHARS = SAMPLE_CHARS


def read_claims(source: str | os.PathLike | IO, name: str | None = None) -> Iterator[ClaimRecord]:
    """Read every claim in a file or text stream: one `Claim` or `UnreadableClaim` per claim, in input order.

    The layout (one claim, a JSON array, JSON Lines) is told from the content. JSON Lines are read line by
    line; a single claim or an array is read whole. `name` is the name used in `where` ("claims.jsonl
    line 7"); by default the path as given, or the stream's name. Raises `ClaimFileError` here, before any
    claim is yielded, when the file cannot be opened or is not UTF-8 text; a JSON Lines file stays open
    until its iterator is exhausted or closed.
    """
    return read_json_claims(source, name, claim_from_dict, _SAMPLE_CHARS)
