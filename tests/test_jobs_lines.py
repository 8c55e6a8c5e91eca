"""`check --jobs N` sends JSON Lines to its workers as text, routed by keys read from the text, and gets rendered
output back; a run smaller than `run.SERIAL_BELOW` is judged on one process. Whatever road a claim takes, the
output is the bytes one job writes.

The routing keys are the most delicate part: a patient's claims must all reach one worker, so the keys read
from the text must be the ones the reader gives, or no keys at all (the claim is then read in the parent).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import generate  # noqa: E402

import payerpolicy  # noqa: E402
import payerpolicy.run as run  # noqa: E402
from payerpolicy.claims.json_claims import claim_from_dict  # noqa: E402
from payerpolicy.claims.model import Claim  # noqa: E402
from payerpolicy.cli.main import main  # noqa: E402
from payerpolicy.parallel import keys_of_text  # noqa: E402


def reader_keys(text: str):
    record = claim_from_dict(json.loads(text))
    return (record.patient_id, record.payer) if isinstance(record, Claim) else None


@pytest.mark.parametrize(
    "text",
    [
        '{"id": "A", "payer": "medicare", "patient": {"id": "P-1"}, "lines": []}',
        '{"id": "A", "patient": {"id": 17}, "payer": null}',
        '{"id": "A", "patient": { "id" : -17 , "birth_date": "1950-01-01"}}',
        '{"patient": {"id": "P 1"}, "id": "A", "payer": "aetna"}',
        '{"id": "x\\"patient\\": {\\"id\\": \\"P-3\\"}", "patient": {"id": "P-1"}}',  # a key in text
    ],
)
def test_keys_read_from_the_text_are_the_readers(text):
    assert keys_of_text(text) is not None
    assert keys_of_text(text) == (json.loads(text)["patient"]["id"].__str__(), json.loads(text).get("payer"))


@pytest.mark.parametrize(
    "text",
    [
        '{"id": "A", "patient": {"id": "P-1"}, "patient": {"id": "P-2"}}',  # two patients: json keeps the last
        '{"id": "A", "patient": {"id": "P-1"}, "p\\u0061tient": {"id": "P-2"}}',  # the same, escaped
        '{"id": "A", "lines": [{"patient": {"id": "P-9"}}], "x": 1}',  # not the claim's own
        '{"id": "A", "note": {"patient": {"id": "P-9"}}, "y": 2}',
        '{"id": "A", "patient": {"id": "   "}}',  # blank: the reader refuses it
        '{"id": "A", "patient": {"id": 1.5}}',
        '{"id": "A", "patient": {"id": 12345678901234567890123}}',  # too long to be read back the same
        '{"id": "A", "patient": {"id": "P\\"1"}}',
        '{"id": "A", "patient": {"id": "P-1"}, "payer": ""}',  # a blank payer is a problem of the claim
        '{"id": "A", "patient": {"id": "P-1"}, "payer": 7}',
        '{"id": "A", "patient": {"id": "P-1"}, "x": {"payer": "aetna"}}',  # not the claim's payer
    ],
)
def test_keys_that_cannot_be_told_for_certain_leave_the_claim_to_the_reader(text):
    assert keys_of_text(text) is None


def test_keys_of_generated_claims_match_the_reader():
    lines = [json.dumps(claim) for claim in generate.claims(300)]
    lines += [json.dumps(claim, indent=None, separators=(",", ":")) for claim in generate.claims(50, seed=7)]
    assert all(keys_of_text(text) == reader_keys(text) for text in lines)


def write_mixed_file(path: Path, claims: list[dict]) -> None:
    """JSON Lines with what a real file holds besides claims: a byte order mark, blank lines, a line that is
    not JSON, one that is not UTF-8, a claim of a payer with no policy, one in another key order."""
    lines = [json.dumps(claim).encode() for claim in claims]
    lines[3] = b'{"id": "broken", "patient": {"id": "P-1"}, "payer": "medicare", "lines": [}'
    lines[5] = b'{"id": "latin", "patient": {"id": "P-\xe9"}}'
    lines[7] = json.dumps({**claims[7], "payer": "no-such-payer"}).encode()
    lines[9] = json.dumps(dict(reversed(list(claims[9].items())))).encode()
    lines[11] = b'{"id": "nested", "patient": {"id": "P-2"}, "payer": "medicare", "lines": 3}'
    lines[13] = b"   "
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines) + b"\r\n\n")


@pytest.mark.parametrize("output", ["json", "text", "csv", "835"])
def test_jobs_on_lines_of_text_write_the_bytes_of_one_job(tmp_path, capsys, output):
    path = tmp_path / "claims.jsonl"
    write_mixed_file(path, generate.claims(120, patients=15, days=20))
    outs = []
    for jobs in ("1", "2"):
        code = main(["check", "--format", output, "--window", "7", "--jobs", jobs, str(path)])
        outs.append((code, capsys.readouterr().out))
    assert outs[0] == outs[1]
    assert "not valid JSON" in outs[0][1] or output in ("csv", "835")
    assert outs[0][0] == 3  # claims that cannot be read


def test_claim_lines_give_the_readers_records(tmp_path):
    path = tmp_path / "claims.jsonl"
    write_mixed_file(path, generate.claims(30))
    lines = run.claim_lines(str(path))
    assert lines is not None
    mine = [run.as_record(item) for item in lines]
    assert mine == list(payerpolicy.read_claims(str(path)))
    assert sum(isinstance(item, Claim) for item in mine) == 26  # 30 lines: one blank, three unreadable


@pytest.mark.parametrize(
    "content",
    [
        '[{"id": "A", "patient": {"id": "P"}}]\n',  # an array
        '{"id": "A", "patient": {"id": "P"}}\n\n',  # one claim
        '{\n "id": "A",\n "patient": {"id": "P"}\n}\n',  # one claim over several lines
        "ISA*00*\n",  # X12
    ],
)
def test_files_that_are_not_plainly_json_lines_are_left_to_the_reader(tmp_path, content):
    path = tmp_path / "claims.txt"
    path.write_text(content)
    assert run.claim_lines(str(path)) is None


def test_a_run_smaller_than_the_break_even_starts_no_worker(monkeypatch):
    from payerpolicy import parallel

    started = []
    monkeypatch.setattr(parallel._ParallelRun, "start", lambda self: started.append(self) or 1 / 0)
    monkeypatch.setattr(run, "SERIAL_BELOW", 50)
    policy = payerpolicy.load("medicare")
    claims = generate.claims(49, patients=5, days=5)
    assert list(policy.check_many(claims, workers=2)) == list(policy.check_many(claims))
    assert not started
    with pytest.raises(ZeroDivisionError):  # 50 claims: workers are started
        list(policy.check_many(generate.claims(50), workers=2))
    assert started


# ---------------------------------------------------------------------------------------------------------
# check_many in an application's process: nothing on the per-claim path for the cycle collector


@pytest.mark.parametrize("door", ["policy", "session", "session with history"])
def test_check_many_leaves_no_cycle_garbage_and_no_growth(door, tmp_path):
    """Every object judging a claim makes is freed by reference counting: with the collector saving all it
    finds, a run of claims leaves nothing for it, and a second run leaves as many live objects as the first."""
    import gc

    claims = generate.claims(600, patients=40, days=30)  # dense: days over several claims, the window working
    if door == "policy":
        policy = payerpolicy.load("medicare")

        def judge_all():
            return sum(1 for _ in policy.check_many(claims, window=50))
    else:
        history = str(tmp_path / "history.sqlite") if door == "session with history" else None
        session = payerpolicy.Session("medicare", history=history, window=50)

        def judge_all():
            return sum(1 for _ in session.check_many(claims))

    judge_all()  # warm: the lazy parts of the policy are built once
    gc.collect()
    tracked = len(gc.get_objects())
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        assert judge_all() == len(claims)
        found = gc.collect()
        garbage = [type(o).__qualname__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert found == 0 and garbage == []
    assert judge_all() == len(claims)
    gc.collect()
    assert len(gc.get_objects()) - tracked < 200  # no growth per claim (600 claims a run)
    if door != "policy":
        session.close()
