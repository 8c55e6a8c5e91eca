"""The claim history store: recording, the queries rules need, never counting a claim twice, and several
processes writing one file at once."""

from __future__ import annotations

import datetime
import os
import json
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy.claims.values import therapy_discipline
from payerpolicy.judge.history import SCHEMA_VERSION, ClaimHistory, HistoryError
from payerpolicy.claims.model import Claim, Provider, ServiceLine

D = datetime.date
PT = Provider("1234567893", "PT")


def line(number, code, day, units=1, modifiers=("GP",), charge=None, provider=None):
    return ServiceLine(
        number=number,
        code=code,
        date_of_service=day,
        units=units,
        modifiers=tuple(modifiers),
        charge=charge,
        provider=provider,
    )


def claim(claim_id, *lines, patient="P-1", frequency=None, payer="medicare", provider=PT):
    return Claim(
        id=claim_id, patient_id=patient, lines=tuple(lines), payer=payer, provider=provider, frequency=frequency
    )


@pytest.fixture
def history(tmp_path):
    with ClaimHistory(tmp_path / "history.db") as h:
        yield h


# -- recording and querying ------------------------------------------------------------------------------


def test_lines_are_stored_with_what_rules_need(history):
    history.record(
        claim(
            "C-1",
            line(1, "97112", D(2026, 3, 2), 2, ("GP", "CQ"), 120.0, Provider(None, "PTA")),
            line(2, "97110", D(2026, 3, 2), 1, ("GP",), 60.5),
        )
    )
    stored = history.lines("P-1", D(2026, 1, 1), D(2026, 12, 31))
    assert [
        (
            s.claim_id,
            s.number,
            s.code,
            s.modifiers,
            s.units,
            s.charge,
            s.date_of_service,
            s.provider_type,
            s.discipline,
            s.payer,
        )
        for s in stored
    ] == [
        ("C-1", 1, "97112", ("GP", "CQ"), 2, 120.0, D(2026, 3, 2), "PTA", "PT", "medicare"),
        ("C-1", 2, "97110", ("GP",), 1, 60.5, D(2026, 3, 2), "PT", "PT", "medicare"),
    ]


def test_day_units_span_claims_sent_separately(history):
    history.record(claim("C-1", line(1, "97112", D(2026, 3, 2), 2), line(2, "97110", D(2026, 3, 2), 1)))
    history.record(claim("C-2", line(1, "97112", D(2026, 3, 2), 3), line(2, "97112", D(2026, 3, 3), 4)))
    assert history.day_units("P-1", D(2026, 3, 2), ["97112"]) == 5
    assert history.day_units("P-1", D(2026, 3, 2)) == 6  # every code
    assert history.day_units("P-1", D(2026, 3, 2), ["97112"], exclude_claim="C-2") == 2
    assert history.day_units("P-1", D(2026, 3, 2), []) == 0
    assert history.day_units("P-2", D(2026, 3, 2), ["97112"]) == 0


def test_visits_count_distinct_dates_of_service(history):
    history.record(claim("C-1", line(1, "97112", D(2026, 3, 2)), line(2, "97110", D(2026, 3, 2))))
    history.record(claim("C-2", line(1, "97112", D(2026, 3, 2)), line(2, "97530", D(2026, 3, 4), modifiers=["GO"])))
    history.record(claim("C-3", line(1, "97112", D(2025, 12, 30))))
    assert history.visits("P-1", 2026) == 2
    assert history.visits("P-1", 2026, disciplines=["OT"]) == 1
    assert history.visits("P-1", 2026, exclude_claim="C-2") == 1
    assert history.visits("P-1", 2025) == 1


def test_payer_narrows_every_query(history):
    history.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 2, charge=100.0), payer="medicare"))
    history.record(claim("C-2", line(1, "97110", D(2026, 3, 2), 1, charge=40.0), payer="aetna"))
    assert history.year_to_date_charges("P-1", 2026, ["PT"], payer="medicare") == 100.0
    assert history.year_to_date_charges("P-1", 2026, ["PT"]) == 140.0
    assert history.day_units("P-1", D(2026, 3, 2), ["97110"], payer="aetna") == 1
    assert history.visits("P-1", 2026, payer="cigna") == 0
    # the payer given to record (the policy that judged the claim) wins over the claim's own
    history.record(claim("C-3", line(1, "97110", D(2026, 3, 3), charge=10.0), payer=None), payer="medicare")
    assert history.year_to_date_charges("P-1", 2026, ["PT"], payer="medicare") == 110.0


