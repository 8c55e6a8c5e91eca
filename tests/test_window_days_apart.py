"""A patient's claims on days of their own within the window (no shared patient-day, no shared claim id) are
judged claim by claim, as a claim on its own (`judge.window.days_apart`), instead of all filed in the day
book. Through the command line, with the run's own history and with a history file, both roads give the same
output, byte for byte, and the same history rows: the Medicare KX threshold counted over the patient's year,
replacements and voids of a claim id, and claims sharing a patient-day (those still go the day book's road)."""

from __future__ import annotations

import copy
import datetime
import json
import sqlite3
import sys
from pathlib import Path

import pytest

from payerpolicy.cli.main import main
from payerpolicy.judge import window

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402


def corpus() -> list[dict]:
    """A dense population (patients back every few days over the year, past the KX threshold), with
    replacements and voids of some claim ids, near their original (same group) and far after it (a later
    group), and claims on a day another claim of the patient already has."""
    claims = generate.claims(500, seed=1616, patients=25, days=300)
    out = []
    for i, claim in enumerate(claims):
        out.append(claim)
        if i % 23 == 5:  # a replacement right after its original: one group, one claim id
            out.append({**copy.deepcopy(claim), "frequency": "7"})
        elif i % 29 == 7:  # a void of it
            out.append({**copy.deepcopy(claim), "frequency": "8"})
        elif i % 37 == 11:  # a replacement that moves the claim a day later: one claim id on two days
            moved = {**copy.deepcopy(claim), "frequency": "7"}
            for line in moved["lines"]:
                line["date"] = str(datetime.date.fromisoformat(line["date"]) + datetime.timedelta(days=1))
            out.append(moved)
        elif i % 31 == 9:  # another claim of the patient on the same day
            out.append({**copy.deepcopy(claim), "id": claim["id"] + "-b"})
    for claim in claims[:40:9]:  # replacements long after their original (other groups)
        out.append({**copy.deepcopy(claim), "frequency": "7"})
    return out


def run(capsys, tmp_path, *options) -> tuple:
    claims = tmp_path / "claims.jsonl"
    if not claims.exists():
        claims.write_text("".join(json.dumps(c) + "\n" for c in corpus()))
    code = main(["check", "--window", "12", *map(str, options), str(claims)])
    out, err = capsys.readouterr()
    return code, out, err


def rows(path: Path) -> list:
    db = sqlite3.connect(path)
    try:
        query = "SELECT patient_id, claim_id, payer, frequency, lines_json FROM claims ORDER BY patient_id, claim_id"
        return db.execute(query).fetchall()
    finally:
        db.close()


@pytest.mark.parametrize("history", [False, True])
def test_claims_on_days_apart_are_judged_as_the_day_book_judges_them(capsys, tmp_path, monkeypatch, history):
    roads = {"apart": 0, "together": 0}
    apart = window.days_apart

    def counted(entries):
        result = apart(entries)
        roads["apart" if result else "together"] += 1
        return result

    outputs, stored = {}, {}
    for road, days_apart in (("claim by claim", counted), ("day book", lambda entries: False)):
        monkeypatch.setattr(window, "days_apart", days_apart)
        path = tmp_path / f"history-{road}.sqlite"
        options = ("--history", path) if history else ()
        outputs[road] = run(capsys, tmp_path, *options)
        if history:
            stored[road] = rows(path)
    assert outputs["claim by claim"] == outputs["day book"]
    assert roads["apart"] > 20 and roads["together"] > 10  # both roads were taken by groups of several claims
    out = outputs["day book"][1]
    assert "medicare.threshold.kx-pt-slp" in out  # the year was counted
    if history:
        assert stored["claim by claim"] == stored["day book"]
        assert sum(len(json.loads(lines)) for *_, lines in stored["day book"]) > 1000  # stored lines
