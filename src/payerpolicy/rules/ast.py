"""The rule language's syntax tree: our own nodes between Lark and everything after the parser.

Lark's tree exists only inside `rules.parse` and `rules.lower`; the checker and the compiler see these frozen
dataclasses. Every node keeps the `span` it came from (so the checker can underline it) but spans are left
out of equality: two rules that say the same thing are equal wherever they were written. The span is declared
once, on `Node`, and given by keyword (`Literal("code", c, c, span=span)`): it follows a node's own fields.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TypeVar, Union, dataclass_transform

from payerpolicy.diagnostics import Span

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Node:
    """What every node of the tree has: the span it came from (None for a node no policy text wrote)."""

    # Keyword-only (it follows each node's own fields), and left out of equality, hashing and `repr`.
    span: Span | None = field(default=None, compare=False, repr=False, kw_only=True)

    def __reduce__(self) -> tuple:
        """Pickle a node as a call of its class: the compiled-policy cache holds tens of thousands of nodes, and
        a frozen dataclass's own way back from a pickle takes several times longer per node."""
        return _rebuild, (type(self), self.span, *(getattr(self, name) for name in self.__slots__))


def _rebuild(cls: type[T], span: Span | None, *values: object) -> T:
    """A node from its pickle: its own fields in order, then its span."""
    return cls(*values, span=span)  # type: ignore[call-arg]


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def _node(cls: type[T]) -> type[T]:
    """A node of the tree: a frozen dataclass with slots, a `Node` (its span and its pickle)."""
    return dataclass(frozen=True, slots=True)(cls)


# ------------------------------------------------------------------ values


@_node
class Literal(Node):
    """A constant. `kind`: code, number, date, text, or symbol (an upper-case word: PT, GP, XU)."""

    kind: str
    value: object
    text: str


@_node
class CodeRange(Node):
    """`97161-97163`: the procedure codes from `low` to `high`, both included."""

    low: str
    high: str


@_node
class SetRef(Node):
    """`@name`: a named code set of the policy."""

    name: str


@_node
class SetList(Node):
    """`[a, b, 97161-97163]`: items are Literal or CodeRange."""

    items: tuple


@_node
class Field(Node):
    """A field of something on the claim.

    `subject` is `focus` (the line in focus: the judged line, or inside `with ...` the other line),
    `line` (always the judged line), `claim` or `patient`. `path` is what follows, e.g. ("provider", "type").
    """

    subject: str
    path: tuple[str, ...]

    @property
    def dotted(self) -> str:
        prefix = "" if self.subject == "focus" else self.subject + "."
        return prefix + ".".join(self.path)


@_node
class Call(Node):
    """`function(args...)`: one of the rule language's functions (rules.builtins) applied to values."""

    function: str
    args: tuple


@_node
class Arithmetic(Node):
    """`left + right`, `-` or `*`: numbers, or a date moved by a number of days."""

    operator: str  # "+", "-" or "*"
    left: "Value"
    right: "Value"


@_node
class DayLines(Node):
    """Lines of the patient's day: `number of lines ...` (count) or `total units of lines ...` (sum).

    `scope` is `day` (every line that day, the judged one included), `earlier` (lines before the judged one),
    `year` (the patient's lines in the calendar year, from the claim history too), `earlier_year`, `record`
    (all the patient's lines judged before, whatever their date) or `earlier_record`.
    """

    # "count" (lines), "days" (distinct dates), "claims" (distinct claims), the field summed ("units",
    # "minutes", "charge", "allowed"), or "earliest date" / "latest date" (the first or last date of service
    # among the lines; missing when there is none).
    measure: str
    filter: "Condition | None"
    scope: str


SetExpr = Union[SetRef, SetList, CodeRange]
Value = Union[Literal, Field, Call, Arithmetic, DayLines]


# ------------------------------------------------------------------ conditions


@_node
class AllOf(Node):
    """`a and b and ...`: every item holds."""

    items: tuple


@_node
class AnyOf(Node):
    """`a or b or ...`: at least one item holds."""

    items: tuple


@_node
class Not(Node):
    """`not a`: the item does not hold."""

    item: "Condition"


@_node
class Compare(Node):
    """`left = right` and the other comparisons: of values of one kind; missing on either side never holds."""

    operator: str  # = != < <= > >=
    left: Value
    right: Value


@_node
class InSet(Node):
    """`value in set`; with `quantifier` "any"/"none" the value is a list (`none of line.diagnoses in @x`)."""

    value: Value
    set: SetExpr
    negated: bool = False
    quantifier: str | None = None


