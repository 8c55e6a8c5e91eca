"""The read stage's shared rules for claim values: what every claim reader accepts, and how it says what it found.

A claim reaches the model from claim JSON (`claims.json_claims`), X12 837P (`claims.x12`) or FHIR R4
(`claims.fhir`). Each reader finds its values in its own place, but all of them hold the values to the
rules here, so that one claim sent in any format is read alike, or rejected alike:

- procedure codes (CPT/HCPCS), modifiers (at most four on a line), ICD-10-CM diagnoses (written with the
  dot in the model), NPIs, provider types (named directly, or by NUCC taxonomy code), claim frequency codes,
  diagnosis pointers, whole numbers and amounts;
- the wording of problems: `describe` says what value was found in a billing specialist's words, and
  `quote` shows a piece of text, cut short when it is long.

Codes are upper-cased (`upper_ascii`) before they are matched; the patterns are used with `fullmatch`, so
they carry no anchors.
"""

from __future__ import annotations

import json
import math
import re

# The provider types policies name (`provider.type in @...`); a claim may carry only these.
from typing import TYPE_CHECKING, TypeGuard

from payerpolicy.claims.model import ClaimProblem
from payerpolicy.codes import PROVIDER_TYPES, PROVIDERS, THERAPY_MODIFIERS

if TYPE_CHECKING:
    from payerpolicy.claims.model import Claim, Provider, ServiceLine

__all__ = [
    "CPT_HCPCS",
    "FREQUENCIES",
    "ICD10",
    "ISO_DATE",
    "MAX_DIAGNOSIS_POINTER",
    "MAX_MODIFIERS",
    "MODIFIER",
    "NPI",
    "PLACE_OF_SERVICE",
    "PROVIDER_TYPES",
    "TAXONOMY",
    "TAXONOMY_TYPES",
    "describe",
    "diagnosis_code",
    "modifier_code",
    "icd10_with_dot",
    "is_amount",
    "JSON_DECODER",
    "MAX_AMOUNT",
    "MAX_COUNT",
    "is_text",
    "read_json",
    "npi_fault",
    "quote",
    "too_large",
    "upper_ascii",
    "whole_number",
    "written_as",
]

FREQUENCIES = {"1": "original", "7": "replacement", "8": "void"}
"""Claim frequency codes (CLM05-3 in X12) and what each says about the claim."""

MAX_MODIFIERS = 4
"""Modifiers a service line may carry: the claim form and X12 SV101 have room for four."""

MAX_DIAGNOSIS_POINTER = 12
"""The highest diagnosis pointer: a claim lists at most twelve diagnoses."""

MAX_COUNT = 99_999
"""The largest count a claim may give (units, minutes): far past any a payer pays for one line, small enough
that no later step (a SQLite history, a message) meets a number it cannot hold."""

MAX_AMOUNT = 99_999_999.99
"""The largest amount of money a claim may give (a line's charge)."""

CPT_HCPCS = re.compile(r"[0-9]{4}[0-9A-Z]|[A-Z][0-9]{4}")
"""A procedure code, upper case: CPT (97112, 0001F) or HCPCS Level II (G0283)."""

MODIFIER = re.compile(r"[0-9A-Z]{2}")
"""A procedure code modifier, upper case: GP, 59, KX."""

ICD10 = re.compile(r"([A-Z][0-9][0-9A-Z])(?:\.?([0-9A-Z]{1,4}))?")
"""An ICD-10-CM code, upper case, with or without its dot; groups: the category and the rest."""

NPI = re.compile(r"[0-9]{10}")
"""A National Provider Identifier: ten digits."""

PLACE_OF_SERVICE = re.compile(r"[0-9]{2}")
"""A place of service code (CMS's list, the CMS-1500 box 24B): two digits, 11 office, 22 outpatient hospital."""

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
"""A date as claim JSON writes it, 2026-03-02: `date.fromisoformat` alone would also take 20260302."""

TAXONOMY = re.compile(r"[0-9A-Z]{10}")
"""A NUCC provider taxonomy code, upper case: ten letters and digits, 225100000X."""

TAXONOMY_TYPES = {provider.taxonomy: provider.name for provider in PROVIDERS if provider.taxonomy}
"""Provider types by the first four characters of a NUCC taxonomy code, which name the provider type (the
rest names a specialty: 2251X0800X is an orthopedic PT); `codes.PROVIDERS` gives each type's."""


def npi_fault(npi: str) -> str | None:
    """What is wrong with an NPI as written, in a biller's words, or None when it is a valid NPI: ten digits
    whose last is the check digit of the Luhn formula over the other nine with the prefix 80840 (the card
    issuer prefix of US health identifiers: CMS's NPI check-digit specification). A front end rejects both."""
    if not (npi.isascii() and npi.isdigit()):
        return "is not a number of 10 digits"
    if len(npi) != 10:
        return f"has {len(npi)} digits; an NPI has 10"
    total = 24  # the digits of the prefix 80840, as the Luhn formula counts them
    for position, digit in enumerate(reversed(npi[:9])):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    if (10 - total % 10) % 10 != int(npi[9]):
        return "fails the NPI check digit (its last digit does not match the other nine): a digit is mistyped"
    return None


def icd10_with_dot(code: str) -> str | None:
    """An ICD-10-CM code (already upper case) as the model writes it, with the dot (I69351 -> I69.351);
    None when `code` is not one."""
    match = ICD10.fullmatch(code)
    if match is None:
        return None
    category, rest = match.groups()
    return f"{category}.{rest}" if rest else category


