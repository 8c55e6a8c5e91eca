"""Policy regression tests: case files, `payerpolicy test`, the pytest plugin, coverage, JUnit, --update."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy.cli.main import main
from payerpolicy._resources import policies_dir

SHIPPED = policies_dir()


def plugin_env() -> dict:
    """A pytest run in a subprocess with only our plugin, finding this very payerpolicy."""
    package_root = str(Path(payerpolicy.__file__).resolve().parent.parent)
    path = os.pathsep.join([package_root] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    return dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONPATH=path)


POLICY = """\
policy: {payer: acme, name: Acme Health (test), version: "1"}
defaults:
  unit_cap: {severity: deny, reason: {group: CO, carc: "151"}}
unit_caps:
  - id: acme.cap.97110
    codes: 97110
    max_units: 2
    source: test
  - id: acme.cap.97140
    codes: 97140
    max_units: 1
    source: test
"""

CASES = """\
# Cases for the Acme test policy. This comment must survive --update.
cases:
  - name: 97110 for 3 units is cut to 2
    claim:
      id: A-1
      patient: {id: P-1}
      lines: [{code: 97110, units: 3, date: 2026-03-02}]
    expect:
      status: denied
      findings:
        - {rule: acme.cap.97110, line: 1, fix: {action: set_units, value: 2}}

  # a comment between cases
  - name: 97110 for 2 units is paid
    claim:
      id: A-2
      patient: {id: P-1}
      lines: [{code: 97110, units: 2, date: 2026-03-02}]
    expect: {status: accepted, exact: true}
