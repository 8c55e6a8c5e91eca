"""Stage 6, compile: which counts over the patient's record can be answered from the record's dates by halving.

Medicare's plan-of-care rules ask, for every therapy line, `latest date of lines with code in @plan_evaluation
and discipline = line.discipline and date <= line.date on record` and `number of days with code in
@therapy_services and discipline = line.discipline and date >= ... and date <= line.date on record`. Walked,
each such count looks at every line of the patient's record of those codes, so a line cost more the longer the
patient had been treated. Their answers depend only on the distinct dates of the record's lines of a set of
codes whose fields equal the judged line's (its discipline), between two dates: `program.record_dates` keeps
those dates sorted per patient, carried from claim to claim, and answers by halving.

This module reads a count's filter (the rule tree, never the written source) and says whether it has that
shape (`dates_filter`). A filter it cannot prove fits is counted the plain way, which is always right.
"""

from __future__ import annotations

from dataclasses import dataclass

from payerpolicy.rules import ast, fields

# What a counted line's date compared with a value becomes (the counted line's date on the left): the
# program.record_dates function keeping the dates that pass.
_NARROWING = {"<=": "dates_upto", "<": "dates_before", ">=": "dates_from", ">": "dates_after"}
# The same comparison with its sides swapped (`line.date >= date` is `date <= line.date`).
_SWAPPED = {"<=": ">=", "<": ">", ">=": "<=", ">": "<"}
# The measures answered from distinct dates alone; a count of lines or a sum needs every line.
DATE_ANSWERS = {"days": "dates_days", "latest date": "dates_latest", "earliest date": "dates_earliest"}


@dataclass(frozen=True, slots=True)
class DatesFilter:
    """A count's filter in the shape `program.record_dates` answers: the counted line's code in `codes` (a set
    expression, or a literal code; None: any code), each of its fields `counted` equal to the judged line's
    `judged` (dotted paths: `claim.id`), then its date compared with values that read nothing of the counted
    line (`bounds`: the narrowing function's name and the value, in the filter's order)."""

    codes: object
    counted: tuple[str, ...]
    judged: tuple[str, ...]
    bounds: tuple[tuple[str, object], ...]


def dates_filter(condition) -> DatesFilter | None:
    """The filter `condition` as a `DatesFilter`, or None when it is anything else.

    Its tests must come in that order: the code and the fields first, the dates after. Counted line by line,
    a date bound is then worked out only when some line of the codes and fields is on record, and each
    further bound only when some line passed the ones before; the halving road works them out on the same
    condition (a bound's value is never worked out where the walk would not have)."""
    items = () if condition is None else condition.items if isinstance(condition, ast.AllOf) else (condition,)
    codes = None
    counted: list[str] = []
    judged: list[str] = []
    bounds: list[tuple[str, object]] = []
    for item in items:
        bound = _date_bound(item)
        if bound is not None:
            bounds.append(bound)
            continue
        if bounds:  # a test of the code or a field after a date: see above
            return None
        code = _code_test(item)
        if code is not None and codes is None:
            codes = code
            continue
        pair = counted_equals_judged(item)
        if pair is None:
            return None
        counted.append(pair[0])
        judged.append(pair[1])
    return DatesFilter(codes, tuple(counted), tuple(judged), tuple(bounds))


def _code_test(item):
    """The set (or literal code) of `code in SET` / `code = 97161` on the counted line, else None."""
    if isinstance(item, ast.InSet):
        if not item.negated and item.quantifier is None and _is_counted(item.value, "code"):
            return item.set
        return None
    if isinstance(item, ast.Compare) and item.operator == "=":
        for mine, other in ((item.left, item.right), (item.right, item.left)):
            if _is_counted(mine, "code") and isinstance(other, ast.Literal) and other.kind == "code":
                return other
    return None


def _date_bound(item) -> tuple[str, object] | None:
    """(the narrowing function, the value) when `item` compares the counted line's date with a value that
    reads nothing of the counted line (`date <= line.date`, `date >= first_present(...) + 30`)."""
    if not isinstance(item, ast.Compare) or item.operator not in _NARROWING:
        return None
    if _is_counted(item.left, "date") and _judged_value(item.right):
        return _NARROWING[item.operator], item.right
    if _is_counted(item.right, "date") and _judged_value(item.left):
        return _NARROWING[_SWAPPED[item.operator]], item.left
    return None


def _is_counted(node, name: str) -> bool:
    return isinstance(node, ast.Field) and node.subject == "focus" and node.path == (name,)


def _judged_value(node) -> bool:
    """Whether a value has one value for the judged line, whichever line is counted: constants, the judged
    line's and its claim's fields, functions and arithmetic of those, and counts of their own (whose filters
    read their own counted lines)."""
    match node:
        case ast.Literal() | ast.DayLines():
            return True
        case ast.Field(subject):
            return subject != "focus"
        case ast.Call(_, args):
            return all(_judged_value(arg) for arg in args)
        case ast.Arithmetic(_, left, right):
            return _judged_value(left) and _judged_value(right)
    return False  # anything else: the plain count


def counted_equals_judged(item) -> tuple[str, str] | None:
    """(the counted line's attribute, the judged line's dotted path) when `item` is `X = line.Y` (either
    way round) with X a field of the counted line and Y a plain field of the judged line or its claim."""
    if not (isinstance(item, ast.Compare) and item.operator == "="):
        return None
    for mine, other in ((item.left, item.right), (item.right, item.left)):
        if not (
            isinstance(mine, ast.Field)
            and isinstance(other, ast.Field)
            and mine.subject == "focus"
            and other.subject != "focus"
        ):
            continue
        counted, judged = fields.known(mine.subject, mine.path), fields.known(other.subject, other.path)
        # Lists (modifiers, diagnoses) compare otherwise (as sets, by category) and are no dict keys.
        if (
            counted is None
            or judged is None
            or counted.read != fields.LINE
            or counted.kind.startswith("list")
            or judged.kind.startswith("list")
        ):
            continue
        if judged.read in (fields.LINE, fields.JUDGED_LINE):
            return counted.attribute, judged.attribute
        if judged.read == fields.CLAIM:
            return counted.attribute, f"claim.{judged.attribute}"
    return None
