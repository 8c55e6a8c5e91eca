"""Stage 6, compile: the generated rule functions, indexed by procedure code.

`program.source` writes every rule's condition, message and fix as Python source, and a function per group
of codes running all their rules; `program.link` compiles each distinct shape of function once and binds it
to its rule's figures. The program maps each code to the
tuple of rules that can concern it, in policy order, so judging a line costs one dict lookup plus the rules
for its code: no parsing, no YAML, no scanning of unrelated rules.
"""

from __future__ import annotations

import collections
import datetime
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, cast

from payerpolicy.rules import ast
from payerpolicy.policy import tables
from payerpolicy.program.allowed_amounts import pricing_of
from payerpolicy.decision import Fix, FixAction
from payerpolicy.policy.model import PolicySpec, RuleSpec
from payerpolicy.program.link import Linker
from payerpolicy.program.runtime import RUNTIME
from payerpolicy.program.pycode import JUDGED, Function, function, py
from payerpolicy.program.row_forms import RowForms
from payerpolicy.program.source import SourceWriter, legend
from payerpolicy.policy.check import RuleChecker


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
    # (day, line) -> the table, quarter and row a reference table's finding came from, added to its source
    source_of: Callable | None = None


class RuleProgram:
    """A compiled policy: rules by code, plus the rules that concern every code."""

    # Set by `assemble`: the plan it was made from (kept so that the program can be sent to another process)
    # and the shapes it compiled.
    plan: ProgramPlan
    shapes_source: str

    def __init__(
        self,
        policy: PolicySpec,
        by_code: Mapping[str, tuple],
        for_every_code: tuple,
        judge_by_code: dict[str, Callable],
        judge_any_code: Callable,
        timed_codes: frozenset,
        uses_history: bool,
    ):
        self.policy = policy
        self.by_code = by_code
        self.for_every_code = for_every_code
        # Per code, one generated function judging a line by every rule of the code: (day, line) -> the
        # rules that fired, in policy order. `rules_for` gives the same rules one by one, for observers.
        self.judge_by_code = judge_by_code
        self.judge_any_code = judge_any_code
        self.timed_codes = timed_codes  # the codes whose minutes turn into units (settings: timed_codes)
        # Whether some rule looks at the patient's year: only then are claims kept in a claim history.
        self.uses_history = uses_history
        self.identity: str | None = None  # what it was loaded from (pipeline), for worker processes
        self.timed_method = policy.settings.get("timed_unit_method", "cms")
        # The fee schedule's pricing of lines (their `allowed` amounts); None when the policy names none.
        self.pricing = pricing_of(policy)

    @property
    def source(self) -> str:
        """The generated Python the rules became, after a legend of its constants: print it to see what runs."""
        return legend(self.plan.constants, self.plan.described) + self.functions_source

    @property
    def functions_source(self) -> str:
        """The generated functions, as written (each from its shape's pieces and its bound names)."""
        linker = self.plan.linker
        return "".join(part if part.__class__ is str else linker.text(part) for part in self.plan.text)

    def rules_for(self, code: str) -> tuple:
        return self.by_code.get(code, self.for_every_code)

    def judge_for(self, code: str) -> Callable:
        judge = self.judge_by_code.get(code, self.judge_any_code)
        return judge.bound() if isinstance(judge, _LazyGroup) else judge

    @property
    def rule_count(self) -> int:
        """The rules in force on the date the policy was loaded for."""
        return len(self.policy.rules)

    @property
    def rules_written(self) -> int:
        """Every rule written in the policy's files (and its bases'), whatever the dates they are in force."""
        plan = getattr(self, "plan", None)
        return max(getattr(plan, "rules_written", 0), self.rule_count)

    def rule_count_words(self, as_of: datetime.date) -> str:
        """`66 rules (64 in force on 2026-12-03)`, or `64 rules` when every rule written is in force on `as_of`
        (the date the program was loaded for)."""
        written, in_force = self.rules_written, self.rule_count
        words = f"{written} rule{'' if written == 1 else 's'}"
        return words if written == in_force else f"{words} ({in_force} in force on {as_of.isoformat()})"


