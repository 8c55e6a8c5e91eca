"""The shapes of billing codes, and code sets expanded into plain sets for fast lookups.

A code set entry is one of: a procedure code (97112, G0283), a range of codes (97161-97163), a modifier
(GP, 59), a diagnosis or diagnosis category (I69.351, I69: a category matches every code under it), or a
provider type (PT, OTA). What kind a set holds is read from its entries, so the checker can tell a policy
author that `code in @discipline_modifiers` compares a code with modifiers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROCEDURE_CODE = re.compile(r"^([0-9]{4}[0-9A-Z]|[A-Z][0-9]{4})$")
CODE_RANGE = re.compile(r"^([0-9]{4}[0-9A-Z]|[A-Z][0-9]{4})-([0-9]{4}[0-9A-Z]|[A-Z][0-9]{4})$")
MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
DIAGNOSIS = re.compile(r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?\*?$")


@dataclass(frozen=True)
class ProviderType:
    """A provider type policies name (`provider.type in @...`), with what a claim reader and the judge know of it."""

    name: str
    discipline: str | None = None  # the therapy discipline its services count toward; None for a non-therapist
    taxonomy: str | None = None  # the first four characters of its NUCC taxonomy codes, which name the type


# Each provider type once, in the order messages list them. Physicians (taxonomy 207..., 208...) are MD or DO
# alike, so their taxonomy gives no type.
PROVIDERS = (
    ProviderType("PT", "PT", "2251"),
    ProviderType("PTA", "PT", "2252"),
    ProviderType("OT", "OT", "225X"),
    ProviderType("OTA", "OT", "224Z"),
    ProviderType("SLP", "SLP", "235Z"),
    ProviderType("DC", taxonomy="111N"),
    ProviderType("MD"),
    ProviderType("DO"),
    ProviderType("NP", taxonomy="363L"),
    ProviderType("PA", taxonomy="363A"),
)
PROVIDER_TYPES = tuple(provider.name for provider in PROVIDERS)
# The plan-of-care modifiers and the discipline each says: GP physical therapy, GO occupational, GN speech.
THERAPY_MODIFIERS = {"GP": "PT", "GO": "OT", "GN": "SLP"}
_MODIFIER_OF_DISCIPLINE = {discipline: modifier for modifier, discipline in THERAPY_MODIFIERS.items()}
# The plan-of-care modifier a therapist's lines carry, by provider type (a PTA's lines are PT's: GP).
DISCIPLINE_MODIFIER = {
    provider.name: _MODIFIER_OF_DISCIPLINE[provider.discipline] for provider in PROVIDERS if provider.discipline
}
LARGEST_RANGE = 100_000


def entry_kinds(entry: str) -> set[str]:
    """Which kinds of set an entry could belong to."""
    kinds = set()
    if PROCEDURE_CODE.match(entry) or CODE_RANGE.match(entry):
        kinds.add("code")
    if MODIFIER.match(entry):
        kinds.add("modifier")
    if DIAGNOSIS.match(entry):
        kinds.add("diagnosis")
    if entry in PROVIDER_TYPES:
        kinds.add("provider_type")
    return kinds


def range_codes(low: str, high: str) -> list[str] | str:
    """Every code from `low` to `high`, or a sentence saying why the range is not one."""

    def split(code: str):
        if code[0].isalpha():
            return code[0], code[1:], ""
        if code[-1].isalpha():
            return "", code[:-1], code[-1]
        return "", code, ""

    (p1, n1, s1), (p2, n2, s2) = split(low), split(high)
    if (p1, s1) != (p2, s2):
        return f"`{low}` and `{high}` are not codes of one series"
    first, last = int(n1), int(n2)
    if last < first:
        return f"the range runs backwards: `{low}` comes after `{high}`"
    if last - first >= LARGEST_RANGE:
        return f"the range holds more than {LARGEST_RANGE:,} codes"
    width = len(n1)
    return [f"{p1}{n:0{width}d}{s1}" for n in range(first, last + 1)]


def diagnosis_key(code: str) -> str:
    """A diagnosis without its dot or a trailing `*`, for prefix matching: I69.351 -> I69351."""
    return code.replace(".", "").rstrip("*")


class DiagnosisSet:
    """Diagnoses and categories; `I69` contains I69.351. Membership tests the code's prefixes."""

    __slots__ = ("keys", "lengths")

    def __init__(self, entries):
        self.keys = frozenset(diagnosis_key(e) for e in entries)
        self.lengths = sorted({len(k) for k in self.keys})

    def __contains__(self, code) -> bool:
        if not isinstance(code, str):
            return False
        key = diagnosis_key(code)
        return any(key[:n] in self.keys for n in self.lengths if n <= len(key))
