"""`payerpolicy lint --format sarif|github`: a policy's diagnostics where CI shows them.

- SARIF 2.1.0 (the format GitHub code scanning and other tools read): one run, the tool's rules being the
  diagnostic codes of the registry with their meaning as help text, and one result per diagnostic with its
  file, line and column, so that each is shown on the line of the pull request it is about.
- GitHub workflow commands (`::error file=...,line=...,col=...,title=E401::message`): annotations on the
  pull request without uploading anything.

Paths are written relative to the working folder when they are inside it (code scanning resolves them against
the repository's root), with forward slashes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

from payerpolicy import Diagnostic, __version__, explain_code

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning"}


def _path(file: str) -> str:
    try:
        return Path(os.path.abspath(file)).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return Path(file).as_posix()


def sarif(results: Iterable) -> dict:
    """The SARIF log of lint results (`payerpolicy.LintResult`s)."""
    diagnostics = [d for result in results for d in result.diagnostics]
    codes = sorted({d.code for d in diagnostics})
    rules = [
        {
            "id": code,
            "name": code,
            "shortDescription": {"text": explain_code(code) or code},
            "fullDescription": {"text": explain_code(code) or code},
            "help": {"text": f"{code}: {explain_code(code) or ''} (payerpolicy lint --explain {code})"},
            "defaultConfiguration": {"level": "warning" if code.startswith("W") else "error"},
        }
        for code in codes
    ]
    index = {code: i for i, code in enumerate(codes)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "payerpolicy", "version": __version__, "rules": rules}},
                "results": [_result(d, index[d.code]) for d in diagnostics],
            }
        ],
    }


def _result(diagnostic: Diagnostic, rule_index: int) -> dict:
    text = diagnostic.message + (f" (help: {diagnostic.help})" if diagnostic.help else "")
    out: dict = {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": _LEVEL.get(diagnostic.severity, "error"),
        "message": {"text": text},
    }
    span = diagnostic.span
    if span is not None:
        region: dict = {"startLine": span.line, "startColumn": span.column}
        if span.end_line is not None:
            region["endLine"] = span.end_line
        if span.end_column is not None:
            region["endColumn"] = span.end_column
        out["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": _path(span.file)}, "region": region}}]
    return out


def write_sarif(results: Iterable, out) -> None:
    out.write(json.dumps(sarif(results), indent=2) + "\n")


def _escape_data(text: str) -> str:
    # GitHub's workflow command encoding: % and line breaks in the message, plus , and : in properties.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(results: Iterable) -> list[str]:
    """One workflow command per diagnostic (`::error` or `::warning`)."""
    lines = []
    for result in results:
        for d in result.diagnostics:
            kind = "warning" if d.severity == "warning" else "error"
            props = []
            if d.span is not None:
                props += [f"file={_escape_property(_path(d.span.file))}", f"line={d.span.line}", f"col={d.span.column}"]
                if d.span.end_line is not None:
                    props.append(f"endLine={d.span.end_line}")
                if d.span.end_column is not None:
                    props.append(f"endColumn={d.span.end_column}")
            props.append(f"title={_escape_property(d.code)}")
            message = d.message + (f" (help: {d.help})" if d.help else "")
            lines.append(f"::{kind} {','.join(props)}::{_escape_data(message)}")
    return lines
