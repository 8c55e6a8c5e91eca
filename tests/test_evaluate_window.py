"""check_many's window: claims of one patient-day are judged together when near enough in the input, and
the day book forgets claims once no claim still to be judged can see them."""

from __future__ import annotations

import payerpolicy
from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.judge.judge import Judge
from payerpolicy.judge.window import judge_in_order


def claim(claim_id, patient, units, date="2026-03-02"):
    return {
        "id": claim_id,
        "patient": {"id": patient},
        "referring_npi": "1245319599",
        "provider": {"type": "PT"},
        "diagnoses": ["I69.351"],
        "lines": [{"code": "97112", "modifiers": ["GP"], "units": units, "minutes": 15 * units, "date": date}],
    }


# Two claims of one patient-day with 3 units of 97112 each (6 > seed 003's 4 a day: a guideline warning under
# Medicare, counted across the day's claims), one other claim between them.
STREAM = [claim("A", "P-1", 3), claim("X", "P-2", 1), claim("B", "P-1", 3)]


def statuses(window):
    policy = payerpolicy.load("medicare")
    return {d.id: (d.status, [f.rule for f in d.findings]) for d in policy.check_many(STREAM, window=window)}


WARNED = ("accepted", ["medicare.unit-cap.97112"])


def test_claims_within_the_window_are_judged_together():
    assert statuses(2) == {"A": ("accepted", []), "X": ("accepted", []), "B": WARNED}
    assert statuses(10_000)["B"] == WARNED


def test_a_claim_further_back_than_the_window_still_counts_through_the_run_history():
    # Medicare looks at the patient's year, so the run keeps a history of the claims it judged: B still
    # sees A's 3 units. (What lies further ahead than the window is not seen: see the next test.)
    assert statuses(1)["B"] == WARNED
    assert statuses(0)["B"] == WARNED


def test_a_claim_further_ahead_than_the_window_is_not_seen():
    # The column-2 line comes first; its column-1 partner arrives two claims later.
    def visit(claim_id, patient, code):
        return {
            "id": claim_id,
            "patient": {"id": patient},
            "referring_npi": "1245319599",
            "provider": {"type": "PT"},
            "lines": [{"code": code, "modifiers": ["GP"], "units": 1, "minutes": 15, "date": "2026-03-06"}],
        }

    stream = [visit("G", "P-5", "97116"), visit("Y", "P-6", "97110"), visit("W", "P-5", "97530")]
    policy = payerpolicy.load("medicare")
    assert [d.status for d in policy.check_many(stream, window=2)][0] == "denied"
    assert [d.status for d in policy.check_many(stream, window=1)][0] == "accepted"


def test_a_later_claim_is_seen_by_an_earlier_one_within_the_window():
    # The evaluation arrives after the 97140: the 97140 still needs its distinct-service modifier.
    manual = {
        "id": "M",
        "patient": {"id": "P-9"},
        "referring_npi": "1245319599",
        "provider": {"type": "PT"},
        "lines": [{"code": "97140", "modifiers": ["GP"], "units": 1, "minutes": 15, "date": "2026-03-04"}],
    }
    evaluation = {
        "id": "E",
        "patient": {"id": "P-9"},
        "referring_npi": "1245319599",
        "provider": {"type": "PT"},
        "lines": [{"code": "97161", "modifiers": ["GP"], "units": 1, "date": "2026-03-04"}],
    }
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
