"""`payerpolicy check` keeps what a long run holds (the window's claims, the history's recent patients) out of
the cycle collector's walks as it goes (cli.collector), gives it back at the end, and leaves the collector
alone when something else froze objects first. What it froze must be no cycle garbage in hiding: the judging
road of the command, the claim history included, leaves none."""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

import pytest

from payerpolicy.cli import collector
from payerpolicy.cli.main import main

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import generate  # noqa: E402

CLAIMS = 240
EVERY = 50
REAL_FREEZE = gc.freeze
# Where what a run makes per claim comes from (the policy loaded once for the run is cyclic, and garbage
# after it: not counted).
PER_CLAIM = ("payerpolicy.claims.", "payerpolicy.judge.", "payerpolicy.decision", "payerpolicy.render.")


@pytest.fixture
def corpus(tmp_path) -> Path:
    """Claims of few patients and days: patient-days span claims, and years fill, as in a long run."""
    path = tmp_path / "claims.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in generate.claims(CLAIMS, seed=11, patients=20, days=40)))
    return path


@pytest.fixture
def freezes(monkeypatch) -> list[int]:
    """The freezes `check` makes, each with how many objects were frozen by then."""
    made: list[int] = []

    def freeze() -> None:
        REAL_FREEZE()
        made.append(gc.get_freeze_count())

    monkeypatch.setattr(collector.gc, "freeze", freeze)
    monkeypatch.setattr(collector.KeptOutOfCollections, "EVERY", EVERY)
    return made


def check(corpus: Path, tmp_path: Path, capsys) -> dict:
    main(["check", "--payer", "medicare", "--format", "json", "--history", str(tmp_path / "h.sqlite"), str(corpus)])
    return json.loads(capsys.readouterr().out)


def test_a_run_freezes_what_it_keeps_as_it_goes_and_gives_it_back(corpus, tmp_path, capsys, freezes):
    assert gc.get_freeze_count() == 0
    out = check(corpus, tmp_path, capsys)
    assert len(out["claims"]) == CLAIMS
    assert len(freezes) == CLAIMS // EVERY
    assert all(count > 0 for count in freezes)
    assert gc.get_freeze_count() == 0  # given back: the collector is as the run found it


def test_a_collector_frozen_by_someone_else_is_left_alone(corpus, tmp_path, capsys, freezes):
    REAL_FREEZE()
    try:
        frozen = gc.get_freeze_count()
        out = check(corpus, tmp_path, capsys)
        assert len(out["claims"]) == CLAIMS
        # nothing frozen by the run, nothing given back (a frozen object freed on the way leaves the count)
        assert freezes == [] and 0 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()


def test_what_a_run_froze_holds_no_cycle_garbage(corpus, tmp_path, capsys, freezes):
    """With the collector off, the run's objects die by reference counting or not at all: whatever of the
    judging road (claims, lines, history lines, decisions) is left for the collector would have stayed
    frozen and leaked."""
    out, ours = _run_with_collector_off(corpus, tmp_path, capsys)
    assert len(out["claims"]) == CLAIMS and freezes
    assert any(claim["findings"] for claim in out["claims"])  # the rules did fire: the judging was real
    assert ours == []


def test_claims_sent_back_leave_no_cycle_garbage_either(tmp_path, capsys, freezes):
    """Bad claims take other roads (problems worded, exceptions caught on the way): none of them leaves a
    cycle behind for a frozen run, or a `--jobs` worker, to keep."""
    rows = []
    for number, claim in enumerate(generate.claims(CLAIMS, seed=5, patients=20, days=40)):
        spoil = number % 5
        if spoil == 0:
            rows.append("{not json")
            continue
        if spoil == 1:
            claim["lines"][0]["units"] = "lots"
        elif spoil == 2:
            claim["lines"][0]["date"] = "2026-02-31"
        elif spoil == 3:
            claim.pop("patient", None)
        rows.append(json.dumps(claim))
    corpus = tmp_path / "bad.jsonl"
    corpus.write_text("\n".join(rows) + "\n")
    out, ours = _run_with_collector_off(corpus, tmp_path, capsys)
    assert len(out["claims"]) == CLAIMS and freezes
    assert sum(claim["status"] == "error" for claim in out["claims"]) == CLAIMS * 4 // 5
    assert ours == []


def _run_with_collector_off(corpus: Path, tmp_path: Path, capsys) -> tuple[dict, list[str]]:
    """The run's output, and the objects of the per-claim modules only the cycle collector could free."""
    gc.collect()
    flags = gc.get_debug()
    gc.disable()
    try:
        try:
            out = check(corpus, tmp_path, capsys)
        except SystemExit:  # claims that could not be read make the exit code 3
            out = json.loads(capsys.readouterr().out)
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        ours = [type(thing).__qualname__ for thing in gc.garbage if type(thing).__module__.startswith(PER_CLAIM)]
    finally:
        gc.set_debug(flags)
        gc.garbage.clear()
        gc.enable()
    return out, ours
