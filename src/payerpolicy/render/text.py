"""Render decisions as text for a billing specialist: per claim, per line, what is wrong, why, what to do."""

from __future__ import annotations

import re

from payerpolicy._internal_error import FIELD as BUG_FIELD
from payerpolicy.decision import Decision, Finding, Fix
from payerpolicy.diagnostics import ECHO_LIMIT, shown

_MARK = {"deny": "DENY", "warn": "WARN", "info": "INFO"}


def fix_in_words(fix: Fix, billed_units: int | None = None) -> str:
    match fix.action:
        case "add_modifier":
            return f"add modifier {fix.value} to line {fix.line}"
        case "remove_modifier":
            return f"remove modifier {fix.value} from line {fix.line}"
        case "set_units":
            was = f" (billed {billed_units})" if billed_units is not None else ""
            return f"bill {fix.value} unit{'s' if fix.value != 1 else ''} on line {fix.line}{was}"
        case "remove_line":
            return f"remove line {fix.line}"
        case "merge_lines":
            return f"merge line {fix.line} into line {fix.value}: add its units there and remove line {fix.line}"
        case "split_line":
            return f"split line {fix.line}" + (f": {fix.note}" if fix.note else "")
        case "review":
            return f"review line {fix.line}" + (f": {fix.note}" if fix.note else "")
    return f"{fix.action} on line {fix.line}"


# Findings of a line are shown payer edits first, then what the payer cannot see, then advisories, each
# labelled, so a specialist tells "the payer will deny this" from "we must not send this" at a glance.
_KIND_ORDER = {"payer_edit": 0, "compliance": 1, "advisory": 2}
_KIND_LABEL = {"payer_edit": "payer edit", "compliance": "compliance", "advisory": "advisory"}
_KIND_WIDTH = max(map(len, _KIND_LABEL.values())) + 2


def _reason(finding: Finding) -> str:
    if finding.kind == "compliance":
        return "no payer code: the payer cannot see this on the claim"
    r = finding.reason
    if not r.get("carc"):
        return "no payer code"
    codes = f"{r.get('group', '')}-{r.get('carc', '')}"
    codes += f" {r['rarc']}" if r.get("rarc") else ""
    if finding.severity != "deny":
        # A warning is not a denial: its codes are what the payer sends if it does deny the line (PR-119 for
        # a line past the KX threshold without KX), never what it sends now.
        return f"a warning, no denial code now; {codes} if the payer denies the line"
    return codes


# "domain §12" points into the project's own fact file, not a document a biller can look up: the rule's
# real citations (CMS manual sections, MAC pages, payer bulletins) are shown without it.
_PROJECT_REFERENCE = re.compile(r"(?:,?\s*as cited in\s+)?\bdomain §[\d.]+(?:,\s*§[\d.]+)*")
_TIDY = [
    (re.compile(r"([(\[])[\s,;:]+"), r"\1"),
    (re.compile(r"[\s,;:]+([)\]])"), r"\1"),
    (re.compile(r"\s*(\(\)|\[\])"), ""),
    (re.compile(r"\s*;(\s*;)+"), ";"),
    (re.compile(r";\s*,"), ";"),
]


def citation(cite: str | None) -> str:
    """A rule's `source` as a biller reads it: the project's "domain §N" references taken out."""
    if not cite:
        return ""
    # Worked out once per rule's source, not for each of its findings: six substitutions took tens of
    # microseconds, more than judging the claim (a rule's source is the same text for all its findings).
    if cite.__class__ is not str:
        return _citation(cite)
    tidy = _CITATIONS.get(cite)
    if tidy is None:
        if len(_CITATIONS) >= 4096:  # a policy's sources, a few payers': rarely more
            _CITATIONS.clear()
        tidy = _CITATIONS[cite] = _citation(cite)
    return tidy


_CITATIONS: dict[str, str] = {}


def _citation(cite: str) -> str:
    text = _PROJECT_REFERENCE.sub("", cite)
    for pattern, replacement in _TIDY:
        text = pattern.sub(replacement, text)
    text = text.strip(" ;:,")
    return text or cite


def _headline(decision: Decision) -> str:
    """The claim's status; a claim held back only by compliance findings says the payer would not see why."""
    status = decision.status.upper()
    denials = [f for f in decision.findings if f.severity == "deny"]
    if denials and all(f.kind == "compliance" for f in denials):
        status += " (fix before sending: the payer would not see the problem, an audit would)"
    return status


def at_risk(decision: Decision) -> tuple[float, int, int]:
    """The billed charges of the lines the payer would deny, how many denied lines there are, and how many of
    them have no charge on the claim (claim JSON may leave `charge` out; an 837P line always has one)."""
    denied = [line for line in decision.lines if line.status == "denied"]
    return (
        sum(line.charge for line in denied if line.charge is not None),
        len(denied),
        sum(1 for line in denied if line.charge is None),
    )


def money(amount: float) -> str:
    """An amount of money as a biller writes it: $2,310.40."""
    return f"${amount:,.2f}"


def _at_risk_words(amount: float, denied: int, uncharged: int) -> str:
    """`$310.00 at risk on 2 denied lines`, said so that a missing charge is not read as $0."""
    if not denied:
        return ""
    lines = f"{denied} denied line{'s' if denied != 1 else ''}"
    if uncharged == denied:
        return f"{lines}, no charges given"
    at_least = "at least " if uncharged else ""
    return f"{at_least}{money(amount)} at risk on {lines}"


