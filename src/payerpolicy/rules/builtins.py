"""The functions of the rule language, declared once: name, parameters, result, what it does, how.

The checker reads the signatures, the README's table is written from the docs (`python -m
payerpolicy.rules.readme README.md`), and the compiled rules call the implementations. A missing value (a line
without minutes, say) passed to a function gives a missing result.

A function that is more than a call carries its own parts, so that neither the checker nor the code writer
knows any function by name:
- `check(checker, node, args, kinds)`: its own checks (`value` names a value of the policy), returning the
  kind of its result; `checker.check_arguments` does the usual ones;
- `emit(writer, args, focus)`: its generated code (`year_of` is an attribute read; `value` a table lookup);
- `may_be_missing(writer, args)`: whether its result can be missing (a single figure of `values:` cannot).
These take the checker and the writer as arguments: the stages that hold them come after this one.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Callable

from payerpolicy.codes import DISCIPLINE_MODIFIER
from payerpolicy.diagnostics import did_you_mean, known_names_help
from payerpolicy.rules import ast
from payerpolicy.rules.fields import KIND_WORDS


@dataclass(frozen=True)
class Builtin:
    name: str
    parameters: tuple[str, ...]  # types, as the checker names them
    result: str
    doc: str
    implementation: Callable | None  # called by the compiled rules, with the values given (none: see emit)
    check: Callable | None = None  # (checker, node, args, kinds) -> result kind; else the usual checks
    emit: Callable | None = None  # (writer, args, focus) -> code; else a call of the implementation
    may_be_missing: Callable | None = None  # (writer, args) -> bool; else its result may be missing


def _check_value(checker, node, args, kinds) -> str | None:
    """`value("name")` or `value("name", key)`: the name is a value of the policy, given in quotes."""
    builtin = BUILTINS["value"]
    if not args or not isinstance(args[0], ast.Literal) or args[0].kind != "text":
        checker.error("E409", "`value` takes the name of a value in quotes first", node, builtin.doc)
    elif (name := str(args[0].value)) not in checker.policy.values:  # a text literal's value is a str
        known = list(checker.policy.values)
        checker.error(
            "E413",
            f"the policy has no value `{name}`",
            args[0],
            did_you_mean(name, known) or known_names_help("values", known),
        )
    if len(args) == 1:
        return builtin.result  # a single figure, not a table: no key needed
    return checker.check_arguments(node, builtin, args, kinds)


def _emit_value(writer, args, focus):
    """A single figure is a constant; a table by year is looked up with its key."""
    name = args[0].value
    table = writer.policy.values[name]  # the checker made sure it exists
    figure = writer.constant(table, key=("value", name), what=f"the policy's value {name!r}")
    if not isinstance(table, dict):
        return figure
    if len(args) == 1:
        return writer.py("None")  # a table read without a key has no single figure
    return writer.py(figure, ".get(", writer.value(args[1], focus), ")")


def _value_may_be_missing(writer, args) -> bool:
    return len(args) != 1 or isinstance(writer.policy.values.get(args[0].value), dict)


def _emit_year_of(writer, args, focus):
    """An attribute read, not a call: KX rules ask it of every line."""
    return writer.guarded([writer.value(args[0], focus)], list(args), lambda held: writer.py(held[0], ".year"))


def _emit_first_present(writer, args, focus):
    """Not guarded like a call: a missing first value is the point."""
    first, second = args
    if not writer.may_be_missing(first):
        return writer.value(first, focus)
    held, later = writer.hold(writer.value(first, focus))
    return writer.py("(", later, " if ", held, " is not None else ", writer.value(second, focus), ")")


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


BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in (
        Builtin("max", ("number", "number"), "number", "the larger of two numbers", max),
        Builtin("min", ("number", "number"), "number", "the smaller of two numbers", min),
        Builtin(
            "year_of",
            ("date",),
            "number",
            "the year of a date: year_of(line.date) = 2026",
            lambda d: d.year,
            emit=_emit_year_of,
        ),
        Builtin(
            "value",
            ("text", "number"),
            "number",
            'a figure from the policy\'s `values`: value("kx_threshold", year_of(line.date)) for a table by '
            'year, value("targeted_review") for a single figure',
            None,
            check=_check_value,
            emit=_emit_value,
            may_be_missing=_value_may_be_missing,
        ),
        Builtin(
            "days_between", ("date", "date"), "number", "whole days between two dates, in either order", _days_between
        ),
        Builtin(
            "quotient",
            ("number", "number"),
            "number",
            "how many whole times the second number goes into the first: quotient(95, 90) = 1 (which 90-day "
            "period of a plan of care a day falls in)",
            _quotient,
        ),
        Builtin(
            "remainder",
            ("number", "number"),
            "number",
            "what is left of the first number after whole times the second: remainder(20, 10) = 0 (every "
            "10th treatment day)",
            _remainder,
        ),
        Builtin(
            "first_present",
            ("date", "date"),
            "date",
            "the first of two dates that is given: first_present(claim.treatment_began, earliest date of lines "
            "... on record); missing only when both are",
            None,
            emit=_emit_first_present,
        ),
        Builtin(
            "dollars",
            ("number",),
            "text",
            'an amount of money, for messages: dollars(allowed) is "$2,310.40"',
            _dollars,
        ),
        Builtin(
            "plural",
            ("number", "text"),
            "text",
            'a number with its noun, for messages: plural(units, "unit") is "1 unit" or "3 units"',
            _plural,
        ),
        Builtin(
            "modifier_difference",
            ("list[modifier]", "list[modifier]"),
            "list[modifier]",
            "the modifiers on one of two lines but not on both: modifier_difference(modifiers, line.modifiers) is "
            "CQ for a line with GP CQ beside one with GP",
            _modifier_difference,
        ),
        Builtin(
            "discipline_modifier",
            ("provider_type",),
            "modifier",
            "the discipline modifier of a provider type: GP for PT and PTA, GO for OT and OTA, GN for SLP",
            DISCIPLINE_MODIFIER.get,
        ),
    )
}


def format_value(value) -> str:
    """A worked-out value as a message shows it: 3 rather than 3.0, modifiers as GP, CQ."""
    # Most values in messages are text (a code, a discipline) or whole numbers: given at once, by their
    # exact class (a subclass may write itself otherwise, and goes the long way).
    kind = value.__class__
    if kind is str:
        return value
    if kind is int:
        return int.__repr__(value)
    if kind is float:  # an amount of money, mostly
        return int.__repr__(int(value)) if value.is_integer() else float.__repr__(value)
    if value is None:
        return "(not given)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (tuple, list, frozenset)):
        return ", ".join(map(str, value)) or "(none)"
    return str(value)


def markdown_table() -> str:
    """The README's table of functions."""
    rows = ["| function | takes | gives | what it does |", "|---|---|---|---|"]
    for builtin in BUILTINS.values():
        takes = ", ".join(KIND_WORDS.get(kind, kind) for kind in builtin.parameters)
        rows.append(
            f"| `{builtin.name}` | {takes} | {KIND_WORDS.get(builtin.result, builtin.result)} | {builtin.doc} |"
        )
    return "\n".join(rows)
