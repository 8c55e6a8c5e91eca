"""A bug in payerpolicy met on one claim costs that claim only: it gets a result that says payerpolicy failed
(status error, field `payerpolicy`), every other claim is judged as before, and the output stays whole.

The bugs are planted by replacing one of payerpolicy's own functions for one claim (there is no known bug to
use). What the machine does wrong (an sqlite3 or OS error) still stops the run."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy.api import OnePolicy
from payerpolicy.claims import json_claims
from payerpolicy.cli.main import main
from payerpolicy.judge import judge as judge_module
from payerpolicy.render import stream
from payerpolicy.run import judge_claims

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "claims.json"
BUGGY = "C-1003"
SECRET = "value-from-the-claim"  # what a real exception's text could hold; it must not reach the output


def _plant(monkeypatch, module, name, exc=None):
    """Make `module.name` raise (a KeyError quoting a claim value, unless `exc`) when given claim BUGGY."""
    original = getattr(module, name)

    def planted(first, *args, **kwargs):
        claim_id = first if isinstance(first, str) else getattr(first, "id", None)
        if claim_id is None and isinstance(first, dict):
            claim_id = first.get("id")
        if claim_id == BUGGY:
            raise exc if exc is not None else KeyError(SECRET)
        return original(first, *args, **kwargs)

    monkeypatch.setattr(module, name, planted)


def _check_json(capsys, *extra):
    code = main(["check", "--payer", "medicare", "--format", "json", *map(str, extra), str(EXAMPLES)])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def _by_id(document):
    return {d["id"]: d for d in document["claims"]}


def test_a_bug_while_judging_one_claim_costs_that_claim_only(capsys, monkeypatch):
    code, before, _ = _check_json(capsys)
    _plant(monkeypatch, judge_module, "_make_decision")
    code_after, after, err = _check_json(capsys)
    assert code == code_after == 3  # the example has an unreadable claim already
    assert len(after["claims"]) == len(before["claims"]) == 12
    failed = _by_id(after)[BUGGY]
    assert failed["status"] == "error" and failed["lines"] == [] and failed["findings"] == []
    assert failed["policy"] == _by_id(before)[BUGGY]["policy"]
    [error] = failed["errors"]
    assert error["field"] == "payerpolicy"
    assert error["message"].startswith("payerpolicy failed while judging this claim (KeyError in judge/judge.py line ")
    assert "bug in payerpolicy, not a fault of the claim" in error["message"]
    assert SECRET not in json.dumps(after) and SECRET not in err
    for claim_id, decision in _by_id(before).items():
        if claim_id != BUGGY:
            assert _by_id(after)[claim_id] == decision
    assert after["summary"]["errors"] == before["summary"]["errors"] + 1
    assert after["summary"]["claims"] == 12


def test_the_text_output_says_the_fault_is_payerpolicys(capsys, monkeypatch):
    _plant(monkeypatch, judge_module, "_make_decision")
    main(["check", "--payer", "medicare", "--format", "text", str(EXAMPLES)])
    out = capsys.readouterr().out
    assert (
        f"Claim {BUGGY}: COULD NOT BE JUDGED, nothing was judged (a bug in payerpolicy, not in the claim)\n"
        "  - payerpolicy: payerpolicy failed while judging this claim (KeyError in judge/judge.py line"
    ) in out
    assert out.count("Claim C-") == 12


def test_a_bug_while_reading_one_claim_sends_it_back_and_the_rest_are_judged(monkeypatch):
    claims = json.loads(EXAMPLES.read_text())
    claims = claims["claims"] if isinstance(claims, dict) else claims
    policy = payerpolicy.load("medicare")
    before = list(policy.check_many(claims))
    _plant(monkeypatch, json_claims, "quick_claim")
    _plant(monkeypatch, json_claims, "claim_field_by_field")
    after = list(policy.check_many(claims))
    assert len(after) == 12
    for old, new in zip(before, after):
        if new.id != BUGGY:
            assert new == old
    [failed] = [d for d in after if d.id == BUGGY]
    assert failed.status == "error"
    [error] = failed.errors
    assert error["field"] == "payerpolicy"
    assert error["message"].startswith("payerpolicy failed while reading this claim (KeyError in claims/json_claims.py")
    assert SECRET not in error["message"]


def test_a_bug_while_writing_one_decision_reports_that_claim_and_the_output_stays_whole(capsys, monkeypatch):
    _, before, _ = _check_json(capsys)
    original = stream.decision_json

    def planted(decision):
        if decision.id == BUGGY and decision.status != "error":
            raise KeyError(SECRET)
        return original(decision)

    monkeypatch.setattr(stream, "decision_json", planted)
    _, after, _ = _check_json(capsys)
    [error] = _by_id(after)[BUGGY]["errors"]
    assert error["message"].startswith("payerpolicy failed while writing out its decision (KeyError in render/")
    assert [d["id"] for d in after["claims"]] == [d["id"] for d in before["claims"]]


def test_on_worker_processes_too(monkeypatch):
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this system: a planted bug reaches forked workers only")
    claims = json.loads(EXAMPLES.read_text())
    claims = claims["claims"] if isinstance(claims, dict) else claims
    policy = payerpolicy.load("medicare")
    before = list(policy.check_many(claims))
    _plant(monkeypatch, judge_module, "_make_decision")
    after = list(judge_claims(claims, OnePolicy(policy), window=4, workers=2, start_method="fork", serial_below=0))
    assert [d.id for d in after] == [d.id for d in before]
    for old, new in zip(before, after):
        if new.id == BUGGY:
            assert new.status == "error" and new.errors[0]["field"] == "payerpolicy"
        else:
            assert new == old


def test_a_failing_machine_still_stops_the_run(capsys, monkeypatch):
    # A history that cannot be written is no bug of one claim: the run stops and says so (exit 2).
    _plant(monkeypatch, judge_module, "_make_decision", sqlite3.OperationalError("disk I/O error"))
    code = main(["check", "--payer", "medicare", "--format", "json", str(EXAMPLES)])
    _, err = capsys.readouterr()
    assert code == 2
    assert "disk I/O error" in err


SAMPLES = ROOT / "tests" / "samples"


def test_a_bug_in_the_x12_reader_sends_that_claim_back_and_the_next_is_read(monkeypatch):
    from payerpolicy.claims import x12

    path = SAMPLES / "x12" / "therapy_pt_ot_medicare.837"
    before = list(payerpolicy.read_claims(path))
    careful = x12._read_claim

    def planted(block, delimiters, name):
        if block.clm.get(1) == "PT-0302-DOE":
            raise KeyError(SECRET)
        return careful(block, delimiters, name)

    monkeypatch.setattr(x12.QuickReading, "claim", lambda self, block: None)  # every claim by the careful road
    monkeypatch.setattr(x12, "_read_claim", planted)
    first, second = payerpolicy.read_claims(path)
    assert second == before[1]
    assert first.id == "PT-0302-DOE" and first.where.startswith(f"{path} segment ")
    [problem] = first.problems
    assert problem.field == "payerpolicy"
    assert problem.message.startswith("payerpolicy failed while reading this claim (KeyError in claims/x12.py line ")
    assert SECRET not in problem.message


def test_a_bug_in_the_fhir_reader_sends_that_claim_back_and_the_next_is_read(monkeypatch):
    from payerpolicy.claims import fhir

    path = SAMPLES / "fhir" / "therapy-bundle.json"
    before = list(payerpolicy.read_claims(path))
    careful = fhir._read_claim

    def planted(resource, where, references=None):
        if resource.get("id") == "TH-2001":
            raise KeyError(SECRET)
        return careful(resource, where, references)

    monkeypatch.setattr(fhir, "_read_claim", planted)
    first, second = payerpolicy.read_claims(path)
    assert second == before[1]
    assert first.id == "TH-2001" and first.where.startswith(str(path))  # "FILE entry 1"
    [problem] = first.problems
    assert problem.field == "payerpolicy" and "KeyError in claims/fhir.py line " in problem.message


def test_a_bug_outside_any_claim_ends_the_run_in_one_line_without_the_exceptions_text(capsys, monkeypatch):
    from payerpolicy.cli import main as cli_main

    def planted(*args, **kwargs):
        raise RuntimeError(SECRET)

    monkeypatch.setattr(cli_main, "Policies", planted)
    code = main(["check", "--payer", "medicare", str(EXAMPLES)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("payerpolicy: internal error (RuntimeError at test_internal_errors.py line ")
    assert "This is a bug in payerpolicy; please report it" in err
    assert SECRET not in err and "Traceback" not in err
