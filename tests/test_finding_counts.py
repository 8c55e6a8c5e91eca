"""A count a group of rules worked out in a local is left in the judged line's memo when a rule fired, so that
the findings' messages that name it read it there instead of working it out again (program.source `group`)."""

from __future__ import annotations

import datetime

import pytest

import payerpolicy
from payerpolicy.judge import judge

# Both rules ask the same count of the judged line's day (it reads `line.units`, so it is the judged line's,
# not the day's): the group function holds it in a local. The messages name it.
EARLIER = "number of lines with code in [97110, 97112] and units >= line.units earlier that day"
RULE = """
  - id: acme.{name}
    family: unit_cap
    codes: [97110, 97112]
    when: {earlier} >= {least}
    severity: warn
    reason: {{group: CO, carc: "151"}}
    message: "{words}{{{earlier}}}"
    source: test
"""
POLICY = 'policy: {payer: acme, name: Acme counts, version: "1"}\nrules:' + "".join(
    RULE.format(name=name, earlier=EARLIER, least=least, words=words)
    for name, least, words in [("busy-day", 1, "earlier: "), ("very-busy-day", 2, "very busy: ")]
)

# Four lines of one date, in the order the judge takes them; the count asks for the earlier ones.
CLAIM = dict(
    id="C-1",
    patient={"id": "P-1"},
    provider={"type": "PT"},
    diagnoses=["M54.50"],
    lines=[
        dict(code=code, modifiers=["GP"], units=units, date="2026-03-02")
        for code, units in [("97110", 3), ("97112", 2), ("97110", 2), ("97112", 1)]
    ],
)


@pytest.fixture(autouse=True)
def _fresh_policies(monkeypatch):
    monkeypatch.setenv("PAYERPOLICY_CACHE", "off")


def test_the_messages_name_the_count_the_condition_worked_out():
    decision = payerpolicy.load_text(POLICY, as_of=datetime.date(2026, 1, 1)).check(CLAIM)
    assert [(f.line, f.message) for f in decision.findings] == [
        (2, "earlier: 1"),
        (3, "earlier: 2"),
        (3, "very busy: 2"),
        (4, "earlier: 3"),
        (4, "very busy: 3"),
    ]


def test_a_finding_finds_the_count_in_the_memo_before_its_message_asks(monkeypatch):
    policy = payerpolicy.load_text(POLICY, as_of=datetime.date(2026, 1, 1))
    found_in_memo = []
    make_finding = judge._finding

    def finding(rule, day, view):
        found_in_memo.append(sorted(value for key, value in day.memo.items() if isinstance(key, int)))
        return make_finding(rule, day, view)

    monkeypatch.setattr(judge, "_finding", finding)
    decision = policy.check(CLAIM)
    assert len(decision.findings) == 5
    assert found_in_memo == [[1], [2], [2], [3], [3]]
