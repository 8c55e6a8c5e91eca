"""Stage 6, compile (first half): checked rules written out as Python source.

A rule's condition, message and fix become plain Python functions of `(d, f)`: `d` is the judged line's
place in its patient-day (`judge.judge.DayContext`, whose `.line` is the judged line) and `f` the line the rule
looks at (the judged line itself at the top). Written out this way, `units > 4 and lacks modifier 59` is one
function doing two attribute reads and two tests, where a tree of closures would make a call per node; the
interpreter cost per line drops severalfold (bench/run.py measures it).

Two things the source does on purpose:

- A value looked up in a rule may be missing (a line without minutes). Comparisons and arithmetic on a
  missing value are false and missing, exactly as the rule language says; the generated code tests for
  None only where a value can be missing.
- Counting over the day or the year (`total units of lines ... earlier that day`, `another line ...`) depends
  only on the judged line, never on the rule asking. Each distinct count gets a slot in the judged line's
  memo (`d.memo`), so when five rules ask for the patient's charges earlier that year, they are counted once.
  A count whose filter reads only the counted lines (`reads_only_counted_line`) goes further: over the whole
  day or year it is the same for every line of the claim on that date, and is kept in the day's memo
  (`d.day_memo`); over earlier lines it is a running total each line adds to once (`program.runtime`).
  One whose filter also asks the counted line to equal the judged line in a field (`code = line.code and
  claim_id = claim.id earlier that day`: `keyed_by_judged_line`) is a running total kept per value.
  One over the whole record of dates (`latest date`, `number of days`) whose filter is a set of codes,
  fields equal to the judged line's and a range of dates (`program.record_filter`) is answered by halving
  the record's sorted dates (`program.record_dates`), not by walking the record.

Everything the policy supplies (numbers, text, code sets, value tables, functions, the names of its code sets
and values) is handed to the generated code as a named constant (`K_12`), never written into the source; the
attributes the code reads come from the field declarations (`rules.fields`), never from the rule's text. So the
source of a rule says only what the rule does, and rules that do the same with other figures (six thousand unit
caps) have the same source, compiled once (see program.link). `print(program.source)` shows what a policy
became, after a legend saying what each constant is.

The writer builds code as data (`program.pycode`): a count kept in a memo, a field of the line in focus, the
judged line are pieces of it, not text. Writing a function (`pycode.Frame`) decides from those pieces which
counts and fields a group function holds in locals and which set-up lines it needs; nothing reads written
text back.
"""

from __future__ import annotations

import collections
import datetime
import operator

from payerpolicy.codes import DiagnosisSet, range_codes
from payerpolicy.program.pycode import (
    JUDGED,
    Bound,
    Code,
    FocusField,
    Frame,
    Function,
    FunctionWriter,
    Memo,
    Temp,
    function,
    joined,
    measure,
    py,
    simple,
)
from payerpolicy.policy.model import RuleSpec
from payerpolicy.program.record_filter import DATE_ANSWERS, DatesFilter, counted_equals_judged, dates_filter
from payerpolicy.rules import ast, fields
from payerpolicy.rules.builtins import BUILTINS

_COMPARE = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# Missing, as the rule language means it: no value, no modifiers, empty text.
MISSING = (None, (), "")
# `earliest date of lines ...`, `latest date of lines ...`: dates, missing when no line is counted.
_DATE_MEASURES = ("earliest date", "latest date")
# A rule that concerns more groups of codes than this is called from each group rather than written into it,
# so that a rule over thousands of codes (each with rules of its own) does not multiply the source.
_INLINE_UP_TO = 16
_SHORT = 160  # ... unless its condition is short (a pair table's, say): a call would cost more than the text


