"""`payerpolicy check --history FILE`: the KX threshold counts claims judged in earlier runs."""

from __future__ import annotations

import json

from payerpolicy.cli.main import main


def claim(claim_id, date, charge, modifiers=("GP",), frequency=None):
    out = {
        "id": claim_id,
        "patient": {"id": "P-9"},
        "referring_npi": "1245319599",
        "provider": {"type": "PT"},
        "diagnoses": ["M54.50"],
        "lines": [
            {"code": "97110", "modifiers": list(modifiers), "units": 2, "minutes": 30, "date": date, "charge": charge}
        ],
    }
    if frequency:
        out["frequency"] = frequency
    return out


def run(capsys, tmp_path, name, claims, *options):
    path = tmp_path / name
    path.write_text(json.dumps(claims))
    code = main(["check", str(path), *options])
    return code, json.loads(capsys.readouterr().out)


def test_a_later_run_counts_the_claims_of_an_earlier_one(capsys, tmp_path):
    history = str(tmp_path / "history.sqlite")
    code, _ = run(capsys, tmp_path, "january.json", [claim("H-1", "2026-01-12", 2000)], "--history", history)
    assert code == 0
    code, out = run(capsys, tmp_path, "march.json", [claim("H-2", "2026-03-09", 600)], "--history", history)
    # By billed charges the threshold is only an estimate, so it warns (the claim is accepted).
    assert code == 0
    [finding] = out["claims"][0]["findings"]
    assert finding["rule"] == "medicare.threshold.kx-pt-slp" and finding["fix"]["value"] == "KX"
    assert finding["severity"] == "warn" and finding["reason"] == {"group": "PR", "carc": "119"}
    # Without the history, March alone is under the threshold.
    code, out = run(capsys, tmp_path, "march-alone.json", [claim("H-2", "2026-03-09", 600)])
    assert code == 0 and out["claims"][0]["findings"] == []


def test_judging_the_same_claims_again_does_not_count_them_twice(capsys, tmp_path):
    history = str(tmp_path / "history.sqlite")
    for _ in range(3):
        code, _ = run(capsys, tmp_path, "january.json", [claim("H-1", "2026-01-12", 1500)], "--history", history)
        assert code == 0  # 1,500 once, not 4,500


def test_a_void_in_a_later_run_takes_a_claim_out_of_the_year(capsys, tmp_path):
    history = str(tmp_path / "history.sqlite")
    run(capsys, tmp_path, "a.json", [claim("H-1", "2026-01-12", 2000)], "--history", history)
    run(capsys, tmp_path, "void.json", [claim("H-1", "2026-01-12", 2000, frequency="8")], "--history", history)
    code, _ = run(capsys, tmp_path, "b.json", [claim("H-3", "2026-03-09", 600)], "--history", history)
    assert code == 0


def test_a_file_that_is_not_a_history_exits_2(capsys, tmp_path):
    bad = tmp_path / "not-a-db.sqlite"
    bad.write_text("this is not SQLite")
    claims = tmp_path / "c.json"
    claims.write_text(json.dumps(claim("H-1", "2026-01-12", 100)))
    assert main(["check", str(claims), "--history", str(bad)]) == 2
    assert "cannot use" in capsys.readouterr().err


def test_a_long_run_moves_its_history_to_disk_with_the_same_answers():
    import datetime

    from payerpolicy.claims.json_claims import claim_from_dict
    from payerpolicy.judge.run_history import RunHistory

    small, large = RunHistory(limit=3), RunHistory()
    claims = [claim_from_dict(claim(f"S-{i}", f"2026-0{1 + i % 9}-10", 100 + i)) for i in range(8)]
    claims.append(claim_from_dict(claim("S-2", "2026-03-10", 999, frequency="7")))  # replaces S-2
    for c in claims:
        small.record(c, payer="medicare")
        large.record(c, payer="medicare")
    assert small.spilled is not None and large.spilled is None
    year = (datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))
    assert small.lines("P-9", *year) == large.lines("P-9", *year)
    assert (
        sum(line.charge for line in large.lines("P-9", *year, exclude_claim="S-0"))
        == sum(100 + i for i in range(1, 8) if i != 2) + 999
    )


