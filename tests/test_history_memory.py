"""`check --history-memory MB` / `Session(history_memory=MB)`: how much of the history file's recent patients a
run keeps in memory. A long run whose patients no longer fit reads each one back from the file for every
claim; a budget that holds them all keeps the run flat. The budget never changes a decision: patients dropped
from memory and read back are judged as if they had stayed."""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy import parallel
from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.cli.main import main
from payerpolicy.judge.history import ClaimHistory
from payerpolicy.judge.history_cache import DEFAULT_CACHE_LINES, LINES_PER_MB

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402


def test_a_session_opens_its_history_with_the_memory_asked(tmp_path):
    with payerpolicy.Session("medicare", history=tmp_path / "h.db", history_memory=7) as session:
        assert isinstance(session.history, ClaimHistory)
        assert session.history.cache_lines == 7 * LINES_PER_MB
    with payerpolicy.Session("medicare", history=tmp_path / "h.db") as session:
        assert session.history.cache_lines == DEFAULT_CACHE_LINES
    with pytest.raises(ValueError, match="history_memory must be 1"):
        payerpolicy.Session("medicare", history=tmp_path / "h.db", history_memory=0)


def test_the_memory_changes_no_decision_when_patients_are_dropped_and_read_back(tmp_path, capsys):
    """1 MB holds 4,000 lines: 3,000 claims over 150 patients (some 13,000 lines) drop and read back patients
    all through the run, with the year's counts and the plan of care's dates carried between claims."""
    corpus = tmp_path / "claims.jsonl"
    claims = generate.claims(3000, seed=4242, patients=150, days=300)
    corpus.write_text("".join(json.dumps(claim) + "\n" for claim in claims))
    outputs = []
    for memory in ("1", "500"):
        history = tmp_path / f"history-{memory}.db"
        code = main(
            ["check", "--payer", "medicare", "--format", "json", "--quiet", "--history", str(history)]
            + ["--history-memory", memory, "--window", "50", str(corpus)]
        )
        outputs.append(capsys.readouterr().out)
        assert code in (0, 1)
    assert outputs[0] == outputs[1]
    assert '"medicare.threshold.kx-pt-slp"' in outputs[0]  # the year's counts were read, over many claims


def test_a_patient_read_back_makes_only_the_claims_its_next_claim_needs(tmp_path, capsys, monkeypatch):
    """Claims in the order of their dates, memory for a few patients only: a patient read back from the file
    makes the lines of the claims of the judged day and of those stored since its last claim, not its whole
    record (its counts over the year and the plan of care's dates carry on). Decisions are those of a run
    that kept every patient in memory, and of one without a history file."""
    from payerpolicy.judge import history as history_module

    claims = generate.claims(3000, seed=77, patients=150, days=300)
    claims.sort(key=lambda claim: claim["lines"][0]["date"])
    corpus = tmp_path / "claims.jsonl"
    corpus.write_text("".join(json.dumps(claim) + "\n" for claim in claims))
    read_back = made = 0
    make_lines, read = history_module._claim_lines, history_module.PatientLines.read_back

    def counted_make(stored_claims):
        nonlocal made
        made += len(stored_claims)
        return make_lines(stored_claims)

    def counted_read(stored, make):
        nonlocal read_back
        read_back += len(stored)
        return read(stored, make)

    monkeypatch.setattr(history_module, "_claim_lines", counted_make)
    monkeypatch.setattr(history_module.PatientLines, "read_back", counted_read)
    outputs = []
    for memory in ("1", "500", None):
        options = [] if memory is None else ["--history", str(tmp_path / f"h{memory}.db"), "--history-memory", memory]
        code = main(
            ["check", "--payer", "medicare", "--format", "json", "--quiet", "--window", "50", *options, str(corpus)]
        )
        outputs.append(capsys.readouterr().out)
        assert code in (0, 1)
        if memory == "1":
            assert read_back > 10_000  # claims of patients read back, all through the run
            assert made < read_back / 10
    assert outputs[0] == outputs[1] == outputs[2]
    assert '"medicare.threshold.kx-pt-slp"' in outputs[0]


def test_history_memory_without_a_history_file_is_refused(capsys):
    code = main(["check", "--history-memory", "50", str(ROOT / "examples" / "claims.json")])
    assert code == 2
    assert "--history-memory is the memory of a --history FILE" in capsys.readouterr().err


def test_worker_processes_open_the_history_with_the_same_memory(tmp_path, monkeypatch):
    asked = {}

    def judged_in_parallel(items, prepare, **options):
        asked.update(options)
        return iter(())

    monkeypatch.setattr("payerpolicy.run.judge_in_parallel", judged_in_parallel)
    with payerpolicy.Session(
        "medicare", history=tmp_path / "h.db", history_memory=9, workers=2, serial_below=0
    ) as session:
        list(session.check_many(generate.claims(3, seed=1)))
    assert asked["history_cache_lines"] == 9 * LINES_PER_MB
    opened: list = []
    parallel._open_histories(str(tmp_path / "h.db"), 9 * LINES_PER_MB, opened)
    try:
        assert [history.cache_lines for history in opened] == [9 * LINES_PER_MB]
    finally:
        for history in opened:
            history.close()