class SourceWriter:
    """Writes rules as Python function source (`program.pycode.Code`), collecting the constants it names.

    A constant whose value does not say what it is gets words as it is named (`described`), so that the source
    people read (`legend`) says what each `K_12` is."""

    def __init__(self, policy, expand_codes, running_totals: bool = True):
        self.policy = policy
        self.expand_codes = expand_codes  # SetExpr -> set of codes (the checker's expansion)
        # False: every count over earlier lines walks them (plan_program's `running_totals`).
        self.running_totals = running_totals
        self.constants: dict[str, object] = {}
        # Constant name -> what it is, in words, where its value does not say (a memo slot, a value's name).
        self.described: dict[str, str] = {}
        self._constant_names: dict[object, Code] = {}  # a constant's key -> the code naming it
        self.memo_slots: dict[object, int] = {}  # a count over lines -> its slot in the judged line's memo
        self.totals: list[Function] = []  # the running totals' functions
        self._total_of: dict[object, int] = {}
        self._hoisted: dict[object, Temp] = {}  # a count inside a count's filter -> the temporary holding it
        self._values_written: dict[int, tuple[object, Code]] = {}  # `value`'s code by the identity of its node
        self.scopes: set[str] = set()  # every scope (`day`, `year`, ...) a count written so far looks at

    # ---------------------------------------------------------------- names
    def constant(self, value, key=None, what: str | None = None) -> Code:
        """A name for `value` in the generated module; equal constants (by `key`) share one name. `what` says
        what it is, for the legend (else its value)."""
        key = key if key is not None else (type(value).__name__, value)
        code = self._constant_names.get(key)
        if code is None:
            name = f"K_{len(self._constant_names)}"
            code = self._constant_names[key] = simple(Bound(name))  # one Code per name: it is never changed
            self.constants[name] = value
            if what is not None:
                self.described[name] = what
        return code

    def builtin(self, function: str) -> Code:
        """The name of a rule-language function's implementation."""
        return self.constant(
            BUILTINS[function].implementation, key=("builtin", function), what=f"the function `{function}`"
        )

    def constant_value(self, code: Code):
        """The value of a constant named by `constant`."""
        (bound,) = code.parts
        return self.constants[bound.name]

    @staticmethod
    def py(*pieces) -> Code:
        """Code of text and pieces (for builtins' `emit` parts, which cannot import this stage)."""
        return py(*pieces)

    def hold(self, code: Code) -> tuple[Code, Code]:
        """(first use, later uses) of an expression read twice: plain when cheap, else via a temporary."""
        if code.simple:
            return code, code
        temp = Temp("_t")
        return py("(", temp, " := ", code, ")"), simple(temp)

    # ---------------------------------------------------------------- sets
    def member_set(self, set_expr, kind: str) -> Code:
        if kind == "diagnosis":
            entries = tuple(self._entries(set_expr))
            return self.constant(DiagnosisSet(entries), key=("diagnoses", entries))
        if kind == "code":
            codes = frozenset(self.expand_codes(set_expr) or ())
            return self.constant(codes, key=("codes", codes))
        # Modifiers, provider types and text upper-cased; numbers stay numbers (`count in [9, 19]`).
        modifiers = frozenset(e.upper() if isinstance(e, str) else e for e in self._entries(set_expr))
        return self.constant(modifiers, key=("codes", modifiers))

    def _entries(self, set_expr) -> list:
        match set_expr:
            case ast.SetRef(name):
                return list(self.policy.code_sets[name].entries)
            case ast.SetList(items):
                out: list = []  # codes as text, numbers as numbers
                for item in items:
                    out += (
                        self._entries(item)
                        if isinstance(item, (ast.SetRef, ast.SetList))
                        else [
                            item.value
                            if isinstance(item, ast.Literal) and item.kind == "number"
                            else str(item.value)
                            if isinstance(item, ast.Literal)
                            else f"{item.low}-{item.high}"
                        ]
                    )
                return out
            case ast.CodeRange(low, high):
                codes = range_codes(low, high)
                assert isinstance(codes, list), codes  # the checker refused a range that is not one
                return codes
        return []

    # ---------------------------------------------------------------- conditions
    def condition(self, node, focus) -> Code:
        """A Python expression, true when the condition holds for the line `focus` (a `Temp` loop variable,
        or None for the line the rule looks at, `f`)."""
        match node:
            case ast.Always():
                return py("True")
            case ast.AllOf(items):
                return py("(", joined([self.condition(i, focus) for i in items], " and "), ")")
            case ast.AnyOf(items):
                return py("(", joined([self.condition(i, focus) for i in items], " or "), ")")
            case ast.Not(item):
                return py("(not ", self.condition(item, focus), ")")
            case ast.Compare(op, left, right):
                return self.compare(op, left, right, focus)
            case ast.InSet():
                return self.in_set(node, focus)
            case ast.IsMissing(value, negated):
                return py("(", self.value(value, focus), " not in MISSING)" if negated else " in MISSING)")
            case ast.HasModifier(modifiers, negated):
                wanted = self.member_set(modifiers, "modifier")
                modifiers_read = self.line_attribute(focus, "modifiers")
                if len(self.constant_value(wanted)) == 1:  # `lacks modifier GP`: a test on the line's few modifiers
                    (modifier,) = self.constant_value(wanted)
                    return py("(", self.constant(modifier), " not in " if negated else " in ", modifiers_read, ")")
                return py("(" if negated else "(not ", wanted, ".isdisjoint(", modifiers_read, "))")
            case ast.PairEdit():
                return self.pair_hits(node)
            case ast.TableEdit():
                return self.memo(node, py(self.table(node), ".hits(d)"))
            case ast.AnotherLine(filt, scope):
                self.scopes.add(scope)
                if self.running_totals and reads_only_counted_line(filt):
                    return self.another_line_counted(node, filt, scope, focus)
                keyed = keyed_by_judged_line(filt) if self.running_totals and scope in _RUNNING else None
                if keyed is not None:  # `another line with code = line.code earlier that day`
                    return py("(", self.memo(node, self.running(node, "count", keyed.rest, scope, keyed)), " > 0)")
                lines = self.scope_lines(_SCOPES_WITHOUT_SELF[scope], filt)
                if filt is None:
                    return self.memo(node, py("bool(", lines, ")"))
                loop = Temp("o")
                return self.memo(node, py("any(", self.condition(filt, loop), " for ", loop, " in ", lines, ")"))
        raise AssertionError(f"no compiled form for {type(node).__name__}")

    def table(self, node: ast.TableEdit) -> Code:
        """The name of a reference table in the generated module (one name per table)."""
        return self.constant(node.table, key=("reference table", id(node.table)), what=_table_words(node.table))

    def pair_table(self, node: ast.PairEdit) -> Code:
        return self.constant(node.table, key=("pair table", id(node.table)), what=_table_words(node.table))

    def pair_hits(self, node: ast.PairEdit) -> Code:
        """The edits of a pair table the judged line fails, once per judged line: the condition asks whether
        there are any, the message and the fix which they are."""
        bypass = self.member_set(node.bypass, "modifier")
        either = self.member_set(node.either, "modifier") if node.either is not None else "None"
        start = (
            self.constant(node.either_from.toordinal(), what=f"{node.either_from} as a day number")
            if node.either_from is not None
            else "0"
        )
        sites = self.member_set(node.sites, "modifier") if node.sites is not None else "None"
        ignored = self.member_set(node.ignored_on, "code") if node.ignored_on is not None else "None"
        return self.memo(
            node,
            py(self.pair_table(node), ".hits(d, ", bypass, ", ", either, ", ", start, ", ", sites, ", ", ignored, ")"),
        )

    def compare(self, op, left, right, focus) -> Code:
        python_op = _COMPARE[op]
        a, b = self.value(left, focus), self.value(right, focus)
        if all(isinstance(side, ast.Field) and side.path == ("modifiers",) for side in (left, right)):
            return py("(frozenset(", a, f") {python_op} frozenset(", b, "))")  # GP CQ and CQ GP are the same
        if op == "=" and isinstance(right, ast.Literal) and right.value is not None:
            return py("(", a, " == ", b, ")")  # a missing value equals no constant: no test needed
        checks = []
        if self.may_be_missing(left):
            first, a = self.hold(a)
            checks.append(py(first, " is not None"))
        if self.may_be_missing(right):
            first, b = self.hold(b)
            checks.append(py(first, " is not None"))
        return py("(", joined(checks + [py(a, f" {python_op} ", b)], " and "), ")")

    def in_set(self, node: ast.InSet, focus) -> Code:
        kind = _set_kind(node.value)
        members = self.member_set(node.set, kind)
        value = self.value(node.value, focus)
        if node.quantifier in ("any", "none"):
            loop = Temp("o")
            test = py("any(", loop, " in ", members, " for ", loop, " in (", value, " or ()))")
            return test if node.quantifier == "any" else py("(not ", test, ")")
        if node.negated:
            if not self.may_be_missing(node.value):
                return py("(", value, " not in ", members, ")")
            first, later = self.hold(value)
            return py("(", first, " is not None and ", later, " not in ", members, ")")
        return py("(", value, " in ", members, ")")

    # ---------------------------------------------------------------- values
    def value(self, node, focus) -> Code:
        """A Python expression for a value; it is None when the value is missing."""
        if focus is not None or self._hoisted:  # inside a count's filter: written afresh each time
            return self._value(node, focus)
        # A table row names the same value in its condition, its message and its fix: written once. (A node
        # is written the same way wherever it appears outside a filter; it is kept here, so that its
        # identity is not reused.)
        written = self._values_written.get(id(node))
        if written is None:
            written = self._values_written[id(node)] = (node, self._value(node, focus))
        return written[1]

    def _value(self, node, focus) -> Code:
        match node:
            case ast.Literal(kind="symbol", value=value):
                return self.constant(str(value).upper())
            case ast.Literal(value=value):
                return self.constant(value)
            case ast.Field(subject, path):
                return self.field(fields.known(subject, path), focus if subject == "focus" else JUDGED)
            case ast.Arithmetic(op, left, right):
                return self.arithmetic(op, left, right, focus)
            case ast.Call(function, args):
                builtin = BUILTINS[function]
                if builtin.emit is not None:  # a builtin written its own way (`value`, `year_of`...)
                    return builtin.emit(self, args, focus)
                implementation = self.builtin(function)
                return self.guarded(
                    [self.value(a, focus) for a in args],
                    list(args),
                    lambda held: py(implementation, "(", joined(held, ", "), ")"),
                )
            case ast.DayLines(measure, filt, scope):
                if node in self._hoisted:
                    return simple(self._hoisted[node])
                return self.day_lines(node, measure, filt, scope)
        raise AssertionError(f"no compiled form for {type(node).__name__}")

    def arithmetic(self, op, left, right, focus) -> Code:
        a, b = self.value(left, focus), self.value(right, focus)
        if op in "+-" and self.is_date(left):
            days = self.constant(datetime.timedelta, key=("timedelta",), what="datetime.timedelta")
            return self.guarded(
                [a, b], [left, right], lambda held: py("(", held[0], f" {op} ", days, "(days=", held[1], "))")
            )
        return self.guarded([a, b], [left, right], lambda held: py("(", held[0], f" {op} ", held[1], ")"))

    def guarded(self, codes: list[Code], nodes: list, body) -> Code:
        """`body` of the values, or None when one that may be missing is."""
        held, checks = [], []
        for code, node in zip(codes, nodes):
            if self.may_be_missing(node):
                first, later = self.hold(code)
                checks.append(py(first, " is None"))
                held.append(later)
            else:
                held.append(code)
        if not checks:
            return body(held)
        return py("(None if ", joined(checks, " or "), " else ", body(held), ")")

    def day_lines(self, node, measure: str, filt, scope: str) -> Code:
        self.scopes.add(scope)
        if self.running_totals and scope == "record" and measure in DATE_ANSWERS:
            fitted = dates_filter(filt)
            if fitted is not None:  # the record's dates, halved (program.record_filter)
                return self.memo(node, self.record_dates(measure, fitted))
        additive = measure not in ("days", "claims", *_DATE_MEASURES)
        counted = additive and self.running_totals and reads_only_counted_line(filt)
        if counted and scope in _RUNNING:  # a running total: each earlier line is counted once
            return self.memo(node, self.running(node, measure, filt, scope))
        keyed = keyed_by_judged_line(filt) if additive and self.running_totals and scope in _RUNNING else None
        if keyed is not None:  # running totals per code (per claim, per discipline...): one for each key
            return self.memo(node, self.running(node, measure, keyed.rest, scope, keyed))
        # A count inside the filter (`date >= latest date of lines ... on record`) has one value for the judged
        # line, whichever line is counted: work it out once, before the loop, not once per counted line.
        inner = list(dict.fromkeys(n for n in _day_lines_in(filt) if n not in self._hoisted))
        before = []
        for nested in inner:
            temp = Temp("_t")
            before.append(py("(", temp, " := ", self.value(nested, JUDGED), ")"))
            self._hoisted[nested] = temp
        loop = Temp("o")
        lines = self.scope_lines(_SCOPES[scope], filt)
        test = py(" if ", self.condition(filt, loop)) if filt is not None else py()
        for nested in inner:
            del self._hoisted[nested]
        code = self._day_lines_code(measure, loop, lines, test, filt is not None)
        if before:
            code = py("(", joined(before, ", "), ", ", code, ")[-1]")
        if counted:  # the same for every line of the claim that day: once per claim and date
            return self.day_memo(node, code)
        return self.memo(node, code)

    def _day_lines_code(self, measure: str, loop: Temp, lines: Code, test: Code, filtered: bool) -> Code:
        if measure == "days":  # distinct dates of service: visits
            return py("len({", loop, ".date for ", loop, " in ", lines, test, "})")
        if measure == "claims":  # distinct claims
            return py("len({", loop, ".claim_id for ", loop, " in ", lines, test, "})")
        if measure in _DATE_MEASURES:  # missing (None) when no line is counted
            pick = "min" if measure == "earliest date" else "max"
            return py(f"{pick}([", loop, ".date for ", loop, " in ", lines, test, "], default=None)")
        if measure == "count":
            return py("len([1 for ", loop, " in ", lines, test, "])") if filtered else py("len(", lines, ")")
        # A list, not a generator: the day's or year's lines are few, and a generator costs more to run.
        added = fields.summed(measure).attribute  # the field's own attribute, never the rule's text
        return py("sum([", loop, f".{added} or 0 for ", loop, " in ", lines, test, "])")

    def another_line_counted(self, node, filt, scope: str, focus) -> Code:
        """`another line [with C]` where C reads only the other line: a count over the scope, the judged line
        itself left out of it (it is one of the day's lines, and of its year's)."""
        if scope in _RUNNING:  # earlier lines: the judged line is not among them
            return py("(", self.memo(node, self.running(node, "count", filt, scope)), " > 0)")
        lines = self.scope_lines(_SCOPES[scope], filt)
        if filt is None:
            return py("(", self.day_memo(node, py("len(", lines, ")")), " > 1)")
        loop = Temp("o")
        count = self.day_memo(node, py("len([1 for ", loop, " in ", lines, " if ", self.condition(filt, loop), "])"))
        judged = None if focus is None else JUDGED  # the judged line: `f` at the top, `l` inside a filter
        return py("(", count, " > (1 if ", self.condition(filt, judged), " else 0))")

    def scope_lines(self, scope_function: str, filt) -> Code:
        """The lines a count over a scope looks at. For a scope of the day whose filter asks for a code
        (`code in @timed`, `code = 97110`, `code = line.code`), only the day's lines of those codes, from the
        day's index by code (program.runtime.day_lines_of): a claim of n lines on one day then costs about
        n times the lines of the codes asked for, not n * n. The filter is still applied to them."""
        wanted = _codes_required(filt) if scope_function in _INDEXED_SCOPES else None
        if wanted is None:
            return py(scope_function, "(d)")
        codes = self.member_set(wanted.set, "code") if isinstance(wanted, ast.InSet) else self.value(wanted, JUDGED)
        return py("day_lines_of(d, ", str(_INDEXED_SCOPES[scope_function]), ", ", codes, ")")

    def running(self, node, measure: str, filt, scope: str, keyed: "Keyed | None" = None) -> Code:
        """A call keeping a running total over the lines earlier that day or year (program.runtime), with
        the generated function folding lines into it. `keyed`: the count asks that the counted line share
        values with the judged line (`code = line.code`); the runtime then keeps one total per value, each
        line adding to its own, and the judged line reads the total of its value (`_by`)."""
        number = self._total_of.get(node)
        if number is None:  # a message naming the count asks for it again: one function per count
            loop = Temp("o")
            test = py(" if ", self.condition(filt, loop)) if filt is not None else py()
            if measure == "count":
                body = py("d + len([1 for ", loop, " in f", test, "])") if filt is not None else py("d + len(f)")
            else:
                added = fields.summed(measure).attribute
                body = py("sum([", loop, f".{added} or 0 for ", loop, " in f", test, "], d)")
            # `d` is the total so far and `f` the lines to add: the shape every generated function has.
            number = self.add_total(node, function(f"total_{len(self.totals)}", body))
        slot = self.slot(node)
        total = Bound(f"S_{number}")
        whole_record = "True" if scope == "earlier_record" else "False"
        if keyed is not None:
            counted, judged = self.key_readers(keyed.counted, keyed.judged)
            if scope == "earlier":
                return py("running_in_day_by(d, ", slot, ", ", total, ", ", counted, ", ", judged, ")")
            # A count of the judged line's own claim (`claim_id = line.claim_id`) takes nothing from the claims
            # judged before: the history gives their lines without this claim's (judge.Judge.past_lines).
            own_claim = ", True" if keyed.own_claim else ""
            return py(
                "running_in_year_by(d, ",
                slot,
                ", ",
                total,
                ", ",
                whole_record,
                ", ",
                counted,
                ", ",
                judged,
                own_claim,
                ")",
            )
        if scope == "earlier":
            return py("running_in_day(d, ", slot, ", ", total, ")")
        return py("running_in_year(d, ", slot, ", ", total, ", True)" if scope == "earlier_record" else ")")

    def key_readers(self, counted: tuple[str, ...], judged: tuple[str, ...]) -> tuple[Code, Code]:
        """The constants reading the counted line's fields `counted` and the judged line's `judged` (dotted
        paths) that a filter asks to be equal: a value, or a tuple of them."""
        return (
            self.constant(
                operator.attrgetter(*counted),
                key=("counted key", counted),
                what=f"the counted line's {', '.join(counted)}",
            ),
            self.constant(
                operator.attrgetter(*judged),
                key=("judged key", judged),
                what=f"the judged line's {', '.join(judged)}",
            ),
        )

    def record_dates(self, measure: str, fitted: DatesFilter) -> Code:
        """A count over the record answered from the sorted dates of its lines of the codes and fields asked
        (program.record_dates): the dates of the judged line's fields, narrowed by each date bound in the
        filter's order, a bound worked out only while some date is left (as the walk works it out only
        for a line that passed the tests before it); no date left is no line counted."""
        held = Temp("_r")
        if fitted.codes is None:
            codes: Code | str = "None"
        elif isinstance(fitted.codes, ast.Literal):  # `code = 97161`: the set of that code
            one = frozenset((str(fitted.codes.value),))
            codes = self.constant(one, key=("codes", one))
        else:
            codes = self.member_set(fitted.codes, "code")
        counted, judged = self.key_readers(fitted.counted, fitted.judged) if fitted.counted else ("None", "None")
        steps = [py("(", held, " := record_dates(d, ", codes, ", ", counted, ", ", judged, ")) is None")]
        for narrowing, value in fitted.bounds:
            steps.append(py("(", held, f" := {narrowing}(", held, ", ", self.value(value, JUDGED), ")) is None"))
        empty = "0" if measure == "days" else "None"
        return py(f"({empty} if ", joined(steps, " or "), f" else {DATE_ANSWERS[measure]}(", held, "))")

    def total_number(self, node) -> int:
        """The number of the running total of the count `node`: its own, or the next one's when it has none."""
        return self._total_of.get(node, len(self.totals))

    def add_total(self, node, made: Function) -> int:
        """Keep `made` as the function of the running total of the count `node`, under the next number."""
        number = self._total_of[node] = len(self.totals)
        self.totals.append(made)
        return number

    def slot(self, node) -> Code:
        """The bound name of a count's slot: its key in the memo dicts and the running totals."""
        slot = self.memo_slots.setdefault(node, len(self.memo_slots))
        return self.constant(slot, key=("memo slot", slot), what=f"memo slot {slot}")

    def memo(self, node, code: Code) -> Code:
        """Work a count over lines out once per judged line, however many rules and messages ask for it."""
        return py(Memo(self.slot(node).parts[0], False, code))

    def day_memo(self, node, code: Code) -> Code:
        """Work a count out once per claim and date of service: the count is the same for every line of the
        claim on that day (`d.day_memo` is the claim's memo for the judged line's date)."""
        return py(Memo(self.slot(node).parts[0], True, code))

    @staticmethod
    def line_attribute(focus, attribute: str) -> Code:
        """An attribute of the line `focus` (None: the line the rule looks at, `f`; else a loop variable or
        JUDGED)."""
        if focus is None:
            return simple(FocusField(attribute))
        return simple(focus, f".{attribute}")

    def field(self, declared: fields.Field, line) -> Code:
        """How the generated code reads a field (`rules.fields` says where each is)."""
        read = declared.read
        if read == fields.LINE:
            return self.line_attribute(line, declared.attribute)
        if read == fields.DAY_UNITS:  # depends on the whole day: the day works it out once per claim
            if line is None or line is JUDGED:  # the judged line's own: once per judged line, like a count
                return self.memo(("supported_units",), py("d.supported_units(", JUDGED, ")"))
            return py("d.supported_units(", line, ")")
        if read == fields.DAY_WORDS:  # the same for every line of the day
            return py(f"d.split_words({declared.attribute!r})")
        if read == fields.RUN:  # the run's, not the claim's: see judge.judge.Judge
            return simple(f"d.judge.{declared.attribute}")
        if read == fields.JUDGED_LINE:
            return simple(JUDGED, f".{declared.attribute}")
        if read == fields.CLAIM_PROVIDER:
            return py("getattr(", JUDGED, f".claim.provider, {declared.attribute!r}, None)")
        return simple(JUDGED, f".claim.{declared.attribute}")

    def may_be_missing(self, node) -> bool:
        match node:
            case ast.Literal():
                return False
            case ast.Field(subject, path):
                return fields.known(subject, path).missing
            case ast.DayLines(measure):
                return measure in _DATE_MEASURES
            case ast.Call(function, args) if (may_be_missing := BUILTINS[function].may_be_missing) is not None:
                return may_be_missing(self, args)
        return True

    def is_date(self, node) -> bool:
        """Whether a value is a date (a date field or literal, or a date moved by days): known from the AST."""
        match node:
            case ast.Field(subject, path):
                return fields.known(subject, path).kind == "date"
            case ast.Literal(kind="date"):
                return True
            case ast.DayLines(measure=measure):
                return measure in _DATE_MEASURES
            case ast.Call(function):
                return BUILTINS[function].result == "date"
            case ast.Arithmetic(op, left, _) if op in "+-":
                return self.is_date(left)
        return False

    # ---------------------------------------------------------------- functions
    def message(self, parts: tuple) -> Code:
        """One expression joining a message's text and its worked-out values."""
        pieces = [
            self.constant(p) if isinstance(p, str) else py("format_value(", self.value(p, None), ")") for p in parts
        ]
        if not pieces:
            return py("''")
        return pieces[0] if len(pieces) == 1 else py("''.join((", joined(pieces, ", "), ",))")

    def group(self, number: int, rules: list[tuple[int, RuleSpec, Code]], calls: collections.Counter) -> Function:
        """The function judging a line by every rule of a group of codes, in policy order: `rules` holds each
        rule's number, spec and condition; a rule in more groups than `_INLINE_UP_TO` (`calls`) is called,
        not written in line, unless its condition is short."""
        tests = []
        for i, spec, condition in rules:
            inline = calls[i] <= _INLINE_UP_TO or measure(condition) <= _SHORT
            test = condition if inline else py(Bound(f"W_{i}"), "(d, f)")
            if spec.effective_from is not None:
                test = py(self.constant(spec.effective_from), " <= ", FocusField("date"), " and ", test)
            if spec.effective_to is not None:
                test = py(FocusField("date"), " <= ", self.constant(spec.effective_to), " and ", test)
            tests.append((i, test))
        frame = Frame(in_line_counts=True, held_fields=True)
        frame.plan(test for _, test in tests)
        writer = FunctionWriter(f"group_{number}", frame)
        writer.frame.uses_judged = True  # `l` is set once: most groups read the judged line somewhere
        for i, test in tests:
            writer.line(0, "if ", test, ":")
            writer.line(1, "fired.append(", Bound(f"R_{i}"), ")")
        # The counts the group worked out in locals go to the judged line's memo when a rule fired: its message
        # names them (the KX threshold's year total, a plan of care's treatment days), and worked them all out
        # again for each finding. Most lines fire nothing and pay nothing for it.
        if frame.held_counts:
            writer.line(0, "if fired:")
            for slot, held in frame.held_counts.items():
                writer.line(1, "if ", held, " is not NOT_YET:")
                writer.line(2, "d.memo[", slot, "] = ", held)
        writer.line(0, "return fired")
        return writer.finish(set_up=("fired = []",))


