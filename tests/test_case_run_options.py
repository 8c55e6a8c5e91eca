"""`payerpolicy test` for CI and for a payer built on Medicare: --format json|tap|junit, --run, --fail-only,
--coverage-scope, and a policy's own `tests: min_coverage:` gate, in the command and in the pytest plugin."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from payerpolicy.cli.main import main

POLICY = """policy:
  payer: acme
  name: Acme (a test payer)
  version: "1"
  extends: medicare
  tests: {min_coverage: 100, coverage_scope: own}
unit_caps:
  - id: acme.unit-cap.97112
    codes: 97112
    max_units: 2
    source: "test figure"
"""

CLAIM = """      id: {id}
      patient: {{id: P-1}}
      provider: {{type: PT}}
      referring_npi: "1234567893"
      lines: [{{code: "97112", modifiers: [GP], units: {units}, minutes: {minutes}, date: "2026-03-02"}}]
"""

CASES = f"""cases:
  - name: three units of 97112 are one over the cap
    claim:
{CLAIM.format(id="C-3", units=3, minutes=45)}    expect:
      status: denied
      findings: [{{rule: acme.unit-cap.97112, line: 1}}]
  - name: two units of 97112 pass the cap
    claim:
{CLAIM.format(id="C-2", units=2, minutes=30)}    expect:
      status: accepted
"""


@pytest.fixture
def acme(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "acme"
    (folder / "tests").mkdir(parents=True)
    (folder / "policy.yaml").write_text(POLICY)
    (folder / "tests" / "test_cap.yaml").write_text(CASES)
    monkeypatch.chdir(tmp_path)
    return folder


def _test(capsys, *args) -> tuple[int, str]:
    code = main(["test", *map(str, args)])
    return code, capsys.readouterr().out


def test_a_payer_built_on_medicare_reaches_its_own_gate(capsys, acme):
    code, out = _test(capsys, "acme")
    assert code == 0, out
    assert "acme: 1 rule; 1 fire in some case, 1 are met without firing in some case" in out
    assert "policies/medicare" not in out  # its base's rules are the base's cases' business
    code, out = _test(capsys, "acme", "--coverage-scope", "all")
    assert code == 0  # the policy's gate is over its own rules, whichever rules its cases count
    assert "policies/medicare" in out and "never fires:" in out


def test_a_policy_below_its_own_min_coverage_fails(capsys, acme):
    cases = acme / "tests" / "test_cap.yaml"
    cases.write_text(CASES.split("  - name: two units")[0])  # no case meets the cap without firing it
    code, out = _test(capsys, "acme")
    assert code == 1
    assert "acme: rule coverage 50.0% is below the policy's minimum of 100% (policy: tests: min_coverage)" in out


def test_the_pytest_plugin_applies_the_same_gate(acme):
    (acme / "tests" / "test_cap.yaml").write_text(CASES.split("  - name: two units")[0])
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(acme)],
        capture_output=True,
        text=True,
        cwd=acme.parent,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout[-2000:]
    assert "1 passed" in done.stdout and "below the policy's minimum of 100%" in done.stdout


def test_json_report(capsys, acme):
    code, out = _test(capsys, "acme", "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["summary"]["passed"] == 2 and report["summary"]["failed"] == 0
    assert report["coverage"]["acme"] == {
        "rules": 1,
        "coverage": 100.0,
        "never_fires": [],
        "never_met_without_firing": [],
    }
    assert [c["name"] for c in report["cases"]] == [
        "three units of 97112 are one over the cap",
        "two units of 97112 pass the cap",
    ]


def _break_a_case(acme: Path) -> None:
    cases = acme / "tests" / "test_cap.yaml"
    cases.write_text(cases.read_text().replace("status: accepted", "status: denied"))


def test_tap_report_gives_the_failure_in_billing_words(capsys, acme):
    _break_a_case(acme)
    code, out = _test(capsys, "acme", "--format", "tap")
    lines = out.splitlines()
    assert code == 1 and lines[:2] == ["TAP version 13", "1..2"]
    assert lines[2].startswith("ok 1 - acme/tests/test_cap.yaml: three units")
    assert lines[3].startswith("not ok 2 - acme/tests/test_cap.yaml: two units")
    assert lines[4:6] == ["  ---", "  message: |"]
    assert any("status: expected denied, got accepted" in line for line in lines), out


def test_junit_report_carries_what_was_expected_and_what_came_out(capsys, acme):
    _break_a_case(acme)
    code, out = _test(capsys, "acme", "--format", "junit")
    root = ET.fromstring(out)
    failure = root.find(".//testcase[@name='two units of 97112 pass the cap']/failure")
    assert code == 1 and failure is not None
    assert "expected denied, got accepted" in failure.get("message") + failure.text
    assert "what came out" in failure.text


def test_run_selects_cases_by_name_and_fail_only_reruns_the_failures(capsys, acme):
    code, out = _test(capsys, "acme", "--run", "three units")
    assert code == 0 and "1 cases: 1 passed" in out
    code, out = _test(capsys, "acme", "--run", "*two*cap")
    assert "1 cases: 1 passed" in out and "two units" in out
    _break_a_case(acme)
    assert _test(capsys, "acme")[0] == 1
    code, out = _test(capsys, "acme", "--fail-only")
    assert code == 1 and "1 cases: 0 passed, 1 failed" in out and "FAIL  acme/tests/test_cap.yaml: two units" in out