def _write_program(
    policy: PolicySpec,
    writer: SourceWriter,
    linker: Linker,
    groups: list[tuple],
    composed: dict,
    forms: RowForms | None = None,
) -> list:
    """Write every function of a policy into `linker`: per rule its condition, message and fix units; per
    group of codes (codes concerned by the same rules) one function judging a line by all of them, with the
    conditions written in line, except the groups in `composed` (see `composed_groups`); table rows of a form
    in `forms` (program.row_forms) are bound to their form's functions, not written. Returns the text for
    people to read as comments and the linker's numbers of the functions, written out only when someone asks
    (`RuleProgram.source`, which puts the constants' legend before it)."""
    chunks: list = []  # comments, and the linker's numbers of the functions

    def add(made: Function) -> None:
        chunks.append(len(linker.names))
        linker.add(made)

    conditions: list = []  # None for a table row written as its form's (a written group writes it when needed)
    totals_added = 0
    for i, spec in enumerate(policy.rules):
        for total in writer.totals[totals_added:]:  # the running totals the rule before asked for
            add(total)
        totals_added = len(writer.totals)
        row = forms.row(spec) if forms is not None else None
        as_form = forms.write_row(i, *row) if forms is not None and row is not None else None
        if as_form:
            conditions.append(None)
            chunks.append(f"# {spec.id}\n")
            for made in as_form:
                add(made)
            continue
        conditions.append(writer.condition(spec.condition, None))
        chunks.append(f"# {spec.id}\n")
        add(function(f"when_{i}", conditions[i]))
        if isinstance(spec.condition, ast.PairEdit):  # the message and fix name the pairs that hit
            _write_pair_edit(i, spec, conditions[i], policy, writer, add)
            continue
        if isinstance(spec.condition, ast.TableEdit):  # the table says what hit, and where it was read
            table = writer.table(spec.condition)
            add(function(f"provenance_{i}", py(table, ".provenance(", conditions[i], ")")))
            if spec.fix is None:
                add(function(f"table_fix_{i}", py(table, ".fix(", conditions[i], ", ", JUDGED, ")")))
            if spec.message is None:
                add(function(f"message_{i}", py(table, ".message(", conditions[i], ", ", JUDGED, ")")))
                continue
        template = spec.message.parts if spec.message is not None else _default_message(spec, policy.code_sets)
        add(function(f"message_{i}", writer.message(template)))
        if spec.fix is not None and spec.fix.units is not None:
            add(function(f"units_{i}", writer.value(spec.fix.units, None)))
        if forms is not None and row is not None:  # the first row of its form: learned from what was written
            forms.learn(i, *row, linker.written)
    for total in writer.totals[totals_added:]:
        add(total)
    written = [(number, group) for number, group in enumerate(groups) if number not in composed]
    calls = collections.Counter(i for _, group in written for i in group)
    for number, group in written:
        chunks.append(
            f"# group {number}: {', '.join(policy.rules[i].id for i in group[:5])}{' ...' if len(group) > 5 else ''}\n"
        )
        for i in group:
            if conditions[i] is None:
                conditions[i] = writer.condition(policy.rules[i].condition, None)
        add(writer.group(number, [(i, policy.rules[i], conditions[i]) for i in group], calls))
    return chunks


def _write_pair_edit(i: int, spec: RuleSpec, condition, policy: PolicySpec, writer: SourceWriter, add) -> None:
    """A pair table's message, the edits that hit (for its fix) and where they were read."""
    edit = spec.condition
    assert isinstance(edit, ast.PairEdit)  # the caller asked
    settings = tables.PairBypass(edit.either, edit.either_from, edit.sites, edit.ignored_on)
    bypass = writer.constant(tables.bypass_words(edit.bypass, settings, policy.code_sets))
    add(function(f"message_{i}", py("pair_message(", condition, ", ", JUDGED, ".code, ", bypass, ")")))
    add(function(f"hits_{i}", condition))
    if edit.ignored_on is not None and edit.either is not None:  # the fix differs on those codes' lines
        ignored = writer.member_set(edit.ignored_on, "code")
        add(function(f"ignored_{i}", py("(", JUDGED, ".code in ", ignored, ")")))
    table = writer.pair_table(edit)
    add(function(f"provenance_{i}", py(table, ".provenance(", condition, ", ", JUDGED, ".code)")))


