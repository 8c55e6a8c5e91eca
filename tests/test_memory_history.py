"""A claim history given as data (`MemoryHistory`) decides as a history file holding the same earlier claims
does: the same findings over the year (the KX threshold crossed by claims of an earlier run), replacements
and voids across runs, and `recorded` says what a run changed, claim by claim."""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy import HistoryLine, MemoryHistory
from payerpolicy.judge.history import ClaimHistory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import generate  # noqa: E402

AS_OF = RECEIVED = datetime.date(2026, 12, 1)


def _runs() -> tuple[list[dict], list[dict]]:
    """An earlier run and a later one: a few patients over 60 days (they pass the year's threshold), the later
    run with a replacement of one earlier claim (fewer units) and a void of another."""
    claims = generate.claims(600, 21, patients=12, days=60)
    earlier = [c for c in claims if c["lines"][0]["date"] < "2026-02-05"]
    later = [c for c in claims if c["lines"][0]["date"] >= "2026-02-05"]
    replaced = json.loads(json.dumps(earlier[5]))
    replaced["frequency"] = "7"
    replaced["lines"][0]["units"] = 1
    voided = dict(json.loads(json.dumps(earlier[9])), frequency="8")
    return earlier, later + [replaced, voided]


def _decide(claims, history) -> list[str]:
    with payerpolicy.Session(as_of=AS_OF, received=RECEIVED, history=history, window=100_000) as session:
        return [json.dumps(d.to_dict()) for d in session.check_many(claims)]


def _file_lines(path: Path, claims: list[dict]) -> set[tuple]:
    patients = {c["patient"]["id"] for c in claims}
    with ClaimHistory(path) as store:
        return {_key(line) for p in patients for line in store.lines(p, datetime.date.min, datetime.date.max)}


def _key(line: HistoryLine) -> tuple:
    return (
        line.patient_id,
        line.claim_id,
        line.number,
        line.code,
        line.modifiers,
        line.units,
        line.charge,
        line.date_of_service,
        line.provider_type,
        line.discipline,
        line.payer,
        line.allowed,
    )


def test_a_later_run_decides_alike_with_the_earlier_claims_in_memory_or_in_a_file(tmp_path):
    earlier, later = _runs()
    path = tmp_path / "history.sqlite"
    _decide(earlier, path)  # the earlier run, recorded in a file (as `check --history` does)
    first = MemoryHistory()
    _decide(earlier, first)  # ... and in memory
    carried = [line for _, _, lines in first.recorded() if lines for line in lines]

    expected = _decide(later, path)
    got = _decide(later, MemoryHistory(carried))
    assert got == expected
    without = _decide(later, None)  # guards the comparison: the earlier run changes the later one's decisions
    changed = [json.loads(a) for a, b in zip(expected, without) if a != b]
    assert any(".kx" in f["rule"] or "threshold" in f["rule"] for d in changed for f in d["findings"]), changed[:1]


def test_recorded_is_what_the_run_changed_and_matches_the_file(tmp_path):
    earlier, later = _runs()
    path = tmp_path / "history.sqlite"
    _decide(earlier, path)
    _decide(later, path)
    first = MemoryHistory()
    _decide(earlier, first)
    second = MemoryHistory(line for _, _, lines in first.recorded() if lines for line in lines)
    _decide(later, second)
    changes = {(p, c): lines for p, c, lines in second.recorded()}
    assert len(changes) == len(later)
    replaced, voided = later[-2], later[-1]
    assert changes[(voided["patient"]["id"], voided["id"])] is None
    assert [line.units for line in changes[(replaced["patient"]["id"], replaced["id"])]][0] == 1
    # the earlier run's lines, less the claims the later run replaced or voided, plus what it recorded: the file
    kept = {(p, c): lines for p, c, lines in first.recorded()}
    kept.update(changes)
    assert {_key(line) for lines in kept.values() if lines for line in lines} == _file_lines(path, earlier + later)


def test_a_history_in_memory_is_one_process_s():
    with pytest.raises(ValueError, match="one process"):
        payerpolicy.Session(history=MemoryHistory(), workers=2)


def test_a_claim_recorded_again_replaces_itself_and_an_unknown_void_is_nothing_to_void():
    claim = payerpolicy.api.as_record(generate.claims(1, 4)[0])
    history = MemoryHistory()
    assert history.record(claim).action == "added"
    again = history.record(claim)
    assert again.action == "replaced" and again.lines_removed == len(claim.lines)
    patient = claim.patient_id
    assert history.claim_ids(patient) == [claim.id]
    assert len(history.lines(patient, datetime.date.min, datetime.date.max)) == len(claim.lines)
    assert history.lines(patient, datetime.date.min, datetime.date.max, exclude_claim=claim.id) == []
    void = payerpolicy.api.as_record(dict(generate.claims(1, 4)[0], id="NEVER-SEEN", frequency="8"))
    assert history.record(void).action == "nothing_to_void"
