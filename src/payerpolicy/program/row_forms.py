"""Stage 6, compile: a payer's table rows written as rows of a shared form, not as functions each.

Eight thousand unit-cap rows differ only in their codes, their limit and their message's words; their
functions have one shape (program.link). Writing each row's condition, message and fix as code, only for the
linker to find the shape it already has, was most of a payer-scale policy's planning. Here the first row of a
form is written as any rule is, and the functions it gave are the form's; each later row of the form costs its
figures only. The writer names them (`SourceWriter.constant`, `slot`) in the order writing them would, so the
constants are numbered as if the row had been written, and the row's functions are the form's shapes bound to
its names. The program, its source for people included, is the one written rule by rule
(`plan_program(row_forms=False)`; tests/test_row_forms.py holds the two alike).

A form is learned from a row only when each name its functions bind is one of its figures; a form that cannot
be learned leaves its rows written one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from payerpolicy.policy.model import RuleSpec
from payerpolicy.program.pycode import Function
from payerpolicy.program.source import SourceWriter
from payerpolicy.rules import ast

# A row's functions, by the prefix of their names (`when_12`), in the order rule writing adds them.
_CAP_FUNCTIONS = ("when", "message", "units")
_MODIFIER_FUNCTIONS = ("when", "message")


@dataclass(frozen=True, slots=True)
class _CapRow:
    """A unit cap as `policy.tables.unit_cap` writes it: the day's earlier units of its codes, its limit."""

    earlier: ast.DayLines
    codes: object  # the SetExpr of the codes counted
    limit: object
    words: str  # the message's text between the line's code and the day's units


@dataclass(frozen=True, slots=True)
class _ModifierRow:
    """A modifier requirement of one modifier and no `when` (`policy.tables.modifier_requirement`)."""

    modifiers: object  # the SetExpr of the one modifier
    words: str


def _is_line_code(part) -> bool:
    return isinstance(part, ast.Field) and part.subject == "line" and part.path == ("code",)


def _cap_row(spec: RuleSpec, code_sets: dict) -> _CapRow | None:
    if spec.section != "unit_caps" or spec.message is not None or spec.default_message is None:
        return None
    match spec.condition:
        case ast.Compare(
            ">",
            ast.Arithmetic(
                "+", ast.DayLines("units", ast.InSet(value, codes, False, None), "earlier") as earlier, units
            ),
            ast.Literal("number", limit) as n,
        ):
            pass
        case _:
            return None
    fix = spec.fix
    if not (
        isinstance(value, ast.Field)
        and value.subject == "focus"
        and value.path == ("code",)
        and isinstance(units, ast.Field)
        and units.subject == "focus"
        and units.path == ("units",)
        and isinstance(limit, int)
        and fix is not None
        and fix.action == "set_units"
    ):
        return None
    match fix.units:  # max(0, N - the earlier units), the same nodes as the condition's
        case ast.Call("max", (ast.Literal("number", 0), ast.Arithmetic("-", left, right))) if (
            left is n and right is earlier
        ):
            pass
        case _:
            return None
    parts = spec.default_message(code_sets)
    if len(parts) != 3 or not _is_line_code(parts[0]) or not isinstance(parts[1], str):
        return None
    if parts[2] is not spec.condition.left:
        return None
    return _CapRow(earlier, codes, limit, parts[1])


def _modifier_row(spec: RuleSpec, code_sets: dict) -> _ModifierRow | None:
    if spec.section != "modifier_requirements" or spec.message is not None or spec.default_message is None:
        return None
    condition = spec.condition
    if not (isinstance(condition, ast.HasModifier) and condition.negated):
        return None
    if spec.fix is not None and spec.fix.units is not None:
        return None
    parts = spec.default_message(code_sets)
    if len(parts) != 2 or not _is_line_code(parts[0]) or not isinstance(parts[1], str):
        return None
    return _ModifierRow(condition.modifiers, parts[1])


def _name(code) -> str:
    (bound,) = code.parts
    return bound.name


