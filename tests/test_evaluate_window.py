"""check_many's window: claims of one patient-day are judged together when near enough in the input, and
the day book forgets claims once no claim still to be judged can see them."""
from __future__ import annotations

import payerpolicy
from payerpolicy.claim_read import claim_from_dict
from payerpolicy.evaluate import Judge, judge_in_order


def claim(claim_id, patient, units, date="2026-03-02"):
    return {"id": claim_id, "patient": {"id": patient}, "provider": {"type": "PT"}, "diagnoses": ["I69.351"],
            "lines": [{"code": "97112", "modifiers": ["GP"], "units": units, "minutes": 15 * units, "date": date}]}


# Two claims of one patient-day with 3 units of 97112 each (6 > the cap of 4), one other claim between them.
STREAM = [claim("A", "P-1", 3), claim("X", "P-2", 1), claim("B", "P-1", 3)]


def statuses(window):
    policy = payerpolicy.load("medicare")
    return {d.id: (d.status, [f.fix.value for f in d.findings if f.fix])
            for d in policy.check_many(STREAM, window=window)}


def test_claims_within_the_window_are_judged_together():
    assert statuses(2) == {"A": ("accepted", []), "X": ("accepted", []), "B": ("denied", [1])}
    assert statuses(10_000)["B"] == ("denied", [1])


def test_claims_further_apart_than_the_window_are_not():
    assert statuses(1)["B"] == ("accepted", [])
    assert statuses(0)["B"] == ("accepted", [])


def test_a_later_claim_is_seen_by_an_earlier_one_within_the_window():
    # The evaluation arrives after the 97140: the 97140 still needs its distinct-service modifier.
    manual = {"id": "M", "patient": {"id": "P-9"}, "provider": {"type": "PT"},
              "lines": [{"code": "97140", "modifiers": ["GP"], "units": 1, "minutes": 15, "date": "2026-03-04"}]}
    evaluation = {"id": "E", "patient": {"id": "P-9"}, "provider": {"type": "PT"},
                  "lines": [{"code": "97161", "modifiers": ["GP"], "units": 1, "date": "2026-03-04"}]}
    [m, e] = payerpolicy.load("medicare").check_many([manual, evaluation], window=1)
    assert [f.rule for f in m.findings] == ["medicare.evaluation.manual-therapy-with-evaluation"]
    assert e.status == "accepted"


def test_the_day_book_forgets_claims_behind_the_window():
    policy = payerpolicy.load("medicare")
    judge = Judge(policy.program)
    records = [claim_from_dict(claim(f"C-{i}", f"P-{i % 7}", 1, f"2026-03-{1 + i % 20:02d}")) for i in range(500)]
    seen = []
    for decision in judge_in_order(iter(records), lambda record: judge, window=10):
        seen.append(decision.id)
        assert sum(len(day) for day in judge.days.values()) <= 21  # the window each side, and the claim
    assert seen == [r.id for r in records]
    assert judge.days == {}
