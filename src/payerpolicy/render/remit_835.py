"""Render denied and adjusted lines as the adjustment segments an X12 835 remittance would carry.

For each claim with a denied or adjusted line: a CLP segment (claim id, status code 4 = denied when every
line is denied, else 1, and the total charge when known), then per such line an SVC segment (the code and
modifiers, the charge, the units allowed and billed), a CAS segment per deny finding that is a payer edit (group code, CARC, and
the amount the finding takes off the charge, when the charge is known), and an LQ*HE segment per RARC. This
is a view for people and tools that speak the 835 vocabulary, not a complete remittance: payerpolicy does
not know what a payer pays, so payment amounts are left empty and there is no envelope.
"""

from __future__ import annotations

from payerpolicy.decision import Decision


def _money(amount: float | None) -> str:
    return "" if amount is None else f"{amount:.2f}".rstrip("0").rstrip(".")


def remit_segments(decision: Decision, charges: dict[int, float | None]) -> list[str]:
    if decision.status == "error":
        return []
    # Only payer edits are things a remittance carries; a compliance finding holds a line back before it is
    # sent, and no payer would report it.
    denials = [f for f in decision.findings if f.severity == "deny" and f.kind == "payer_edit"]
    edited = {f.line for f in denials}
    lines = [line for line in decision.lines if line.status != "accepted" and line.line in edited]
    if not lines:
        return []
    known = [charge for line in decision.lines if (charge := charges.get(line.line)) is not None]
    total = sum(known) if known and len(known) == len(decision.lines) else None
    status = "4" if all(line.status == "denied" for line in decision.lines) else "1"
    segments = [f"CLP*{decision.id}*{status}*{_money(total)}**"]
    for line in lines:
        charge = charges.get(line.line)
        taken = None
        if charge is not None and line.billed_units:
            taken = charge * (line.billed_units - line.allowed_units) / line.billed_units
        procedure = ":".join(["HC", line.code, *line.modifiers])
        segments.append(f"SVC*{procedure}*{_money(charge)}***{line.allowed_units}**{line.billed_units}")
        first = True
        for finding in (f for f in denials if f.line == line.line):
            amount = _money(taken) if first else "0"
            segments.append(f"CAS*{finding.reason.get('group', 'CO')}*{finding.reason.get('carc', '')}*{amount}")
            first = False
        for rarc in dict.fromkeys(f.reason["rarc"] for f in denials if f.line == line.line and f.reason.get("rarc")):
            segments.append(f"LQ*HE*{rarc}")
    return [segment + "~" for segment in segments]
