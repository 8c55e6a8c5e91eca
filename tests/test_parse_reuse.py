"""Parses kept between loads (`rules.parse.remember`, on in the language server): a remembered tree gives the
same program, and each place that uses it keeps its own file and line in diagnostics."""

from __future__ import annotations

import pytest

import payerpolicy
from payerpolicy.diagnostics import PolicyError
from payerpolicy.pipeline import load_program
from payerpolicy.rules import parse

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


@pytest.fixture
def remembering():
    parse.remember(1000)
    yield
    parse.remember(0)


def test_a_policy_loaded_again_from_remembered_parses_is_the_same_program(remembering):
    first, _ = load_program(ROOT / "policies" / "medicare", cache=False)
    assert len(parse._remembered) > 100
    again, _ = load_program(ROOT / "policies" / "medicare", cache=False)
    assert again.source == first.source
    parse.remember(0)
    assert parse._remembered == {}
    plain, _ = load_program(ROOT / "policies" / "medicare", cache=False)
    assert plain.source == first.source


def test_the_same_condition_in_two_places_gets_its_diagnostic_in_each(tmp_path, remembering):
    rule = """\
  - id: acme.{n}
    family: custom
    codes: "97110"
    severity: deny
    reason: {{group: CO, carc: "4"}}
    when: unit > 2
    source: "acme bulletin {n}"
"""
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "policy.yaml").write_text(
        'policy:\n  payer: acme\n  name: Acme\n  version: "1"\nrules:\n' + rule.format(n=1) + rule.format(n=2)
    )
    for _ in range(2):  # the second load takes both trees from memory
        with pytest.raises(PolicyError) as caught:
            payerpolicy.load(tmp_path / "acme")
        places = [(d.code, d.span.line, d.span.column) for d in caught.value.diagnostics]
        assert places == [("E401", 11, 11), ("E401", 18, 11)]
    assert ("unit > 2", "condition") in parse._remembered
    # A syntax error is never remembered: each load says it again, where it was written.
    policy = tmp_path / "acme" / "policy.yaml"
    policy.write_text(policy.read_text().replace("unit > 2", "code = = 97110"))
    for _ in range(2):
        with pytest.raises(PolicyError) as caught:
            payerpolicy.load(tmp_path / "acme")
        assert [(d.code, d.span.line) for d in caught.value.diagnostics] == [("E303", 11), ("E303", 18)]
    assert ("code = = 97110", "condition") not in parse._remembered
