"""A fix the policy writes out whole (add GP, review with its note) is made once per rule and line number and
shared by the findings that propose it: a Fix cannot change, so each finding still holds the fix its rule says."""

from __future__ import annotations

import pickle

import payerpolicy
from payerpolicy.decision import Fix
from payerpolicy.judge import judge


def _claim(claim_id: str, provider_type: str = "PT") -> dict:
    # No certifying physician (the plan of care rule's review) and 97110 without GP (add GP to line 2).
    return {
        "id": claim_id,
        "patient": {"id": "P-" + claim_id},
        "provider": {"type": provider_type},
        "diagnoses": ["M54.50"],
        "lines": [
            {"code": "97112", "modifiers": ["GP"], "units": 1, "minutes": 15, "date": "2026-03-02"},
            {"code": "97110", "modifiers": [], "units": 1, "minutes": 15, "date": "2026-03-02"},
        ],
    }


def _fixes(decision) -> dict:
    return {f.rule: f.fix for f in decision.findings}


def test_findings_of_a_rule_on_the_same_line_share_the_fix_it_writes():
    first, second = payerpolicy.load("medicare").check_many([_claim("C-1"), _claim("C-2")])
    one, other = _fixes(first), _fixes(second)
    review = one["medicare.plan-of-care.certifying-npi"]
    assert review == Fix("review", 1, None, review.note) and review.note
    assert one["medicare.modifier.gp-on-pt-services"] == Fix("add_modifier", 2, "GP")
    for rule in ("medicare.plan-of-care.certifying-npi", "medicare.modifier.gp-on-pt-services"):
        assert other[rule] is one[rule]
    assert pickle.loads(pickle.dumps(second)) == second


def test_a_written_fix_is_made_for_its_own_line_number_action_and_words():
    made = judge._written_fix("add_modifier", 1, "GP", None)
    assert judge._written_fix("add_modifier", 1, "GP", None) is made
    assert judge._written_fix("add_modifier", 2, "GP", None) == Fix("add_modifier", 2, "GP")
    assert judge._written_fix("remove_modifier", 1, "GP", None) == Fix("remove_modifier", 1, "GP")
    assert judge._written_fix("review", 1, None, "check the notes") == Fix("review", 1, None, "check the notes")
    # a line numbered True (equal to 1) keeps its own fix, which the decision JSON writes otherwise
    assert judge._written_fix("add_modifier", True, "GP", None).line is True
