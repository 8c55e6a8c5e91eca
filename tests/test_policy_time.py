"""Policies across time: effective periods per line, and the policy as known on an `as_of` date."""
from __future__ import annotations

import datetime
import json

import pytest

import payerpolicy
from payerpolicy.cli import main

D = datetime.date

POLICY = """\
policy: {payer: acme, name: Acme (test), version: "1"}
defaults:
  unit_cap: {severity: deny, reason: {group: CO, carc: "151"}}
unit_caps:
  - id: acme.cap.announced-later
    codes: 97110
    max_units: 1
    announced: 2024-06-01
    effective_from: 2024-07-01
    source: test
  - id: acme.cap.cut-short
    codes: 97112
    max_units: 1
    effective_from: 2023-01-01
    deleted: {announced: 2024-03-01, effective: 2024-01-01}
    source: test
  - id: acme.cap.never-was
    codes: 97140
    max_units: 1
    effective_from: 2023-01-01
    deleted: {announced: 2023-02-01, effective: 2023-01-01}
    source: test
"""


@pytest.fixture
def acme(tmp_path):
    (tmp_path / "policy.yaml").write_text(POLICY)
    return tmp_path


def rule_periods(folder, as_of):
    rules = payerpolicy.load(folder, as_of=as_of).program.policy.rules
    return {r.id: (r.effective_from, r.effective_to) for r in rules}


def test_a_rule_announced_later_is_unknown_before(acme):
    assert "acme.cap.announced-later" not in rule_periods(acme, D(2024, 5, 1))
    assert rule_periods(acme, D(2024, 6, 1))["acme.cap.announced-later"] == (D(2024, 7, 1), None)


def test_a_deletion_counts_from_its_announcement_and_reaches_back_to_its_effective_date(acme):
    assert rule_periods(acme, D(2024, 2, 1))["acme.cap.cut-short"] == (D(2023, 1, 1), None)
    assert rule_periods(acme, D(2024, 3, 1))["acme.cap.cut-short"] == (D(2023, 1, 1), D(2023, 12, 31))


def test_a_deletion_back_to_the_first_day_leaves_nothing(acme):
    assert "acme.cap.never-was" in rule_periods(acme, D(2023, 1, 15))
    assert "acme.cap.never-was" not in rule_periods(acme, D(2023, 2, 1))


def claim(code, date):
    return {"id": "T", "patient": {"id": "P"}, "lines": [{"code": code, "units": 2, "date": date}]}


def test_each_line_meets_the_rules_of_its_own_date_of_service(acme):
    policy = payerpolicy.load(acme, as_of=D(2024, 12, 31))
    assert policy.check(claim("97112", "2023-06-01")).status == "denied"  # cap in force then
    assert policy.check(claim("97112", "2024-06-01")).status == "accepted"  # cut short at 2023-12-31
    assert policy.check(claim("97110", "2024-06-30")).status == "accepted"  # before its effective date
    assert policy.check(claim("97110", "2024-07-01")).status == "denied"


def test_the_command_line_answers_as_of_a_date(capsys, acme, tmp_path):
    claims = tmp_path / "c.json"
    claims.write_text(json.dumps(claim("97140", "2023-01-10")))
    # Denied as known in mid-January 2023; the edit was deleted back to its first day on 2023-02-01.
    assert main(["check", str(claims), "--policy", str(acme), "--as-of", "2023-01-15"]) == 1
    assert main(["check", str(claims), "--policy", str(acme), "--as-of", "2023-02-01"]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as bad:
        main(["check", str(claims), "--as-of", "2024-02-30"])
    assert bad.value.code == 2
    assert "expected a date written YYYY-MM-DD" in capsys.readouterr().err