"""


@pytest.fixture
def acme(tmp_path):
    folder = tmp_path / "acme"
    (folder / "tests").mkdir(parents=True)
    (folder / "policy.yaml").write_text(POLICY)
    (folder / "tests" / "test_caps.yaml").write_text(CASES)
    return folder


def run(capsys, *args):
    code = main(["test", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_passing_cases_exit_0_and_coverage_names_the_rule_no_case_exercised(capsys, acme):
    code, out, err = run(capsys, acme)
    assert code == 0, out + err
    assert "PASS  " in out and "2 cases: 2 passed, 0 failed" in out
    # acme.cap.97140 is left without a case on purpose.
    assert "never fires:                acme.cap.97140 (" in out and "policy.yaml:9)" in out
    assert "rule coverage: 50.0%" in out
    code, out, _ = run(capsys, acme, "--min-coverage", "100")
    assert code == 1 and "below the minimum of 100%" in out


def test_a_failing_case_names_the_case_and_the_finding_in_billing_words(capsys, acme):
    policy = acme / "policy.yaml"
    policy.write_text(POLICY.replace("max_units: 2", "max_units: 3"))
    code, out, _ = run(capsys, acme)
    assert code == 1
    assert "FAIL  " in out and "97110 for 3 units is cut to 2" in out
    assert "status: expected denied, got accepted" in out
    assert "missing finding: acme.cap.97110 on line 1 (what to do: bill 2 units on line 1)" in out
    assert "2 cases: 1 passed, 1 failed" in out


def test_a_broken_case_file_is_reported_with_its_place_and_exits_2(capsys, acme):
    (acme / "tests" / "test_caps.yaml").write_text(
        CASES.replace("    expect:\n      status: denied", "    expected:\n      status: denied")
    )
    code, out, err = run(capsys, acme)
    assert code == 2
    assert "test_caps.yaml:8:5: error[E201]: unknown key `expected`" in err
    assert "did you mean `expect`?" in err


def test_a_case_whose_policy_cannot_load_is_an_error(capsys, acme):
    (acme / "policy.yaml").write_text(POLICY.replace("max_units: 2", "max_unit: 2"))
    code, out, _ = run(capsys, acme)
    assert code == 2
    assert "ERROR  " in out and "error[E201]: unknown key `max_unit`" in out


def test_junit_report(capsys, acme, tmp_path):
    (acme / "policy.yaml").write_text(POLICY.replace("max_units: 2", "max_units: 3"))
    report = tmp_path / "report.xml"
    code, _, _ = run(capsys, acme, "--junit", report)
    assert code == 1
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "0")
    [suite] = root.findall("testsuite")
    assert suite.get("name").endswith("acme/tests/test_caps.yaml")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "2",
        "1",
        "0",
        "0",
    )
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["97110 for 3 units is cut to 2", "97110 for 2 units is paid"]
    assert all(float(c.get("time")) >= 0 and c.get("classname") for c in cases)
    failure = cases[0].find("failure")
    assert failure is not None and cases[1].find("failure") is None
    assert "status: expected denied, got accepted" in failure.text
    assert failure.get("message").startswith("claim A-1")


def test_a_typo_inside_expect_is_placed_with_a_suggestion(capsys, acme):
    (acme / "tests" / "test_caps.yaml").write_text(CASES.replace("      status: denied", "      staus: denied", 1))
    code, _, err = run(capsys, acme)
    assert code == 2
    assert "test_caps.yaml:9:7: error[E201]: unknown key `staus`" in err and "did you mean `status`?" in err


def test_a_case_file_that_cannot_be_read_is_an_errored_test_in_junit(capsys, acme, tmp_path):
    (acme / "tests" / "test_broken.yaml").write_text("cases:\n  - name: broken\n    claim: [oops\n")
    report = tmp_path / "report.xml"
    code, _, _ = run(capsys, acme, "--junit", report)
    assert code == 2
    root = ET.parse(report).getroot()
    assert root.get("errors") == "1" and int(root.get("tests")) == 3
    [broken] = [s for s in root.findall("testsuite") if s.get("name").endswith("test_broken.yaml")]
    [case] = broken.findall("testcase")
    error = case.find("error")
    assert error is not None and "E103" in error.get("message") and "never closed" in error.text


def test_update_records_the_current_decisions_and_keeps_the_rest_of_the_file(capsys, acme):
    (acme / "policy.yaml").write_text(POLICY.replace("max_units: 2", "max_units: 1"))
    code, out, _ = run(capsys, acme, "--update")
    assert code == 1 and "updated " in out  # this run still reports what differed
    text = (acme / "tests" / "test_caps.yaml").read_text()
    assert text.startswith("# Cases for the Acme test policy. This comment must survive --update.")
    assert "  # a comment between cases" in text
    assert "{rule: acme.cap.97110, line: 1, severity: deny, fix: {action: set_units, value: 1}}" in text
    code, out, _ = run(capsys, acme)
    assert code == 0, out  # the recorded expectations hold
    code, out, _ = run(capsys, acme, "--update")
    assert "updated" not in out  # nothing changed a second time


def test_claims_from_a_claim_file(capsys, acme):
    (acme / "tests" / "claims.jsonl").write_text(
        '{"id": "F-1", "patient": {"id": "P-1"}, "lines": [{"code": "97140", "units": 2, "date": "2026-03-02"}]}\n'
        '{"id": "F-2", "patient": {"id": "P-2"}, "lines": [{"code": "97140", "units": 1, "date": "2026-03-02"}]}\n'
    )
    (acme / "tests" / "test_file.yaml").write_text(
        "cases:\n  - name: claims from a JSON Lines file\n    claim_file: claims.jsonl\n    expect:\n"
        "      - {status: denied, findings: [{rule: acme.cap.97140, line: 1}]}\n      - {status: accepted}\n"
    )
    code, out, _ = run(capsys, acme / "tests" / "test_file.yaml")
    assert code == 0, out


def test_no_case_files_exits_2(capsys, tmp_path):
    code, _, err = run(capsys, tmp_path)
    assert code == 2 and "no policy test cases" in err


def test_the_shipped_policies_pass_their_cases_with_full_coverage(capsys):
    code, out, _ = run(capsys, SHIPPED, "--min-coverage", "100", "-q")
    assert code == 0, out
    assert "rule coverage: 100.0%" in out


@pytest.mark.parametrize(
    "breakage, case_name, finding",
    [
        (
            ("medicare/caps.yaml", "    max_units: 4", "    max_units: 5"),
            "97112 billed at 5 units on one line - a practice guideline warning (seed 003)",
            "medicare.unit-cap.97112",
        ),
        (
            (
                "medicare/code-pairs.yaml",
                "    column1: 97530\n    column2: 97116\n    modifier_indicator: 1",
                "    column1: 97530\n    column2: 97116\n    modifier_indicator: 9",
            ),
            "97116 gait training with 97530 the same day is denied on the column-2 line (97116)",
            "medicare.pair.97530-97116",
        ),
    ],
)
def test_breaking_a_shipped_rule_fails_both_pytest_and_payerpolicy_test(capsys, tmp_path, breakage, case_name, finding):
    copy = tmp_path / "policies"
    shutil.copytree(SHIPPED, copy)
    file, before, after = breakage
    text = (copy / file).read_text()
    assert before in text
    (copy / file).write_text(text.replace(before, after))
    code, out, _ = run(capsys, copy, "-q")
    assert code == 1
    assert case_name in out and finding in out
    env = plugin_env()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "payerpolicy.cases.pytest_plugin",
            "-q",
            "-p",
            "no:cacheprovider",
            str(copy),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert case_name in done.stdout and finding in done.stdout
    assert "Traceback" not in done.stdout


def test_the_pytest_plugin_collects_each_case_as_an_item(tmp_path, acme):
    env = plugin_env()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "payerpolicy.cases.pytest_plugin",
            "-v",
            "-p",
            "no:cacheprovider",
            str(acme),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test_caps.yaml::97110 for 3 units is cut to 2 PASSED" in done.stdout
    assert "test_caps.yaml::97110 for 2 units is paid PASSED" in done.stdout
    assert "rule coverage: 50.0%" in done.stdout
