"""Payer inheritance: extends chains (CMS base, payer, plan), overrides and removals, and their lint."""

from __future__ import annotations

import pytest

import payerpolicy
from payerpolicy.cli.main import main

PAYER = """\
policy: {payer: acme, name: Acme Health (test), version: "1", extends: medicare}
remove: [medicare.unit-cap.97112]
unit_caps:
  - id: acme.unit-cap.97112
    codes: 97112
    max_units: 3
    source: test
"""

PLAN = """\
policy: {payer: acme-gold, name: Acme Gold plan (test), version: "1", extends: acme}
settings: {timed_unit_method: ama}
unit_caps:
  - id: acme.unit-cap.97112      # the plan overrides its payer's cap
    codes: 97112
    max_units: 2
    source: test
"""


@pytest.fixture
def chain(tmp_path):
    for name, text in (("acme", PAYER), ("acme-gold", PLAN)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "policy.yaml").write_text(text)
    return tmp_path


def claim(units):
    return {
        "id": "I-1",
        "patient": {"id": "P"},
        "referring_npi": "1245319599",
        "provider": {"type": "PT"},
        "diagnoses": ["I69.351"],
        "lines": [{"code": "97112", "modifiers": ["GP"], "units": units, "minutes": 15 * units, "date": "2026-03-02"}],
    }


def test_a_plan_extends_a_payer_that_extends_medicare(chain):
    plan = payerpolicy.load(chain / "acme-gold")
    rules = {r.id: r for r in plan.program.policy.rules}
    assert "medicare.unit-cap.97112" not in rules  # removed by the payer
    assert rules["acme.unit-cap.97112"].limit == 2  # overridden by the plan
    assert "medicare.modifier.gp-on-pt-services" in rules  # inherited from the base, two levels up
    assert plan.program.timed_method == "ama"
    [fix] = [f.fix for f in plan.check(claim(3)).findings]
    assert (fix.action, fix.value) == ("set_units", 2)
    assert payerpolicy.load(chain / "acme").check(claim(3)).status == "accepted"


def test_an_override_that_changes_nothing_is_a_warning(chain, capsys):
    (chain / "acme-gold" / "policy.yaml").write_text(PLAN.replace("max_units: 2", "max_units: 3"))
    assert main(["lint", str(chain / "acme-gold")]) == 0
    out = capsys.readouterr().out
    assert "warning[W502]: `acme.unit-cap.97112` overrides the base policy's rule with the very same rule" in out


def test_a_base_named_rule_that_replaces_nothing_is_a_warning(chain, capsys):
    (chain / "acme" / "policy.yaml").write_text(
        PAYER
        + """\
modifier_requirements:
  - id: medicare.modifier.gp-on-pt-service      # one letter short of the base's id
    codes: 97110
    require: GP
    source: test
"""
    )
    assert main(["lint", str(chain / "acme")]) == 0
    out = capsys.readouterr().out
    assert "warning[W503]: `medicare.modifier.gp-on-pt-service` is named like a rule of the base policy" in out
    assert "did you mean `medicare.modifier.gp-on-pt-services`?" in out


def test_two_caps_on_one_code_contradict(chain, capsys):
    (chain / "acme" / "policy.yaml").write_text(PAYER.replace("remove: [medicare.unit-cap.97112]\n", ""))
    assert main(["lint", str(chain / "acme")]) == 0
    out = capsys.readouterr().out
    assert (
        "warning[W504]: two daily caps for 97112: `medicare.unit-cap.97112` (4) and "
        "`acme.unit-cap.97112` (3); only the lower one ever counts"
    ) in out
