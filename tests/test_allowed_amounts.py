"""Allowed amounts from a policy's fee schedule (allowed_amounts, policy_fee_schedule), the history keeping
them (claim history schema 2) and the KX threshold counting them across runs.

The fee schedule is the invented one of the Medicare test payer (policies/medicare/tests/fee-schedule: no
figure there is a CMS value): 97110 $300 a unit (PE part $133.33), 97112 $400 ($200), 97530 $400 ($224),
97161 $900 (not reduced by the MPPR), at carrier 01112 locality 05.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
from pathlib import Path

import pytest

from payerpolicy.judge.history import SCHEMA_VERSION, ClaimHistory
from payerpolicy.cli.main import main
from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.diagnostics import PolicyError
from payerpolicy.judge.judge import Judge
from payerpolicy.pipeline import load_program

ROOT = Path(__file__).resolve().parent.parent
FEE_POLICY = ROOT / "policies" / "medicare" / "tests" / "fee-schedule"


@pytest.fixture(scope="module")
def program():
    program, _ = load_program(FEE_POLICY, datetime.date(2026, 12, 1))
    return program


def claim(claim_id, *lines, place_of_service=None, provider="PT"):
    out = {
        "id": claim_id,
        "patient": {"id": "P-A"},
        "provider": {"type": provider},
        "diagnoses": ["R26.81"],
        "lines": [
            {"code": code, "modifiers": list(modifiers), "units": units, "date": date, "charge": 100}
            for code, modifiers, units, date in lines
        ],
    }
    if place_of_service:
        out["place_of_service"] = place_of_service
    return out


def allowed(program, *claims):
    """The allowed amount of every line of the last claim, judged after the others in one run."""
    judge = Judge(program)
    records = [claim_from_dict(c) for c in claims]
    views = [judge.file(r) for r in records]
    for record, lines in zip(records, views):
        judge.decide(record, lines)
    return [view.allowed for view in views[-1]]


def test_mppr_pays_the_highest_pe_unit_in_full_and_half_the_pe_part_of_the_others(program):
    day = claim("A-1", ("97110", ["GP"], 2, "2026-03-02"), ("97112", ["GP"], 2, "2026-03-02"))
    # 97112 has the higher PE RVU: one unit in full, the other less half its PE part ($200): $700.
    # 97110: both units less half of $133.33: $600 - $133.33 = $466.67.
    assert allowed(program, day) == [466.67, 700.0]


def test_the_reduction_runs_across_disciplines_and_leaves_unmarked_codes_alone(program):
    day = claim(
        "A-1",
        ("97110", ["GP"], 1, "2026-03-02"),
        ("97530", ["GO"], 1, "2026-03-02"),
        ("97161", ["GP"], 1, "2026-03-02"),
    )
    # 97530 (OT, PE RVU 0.56) takes the full unit from 97110 (PT); 97161 is not marked (MULT PROC 0).
    assert allowed(program, day) == [233.33, 400.0, 900.0]


def test_assistant_lines_are_paid_85_percent_from_2022(program):
    assert allowed(program, claim("A-CQ", ("97110", ["GP", "CQ"], 1, "2026-03-02"))) == [255.0]
    assert allowed(program, claim("A-CO", ("97530", ["GO", "CO"], 2, "2026-03-02"))) == [584.8]  # $688 x 0.85


def test_facility_place_of_service_takes_the_facility_fee(program):
    assert allowed(program, claim("A-F", ("97110", ["GP"], 1, "2026-03-02"), place_of_service="22")) == [270.0]
    assert allowed(program, claim("A-O", ("97110", ["GP"], 1, "2026-03-02"), place_of_service="11")) == [300.0]


def test_a_code_without_a_fee_or_a_date_outside_the_schedule_has_no_allowed_amount(program):
    judge = Judge(program)
    record = claim_from_dict(claim("A-N", ("97010", ["GP"], 1, "2026-03-02"), ("97110", ["GP"], 1, "2025-03-02")))
    views = judge.file(record)
    judge.decide(record, views)
    assert [v.allowed for v in views] == [None, None]
    assert [v.fee_schedule for v in views] == ["carrier 01112 locality 05, 2026Q1", None]


def test_a_policy_without_a_fee_schedule_prices_nothing():
    program, _ = load_program("medicare", datetime.date(2026, 12, 1))
    assert program.pricing is None
    judge = Judge(program)
    record = claim_from_dict(claim("A-M", ("97110", ["GP"], 1, "2026-03-02")))
    views = judge.file(record)
    judge.decide(record, views)
    assert views[0].allowed is None and views[0].fee_schedule is None


def _run(capsys, tmp_path, name, claims, *options):
    path = tmp_path / name
    path.write_text(json.dumps(claims))
    code = main(["check", str(path), "--policy", str(FEE_POLICY), *options])
    return code, json.loads(capsys.readouterr().out)


def test_the_kx_count_spans_runs_through_the_history_with_allowed_amounts(capsys, tmp_path):
    history = str(tmp_path / "history.sqlite")
    first = [
        claim(f"R-{n}", ("97112", ["GP"], 2, date), ("97110", ["GP"], 2, date))
        for n, date in ((1, "2026-03-02"), (2, "2026-03-09"))
    ]
    code, out = _run(capsys, tmp_path, "march.json", first, "--history", history)
    assert code == 0 and all(c["status"] == "accepted" for c in out["claims"])
    with ClaimHistory(history) as kept:
        stored = kept.lines("P-A", datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))
    assert [line.allowed for line in stored] == [700.0, 466.67, 700.0, 466.67]
    code, out = _run(
        capsys, tmp_path, "april.json", [claim("R-3", ("97110", ["GP"], 1, "2026-04-06"))], "--history", history
    )
    [finding] = [f for f in out["claims"][0]["findings"] if f["rule"] == "medicare.threshold.kx-pt-slp-allowed"]
    assert out["claims"][0]["status"] == "denied" and finding["reason"] == {"group": "PR", "carc": "119"}
    assert "reach $2,633.34" in finding["message"]
    assert "Counted before it: 4 lines on 2 claims of 2026, $2,333.34 allowed" in finding["message"]
    # Without the history, April alone is far under the threshold.
    code, out = _run(capsys, tmp_path, "april-alone.json", [claim("R-3", ("97110", ["GP"], 1, "2026-04-06"))])
    assert out["claims"][0]["status"] == "accepted"


def test_a_history_file_of_schema_1_is_migrated_and_its_lines_count_as_not_priced(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE schema_version (version INTEGER NOT NULL);
        INSERT INTO schema_version VALUES (1);
        CREATE TABLE claims (patient_id TEXT NOT NULL, claim_id TEXT NOT NULL, payer TEXT, frequency TEXT,
            recorded_at TEXT NOT NULL, PRIMARY KEY (patient_id, claim_id)) WITHOUT ROWID;
        CREATE TABLE lines (patient_id TEXT NOT NULL, claim_id TEXT NOT NULL, number INTEGER NOT NULL,
            code TEXT NOT NULL, modifiers TEXT NOT NULL, units INTEGER NOT NULL, charge_cents INTEGER,
            date_of_service TEXT NOT NULL, provider_type TEXT, discipline TEXT, payer TEXT,
            UNIQUE (patient_id, claim_id, number));
        INSERT INTO claims VALUES ('P-A', 'OLD-1', 'medicare', NULL, '2026-01-01T00:00:00+00:00');
        INSERT INTO lines VALUES ('P-A', 'OLD-1', 1, '97110', 'GP', 2, 12000, '2026-01-05', 'PT', 'PT', 'medicare');
    """)
    db.commit()
    db.close()
    with ClaimHistory(path) as history:
        [line] = history.lines("P-A", datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))
        assert line.charge == 120.0 and line.allowed is None
        version = history._db.execute("SELECT version FROM schema_version").fetchone()[0]
    # migrated through 2 (allowed amounts), 3 (the change log), 4 (no covering indexes) to 5 (lines as JSON)
    assert version == SCHEMA_VERSION == 6


