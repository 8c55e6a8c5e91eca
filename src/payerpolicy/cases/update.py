"""Policy test cases, stage 3 (on request): write what the policy decides now into the case files.

`payerpolicy test --update` replaces the `expect` of every failing case with the decisions of the current
policy: each claim's status and all its findings (rule, line, severity, fix). Cases that pass are left as
they are, and only the text of each rewritten `expect` block changes; names, claims and comments stay as
written. A billing specialist who changed a policy then reviews
the change of decisions as a diff in version control, and commits it when it is what was meant.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from yaml.nodes import MappingNode, SequenceNode

from payerpolicy.cases.files import CaseFile
from payerpolicy.cases.run import CaseResult, finding_matches
from payerpolicy.decision import Decision


def recorded_expectation(decision: Decision, before: dict) -> dict:
    """What a case should now expect of one claim; `exact`, `absent` (still absent) and `lines` are kept."""
    out: dict = {"status": decision.status}
    findings = []
    earlier = list(before.get("findings") or [])
    for finding in decision.findings:
        entry = {"rule": finding.rule, "line": finding.line, "severity": finding.severity}
        if finding.fix is not None:
            entry["fix"] = {k: v for k, v in finding.fix.to_dict().items() if k in ("action", "value")}
        kept = next((e for e in earlier if "message_contains" in e and finding_matches(e, finding)), None)
        if kept is not None:  # a check of the message the author wrote, and still true: keep it
            entry["message_contains"] = kept["message_contains"]
            earlier.remove(kept)
        findings.append(entry)
    out["findings"] = findings
    if "exact" in before:
        out["exact"] = before["exact"]
    absent = [a for a in before.get("absent") or [] if not any(finding_matches(a, f) for f in decision.findings)]
    if absent:
        out["absent"] = absent
    if before.get("lines"):
        lines = {line.line: line for line in decision.lines}
        out["lines"] = [
            {"line": n, "status": lines[n].status, "allowed_units": lines[n].allowed_units}
            for n in (want["line"] for want in before["lines"])
            if n in lines
        ]
    if decision.status == "error":
        out["errors"] = sorted({error["field"] for error in decision.errors})
    return out


def _plain(value):
    """Values as YAML can write them: a number read from a case file is an int subclass (WholeNumber)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool):
        return value
    return int(value) if isinstance(value, int) else value


def _flow(value) -> str:
    text = yaml.safe_dump(_plain(value), default_flow_style=True, width=10**6, sort_keys=False)
    return text.removesuffix("\n...\n").strip()  # a lone scalar comes with an end-of-document mark


def _mapping_lines(mapping: dict) -> list[str]:
    """One claim's expectation: a key a line, and each finding on a line of its own, in flow style."""
    lines = []
    for key, value in mapping.items():
        if isinstance(value, list) and value:
            lines.append(f"{key}:")
            lines += [f"  - {_flow(item)}" for item in value]
        else:
            lines.append(f"{key}: {_flow(value)}")
    return lines


def _dump(value, indent: int) -> str:
    """YAML for an `expect` block, indented to stand under its key."""
    if isinstance(value, dict):
        lines = _mapping_lines(value)
    else:
        lines = []
        for mapping in value:
            first, *rest = _mapping_lines(mapping)
            lines += [f"- {first}"] + [f"  {line}" for line in rest]
    return "\n".join(" " * indent + line for line in lines)


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
        if result.outcome != "failed":
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
