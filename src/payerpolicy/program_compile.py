"""Stage 6, compile: checked rules to a program of Python closures, indexed by procedure code.

Each condition becomes a function `(day, focus) -> bool`, where `day` is the judged line's place in its
patient-day (`DayContext`) and `focus` the line the condition is about at this point (the judged line, or the
other line inside `with ...`). Code sets become frozensets and diagnosis sets prefix tables, once. The
program maps each code to the tuple of rules that can concern it, in policy order, so judging a line costs
one dict lookup plus the rules for its code: no parsing, no YAML, no scanning of unrelated rules.
"""
from __future__ import annotations

import datetime
import functools
import operator
from dataclasses import dataclass
from typing import Callable

from . import rule_ast as ast
from .builtins import BUILTINS
from .codes import DiagnosisSet, range_codes
from .policy_model import PolicySpec, RuleSpec
from .rule_check import RuleChecker

# The attribute of a `LineView` (see evaluate.py) behind each field of the rule language.
_LINE_ATTRS = {("code",): "code", ("units",): "units", ("minutes",): "minutes", ("modifiers",): "modifiers",
               ("date",): "date", ("charge",): "charge", ("diagnoses",): "diagnoses",
               ("provider", "type"): "provider_type", ("provider", "npi"): "provider_npi",
               ("pta_minutes",): "pta_minutes", ("ota_minutes",): "ota_minutes", ("claim_id",): "claim_id",
               ("discipline",): "discipline"}
_CLAIM_ATTRS = {("id",): "id", ("payer",): "payer", ("diagnoses",): "diagnoses", ("frequency",): "frequency"}
_COMPARE = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
            ">=": operator.ge}


@dataclass(frozen=True, slots=True)
class CompiledFix:
    action: str
    modifier: str | None
    units: Callable | None
    note: str | None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    spec: RuleSpec
    applies: Callable  # (day, focus) -> bool
    message: tuple  # parts: str, or (day, focus) -> value
    fix: CompiledFix | None
    effective_from: datetime.date | None
    effective_to: datetime.date | None
    dated: bool  # has an effective period: the line's date of service must be checked against it


class RuleProgram:
    """A compiled policy: rules by code, plus the rules that concern every code."""

    def __init__(self, policy: PolicySpec, by_code: dict[str, tuple], for_every_code: tuple,
                 timed_codes: frozenset = frozenset()):
        self.policy = policy
        self.by_code = by_code
        self.for_every_code = for_every_code
        self.timed_codes = timed_codes  # the codes whose minutes turn into units (settings: timed_codes)
        # Whether some rule looks at the patient's year: only then are claims kept in a claim history.
        self.uses_history = any(("year" in scope or "record" in scope) for scope in _scopes_of(policy))
        self.timed_method = policy.settings.get("timed_unit_method", "cms")

    def rules_for(self, code: str) -> tuple:
        return self.by_code.get(code, self.for_every_code)

    @property
    def rule_count(self) -> int:
        return len(self.policy.rules)