def test_a_daily_cap_counts_a_claim_of_the_same_day_sent_in_an_earlier_run(capsys, tmp_path):
    history = str(tmp_path / "history.sqlite")

    def visit(claim_id, units):
        return {
            "id": claim_id,
            "patient": {"id": "P-7"},
            "referring_npi": "1245319599",
            "provider": {"type": "PT"},
            "diagnoses": ["I69.351"],
            "lines": [
                {"code": "97112", "modifiers": ["GP"], "units": units, "minutes": 15 * units, "date": "2026-03-02"}
            ],
        }

    code, _ = run(capsys, tmp_path, "morning.json", [visit("D-1", 3)], "--history", history)
    assert code == 0
    code, out = run(capsys, tmp_path, "afternoon.json", [visit("D-2", 3)], "--history", history)
    assert code == 0  # Medicare's 97112 figure is a practice guideline: a warning counted across the day
    [finding] = out["claims"][0]["findings"]
    assert finding["rule"] == "medicare.unit-cap.97112" and finding["kind"] == "advisory"
    assert "brings the patient's day to 6 units" in finding["message"]


def test_a_history_file_is_readable_by_its_owner_only(capsys, tmp_path):
    import os
    import stat

    history = tmp_path / "history.sqlite"
    code, _ = run(capsys, tmp_path, "claims.json", [claim("H-1", "2026-01-12", 200)], "--history", str(history))
    assert code == 0
    for path in tmp_path.glob("history.sqlite*"):  # the file and any -wal / -shm beside it
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


def test_a_spilled_run_history_leaves_no_file_behind(tmp_path, monkeypatch):
    import datetime
    import tempfile

    from payerpolicy.claims.json_claims import claim_from_dict
    from payerpolicy.judge.run_history import RunHistory

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    history = RunHistory(limit=2)
    for i in range(6):
        history.record(claim_from_dict(claim(f"T-{i}", "2026-02-10", 100)), payer="medicare")
    assert history.spilled is not None
    year = (datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))
    assert len(history.lines("P-9", *year)) == 6
    assert list(tmp_path.iterdir()) == []  # judged from a file that no longer has a name on disk


def test_someone_elses_sqlite_database_is_left_alone(capsys, tmp_path):
    import sqlite3

    other = tmp_path / "accounts.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE invoices (id INTEGER, total REAL)")
    claims = tmp_path / "c.json"
    claims.write_text(json.dumps([claim("H-1", "2026-01-12", 200)]))
    assert main(["check", str(claims), "--history", str(other)]) == 2
    assert "database of something else" in capsys.readouterr().err
    with sqlite3.connect(other) as db:
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["invoices"]


def test_a_history_with_the_right_version_but_wrong_columns_is_refused(capsys, tmp_path):
    import sqlite3

    history = tmp_path / "history.sqlite"
    code, _ = run(capsys, tmp_path, "claims.json", [claim("H-1", "2026-01-12", 200)], "--history", str(history))
    with sqlite3.connect(history) as db:
        db.execute("ALTER TABLE claims ADD COLUMN surprise TEXT")
    claims = tmp_path / "more.json"
    claims.write_text(json.dumps([claim("H-2", "2026-02-12", 200)]))
    assert main(["check", str(claims), "--history", str(history)]) == 2
    assert "columns differ" in capsys.readouterr().err


def test_a_history_that_fails_mid_run_stops_cleanly_with_the_output_closed(capsys, tmp_path, monkeypatch):
    import sqlite3

    from payerpolicy.judge.history import ClaimHistory

    real, calls = ClaimHistory.record, []

    def record(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 2:
            raise sqlite3.OperationalError("database or disk is full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ClaimHistory, "record", record)
    claims = tmp_path / "c.json"
    claims.write_text(json.dumps([claim(f"F-{i}", f"2026-0{i + 1}-10", 100) for i in range(5)]))
    code = main(["check", str(claims), "--history", str(tmp_path / "h.sqlite"), "--window", "0"])
    out, err = capsys.readouterr()
    assert code == 2
    document = json.loads(out)  # closed, well-formed
    assert [c["id"] for c in document["claims"]] == ["F-0", "F-1"]
    assert "could not be written after 2 claims" in err and "disk is full" in err
