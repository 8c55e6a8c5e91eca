"""Judging on several workers (`check_many(workers=N)`, `check --jobs N`) decides exactly as one process.

The claims are the benchmark's (`bench/generate.py`), made dense (few patients and dates of service) and
judged with a small window, so that patient-days span claims inside and beyond the window, the patients
pass the year's KX threshold, and claims are replaced and voided; some unreadable claims are mixed in.
Each comparison also checks that decisions really depend on other claims, so that it cannot pass by
judging every claim alone.

Most of the window logic is tested in this process (`WindowedJudging` split by patient, as the workers
split it); the tests that start worker processes are few, since each start costs about a second.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import sqlite3
import os
import random
import shutil
import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import generate  # noqa: E402

import payerpolicy  # noqa: E402
from payerpolicy import parallel as judge_parallel  # noqa: E402
from payerpolicy.claims.model import Claim  # noqa: E402
from payerpolicy.claims.json_claims import claim_from_dict  # noqa: E402
from payerpolicy.cli.main import main  # noqa: E402
from payerpolicy.judge.judge import Judge
from payerpolicy.judge.window import judge_in_order  # noqa: E402
from payerpolicy.parallel import worker_of
from payerpolicy.api import OnePolicy  # noqa: E402
from payerpolicy.run import judge_claims  # noqa: E402
from payerpolicy.judge.window import WindowedJudging  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "claims.json"


def dense_claims(count=2000, seed=11, patients=30, days=20):
    """Generated claims of few patients and days, with replacements, voids and unreadable claims."""
    claims = generate.claims(count, seed, patients=patients, days=days)
    rng = random.Random(seed)
    for i, claim in enumerate(claims):
        if i % 53 == 7:
            claim["lines"][0]["units"] = 1.5  # unreadable: fractional units
        elif i % 71 == 3:
            del claim["patient"]  # unreadable, and no patient to route it by
        elif i % 29 == 5 and i > 50:  # a replacement or void of an earlier claim of its patient
            earlier = claims[i - rng.randrange(1, 50)]
            if "patient" in earlier:
                claim.update(id=earlier["id"], patient=dict(earlier["patient"]), frequency=rng.choice("78"))
    return claims


@pytest.fixture(scope="module")
def medicare():
    return payerpolicy.load("medicare")


@pytest.fixture(scope="module")
def claims():
    return dense_claims()


@pytest.fixture(scope="module")
def alone(medicare, claims):
    """Each claim judged with no other claim: what a run that lost cross-claim context would say."""
    return [medicare.check(claim) for claim in claims]


def depends_on_others(decisions, alone) -> int:
    """How many decisions differ from judging the claim alone; > 0 means the context is exercised."""
    assert len(decisions) == len(alone)
    return sum(d != a for d, a in zip(decisions, alone))


# ---------------------------------------------------------------------------------------------------------
# The window over global positions, in this process


def split_by_patient(policy, records, window, workers, chunk_sizes):
    """What the workers do, in one process: each share of patients judged by its own `Judge` and
    `WindowedJudging`, told the frontier after chunks of the given sizes (cycled)."""
    judges = [Judge(policy.program) for _ in range(workers)]
    judgings = [WindowedJudging(window) for _ in range(workers)]
    out = {}
    sizes = iter(chunk_sizes * (len(records) // min(chunk_sizes) + 1))
    chunk_end = next(sizes)
    for position, record in enumerate(records):
        if isinstance(record, Claim):
            index = worker_of(record.patient_id, workers)
            judgings[index].add(position, record, judges[index])
        else:
            out[position] = judges[0].decide(record, None)
        if position + 1 == chunk_end:
            for judging in judgings:
                judging.advance(position)
            chunk_end += next(sizes)
    for judging in judgings:
        judging.finish()
        out.update(judging.decided)
    assert sorted(out) == list(range(len(records)))
    return [out[position] for position in range(len(records))]


@pytest.mark.parametrize("window", [0, 4, 40])
def test_windowed_judging_split_by_patient_equals_one_judge(medicare, claims, alone, window):
    records = [claim_from_dict(c) for c in claims[:1200]]
    judge = Judge(medicare.program)
    expected = list(judge_in_order(records, lambda record, judge=judge: judge, window))
    for workers, chunk_sizes in ((2, [1]), (3, [7, 1, 40])):
        assert split_by_patient(medicare, records, window, workers, chunk_sizes) == expected
    assert depends_on_others(expected, alone[:1200]) > 100


def test_the_window_is_counted_in_the_whole_input_not_in_a_workers_share(medicare):
    # G (97116) and W (97530, its column-1 partner) share a patient-day and stand 3 claims apart; the two
    # claims between them are other patients', judged by the other worker. A window counted in a worker's
    # own share would put G and W 1 apart and deny G with a window of 2; in the whole input they are 3 apart.
    def visit(claim_id, patient, code):
        return claim_from_dict(
            {
                "id": claim_id,
                "patient": {"id": patient},
                "provider": {"type": "PT"},
                "lines": [{"code": code, "modifiers": ["GP"], "units": 1, "minutes": 15, "date": "2026-03-06"}],
            }
        )

    others = [p for p in (f"Q-{i}" for i in range(100)) if worker_of(p, 2) != worker_of("P-5", 2)][:2]
    records = [
        visit("G", "P-5", "97116"),
        visit("X", others[0], "97110"),
        visit("Y", others[1], "97110"),
        visit("W", "P-5", "97530"),
    ]
    for window, status in ((2, "accepted"), (3, "denied")):
        judge = Judge(medicare.program)
        expected = list(judge_in_order(records, lambda record, judge=judge: judge, window))
        assert expected[0].status == status
        assert split_by_patient(medicare, records, window, 2, [1]) == expected
        assert split_by_patient(medicare, records, window, 2, [4]) == expected


def test_routing_is_stable_across_processes():
    # crc32, not hash(): the same patient goes to the same worker in every process and every run.
    assert [worker_of(p, 4) for p in ("P-1", "P-2", "12345", "Ünïcode")] == [3, 1, 0, 0]


# ---------------------------------------------------------------------------------------------------------
# Worker processes


def test_check_many_on_two_workers_equals_one(medicare, claims, alone):
    one = list(medicare.check_many(claims, window=5))
    two = list(medicare.check_many(claims, window=5, workers=2))
    assert two == one
    assert [d.to_dict() for d in two] == [d.to_dict() for d in one]
    statuses = {d.status for d in one}
    assert statuses == {"accepted", "denied", "error"}
    assert sum(d.status == "error" for d in one) > 50
    assert any(f.rule == "medicare.threshold.kx-pt-slp" for d in one for f in d.findings)
    assert depends_on_others(one, alone) > 100


def test_claims_in_the_claim_model_and_three_workers(medicare, claims):
    records = [claim_from_dict(c) for c in claims[:1000]]
    assert list(medicare.check_many(records, window=3, workers=3)) == list(medicare.check_many(records, window=3))


def test_fork_gives_the_same_decisions(medicare, claims):
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this system")
    some = claims[:800]
    forked = list(judge_claims(some, OnePolicy(medicare), window=4, workers=2, start_method="fork"))
    assert forked == list(medicare.check_many(some, window=4))


def test_an_error_in_the_input_comes_after_the_same_decisions_as_with_one(medicare, claims):
    stream = claims[:300] + [42] + claims[300:400]  # 42 is not a claim: TypeError when it is reached

    def run(workers):
        given = []
        with pytest.raises(TypeError, match="not int"):
            for decision in medicare.check_many(stream, window=20, workers=workers):
                given.append(decision)
        return given

    one = run(1)
    assert len(one) == 300 - 20
    assert run(2) == one
    assert multiprocessing.active_children() == []


def test_a_worker_that_dies_is_reported_and_nothing_hangs(medicare, claims):
    def stream():
        for i, claim in enumerate(claims):
            if i == 1800:  # decisions have come back by now: the workers are in the middle of the run
                for child in multiprocessing.active_children():
                    os.kill(child.pid, signal.SIGKILL)
            yield claim

    with pytest.raises(judge_parallel.WorkerError, match="stopped unexpectedly"):
        list(medicare.check_many(stream(), window=5, workers=2))
    assert multiprocessing.active_children() == []


def test_workers_judge_with_the_policy_the_parent_loaded(tmp_path, claims):
    # The policy changes on disk after it was loaded: the workers get the loaded one, not the files.
    folder = tmp_path / "medicare"
    shutil.copytree(ROOT / "policies" / "medicare", folder, ignore=shutil.ignore_patterns("tests"))
    policy = payerpolicy.load(str(folder))
    caps = folder / "caps.yaml"
    caps.write_text(caps.read_text().replace("max_units: 4", "max_units: 3", 1))
    expected = [d.to_dict() for d in policy.check_many(claims[:300])]
    assert [d.to_dict() for d in policy.check_many(claims[:300], workers=2)] == expected
    assert multiprocessing.active_children() == []


def test_a_worker_that_fails_raises_in_the_parent(medicare, claims, tmp_path):
    # Every worker opens the history itself; a folder is not a history file, so each fails at once.
    with pytest.raises(Exception, match="history|database|directory"):
        list(
            judge_parallel.judge_in_parallel(
                [c for c in claims[:100] if "patient" in c],
                _route_all(medicare),
                window=5,
                workers=2,
                history_path=str(tmp_path),
            )
        )
    assert multiprocessing.active_children() == []


def _route_all(policy):
    where = judge_parallel.policy_source(policy)

    def prepare(claim):
        return judge_parallel.Route(claim["patient"]["id"], where, claim)

    return prepare


def test_stopping_early_leaves_no_worker_behind(medicare, claims):
    decisions = medicare.check_many(claims, window=5, workers=2)
    assert next(decisions).id == claims[0]["id"]
    decisions.close()
    assert multiprocessing.active_children() == []


def test_bad_workers(medicare):
    with pytest.raises(ValueError, match="workers"):
        medicare.check_many([], workers=0)


def test_a_policy_made_in_memory_goes_to_workers_too(medicare, claims):
    bare = payerpolicy.Policy(medicare.program)  # not loaded from files: the workers get it pickled
    expected = [d.to_dict() for d in bare.check_many(claims[:200])]
    assert [d.to_dict() for d in bare.check_many(claims[:200], workers=2)] == expected


# ---------------------------------------------------------------------------------------------------------
# The command line


def check(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("output", ["json", "text"])
def test_cli_jobs_on_the_examples(capsys, output):
    one = check(capsys, "check", "--format", output, EXAMPLES)
    two = check(capsys, "check", "--format", output, "--jobs", 2, EXAMPLES)
    assert two == one and one[0] == 3  # 3: an example claim cannot be read (others are denied)


def test_cli_jobs_on_generated_claims_with_a_history(capsys, tmp_path, claims):
    # Mixed payers (one without a policy), unreadable claims, voids and replacements, a small window, and the
    # claim history of an earlier run: all the same with two jobs. The history files end up the same too.
    first, second = copy.deepcopy(claims[:500]), claims[500:800]
    for i, claim in enumerate(first):
        if i % 37 == 11:
            claim["payer"] = "nobody"
        elif i % 31 == 13:
            claim["payer"] = "example-commercial"
    files = []
    for name, part in (("first.jsonl", first), ("second.jsonl", second)):
        path = tmp_path / name
        path.write_text("".join(json.dumps(c) + "\n" for c in part))
        files.append(path)
    outputs = {}
    for jobs in (1, 2):
        history = tmp_path / f"history-{jobs}.sqlite"
        outputs[jobs] = [
            check(capsys, "check", "--jobs", jobs, "--window", 4, "--history", history, path) for path in files
        ]
    assert outputs[2] == outputs[1]
    code, out, err = outputs[1][0]
    assert code == 3 and err == ""  # 3: some claims cannot be read
    decided = json.loads(out)["claims"]
    assert any(c["policy"] is None for c in decided)  # the payer without a policy
    assert any((c["policy"] or {}).get("payer") == "example-commercial" for c in decided)
    rows = [
        sqlite3.connect(tmp_path / f"history-{jobs}.sqlite")
        .execute("SELECT patient_id, claim_id, payer, frequency, lines_json FROM claims ORDER BY patient_id, claim_id")
        .fetchall()
        for jobs in (1, 2)
    ]
    assert rows[0] == rows[1] and rows[0]


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_cli_bad_jobs(capsys, value):
    with pytest.raises(SystemExit) as stop:
        main(["check", "--jobs", value, str(EXAMPLES)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --jobs: expected a whole number of 1 or more, not '{value}'" in err