@_node
class IsMissing(Node):
    """`value is missing` (the claim does not give it), or `is present`."""

    value: Value
    negated: bool = False  # True for `is present`


@_node
class HasModifier(Node):
    """`has modifier GP` / `has any modifier in S` (negated False); `lacks ...` / `has no ...` (negated True)."""

    modifiers: SetExpr
    negated: bool = False


@_node
class AnotherLine(Node):
    """`another line [with C] that day`: some line of the day other than the judged one meets C."""

    filter: "Condition | None"
    scope: str


@_node
class Always(Node):
    """The condition of a rule with no `when`: it fires on every line it concerns."""


@_node
class PairEdit(Node):
    """The condition of a code pair table (`code_pair_tables:`), not written in the rule language: some other
    line of the day has a code that the table pairs in column 1 with the judged line's code in column 2, the
    edit is in force on the date of service, and no `bypass` modifier on the line lifts it (indicator 1), nor
    an `either` modifier on either line (from the date `either_from`), nor `sites` showing different sites on
    the two lines (policy.tables.PairBypass says the same for `code_pairs` rows)."""

    table: object  # a policy.pair_table.PairTable; compared by identity
    bypass: "SetExpr"
    either: "SetExpr | None" = None
    either_from: datetime.date | None = None
    sites: "SetExpr | None" = None
    ignored_on: "SetExpr | None" = None  # codes on whose lines `either` does not count


@_node
class TableEdit(Node):
    """The condition of a rule made from a reference table (`unit_cap_tables:`, `fee_status:`), not written in
    the rule language: the table itself judges the line (`table.hits(day)`, empty when nothing hits) and says
    what hit (`message`, `fix`), and from which row of which file (`provenance`). See policy.reference_table."""

    table: object  # compared by identity


Condition = Union[AllOf, AnyOf, Not, Compare, InSet, IsMissing, HasModifier, AnotherLine, Always, PairEdit, TableEdit]


# ------------------------------------------------------------------ fixes and messages


@_node
class Fix(Node):
    """What to do about a finding. `action` is one of the decision contract's fix actions."""

    action: str  # add_modifier, remove_modifier, set_units, remove_line, split_line, merge_lines, review
    modifier: str | None = None
    units: Value | None = None
    note: str | None = None
    modifier_span: Span | None = field(default=None, compare=False, repr=False)  # where the modifier is written


@_node
class Template(Node):
    """A message with `{value}` holes: parts are plain strings and values, in order."""

    parts: tuple


def show(node) -> str:
    """A compact, stable text form of a syntax tree, for tests and for debugging: (and (in code @x) ...)."""
    match node:
        case Literal(kind="text", value=value):
            return f'"{value}"'
        case Literal(kind="date", text=text) | Literal(text=text):
            return text if node.kind != "symbol" else str(node.value)
        case CodeRange(low, high):
            return f"{low}-{high}"
        case SetRef(name):
            return "@" + name
        case SetList(items):
            return "[" + " ".join(show(i) for i in items) + "]"
        case Field():
            return node.dotted
        case Call(function, args):
            return f"({function} " + " ".join(show(a) for a in args) + ")"
        case Arithmetic(op, left, right):
            return f"({op} {show(left)} {show(right)})"
        case DayLines(measure, filt, scope):
            where = f" {show(filt)}" if filt is not None else ""
            return f"({measure}-lines {scope}{where})"
        case AllOf(items):
            return "(and " + " ".join(show(i) for i in items) + ")"
        case AnyOf(items):
            return "(or " + " ".join(show(i) for i in items) + ")"
        case Not(item):
            return f"(not {show(item)})"
        case Compare(op, left, right):
            return f"({op} {show(left)} {show(right)})"
        case InSet(value, set_expr, negated, quantifier):
            head = f"{quantifier}-in" if quantifier else ("not-in" if negated else "in")
            return f"({head} {show(value)} {show(set_expr)})"
        case IsMissing(value, negated):
            return f"({'present' if negated else 'missing'} {show(value)})"
        case HasModifier(modifiers, negated):
            return f"({'lacks' if negated else 'has'}-modifier {show(modifiers)})"
        case AnotherLine(filt, scope):
            where = f" {show(filt)}" if filt is not None else ""
            return f"(another-line {scope}{where})"
        case Always():
            return "(always)"
        case Fix(action, modifier, units, note):
            extra = modifier or (show(units) if units is not None else None) or (f'"{note}"' if note else None)
            return f"({action}{' ' + extra if extra else ''})"
        case Template(parts):
            return "".join(p if isinstance(p, str) else "{" + show(p) + "}" for p in parts)
    raise TypeError(f"not a syntax tree node: {node!r}")