def legend(constants: dict, described: dict) -> str:
    """Comment lines saying what each constant of the generated code is: its words, else its value. Written
    when someone reads the source, not when a policy is compiled (a large policy has 100,000 constants)."""
    lines = [f"# {name} = {described.get(name) or _shown(value)}\n" for name, value in constants.items()]
    return "# The constants: each K_n is handed to the functions that name it.\n" + "".join(lines) + "\n"


def _shown(value) -> str:
    """A constant's value for the legend, on one line (repr escapes line breaks)."""
    if isinstance(value, frozenset):
        return f"set of {_listed(sorted(map(str, value)))}"
    if isinstance(value, DiagnosisSet):
        return f"diagnoses {_listed(sorted(value.keys))}"
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def _listed(entries) -> str:
    entries = [str(e) for e in entries]
    shown = ", ".join(entries[:8])
    return repr(shown + (f" (+{len(entries) - 8} more)" if len(entries) > 8 else ""))


def _table_words(table) -> str:
    where = getattr(table, "path", None) or getattr(table, "file", None) or getattr(table, "name", None)
    return f"the {type(table).__name__}" + (f" from {str(where)!r}" if where else "")


def reads_only_counted_line(condition) -> bool:
    """Whether a count's filter reads the counted line alone: no field of the judged line, the claim or the
    patient, no supported units (which depend on the day), no count of its own. Such a count has the same
    value for every line of a claim on a day, or grows line by line (earlier that day or year). No filter
    (None) reads nothing."""
    match condition:
        case None | ast.Literal() | ast.SetRef() | ast.SetList() | ast.CodeRange() | ast.HasModifier() | ast.Always():
            return True
        case ast.Field(subject, path):
            declared = fields.known(subject, path)
            return subject == "focus" and declared is not None and declared.read == fields.LINE
        case ast.AllOf(items) | ast.AnyOf(items):
            return all(reads_only_counted_line(item) for item in items)
        case ast.Not(item):
            return reads_only_counted_line(item)
        case ast.Compare(_, left, right) | ast.Arithmetic(_, left, right):
            return reads_only_counted_line(left) and reads_only_counted_line(right)
        case ast.InSet(value) | ast.IsMissing(value):
            return reads_only_counted_line(value)
        case ast.Call(_, args):
            return all(reads_only_counted_line(arg) for arg in args)
    return False  # a count, a pair table, or anything new: counted the plain way, which is always right