def test_charges_add_up_in_cents(history):
    history.record(claim("C-1", *[line(n, "97110", D(2026, 1, n), charge=0.1) for n in range(1, 31)]))
    assert history.year_to_date_charges("P-1", 2026, ["PT"]) == 3.0  # 30 * 0.1 in floats is 3.0000000000000004
    history.record(claim("C-2", line(1, "97110", D(2026, 2, 1), charge=None)))  # no charge counts 0
    assert history.year_to_date_charges("P-1", 2026, ["PT"]) == 3.0


# -- never counted twice ---------------------------------------------------------------------------------


def test_replacement_replaces_every_earlier_version(history):
    history.record(
        claim("C-1", line(1, "97110", D(2026, 3, 2), 4, charge=200.0), line(2, "97112", D(2026, 3, 2), 1, charge=50.0))
    )
    done = history.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 3, charge=150.0), frequency="7"))
    assert (done.action, done.lines_stored, done.lines_removed) == ("replaced", 1, 2)
    history.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 2, charge=100.0), frequency="7"))
    assert history.claim_ids("P-1") == ["C-1"]
    assert history.day_units("P-1", D(2026, 3, 2)) == 2
    assert history.year_to_date_charges("P-1", 2026, ["PT"]) == 100.0


def test_replacement_of_an_unknown_claim_is_added(history):
    done = history.record(claim("C-9", line(1, "97110", D(2026, 3, 2)), frequency="7"))
    assert done.action == "added"
    assert history.claim_ids("P-1") == ["C-9"]


def test_replacement_touches_only_the_same_patient(history):
    history.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 2), patient="P-1"))
    history.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 3), patient="P-2", frequency="7"))
    assert history.day_units("P-1", D(2026, 3, 2)) == 2
    assert history.day_units("P-2", D(2026, 3, 2)) == 3


def test_void_removes_the_claim(history):
    history.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 2, charge=80.0)))
    history.record(claim("C-2", line(1, "97110", D(2026, 3, 2), 1, charge=40.0)))
    done = history.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 2, charge=80.0), frequency="8"))
    assert (done.action, done.lines_stored, done.lines_removed) == ("voided", 0, 1)
    assert history.claim_ids("P-1") == ["C-2"]
    assert history.day_units("P-1", D(2026, 3, 2)) == 1
    assert history.year_to_date_charges("P-1", 2026, ["PT"]) == 40.0
    again = history.record(claim("C-1", frequency="8"))  # a void of what is not there changes nothing
    assert again.action == "nothing_to_void"
    assert history.claim_ids("P-1") == ["C-2"]


def test_an_original_sent_twice_replaces_its_first_copy(history):
    """Decision: an original (1 or no code) whose id is already stored replaces it, so judging one file
    twice, or re-judging a fixed claim, never double counts and never fails."""
    first = claim("C-1", line(1, "97110", D(2026, 3, 2), 2, charge=100.0))
    history.record(first)
    done = history.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 2, charge=100.0), frequency="1"))
    assert done.action == "replaced"
    assert history.claim_ids("P-1") == ["C-1"]
    assert history.day_units("P-1", D(2026, 3, 2)) == 2
    assert history.year_to_date_charges("P-1", 2026, ["PT"]) == 100.0
    assert history.visits("P-1", 2026) == 1


def test_exclude_claim_judges_a_resubmission_without_its_earlier_version(history):
    history.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 3, charge=300.0)))
    history.record(claim("C-2", line(1, "97110", D(2026, 3, 2), 1, charge=100.0)))
    # the engine judging a replacement of C-1 asks what else is there
    assert history.day_units("P-1", D(2026, 3, 2), ["97110"], exclude_claim="C-1") == 1
    assert history.year_to_date_charges("P-1", 2026, ["PT"], exclude_claim="C-1") == 100.0
    assert [s.claim_id for s in history.lines("P-1", D(2026, 1, 1), D(2026, 12, 31), exclude_claim="C-1")] == ["C-2"]


