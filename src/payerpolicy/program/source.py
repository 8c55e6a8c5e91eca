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

Everything the policy supplies (numbers, text, code sets, value tables, functions) is handed to the generated
code as a named constant (`K_12`), never written into the source. So the source of a rule says only what the
rule does, and rules that do the same with other figures (six thousand unit caps) have the same source,
compiled once (see program.compile). `print(program.source)` shows what a policy became.
"""
from __future__ import annotations

import datetime
import re

from payerpolicy.rules import ast
from payerpolicy.rules.builtins import BUILTINS
from payerpolicy.claims.model import FAULTS
from payerpolicy.codes import DiagnosisSet, range_codes

# The attribute of a judged line (`judge.judge.LineView`) behind each field of the rule language.
LINE_ATTRS = {("code",): "code", ("units",): "units", ("minutes",): "minutes", ("modifiers",): "modifiers",
              ("date",): "date", ("charge",): "charge", ("diagnoses",): "diagnoses",
              ("provider", "type"): "provider_type", ("provider", "npi"): "provider_npi",
              ("pta_minutes",): "pta_minutes", ("ota_minutes",): "ota_minutes", ("claim_id",): "claim_id",
              ("discipline",): "discipline", ("place_of_service",): "place_of_service",
              ("prior_authorization",): "prior_authorization", ("allowed",): "allowed",
              ("fee_schedule",): "fee_schedule",
              **{("data_fault", fault): "fault_" + fault for fault in FAULTS}}
CLAIM_ATTRS = {("id",): "id", ("payer",): "payer", ("diagnoses",): "diagnoses", ("frequency",): "frequency",
               ("place_of_service",): "place_of_service", ("prior_authorization",): "prior_authorization",
               ("referring_npi",): "referring_npi", ("treatment_began",): "treatment_began"}
# The patient's fields: the id and birth date are the claim's; the age is on the judged line's date of service.
_PATIENT_ATTRS = {("id",): "l.claim.patient_id", ("birth_date",): "l.claim.patient_birth_date",
                  ("age",): "l.patient_age"}
# Fields about the whole day's timed units, worked out by the day (judge.judge.DayContext), not read off a line.
_DAY_SPLIT_WORDS = {("day_split",): "proposal", ("other_splits",): "others"}
# Fields a line always has: comparisons on them need no test for a missing value.
_NEVER_MISSING = {"code", "modifiers", "date", "claim_id", "number"}
_COMPARE = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# A name or an attribute chain (`K_3`, `f.units`): cheap to read twice. Literals are never in the source.
_SIMPLE = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$")
# Missing, as the rule language means it: no value, no modifiers, empty text.
MISSING = (None, (), "")


class SourceWriter:
    """Writes rules as Python function source, collecting the constants the source names."""

    def __init__(self, policy, expand_codes):
        self.policy = policy
        self.expand_codes = expand_codes  # SetExpr -> set of codes (the checker's expansion)
        self.constants: dict[str, object] = {}
        self._constant_names: dict[object, str] = {}
        self.memo_slots: dict[object, int] = {}  # a count over lines -> its slot in the judged line's memo
        self.totals: list[tuple[str, str]] = []  # (name, source) of the running totals' functions
        self._total_of: dict[object, int] = {}
        self._temps = 0
        self._loops = 0
        self._hoisted: dict[object, str] = {}  # a count inside a count's filter -> the temporary holding it

    # ---------------------------------------------------------------- names
    def constant(self, value, key=None) -> str:
        """A name for `value` in the generated module; equal constants (by `key`) share one name."""
        key = key if key is not None else (type(value).__name__, value)
        name = self._constant_names.get(key)
        if name is None:
            name = f"K_{len(self._constant_names)}"
            self._constant_names[key] = name
            self.constants[name] = value
        return name

    def temp(self) -> str:
        self._temps += 1
        return f"_t{self._temps}"

    def _hold(self, text: str) -> tuple[str, str]:
        """(first use, later uses) of an expression read twice: plain when cheap, else via a temporary."""
        if _SIMPLE.match(text):
            return text, text
        name = self.temp()
        return f"({name} := {text})", name

    # ---------------------------------------------------------------- sets
    def member_set(self, set_expr, kind: str) -> str:
        if kind == "diagnosis":
            entries = tuple(self._entries(set_expr))
            return self.constant(DiagnosisSet(entries), key=("diagnoses", entries))
        if kind == "code":
            codes = frozenset(self.expand_codes(set_expr) or ())
            return self.constant(codes, key=("codes", codes))
        # Modifiers, provider types and text upper-cased; numbers stay numbers (`count in [9, 19]`).
        modifiers = frozenset(e.upper() if isinstance(e, str) else e for e in self._entries(set_expr))
        return self.constant(modifiers, key=("codes", modifiers))

    def _entries(self, set_expr) -> list[str]:
        match set_expr:
            case ast.SetRef(name):
                return list(self.policy.code_sets[name].entries)
            case ast.SetList(items):
                out = []
                for item in items:
                    out += self._entries(item) if isinstance(item, (ast.SetRef, ast.SetList)) else [
                        item.value if isinstance(item, ast.Literal) and item.kind == "number"
                        else str(item.value) if isinstance(item, ast.Literal) else f"{item.low}-{item.high}"]
                return out
            case ast.CodeRange(low, high):
                return range_codes(low, high)
        return []

    # ---------------------------------------------------------------- conditions
    def condition(self, node, focus: str) -> str:
        """A Python expression, true when the condition holds for the line named `focus`."""
        match node:
            case ast.Always():
                return "True"
            case ast.AllOf(items):
                return "(" + " and ".join(self.condition(i, focus) for i in items) + ")"
            case ast.AnyOf(items):
                return "(" + " or ".join(self.condition(i, focus) for i in items) + ")"
            case ast.Not(item):
                return f"(not {self.condition(item, focus)})"
            case ast.Compare(op, left, right):
                return self.compare(op, left, right, focus)
            case ast.InSet():
                return self.in_set(node, focus)
            case ast.IsMissing(value, negated):
                return f"({self.value(value, focus)} {'not in' if negated else 'in'} MISSING)"
            case ast.HasModifier(modifiers, negated):
                wanted = self.member_set(modifiers, "modifier")
                if len(self.constants[wanted]) == 1:  # `lacks modifier GP`: a test on the line's few modifiers
                    (modifier,) = self.constants[wanted]
                    return f"({self.constant(modifier)} {'not in' if negated else 'in'} {focus}.modifiers)"
                return f"({'' if negated else 'not '}{wanted}.isdisjoint({focus}.modifiers))"
            case ast.PairEdit():
                return self.pair_hits(node)
            case ast.TableEdit():
                return self.memo(node, f"{self.table(node)}.hits(d)")
            case ast.AnotherLine(filt, scope):
                if reads_only_counted_line(filt):
                    return self.another_line_counted(node, filt, scope, "f" if focus == "f" else "l")
                loop = self.loop_name()
                lines = self.scope_lines(_SCOPES_WITHOUT_SELF[scope], filt)
                if filt is None:
                    return self.memo(node, f"bool({lines})")
                return self.memo(node, f"any({self.condition(filt, loop)} for {loop} in {lines})")
        raise AssertionError(f"no compiled form for {type(node).__name__}")

    def table(self, node: ast.TableEdit) -> str:
        """The name of a reference table in the generated module (one name per table)."""
        return self.constant(node.table, key=("reference table", id(node.table)))

    def pair_hits(self, node: ast.PairEdit) -> str:
        """The edits of a pair table the judged line fails, once per judged line: the condition asks whether
        there are any, the message and the fix which they are."""
        table = self.constant(node.table, key=("pair table", id(node.table)))
        bypass = self.member_set(node.bypass, "modifier")
        either = self.member_set(node.either, "modifier") if node.either is not None else "None"
        start = self.constant(node.either_from.toordinal()) if node.either_from is not None else "0"
        sites = self.member_set(node.sites, "modifier") if node.sites is not None else "None"
        ignored = self.member_set(node.ignored_on, "code") if node.ignored_on is not None else "None"
        return self.memo(node, f"{table}.hits(d, {bypass}, {either}, {start}, {sites}, {ignored})")

    def compare(self, op, left, right, focus: str) -> str:
        python_op = _COMPARE[op]
        a, b = self.value(left, focus), self.value(right, focus)
        if all(isinstance(side, ast.Field) and side.path == ("modifiers",) for side in (left, right)):
            return f"(frozenset({a}) {python_op} frozenset({b}))"  # GP CQ and CQ GP are the same modifiers
        if op == "=" and isinstance(right, ast.Literal) and right.value is not None:
            return f"({a} == {b})"  # a missing value equals no constant: no test needed
        checks = []
        if self.may_be_missing(left):
            first, a = self._hold(a)
            checks.append(f"{first} is not None")
        if self.may_be_missing(right):
            first, b = self._hold(b)
            checks.append(f"{first} is not None")
        return "(" + " and ".join(checks + [f"{a} {python_op} {b}"]) + ")"

    def in_set(self, node: ast.InSet, focus: str) -> str:
        kind = _set_kind(node.value)
        members = self.member_set(node.set, kind)
        value = self.value(node.value, focus)
        loop = self.loop_name()
        if node.quantifier == "any":
            return f"any({loop} in {members} for {loop} in ({value} or ()))"
        if node.quantifier == "none":
            return f"(not any({loop} in {members} for {loop} in ({value} or ())))"
        if node.negated:
            if not self.may_be_missing(node.value):
                return f"({value} not in {members})"
            first, later = self._hold(value)
            return f"({first} is not None and {later} not in {members})"
        return f"({value} in {members})"

    # ---------------------------------------------------------------- values
    def value(self, node, focus: str) -> str:
        """A Python expression for a value; it is None when the value is missing."""
        match node:
            case ast.Literal(kind="symbol", value=value):
                return self.constant(str(value).upper())
            case ast.Literal(value=value):
                return self.constant(value)
            case ast.Field(subject, path):
                return self.field(subject, path, focus)
            case ast.Arithmetic(op, left, right):
                return self.arithmetic(op, left, right, focus)
            case ast.Call("value", (ast.Literal(value=name), *key)):
                table = self.policy.values[name]  # the checker made sure it exists
                if not isinstance(table, dict):
                    return self.constant(table, key=("value", name))
                if not key:
                    return "None"  # a table read without a key has no single figure
                return f"{self.constant(table, key=('value', name))}.get({self.value(key[0], focus)})"
            case ast.Call("year_of", (date,)):  # an attribute read, not a call: KX rules ask it of every line
                return self.guarded([self.value(date, focus)], [date], lambda held: f"{held[0]}.year")
            case ast.Call("first_present", (first, second)):  # not guarded: a missing first is the point
                if not self.may_be_missing(first):
                    return self.value(first, focus)
                held, later = self._hold(self.value(first, focus))
                return f"({later} if {held} is not None else {self.value(second, focus)})"
            case ast.Call(function, args):
                implementation = self.constant(BUILTINS[function].implementation, key=("builtin", function))
                return self.guarded([self.value(a, focus) for a in args], list(args),
                                    lambda held: f"{implementation}({', '.join(held)})")
            case ast.DayLines(measure, filt, scope):
                if node in self._hoisted:
                    return self._hoisted[node]
                return self.day_lines(node, measure, filt, scope)
        raise AssertionError(f"no compiled form for {type(node).__name__}")

    def arithmetic(self, op, left, right, focus: str) -> str:
        a, b = self.value(left, focus), self.value(right, focus)
        if op in "+-" and _is_date(left):
            days = self.constant(datetime.timedelta, key=("timedelta",))
            return self.guarded([a, b], [left, right], lambda held: f"({held[0]} {op} {days}(days={held[1]}))")
        return self.guarded([a, b], [left, right], lambda held: f"({held[0]} {op} {held[1]})")

    def guarded(self, texts: list[str], nodes: list, body) -> str:
        """`body` of the values, or None when one that may be missing is."""
        held, checks = [], []
        for text, node in zip(texts, nodes):
            if self.may_be_missing(node):
                first, later = self._hold(text)
                checks.append(f"{first} is None")
                held.append(later)
            else:
                held.append(text)
        if not checks:
            return body(held)
        return f"(None if {' or '.join(checks)} else {body(held)})"

    def day_lines(self, node, measure: str, filt, scope: str) -> str:
        counted = measure not in ("days", "claims", "earliest date", "latest date") and reads_only_counted_line(filt)
        if counted and scope in _RUNNING:  # a running total: each earlier line is counted once
            return self.memo(node, self.running(node, measure, filt, scope))
        # A count inside the filter (`date >= latest date of lines ... on record`) has one value for the judged
        # line, whichever line is counted: work it out once, before the loop, not once per counted line.
        inner = list(dict.fromkeys(n for n in _day_lines_in(filt) if n not in self._hoisted))
        before = []
        for nested in inner:
            name = self.temp()
            before.append(f"({name} := {self.value(nested, 'l')})")
            self._hoisted[nested] = name
        loop = self.loop_name()
        lines = self.scope_lines(_SCOPES[scope], filt)
        test = f" if {self.condition(filt, loop)}" if filt is not None else ""
        for nested in inner:
            del self._hoisted[nested]
        text = self._day_lines_text(measure, loop, lines, test)
        if before:
            text = f"({', '.join(before)}, {text})[-1]"
        if counted:  # the same for every line of the claim that day: once per claim and date
            return self.day_memo(node, text)
        return self.memo(node, text)

    @staticmethod
    def _day_lines_text(measure: str, loop: str, lines: str, test: str) -> str:
        if measure == "days":  # distinct dates of service: visits
            text = f"len({{{loop}.date for {loop} in {lines}{test}}})"
        elif measure == "claims":  # distinct claims
            text = f"len({{{loop}.claim_id for {loop} in {lines}{test}}})"
        elif measure in ("earliest date", "latest date"):  # missing (None) when no line is counted
            pick = "min" if measure == "earliest date" else "max"
            text = f"{pick}([{loop}.date for {loop} in {lines}{test}], default=None)"
        elif measure == "count":
            text = f"len([1 for {loop} in {lines}{test}])" if test else f"len({lines})"
        else:
            # A list, not a generator: the day's or year's lines are few, and a generator costs more to run.
            text = f"sum([{loop}.{measure} or 0 for {loop} in {lines}{test}])"
        return text

    def another_line_counted(self, node, filt, scope: str, judged: str) -> str:
        """`another line [with C]` where C reads only the other line: a count over the scope, the judged line
        itself left out of it (it is one of the day's lines, and of its year's)."""
        if scope in _RUNNING:  # earlier lines: the judged line is not among them
            return f"({self.memo(node, self.running(node, 'count', filt, scope))} > 0)"
        lines = self.scope_lines(_SCOPES[scope], filt)
        if filt is None:
            return f"({self.day_memo(node, f'len({lines})')} > 1)"
        loop = self.loop_name()
        count = self.day_memo(node, f"len([1 for {loop} in {lines} if {self.condition(filt, loop)}])")
        return f"({count} > (1 if {self.condition(filt, judged)} else 0))"

    def scope_lines(self, scope_function: str, filt) -> str:
        """The lines a count over a scope looks at. For a scope of the day whose filter asks for a code
        (`code in @timed`, `code = 97110`, `code = line.code`), only the day's lines of those codes, from the
        day's index by code (program.runtime.day_lines_of): a claim of n lines on one day then costs about
        n times the lines of the codes asked for, not n * n. The filter is still applied to them."""
        wanted = _codes_required(filt) if scope_function in _INDEXED_SCOPES else None
        if wanted is None:
            return f"{scope_function}(d)"
        codes = self.member_set(wanted.set, "code") if isinstance(wanted, ast.InSet) else self.value(wanted, "l")
        return f"day_lines_of(d, {_INDEXED_SCOPES[scope_function]}, {codes})"

    def running(self, node, measure: str, filt, scope: str) -> str:
        """A call keeping a running total over the lines earlier that day or year (program.runtime), with
        the generated function folding lines into it."""
        number = self._total_of.get(node)
        if number is None:  # a message naming the count asks for it again: one function per count
            loop = self.loop_name()
            test = f" if {self.condition(filt, loop)}" if filt is not None else ""
            if measure == "count":
                body = f"d + len([1 for {loop} in f{test}])" if test else "d + len(f)"
            else:
                body = f"sum([{loop}.{measure} or 0 for {loop} in f{test}], d)"
            number = self._total_of[node] = len(self.totals)
            # `d` is the total so far and `f` the lines to add: the shape every generated function has.
            self.totals.append((f"total_{number}", f"def total_{number}(d, f):\n    return {body}\n\n"))
        slot = self.slot(node)
        if scope == "earlier":
            return f"running_in_day(d, {slot}, S_{number})"
        return f"running_in_year(d, {slot}, S_{number}{', True' if scope == 'earlier_record' else ''})"

    def slot(self, node) -> str:
        """The bound name of a count's slot: its key in the memo dicts and the running totals."""
        slot = self.memo_slots.setdefault(node, len(self.memo_slots))
        return self.constant(slot, key=("memo slot", slot))

    def memo(self, node, text: str) -> str:
        """Work a count over lines out once per judged line, however many rules and messages ask for it."""
        name = self.slot(node)
        return f"(_v if (_v := m.get({name}, NOT_YET)) is not NOT_YET else remember(m, {name}, {text}))"

    def day_memo(self, node, text: str) -> str:
        """Work a count out once per claim and date of service: the count is the same for every line of the
        claim on that day (`d.day_memo` is the claim's memo for the judged line's date)."""
        name = self.slot(node)
        return f"(_v if (_v := dm.get({name}, NOT_YET)) is not NOT_YET else remember(dm, {name}, {text}))"

    def loop_name(self) -> str:
        self._loops += 1
        return f"o{self._loops}"

    def field(self, subject: str, path: tuple, focus: str) -> str:
        line = focus if subject == "focus" else "l"
        if path == ("supported_units",):  # depends on the whole day: the day works it out once per claim
            if line in ("l", "f"):  # the judged line's own: once per judged line, like a count
                return self.memo(("supported_units",), "d.supported_units(l)")
            return f"d.supported_units({line})"
        if path in _DAY_SPLIT_WORDS:  # the same for every line of the day
            return f"d.split_words({_DAY_SPLIT_WORDS[path]!r})"
        if subject == "claim" and path == ("received",):  # the run's, not the claim's: see judge.judge.Judge
            return "d.judge.received"
        if subject in ("focus", "line"):
            return f"{line}.{LINE_ATTRS[path]}"
        if subject == "patient":
            return _PATIENT_ATTRS[path]
        if path[0] == "provider":
            attr = "type" if path[1] == "type" else "npi"
            return f"getattr(l.claim.provider, {attr!r}, None)"
        return f"l.claim.{CLAIM_ATTRS[path]}"

    def may_be_missing(self, node) -> bool:
        match node:
            case ast.Literal():
                return False
            case ast.Field(subject, path) if subject in ("focus", "line") and path in LINE_ATTRS:
                return LINE_ATTRS[path] not in _NEVER_MISSING
            case ast.DayLines(measure):
                return measure in ("earliest date", "latest date")
            case ast.Call("value", (ast.Literal(value=name),)):
                return isinstance(self.policy.values.get(name), dict)  # a single figure is always there
        return True

    # ---------------------------------------------------------------- functions
    def function(self, name: str, expression: str) -> str:
        """A generated function of `(d, f)` returning `expression`."""
        head = [f"def {name}(d, f):"]
        if re.search(r"\bl\.|\bl\b", expression):
            head.append("    l = d.line")
        if re.search(r"\bm\.get\(", expression):
            head.append("    m = d.memo")
        if "dm.get(" in expression:
            head.append("    dm = d.day_memo")
        return "\n".join(head + [f"    return {expression}", "", ""])

    def message(self, parts: tuple) -> str:
        """One expression joining a message's text and its worked-out values."""
        pieces = [self.constant(p) if isinstance(p, str) else f"format_value({self.value(p, 'f')})" for p in parts]
        if not pieces:
            return "''"
        return pieces[0] if len(pieces) == 1 else "''.join((" + ", ".join(pieces) + ",))"