def diagnosis_code(raw: object, field: str, problems: list[ClaimProblem]) -> str | None:
    """A diagnosis as claim JSON and FHIR write it: the ICD-10-CM code with its dot, or None, the problem told."""
    code = icd10_with_dot(upper_ascii(raw) or "")
    if code is None:
        found = f"diagnosis {quote(raw)}" if isinstance(raw, str) else f"found {describe(raw)}, which"
        problems.append(
            ClaimProblem(
                field,
                f"{found} is not an ICD-10-CM code (a letter, a digit, a letter or digit, then up to four "
                f"more after the dot: I69.351, R26.89)",
            )
        )
    return code


def modifier_code(raw: object, field: str, problems: list[ClaimProblem]) -> str | None:
    """A modifier as claim JSON and FHIR write it: two letters or digits, upper-cased, or None, the problem told."""
    modifier = upper_ascii(raw)
    if modifier is None or not MODIFIER.fullmatch(modifier):
        found = f"modifier {quote(raw)}" if isinstance(raw, str) else f"found {describe(raw)}, which"
        problems.append(ClaimProblem(field, f"{found} is not a modifier (two letters or digits: GP, 59, KX)"))
        return None
    return modifier


def read_json(text: str):
    """`json.loads` for claim files: a number too long to be a real figure (Python refuses ints of more than
    4,300 digits, and reading a long one is slow) is read as infinity, which every later check refuses as
    too large, naming its field, instead of failing the whole file."""
    return json.loads(text, parse_int=_bounded_int)


JSON_DECODER = json.JSONDecoder(parse_int=lambda digits: _bounded_int(digits))
"""A decoder that reads numbers as `read_json` does, for reading a value at a time (`raw_decode`)."""


def _bounded_int(digits: str):
    return int(digits) if len(digits) <= 30 else math.inf


def whole_number(value: object, limit: int = MAX_COUNT) -> int | None:
    """A whole number from 0 to `limit`; 2.0 counts (some systems write every number as a float), true does
    not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= limit else None
    if isinstance(value, float) and value.is_integer() and 0 <= value <= limit:
        return int(value)
    return None


def too_large(value: object, limit: float = MAX_COUNT) -> bool:
    """A number past `limit`: its problem says so, rather than that it is not a number."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > limit


def is_amount(value: object) -> TypeGuard[int | float]:
    """Whether a JSON value is an amount of money: a finite number from 0 to MAX_AMOUNT (not true or false)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= MAX_AMOUNT
    )


def is_text(value: str) -> bool:
    """Text that can be written out: no lone surrogate (a JSON `\\ud800` escape makes one)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def upper_ascii(value: object) -> str | None:
    """Text in upper case, for matching codes; None for anything that is not ASCII text."""
    # isascii first: upper() maps some non-ASCII letters to ASCII ones ("ſ" -> "S").
    return value.upper() if isinstance(value, str) and value.isascii() else None


def written_as(
    value: object,
    pattern: re.Pattern[str],
    field: str,
    problems: list[ClaimProblem],
    *,
    must: str,
    named: str,
    form: str,
    example: str,
    not_one: str,
) -> re.Match[str] | None:
    """Text in a set form (a date, a time of day): its match, or None with the problem in `problems`. The
    words: `{must} must be text written {form}, e.g. "{example}"`, `{named} `value` is not {not_one}`."""
    if not isinstance(value, str):
        problems.append(
            ClaimProblem(field, f'{must} must be text written {form}, e.g. "{example}"; found {describe(value)}')
        )
        return None
    match = pattern.fullmatch(value)
    if match is None:
        problems.append(ClaimProblem(field, f"{named} {quote(value)} is not {not_one}"))
    return match


def quote(text: str, limit: int = 40) -> str:
    """Text as a problem shows it: in backticks, cut after `limit` characters."""
    return f"`{text if len(text) <= limit else text[:limit] + '...'}`"


def describe(value: object) -> str:
    """A found value in words a billing specialist reads: `the text "two"`, `1.5`, `a list`."""
    if value is None:
        return "null (no value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value.bit_length() > 64:  # str() of a huge number is slow, or refused
        return f"a number of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e18 else repr(value)
    if value == math.inf:
        return "a number too long to read"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return f'the text "{value if len(value) <= 40 else value[:40] + "..."}"' if value else "empty text"
    if isinstance(value, list):
        return "a list [...]"
    if isinstance(value, dict):
        return "an object {...}"
    return f"a {type(value).__name__}"


# -------------------------------------------------------------------------------- therapy discipline

_PROVIDER_DISCIPLINES = {provider.name: provider.discipline for provider in PROVIDERS if provider.discipline}


def therapy_discipline(claim: Claim, line: ServiceLine, provider: Provider | None | bool = False) -> str | None:
    """The therapy discipline a line counts toward: "PT", "OT", "SLP", or None for a non-therapy line.

    The plan-of-care modifier decides first (GP PT, GO OT, GN SLP), because it is what the payer reads and a
    line may be billed under a plan of care other than the rendering provider's own discipline; if a line
    carries more than one (a modifier rule denies that anyway) the first one listed wins, so the answer never
    depends on anything but the line. Without one, the rendering provider's type decides (PT/PTA, OT/OTA, SLP).
    """
    for modifier in line.modifiers:
        discipline = THERAPY_MODIFIERS.get(modifier.upper())
        if discipline:
            return discipline
    if isinstance(provider, bool):  # False: not looked up by the caller already
        provider = claim.provider_of(line)
    if provider is None or provider.type is None:
        return None
    return _PROVIDER_DISCIPLINES.get(provider.type.upper())
