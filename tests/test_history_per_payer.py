"""A history per payer (`Session(history={payer: file, "*": file})`): each payer's claims are judged against,
and recorded in, its own file; a payer with none is judged without history."""

from __future__ import annotations

import pytest

import payerpolicy
from payerpolicy.judge.history import ClaimHistory


def claim(claim_id: str, payer: str, patient: str, date: str = "2026-03-02") -> dict:
    return {
        "id": claim_id,
        "payer": payer,
        "patient": {"id": patient},
        "referring_npi": "1245319599",
        "provider": {"npi": "1234567893", "type": "PT"},
        "diagnoses": ["I69.351"],
        "lines": [{"code": "97110", "modifiers": ["GP"], "units": 1, "minutes": 15, "date": date}],
    }


def recorded(path, patient: str) -> list[str]:
    with ClaimHistory(path) as history:
        return history.claim_ids(patient)


def test_each_payers_claims_go_to_its_own_file_and_a_payer_without_one_to_none(tmp_path):
    medicare, commercial = tmp_path / "medicare.sqlite", tmp_path / "commercial.sqlite"
    claims = [claim("M-1", "medicare", "P-1"), claim("E-1", "example-commercial", "P-1")]
    with payerpolicy.Session(history={"medicare": medicare}) as session:
        assert [d.status for d in session.check_many(claims)] != []
    assert recorded(medicare, "P-1") == ["M-1"]  # the commercial claim was judged without history

    with payerpolicy.Session(history={"example-commercial": commercial, "*": medicare}) as session:
        list(
            session.check_many(
                [claim("M-2", "medicare", "P-1", "2026-03-03"), claim("E-2", "example-commercial", "P-1", "2026-03-03")]
            )
        )
    assert sorted(recorded(medicare, "P-1")) == ["M-1", "M-2"]
    assert recorded(commercial, "P-1") == ["E-2"]


def test_a_payers_history_counts_only_its_own_claims(tmp_path):
    # The commercial plan pays 20 visits a year; 20 visits recorded under Medicare do not count against it.
    medicare, commercial = tmp_path / "medicare.sqlite", tmp_path / "commercial.sqlite"
    visits = [claim(f"V-{day}", "medicare", "P-9", f"2026-02-{day:02d}") for day in range(1, 21)]
    with payerpolicy.Session(history={"medicare": medicare, "example-commercial": commercial}) as session:
        list(session.check_many(visits))
        alone = session.check(claim("E-21", "example-commercial", "P-9", "2026-03-02"))
    assert "example-commercial.visits.yearly-limit" not in [f.rule for f in alone.findings]
    shared = tmp_path / "shared.sqlite"
    with payerpolicy.Session(history={"*": shared}) as session:
        list(session.check_many([{**v, "payer": "example-commercial"} for v in visits]))
        over = session.check(claim("E-21", "example-commercial", "P-9", "2026-03-02"))
    assert "example-commercial.visits.yearly-limit" in [f.rule for f in over.findings]


def test_two_payers_named_to_one_file_share_it_and_workers_need_one_file(tmp_path):
    shared = tmp_path / "shared.sqlite"
    with payerpolicy.Session(history={"medicare": shared, "example-commercial": str(shared)}) as session:
        list(session.check_many([claim("M-1", "medicare", "P-1"), claim("E-1", "example-commercial", "P-1")]))
    assert sorted(recorded(shared, "P-1")) == ["E-1", "M-1"]
    with pytest.raises(ValueError, match="one history file"):
        payerpolicy.Session(history={"*": shared}, workers=2)