def composed_groups(groups: list[tuple]) -> dict[int, tuple[int, int]]:
    """The groups judged by a shorter group and one rule more, instead of by a function written for each:
    group number -> (the shorter group's number, the rule). Adds to `groups` the shorter groups that no code
    has on its own.

    A payer's tables make a group per code: 8,000 unit-cap rows over 8,000 codes are 8,000 groups, each the
    rules for every code (and the pair table the codes are column 2 of) plus the code's row. Written as a
    function of its own, each group wrote the shared rules again (three quarters of a large policy's source,
    and most of its compile time). Composed, a line of such a code costs one more call, and the row's finding
    is put among the shorter group's in policy order. The rule left out of a group is its rarest (the row),
    and only a shorter group that at least `_SHARED_BY` groups share is used so: a small policy's groups are
    all written out, as fast as they come."""
    calls = collections.Counter(i for group in groups for i in group)
    sharing: dict[tuple, list[tuple[int, int]]] = {}
    for number, group in enumerate(groups):
        if number == 0 or not group:
            continue
        rarest = min(reversed(group), key=calls.__getitem__)  # of the rarest, the last
        sharing.setdefault(tuple(i for i in group if i != rarest), []).append((number, rarest))
    numbers = {group: n for n, group in enumerate(groups)}
    composed: dict[int, tuple[int, int]] = {}
    for shorter, longer in sharing.items():
        if len(longer) < _SHARED_BY:
            continue
        if shorter not in numbers:
            numbers[shorter] = len(groups)
            groups.append(shorter)
        for number, rule in longer:
            composed[number] = (numbers[shorter], rule)
    for shorter_number, _ in list(composed.values()):  # a group others are made of is written, not composed
        composed.pop(shorter_number, None)
    return composed


# How many groups must share all but their last rule for them to be judged as that shorter group and the rule.
_SHARED_BY = 16


@dataclass
class ProgramPlan:
    """Everything compiling a policy works out before Python compiles anything: plain data, so that it can be
    kept in the compiled-policy cache (`program.cache`) and a later run skips parsing and writing source."""

    index: dict  # code -> the number of its group (in `groups`): the rules that concern it
    for_every_code: tuple  # rules that concern every code
    groups: list  # the distinct tuples of rules (numbers, policy order) codes have; group n has function group_n
    linker: Linker  # the written functions, by shape
    constants: dict  # the bound names (K_...) and their values
    described: dict  # what the constants whose values do not say it are, in words (for the source's legend)
    # The text for people: comments, and the linker's numbers of the functions between them (`_write_program`).
    text: list
    timed_codes: frozenset
    uses_history: bool  # some rule looks at the patient's year or record
    # The rules written in the policy's files, those in force on other dates included (set by the loader): the
    # count coverage uses, said beside the rules in force so that every tool gives the same number.
    rules_written: int = 0
    # Groups judged as a shorter group and one rule, not written (`composed_groups`): number -> (shorter, rule).
    composed: dict = field(default_factory=dict)
    # `Policy.check`'s quick tests (program.verdicts.VerdictPlan), written by the loader while it has the rule trees.
    verdicts: Any = None


def plan_program(
    policy: PolicySpec, *, running_totals: bool = True, compose: bool = True, row_forms: bool = True
) -> ProgramPlan:
    """Index the rules by code, and write every function of the policy. `running_totals=False` writes every
    count over earlier lines as a walk over them, never as a running total: slower, and the same decisions
    (tests/test_running_counts.py holds the two ways alike). `compose=False` writes a function for every
    group, none composed (`composed_groups`): the same decisions, the way tests/test_payer_scale.py checks."""
    checker = RuleChecker(policy, [])  # reused for its expansion of code sets
    for_every_code: list[int] = []
    by_code: dict[str, list[int]] = {}
    for i, spec in enumerate(policy.rules):
        codes = checker.expand(spec.codes) if spec.codes is not None else None
        if codes is None:
            for_every_code.append(i)
            continue
        for code in sorted(codes):  # in a fixed order, so the generated source is the same in every process
            by_code.setdefault(code, []).append(i)
    # A rule for every code also concerns the codes that have rules of their own; keep policy order.
    rules_of = {code: tuple(sorted(rules + for_every_code)) for code, rules in by_code.items()}
    numbers = {group: n for n, group in enumerate(dict.fromkeys([tuple(for_every_code), *rules_of.values()]))}
    groups = list(numbers)
    # By number, so that a cached plan does not unpickle (and assembling it does not hash) a tuple per code.
    index = {code: numbers[rules] for code, rules in rules_of.items()}
    writer = SourceWriter(policy, checker.expand, running_totals=running_totals)
    linker = Linker(f"{policy.payer} {policy.version}")
    composed = composed_groups(groups) if compose else {}
    forms = RowForms(writer, policy.code_sets) if row_forms else None
    text = _write_program(policy, writer, linker, groups, composed, forms)
    timed = policy.settings.get("timed_codes", "@timed")
    timed_codes = checker.expand(ast.SetRef(timed[1:])) if timed[1:] in policy.code_sets else set()
    uses_history = any(("year" in scope or "record" in scope) for scope in writer.scopes)
    return ProgramPlan(
        index,
        tuple(for_every_code),
        groups,
        linker,
        writer.constants,
        writer.described,
        text,
        frozenset(timed_codes or ()),
        uses_history,
        composed=composed,
    )