def test_unsupported_frequency_is_refused_and_changes_nothing(history):
    history.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 2)))
    with pytest.raises(HistoryError, match="frequency code '6'"):
        history.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 4), frequency="6"))
    assert history.day_units("P-1", D(2026, 3, 2)) == 2


def test_a_claim_that_cannot_be_stored_leaves_the_earlier_version(history):
    history.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 2)))
    with pytest.raises(HistoryError, match="line number 1 appears twice"):
        history.record(
            claim("C-1", line(1, "97110", D(2026, 3, 2), 4), line(1, "97112", D(2026, 3, 2), 1), frequency="7")
        )
    with pytest.raises(HistoryError, match="discipline 'XX'"):
        history.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 4), frequency="7"), discipline_of=lambda c, l: "XX")
    assert history.day_units("P-1", D(2026, 3, 2)) == 2


def test_a_failed_transaction_rolls_back_the_removal(history, monkeypatch):
    history.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 2)))
    history.record(claim("C-2", line(1, "97110", D(2026, 3, 2), 1)))
    # A replacement whose insert fails after the old version was deleted: the claim id C-1's new version
    # collides with nothing, so force the failure with a trigger.
    history._db.execute("CREATE TEMP TRIGGER fail BEFORE INSERT ON claims BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(sqlite3.DatabaseError, match="disk full"):
        history.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 4), frequency="7"))
    history._db.execute("DROP TRIGGER fail")
    assert history.claim_ids("P-1") == ["C-1", "C-2"]
    assert history.day_units("P-1", D(2026, 3, 2)) == 3
    history.record(claim("C-3", line(1, "97110", D(2026, 3, 2), 1)))  # the connection is usable again
    assert history.day_units("P-1", D(2026, 3, 2)) == 4


# -- calendar years and disciplines ----------------------------------------------------------------------


def test_year_boundaries(history):
    history.record(
        claim("C-1", line(1, "97110", D(2025, 12, 31), charge=100.0), line(2, "97110", D(2026, 1, 1), charge=10.0))
    )
    history.record(
        claim("C-2", line(1, "97110", D(2026, 12, 31), charge=1.0), line(2, "97110", D(2027, 1, 1), charge=1000.0))
    )
    assert history.year_to_date_charges("P-1", 2025, ["PT"]) == 100.0
    assert history.year_to_date_charges("P-1", 2026, ["PT"]) == 11.0
    assert history.year_to_date_charges("P-1", 2027, ["PT"]) == 1000.0
    assert history.visits("P-1", 2026) == 2
    assert [s.date_of_service for s in history.lines("P-1", D(2025, 12, 31), D(2026, 1, 1))] == [
        D(2025, 12, 31),
        D(2026, 1, 1),
    ]


def test_pt_and_slp_count_together_and_ot_alone(history):
    history.record(
        claim(
            "C-1",
            line(1, "97110", D(2026, 2, 1), modifiers=["GP"], charge=1000.0),
            line(2, "92507", D(2026, 2, 1), modifiers=["GN"], charge=700.0),
            line(3, "97535", D(2026, 2, 1), modifiers=["GO"], charge=500.0),
            line(4, "99213", D(2026, 2, 1), modifiers=[], charge=90.0, provider=Provider(None, "MD")),
        )
    )
    assert history.year_to_date_charges("P-1", 2026, ["PT", "SLP"]) == 1700.0
    assert history.year_to_date_charges("P-1", 2026, ["OT"]) == 500.0
    assert history.year_to_date_charges("P-1", 2026, "SLP") == 700.0  # one discipline as a plain string
    assert history.year_to_date_charges("P-1", 2026, []) == 0.0
    with pytest.raises(HistoryError, match="unknown therapy discipline 'ST'"):
        history.year_to_date_charges("P-1", 2026, ["ST"])


