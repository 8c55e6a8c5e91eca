"""Stage 6, compile: the generated rule functions, indexed by procedure code.

`program_source` writes every rule's condition, message and fix as Python source, and a function per group
of codes running all their rules; `program_link` compiles each distinct shape of function once and binds it
to its rule's figures. The program maps each code to the
tuple of rules that can concern it, in policy order, so judging a line costs one dict lookup plus the rules
for its code: no parsing, no YAML, no scanning of unrelated rules.
"""
from __future__ import annotations

import collections
import datetime
from dataclasses import dataclass
from typing import Callable

from . import rule_ast as ast
from .builtins import format_value
from .decision import Fix
from .policy_model import PolicySpec, RuleSpec
from .program_link import Linker
from .program_source import MISSING, SourceWriter
from .rule_check import RuleChecker


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
    message: Callable  # (day, focus) -> str
    fix: CompiledFix | None
    effective_from: datetime.date | None
    effective_to: datetime.date | None
    dated: bool  # has an effective period: the line's date of service must be checked against it
    fix_of: Callable | None = None  # (day, line) -> Fix, for a fix that depends on what hit (pair tables)


class RuleProgram:
    """A compiled policy: rules by code, plus the rules that concern every code."""

    def __init__(self, policy: PolicySpec, by_code: dict[str, tuple], for_every_code: tuple,
                 judge_by_code: dict[str, Callable], judge_any_code: Callable, timed_codes: frozenset, source: str):
        self.policy = policy
        self.source = source  # the generated Python the rules became: print it to see what runs
        self.by_code = by_code
        self.for_every_code = for_every_code
        # Per code, one generated function judging a line by every rule of the code: (day, line) -> the
        # rules that fired, in policy order. `rules_for` gives the same rules one by one, for observers.
        self.judge_by_code = judge_by_code
        self.judge_any_code = judge_any_code
        self.timed_codes = timed_codes  # the codes whose minutes turn into units (settings: timed_codes)
        # Whether some rule looks at the patient's year: only then are claims kept in a claim history.
        self.uses_history = any(("year" in scope or "record" in scope) for scope in _scopes_of(policy))
        self.timed_method = policy.settings.get("timed_unit_method", "cms")

    def rules_for(self, code: str) -> tuple:
        return self.by_code.get(code, self.for_every_code)

    def judge_for(self, code: str) -> Callable:
        return self.judge_by_code.get(code, self.judge_any_code)

    @property
    def rule_count(self) -> int:
        return len(self.policy.rules)


# A rule that concerns more groups of codes than this is called from each group rather than written into it,
# so that a rule over thousands of codes (each with rules of its own) does not multiply the source.
_INLINE_UP_TO = 16