def reads_only_counted_line(condition) -> bool:
    """Whether a count's filter reads the counted line alone: no field of the judged line, the claim or the
    patient, no supported units (which depend on the day), no count of its own. Such a count has the same
    value for every line of a claim on a day, or grows line by line (earlier that day or year). No filter
    (None) reads nothing."""
    match condition:
        case None | ast.Literal() | ast.SetRef() | ast.SetList() | ast.CodeRange() | ast.HasModifier() | \
                ast.Always():
            return True
        case ast.Field(subject, path):
            return subject == "focus" and path != ("supported_units",) and path not in _DAY_SPLIT_WORDS
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
    for name in node.__slots__:
        if name != "span":
            yield from _day_lines_in(getattr(node, name))


def _is_date(node) -> bool:
    """Whether a value is a date (a date field or literal, or a date moved by days): known from the AST."""
    match node:
        case ast.Field(path=("date",)) | ast.Field(subject="claim", path=("received",) | ("treatment_began",)):
            return True
        case ast.Field(subject="patient", path=("birth_date",)):
            return True
        case ast.Literal(kind="date"):
            return True
        case ast.DayLines(measure=("earliest date" | "latest date")):
            return True
        case ast.Call("first_present", (first, *_)):
            return _is_date(first)
        case ast.Arithmetic(op, left, _) if op in "+-":
            return _is_date(left)
    return False