@pytest.mark.parametrize(
    "modifiers, claim_type, line_type, expected",
    [
        (["GP"], "OT", None, "PT"),  # the plan-of-care modifier decides over the provider
        (["GO"], "PT", None, "OT"),
        (["GN"], None, None, "SLP"),
        (["59", "GO", "GP"], None, None, "OT"),  # more than one: the first listed wins
        ([], "PT", None, "PT"),
        ([], "PTA", None, "PT"),
        ([], "OT", None, "OT"),
        ([], "OTA", None, "OT"),
        ([], "SLP", None, "SLP"),
        ([], "PT", "SLP", "SLP"),  # the line's own provider overrides the claim's
        ([], "DC", None, None),
        ([], "MD", None, None),
        ([], None, None, None),
        (["gp"], None, None, "PT"),
        ([], "pta", None, "PT"),
    ],
)
def test_therapy_discipline(modifiers, claim_type, line_type, expected):
    the_line = line(
        1, "97110", D(2026, 1, 5), modifiers=modifiers, provider=Provider(None, line_type) if line_type else None
    )
    the_claim = claim("C-1", the_line, provider=Provider("1234567893", claim_type) if claim_type else None)
    assert therapy_discipline(the_claim, the_line) == expected


def test_discipline_of_can_be_replaced(history):
    history.record(claim("C-1", line(1, "97110", D(2026, 1, 5), charge=10.0)), discipline_of=lambda c, l: "OT")
    assert history.year_to_date_charges("P-1", 2026, ["OT"]) == 10.0


def test_kx_threshold_crossing_in_service_order(history):
    """How the engine will use `before`: the KX threshold is crossed by the line whose earlier total plus its
    own charge passes the amount; the order is date of service, then claim id, whatever the arrival order."""
    # The figures live in the Medicare policy (policies/medicare/threshold.yaml), not in Python.
    values = payerpolicy.load("medicare").program.policy.values
    threshold = values["kx_threshold"][2024]
    assert (threshold, values["targeted_review"]) == (2330, 3000)
    # sent out of order: the June claim first
    history.record(claim("C-JUN", line(1, "97110", D(2024, 6, 1), charge=500.0)))
    history.record(claim("C-MAR-B", line(1, "92507", D(2024, 3, 1), modifiers=["GN"], charge=1000.0)))
    history.record(claim("C-MAR-A", line(1, "97110", D(2024, 3, 1), charge=1000.0)))
    history.record(claim("C-OT", line(1, "97535", D(2024, 1, 2), modifiers=["GO"], charge=2000.0)))
    pt_slp = ("PT", "SLP")
    assert history.year_to_date_charges("P-1", 2024, pt_slp, before=(D(2024, 3, 1), "C-MAR-A")) == 0.0
    assert history.year_to_date_charges("P-1", 2024, pt_slp, before=(D(2024, 3, 1), "C-MAR-B")) == 1000.0
    before_june = history.year_to_date_charges("P-1", 2024, pt_slp, before=(D(2024, 6, 1), "C-JUN"))
    assert before_june == 2000.0 and before_june + 500.0 > threshold  # the June line needs KX
    assert history.year_to_date_charges("P-1", 2024, ("OT",)) == 2000.0  # OT under its own threshold


# -- the file ----------------------------------------------------------------------------------------------


def test_history_persists_across_reopening(tmp_path):
    path = tmp_path / "history.db"
    with ClaimHistory(path) as h:
        h.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 2, charge=100.0)))
    with ClaimHistory(str(path)) as h:
        assert h.claim_ids("P-1") == ["C-1"]
        assert h.year_to_date_charges("P-1", 2026, ["PT"]) == 100.0
        h.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 1, charge=50.0), frequency="7"))
    with ClaimHistory(path) as h:
        assert h.day_units("P-1", D(2026, 3, 2)) == 1


def test_file_is_wal_with_a_schema_version(tmp_path):
    path = tmp_path / "history.db"
    ClaimHistory(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    db.commit()
    db.close()
    with pytest.raises(HistoryError, match="newer than this payerpolicy understands"):
        ClaimHistory(path)


def test_in_memory_history(tmp_path):
    with ClaimHistory(":memory:") as h:
        h.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 2)))
        assert h.day_units("P-1", D(2026, 3, 2)) == 2


def test_a_writer_waits_for_another_writer_instead_of_failing(tmp_path):
    path = tmp_path / "history.db"
    ClaimHistory(path).close()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process in the middle of its transaction
    threading.Timer(0.5, lambda: holder.execute("COMMIT")).start()
    started = time.monotonic()
    with ClaimHistory(path) as h:
        h.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 2)))
        assert h.claim_ids("P-1") == ["C-1"]
    assert time.monotonic() - started >= 0.4
    holder.close()


# -- several processes at once ---------------------------------------------------------------------------