def _write_program(policy: PolicySpec, writer: SourceWriter, linker: Linker, groups: list[tuple]) -> str:
    """Write every function of a policy into `linker`: per rule its condition, message and fix units; per
    group of codes (codes concerned by the same rules) one function judging a line by all of them, with the
    conditions written in line. Returns the whole text, for people to read."""
    chunks = []

    def add(name: str, text: str) -> None:
        linker.add(name, text)
        chunks.append(text)
    conditions = []
    for i, spec in enumerate(policy.rules):
        conditions.append(writer.condition(spec.condition, "f"))
        chunks.append(f"# {spec.id}\n")
        add(f"when_{i}", writer.function(f"when_{i}", conditions[i]))
        if isinstance(spec.condition, ast.PairEdit):  # the message and fix name the pairs that hit
            bypass = writer.member_set(spec.condition.bypass, "modifier")
            add(f"message_{i}", writer.function(f"message_{i}", f"pair_message({conditions[i]}, l.code, {bypass})"))
            add(f"hits_{i}", writer.function(f"hits_{i}", conditions[i]))
            continue
        template = spec.message.parts if spec.message is not None else _default_message(spec, policy.code_sets)
        add(f"message_{i}", writer.function(f"message_{i}", writer.message(template)))
        if spec.fix is not None and spec.fix.units is not None:
            add(f"units_{i}", writer.function(f"units_{i}", writer.value(spec.fix.units, "f")))
    in_groups = collections.Counter(i for group in groups for i in group)
    for number, group in enumerate(groups):
        body = [f"def group_{number}(d, f):", "    l = d.line", "    m = d.memo", "    fired = []"]
        for i in group:
            spec = policy.rules[i]
            test = conditions[i] if in_groups[i] <= _INLINE_UP_TO else f"W_{i}(d, f)"
            if spec.effective_from is not None:
                test = f"{writer.constant(spec.effective_from)} <= f.date and {test}"
            if spec.effective_to is not None:
                test = f"f.date <= {writer.constant(spec.effective_to)} and {test}"
            body.append(f"    if {test}:")
            body.append(f"        fired.append(R_{i})")
        chunks.append(f"# group {number}: {', '.join(policy.rules[i].id for i in group[:5])}"
                      f"{' ...' if len(group) > 5 else ''}\n")
        add(f"group_{number}", "\n".join(body + ["    return fired", "", ""]))
    return "".join(chunks)


def _compile_rules(policy: PolicySpec, checker: RuleChecker):
    """Compile the rules once; index the rules and their groups by code."""
    for_every_code: list[int] = []
    by_code: dict[str, list[int]] = {}
    for i, spec in enumerate(policy.rules):
        codes = checker.expand(spec.codes) if spec.codes is not None else None
        if codes is None:
            for_every_code.append(i)
            continue
        for code in codes:
            by_code.setdefault(code, []).append(i)
    # A rule for every code also concerns the codes that have rules of their own; keep policy order.
    index = {code: tuple(sorted(rules + for_every_code)) for code, rules in by_code.items()}
    groups = list(dict.fromkeys([tuple(for_every_code), *index.values()]))
    group_number = {group: n for n, group in enumerate(groups)}

    writer = SourceWriter(policy, checker.expand)
    linker = Linker(f"{policy.payer} {policy.version}", _RUNTIME)
    source = _write_program(policy, writer, linker, groups)
    functions = linker.link(writer.constants.__getitem__,
                            only={n for n, _, _ in linker.functions if not n.startswith("group_")})
    compiled: list[CompiledRule] = []
    for i, spec in enumerate(policy.rules):
        fix = fix_of = None
        if spec.fix is not None:
            fix = CompiledFix(spec.fix.action, spec.fix.modifier, functions.get(f"units_{i}"), spec.fix.note)
        if f"hits_{i}" in functions:
            fix_of = _pair_fix(functions[f"hits_{i}"], spec.fix)
        compiled.append(CompiledRule(spec, functions[f"when_{i}"], functions[f"message_{i}"], fix,
                                     spec.effective_from, spec.effective_to,
                                     spec.effective_from is not None or spec.effective_to is not None, fix_of))

    def resolve(name: str):  # a group names constants, the rules it reports and the conditions it calls
        kind, number = name[0], int(name[2:])
        if kind == "R":
            return compiled[number]
        return functions[f"when_{number}"] if kind == "W" else writer.constants[name]
    judges = linker.link(resolve, only={f"group_{n}" for n in range(len(groups))})
    rules = {code: tuple(compiled[i] for i in group) for code, group in index.items()}
    judge_by_code = {code: judges[f"group_{group_number[group]}"] for code, group in index.items()}
    every = (tuple(compiled[i] for i in for_every_code), judges["group_0"])
    return rules, judge_by_code, every, source, linker.source


def _default_message(spec: RuleSpec, code_sets: dict) -> tuple:
    """The message of a table row without one of its own: template parts made by `table_lower`."""
    if spec.default_message is None:
        return (f"rule {spec.id} applies",)
    return spec.default_message(code_sets)