class Keyed:
    """A count's filter split for running totals kept per value (`keyed_by_judged_line`): the counted
    line's attributes (`counted`) must equal the judged line's (`judged`, dotted paths from the judged
    line: `claim.id`), and `rest` (None: nothing more) reads only the counted line."""

    __slots__ = ("counted", "judged", "rest")

    def __init__(self, counted: tuple[str, ...], judged: tuple[str, ...], rest):
        self.counted, self.judged, self.rest = counted, judged, rest

    @property
    def own_claim(self) -> bool:
        """Whether only lines of the judged line's own claim count."""
        return any(
            mine == "claim_id" and theirs in ("claim_id", "claim.id") for mine, theirs in zip(self.counted, self.judged)
        )


def keyed_by_judged_line(condition) -> Keyed | None:
    """Whether a count's filter is `C and X = line.Y and ...`, where C reads only the counted line and each
    other test asks a field of the counted line to equal one of the judged line (`code = line.code`,
    `claim_id = claim.id`, `discipline = line.discipline`). Such a count over earlier lines is a running total
    per value of X: one pass down the day or year, each line adding to its own value's total, where the
    plain count walks every earlier line for every judged line (n * n for a claim of n lines of one code).

    A missing value equals nothing in the rule language: a counted line missing X counts for no line, and a
    judged line missing Y counts no line (program.runtime leaves out keys holding None)."""
    if condition is None:
        return None
    items = condition.items if isinstance(condition, ast.AllOf) else (condition,)
    counted: list[str] = []
    judged: list[str] = []
    rest = []
    for item in items:
        pair = counted_equals_judged(item)
        if pair is not None:
            counted.append(pair[0])
            judged.append(pair[1])
        elif reads_only_counted_line(item):
            rest.append(item)
        else:
            return None
    if not counted:
        return None
    left = None if not rest else rest[0] if len(rest) == 1 else ast.AllOf(tuple(rest), span=condition.span)
    return Keyed(tuple(counted), tuple(judged), left)