WORKER = textwrap.dedent("""
    import datetime, os, sys, time
    from payerpolicy.judge.history import ClaimHistory
    from payerpolicy.claims.model import Claim, Provider, ServiceLine

    path, worker, claims, shared, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    while not os.path.exists(go):  # start together, so the writes really overlap (and the file is new)
        time.sleep(0.005)
    D = datetime.date

    def claim(claim_id, patient, charge, frequency=None):
        day = D(2026, 1, 1) + datetime.timedelta(days=int(claim_id.rsplit("-", 1)[1]) % 365)
        lines = (ServiceLine(1, "97110", day, 1, ("GP",), charge=charge),
                 ServiceLine(2, "97530", day, 1, ("GO",), charge=1.0))
        return Claim(claim_id, patient, lines, "medicare", Provider("1234567893", "PT"), frequency=frequency)

    patient = f"W{worker}"
    with ClaimHistory(path) as history:
        for k in range(claims):                       # originals
            history.record(claim(f"C{worker}-{k}", patient, 10.0))
        for k in range(0, claims, 4):                 # some originals sent a second time
            history.record(claim(f"C{worker}-{k}", patient, 10.0))
        for k in range(0, claims, 3):                 # replacements with a new charge
            history.record(claim(f"C{worker}-{k}", patient, 20.0, "7"))
        for k in range(0, claims, 5):                 # voids
            history.record(claim(f"C{worker}-{k}", patient, 0.0, "8"))
        for k in range(shared):                       # every worker replaces the same shared claims
            history.record(claim(f"S-{k}", "SHARED", 100.0 + worker, "7"))
    print("done")
""")


def test_several_processes_write_one_file_and_nothing_is_lost_or_doubled(tmp_path):
    workers, claims, shared = 6, 120, 10
    path, go = tmp_path / "history.db", tmp_path / "go"
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(path), str(w), str(claims), str(shared), str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    time.sleep(0.3)  # let every interpreter start and wait at the line
    go.touch()
    results = [p.communicate(timeout=60) for p in procs]
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0 and out.strip() == "done", err
        assert "locked" not in err

    kept = [k for k in range(claims) if k % 5]
    with ClaimHistory(path) as history:
        for w in range(workers):
            patient = f"W{w}"
            assert history.claim_ids(patient) == sorted(f"C{w}-{k}" for k in kept)
            stored = history.lines(patient, D(2026, 1, 1), D(2026, 12, 31))
            assert len(stored) == 2 * len(kept)  # every claim exactly once, both lines
            expected_pt = sum(20.0 if k % 3 == 0 else 10.0 for k in kept)
            assert history.year_to_date_charges(patient, 2026, ["PT"]) == expected_pt
            assert history.year_to_date_charges(patient, 2026, ["OT"]) == float(len(kept))
        assert history.claim_ids("SHARED") == [f"S-{k}" for k in range(shared)]
        shared_lines = history.lines("SHARED", D(2026, 1, 1), D(2026, 12, 31))
        assert len(shared_lines) == 2 * shared  # one version of each, whoever wrote last
        assert {s.charge for s in shared_lines if s.number == 1} <= {100.0 + w for w in range(workers)}


# -- batches, the memory of recent patients, and a run killed mid-way -------------------------------------


def test_a_batch_counts_at_once_and_is_written_together(tmp_path):
    path = tmp_path / "history.db"
    with ClaimHistory(path, batch=10) as h:
        for k in range(4):
            h.record(claim(f"C-{k}", line(1, "97110", D(2026, 3, 2 + k), 1, charge=10.0)))
        assert len(h.lines("P-1", D(2026, 1, 1), D(2026, 12, 31))) == 4  # counted before they are written
        assert h.unwritten == 4
        with ClaimHistory(path) as other:
            assert other.claim_ids("P-1") == []  # ... and written only together
        h.flush()
        with ClaimHistory(path) as other:
            assert other.claim_ids("P-1") == [f"C-{k}" for k in range(4)]
        h.record(claim("C-0", frequency="8"))
    with ClaimHistory(path) as h:  # closing wrote the void
        assert h.claim_ids("P-1") == ["C-1", "C-2", "C-3"]


