"""Decisions: what the evaluator says about each claim, in the shape of the decision JSON contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# The closed sets of words the decision JSON uses (schemas/decision.schema.json), as types an application can
# match on and mypy can check: `if decision.status == "denyed"` is then an error before it ships.
ClaimStatus = Literal["accepted", "denied", "error"]
LineStatus = Literal["accepted", "adjusted", "denied"]
Severity = Literal["deny", "warn", "info"]
FindingKind = Literal["payer_edit", "compliance", "advisory"]
FixAction = Literal[
    "add_modifier", "remove_modifier", "set_units", "remove_line", "merge_lines", "split_line", "review"
]

SEVERITY_ORDER: dict[Severity, int] = {"deny": 0, "warn": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class Fix:
    action: FixAction
    line: int
    value: object = None  # the modifier, or the number of units
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action, "line": self.line}
        if self.value is not None:
            out["value"] = self.value
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    family: str
    severity: Severity
    line: int
    message: str
    reason: dict[str, Any]
    source: dict[str, Any]
    fix: Fix | None = None
    # payer_edit, compliance or advisory (policy.model.KINDS): only a payer edit's `reason` holds codes a
    # payer sends; the others have an empty reason.
    kind: FindingKind = "payer_edit"

    def to_dict(self) -> dict[str, Any]:
        out = {
            "rule": self.rule,
            "family": self.family,
            "severity": self.severity,
            "kind": self.kind,
            "line": self.line,
            "message": self.message,
            "reason": dict(self.reason),
        }
        if self.fix is not None:
            out["fix"] = self.fix.to_dict()
        out["source"] = dict(self.source)
        return out


@dataclass(frozen=True)
class LineDecision:
    line: int
    code: str
    billed_units: int
    allowed_units: int
    status: LineStatus  # adjusted: fewer units allowed
    # For the text report only; the decision JSON keeps to its contract.
    modifiers: tuple[str, ...] = field(default=(), compare=False)
    date_of_service: str = field(default="", compare=False)
    charge: float | None = field(default=None, compare=False)  # for the 835 view
    # The line's estimated allowed amount when its policy names a fee schedule (program.allowed_amounts), for
    # the money an impact diff puts at stake; not in the decision JSON.
    allowed_amount: float | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "code": self.code,
            "billed_units": self.billed_units,
            "allowed_units": self.allowed_units,
            "status": self.status,
        }


@dataclass(frozen=True)
class Decision:
    id: str | None
    policy: dict[str, Any] | None  # {"payer": ..., "version": ...}
    status: ClaimStatus
    lines: tuple[LineDecision, ...] = ()
    findings: tuple[Finding, ...] = ()
    errors: tuple[dict[str, Any], ...] = ()  # {"field": ..., "message": ...} when the claim could not be read
    where: str = ""  # where an unreadable claim stood in the input
    # Not in the decision JSON: facts for the run's summary (`timed_units_only`: timed lines billed in units
    # without minutes, whose units the 8-minute rule could not check).
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def needs_fix(self) -> bool:
        """Accepted, but with a warning that proposes a fix (money left on the table, say)."""
        return self.status == "accepted" and any(f.severity == "warn" and f.fix for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "policy": self.policy,
            "status": self.status,
            "lines": [line.to_dict() for line in self.lines],
            "findings": [f.to_dict() for f in self.findings],
            "errors": list(self.errors),
        }
        if self.where:
            out["where"] = self.where
        return out
