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


def _bundled_packs_claim(claim_id: str) -> dict:
    return {
        "id": claim_id,
        "patient": {"id": "P-1"},
        "provider": {"type": "PT"},
        "referring_npi": "1234567893",
        "diagnoses": ["M54.50"],
        "lines": [
            {"code": "97110", "modifiers": ["GP"], "units": 1, "minutes": 15, "date": "2026-03-02"},
            {"code": "97010", "modifiers": ["GP"], "units": 1, "date": "2026-03-02"},
        ],
    }


def test_a_source_merged_with_its_table_row_is_written_as_json_dumps_writes_it_every_time():
    # The fee status rule adds the table's row to its source (a new dict per finding, the same content):
    # its text is known by its content after the first, and never taken for another row's.
    policy = payerpolicy.load("medicare")
    first, second = policy.check_many([_bundled_packs_claim("F-1"), _bundled_packs_claim("F-2")])
    (one,), (other,) = first.findings, second.findings
    assert one.rule == other.rule == "medicare.fee-status.bundled"
    assert one.source == other.source and one.source is not other.source and "row" in one.source
    for decision in (first, second, first):
        assert decision_json(decision) == json.dumps(decision.to_dict())
    moved = {**one.source, "row": one.source["row"] + 1}
    decision = Decision("F-3", None, "denied", findings=(_finding(source=moved),))
    assert f'"row": {one.source["row"] + 1}' in decision_json(decision)
    assert decision_json(decision) == json.dumps(decision.to_dict())


def test_a_flat_source_known_by_its_identity_is_written_as_it_is_now_when_changed_in_place():
    source = {"file": "policies/acme/caps.yaml", "line": 3}
    decision = Decision("C-1", None, "denied", findings=(_finding(source=source),))
    for _ in range(3):  # seen again: known by its identity from then on
        assert decision_json(decision) == json.dumps(decision.to_dict())
    source["line"] = 4
    assert '"line": 4}' in decision_json(decision)
    source["line"] = [4, 5]
    assert decision_json(decision) == json.dumps(decision.to_dict())


@pytest.mark.parametrize(
    "first, then",
    [
        # equal values json writes otherwise (True == 1 == 1.0): never the text kept for the other
        ({"line": 1}, {"line": True}),
        ({"fix": Fix("set_units", 1, 1)}, {"fix": Fix("set_units", 1, True)}),
        ({"fix": Fix("set_units", 1, 2)}, {"fix": Fix("set_units", 1, 2.0)}),
        ({"fix": Fix("review", 1, None, "ask the ü therapist")}, {"fix": Fix("review", 1, None, "")}),
        ({"fix": Fix("review", 1, None, None)}, {"fix": Fix("review", True, None, None)}),
        ({"source": {"row": 1}}, {"source": {"row": True}}),
        ({"source": {"row": 2}}, {"source": {"row": 2.0}}),
        ({"reason": {"carc": "4"}}, {"reason": {"carc": ["4"]}}),
        ({"severity": "deny"}, {"severity": ["deny"]}),
        ({"fix": Fix("merge_lines", 2, 1)}, {"fix": Fix("merge_lines", 2, [1])}),
    ],
)
def test_a_part_written_before_is_not_reused_for_an_equal_value_json_writes_otherwise(first, then):
    for changes in (first, then, first, then):
        decision = Decision("C-1", None, "denied", findings=(_finding(**changes),))
        assert decision_json(decision) == json.dumps(decision.to_dict())


@pytest.mark.parametrize(
    "fix",
    [
        Fix("add_modifier", 3, "GP"),  # a value, no note
        Fix("remove_line", 2),  # neither
        Fix("review", 1, None, "vérifier le plan de soins — “NPI”"),  # a note, no value
        Fix("merge_lines", 4, 1, "add its units to line 1 and remove line 4"),  # both
        Fix("set_units", 1, 0, None),
    ],
)
def test_a_fix_with_and_without_its_value_and_note_is_written_as_json_dumps_writes_it(fix):
    decision = Decision("C-1", None, "denied", findings=(_finding(fix=fix), _finding(fix=fix, line=2)))
    assert decision_json(decision) == json.dumps(decision.to_dict())
    assert decision_json(decision) == json.dumps(decision.to_dict())  # the second time, from what was kept


def test_line_decisions_of_equal_values_json_writes_otherwise_are_written_as_they_are():
    for lines in (
        (LineDecision(1, "97110", 2, 2, "accepted"), LineDecision(2, "97110", 1, 0, "denied")),
        (LineDecision(True, "97110", 2, 2.0, "accepted"), LineDecision(2, "97110", True, 0, "denied")),
        (LineDecision(1, "97110 ü", 2, 2, "accepted"),),
        (LineDecision(1, "97110", 2, 1, "accepted"), LineDecision(1, "97110", 2, 2, "adjusted")),
    ):
        decision = Decision("C-1", None, "accepted", lines)
        assert decision_json(decision) == json.dumps(decision.to_dict())