def _pair_message(hits: tuple, code: str, bypass: frozenset) -> str:
    """What a pair table's finding says: the column-1 codes billed that day, and whether a modifier helps."""
    paired = " and ".join(column1 for column1, _ in hits)
    text = (f"{code} is not paid on the same day as {paired} for the same patient "
            f"(code pair edit{'s' if len(hits) > 1 else ''} {', '.join(f'{c}/{code}' for c, _ in hits)}, "
            f"{code} in column 2)")
    if any(indicator == 0 for _, indicator in hits):
        return text + "; no modifier overrides this pair"
    shown = ", ".join(sorted(bypass))
    if len(bypass) > 6 and "59" in bypass:  # the NCCI list runs to forty modifiers: name the usual ones
        shown = "59, XE, XS, XP, XU or another NCCI-associated modifier"
    return text + f"; a bypass modifier ({shown}) is accepted only when the services were truly separate"


def _pair_fix(hits_of: Callable, written: ast.Fix | None) -> Callable:
    """A pair table's fix: remove the line when an edit allows no modifier, else add the bypass modifier
    (the table's own `fix:`, or 59)."""
    def fix_of(day, view) -> Fix:
        if any(indicator == 0 for _, indicator in hits_of(day, view)):
            return Fix("remove_line", view.number)
        if written is not None and written.action == "add_modifier":
            return Fix("add_modifier", view.number, written.modifier)
        if written is not None:
            return Fix(written.action, view.number, note=written.note)
        return Fix("add_modifier", view.number, "59")
    return fix_of


# The lines of the judged line's day or year that a count looks at (named in program_source._SCOPES).
def whole_day(day):
    past = day.past_day()
    return past + day.lines if past else day.lines


def others_that_day(day):
    return day.past_day() + [line for line in day.lines if line is not day.line]


def earlier_that_day(day):
    past = day.past_day()
    return past + day.lines[:day.position] if past else day.lines[:day.position]


def whole_year(day):
    return day.year_lines(earlier=False)


def year_without_self(day):
    return [line for line in day.year_lines(earlier=False) if line is not day.line]


def earlier_that_year(day):
    return day.year_lines(earlier=True)


def on_record(day):
    return day.year_lines(earlier=False, whole_record=True)


def record_without_self(day):
    return [line for line in on_record(day) if line is not day.line]


def earlier_on_record(day):
    return day.year_lines(earlier=True, whole_record=True)


_NOT_YET = object()  # a memo slot not worked out yet (None is a value a count may not have, but be safe)


def _remember(memo: dict, slot: int, value):
    memo[slot] = value
    return value


# What every generated module may name besides its own constants.
_RUNTIME = {"whole_day": whole_day, "others_that_day": others_that_day, "earlier_that_day": earlier_that_day,
            "whole_year": whole_year, "year_without_self": year_without_self,
            "earlier_that_year": earlier_that_year, "on_record": on_record,
            "record_without_self": record_without_self, "earlier_on_record": earlier_on_record,
            "NOT_YET": _NOT_YET, "remember": _remember, "pair_message": _pair_message, "MISSING": MISSING,
            "format_value": format_value,
            "__builtins__": __builtins__}


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
    checker = RuleChecker(policy, [])  # reused for its expansion of code sets
    by_code, judge_by_code, (for_every_code, judge_any_code), source, shapes = _compile_rules(policy, checker)
    timed = policy.settings.get("timed_codes", "@timed")
    timed_codes = checker.expand(ast.SetRef(timed[1:])) if timed[1:] in policy.code_sets else set()
    program = RuleProgram(policy, by_code, for_every_code, judge_by_code, judge_any_code,
                          frozenset(timed_codes or ()), source)
    program.shapes_source = shapes  # what was compiled: each distinct shape of function once
    return program


__all__ = ["compile_policy", "RuleProgram", "CompiledRule"]