def assemble(policy: PolicySpec, plan: ProgramPlan) -> RuleProgram:
    """Compile the plan's shapes and make the program. Functions are bound to their figures when first
    used: a policy of 10,000 rules over 16,000 codes judged on a few dozen codes binds only what it uses."""
    linker = plan.linker
    linker.compile_shapes(RUNTIME)
    made: dict[str, Callable] = {}

    def bind(name: str) -> Callable:  # each function is made once per program
        function = made.get(name)
        if function is None:
            function = made[name] = linker.make(name, resolve)
        return function

    def resolve(name: str):  # a constant, a rule, a rule's condition, or a running total's function
        kind, number = name[0], int(name[2:])
        if kind == "R":
            return compiled[number]
        if kind == "W":
            return bind(f"when_{number}")
        return bind(f"total_{number}") if kind == "S" else plan.constants[name]

    def function(name: str):
        return _Lazy(bind, name) if linker.has(name) else None

    compiled = _CompiledRules(lambda i: _compiled_rule(i, policy.rules[i], linker.has, function), len(policy.rules))
    by_code = _RulesByCode(plan.index, plan.groups, compiled)

    def bind_group(name: str) -> Callable:
        composed = plan.composed.get(int(name[6:]))
        if composed is None:
            return bind(name)
        shorter, rule = composed  # `composed_groups`: a shorter group and one rule more
        later = tuple(compiled[i] for i in plan.groups[shorter] if i > rule)
        return _and_one_rule(bind(f"group_{shorter}"), bind(f"when_{rule}"), compiled[rule], later)

    judges: dict = {}
    judges.update(
        (code, _LazyGroup(bind_group, f"group_{number}", judges, code)) for code, number in plan.index.items()
    )
    program = RuleProgram(
        policy,
        by_code,
        tuple(compiled[i] for i in plan.for_every_code),
        judges,
        bind("group_0"),
        plan.timed_codes,
        plan.uses_history,
    )
    program.shapes_source = linker.source  # what was compiled: each distinct shape of function once
    program.plan = plan  # kept so that the program can be sent to another process (`Policy` pickles)
    return program


def _compiled_rule(
    i: int, spec: RuleSpec, written: Callable[[str], bool], function: Callable[[str], Any]
) -> CompiledRule:
    """Rule `i` with its functions (`function(name)`: the lazily bound function the plan wrote under that
    name, or None); `written(name)` says whether the plan wrote one."""
    fix = fix_of = None
    if spec.fix is not None:
        fix = CompiledFix(spec.fix.action, spec.fix.modifier, function(f"units_{i}"), spec.fix.note)
    if written(f"hits_{i}"):
        fix_of = _pair_fix(function(f"hits_{i}"), spec.fix, function(f"ignored_{i}"))
    if written(f"table_fix_{i}"):
        fix_of = function(f"table_fix_{i}")
    return CompiledRule(
        spec,
        function(f"when_{i}"),
        function(f"message_{i}"),
        fix,
        spec.effective_from,
        spec.effective_to,
        spec.effective_from is not None or spec.effective_to is not None,
        fix_of,
        function(f"provenance_{i}"),
    )


