"""`Policy.check_many` judges with a history that ends with the run: once the input is over, a patient's last
claim of the run is not kept in it, as no claim comes after it to ask. The decisions are those of a judge that
keeps every claim, across small and large windows, replacements and voids; a session (whose judges outlive a
call) still keeps every claim, so its next call sees the last one."""

from __future__ import annotations

import copy
import datetime
import sys
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy.api import OnePolicy
from payerpolicy.judge.run_history import RunHistory
from payerpolicy.run import judge_claims

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402


@pytest.fixture(scope="module")
def medicare():
    return payerpolicy.load("medicare")


def _corpus() -> list[dict]:
    """Patients back every few days (past the KX threshold), some claims replaced or voided."""
    out = []
    for i, claim in enumerate(generate.claims(400, seed=77, patients=30, days=200)):
        out.append(claim)
        if i % 19 == 3:
            out.append({**copy.deepcopy(claim), "frequency": "7"})
        elif i % 23 == 5:
            out.append({**copy.deepcopy(claim), "frequency": "8"})
    return out


def _keeping_every_claim(policy, claims, window):
    routing = OnePolicy(policy)
    routing._judge.history_ends_with_run = False
    return [d.to_dict() for d in judge_claims(claims, routing, window=window)], routing._judge.history


@pytest.mark.parametrize("window", [0, 1, 7, 50, 10_000])
def test_the_last_claims_of_a_run_not_kept_change_no_decision(medicare, window):
    claims = _corpus()
    routing = OnePolicy(medicare)
    assert routing._judge.history_ends_with_run
    ending = [d.to_dict() for d in judge_claims(claims, routing, window=window)]
    keeping, kept = _keeping_every_claim(medicare, claims, window)
    assert ending == keeping
    assert ending == [d.to_dict() for d in medicare.check_many(claims, window=window)]
    history = routing._judge.history
    assert isinstance(history, RunHistory) and isinstance(kept, RunHistory)
    if window >= 50:  # groups left when the input ends: their patients' last claims were left out
        assert history.count < kept.count
    else:  # nearly every group was judged while the input was read, when no claim can be known the last
        assert history.count <= kept.count


def test_a_session_keeps_a_patients_last_claim_for_its_next_call(medicare):
    first = generate.claims(1, seed=5)[0]
    session = payerpolicy.Session(medicare)
    session.check(first)  # the patient's only claim of the call: its last
    (judge,) = session._judges.values()
    assert not judge.history_ends_with_run
    kept = judge.history.lines(first["patient"]["id"], datetime.date.min, datetime.date.max)
    assert {line.claim_id for line in kept} == {first["id"]}