def _cap_names(writer: SourceWriter, row: _CapRow) -> tuple[dict[str, str], ast.DayLines | None]:
    """A cap row's figures named as writing it names them, in that order; and its count of earlier units when
    no rule has asked for that running total yet (its function is then the form's, bound to the codes)."""
    codes = _name(writer.member_set(row.codes, "code"))
    writer.scopes.add("earlier")
    number = writer.total_number(row.earlier)
    new_total = number == len(writer.totals)
    names = {
        "codes": codes,
        "total": f"S_{number}",
        "slot": _name(writer.slot(row.earlier)),
        "limit": _name(writer.constant(row.limit)),
        "words": _name(writer.constant(row.words)),
        "max": _name(writer.builtin("max")),
        "zero": _name(writer.constant(0)),
    }
    return names, (row.earlier if new_total else None)


def _modifier_names(writer: SourceWriter, row: _ModifierRow) -> tuple[dict[str, str], None]:
    wanted = writer.member_set(row.modifiers, "modifier")
    (modifier,) = writer.constant_value(wanted)
    names = {
        "set": _name(wanted),
        "modifier": _name(writer.constant(modifier)),
        "words": _name(writer.constant(row.words)),
    }
    return names, None


@dataclass
class _Form:
    """A family's form: how to read a row's figures and name them, and, once learned from a written row, its
    functions as (shape, pieces, the figure each bound name is)."""

    row_of: Callable
    names_of: Callable
    functions: tuple[str, ...]
    learned: dict[str, tuple[str, tuple, tuple[str, ...]]] = field(default_factory=dict)
    failed: bool = False


def _modifier_one(spec: RuleSpec, code_sets: dict) -> _ModifierRow | None:
    row = _modifier_row(spec, code_sets)
    if row is None or not (isinstance(row.modifiers, ast.SetList) and len(row.modifiers.items) == 1):
        return None
    return row


class RowForms:
    """The forms of one policy being written (`program.compile._write_program`)."""

    def __init__(self, writer: SourceWriter, code_sets: dict):
        self.writer = writer
        self.code_sets = code_sets
        self.forms = [
            _Form(_cap_row, _cap_names, _CAP_FUNCTIONS + ("total",)),
            _Form(_modifier_one, _modifier_names, _MODIFIER_FUNCTIONS),
        ]

    def row(self, spec: RuleSpec) -> tuple[_Form, object] | None:
        """The form of a table row and its figures, or None for any other rule."""
        for form in self.forms:
            if form.failed:
                continue
            row = form.row_of(spec, self.code_sets)
            if row is not None:
                return form, row
        return None

    def write_row(self, i: int, form: _Form, row) -> list[Function] | None:
        """Rule `i`'s functions as its form's, bound to its figures; None when the form is not learned yet
        (the caller writes the rule, then `learn`s from it)."""
        if not form.learned:
            return None
        names, total = form.names_of(self.writer, row)
        made = []
        for kind in form.functions:
            shape, pieces, figures = form.learned[kind]
            bound = tuple(names[figure] for figure in figures)
            if kind == "total":
                if total is not None:  # a running total no rule before asked for: its function, as writing adds it
                    self.writer.add_total(total, Function(names["total"].replace("S_", "total_"), shape, bound, pieces))
                continue
            made.append(Function(f"{kind}_{i}", shape, bound, pieces))
        return made

    def learn(self, i: int, form: _Form, row, written: Callable[[str], Function]) -> None:
        """Learn a form from rule `i`, just written: each of its functions' bound names must be one figure."""
        names, _ = form.names_of(self.writer, row)
        figure_of = {name: figure for figure, name in names.items()}
        if len(figure_of) < len(names):  # two figures share a name (a limit of 0): learn from a later row
            return
        learned = {}
        for kind in form.functions:
            # A running total's function is added to the linker after its rule: the writer holds it until then.
            function = self.writer.totals[int(names["total"][2:])] if kind == "total" else written(f"{kind}_{i}")
            if any(name not in figure_of for name in function.bound):
                form.failed = True  # the writer binds something the form does not know: write every row
                return
            learned[kind] = (function.shape, function.pieces, tuple(figure_of[n] for n in function.bound))
        form.learned = learned


__all__ = ["RowForms"]
