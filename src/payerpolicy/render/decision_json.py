"""A decision as the text of its JSON, written straight from the decision: the same text as
`json.dumps(decision.to_dict())`, character for character, without making the dicts and lists first.

`payerpolicy check --format json` writes one of these per claim; over a million claims, building each
decision's dicts only to have `json.dumps` walk them again was a few per cent of the run. Strings go through
the json module's own escaping (its C function when there is one), so escapes and non-ASCII text come out as
`json.dumps` writes them; values of no fixed type (a fix's value, a reason, a source, an error) are left to
`json.dumps` itself.
"""

from __future__ import annotations

import copy
import json
from json.encoder import encode_basestring_ascii as _text
from typing import Any

from payerpolicy.decision import Decision, Finding, LineDecision

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
    return (
        f'{{"line": {_value(line.line)}, "code": {_value(line.code)}, "billed_units": {_value(line.billed_units)}, '
        f'"allowed_units": {_value(line.allowed_units)}, "status": {_value(line.status)}}}'
    )


class _Known:
    """The JSON of dicts that many decisions share: a rule's reason and source, a policy's label (the same
    dict object for every finding of the rule). A dict is known by its identity, and its text is used only
    while the dict still equals the copy taken with it, so one changed in place is written as it is now."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[object, object, str]] = {}

    def __call__(self, value: Any) -> str:
        found = self._known.get(id(value))
        if found is not None and found[0] is value and found[1] == value:
            return found[2]
        text = json.dumps(value)
        if len(self._known) > 4096:
            self._known.clear()
        # the dict itself is kept with its text (so its id is not reused), and a copy to check it against
        self._known[id(value)] = (value, copy.deepcopy(value), text)
        return text


_known = _Known()


def _finding(finding: Finding) -> str:
    text = (
        f'{{"rule": {_value(finding.rule)}, "family": {_value(finding.family)}, '
        f'"severity": {_value(finding.severity)}, "kind": {_value(finding.kind)}, "line": {_value(finding.line)}, '
        f'"message": {_value(finding.message)}, "reason": {_known(finding.reason)}'
    )
    fix = finding.fix
    if fix is not None:
        text += f', "fix": {{"action": {_value(fix.action)}, "line": {_value(fix.line)}'
        if fix.value is not None:
            text += f', "value": {_value(fix.value)}'
        if fix.note:
            text += f', "note": {_value(fix.note)}'
        text += "}"
    return text + f', "source": {_known(finding.source)}}}'


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
