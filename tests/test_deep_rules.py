"""Deep or long rules get a diagnostic at file:line:column, or compile: never a SyntaxError or RecursionError
(issue 15, point 6), and a row dropped for a schema error does not move the places of later rows' diagnostics
(point 7)."""

from __future__ import annotations

import pytest

import payerpolicy
from payerpolicy.diagnostics import PolicyError
from payerpolicy.rules.parse import MAX_DEPTH


def policy_with(tmp_path, when: str, name: str = "deep"):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "policy.yaml").write_text(
        f'''policy:
  payer: {name}
  name: Deep
  version: "1"
  fictional: true
rules:
  - id: deep.rule
    family: custom
    kind: advisory
    codes: [97110]
    when: "{when}"
    severity: warn
    message: "fired"
    source: "test"
''',
        encoding="utf-8",
    )
    return folder


def fired(policy, units: int) -> bool:
    claim = {"id": "C", "patient": {"id": "P"}, "lines": [{"code": "97110", "units": units, "date": "2026-03-02"}]}
    return any(f.rule == "deep.rule" for f in policy.check(claim).findings)


def another(levels: int) -> str:
    condition = "code = 97110"
    for _ in range(levels):
        condition = f"another line with ({condition}) that day"
    return condition


@pytest.mark.parametrize("joiner", [" and ", " or "])
@pytest.mark.parametrize("terms", [983])
def test_long_chains_of_and_or_compile(tmp_path, joiner, terms):
    policy = payerpolicy.load(policy_with(tmp_path, joiner.join(["units > 4"] * terms)))
    assert fired(policy, 5) and not fired(policy, 4)


@pytest.mark.parametrize(
    "when",
    [
        " + ".join(["units"] * 101) + " > 4",  # a 101-term sum
        "not " * 200 + "units > 4",
        "not " * 10_000 + "units > 4",  # far past Python's recursion
        another(66),
    ],
)
def test_deep_rules_get_a_diagnostic_in_place(tmp_path, when):
    with pytest.raises(PolicyError) as caught:
        payerpolicy.load(policy_with(tmp_path, when))
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "E306"
    assert diagnostic.span.file.endswith("policy.yaml") and diagnostic.span.line == 11
    assert 12 <= diagnostic.span.column <= 12 + len(when)
    assert f"more than {MAX_DEPTH} levels" in diagnostic.message


def test_rules_just_within_the_limit_compile(tmp_path):
    # The limit is set so that whatever passes it compiles: the deepest of each kind that passes.
    for name, when in (
        ("sums", " + ".join(["units"] * 48) + " > 200"),
        ("nots", "not " * 46 + "units > 4"),
        ("another", another(24)),
    ):
        policy = payerpolicy.load(policy_with(tmp_path, when, name))
        fired(policy, 5)


def test_yaml_nested_100000_deep_is_a_diagnostic(tmp_path):
    folder = tmp_path / "nested"
    folder.mkdir()
    (folder / "policy.yaml").write_text(
        'policy: {payer: n, name: N, version: "1"}\ncode_sets:\n  x: ' + "[" * 100_000 + "]" * 100_000 + "\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as caught:
        payerpolicy.load(folder)
    assert [d.code for d in caught.value.diagnostics] == ["E106"]


def test_a_dropped_row_leaves_the_later_rows_diagnostics_in_place(tmp_path):
    folder = tmp_path / "shift"
    folder.mkdir()
    rows = []
    for number, (severity, when) in enumerate(
        [
            ("warn", "units > 4"),
            ("sometimes", "units > 4"),
            ("warn", "unitz > 4"),
            ("often", "units > 4"),
            ("warn", "minutez > 4"),
        ],
        start=1,
    ):
        rows.append(f'''  - id: shift.r{number}
    family: custom
    kind: advisory
    codes: [97110]
    when: "{when}"
    severity: {severity}
    message: "row {number}"
    source: "test"
''')
    text = 'policy: {payer: shift, name: Shift, version: "1", fictional: true}\nrules:\n' + "".join(rows)
    (folder / "policy.yaml").write_text(text, encoding="utf-8")
    lines = text.splitlines()
    with pytest.raises(PolicyError) as caught:
        payerpolicy.load(folder)
    found = {(d.code, lines[d.span.line - 1].strip()) for d in caught.value.diagnostics}
    assert found == {
        ("E203", "severity: sometimes"),
        ("E203", "severity: often"),
        ("E401", 'when: "unitz > 4"'),
        ("E401", 'when: "minutez > 4"'),
    }
    assert all(d.span.line >= 1 for d in caught.value.diagnostics)
    lint = payerpolicy.lint(folder)  # lint places them the same, without an internal error
    assert not lint[0].ok and len(lint[0].diagnostics) == 4
