"""A decision as the text of its JSON, written straight from the decision: the same text as
`json.dumps(decision.to_dict())`, character for character, without making the dicts and lists first.

`payerpolicy check --format json` writes one of these per claim; over a million claims, building each
decision's dicts only to have `json.dumps` walk them again was a few per cent of the run. Strings go through
the json module's own escaping (its C function when there is one), so escapes and non-ASCII text come out as
`json.dumps` writes them; values of no fixed type (a fix's value, a reason, a source, an error) are left to
`json.dumps` itself. What repeats from one finding to the next (a rule's name and kind, its reason and
source, a fix, a line's decision) is written once and its text kept, under values that json writes alike.
"""

from __future__ import annotations

import copy
import json
from json.encoder import encode_basestring_ascii as _text
from typing import Any

from payerpolicy.decision import Decision, Finding, Fix, LineDecision

__all__ = ["decision_json"]


def _value(value: Any) -> str:
    """A plain value's JSON: an int or a string directly, anything else (None, bool, float, ...) as json says."""
    kind = value.__class__
    if kind is str:
        return _text(value)
    if kind is int:
        return int.__repr__(value)
    return json.dumps(value)


def _line(line: LineDecision) -> str:
    number, billed, allowed = line.line, line.billed_units, line.allowed_units
    if number.__class__ is int and billed.__class__ is int and allowed.__class__ is int:  # kept by value
        key = (number, line.code, billed, allowed, line.status)
        try:
            text = _LINES.get(key)
        except TypeError:  # a code or status that cannot be hashed: written as json says
            return _line_text(line)
        if text is None:
            text = _line_text(line)
            if line.code.__class__ is str and line.status.__class__ is str:
                _keep(_LINES, key, text)
        return text
    return _line_text(line)


def _line_text(line: LineDecision) -> str:
    return (
        f'{{"line": {_value(line.line)}, "code": {_value(line.code)}, "billed_units": {_value(line.billed_units)}, '
        f'"allowed_units": {_value(line.allowed_units)}, "status": {_value(line.status)}}}'
    )


class _Known:
    """The JSON of dicts that many decisions share: a rule's reason and source, a policy's label (the same
    dict object for every finding of the rule). A dict is known by its identity, and its text is used only
    while the dict still equals the copy taken with it, so one changed in place is written as it is now.

    A rule that adds where its finding came from to its source (a reference table's row: judge `_finding`)
    makes a new dict for every finding, mostly with the same content: a flat one (text keys; text, whole
    number or null values) is also known by its content, so that each is written once, not dumped and
    copied once per finding. Its identity is remembered only when the same dict comes back (a rule's own
    source), and then a plain copy is enough to check it against: its values cannot change inside."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[object, object, str]] = {}
        # content (the flat dict's items) -> its text, and the last dict seen with that content
        self._by_content: dict[tuple, tuple[str, object]] = {}

    def __call__(self, value: Any) -> str:
        found = self._known.get(id(value))
        if found is not None and found[0] is value and found[1] == value:
            return found[2]
        content = _flat_content(value)
        if content is None:
            text = json.dumps(value)
            # the dict itself is kept with its text (so its id is not reused), and a copy to check it against
            self._remember(value, copy.deepcopy(value), text)
            return text
        written = self._by_content.get(content)
        if written is None:
            text = json.dumps(value)
            if len(self._by_content) > 4096:
                self._by_content.clear()
        else:
            text, last = written
            if last is value:  # the same dict twice: a shared one, from now on known by its identity
                self._remember(value, dict(content), text)
        self._by_content[content] = (text, value)
        return text

    def _remember(self, value: Any, copied: object, text: str) -> None:
        if len(self._known) > 4096:
            self._known.clear()
        self._known[id(value)] = (value, copied, text)


_FLAT = (str, int, type(None))  # values a dict's content may be known by: hashed as they are written
# (exactly these classes: True == 1 and 1.0 == 1 hash alike, but json writes them otherwise)


def _flat_content(value: Any) -> tuple | None:
    """A dict's items when its keys are text and its values text, whole numbers or None; else None."""
    if value.__class__ is not dict:
        return None
    content = tuple(value.items())
    for key, item in content:
        if key.__class__ is not str or item.__class__ not in _FLAT:
            return None
    return content


_known = _Known()
# The JSON of the parts of a finding that repeat: a rule's name, family, severity and kind with the line
# number (`_head`); a fix (`_fix`). Each is kept under its values and their classes (True == 1 and 1.0 == 1:
# json writes them otherwise), and only when they are text and whole numbers, whose equal values json writes
# alike. A few thousand of each at most, emptied when full: a moment's memory.
_HEADS: dict[tuple, str] = {}
_LINES: dict[tuple, str] = {}  # a line's decision, kept likewise: its number, code, units and status
_FIXES: dict[tuple, str] = {}
_WHOLE = (int, type(None))  # besides text, the classes of values kept


def _head(finding: Finding) -> str:
    line = finding.line
    key = (finding.rule, finding.family, finding.severity, finding.kind, line, line.__class__)
    try:
        head = _HEADS.get(key)
    except TypeError:  # a part that cannot be hashed: written as json says, and not kept
        head = None
    if head is None:
        head = (
            f'{{"rule": {_value(finding.rule)}, "family": {_value(finding.family)}, '
            f'"severity": {_value(finding.severity)}, "kind": {_value(finding.kind)}, "line": {_value(line)}'
        )
        if all(part.__class__ is str for part in key[:4]) and line.__class__ is int:
            _keep(_HEADS, key, head)
    return head


def _fix(fix: Fix) -> str:
    value, note = fix.value, fix.note
    key = (fix.action, fix.line, fix.line.__class__, value, value.__class__, note)
    try:
        text = _FIXES.get(key)
    except TypeError:  # a value that cannot be hashed (a list): written as json says, and not kept
        text = None
    if text is None:
        text = f'{{"action": {_value(fix.action)}, "line": {_value(fix.line)}'
        if value is not None:
            text += f', "value": {_value(value)}'
        if note:
            text += f', "note": {_value(note)}'
        text += "}"
        if fix.action.__class__ is str and fix.line.__class__ is int and _text_or_whole(value, note):
            _keep(_FIXES, key, text)
    return text


def _text_or_whole(*values: object) -> bool:
    return all(value.__class__ is str or value.__class__ in _WHOLE for value in values)


def _keep(known: dict, key: tuple, text: str) -> None:
    if len(known) > 4096:
        known.clear()
    known[key] = text


def _finding(finding: Finding) -> str:
    text = f'{_head(finding)}, "message": {_value(finding.message)}, "reason": {_known(finding.reason)}, '
    fix = finding.fix
    if fix is not None:
        text += f'"fix": {_fix(fix)}, '
    return text + f'"source": {_known(finding.source)}}}'


def decision_json(decision: Decision) -> str:
    """`json.dumps(decision.to_dict())`, written directly."""
    lines = ", ".join([_line(line) for line in decision.lines])
    findings = ", ".join([_finding(finding) for finding in decision.findings])
    errors = json.dumps(list(decision.errors)) if decision.errors else "[]"
    text = (
        f'{{"id": {_value(decision.id)}, "policy": {_known(decision.policy)}, "status": {_value(decision.status)}, '
        f'"lines": [{lines}], "findings": [{findings}], "errors": {errors}'
    )
    if decision.where:
        text += f', "where": {_value(decision.where)}'
    return text + "}"