class _Compiler:
    def __init__(self, policy: PolicySpec):
        self.policy = policy
        self.sets = RuleChecker(policy, [])  # reused for its code expansion
        self.cache: dict[str, object] = {}

    # ---------------------------------------------------------------- sets
    def member_set(self, set_expr, kind: str):
        if kind == "diagnosis":
            return DiagnosisSet(self._entries(set_expr))
        if kind == "code":
            return frozenset(self.sets.expand(set_expr) or ())
        return frozenset(e.upper() for e in self._entries(set_expr))

    def _entries(self, set_expr) -> list[str]:
        match set_expr:
            case ast.SetRef(name):
                return list(self.policy.code_sets[name].entries)
            case ast.SetList(items):
                out = []
                for item in items:
                    out += self._entries(item) if isinstance(item, (ast.SetRef, ast.SetList)) else [
                        str(item.value) if isinstance(item, ast.Literal) else f"{item.low}-{item.high}"]
                return out
            case ast.CodeRange(low, high):
                return range_codes(low, high)
        return []

    # ---------------------------------------------------------------- conditions
    def condition(self, node) -> Callable:
        match node:
            case ast.Always():
                return lambda day, focus: True
            case ast.AllOf(items):
                return functools.reduce(_both, [self.condition(i) for i in items])
            case ast.AnyOf(items):
                return functools.reduce(_either, [self.condition(i) for i in items])
            case ast.Not(item):
                inner = self.condition(item)
                return lambda day, focus: not inner(day, focus)
            case ast.Compare(op, left, right):
                return self.compare(op, left, right)
            case ast.InSet():
                return self.in_set(node)
            case ast.IsMissing(value, negated):
                get = self.value(value)
                if negated:
                    return lambda day, focus: get(day, focus) not in (None, (), "")
                return lambda day, focus: get(day, focus) in (None, (), "")
            case ast.HasModifier(modifiers, negated):
                wanted = self.member_set(modifiers, "modifier")
                if negated:
                    return lambda day, focus: wanted.isdisjoint(focus.modifiers)
                return lambda day, focus: not wanted.isdisjoint(focus.modifiers)
            case ast.AnotherLine(filt, scope):
                test = self.condition(filt) if filt is not None else (lambda day, focus: True)
                lines = _SCOPES_WITHOUT_SELF[scope]
                return lambda day, focus: any(test(day, other) for other in lines(day))
        raise AssertionError(f"no compiled form for {type(node).__name__}")

    def compare(self, op, left, right) -> Callable:
        compare = _COMPARE[op]
        get_left, get_right = self.value(left), self.value(right)
        if all(isinstance(side, ast.Field) and side.path == ("modifiers",) for side in (left, right)):
            # Modifiers are a set: GP CQ and CQ GP are the same modifiers.
            return lambda day, focus: compare(frozenset(get_left(day, focus)), frozenset(get_right(day, focus)))
        if isinstance(right, ast.Literal):  # the common case: a field against a constant
            constant = right.value

            def against_constant(day, focus):
                value = get_left(day, focus)
                return value is not None and compare(value, constant)
            return against_constant

        def both_sides(day, focus):
            a, b = get_left(day, focus), get_right(day, focus)
            return a is not None and b is not None and compare(a, b)
        return both_sides

    def in_set(self, node: ast.InSet) -> Callable:
        kind = _set_kind(node.value)
        members = self.member_set(node.set, kind)
        get = self.value(node.value)
        if node.quantifier == "any":
            return lambda day, focus: any(v in members for v in get(day, focus) or ())
        if node.quantifier == "none":
            return lambda day, focus: not any(v in members for v in get(day, focus) or ())
        if node.negated:
            return lambda day, focus: (v := get(day, focus)) is not None and v not in members
        return lambda day, focus: get(day, focus) in members

    # ---------------------------------------------------------------- values
    def value(self, node) -> Callable:
        match node:
            case ast.Literal(kind="symbol", value=value):
                constant = str(value).upper()
                return lambda day, focus: constant
            case ast.Literal(value=value):
                return lambda day, focus: value
            case ast.Field(subject, path):
                return self.field(subject, path)
            case ast.Arithmetic(op, left, right):
                a, b = self.value(left), self.value(right)
                apply = {"+": operator.add, "-": operator.sub, "*": operator.mul}[op]
                if op in "+-" and _is_date(left):
                    days = self.value(right)
                    shift = operator.add if op == "+" else operator.sub
                    return lambda day, focus: (None if (d := a(day, focus)) is None or (n := days(day, focus)) is None
                                               else shift(d, datetime.timedelta(days=n)))

                def arithmetic(day, focus):
                    x, y = a(day, focus), b(day, focus)
                    return None if x is None or y is None else apply(x, y)
                return arithmetic
            case ast.Call("value", (ast.Literal(value=name), *key)):
                table = self.policy.values[name]  # checked to exist
                if not isinstance(table, dict):
                    return lambda day, focus: table
                if not key:
                    return lambda day, focus: None  # a table read without a key has no single figure
                get_key = self.value(key[0])
                return lambda day, focus: table.get(get_key(day, focus))
            case ast.Call(function, args):
                implementation = BUILTINS[function].implementation
                getters = tuple(self.value(a) for a in args)

                def call(day, focus):
                    values = [g(day, focus) for g in getters]
                    return None if any(v is None for v in values) else implementation(*values)
                return call
            case ast.DayLines(measure, filt, scope):
                test = self.condition(filt) if filt is not None else None
                lines = _SCOPES[scope]
                if measure == "days":  # distinct dates of service: visits
                    if test is None:
                        return lambda day, focus: len({o.date for o in lines(day)})
                    return lambda day, focus: len({o.date for o in lines(day) if test(day, o)})
                if measure == "count":
                    if test is None:
                        return lambda day, focus: len(lines(day))
                    return lambda day, focus: sum(1 for other in lines(day) if test(day, other))
                get = operator.attrgetter(measure)
                if test is None:
                    return lambda day, focus: sum(get(o) or 0 for o in lines(day))
                return lambda day, focus: sum(get(o) or 0 for o in lines(day) if test(day, o))
        raise AssertionError(f"no compiled form for {type(node).__name__}")

    def field(self, subject: str, path: tuple) -> Callable:
        if path == ("supported_units",):  # depends on the whole day: the day works it out, once per claim
            if subject == "focus":
                return lambda day, focus: day.supported_units(focus)
            return lambda day, focus: day.supported_units(day.line)
        if subject in ("focus", "line"):
            get = operator.attrgetter(_LINE_ATTRS[path])
            if subject == "focus":
                return lambda day, focus: get(focus)
            return lambda day, focus: get(day.line)
        if subject == "patient":
            return lambda day, focus: day.line.claim.patient_id
        if path[0] == "provider":
            attr = "type" if path[1] == "type" else "npi"
            return lambda day, focus: getattr(day.line.claim.provider, attr, None)
        get = operator.attrgetter(_CLAIM_ATTRS[path])
        return lambda day, focus: get(day.line.claim)

    # ---------------------------------------------------------------- rules
    def rule(self, spec: RuleSpec, code_sets: dict) -> CompiledRule:
        template = spec.message.parts if spec.message is not None else _default_message(spec, code_sets)
        message = tuple(p if isinstance(p, str) else self.value(p) for p in template)
        fix = None
        if spec.fix is not None:
            units = self.value(spec.fix.units) if spec.fix.units is not None else None
            fix = CompiledFix(spec.fix.action, spec.fix.modifier, units, spec.fix.note)
        return CompiledRule(spec, self.condition(spec.condition), message, fix, spec.effective_from,
                            spec.effective_to, spec.effective_from is not None or spec.effective_to is not None)


