"""Policy test cases, stage 3 (on request): write what the policy decides now into the case files.

`payerpolicy test --update` replaces the `expect` of every case with the decisions of the current policy:
each claim's status and all its findings (rule, line, severity, fix). Only the text of each `expect` block
changes; names, claims and comments stay as written. A billing specialist who changed a policy then reviews
the change of decisions as a diff in version control, and commits it when it is what was meant.
"""
from __future__ import annotations

from pathlib import Path

import yaml
from yaml.nodes import MappingNode, SequenceNode

from .case_files import CaseFile
from .case_run import CaseResult, finding_matches
from .decision import Decision


def recorded_expectation(decision: Decision, before: dict) -> dict:
    """What a case should now expect of one claim; `exact`, `absent` (still absent) and `lines` are kept."""
    out: dict = {"status": decision.status}
    findings = []
    for finding in decision.findings:
        entry = {"rule": finding.rule, "line": finding.line, "severity": finding.severity}
        if finding.fix is not None:
            entry["fix"] = {k: v for k, v in finding.fix.to_dict().items() if k in ("action", "value")}
        findings.append(entry)
    out["findings"] = findings
    if before.get("exact"):
        out["exact"] = True
    absent = [a for a in before.get("absent") or [] if not any(finding_matches(a, f) for f in decision.findings)]
    if absent:
        out["absent"] = absent
    if before.get("lines"):
        lines = {line.line: line for line in decision.lines}
        out["lines"] = [{"line": n, "status": lines[n].status, "allowed_units": lines[n].allowed_units}
                        for n in (want["line"] for want in before["lines"]) if n in lines]
    if decision.status == "error":
        out["errors"] = sorted({error["field"] for error in decision.errors})
    return out


def _dump(value, indent: int) -> str:
    """YAML for an `expect` block: block style at the top, one finding per line in flow style."""
    text = yaml.safe_dump(value, default_flow_style=None, sort_keys=False, width=110, allow_unicode=True)
    pad = " " * indent
    return "\n".join((pad + line) if line else line for line in text.rstrip("\n").splitlines())


def _content_end(node) -> int:
    """Where a node's own text ends. A block mapping or list "ends" at the next key, past any comment lines
    between; those belong to what follows, so the end is that of its last item."""
    if isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        return _content_end(last[1] if isinstance(node, MappingNode) else last)
    return node.end_mark.index


def update_case_file(case_file: CaseFile, results: list[CaseResult]) -> bool:
    """Rewrite the `expect` blocks of the cases that were run; True when the file changed."""
    document = case_file.document
    text = document.text
    edits = []
    for result in results:
        if result.outcome == "error":
            continue
        case = result.case
        new = [recorded_expectation(d, before) for d, before in zip(result.decisions, case.expect)]
        if len(result.decisions) != len(case.expect):
            new = [recorded_expectation(d, {}) for d in result.decisions]
        value = new[0] if case.single and len(new) == 1 else new
        key_node = document.key_nodes[("cases", case.index, "expect")]
        node = document.nodes[("cases", case.index, "expect")]
        indent = key_node.start_mark.column + 2
        start = key_node.end_mark.index  # just after `expect`, before the colon
        edits.append((start, _content_end(node), ":\n" + _dump(value, indent)))
    for start, end, replacement in sorted(edits, reverse=True):
        colon = text.index(":", start)
        text = text[:colon] + replacement + text[end:]
    if text == document.text:
        return False
    Path(case_file.path).write_text(text, encoding="utf-8")
    return True
