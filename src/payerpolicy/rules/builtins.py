"""The functions of the rule language, declared once: name, parameters, result, what it does, how.

The checker reads the signatures, the README's table is written from the docs, and the compiler calls the
implementations. A missing value (a line without minutes, say) passed to a function gives a missing result.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Callable

from payerpolicy.codes import DISCIPLINE_MODIFIER


@dataclass(frozen=True)
class Builtin:
    name: str
    parameters: tuple[str, ...]  # types, as the checker names them
    result: str
    doc: str
    implementation: Callable


def _plural(count, noun: str) -> str:
    shown = int(count) if float(count).is_integer() else count
    return f"{shown} {noun}" + ("" if shown == 1 else "s")


def _modifier_difference(a, b) -> tuple:
    """The modifiers on one of two lines and not on the other, in a stable order."""
    return tuple(sorted(set(a or ()) ^ set(b or ())))


def _dollars(amount) -> str:
    """An amount of money as a biller writes it: $2,310.40."""
    return f"${amount:,.2f}"


def _days_between(a: datetime.date, b: datetime.date) -> int:
    return abs((b - a).days)


def _quotient(a, b):
    """Whole times b goes into a: quotient(95, 90) = 1. Missing for b = 0 (no figure, not a crash)."""
    return None if not b else int(a // b)


def _remainder(a, b):
    """What is left of a after whole b's: remainder(20, 10) = 0, for "every 10th" rules."""
    return None if not b else (int(a % b) if float(a % b).is_integer() else a % b)


BUILTINS: dict[str, Builtin] = {b.name: b for b in (
    Builtin("max", ("number", "number"), "number", "the larger of two numbers", max),
    Builtin("min", ("number", "number"), "number", "the smaller of two numbers", min),
    Builtin("year_of", ("date",), "number", "the year of a date: year_of(line.date) = 2026", lambda d: d.year),
    Builtin("value", ("text", "number"), "number",
            'a figure from the policy\'s `values`: value("kx_threshold", year_of(line.date)) for a table by '
            'year, value("targeted_review") for a single figure', None),
    Builtin("days_between", ("date", "date"), "number", "whole days between two dates, in either order",
            _days_between),
    Builtin("quotient", ("number", "number"), "number",
            "how many whole times the second number goes into the first: quotient(95, 90) = 1 (which 90-day "
            "period of a plan of care a day falls in)", _quotient),
    Builtin("remainder", ("number", "number"), "number",
            "what is left of the first number after whole times the second: remainder(20, 10) = 0 (every "
            "10th treatment day)", _remainder),
    Builtin("first_present", ("date", "date"), "date",
            "the first of two dates that is given: first_present(claim.treatment_began, earliest date of lines "
            "... on record); missing only when both are", None),
    Builtin("dollars", ("number",), "text", 'an amount of money, for messages: dollars(allowed) is "$2,310.40"',
            _dollars),
    Builtin("plural", ("number", "text"), "text",
            'a number with its noun, for messages: plural(units, "unit") is "1 unit" or "3 units"', _plural),
    Builtin("modifier_difference", ("list[modifier]", "list[modifier]"), "list[modifier]",
            "the modifiers on one of two lines but not on both: modifier_difference(modifiers, line.modifiers) is "
            "CQ for a line with GP CQ beside one with GP", _modifier_difference),
    Builtin("discipline_modifier", ("provider_type",), "modifier",
            "the discipline modifier of a provider type: GP for PT and PTA, GO for OT and OTA, GN for SLP",
            DISCIPLINE_MODIFIER.get),
)}


def format_value(value) -> str:
    """A worked-out value as a message shows it: 3 rather than 3.0, modifiers as GP, CQ."""
    if value is None:
        return "(not given)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (tuple, list, frozenset)):
        return ", ".join(map(str, value)) or "(none)"
    return str(value)
