"""Policies across time: effective periods per line, and the policy as known on an `as_of` date."""

from __future__ import annotations

import datetime
import json

import pytest

import payerpolicy
from payerpolicy.cli.main import main

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


WINDOW_POLICY = """\
policy: {payer: acme, name: Acme (test), version: "1"}
rules:
  - id: acme.reevaluation-too-soon
    family: evaluation
    codes: 97164
    when: another line with code in 97161-97163 and date > line.date - 30 earlier that year
    severity: deny
    reason: {group: CO, carc: "151"}
    message: "a re-evaluation within 30 days of the evaluation"
    source: test
  - id: acme.visits
    family: threshold
    codes: 97110
    when: number of days with code = 97110 and date < line.date that year >= 2
    severity: deny
    reason: {group: PR, carc: "119"}
    message: "{number of days with code = 97110 and date < line.date that year} visits before this one"
    source: test
"""


def test_a_date_window_over_the_patients_year(tmp_path):
    (tmp_path / "policy.yaml").write_text(WINDOW_POLICY)
    policy = payerpolicy.load(tmp_path)

    def visits(*pairs):
        return {
            "id": "W",
            "patient": {"id": "P"},
            "lines": [{"code": code, "units": 1, "date": date} for code, date in pairs],
        }

    soon = policy.check(visits(("97161", "2026-03-01"), ("97164", "2026-03-20")))
    assert [(f.rule, f.line) for f in soon.findings] == [("acme.reevaluation-too-soon", 2)]
    later = policy.check(visits(("97161", "2026-03-01"), ("97164", "2026-04-15")))
    assert later.findings == ()


def test_counting_visits_counts_dates_not_lines(tmp_path):
    (tmp_path / "policy.yaml").write_text(WINDOW_POLICY)
    policy = payerpolicy.load(tmp_path)
    lines = [{"code": "97110", "units": 1, "date": d} for d in ("2026-01-05", "2026-01-05", "2026-01-12", "2026-01-19")]
    decision = policy.check({"id": "V", "patient": {"id": "P"}, "lines": lines})
    assert [(f.line, f.message) for f in decision.findings] == [(4, "2 visits before this one")]


def test_a_date_takes_only_days_added_or_taken(tmp_path):
    (tmp_path / "policy.yaml").write_text(WINDOW_POLICY.replace("line.date - 30", "line.date * 30"))
    with pytest.raises(payerpolicy.PolicyError) as error:
        payerpolicy.load(tmp_path)
    assert "a date takes + or - a number of days" in error.value.render()


def test_a_window_across_new_year_uses_the_whole_record(tmp_path):
    (tmp_path / "policy.yaml").write_text(
        WINDOW_POLICY.replace("line.date - 30 earlier that year", "line.date - 30 earlier on record")
    )
    policy = payerpolicy.load(tmp_path)
    evaluation = {"id": "E", "patient": {"id": "P"}, "lines": [{"code": "97161", "units": 1, "date": "2025-12-20"}]}
    reevaluation = {"id": "R", "patient": {"id": "P"}, "lines": [{"code": "97164", "units": 1, "date": "2026-01-05"}]}
    [_, decision] = policy.check_many([evaluation, reevaluation])
    assert [f.rule for f in decision.findings] == ["acme.reevaluation-too-soon"]
    (tmp_path / "policy.yaml").write_text(WINDOW_POLICY)  # "that year" does not reach back into 2025
    [_, decision] = payerpolicy.load(tmp_path).check_many([evaluation, reevaluation])
    assert decision.findings == ()
