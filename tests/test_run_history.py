"""The history of one run (`RunHistory`) keeps a recorded claim in plain values until its patient is asked
about: the lines it then gives, and the revisions, are those of a history that made every claim's lines as it
was recorded (the claim history file, here in memory), whatever mix of new claims, the same claim again,
replacements, voids and questions comes, and across the move to disk."""

from __future__ import annotations

import datetime
import random
import sys
from pathlib import Path

import pytest

from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.judge import run_history
from payerpolicy.judge.history import ClaimHistory
from payerpolicy.judge.judge import LineView
from payerpolicy.judge.run_history import RunHistory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import generate  # noqa: E402

EVERY_DAY = (datetime.date.min, datetime.date.max)


def _claims(rng: random.Random, count: int) -> list:
    """Claims of few patients, some sent again (the same id), replaced (7) or voided (8)."""
    out = []
    for made in generate.claims(count, rng.randrange(1000), patients=6, days=30):
        if out and rng.random() < 0.3:
            earlier = rng.choice(out)
            made["id"], made["patient"] = earlier["id"], earlier["patient"]
            made["frequency"] = rng.choice(["1", "7", "7", "8"])
        out.append(made)
    return out


def _judged(claim) -> list[LineView]:
    return [LineView(claim, line) for line in claim.lines]


@pytest.mark.parametrize("seed", range(12))
def test_lines_made_when_asked_are_the_lines_made_when_recorded(seed):
    rng = random.Random(seed)
    run = RunHistory(limit=rng.choice([10_000, 25]))  # some runs move to disk on the way
    made_at_once = ClaimHistory(":memory:")
    claims = [claim_from_dict(c) for c in _claims(rng, 80)]
    patients = sorted({claim.patient_id for claim in claims})
    for claim in claims:
        views = _judged(claim) if rng.random() < 0.8 else None
        run.record(claim, payer="medicare", views=views)
        made_at_once.record(claim, payer="medicare")
        if rng.random() < 0.3:  # a question between two records, of some patient
            patient = rng.choice(patients)
            other = rng.choice(claims).id
            assert run.lines(patient, *EVERY_DAY) == made_at_once.lines(patient, *EVERY_DAY)
            assert run.lines(patient, *EVERY_DAY, exclude_claim=other) == made_at_once.lines(
                patient, *EVERY_DAY, exclude_claim=other
            )
            assert (run.revision(patient, other) is None) == (made_at_once.revision(patient, other) is None)
    for patient in patients:
        assert run.lines(patient, *EVERY_DAY) == made_at_once.lines(patient, *EVERY_DAY)
    if run.spilled is None:  # (a run on disk counts no more: it has moved already)
        assert run.count == sum(len(made_at_once.claim_ids(patient)) for patient in patients)
    assert (run.spilled is not None) == (run.limit < 100)


def test_a_claim_whose_patient_is_never_asked_about_makes_no_history_line(monkeypatch):
    made = []

    def counted(*values):
        made.append(values)
        return real(*values)

    real = run_history.HistoryLine
    monkeypatch.setattr(run_history, "HistoryLine", counted)
    run = RunHistory()
    claims = [claim_from_dict(c) for c in generate.claims(200, 5, patients=1_000_000)]
    for claim in claims:
        run.record(claim, payer="medicare", views=_judged(claim))
    assert made == [] and run.count == len({(c.patient_id, c.id) for c in claims})
    first = claims[0]
    lines = run.lines(first.patient_id, *EVERY_DAY)  # asked: made now
    assert [line.number for line in lines if line.claim_id == first.id] == [line.number for line in first.lines]
    assert len(made) == len(lines) > 0


@pytest.mark.parametrize("seed", range(6))
def test_may_hold_says_no_only_for_a_patient_with_no_recorded_claim(seed):
    """The judge asks nothing of the history for a patient it says it holds nothing of (a patient's first
    claim in the run): it must never say so of a patient with lines, whatever was recorded, replaced, voided,
    asked about or moved to disk."""
    rng = random.Random(seed)
    run = RunHistory(limit=rng.choice([10_000, 25]))
    claims = [claim_from_dict(c) for c in _claims(rng, 80)]
    patients = sorted({claim.patient_id for claim in claims})
    recorded: set[str] = set()
    assert not any(run.may_hold(patient) for patient in patients)
    for claim in claims:
        run.record(claim, payer="medicare", views=_judged(claim) if rng.random() < 0.8 else None)
        recorded.add(claim.patient_id)
        if rng.random() < 0.3:
            run.lines(rng.choice(patients), *EVERY_DAY)
        for patient in patients:
            if run.lines(patient, *EVERY_DAY):
                assert run.may_hold(patient)
            if patient not in recorded:
                assert not run.may_hold(patient) or run.spilled is not None