# ANSI colours of the status words, for a terminal (`colour=True`); the words themselves say it all without.
_COLOURS = {
    "DENIED": "31;1",
    "DENY": "31",
    "COULD NOT BE READ": "35;1",
    "COULD NOT BE JUDGED": "35;1",
    "ADJUSTED": "33",
    "WARN": "33",
    "ACCEPTED": "32",
    "INFO": "36",
}


def _paint(word: str, colour: bool) -> str:
    code = _COLOURS.get(word.split(" to ")[0].split(" (")[0]) if colour else None
    return f"\033[{code}m{word}\033[0m" if code else word


def render_claim(decision: Decision, colour: bool = False) -> str:
    policy = decision.policy or {}
    label = f"{policy.get('payer', '?')} {policy.get('version', '')}".strip()
    if decision.status == "error":
        where = f" ({shown(decision.where)})" if decision.where else ""
        # A claim payerpolicy failed on is no fault of the claim's: its headline says so.
        failed = any(e["field"] == BUG_FIELD for e in decision.errors)
        headline = "COULD NOT BE JUDGED" if failed else "COULD NOT BE READ"
        out = [
            f"Claim {shown(decision.id) if decision.id else '(no id)'}{where}: "
            f"{_paint(headline, colour)}, nothing was judged"
            + (" (a bug in payerpolicy, not in the claim)" if failed else "")
        ]
        out += [f"  - {shown(e['field'])}: {shown(e['message'], 2 * ECHO_LIMIT)}" for e in decision.errors]
        return "\n".join(out)
    risk = _at_risk_words(*at_risk(decision))
    out = [
        f"Claim {shown(decision.id)}  [{label}]: {_paint(_headline(decision), colour)}"
        + (f"  ({risk})" if risk else "")
    ]
    by_line: dict[int, list[Finding]] = {}
    for finding in decision.findings:
        by_line.setdefault(finding.line, []).append(finding)
    for line in decision.lines:
        state = line.status.upper()
        if line.status == "adjusted":
            state += f" to {line.allowed_units} unit{'s' if line.allowed_units != 1 else ''}"
        modifiers = "".join(f" {m}" for m in line.modifiers)
        when = f"  {line.date_of_service}" if line.date_of_service else ""
        out.append(f"  line {line.line}{when}  {line.code}{modifiers}  x{line.billed_units}  {_paint(state, colour)}")
        indent = " " * (10 + _KIND_WIDTH + 1)
        for finding in sorted(by_line.get(line.line, []), key=lambda f: _KIND_ORDER.get(f.kind, 3)):
            kind = f"[{_KIND_LABEL.get(finding.kind, finding.kind)}]".ljust(_KIND_WIDTH)
            out.append(
                f"    {_paint(_MARK[finding.severity], colour)}  {kind} {shown(finding.message, 2 * ECHO_LIMIT)}"
            )
            if finding.fix is not None:
                out.append(f"{indent}what to do: {fix_in_words(finding.fix, line.billed_units)}")
            src = finding.source
            out.append(
                f"{indent}why: {finding.rule} ({_reason(finding)}); source: {citation(src.get('cite'))} "
                f"[{src.get('file')}:{src.get('line')}]"
            )
            if "table" in src:  # a reference table's row: say which
                out.append(f"{indent}table: {_table_row(src)}")
    return "\n".join(out)


def units_only_note(lines: int) -> str:
    """The run's one note on timed lines billed in units without minutes: normal for 837P claims, said once
    rather than on every line, so the specialist knows what was not checked."""
    return (
        f"Note: {lines} timed line{'s' if lines != 1 else ''} {'were' if lines != 1 else 'was'} billed in "
        f"units without treatment minutes (as 837P claims are), so the 8-minute rule could not check "
        f"{'their' if lines != 1 else 'its'} units; send the minutes (claim JSON `minutes` or `periods`) to "
        f"have them checked."
    )


def _table_row(src: dict) -> str:
    """`reference/mue-2026q4.csv row 11 (2026Q4), from MCR_MUE.csv:8` for a finding a table row caused."""
    rows = src.get("row")
    text = src["table"]
    if rows is not None:
        text += f" row{'s' if isinstance(rows, list) else ''} " + (
            ", ".join(map(str, rows)) if isinstance(rows, list) else str(rows)
        )
    if src.get("quarter"):
        text += f" ({src['quarter']})"
    if src.get("published"):
        text += f", from {src['published']}"
    if src.get("status_source"):
        text += f"; status: {src['status_source']}"
    return text


def render_summary(summary: dict, risk: tuple[float, int, int] = (0.0, 0, 0)) -> str:
    """The run's last line; `risk` is the run's `at_risk` totals (charges, denied lines, lines without one)."""
    parts = [f"{summary['accepted']} accepted", f"{summary['denied']} denied"]
    if summary["errors"]:
        parts.append(f"{summary['errors']} could not be read")
    text = f"{summary['claims']} claim{'s' if summary['claims'] != 1 else ''}: " + ", ".join(parts)
    if summary["needs_fix"]:
        text += f" ({summary['needs_fix']} accepted with a warning worth fixing)"
    words = _at_risk_words(*risk)
    if words:
        text += f"; {words}"
    return text
