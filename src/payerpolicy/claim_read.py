"""The read stage: claims written as JSON become the claim model.

A claims file holds one claim (a JSON object), a JSON array of claims, or JSON Lines (one claim per line).
`read_claims` tells which from the content, not from the file name, and yields one record per claim, in
input order: a `Claim` when the claim could be read, an `UnreadableClaim` when it could not. A bad claim
never stops a batch, and no exception leaves this module for bad data; the only exception is
`ClaimFileError`, for a file that cannot be opened at all.

`claim_from_dict` turns one decoded claim into the model. It checks every field and collects every problem
it finds, so that a billing specialist can fix a claim in one pass. Field names in problems are those of the
JSON (`lines[2].units`), with lines and diagnoses counted from 1 as on the claim form; messages say what was
found and what is expected, in plain words.

This runs once per claim, so it uses precompiled regular expressions and plain checks rather than the
JSON Schema (`schemas/claim.schema.json`), which documents the same rules for integrators.
"""
from __future__ import annotations

import datetime
import difflib
import itertools
import json
import math
import os
import re
from typing import IO, Iterable, Iterator, NamedTuple

from .claim_model import (
    Claim,
    ClaimProblem,
    ClaimRecord,
    Provider,
    ServiceLine,
    TreatmentPeriod,
    UnreadableClaim,
)

__all__ = ["ClaimFileError", "claim_from_dict", "read_claims"]

PROVIDER_TYPES = ("PT", "PTA", "OT", "OTA", "SLP", "DC", "MD", "DO", "NP", "PA")
FREQUENCIES = {"1": "original", "7": "replacement", "8": "void"}
MAX_MODIFIERS = 4  # the claim form and X12 SV101 have room for four
MAX_DIAGNOSIS_POINTER = 12  # a claim lists at most twelve diagnoses

