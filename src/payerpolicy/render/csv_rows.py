"""Render decisions as CSV, one row per finding (and one per reading error), for spreadsheets."""

from __future__ import annotations

from payerpolicy.decision import Decision

COLUMNS = (
    "claim",
    "claim_status",
    "line",
    "code",
    "severity",
    "kind",
    "rule",
    "family",
    "group",
    "carc",
    "rarc",
    "message",
    "fix_action",
    "fix_value",
    "source_file",
    "source_line",
    "source",
)


def csv_rows(decision: Decision):
    codes = {line.line: line.code for line in decision.lines}
    for finding in decision.findings:
        reason, fix, source = finding.reason, finding.fix, finding.source
        yield (
            decision.id,
            decision.status,
            finding.line,
            codes.get(finding.line, ""),
            finding.severity,
            finding.kind,
            finding.rule,
            finding.family,
            reason.get("group", ""),
            reason.get("carc", ""),
            reason.get("rarc", ""),
            finding.message,
            fix.action if fix else "",
            "" if fix is None or fix.value is None else fix.value,
            source.get("file", ""),
            source.get("line", ""),
            source.get("cite", ""),
        )
    for error in decision.errors:
        yield (
            decision.id or "",
            "error",
            "",
            "",
            "error",
            "",
            "",
            "",
            "",
            "",
            "",
            f"{error['field']}: {error['message']}",
            "",
            "",
            "",
            "",
            "",
        )
