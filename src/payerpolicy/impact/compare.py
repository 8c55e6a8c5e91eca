"""One claim judged by two policies: which of its lines changed, and how, in billing terms.

Kinds of change, the first that applies (a line is counted under one kind):

- `newly_denied`: the old policy did not deny the line, the new one does;
- `newly_passed`: the old policy denied it, the new one does not (it may still cut its units);
- `denied_for_another_reason`: both deny it, by different rules;
- `units_changed`: both decide alike but allow a different number of units (a cap moved);
- `fixes_changed`: same units, but the fixes proposed differ (add 59 instead of remove the line);
- `warnings_changed`: the same decision, but warnings or notes come or go.

A message or citation that changed wording with the same rule, decision and fix is not a change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from payerpolicy.decision import Decision, Finding, LineDecision

__all__ = ["KINDS", "LineChange", "ClaimChange", "compare_claim"]

KINDS = (
    "newly_denied",
    "newly_passed",
    "denied_for_another_reason",
    "units_changed",
    "fixes_changed",
    "warnings_changed",
)

# What each kind is called for people.
KIND_WORDS = {
    "newly_denied": "newly denied",
    "newly_passed": "newly passed",
    "denied_for_another_reason": "denied for another reason",
    "units_changed": "units changed",
    "fixes_changed": "fixes changed",
    "warnings_changed": "warnings changed",
}


@dataclass(frozen=True)
class LineChange:
    """One claim line whose decision differs between the two policies."""

    line: int
    code: str
    date_of_service: str
    billed_units: int
    kind: str  # one of KINDS
    old: LineDecision
    new: LineDecision
    old_findings: tuple[Finding, ...]
    new_findings: tuple[Finding, ...]
    rules_added: tuple[str, ...]  # rules that fire on the line under the new policy only
    rules_removed: tuple[str, ...]  # ... under the old policy only
    place: Callable[[dict], dict] = field(default=dict, compare=False, repr=False)

    @property
    def status_changed(self) -> bool:
        return self.old.status != self.new.status

    @property
    def charge(self) -> float | None:
        return self.new.charge

    def to_dict(self) -> dict:
        return {
            "line": self.line,
            "code": self.code,
            "date": self.date_of_service,
            "kind": self.kind,
            "billed_units": self.billed_units,
            "charge": self.charge,
            "old": _side(self.old, self.old_findings, self.place),
            "new": _side(self.new, self.new_findings, dict),
            "rules_added": list(self.rules_added),
            "rules_removed": list(self.rules_removed),
        }


def _side(line: LineDecision, findings: tuple[Finding, ...], place) -> dict:
    out: dict[str, object] = {"status": line.status, "allowed_units": line.allowed_units}
    if line.allowed_amount is not None:
        out["allowed_amount"] = line.allowed_amount
    out["findings"] = [_finding(f, place) for f in findings]
    return out


def _finding(finding: Finding, place) -> dict:
    out = finding.to_dict()
    del out["line"]
    out["source"] = place(out["source"])
    return out


@dataclass(frozen=True)
class ClaimChange:
    """A claim with at least one changed line, or a claim that could not be read (`errors`, reported once)."""

    id: str | None
    old_status: str
    new_status: str
    lines: tuple[LineChange, ...] = ()
    errors: tuple[dict, ...] = ()
    where: str = ""

    def to_dict(self) -> dict:
        if self.errors:
            out = {"id": self.id, "status": "error", "errors": list(self.errors)}
            if self.where:
                out["where"] = self.where
            return out
        return {
            "id": self.id,
            "old_status": self.old_status,
            "new_status": self.new_status,
            "lines": [line.to_dict() for line in self.lines],
        }


def compare_claim(old: Decision, new: Decision, place: Callable[[dict], dict] = dict) -> ClaimChange | None:
    """The claim's changed lines, or None when both policies decide it alike. An unreadable claim is the
    same on both sides (reading does not depend on the policy) and is returned once, with its errors."""
    if old.status == "error" or new.status == "error":
        failed = old if old.status == "error" else new
        return ClaimChange(failed.id, old.status, new.status, errors=failed.errors, where=failed.where)
    if old.status == new.status and old.findings == new.findings and old.lines == new.lines:
        return None  # most claims: the same said on both sides (often nothing), no change record built
    old_by_line, new_by_line = _by_line(old.findings), _by_line(new.findings)
    changes = []
    for before, after in zip(old.lines, new.lines):
        was, now = old_by_line.get(before.line, ()), new_by_line.get(after.line, ())
        if not was and not now and before.status == after.status and before.allowed_units == after.allowed_units:
            continue
        kind = _kind(before, after, was, now)
        if kind is None:
            continue
        old_rules, new_rules = {f.rule for f in was}, {f.rule for f in now}
        changes.append(
            LineChange(
                after.line,
                after.code,
                after.date_of_service,
                after.billed_units,
                kind,
                before,
                after,
                was,
                now,
                tuple(sorted(new_rules - old_rules)),
                tuple(sorted(old_rules - new_rules)),
                place,
            )
        )
    if not changes:
        return None
    return ClaimChange(new.id, old.status, new.status, tuple(changes))


def _by_line(findings) -> dict[int, tuple[Finding, ...]]:
    out: dict[int, list] = {}
    for finding in findings:
        out.setdefault(finding.line, []).append(finding)
    return {line: tuple(found) for line, found in out.items()}


def _kind(old: LineDecision, new: LineDecision, was: tuple, now: tuple) -> str | None:
    old_denied, new_denied = old.status == "denied", new.status == "denied"
    if new_denied and not old_denied:
        return "newly_denied"
    if old_denied and not new_denied:
        return "newly_passed"
    if old_denied and _rules(was, "deny") != _rules(now, "deny"):
        return "denied_for_another_reason"
    if old.allowed_units != new.allowed_units or old.status != new.status:
        return "units_changed"
    if _fixes(was) != _fixes(now):
        return "fixes_changed"
    if _rules(was, None) != _rules(now, None):
        return "warnings_changed"
    return None


def _rules(findings: tuple, severity: str | None) -> frozenset:
    if severity is None:
        return frozenset((f.rule, f.severity) for f in findings)
    return frozenset(f.rule for f in findings if f.severity == severity)


def _fixes(findings: tuple) -> frozenset:
    # By rule too: a new warning that asks for a review is a new thing to do, even beside another review.
    return frozenset((f.rule, f.fix.action, str(f.fix.value)) for f in findings if f.fix is not None)
