"""What CI pipelines read: lint as SARIF and as GitHub annotations, `lint --strict`, and the exit codes of
`check` (0 nothing to fail on, 1 denied, 2 the run could not finish, 3 a claim could not be read) under
`--fail-on`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from payerpolicy.cli.main import main

WILD = (
    'policy: {payer: wild, name: Wild, version: "1"}\n'
    "rules:\n"
    "  - id: wild.units-over-ten\n"
    '    family: custom\n    severity: warn\n    reason: {group: CO, carc: "151"}\n'
    '    message: "{units} units on one line"\n    source: test\n    when: units > 10\n'
)
BROKEN = WILD.replace("when: units > 10", "when: unts > 10")


def _policy(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "wild"
    folder.mkdir()
    (folder / "policy.yaml").write_text(text)
    return folder


def _run(capsys, *args) -> tuple[int, str]:
    code = main([str(a) for a in args])
    return code, capsys.readouterr().out


def test_sarif_places_each_diagnostic_with_its_rule_and_help(capsys, tmp_path, monkeypatch):
    folder = _policy(tmp_path, BROKEN)
    monkeypatch.chdir(tmp_path)
    code, out = _run(capsys, "lint", "--format", "sarif", "wild")
    assert code == 1
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert "E401" in rules and "unknown field" in rules["E401"]["fullDescription"]["text"]
    result = next(r for r in run["results"] if r["ruleId"] == "E401")
    assert result["level"] == "error" and "`unts`" in result["message"]["text"]
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "E401"
    place = result["locations"][0]["physicalLocation"]
    assert place["artifactLocation"]["uri"] == "wild/policy.yaml"  # relative to where lint ran
    assert place["region"]["startLine"] == 9 and place["region"]["startColumn"] == 11
    assert folder.exists()


def test_github_annotations_are_one_workflow_command_per_diagnostic(capsys, tmp_path, monkeypatch):
    _policy(tmp_path, WILD)
    monkeypatch.chdir(tmp_path)
    code, out = _run(capsys, "lint", "--format", "github", "wild")
    assert code == 0  # a warning does not fail lint...
    assert out.splitlines() == [line for line in out.splitlines() if line.startswith("::warning ")]
    assert out.startswith("::warning file=wild/policy.yaml,line=3,col=9,")
    assert "title=W501::" in out and "concerns every procedure code" in out


def test_strict_lint_fails_on_a_warning(capsys, tmp_path):
    folder = _policy(tmp_path, WILD)
    assert _run(capsys, "lint", folder)[0] == 0
    code, out = _run(capsys, "lint", "--strict", folder)
    assert code == 1 and "warning[W501]" in out  # ...unless asked to


def test_annotation_text_is_escaped_as_github_requires():
    from payerpolicy.cli.lint_formats import github
    from payerpolicy.diagnostics import Diagnostic, Span

    class Result:
        diagnostics = (Diagnostic("E203", "50% off,\nthen: more", Span("a,b:c.yaml", 2, 3)),)

    [line] = github([Result()])
    assert line == "::error file=a%2Cb%3Ac.yaml,line=2,col=3,title=E203::50%25 off,%0Athen: more"


GOOD = {
    "id": "G-1",
    "patient": {"id": "P-1"},
    "provider": {"npi": "1234567893", "type": "PT"},
    "referring_npi": "1245319599",
    "lines": [{"code": "97110", "modifiers": ["GP"], "units": 1, "minutes": 15, "date": "2026-03-02"}],
}
DENIED = dict(
    GOOD,
    id="D-1",
    patient={"id": "P-2"},
    lines=[{"code": "97110", "modifiers": [], "units": 1, "minutes": 15, "date": "2026-03-02"}],
)
UNREADABLE = {"id": "U-1", "patient": {"id": "P-3"}, "lines": "none"}


def _claims(tmp_path: Path, *claims: dict) -> Path:
    path = tmp_path / "claims.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in claims) + "\n")
    return path


@pytest.mark.parametrize(
    "claims, fail_on, expected",
    [
        ((GOOD,), "deny", 0),
        ((GOOD, DENIED), "deny", 1),
        ((GOOD, UNREADABLE), "deny", 3),
        ((DENIED, UNREADABLE), "deny", 3),  # could not read comes first: the input needs fixing
        ((GOOD, DENIED, UNREADABLE), "never", 0),
    ],
)
def test_check_exit_codes(capsys, tmp_path, claims, fail_on, expected):
    path = _claims(tmp_path, *claims)
    code, out = _run(capsys, "check", "--received", "2026-03-10", "--fail-on", fail_on, path)
    assert code == expected
    assert len(json.loads(out)["claims"]) == len(claims)  # the output is whole whatever the exit code


def test_fail_on_warn_fails_an_accepted_claim_with_a_warning(capsys, tmp_path):
    warned = dict(GOOD, id="W-1")
    del warned["referring_npi"]  # Medicare advises naming the certifying physician: a warning, still paid
    path = _claims(tmp_path, warned)
    code, out = _run(capsys, "check", "--received", "2026-03-10", path)
    decision = json.loads(out)["claims"][0]
    assert decision["status"] == "accepted" and any(f["severity"] == "warn" for f in decision["findings"])
    assert code == 0
    assert _run(capsys, "check", "--received", "2026-03-10", "--fail-on", "warn", path)[0] == 1


def test_a_run_that_cannot_finish_is_2_whatever_fail_on_says(capsys, tmp_path):
    code = main(["check", "--fail-on", "never", str(tmp_path / "missing.jsonl")])
    assert code == 2