def _default_message(spec: RuleSpec, code_sets: dict) -> tuple:
    from .policy_files import TextOrigin
    from .rule_lower import lower_template
    text = spec.default_message(code_sets) if spec.default_message else f"rule {spec.id} applies"
    origin = TextOrigin(spec.span.file, ((spec.span.line, spec.span.column),) * (len(text) + 1))
    diagnostics: list = []
    template = lower_template(text, origin, diagnostics)
    assert not diagnostics, f"generated message of {spec.id} does not parse: {diagnostics}"
    return template.parts


def _is_date(node) -> bool:
    """Whether a value is a date (a date field or literal, or a date moved by days): known from the AST."""
    match node:
        case ast.Field(path=("date",)):
            return True
        case ast.Literal(kind="date"):
            return True
        case ast.Arithmetic(op, left, _) if op in "+-":
            return _is_date(left)
    return False


def _set_kind(value) -> str:
    if isinstance(value, ast.Field):
        path = value.path
        if path == ("code",):
            return "code"
        if path == ("diagnoses",):
            return "diagnosis"
    return "other"


# `and` and `or` as chains of plain calls: cheaper than all()/any() over a generator, and as lazy.
def _both(first: Callable, second: Callable) -> Callable:
    return lambda day, focus: first(day, focus) and second(day, focus)


def _either(first: Callable, second: Callable) -> Callable:
    return lambda day, focus: first(day, focus) or second(day, focus)


# The lines of the judged line's day that a condition may look at.
def _whole_day(day):
    past = day.past_day()
    return past + day.lines if past else day.lines


def _others(day):
    return day.past_day() + [line for line in day.lines if line is not day.line]


def _earlier(day):
    past = day.past_day()
    return past + day.lines[:day.position] if past else day.lines[:day.position]


def _whole_year(day):
    return day.year_lines(earlier=False)


def _year_without_self(day):
    return [line for line in day.year_lines(earlier=False) if line is not day.line]


def _earlier_year(day):
    return day.year_lines(earlier=True)


def _on_record(day):
    return day.year_lines(earlier=False, whole_record=True)


def _record_without_self(day):
    return [line for line in _on_record(day) if line is not day.line]


def _earlier_record(day):
    return day.year_lines(earlier=True, whole_record=True)


_SCOPES = {"day": _whole_day, "earlier": _earlier, "year": _whole_year, "earlier_year": _earlier_year,
           "record": _on_record, "earlier_record": _earlier_record}
_SCOPES_WITHOUT_SELF = {"day": _others, "earlier": _earlier, "year": _year_without_self,
                        "earlier_year": _earlier_year, "record": _record_without_self,
                        "earlier_record": _earlier_record}


def _scopes_of(policy: PolicySpec):
    """Every scope (`day`, `year`, ...) the policy's conditions, messages and fixes look at."""
    def walk(node):
        if isinstance(node, (ast.DayLines, ast.AnotherLine)):
            yield node.scope
        if isinstance(node, (tuple, list)):
            for item in node:
                yield from walk(item)
        elif hasattr(node, "__dataclass_fields__"):
            for name in node.__dataclass_fields__:
                if name != "span":
                    yield from walk(getattr(node, name))
    for rule in policy.rules:
        yield from walk((rule.condition, rule.message, rule.fix))


def compile_policy(policy: PolicySpec) -> RuleProgram:
    compiler = _Compiler(policy)
    compiled = [compiler.rule(spec, policy.code_sets) for spec in policy.rules]
    for_every_code: list[CompiledRule] = []
    by_code: dict[str, list] = {}
    order = {id(rule): i for i, rule in enumerate(compiled)}
    for rule in compiled:
        codes = compiler.sets.expand(rule.spec.codes) if rule.spec.codes is not None else None
        if codes is None:
            for_every_code.append(rule)
            continue
        for code in codes:
            by_code.setdefault(code, []).append(rule)
    # A rule for every code also concerns the codes that have rules of their own; keep policy order.
    index = {code: tuple(sorted(rules + for_every_code, key=lambda r: order[id(r)]))
             for code, rules in by_code.items()}
    timed = policy.settings.get("timed_codes", "@timed")
    timed_codes = compiler.sets.expand(ast.SetRef(timed[1:])) if timed[1:] in policy.code_sets else set()
    return RuleProgram(policy, index, tuple(for_every_code), frozenset(timed_codes or ()))


__all__ = ["compile_policy", "RuleProgram", "CompiledRule"]