BAD_FEES = """\
# payerpolicy reference table: fees
# quarter: 2026Q1
carrier,locality,code,modifier,nonfacility_fee,facility_fee,cms_row
01112,05,97110,,thirty,27.00,x:1
"""


HEAD = "policy: {payer: fee-test, name: Fee test, version: '1', extends: medicare}\n"
RVU = (FEE_POLICY / "reference" / "rvu-2026.csv").read_text()


def load_errors(tmp_path, policy: str, **tables: str) -> str:
    """The rendered errors of loading a payer built on Medicare from `policy` and table files."""
    folder = tmp_path / "payer"
    folder.mkdir()
    (folder / "policy.yaml").write_text(HEAD + policy)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text)
    with pytest.raises(PolicyError) as raised:
        load_program(folder, datetime.date(2026, 12, 1))
    return raised.value.render()


def test_a_bad_fee_schedule_is_reported_with_file_and_line(tmp_path):
    text = load_errors(
        tmp_path,
        "fee_schedule_tables:\n"
        "  - {fees: fees.csv, rvu: rvu.csv, carrier: '01112', locality: '05'}\n"
        "  - {fees: missing.csv, rvu: rvu.csv, carrier: '01112', locality: '05'}\n",
        fees=BAD_FEES,
        rvu=RVU,
    )
    assert "fees.csv:4:1" in text and "the fees of 97110 are not amounts of dollars" in text
    assert "policy.yaml:4:12" in text and "no fee table (`payerpolicy tables import fees`) file" in text


def test_a_locality_the_fee_table_does_not_have_is_reported(tmp_path):
    text = load_errors(
        tmp_path,
        "fee_schedule_tables:\n  - {fees: fees.csv, rvu: rvu.csv, carrier: '01112', locality: '07'}\n",
        fees=(FEE_POLICY / "reference" / "fees-2026.csv").read_text(),
        rvu=RVU,
    )
    assert "E212" in text and "has no fee for carrier 01112 locality 07" in text and "policy.yaml:3" in text


def test_a_setting_with_a_date_that_does_not_exist_is_reported(tmp_path):
    text = load_errors(
        tmp_path,
        "settings:\n  assistant_payment: {modifiers: '@assistant_payment_modifiers', share: 0.85, from: 2022-02-30}\n",
    )
    assert "policy.yaml:3:" in text and "`2022-02-30` is not a real date" in text


def test_an_assistant_payment_setting_naming_no_code_set_is_reported(tmp_path):
    text = load_errors(tmp_path, "settings:\n  assistant_payment: {modifiers: '@assistants', share: 0.85}\n")
    assert "unknown code set `@assistants` in the setting `assistant_payment`" in text
