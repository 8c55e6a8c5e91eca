"""The decision JSON written straight from a decision (`render.decision_json`) is `json.dumps(to_dict())`,
character for character: for decisions of a real run and for the odd values a decision may hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy.decision import Decision, Finding, Fix, LineDecision
from payerpolicy.render.decision_json import decision_json

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "claims.json"


def test_every_decision_of_the_example_claims_is_written_as_json_dumps_writes_it():
    policy = payerpolicy.load("medicare")
    decisions = list(policy.check_many(json.loads(EXAMPLES.read_text())))
    assert any(d.findings for d in decisions) and any(f.fix for d in decisions for f in d.findings)
    for decision in decisions:
        assert decision_json(decision) == json.dumps(decision.to_dict())


def _finding(**changes) -> Finding:
    fields = dict(
        rule="medicare.modifiers.gp-required",
        family="modifiers",
        severity="deny",
        line=1,
        message='Line 1 (97110) has no GP: add GP — “the plan of care” \\ "quoted"\n',
        reason={"group": "CO", "carc": "4", "rarc": None},
        source={"doc": "Pub 100-04 ch. 5 §20.1", "url": "https://example.org/é"},
        fix=Fix("add_modifier", 1, "GP"),
    )
    fields.update(changes)
    return Finding(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "decision",
    [
        Decision(
            None, None, "error", errors=({"field": "lines[0].units", "message": "not a number: ∞"},), where="line 3"
        ),
        Decision("C-1", {"payer": "medicare", "version": "2026.1"}, "accepted"),
        Decision(
            "C-ü\u2028",
            {"payer": "acme", "version": "1"},
            "denied",
            (LineDecision(1, "97110", 4, 2, "adjusted"), LineDecision(2, "97140", 1, 0, "denied")),
            (
                _finding(),
                _finding(fix=None, severity="warn", kind="advisory", reason={}),
                _finding(fix=Fix("set_units", 1, 2, "the 8-minute rule")),
                _finding(fix=Fix("review", 2, None, "")),
                _finding(fix=Fix("merge_lines", 2, [1, 2])),
                _finding(fix=Fix("set_units", 1, True)),
                _finding(line=0, message=""),
            ),
        ),
    ],
)
def test_odd_values_come_out_as_json_dumps_writes_them(decision):
    assert decision_json(decision) == json.dumps(decision.to_dict())


def test_a_policy_label_changed_in_place_is_written_as_it_is_now():
    label = {"payer": "acme", "version": "1"}
    assert '"version": "1"' in decision_json(Decision("C-1", label, "accepted"))
    label["version"] = "2"
    assert decision_json(Decision("C-2", label, "accepted")) == json.dumps(Decision("C-2", label, "accepted").to_dict())


def test_a_source_changed_inside_is_written_as_it_is_now():
    # A rule's reason and source are the same dicts for each of its findings: their text is kept, and used
    # only while they are unchanged, also inside.
    source = {"doc": "Pub 100-02", "sections": ["220.1"]}
    decision = Decision("C-1", None, "denied", findings=(_finding(source=source),))
    assert decision_json(decision) == json.dumps(decision.to_dict())
    source["sections"].append("230.2")
    assert decision_json(decision) == json.dumps(decision.to_dict())
    assert "230.2" in decision_json(decision)
