"""The parse and lower stages: rule-language text to our syntax tree, and syntax errors with positions."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from payerpolicy.rules import ast as rule_ast
from payerpolicy.diagnostics import TextOrigin
from payerpolicy.rules.lower import lower_condition, lower_fix, lower_template, lower_value

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "rule_language" / "parse.yaml").read_text())
LOWER = {"condition": lower_condition, "value": lower_value, "fix": lower_fix, "message": lower_template}


def origin_for(text: str) -> TextOrigin:
    """Pretend the text stands on line 3 of rules.yaml, starting at column 11 (after `    when: `)."""
    return TextOrigin("rules.yaml", tuple((3, 11 + i) for i in range(len(text) + 1)))


@pytest.mark.parametrize("case", CASES, ids=[c["text"] for c in CASES])
def test_rule_language(case):
    text = case["text"]
    diagnostics = []
    node = LOWER[case.get("kind", "condition")](text, origin_for(text), diagnostics)
    if "error" not in case:
        assert diagnostics == []
        assert rule_ast.show(node) == case["tree"]
        return
    assert [d.code for d in diagnostics] == [case["error"]], [d.message for d in diagnostics]
    found = diagnostics[0]
    assert found.span.file == "rules.yaml" and found.span.line == 3
    if "underlined" in case:
        start = found.span.column - 11
        end = (found.span.end_column or found.span.column + 1) - 11
        assert text[start:end] == case["underlined"]
    if "help" in case:
        assert found.help == case["help"]


def test_spans_are_left_out_of_equality():
    a = lower_condition("units > 4", origin_for("units > 4"), [])
    b = lower_condition("units  >  4", TextOrigin("other.yaml", tuple((9, i + 1) for i in range(12))), [])
    assert a == b
    assert a.span != b.span
