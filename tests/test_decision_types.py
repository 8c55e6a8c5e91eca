"""Status, severity, kind and fix action as typed `Literal`s: the same words as the decision JSON schema, and
mypy catches a misspelt one in an application's code."""

from __future__ import annotations

import json
import subprocess
import sys
import typing
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy.decision import Decision, Finding, Fix, LineDecision

SCHEMA = json.loads((Path(payerpolicy.__file__).parent / "schemas" / "decision.schema.json").read_text())


@pytest.mark.parametrize(
    "literal, definition, field",
    [
        (payerpolicy.ClaimStatus, "decision", "status"),
        (payerpolicy.LineStatus, "line", "status"),
        (payerpolicy.Severity, "finding", "severity"),
        (payerpolicy.FindingKind, "finding", "kind"),
        (payerpolicy.FixAction, "fix", "action"),
    ],
)
def test_each_literal_holds_the_schemas_words(literal, definition, field):
    assert set(typing.get_args(literal)) == set(SCHEMA["$defs"][definition]["properties"][field]["enum"])


def test_the_public_types_carry_the_literals():
    hints = {cls: typing.get_type_hints(cls) for cls in (Decision, LineDecision, Finding, Fix)}
    assert hints[Decision]["status"] is payerpolicy.ClaimStatus
    assert hints[LineDecision]["status"] is payerpolicy.LineStatus
    assert hints[Finding]["severity"] is payerpolicy.Severity
    assert hints[Finding]["kind"] is payerpolicy.FindingKind
    assert hints[Fix]["action"] is payerpolicy.FixAction


@pytest.mark.slow
def test_mypy_catches_a_misspelt_status_in_an_application(tmp_path):
    app = tmp_path / "app.py"
    app.write_text(
        "import payerpolicy\n"
        "def denied(d: payerpolicy.Decision) -> bool:\n"
        "    return d.status == 'denied'\n"
        "def wrong(d: payerpolicy.Decision) -> payerpolicy.Severity:\n"
        "    return d.status\n"
        "severity: payerpolicy.Severity = 'warning'\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent", str(app)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    out = run.stdout
    assert run.returncode == 1, out
    assert "app.py:5: error: Incompatible return value type" in out
    assert "app.py:6: error: Incompatible types in assignment" in out and "'warning'" in out.replace('"', "'")
    assert "app.py:3" not in out
