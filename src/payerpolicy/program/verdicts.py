"""Whether a line can break any rule of its code, written per group of codes over plain tuples: the test
`Policy.check`'s quick road asks (judge/check_road.py).

The judge's functions (program.source) say which rules a line breaks and why, reading a `LineView` in its
`DayContext`; on a claim of a few lines, making those objects costs more than the rules themselves. Most
claims break no rule, and then the decision says only that every line is accepted. So the quick road asks one
question per line: can any rule of the line's code fire on it? The same writer writes that question from the
same rule trees, with three differences: a line is a tuple (`claims.json_values.LINE_VALUES`) and the day is
the claim's list of them, counts are worked out where they are asked (no memo), and nothing is written for a
rule this form cannot say faithfully (a pair or reference table, a function of the rule language, a field of the claim, the patient or
the run); a data fault is always missing (a claim with one never takes the quick road). A group with such a rule has no test (`UNSAID`): a claim with a line of its codes takes the judge's
road, as does every claim on which a test says yes, so that the judge finds what fired and words it.

The tests are written from the rule trees when a policy is loaded from its files (`plan_verdicts`, called
by pipeline.load_program) and kept with its plan, so that a program from the compiled-policy cache (which
keeps no trees) or sent to a worker has them too; `write_verdicts` compiles them.

The tuples stand for a claim judged alone on one date with no claim history (what `Policy.check` judges):
the day and the year are the claim's lines, and the lines before the judged one are those above it on the
claim. tests/test_check_road.py holds the road's decisions to the judge's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from payerpolicy.claims.json_values import LINE_VALUES
from payerpolicy.policy.check import RuleChecker
from payerpolicy.program.pycode import JUDGED, Code, Frame, Function, FunctionWriter, joined, py, simple
from payerpolicy.program.source import MISSING, SourceWriter
from payerpolicy.rules import ast, fields

__all__ = ["UNSAID", "VerdictPlan", "Verdicts", "plan_verdicts", "write_verdicts"]

# A line as the quick road holds it (claims.json_values): the fields rules may read of it, at these places.
_AT = {name: place for place, name in enumerate(LINE_VALUES)}
_DATE, _CLAIM_ID = _AT["date"], _AT["claim_id"]

UNSAID = "no test written"  # a group with a rule the quick road cannot test: its lines take the judge's road

# Nodes of a rule's condition the tuple form says as the judge does; anything else leaves its group UNSAID.
_SAID = (
    ast.Always,
    ast.AllOf,
    ast.AnyOf,
    ast.Not,
    ast.Compare,
    ast.InSet,
    ast.IsMissing,
    ast.HasModifier,
    ast.AnotherLine,
    ast.DayLines,
    ast.Arithmetic,
    ast.Literal,
    ast.Field,
    ast.SetRef,
    ast.SetList,
    ast.CodeRange,
)
# Groups of a policy above this many are not written (a payer's tables): the judge's road serves them.
_MOST_GROUPS = 400


class _NotSaid(Exception):
    """A rule the tuple form cannot test."""


def _whole(d: list, f: tuple) -> list:
    return d


def _others(d: list, f: tuple) -> list:
    return [line for line in d if line is not f]


def _earlier(d: list, f: tuple) -> list:
    return d[: f[0] - 1]  # lines are numbered from 1 down the claim


# The judge's scopes (program.runtime) for a claim alone on one date without a history: the day, the year
# and the record are all the claim's lines.
_SCOPES = {
    "whole_day": _whole,
    "whole_year": _whole,
    "on_record": _whole,
    "others_that_day": _others,
    "year_without_self": _others,
    "record_without_self": _others,
    "earlier_that_day": _earlier,
    "earlier_that_year": _earlier,
    "earlier_on_record": _earlier,
}


class _TupleWriter(SourceWriter):
    """`SourceWriter` writing reads of a line as tuple places, and counts where they are asked."""

    def __init__(self, policy, expand_codes):
        super().__init__(policy, expand_codes, running_totals=False)

    def memo(self, node, code: Code) -> Code:
        return py("(", code, ")")

    def day_memo(self, node, code: Code) -> Code:
        return py("(", code, ")")

    @staticmethod
    def line_attribute(focus, attribute: str) -> Code:
        place = _AT.get(attribute)
        if place is None:
            raise _NotSaid(attribute)
        # The line the rule looks at, or the judged line inside a count's filter: `f`; a counted line: its name.
        return simple("f" if focus is None or focus is JUDGED else focus, f"[{place}]")

    def field(self, declared: fields.Field, line) -> Code:
        if declared.attribute in fields.FAULT_ATTRIBUTES:
            # A claim the quick road reads has no data faults (json_quick leaves any claim with one to the careful
            # road), and a line of a claim without faults has every `data_fault.<kind>` missing (judge.LineView).
            return py("None")
        if declared.read != fields.LINE:
            raise _NotSaid(declared.name)
        return self.line_attribute(line, declared.attribute)

    def scope_lines(self, scope_function: str, filt) -> Code:
        lines = self.constant(_SCOPES[scope_function], key=("quick scope", scope_function), what=scope_function)
        return py(lines, "(d, f)")

    def _day_lines_code(self, measure: str, loop, lines: Code, test: Code, filtered: bool) -> Code:
        if measure == "count":
            return super()._day_lines_code(measure, loop, lines, test, filtered)
        if measure in ("days", "claims"):
            place = _DATE if measure == "days" else _CLAIM_ID
            return py("len({", loop, f"[{place}] for ", loop, " in ", lines, test, "})")
        if measure in ("earliest date", "latest date"):
            pick = "min" if measure == "earliest date" else "max"
            return py(f"{pick}([", loop, f"[{_DATE}] for ", loop, " in ", lines, test, "], default=None)")
        summed = _AT.get(fields.summed(measure).attribute)
        if summed is None:
            raise _NotSaid(measure)
        return py("sum([", loop, f"[{summed}] or 0 for ", loop, " in ", lines, test, "])")


class Verdicts:
    """Per code, its group's test `(lines, line) -> bool` (true: some rule may fire), None when no rule
    concerns the code, or `UNSAID`."""

    def __init__(self, by_code: dict[str, Callable | str | None], every_code: Callable | str | None):
        self.by_code = by_code
        self.every_code = every_code  # for a code without rules of its own


@dataclass
class VerdictPlan:
    """The tests of a policy as plain data (kept in the compiled-policy cache with the rest of its plan, which
    keeps no rule trees): per group of codes, its test's text as written (`pycode.Function`), or UNSAID or
    None (a group of no rules); and the constants they name."""

    tests: list
    constants: dict


def plan_verdicts(policy, plan) -> VerdictPlan | None:
    """Write the tests of a policy's groups (`plan`: its `program.compile.ProgramPlan`), or None when the quick
    road would not serve it: more groups than `_MOST_GROUPS`, rules without their trees (a policy from the
    compiled-policy cache), a rule for every code the tests cannot say, or tests for fewer than half of the codes
    with rules of their own."""
    if len(plan.groups) > _MOST_GROUPS or any(spec.condition is None for spec in policy.rules):
        return None
    writer = _TupleWriter(policy, RuleChecker(policy, []).expand)
    tests: dict[int, Code | str] = {}  # rule -> its test, or UNSAID
    if any(_rule_test(i, policy.rules[i], writer, tests) is UNSAID for i in plan.for_every_code):
        return None  # a rule for every code is in every group (the shipped policies' data faults): none has a test
    written = [_group_test(number, group, policy.rules, writer, tests) for number, group in enumerate(plan.groups)]
    tested = sum(written[number] is not UNSAID for number in plan.index.values())
    if tested * 2 < len(plan.index):  # most codes' lines would go to the judge after a detour here (the shipped
        return None  # policies: their timed codes' rules read the day's timed units)
    return VerdictPlan(written, writer.constants)


def write_verdicts(program) -> Verdicts | None:
    """The tests of a compiled program (`program.compile.RuleProgram`), compiled from its plan's (the loader
    writes them, `pipeline.load_program`) or else written now; None for a program priced by a fee schedule,
    or one `plan_verdicts` gives none for."""
    plan = program.plan
    if program.pricing is not None:
        return None
    made = plan.verdicts if plan.verdicts is not None else plan_verdicts(program.policy, plan)
    if made is None:
        return None
    compiled = [_compiled(test, made.constants) for test in made.tests]
    by_code = {code: compiled[number] for code, number in plan.index.items()}
    return Verdicts(by_code, compiled[0] if plan.for_every_code else None)


def _group_test(number: int, group: tuple, specs, writer: _TupleWriter, tests: dict) -> Function | str | None:
    """The test of a group of rules (by their numbers) as written, UNSAID, or None for no rules."""
    codes = [_rule_test(i, specs[i], writer, tests) for i in group]
    if not codes:
        return None
    if any(code is UNSAID for code in codes):
        return UNSAID
    function = FunctionWriter(f"may_fire_{number}", Frame())
    function.line(0, "return ", joined(codes, " or "))
    return function.finish()


def _compiled(test: Function | str | None, constants: dict) -> Callable | str:
    if test is None:
        return _never
    if isinstance(test, str):
        return test  # UNSAID
    scope: dict[str, Any] = {name: constants[name] for name in test.bound}
    scope["MISSING"] = MISSING
    exec(compile(test.text, f"<payerpolicy quick test {test.name}>", "exec"), scope)  # noqa: S102 - our own text
    return scope[test.name]


def _rule_test(i: int, spec, writer: _TupleWriter, tests: dict) -> Code | str:
    found = tests.get(i)
    if found is not None:
        return found
    if not _all_said(spec.condition):
        tests[i] = UNSAID
        return UNSAID
    try:
        test = py("(", writer.condition(spec.condition, None), ")")
    except Exception:  # _NotSaid; and since the tests only speed `check` up, nothing here may stop a policy loading
        tests[i] = UNSAID
        return UNSAID
    date = simple(f"f[{_DATE}]")
    if spec.effective_from is not None:  # as the judge's group functions test a rule's period
        test = py("(", writer.constant(spec.effective_from), " <= ", date, " and ", test, ")")
    if spec.effective_to is not None:
        test = py("(", date, " <= ", writer.constant(spec.effective_to), " and ", test, ")")
    tests[i] = test
    return test


def _never(d: list, f: tuple) -> bool:
    return False


def _all_said(node: object) -> bool:
    """Whether every node of a condition is one the tuple form says (`_SAID`)."""
    if isinstance(node, tuple):
        return all(_all_said(item) for item in node)
    slots = getattr(node, "__slots__", None)
    if slots is None or isinstance(node, (str, int, float)):
        return True  # a value: text, a number, a date
    if not isinstance(node, _SAID):
        return False
    return all(_all_said(getattr(node, name)) for name in slots)  # a node's own slots: its span is `Node`'s