def _day_lines_in(node):
    """The counts over lines (`DayLines`) inside a condition or value, outermost first (not inside them)."""
    if isinstance(node, ast.DayLines):
        yield node
        return
    if isinstance(node, (str, int, float, type(None))) or not hasattr(node, "__slots__"):
        if isinstance(node, tuple):
            for item in node:
                yield from _day_lines_in(item)
        return
    for name in node.__slots__:  # a node's own slots: its span is `Node`'s
        yield from _day_lines_in(getattr(node, name))


def _set_kind(value) -> str:
    """What the members of a set a value is looked up in are: codes (ranges expanded), diagnoses (a category
    holds its codes), or other entries (modifiers, provider types, text)."""
    if isinstance(value, ast.Field):
        kind = fields.known(value.subject, value.path).kind
        if kind == "code":
            return "code"
        if kind == "list[diagnosis]":
            return "diagnosis"
    return "other"


def _codes_required(filt):
    """What a filter requires of the counted line's code, when it requires one: the `code in SET` test
    (ast.InSet), or the value its code must equal (a literal code or the judged line's code); else None."""
    items = filt.items if isinstance(filt, ast.AllOf) else (filt,)
    for item in items:
        if (
            isinstance(item, ast.InSet)
            and not item.negated
            and item.quantifier is None
            and _is_counted_code(item.value)
        ):
            return item
        if isinstance(item, ast.Compare) and item.operator == "=":
            for mine, other in ((item.left, item.right), (item.right, item.left)):
                if _is_counted_code(mine) and (
                    (isinstance(other, ast.Literal) and other.kind == "code")
                    or (isinstance(other, ast.Field) and other.subject == "line" and other.path == ("code",))
                ):
                    return other
    return None


def _is_counted_code(node) -> bool:
    return isinstance(node, ast.Field) and node.subject == "focus" and node.path == ("code",)


# The day's scopes that the day's index by code serves (program.runtime.day_lines_of), and how it names them.
_INDEXED_SCOPES = {
    "whole_day": 0,
    "others_that_day": 1,
    "earlier_that_day": 2,
    "whole_year": 3,
    "year_without_self": 4,
    "on_record": 5,
    "record_without_self": 6,
}
# Scopes of earlier lines, counted as running totals (program.runtime) when the filter allows.
_RUNNING = ("earlier", "earlier_year", "earlier_record")
# The functions (in program.runtime) giving the lines of the judged line's day or year a count looks at.
_SCOPES = {
    "day": "whole_day",
    "earlier": "earlier_that_day",
    "year": "whole_year",
    "earlier_year": "earlier_that_year",
    "record": "on_record",
    "earlier_record": "earlier_on_record",
}
_SCOPES_WITHOUT_SELF = {
    "day": "others_that_day",
    "earlier": "earlier_that_day",
    "year": "year_without_self",
    "earlier_year": "earlier_that_year",
    "record": "record_without_self",
    "earlier_record": "earlier_on_record",
}