def test_a_patient_let_go_for_memory_keeps_the_revision_of_its_lines(tmp_path):
    """Read back after memory let it go, a patient has the same stored lines, its claims in the order memory
    had them: counts over them (program.runtime) and those carried by the order of claims
    (program.record_dates) carry on. After another process wrote the patient, its lines are another revision."""
    records = [claim_from_dict(c) for c in generate.claims(60, patients=3)]
    path = tmp_path / "h.db"
    with ClaimHistory(path, cache_lines=1, batch=1) as history:
        for record in records:
            history.record(record)
        patient = records[0].patient_id
        others = [r for r in records if r.patient_id != patient]
        before = history.revision(patient, "NEW")
        order = list(history._cache.get(patient).claims)
        history.record(others[0])  # another patient's claim: memory lets this one go (1 line kept)
        assert patient not in history._cache
        after = history.revision(patient, "NEW")  # read back from the file
        assert after == before
        assert list(history._cache.get(patient).claims) == order  # (not the file's order of claim ids)
        assert order != sorted(order)
        with ClaimHistory(path) as other_process:
            other_process.record(next(r for r in records if r.patient_id == patient))  # the same claim again
        history.record(others[1])
        assert history.revision(patient, "NEW")[:2] != before[:2]


def test_memory_counts_the_patients_it_read_back_and_the_memory_that_holds_them_all(tmp_path):
    """`Session.history_memory_use()`: patients read back after memory let them go (not the first reading of
    a patient), their lines, and the megabytes that would have held every patient."""
    records = [claim_from_dict(c) for c in generate.claims(60, patients=3)]
    with ClaimHistory(tmp_path / "h.db", cache_lines=1, batch=1) as history:
        for record in records:
            history.record(record)
        assert history.memory_use().read_again > 0  # three patients taking turns in a memory of one line
        use = history.memory_use()
        stored = sum(len(r.lines) for r in records)  # each claim of its own id: every line is stored
        assert use.lines_read_again == 0  # recording new claims makes no stored line
        patients = sorted({r.patient_id for r in records})
        for patient in patients:  # the whole year asked: each patient let go is read back and made whole
            history.lines(patient, datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))
        made = history.memory_use()
        assert made.read_again == use.read_again + len(patients) - 1  # (the last patient recorded was in memory)
        # every line of the patients let go, and of the last one's claims read back before its last claim
        last = records[-1].patient_id
        assert stored > made.lines_read_again >= sum(len(r.lines) for r in records if r.patient_id != last)
        assert use.wanted_mb == -(-stored // LINES_PER_MB) and not use.at_least
    with ClaimHistory(tmp_path / "h.db") as history:  # memory enough: patients are read once, never again
        for record in records:
            history.revision(record.patient_id, "NEW")
        assert history.memory_use().read_again == 0
    with payerpolicy.Session("medicare") as session:
        assert session.history_memory_use() is None  # no history file
    with payerpolicy.Session("medicare", history=tmp_path / "h.db", history_memory=1) as session:
        list(session.check_many(generate.claims(200, seed=7, patients=20)))
        assert session.history_memory_use() == session.history.memory_use()


def _run(tmp_path, capsys, memory: str) -> tuple[str, str]:
    corpus = tmp_path / "claims.jsonl"
    if not corpus.exists():
        claims = generate.claims(2000, seed=4242, patients=100, days=300)
        corpus.write_text("".join(json.dumps(claim) + "\n" for claim in claims))
    history = tmp_path / f"history-{memory}.db"
    code = main(
        ["check", "--payer", "medicare", "--format", "json", "--history", str(history)]
        + ["--history-memory", memory, "--window", "50", str(corpus)]
    )
    assert code in (0, 1)
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_check_tells_a_run_whose_history_memory_was_too_small_what_would_hold_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("payerpolicy.cli.main.ADVICE_AFTER", 100)  # a small run, to keep the test quick
    small_out, small_err = _run(tmp_path, capsys, "1")
    note = small_err.strip()
    assert note.startswith("payerpolicy: note: --history-memory 1 was too small for this run: ")
    read_again = int(note.split("run: ")[1].split(" times")[0].replace(",", ""))
    assert read_again >= 200  # 2,000 claims of 100 patients in memory for 4,000 lines
    wanted = int(note.split("fit in about ")[1].split(" MB")[0])
    assert f"--history-memory {-(-wanted // 10) * 10} would hold them all" in note
    enough_out, enough_err = _run(tmp_path, capsys, str(-(-wanted // 10) * 10))
    assert enough_err == ""  # it held them all: nothing to say
    assert enough_out == small_out  # and the memory changed no decision


def test_the_memory_note_is_for_runs_it_slowed_down():
    from payerpolicy import HistoryMemoryUse
    from payerpolicy.cli.main import memory_advice

    assert memory_advice(None, 10, "h.db", None) is None  # no history file
    assert memory_advice(HistoryMemoryUse(999, 9_000, 40, False), 2_000, "h.db", None) is None  # too few
    assert memory_advice(HistoryMemoryUse(5_000, 9_000, 40, False), 100_000, "h.db", None) is None  # 5% of claims
    note = memory_advice(HistoryMemoryUse(30_000, 6_000_000, 1_234, True), 100_000, "day.sqlite", None)
    assert note is not None
    assert "the default --history-memory (100 MB) was too small" in note
    assert "30,000 times" in note and "day.sqlite" in note and "6,000,000 of their lines" in note
    assert "at least about 1,234 MB: --history-memory 1300 would hold them all" in note