def _set_kind(value) -> str:
    if isinstance(value, ast.Field):
        if value.path == ("code",):
            return "code"
        if value.path == ("diagnoses",):
            return "diagnosis"
    return "other"


def _codes_required(filt):
    """What a filter requires of the counted line's code, when it requires one: the `code in SET` test
    (ast.InSet), or the value its code must equal (a literal code or the judged line's code); else None."""
    items = filt.items if isinstance(filt, ast.AllOf) else (filt,)
    for item in items:
        if (isinstance(item, ast.InSet) and not item.negated and item.quantifier is None
                and _is_counted_code(item.value)):
            return item
        if isinstance(item, ast.Compare) and item.operator == "=":
            for mine, other in ((item.left, item.right), (item.right, item.left)):
                if _is_counted_code(mine) and (
                        (isinstance(other, ast.Literal) and other.kind == "code")
                        or (isinstance(other, ast.Field) and other.subject == "line" and other.path == ("code",))):
                    return other
    return None


def _is_counted_code(node) -> bool:
    return isinstance(node, ast.Field) and node.subject == "focus" and node.path == ("code",)


# The day's scopes that the day's index by code serves (program.runtime.day_lines_of), and how it names them.
_INDEXED_SCOPES = {"whole_day": 0, "others_that_day": 1, "earlier_that_day": 2, "whole_year": 3,
                   "year_without_self": 4, "on_record": 5, "record_without_self": 6}
# Scopes of earlier lines, counted as running totals (program.runtime) when the filter allows.
_RUNNING = ("earlier", "earlier_year", "earlier_record")
# The functions (in program.runtime) giving the lines of the judged line's day or year a count looks at.
_SCOPES = {"day": "whole_day", "earlier": "earlier_that_day", "year": "whole_year",
           "earlier_year": "earlier_that_year", "record": "on_record", "earlier_record": "earlier_on_record"}
_SCOPES_WITHOUT_SELF = {"day": "others_that_day", "earlier": "earlier_that_day", "year": "year_without_self",
                        "earlier_year": "earlier_that_year", "record": "record_without_self",
                        "earlier_record": "earlier_on_record"}