def _and_one_rule(shorter: Callable, when: Callable, rule: CompiledRule, later: tuple) -> Callable:
    """A composed group's function (`composed_groups`): the shorter group's rules and one rule more, whose
    finding goes before those of the shorter group's rules that come `later` in the policy."""
    if rule.dated:  # tested before the condition, as a written group tests them
        condition, start, end = when, rule.effective_from, rule.effective_to

        def when(d, f):
            return (start is None or start <= f.date) and (end is None or f.date <= end) and condition(d, f)

    if not later:

        def judge(d, f):
            fired = shorter(d, f)
            if when(d, f):
                fired.append(rule)
            return fired

        return judge
    later_ids = frozenset(map(id, later))  # compared by identity: a compiled rule is one object per program

    def judge_between(d, f):
        fired = shorter(d, f)
        if when(d, f):
            at = len(fired)
            while at and id(fired[at - 1]) in later_ids:
                at -= 1
            fired.insert(at, rule)
        return fired

    return judge_between


class _CompiledRules:
    """A program's compiled rules by number, each made when first asked for: a policy of 10,000 rules judged
    on a few dozen codes makes the few hundred it meets. A rule is one object per program (composed groups
    compare rules by identity), made under a lock."""

    __slots__ = ("make", "made", "lock")

    def __init__(self, make: Callable[[int], CompiledRule], count: int):
        self.make = make
        self.made: list[CompiledRule | None] = [None] * count
        self.lock = threading.Lock()

    def __getitem__(self, number: int) -> CompiledRule:
        rule = self.made[number]
        if rule is None:
            with self.lock:
                rule = self.made[number]
                if rule is None:
                    rule = self.made[number] = self.make(number)
        return rule


class _RulesByCode(Mapping):
    """Code -> the compiled rules of its group, in policy order (`RuleProgram.by_code`), each group's tuple
    made when first asked for."""

    def __init__(self, index: dict, groups: list, compiled: _CompiledRules):
        self.index, self.groups, self.compiled = index, groups, compiled
        self.tuples: dict[int, tuple] = {}

    def __getitem__(self, code: str) -> tuple:
        number = self.index[code]
        rules = self.tuples.get(number)
        if rules is None:
            rules = self.tuples[number] = tuple(self.compiled[i] for i in self.groups[number])
        return rules

    def __iter__(self) -> Iterator[str]:
        return iter(self.index)

    def __len__(self) -> int:
        return len(self.index)


class _LazyGroup:
    """Stands in a program's code -> function dict until a line of the code is first judged; then binds
    the group's function and puts it in its place, so later lines find it with a plain dict lookup."""

    __slots__ = ("bind", "name", "judges", "code")

    def __init__(self, bind, name: str, judges: dict, code: str):
        self.bind, self.name, self.judges, self.code = bind, name, judges, code

    def bound(self):
        function = self.judges[self.code] = self.bind(self.name)
        return function

    def __call__(self, day, focus):
        return self.bound()(day, focus)


class _Lazy:
    """A rule's function (message, fix units, condition) bound on its first call: most rules of a large
    policy never fire, and their messages are never written."""

    __slots__ = ("bind", "name", "bound")

    def __init__(self, bind, name: str):
        self.bind, self.name, self.bound = bind, name, None

    def __call__(self, day, focus):
        if self.bound is None:
            self.bound = self.bind(self.name)
        return self.bound(day, focus)


def _default_message(spec: RuleSpec, code_sets: dict) -> tuple:
    """The message of a table row without one of its own: template parts made by `policy.tables`."""
    if spec.default_message is None:
        return (f"rule {spec.id} applies",)
    return spec.default_message(code_sets)


def _pair_fix(hits_of: Callable, written: ast.Fix | None, ignored_of: Callable | None = None) -> Callable:
    """A pair table's fix: remove the line when an edit allows no modifier, else add the bypass modifier
    (the table's own `fix:`, or 59; on a line of a code where 59 does not count, a review)."""

    def fix_of(day, view) -> Fix:
        if any(indicator == 0 for _, indicator in hits_of(day, view)):
            return Fix("remove_line", view.number)
        if written is None and ignored_of is not None and ignored_of(day, view):
            return Fix("review", view.number, note=tables.IGNORED_CODE_FIX)
        if written is not None and written.action == "add_modifier":
            return Fix("add_modifier", view.number, written.modifier)
        if written is not None:
            # The checker let only the fix actions a decision names through (`FIX_ACTIONS`).
            return Fix(cast(FixAction, written.action), view.number, note=written.note)
        return Fix("add_modifier", view.number, "59")

    return fix_of


__all__ = ["plan_program", "assemble", "ProgramPlan", "RuleProgram", "CompiledRule"]
