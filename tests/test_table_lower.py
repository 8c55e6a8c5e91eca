"""Tables are rules: each table row lowers to exactly the condition and fix a policy author could write.

Spans are left out of equality, so a row's syntax tree can be compared with the tree of the rule text
written out by hand (as in the docstring of table_lower).
"""

from __future__ import annotations

import pytest

import payerpolicy
from payerpolicy.pipeline import load_program
from payerpolicy.diagnostics import TextOrigin
from payerpolicy.rules.lower import lower_condition, lower_fix


def parsed(text, lower=lower_condition):
    diagnostics = []
    node = lower(text, TextOrigin("hand.yaml", tuple((1, i + 1) for i in range(len(text) + 1))), diagnostics)
    assert diagnostics == []
    return node


_OTHER_LINE_BYPASS = (
    "and not (date >= 2019-07-01 and any of modifiers in @distinct_service) "
    "and not (any of modifiers in @anatomic and any of line.modifiers in @anatomic "
    "and any of modifier_difference(modifiers, line.modifiers) in @anatomic)"
)


@pytest.fixture(scope="module")
def medicare_rules():
    # The rules as built from the files: a program from the compiled-policy cache keeps their conditions
    # only as generated code.
    program, _ = load_program("medicare", cache=False)
    return {r.id: r for r in program.policy.rules}


@pytest.mark.parametrize(
    "rule_id, condition, fix",
    [
        (
            "medicare.unit-cap.97112",  # a practice guideline in the Medicare policy: its own fix, a review
            "total units of lines with code in [97112] earlier that day + units > 4",
            'review "check that the treatment notes say why more than 4 units of 97112 were needed that day"',
        ),
        (
            "medicare.modifier.gp-on-pt-services",
            "provider.type in [PT, PTA] and has no modifier in [GP]",
            "add modifier GP",
        ),
        # Medicare's pair settings (policy.yaml): a distinct-service modifier on the other line (column 1) from
        # 2019-07-01, and site modifiers that differ, keep it from making a pair with the judged (column-2) line.
        (
            "medicare.pair.97530-97116",
            "another line with code in [97530] " + _OTHER_LINE_BYPASS + " that day and has no modifier in @ncci_bypass",
            "add modifier 59",
        ),
        (
            "medicare.evaluation.one-pt-evaluation-per-day",
            "number of lines with code in @pt_evaluation_or_reevaluation earlier that day >= 1",
            "remove line",
        ),
        (
            "medicare.evaluation.manual-therapy-with-evaluation",
            "another line with code in @pt_evaluation " + _OTHER_LINE_BYPASS + " that day "
            "and has no modifier in @distinct_service",
            "add modifier 59",
        ),
        (
            "medicare.evaluation.reevaluation-with-treatment",
            "another line with code in [97110, 97112, 97113, 97116, 97140, 97530, 97150] "
            + _OTHER_LINE_BYPASS
            + " that day and has no modifier in @distinct_service",
            "add modifier 59",
        ),
    ],
)
def test_a_table_row_is_the_rule_written_out(medicare_rules, rule_id, condition, fix):
    rule = medicare_rules[rule_id]
    assert rule.condition == parsed(condition)
    assert rule.fix == parsed(fix, lower_fix)


def test_deleted_code_pairs_make_no_rule(medicare_rules):
    assert "medicare.pair.evaluation-97530-deleted" not in medicare_rules
    assert "medicare.pair.evaluation-97150-deleted" not in medicare_rules


def test_a_rule_is_indexed_under_the_codes_it_concerns():
    program = payerpolicy.load("medicare").program
    ids = lambda code: [r.spec.id for r in program.rules_for(code)]  # noqa: E731
    assert "medicare.unit-cap.97112" in ids("97112")
    assert "medicare.unit-cap.97112" not in ids("97110")
    assert "medicare.pair.97530-97116" in ids("97116") and "medicare.pair.97530-97116" not in ids("97530")
    # A code no rule names meets only the rules written `codes: any` (Medicare's limits on what a
    # chiropractor may bill, and the claim data its front end rejects, concern every code).
    assert ids("99213")[:2] == [
        "medicare.chiropractic.excluded-service",
        "medicare.chiropractic.excluded-service-marked-gy",
    ]
    assert {i for i in ids("99213") if i.startswith("medicare.claim-data.")} == {
        i for i in ids("97110") if i.startswith("medicare.claim-data.")
    }
    assert "medicare.plan-of-care.progress-report-due" in ids("97110")  # therapy codes only
    assert "medicare.plan-of-care.progress-report-due" not in ids("99213")
    assert all(rule.spec.every_code for rule in program.rules_for("99213"))