def test_another_process_writing_a_patient_drops_it_from_memory(tmp_path):
    path = tmp_path / "history.db"
    with ClaimHistory(path) as mine, ClaimHistory(path) as theirs:
        mine.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 1, charge=10.0)))
        mine.record(claim("C-9", line(1, "97110", D(2026, 3, 2), 1), patient="P-2"))
        assert [s.claim_id for s in mine.lines("P-1", D(2026, 1, 1), D(2026, 12, 31))] == ["C-1"]
        assert [s.claim_id for s in theirs.lines("P-1", D(2026, 1, 1), D(2026, 12, 31))] == ["C-1"]
        theirs.record(claim("C-2", line(1, "97110", D(2026, 3, 3), 1, charge=20.0)))
        theirs.record(claim("C-1", line(1, "97110", D(2026, 3, 2), 1, charge=30.0), frequency="7"))
        assert [(s.claim_id, s.charge) for s in mine.lines("P-1", D(2026, 1, 1), D(2026, 12, 31))] == [
            ("C-1", 30.0),
            ("C-2", 20.0),
        ]
        assert "P-2" in mine._cache  # a patient nobody else wrote stays in memory


def _stored(path) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        claims = db.execute("SELECT claim_id, lines_json FROM claims").fetchall()
        # each line as [number, code, modifiers, units, charge_cents, ...] (`history._lines_json`)
        return sorted((claim_id, line[0], line[4]) for claim_id, text in claims for line in json.loads(text))
    finally:
        db.close()


def test_a_claim_another_process_wrote_after_it_was_read_is_replaced_not_doubled(tmp_path):
    # Writing a batch deletes nothing for a claim its memory of the patient does not have; another process
    # may have written that claim since the patient was read: then it is replaced all the same.
    path = tmp_path / "history.db"
    with ClaimHistory(path, batch=10) as mine, ClaimHistory(path) as theirs:
        assert mine.lines("P-1", D(2026, 1, 1), D(2026, 12, 31)) == []  # P-1 in memory, with no claim
        theirs.record(claim("C-1", line(1, "97110", D(2026, 3, 2), charge=10.0), line(2, "97112", D(2026, 3, 2))))
        mine.record(claim("C-1", line(1, "97110", D(2026, 3, 2), charge=30.0)))
        mine.record(claim("C-2", line(1, "97110", D(2026, 3, 3), charge=20.0)))
        mine.flush()
    assert _stored(path) == [("C-1", 1, 3000), ("C-2", 1, 2000)]


def test_one_batch_holding_two_versions_of_a_claim_writes_the_last(tmp_path):
    path = tmp_path / "history.db"
    with ClaimHistory(path, batch=10) as h:
        h.record(claim("C-1", line(1, "97110", D(2026, 3, 2), charge=10.0), line(2, "97112", D(2026, 3, 2))))
        h.record(claim("C-2", line(1, "97110", D(2026, 3, 3), charge=20.0)))
        h.record(claim("C-1", line(1, "97110", D(2026, 3, 2), charge=30.0)))  # an original sent twice
        h.record(claim("C-3", line(1, "97110", D(2026, 3, 4), charge=40.0)))
        h.record(claim("C-3", frequency="8"))
        assert h.unwritten == 5
    assert _stored(path) == [("C-1", 1, 3000), ("C-2", 1, 2000)]


