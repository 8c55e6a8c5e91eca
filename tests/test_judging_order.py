"""Same decisions in any order: a claim's decision depends on its patient's claims (and history), judged in
date-of-service order, never on where it stands in the input (judge.window, README "Which claims are judged
together").

The corpus is the parallel tests' (bench/generate.py made dense: 30 patients over 20 days, so patient-days
span claims and patients pass the year's KX threshold, with replacements, voids and unreadable claims).
Each comparison maps decisions back to the claim they belong to, and checks that decisions really depend
on other claims, so that it cannot pass by judging every claim alone.
"""

from __future__ import annotations

import random

import pytest

import payerpolicy
from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.judge.judge import Judge
from payerpolicy.judge.window import judge_in_order, judging_order

from test_parallel import dense_claims, depends_on_others

COUNT = 1500


@pytest.fixture(scope="module")
def medicare():
    return payerpolicy.load("medicare")


@pytest.fixture(scope="module")
def corpus():
    return dense_claims(COUNT, seed=5)


@pytest.fixture(scope="module")
def in_file_order(medicare, corpus):
    return [d.to_dict() for d in medicare.check_many(corpus, window=COUNT)]


def judged_in(medicare, corpus, order, window, **options):
    """The decisions on `corpus` judged in `order` (a permutation of its indexes), put back in corpus order."""
    decisions = list(medicare.check_many([corpus[i] for i in order], window=window, **options))
    assert len(decisions) == len(order)  # one decision per claim
    back = [None] * len(order)
    for index, decision in zip(order, decisions):
        back[index] = decision.to_dict()
    return back


def test_a_file_within_the_window_is_judged_the_same_in_any_order(medicare, corpus, in_file_order):
    alone = [medicare.check(c).to_dict() for c in corpus]
    assert depends_on_others(in_file_order, alone) > 100
    assert any(f["rule"] == "medicare.threshold.kx-pt-slp" for d in in_file_order for f in d["findings"])
    for seed in (1, 2, 3):
        order = list(range(COUNT))
        random.Random(seed).shuffle(order)
        assert judged_in(medicare, corpus, order, COUNT) == in_file_order, seed
    assert judged_in(medicare, corpus, list(reversed(range(COUNT))), COUNT) == in_file_order


def test_claims_of_each_patient_together_are_judged_the_same_whatever_the_window(medicare, corpus, in_file_order):
    # How a Spark job sees the input (claims repartitioned by patient, sorted within): each patient's claims
    # stand together, so a window wider than any one patient's claims judges them as the whole file does.
    by_patient: dict = {}
    for index, claim in enumerate(corpus):
        by_patient.setdefault(str(claim.get("patient", {}).get("id")), []).append(index)
    widest = max(len(indexes) for indexes in by_patient.values())
    assert widest < COUNT // 10
    rng = random.Random(7)
    blocks = list(by_patient.values())
    for block in blocks:
        rng.shuffle(block)
    rng.shuffle(blocks)
    order = [index for block in blocks for index in block]
    assert judged_in(medicare, corpus, order, widest) == in_file_order


def test_a_patients_claims_beyond_the_window_see_the_earlier_ones_through_the_run_history(medicare):
    # A and B (same patient-day, 3 + 3 units of 97112 against Medicare's 4) stand 2 claims apart: with a
    # window of 1 they are in two groups, and B sees A as an earlier run's claim (a warning either way);
    # the one judged first is the one read first, which is the documented limit of the window.
    def visit(claim_id, patient, units):
        return {
            "id": claim_id,
            "patient": {"id": patient},
            "referring_npi": "1245319599",
            "provider": {"type": "PT"},
            "diagnoses": ["I69.351"],
            "lines": [
                {"code": "97112", "modifiers": ["GP"], "units": units, "minutes": 15 * units, "date": "2026-03-02"}
            ],
        }

    stream = [visit("B", "P-1", 3), visit("X", "P-2", 1), visit("A", "P-1", 3)]
    warned = {d.id: [f.rule for f in d.findings] for d in medicare.check_many(stream, window=1)}
    assert warned == {"B": [], "X": [], "A": ["medicare.unit-cap.97112"]}
    # Within the window, B is judged after A (same date: by claim id), whatever the input order.
    within = {d.id: [f.rule for f in d.findings] for d in medicare.check_many(stream, window=2)}
    assert within == {"B": ["medicare.unit-cap.97112"], "X": [], "A": []}


def test_the_judging_order_is_by_date_of_service_then_id_then_frequency():
    def claim(claim_id, date, frequency=None, units=1):
        return claim_from_dict(
            {
                "id": claim_id,
                "patient": {"id": "P"},
                "frequency": frequency,
                "lines": [{"code": "97110", "units": units, "date": date}],
            }
        )

    claims = [
        claim("Z", "2026-01-02"),
        claim("B", "2026-01-03", "8"),
        claim("B", "2026-01-03", "7"),
        claim("B", "2026-01-03"),
        claim("A", "2026-01-03"),
        claim("A", "2026-01-03", units=2),
    ]
    ranked = sorted(claims, key=judging_order)
    assert [(c.id, c.frequency, c.lines[0].units) for c in ranked] == [
        ("Z", None, 1),
        ("A", None, 1),
        ("A", None, 2),
        ("B", None, 1),
        ("B", "7", 1),
        ("B", "8", 1),
    ]


def test_a_replacement_stands_for_its_claim_whichever_comes_first(medicare):
    # The original C-1 bills 4 units of 97112 on the day, its replacement 2; D adds 2 units that day. The
    # replacement counts toward D's day, the original counts for nothing, in either input order.
    def claim(claim_id, units, frequency=None):
        return {
            "id": claim_id,
            "patient": {"id": "P-3"},
            "frequency": frequency,
            "referring_npi": "1245319599",
            "provider": {"type": "PT"},
            "diagnoses": ["I69.351"],
            "lines": [
                {"code": "97112", "modifiers": ["GP"], "units": units, "minutes": 15 * units, "date": "2026-04-01"}
            ],
        }

    original, replacement, other = claim("C-1", 4), claim("C-1", 2, "7"), claim("D", 2)
    for stream in ([original, replacement, other], [replacement, other, original], [other, original, replacement]):
        found = {
            (d.id, tuple(line.billed_units for line in d.lines)): [f.rule for f in d.findings]
            for d in medicare.check_many(stream)
        }
        assert found[("D", (2,))] == [], stream  # 2 + 2 units: within the cap (the original is not counted)
        assert found[("C-1", (4,))] == []  # judged on its own lines: 4 is the cap


def test_the_day_book_holds_one_group_at_a_time(medicare):
    judge = Judge(medicare.program)
    records = [claim_from_dict(c) for c in dense_claims(300, seed=3)]
    seen = []
    for decision in judge_in_order(iter(records), lambda record: judge, window=10):
        seen.append(decision.id)
        assert judge.days == {}  # a group is filed, judged and taken out in one go
    assert seen == [getattr(r, "id", None) for r in records]


def test_two_workers_judge_a_shuffled_file_as_one_process(medicare, corpus, in_file_order):
    order = list(range(COUNT))
    random.Random(11).shuffle(order)
    assert judged_in(medicare, corpus, order, COUNT, workers=2) == in_file_order