# Codes are upper-cased before matching; fullmatch is used, so no anchors.
_CPT_HCPCS = re.compile(r"[0-9]{4}[0-9A-Z]|[A-Z][0-9]{4}")
_MODIFIER = re.compile(r"[0-9A-Z]{2}")
_ICD10 = re.compile(r"([A-Z][0-9][0-9A-Z])(?:\.?([0-9A-Z]{1,4}))?")
_NPI = re.compile(r"[0-9]{10}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # fromisoformat alone would also take 20260302
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")

# Allowed fields per level; a tuple keeps the order for the "fields allowed here" hint.
_CLAIM_FIELDS = ("id", "payer", "patient", "provider", "diagnoses", "frequency", "lines")
_PATIENT_FIELDS = ("id",)
_PROVIDER_FIELDS = ("npi", "type")
_LINE_FIELDS = ("code", "modifiers", "units", "minutes", "periods", "date", "charge", "diagnosis_pointers",
                "provider")
_PERIOD_FIELDS = ("start", "end", "provider")


class ClaimFileError(Exception):
    """A claims file that cannot be read at all: no such file, a folder, not UTF-8 text."""


# ---------------------------------------------------------------------------------------------------------
# One claim


def claim_from_dict(obj: object, where: str = "") -> Claim | UnreadableClaim:
    """Turn one claim in the JSON form of design.md into a `Claim`, or an `UnreadableClaim` with every problem.

    `where` says where the claim stood in its input ("claims.jsonl line 7"); it is kept on an unreadable
    claim so that a claim without a usable id can still be found. Never raises for bad data.
    """
    if not isinstance(obj, dict):
        problem = ClaimProblem("claim", f"a claim must be a JSON object in braces {{...}}; found {_describe(obj)}")
        return UnreadableClaim(id=None, problems=(problem,), where=where)
    problems: list[ClaimProblem] = []
    _check_fields(obj, _CLAIM_FIELDS, "", "on the claim", problems)
    claim_id = _read_id(obj.get("id"), "id", "an id", "the claim id", problems)
    patient_id = _read_patient(obj.get("patient"), problems)
    payer = _read_payer(obj.get("payer"), problems)
    provider = _read_provider(obj.get("provider"), "provider", "the claim's provider", problems)
    diagnoses, listed = _read_diagnoses(obj.get("diagnoses"), problems)
    frequency = _read_frequency(obj.get("frequency"), problems)
    lines = _read_lines(obj.get("lines"), listed, problems)
    if lines:
        _check_periods_across_lines(lines, problems)
    if problems:
        return UnreadableClaim(id=claim_id, problems=tuple(problems), where=where, payer=payer,
                               patient_id=patient_id)
    return Claim(id=claim_id, patient_id=patient_id, lines=lines, payer=payer, provider=provider,
                 diagnoses=diagnoses, frequency=frequency)


def _check_periods_across_lines(lines, problems: list[ClaimProblem]) -> None:
    """One patient is not treated twice at once: periods of different lines on one date must not overlap
    (within a line, `_read_periods` already checked). Minutes counted twice would bill units twice."""
    timed = [(line, period) for line in lines for period in line.periods]
    for (line_a, a), (line_b, b) in itertools.combinations(timed, 2):
        if line_a is line_b or line_a.date_of_service != line_b.date_of_service:
            continue
        if a.start_minute < b.end_minute and b.start_minute < a.end_minute:
            problems.append(ClaimProblem(
                f"lines[{line_b.number}].periods",
                f"period {_span(b)} of line {line_b.number} ({line_b.code}) overlaps period {_span(a)} of line "
                f"{line_a.number} ({line_a.code}) on {line_a.date_of_service}; one patient cannot be treated "
                f"twice at the same time"))


def _check_fields(obj: dict, allowed: tuple[str, ...], prefix: str, place: str,
                  problems: list[ClaimProblem]) -> None:
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
        problems.append(ClaimProblem(field, f"{name} must be text or a whole number; found {_describe(value)}"))
        return None
    text = str(value)
    if not text.strip():
        problems.append(ClaimProblem(field, f"{name} is empty; every claim needs {noun}"))
        return None
    return text


def _read_patient(value: object, problems: list[ClaimProblem]) -> str | None:
    if value is None:
        problems.append(ClaimProblem("patient.id", "missing: every claim needs a patient id"))
        return None
    if not isinstance(value, dict):
        problems.append(ClaimProblem(
            "patient", f'patient must be an object like {{"id": "P-1"}}; found {_describe(value)}'))
        return None
    _check_fields(value, _PATIENT_FIELDS, "patient.", "in patient", problems)
    return _read_id(value.get("id"), "patient.id", "a patient id", "the patient id", problems)


def _read_payer(value: object, problems: list[ClaimProblem]) -> str | None:
    if value is None:  # null is taken as "not given" for every optional field
        return None
    if isinstance(value, str) and value.strip():
        return value
    problems.append(ClaimProblem("payer", f"payer must be the payer's name as text, e.g. `medicare`; "
                                          f"found {_describe(value)}"))
    return None


def _read_provider(value: object, field: str, what: str, problems: list[ClaimProblem]) -> Provider | None:
    """A rendering provider. An empty object counts as no provider, so it cannot hide the claim's."""
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.append(ClaimProblem(field, f'{what} must be an object like {{"npi": "1234567893", "type": "PT"}}; '
                                            f"found {_describe(value)}"))
        return None
    _check_fields(value, _PROVIDER_FIELDS, field + ".", "in " + what, problems)
    npi, kind = value.get("npi"), value.get("type")
    if npi is not None and not (isinstance(npi, str) and _NPI.fullmatch(npi)):
        problems.append(ClaimProblem(field + ".npi", f"an NPI is 10 digits written as text, e.g. "
                                                     f'"1234567893"; found {_describe(npi)}'))
        npi = None
    if kind is not None:
        kind = _upper_ascii(kind)
        if kind not in PROVIDER_TYPES:
            problems.append(ClaimProblem(field + ".type", f"provider type must be one of "
                                                          f"{', '.join(PROVIDER_TYPES)}; "
                                                          f"found {_describe(value.get('type'))}"))
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
        problems.append(ClaimProblem("diagnoses", f'diagnoses must be a list like ["I69.351", "R26.89"]; '
                                                  f"found {_describe(value)}"))
        return (), 0
    codes = []
    for number, raw in enumerate(value, 1):
        match = _ICD10.fullmatch(_upper_ascii(raw) or "")
        if match is None:
            found = f"diagnosis {_quote(raw)}" if isinstance(raw, str) else f"found {_describe(raw)}, which"
            problems.append(ClaimProblem(
                f"diagnoses[{number}]",
                f"{found} is not an ICD-10-CM code (a letter, a digit, a letter or digit, then up to four "
                f"more after the dot: I69.351, R26.89)"))
            continue
        category, rest = match.groups()
        codes.append(f"{category}.{rest}" if rest else category)
    return tuple(codes), len(value)


def _read_frequency(value: object, problems: list[ClaimProblem]) -> str | None:
    if value is None:
        return None
    number = _whole_number(value)
    text = str(number) if number is not None else value
    if isinstance(text, str) and text in FREQUENCIES:
        return text
    problems.append(ClaimProblem("frequency", f"frequency must be 1 (original claim), 7 (replacement) or 8 (void); "
                                              f"found {_describe(value)}"))
    return None


# ---------------------------------------------------------------------------------------------------------
# Service lines


def _read_lines(value: object, listed_diagnoses: int, problems: list[ClaimProblem]) -> tuple[ServiceLine, ...]:
    if value is None:
        problems.append(ClaimProblem("lines", "missing: every claim needs at least one service line"))
        return ()
    if not isinstance(value, list):
        problems.append(ClaimProblem("lines", f"lines must be a list [...] of service lines; found {_describe(value)}"))
        return ()
    if not value:
        problems.append(ClaimProblem("lines", "a claim needs at least one service line; found an empty list"))
        return ()
    lines = (_read_line(raw, number, listed_diagnoses, problems) for number, raw in enumerate(value, 1))
    return tuple(line for line in lines if line is not None)


def _read_line(raw: object, number: int, listed_diagnoses: int,
               problems: list[ClaimProblem]) -> ServiceLine | None:
    at = f"lines[{number}]"
    if not isinstance(raw, dict):
        problems.append(ClaimProblem(at, f"line {number} must be an object in braces {{...}}; found {_describe(raw)}"))
        return None
    before = len(problems)
    _check_fields(raw, _LINE_FIELDS, at + ".", f"on line {number}", problems)
    code = _read_code(raw.get("code"), at, problems)
    modifiers = _read_modifiers(raw.get("modifiers"), at, problems)
    units = _read_count(raw.get("units"), at + ".units", "units", problems,
                        missing="missing: every line needs units (how many units are billed)")
    minutes = _read_count(raw.get("minutes"), at + ".minutes", "minutes", problems)
    periods = _read_periods(raw.get("periods"), at, number, problems)
    if periods:  # the periods are the detail behind the minutes: they must agree
        minutes = _minutes_of_periods(periods, minutes, at, problems)
    date = _read_date(raw.get("date"), at, problems)
    charge = _read_charge(raw.get("charge"), at, problems)
    pointers = _read_pointers(raw.get("diagnosis_pointers"), at, listed_diagnoses, problems)
    provider = _read_provider(raw.get("provider"), at + ".provider", f"the provider of line {number}", problems)
    if len(problems) > before:
        return None
    return ServiceLine(number=number, code=code, date_of_service=date, units=units, modifiers=modifiers,
                       minutes=minutes, periods=periods or (), charge=charge, diagnosis_pointers=pointers,
                       provider=provider)


def _read_code(value: object, at: str, problems: list[ClaimProblem]) -> str | None:
    if value is None:
        problems.append(ClaimProblem(at + ".code", "missing: every line needs a procedure code (CPT/HCPCS)"))
        return None
    if not isinstance(value, str):  # a number would lose leading zeros: 0001F
        problems.append(ClaimProblem(at + ".code", f'the code must be text in double quotes, e.g. "97110"; '
                                                   f"found {_describe(value)}"))
        return None
    code = _upper_ascii(value)
    if code is not None and _CPT_HCPCS.fullmatch(code):
        return code
    problems.append(ClaimProblem(at + ".code", f"code {_quote(value)} is not a CPT/HCPCS code "
                                               f"(five characters: 97112, G0283)"))
    return None


def _read_modifiers(value: object, at: str, problems: list[ClaimProblem]) -> tuple[str, ...]:
    field = at + ".modifiers"
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(ClaimProblem(field, f'modifiers must be a list like ["GP", "KX"]; found {_describe(value)}'))
        return ()
    if len(value) > MAX_MODIFIERS:
        problems.append(ClaimProblem(field, f"a line may carry at most {MAX_MODIFIERS} modifiers; found {len(value)}"))
    modifiers = []
    for raw in value:
        modifier = _upper_ascii(raw)
        if modifier is None or not _MODIFIER.fullmatch(modifier):
            found = f"modifier {_quote(raw)}" if isinstance(raw, str) else f"found {_describe(raw)}, which"
            problems.append(ClaimProblem(field, f"{found} is not a modifier (two letters or digits: GP, 59, KX)"))
            continue
        modifiers.append(modifier)
    return tuple(modifiers)


def _read_count(value: object, field: str, noun: str, problems: list[ClaimProblem],
                missing: str | None = None) -> int | None:
    """Units and minutes: a whole number of 0 or more. Required only when `missing` says what to tell."""
    if value is None:
        if missing:
            problems.append(ClaimProblem(field, missing))
        return None
    number = _whole_number(value)
    if number is None:
        problems.append(ClaimProblem(field, f"{noun} must be a whole number of 0 or more; found {_describe(value)}"))
    return number


def _read_periods(value: object, at: str, number: int,
                  problems: list[ClaimProblem]) -> tuple[TreatmentPeriod, ...] | None:
    """Treatment periods of a line, or None when they are absent or cannot be used."""
    if value is None:
        return None
    if not isinstance(value, list):
        problems.append(ClaimProblem(at + ".periods", f'periods must be a list like [{{"start": "09:00", '
                                                      f'"end": "09:24"}}]; found {_describe(value)}'))
        return None
    periods = [_read_period(raw, f"{at}.periods[{index}]", f"in period {index} of line {number}", problems)
               for index, raw in enumerate(value, 1)]
    usable = [period for period in periods if period is not None]
    overlapping = False
    for first, second in itertools.combinations(usable, 2):
        if first.start_minute < second.end_minute and second.start_minute < first.end_minute:
            overlapping = True
            problems.append(ClaimProblem(at + ".periods", f"periods {_span(first)} and {_span(second)} overlap; "
                                                          f"the same minutes cannot be counted twice"))
    return None if overlapping or len(usable) < len(periods) else tuple(usable)


def _read_period(raw: object, field: str, place: str, problems: list[ClaimProblem]) -> TreatmentPeriod | None:
    if not isinstance(raw, dict):
        problems.append(ClaimProblem(field, f'a period must be an object like {{"start": "09:00", "end": "09:24"}}; '
                                            f"found {_describe(raw)}"))
        return None
    _check_fields(raw, _PERIOD_FIELDS, field + ".", place, problems)
    start = _read_time(raw.get("start"), field + ".start", "start", problems)
    end = _read_time(raw.get("end"), field + ".end", "end", problems)
    provider = _read_provider(raw.get("provider"), field + ".provider", f"the provider {place}", problems)
    if start is None or end is None:
        return None
    period = TreatmentPeriod(start_minute=start, end_minute=end, provider=provider)
    if end <= start:
        problems.append(ClaimProblem(field, f"period {_span(period)} must end after it starts "
                                            f"(a period cannot run past midnight)"))
        return None
    return period


def _read_time(value: object, field: str, noun: str, problems: list[ClaimProblem]) -> int | None:
    """A time of day HH:MM, as minutes since midnight."""
    if value is None:
        problems.append(ClaimProblem(field, f"missing: every period needs its {noun} time (HH:MM)"))
        return None
    if not isinstance(value, str):
        problems.append(ClaimProblem(field, f'{noun} time must be text written HH:MM, e.g. "09:00"; '
                                            f"found {_describe(value)}"))
        return None
    match = _TIME.fullmatch(value)
    if match is None:
        problems.append(ClaimProblem(field, f"{noun} time {_quote(value)} is not a time of day written HH:MM "
                                            f"(24-hour clock: 09:00, 14:30)"))
        return None
    return int(match[1]) * 60 + int(match[2])


def _minutes_of_periods(periods: tuple[TreatmentPeriod, ...], minutes: int | None, at: str,
                        problems: list[ClaimProblem]) -> int:
    total = sum(period.minutes for period in periods)
    if minutes is not None and minutes != total:
        problems.append(ClaimProblem(at + ".minutes", f"minutes ({minutes}) do not match the periods, which add up "
                                                      f"to {total} minutes; give one or the other, or make them agree"))
    return total


def _read_date(value: object, at: str, problems: list[ClaimProblem]) -> datetime.date | None:
    field = at + ".date"
    if value is None:
        problems.append(ClaimProblem(field, "missing: every line needs a date of service (YYYY-MM-DD)"))
        return None
    if not isinstance(value, str):
        problems.append(ClaimProblem(field, f'date must be text written YYYY-MM-DD, e.g. "2026-03-02"; '
                                            f"found {_describe(value)}"))
        return None
    if not _DATE.fullmatch(value):
        problems.append(ClaimProblem(field, f"date {_quote(value)} is not written YYYY-MM-DD (e.g. 2026-03-02)"))
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        problems.append(ClaimProblem(field, f"date {_quote(value)} is not a real date (expected YYYY-MM-DD)"))
        return None


def _read_charge(value: object, at: str, problems: list[ClaimProblem]) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
        return float(value)
    problems.append(ClaimProblem(at + ".charge", f"charge must be an amount of 0 or more, e.g. 120.00; "
                                                 f"found {_describe(value)}"))
    return None


def _read_pointers(value: object, at: str, listed_diagnoses: int, problems: list[ClaimProblem]) -> tuple[int, ...]:
    """Diagnosis pointers: positions (from 1) in the claim's list of diagnoses."""
    field = at + ".diagnosis_pointers"
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(ClaimProblem(field, f"diagnosis pointers must be a list like [1, 2]; found {_describe(value)}"))
        return ()
    pointers = []
    for raw in value:
        pointer = _whole_number(raw)
        if pointer is None or not 1 <= pointer <= MAX_DIAGNOSIS_POINTER:
            problems.append(ClaimProblem(field, f"diagnosis pointers must be whole numbers from 1 to "
                                                f"{MAX_DIAGNOSIS_POINTER}; found {_describe(raw)}"))
        elif pointer > listed_diagnoses:
            listed = f"lists only {listed_diagnoses}" if listed_diagnoses else "lists none"
            problems.append(ClaimProblem(field, f"diagnosis pointer {pointer} points at no diagnosis: "
                                                f"the claim {listed}"))
        else:
            pointers.append(pointer)
    return tuple(pointers)


# ---------------------------------------------------------------------------------------------------------
# Small helpers for values and messages


def _whole_number(value: object) -> int | None:
    """A whole number of 0 or more; 2.0 counts (some systems write every number as a float), true does not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return None


def _upper_ascii(value: object) -> str | None:
    # isascii first: upper() maps some non-ASCII letters to ASCII ones ("ſ" -> "S").
    return value.upper() if isinstance(value, str) and value.isascii() else None


def _span(period: TreatmentPeriod) -> str:
    return f"{_clock(period.start_minute)}-{_clock(period.end_minute)}"


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _quote(text: str, limit: int = 40) -> str:
    return f"`{text if len(text) <= limit else text[:limit] + '...'}`"


def _describe(value: object) -> str:
    """A found value in words a billing specialist reads: `the text "two"`, `1.5`, `a list`."""
    if value is None:
        return "null (no value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return f'the text "{value if len(value) <= 40 else value[:40] + "..."}"' if value else "empty text"
    if isinstance(value, list):
        return "a list [...]"
    if isinstance(value, dict):
        return "an object {...}"
    return f"a {type(value).__name__}"


# ---------------------------------------------------------------------------------------------------------
# Files


class _Line(NamedTuple):
    number: int  # counting from 1, blank lines included, as an editor shows them
    text: str | None  # None when the line is not UTF-8
    error: UnicodeDecodeError | None = None


# The most text looked at to tell a pretty-printed claim from JSON Lines whose first line is broken. A file
# whose first line is a complete claim never needs it.
_SAMPLE_CHARS = 1 << 20


def read_claims(source: str | os.PathLike | IO, name: str | None = None) -> Iterator[ClaimRecord]:
    """Read every claim in a file or text stream: one `Claim` or `UnreadableClaim` per claim, in input order.

    The layout (one claim, a JSON array, JSON Lines) is told from the content. JSON Lines are read line by
    line; a single claim or an array is read whole. `name` is the name used in `where` ("claims.jsonl
    line 7"); by default the path as given, or the stream's name. Raises `ClaimFileError` here, before any
    claim is yielded, when the file cannot be opened or is not UTF-8 text; a JSON Lines file stays open
    until its iterator is exhausted or closed.
    """
    stream, label, owned = _open(source, name)
    streaming = False
    try:
        records, streaming = _records(_numbered_lines(stream, label), label)
    finally:
        if owned and not streaming:
            stream.close()
    return _closing(records, stream) if owned and streaming else records


def _open(source: str | os.PathLike | IO, name: str | None) -> tuple[IO, str, bool]:
    """The stream to read, the name to show, and whether this module opened it (and so must close it)."""
    if not isinstance(source, (str, os.PathLike)):
        stream_name = getattr(source, "name", None)
        return source, name or (stream_name if isinstance(stream_name, str) else "<input>"), False
    path = os.fspath(source)
    try:
        # Binary, so that a JSON Lines line that is not UTF-8 spoils only its own claim.
        return open(path, "rb"), name or str(path), True
    except FileNotFoundError:
        raise ClaimFileError(f"cannot read claims from {path}: no such file") from None
    except IsADirectoryError:
        raise ClaimFileError(f"cannot read claims from {path}: it is a folder, not a file") from None
    except OSError as err:
        raise ClaimFileError(f"cannot read claims from {path}: {err.strerror or err}") from None


def _closing(records: Iterator[ClaimRecord], stream: IO) -> Iterator[ClaimRecord]:
    try:
        yield from records
    finally:
        stream.close()


def _numbered_lines(stream: IO, label: str) -> Iterator[_Line]:
    try:
        for number, raw in enumerate(stream, 1):
            if isinstance(raw, bytes):
                try:
                    raw = raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    yield _Line(number, None, err)
                    continue
            if number == 1 and raw.startswith("\ufeff"):  # a byte order mark, as some Windows tools write
                raw = raw[1:]
            yield _Line(number, raw)
    except UnicodeDecodeError as err:  # a text stream opened by the caller
        raise ClaimFileError(f"{label} is not UTF-8 text ({err.reason}); save it as UTF-8") from None
    except OSError as err:
        raise ClaimFileError(f"cannot read claims from {label}: {err.strerror or err}") from None


def _records(lines: Iterator[_Line], label: str) -> tuple[Iterator[ClaimRecord], bool]:
    """Tell the layout from the first lines; return the records and whether they still read from the file."""
    head: list[_Line] = []
    for line in lines:
        head.append(line)
        if line.text is None or line.text.strip():
            break
    else:
        return iter(()), False  # empty, or only blank lines
    first = head[-1]
    if first.text is None:
        raise ClaimFileError(_not_utf8(label, first))
    if first.text.lstrip().startswith("["):
        return _document(itertools.chain(head, lines), label), False
    if isinstance(_parse_alone(first.text), dict):
        # A complete claim on the first line: JSON Lines, unless nothing else follows.
        for line in lines:
            head.append(line)
            if line.text is None or line.text.strip():
                return _json_lines(itertools.chain(head, lines), label), True
        return iter([claim_from_dict(json.loads(first.text), label)]), False
    return _unclear_layout(head, lines, label)


def _unclear_layout(head: list[_Line], lines: Iterator[_Line], label: str) -> tuple[Iterator[ClaimRecord], bool]:
    """The first line is not a claim by itself: a claim written over several lines, or JSON Lines whose first
    line is broken. A sample of the file decides; a whole file that is valid JSON is always one document."""
    size = sum(len(line.text or "") for line in head)
    complete = True
    for line in lines:
        head.append(line)
        size += len(line.text or "")
        if size > _SAMPLE_CHARS:
            complete = False
            break
    failure = None
    if complete and all(line.text is not None for line in head):
        try:
            value = json.loads("".join(line.text for line in head))
        except (ValueError, RecursionError) as err:
            failure = err
        else:
            return _from_document(value, label), False
    if _mostly_claim_lines(head):
        return _json_lines(itertools.chain(head, lines), label), not complete
    if failure is not None:
        return iter([_unparsable_file(label, failure)]), False
    return _document(itertools.chain(head, lines), label), False


def _mostly_claim_lines(head: list[_Line]) -> bool:
    """Whether at least half the non-blank lines after the first hold a complete JSON object each."""
    rest = [line for line in head if line.text is None or line.text.strip()][1:]
    alone = sum(1 for line in rest if line.text is not None and isinstance(_parse_alone(line.text), dict))
    return alone > 0 and 2 * alone >= len(rest)


def _parse_alone(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _document(lines: Iterable[_Line], label: str) -> Iterator[ClaimRecord]:
    """A whole file that is one JSON value: a claim or an array of claims."""
    parts = []
    for line in lines:
        if line.text is None:
            raise ClaimFileError(_not_utf8(label, line))
        parts.append(line.text)
    try:
        value = json.loads("".join(parts))
    except (ValueError, RecursionError) as err:
        return iter([_unparsable_file(label, err)])
    return _from_document(value, label)


def _from_document(value: object, label: str) -> Iterator[ClaimRecord]:
    if isinstance(value, list):
        return (claim_from_dict(item, f"{label} claim {number}") for number, item in enumerate(value, 1))
    return iter([claim_from_dict(value, label)])


def _json_lines(lines: Iterable[_Line], label: str) -> Iterator[ClaimRecord]:
    """One claim per non-blank line; a line that cannot be read becomes an unreadable claim of its own."""
    for line in lines:
        where = f"{label} line {line.number}"
        if line.text is None:
            problem = ClaimProblem("encoding", f"this line is not UTF-8 text (byte {line.error.start + 1} of the "
                                               f"line cannot be read); save the file as UTF-8")
        elif not line.text.strip():
            continue
        else:
            try:  # without the line break, an error at the end of the line is not reported on the next one
                yield claim_from_dict(json.loads(line.text.rstrip("\r\n")), where)
                continue
            except (ValueError, RecursionError) as err:
                problem = ClaimProblem("json", f"this line is not valid JSON: {_json_reason(err, with_line=False)}")
        yield UnreadableClaim(id=None, problems=(problem,), where=where)


def _unparsable_file(label: str, err: Exception) -> UnreadableClaim:
    problem = ClaimProblem("json", f"{label} is not valid JSON: {_json_reason(err, with_line=True)}")
    return UnreadableClaim(id=None, problems=(problem,), where=label)


# json's messages, in words for people who do not write JSON by hand (matched by their start).
_JSON_REASONS = (
    ("Expecting value", "expected a value (a number, text in double quotes, true, false, null, [...] or {...})"),
    ("Expecting ',' delimiter", "expected a comma between two items, or a closing } or ]"),
    ("Expecting ':' delimiter", "expected a colon after a field name"),
    ("Expecting property name", "expected a field name in double quotes (a comma too many, or single quotes?)"),
    ("Unterminated string", "text in double quotes is not closed"),
    ("Invalid control character", "a line break or tab inside text in double quotes"),
    ("Invalid \\uXXXX", "a \\u escape that is not four hexadecimal digits"),
    ("Invalid \\escape", "a backslash that starts no valid escape (write \\\\ for a backslash)"),
    ("Extra data", "more text after the end of the JSON value"),
)


def _json_reason(err: Exception, with_line: bool) -> str:
    if isinstance(err, RecursionError):
        return "it is nested too deeply"
    if not isinstance(err, json.JSONDecodeError):
        return str(err)
    reason = next((plain for start, plain in _JSON_REASONS if err.msg.startswith(start)), err.msg)
    where = f"line {err.lineno}, column {err.colno}" if with_line else f"column {err.colno}"
    return f"{reason} at {where}"


def _not_utf8(label: str, line: _Line) -> str:
    utf16 = line.number == 1 and line.error is not None and line.error.object[:2] in (b"\xff\xfe", b"\xfe\xff")
    kind = "it looks like UTF-16" if utf16 else f"line {line.number} has bytes that are not UTF-8"
    return f"{label} is not UTF-8 text ({kind}); save it as UTF-8"