def _as_version(path, version: int) -> None:
    """Turn a history file back into one of schema `version` (3, 4 or 5): no claim order, span of dates or
    number of lines (5); each claim's lines as rows of `lines` (with version 3's two covering indexes), no
    `lines_json` (4, 3)."""
    db = sqlite3.connect(path)
    for column in ("seq", "first_date", "last_date", "line_count"):
        db.execute(f"ALTER TABLE claims DROP COLUMN {column}")
    db.execute("DROP TABLE claim_order")
    if version == 5:
        db.execute("UPDATE schema_version SET version = 5")
        db.commit()
        db.close()
        return
    db.execute(
        """CREATE TABLE lines (patient_id TEXT NOT NULL, claim_id TEXT NOT NULL, number INTEGER NOT NULL,
        code TEXT NOT NULL, modifiers TEXT NOT NULL, units INTEGER NOT NULL, charge_cents INTEGER,
        date_of_service TEXT NOT NULL, provider_type TEXT, discipline TEXT, payer TEXT, allowed_cents INTEGER,
        UNIQUE (patient_id, claim_id, number))"""
    )
    for patient_id, claim_id, payer, text in db.execute("SELECT patient_id, claim_id, payer, lines_json FROM claims"):
        for number, code, modifiers, units, cents, day, provider_type, discipline, allowed in json.loads(text):
            row = (patient_id, claim_id, number, code, modifiers, units, cents, day, provider_type, discipline, payer)
            db.execute("INSERT INTO lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (*row, allowed))
    db.execute("ALTER TABLE claims DROP COLUMN lines_json")
    if version == 3:
        db.execute("CREATE INDEX lines_by_day ON lines (patient_id, date_of_service, code, claim_id, units, payer)")
        db.execute(
            "CREATE INDEX lines_by_discipline ON lines (patient_id, discipline, date_of_service, claim_id, charge_cents, "
            "payer)"
        )
    db.execute("UPDATE schema_version SET version = ?", (version,))
    db.commit()
    db.close()


def test_a_version_3_file_loses_its_covering_indexes_and_keeps_its_lines(tmp_path):
    path = tmp_path / "v3.db"
    with ClaimHistory(path) as h:
        h.record(claim("C-1", line(1, "97110", D(2026, 3, 2), charge=10.0)))
    _as_version(path, 3)
    with ClaimHistory(path) as h:
        assert h.claim_ids("P-1") == ["C-1"]
        assert h.day_units("P-1", D(2026, 3, 2)) == 1
        assert h.year_to_date_charges("P-1", 2026, ("PT", "SLP")) == 10.0
        tables = [r[0] for r in h._db.execute("SELECT name FROM sqlite_master WHERE type IN ('index', 'table')")]
        version = h._db.execute("SELECT version FROM schema_version").fetchone()[0]
    assert version == SCHEMA_VERSION == 6
    assert not [name for name in tables if name.startswith("lines")]  # its indexes, then the table (version 5)


def test_a_version_4_file_gets_each_claims_lines_as_json_and_reads_back_the_same(tmp_path):
    path = tmp_path / "v4.db"
    with ClaimHistory(path) as h:
        h.record(claim("C-2", line(1, "97110", D(2026, 3, 4), charge=10.0), line(2, "97112", D(2026, 3, 2))))
        h.record(claim("C-1", line(1, "97140", D(2026, 3, 2), charge=45.5, modifiers=("GP", "59"))))
        h.record(claim("C-3"))  # a claim with no line is a claim all the same
    with ClaimHistory(path, cache_lines=1) as h:
        before = h.lines("P-1", D(2026, 1, 1), D(2026, 12, 31))
        written = dict(h._db.execute("SELECT claim_id, lines_json FROM claims"))
    _as_version(path, 4)
    with ClaimHistory(path, cache_lines=1) as h:
        after = h.lines("P-1", D(2026, 1, 1), D(2026, 12, 31))
        assert h.claim_ids("P-1") == ["C-1", "C-2", "C-3"]
        migrated = dict(h._db.execute("SELECT claim_id, lines_json FROM claims"))
        version = h._db.execute("SELECT version FROM schema_version").fetchone()[0]
    assert version == SCHEMA_VERSION == 6
    assert migrated == written and migrated["C-3"] == "[]"
    assert [(x.claim_id, x.number, x.date_of_service) for x in after] == [
        ("C-1", 1, D(2026, 3, 2)),
        ("C-2", 2, D(2026, 3, 2)),
        ("C-2", 1, D(2026, 3, 4)),
    ]
    assert after == before


def test_memory_keeps_to_its_limit_and_answers_stay_the_same(tmp_path):
    with (
        ClaimHistory(tmp_path / "small.db", cache_lines=5, batch=3) as small,
        ClaimHistory(tmp_path / "large.db") as large,
    ):
        for k in range(40):
            c = claim(
                f"C-{k}",
                line(1, "97110", D(2026, 1 + k % 12, 3), 1, charge=float(k)),
                line(2, "97112", D(2026, 1 + k % 12, 3), 1),
                patient=f"P-{k % 7}",
            )
            small.record(c)
            large.record(c)
            # Past the limit, only patients with claims not yet written (at most 3) and the one in hand stay.
            assert small._cache.lines_kept <= 5 or len(small._cache) <= 4
        for p in range(7):
            year = (D(2026, 1, 1), D(2026, 12, 31))
            assert small.lines(f"P-{p}", *year) == large.lines(f"P-{p}", *year)


def test_a_patient_read_back_from_the_file_has_the_lines_memory_had_in_service_order(tmp_path):
    """A patient that fell out of memory is read back sorted by the file: the same lines, in the same order
    (date, claim id, line number) as kept in memory, and new claims still go in their place."""
    arrivals = [
        claim("C-9", line(2, "97112", D(2026, 3, 2), charge=70.0), line(1, "97110", D(2026, 3, 2), charge=35.0)),
        claim("C-10", line(1, "97140", D(2026, 3, 2), modifiers=("GP", "59"))),  # same day, "C-10" < "C-9"
        claim("C-2", line(1, "97530", D(2026, 1, 15), charge=35.5)),
        claim("C-5", line(1, "97110", D(2025, 12, 30)), line(2, "97110", D(2026, 1, 2))),  # two dates
        claim("C-2", line(1, "97530", D(2026, 2, 1), charge=12.25), frequency="7"),  # moves to February
        claim("C-7", line(1, "97110", D(2026, 4, 1))),
        claim("C-7", line(1, "97110", D(2026, 4, 1)), frequency="8"),
    ]
    every_date = (D.min, D.max)
    with ClaimHistory(tmp_path / "h.db") as live:
        for c in arrivals:
            live.record(c)
        kept = live.lines("P-1", *every_date)
    assert [(x.date_of_service, x.claim_id, x.number) for x in kept] == [
        (D(2025, 12, 30), "C-5", 1),
        (D(2026, 1, 2), "C-5", 2),
        (D(2026, 2, 1), "C-2", 1),
        (D(2026, 3, 2), "C-10", 1),
        (D(2026, 3, 2), "C-9", 1),
        (D(2026, 3, 2), "C-9", 2),
    ]
    with ClaimHistory(tmp_path / "h.db") as reopened:
        assert reopened.lines("P-1", *every_date) == kept
        assert reopened.claim_ids("P-1") == ["C-10", "C-2", "C-5", "C-9"]
        reopened.record(claim("C-1", line(1, "97110", D(2026, 3, 2))))  # goes before the other claims of the day
        after = [(x.date_of_service, x.claim_id) for x in reopened.lines("P-1", D(2026, 3, 1), D(2026, 3, 31))]
        assert after == [
            (D(2026, 3, 2), "C-1"),
            (D(2026, 3, 2), "C-10"),
            (D(2026, 3, 2), "C-9"),
            (D(2026, 3, 2), "C-9"),
        ]
        assert reopened.year_to_date_charges("P-1", 2026, ["PT"]) == 12.25 + 70.0 + 35.0


KILLED = textwrap.dedent("""
    import json, sys
    from payerpolicy.cli.main import main
    sys.exit(main(["check", "--payer", "medicare", "--window", "0", "--history", sys.argv[1], sys.argv[2]]))
""")


def test_a_run_killed_mid_way_has_every_reported_claim_in_the_history(tmp_path):
    import json
    import signal

    claims = [
        {
            "id": f"K-{i}",
            "payer": "medicare",
            "patient": {"id": f"P-{i % 50}"},
            "provider": {"npi": "1234567893", "type": "PT"},
            "diagnoses": ["M54.50"],
            "lines": [
                {
                    "code": "97110",
                    "modifiers": ["GP"],
                    "units": 1,
                    "minutes": 15,
                    "date": f"2026-03-{1 + i % 28:02d}",
                    "charge": 30.0,
                }
            ],
        }
        for i in range(20_000)
    ]
    source = tmp_path / "claims.jsonl"
    source.write_text("\n".join(json.dumps(c) for c in claims))
    path = tmp_path / "history.sqlite"
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
    }
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(path), str(source)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    reported = []
    for row in child.stdout:
        if row.startswith("  {"):
            reported.append(json.loads(row.rstrip().rstrip(","))["id"])
        if len(reported) >= 2500:  # past two batches: decisions are out, more claims are being judged
            break
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    with ClaimHistory(path) as history:
        stored = {claim_id for p in range(50) for claim_id in history.claim_ids(f"P-{p}")}
    assert len(reported) >= 2500
    assert set(reported) <= stored  # nothing reported is missing
    assert len(stored) < len(claims)  # the kill came before the end
