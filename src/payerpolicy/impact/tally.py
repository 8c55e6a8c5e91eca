"""The totals of an impact diff, counted as the changes stream past: by kind of change, by rule, and the money
at stake. Only counters are kept, never the changes themselves, so memory does not grow with the corpus.

Money is counted in cents (whole numbers), so that a hundred thousand charges add up exactly:
- `newly_denied_charges` / `newly_passed_charges`: the billed charges of the lines newly denied / passed;
- `at_stake_charges`: the billed charges of every line whose status changes (accepted, adjusted, denied);
- `allowed`: the same three from the estimated allowed amounts, when a policy priced the lines with a fee
  schedule (the old policy's amount for a line it paid and the new one denies, the new policy's for a line
  it now pays); null when neither side priced any changed line.
"""

from __future__ import annotations

from typing import Sequence

from payerpolicy.decision import Decision
from payerpolicy.impact.compare import KINDS, ClaimChange

__all__ = ["Tally"]


def _cents(amount: float | None) -> int:
    return 0 if amount is None else round(amount * 100)


class Tally:
    def __init__(self) -> None:
        self.claims = self.lines = self.claims_changed = self.lines_changed = 0
        self.unreadable = self.other_payers = 0
        self.by_kind = {kind: {"lines": 0, "claims": 0, "charges": 0} for kind in KINDS}
        self.by_rule: dict[str, list[int]] = {}  # rule -> [lines it now fires on, lines it no longer fires on]
        self.money = {"newly_denied_charges": 0, "newly_passed_charges": 0, "at_stake_charges": 0}
        self.allowed = {"newly_denied": 0, "newly_passed": 0, "at_stake": 0}
        self.priced = False
        self.lines_without_charge = 0
        self.newly_denied_lines = 0
        # Every rule found on a changed line, on either side: a rule that only cut other units is one.
        self.on_changed_lines: set[str] = set()

    def judged(self, decision: Decision) -> None:
        self.claims += 1
        self.lines += len(decision.lines)

    def add(self, change: ClaimChange) -> None:
        if change.errors:
            self.unreadable += 1
            return
        self.claims_changed += 1
        kinds = set()
        for line in change.lines:
            self.lines_changed += 1
            kinds.add(line.kind)
            counts = self.by_kind[line.kind]
            counts["lines"] += 1
            counts["charges"] += _cents(line.charge)
            self.on_changed_lines.update(f.rule for f in line.old_findings)
            self.on_changed_lines.update(f.rule for f in line.new_findings)
            for rule in line.rules_added:
                self.by_rule.setdefault(rule, [0, 0])[0] += 1
            for rule in line.rules_removed:
                self.by_rule.setdefault(rule, [0, 0])[1] += 1
            self._money(line)
        for kind in kinds:
            self.by_kind[kind]["claims"] += 1

    def _money(self, line) -> None:
        if not line.status_changed:
            return
        if line.charge is None:
            self.lines_without_charge += 1
        charge = _cents(line.charge)
        old_allowed, new_allowed = line.old.allowed_amount, line.new.allowed_amount
        self.priced = self.priced or old_allowed is not None or new_allowed is not None
        self.money["at_stake_charges"] += charge
        self.allowed["at_stake"] += _cents(old_allowed if old_allowed is not None else new_allowed)
        if line.kind == "newly_denied":
            self.newly_denied_lines += 1
            self.money["newly_denied_charges"] += charge
            self.allowed["newly_denied"] += _cents(old_allowed)
        elif line.kind == "newly_passed":
            self.money["newly_passed_charges"] += charge
            self.allowed["newly_passed"] += _cents(new_allowed)

    @property
    def at_stake(self) -> float:
        return self.money["at_stake_charges"] / 100

    def to_dict(self, changed_rules: Sequence[str] = ()) -> dict:
        """The summary of the JSON report. `changed_rules`: the rules the policy change touched, of which
        those on no changed line are listed as changing no decision on these claims."""
        rules = sorted(self.by_rule.items(), key=lambda item: (-sum(item[1]), item[0]))
        money: dict[str, object] = {name: cents / 100 for name, cents in self.money.items()}
        money["lines_without_charge"] = self.lines_without_charge
        money["allowed"] = {name: cents / 100 for name, cents in self.allowed.items()} if self.priced else None
        return {
            "claims": self.claims,
            "claims_changed": self.claims_changed,
            "unreadable": self.unreadable,
            "other_payers": self.other_payers,
            "lines": self.lines,
            "lines_changed": self.lines_changed,
            "by_kind": {kind: {**counts, "charges": counts["charges"] / 100} for kind, counts in self.by_kind.items()},
            "by_rule": {rule: {"now_fires": now, "no_longer_fires": gone} for rule, (now, gone) in rules},
            "money": money,
            "changed_rules_without_effect": [rule for rule in changed_rules if rule not in self.on_changed_lines],
        }
