"""`Policy.check` judges a claim of one date in one loop of its own (`Judge.decide_alone`), without the day
book: its decision must be, field for field, the one the day book's road gives a claim filed alone
(`Judge.file` then `Judge.decide`), for usual claims, claims with findings, and every claim the loop hands
back to that road (several dates, lines out of order, voids, replacements, data faults, a fee schedule)."""

from __future__ import annotations

import copy
import dataclasses
import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "bench" / "peers"))

import claimgen  # noqa: E402
import engines  # noqa: E402
import generate  # noqa: E402

import payerpolicy  # noqa: E402
from payerpolicy.claims.json_claims import claim_from_dict  # noqa: E402
from payerpolicy.judge.judge import Judge  # noqa: E402


def every_field(decision) -> tuple:
    """A decision with the fields its equality leaves out (a line's modifiers, date, charge, allowed amount;
    the run's facts in `extra`)."""
    return (
        decision.to_dict(),
        [dataclasses.astuple(line) for line in decision.lines],
        [dataclasses.astuple(finding) for finding in decision.findings],
        decision.extra,
    )


def filed_alone(policy, claim: dict):
    """The day book's road for a claim judged on its own: filed in a new judge, then decided."""
    judge = Judge(policy.program, remember=False)
    record = claim_from_dict(claim)
    return judge.decide(record, judge.file(record))


def varied(claims: list[dict], seed: int) -> list[dict]:
    """The claims as they are, and copies of them the one-date loop hands back or must get right: lines
    of two dates, lines numbered out of date order, a replacement, a void, a bad NPI (a data fault), a
    line with no rule (an unknown code), minutes left off (timed units billed as units only)."""
    rng = random.Random(seed)
    out = list(claims)
    for claim in claims:
        change = rng.randrange(7)
        other = copy.deepcopy(claim)
        other["id"] = claim["id"] + "-v"
        lines = other["lines"]
        if change == 0 and len(lines) > 1:
            lines[-1]["date"] = "2026-12-30"
        elif change == 1 and len(lines) > 1:
            lines[0]["date"] = "2026-12-31"
        elif change == 2:
            other["frequency"] = "7"
        elif change == 3:
            other["frequency"] = "8"
        elif change == 4:
            other["provider"] = {"npi": "123456789", "type": "PT"}
        elif change == 5:
            lines.append({"code": "A9999", "units": 1, "date": lines[0]["date"]})
        else:
            for line in lines:
                line.pop("minutes", None)
        out.append(other)
    return out


def peer_claims(count: int) -> list[dict]:
    return [engines.payerpolicy_record(c, f"C{i}") for i, c in enumerate(claimgen.make_claims(count))]


@pytest.mark.parametrize(
    "source, claims",
    [
        (str(ROOT / "bench" / "peers" / "policies" / "payerpolicy"), lambda: peer_claims(400)),
        (str(ROOT / "policies" / "example-commercial"), lambda: generate.claims(300, seed=11)),
        (str(ROOT / "tests" / "policies" / "example-medicaid"), lambda: generate.claims(300, seed=12)),
        ("medicare", lambda: generate.claims(150, seed=13)),
        # a fee schedule (each line's allowed amount): the day book's road
        (str(ROOT / "policies" / "medicare" / "tests" / "fee-schedule"), lambda: generate.claims(100, seed=14)),
    ],
)
def test_check_alone_decides_as_the_day_book_does(source, claims):
    policy = payerpolicy.load(source)
    batch = varied(claims(), seed=len(source))
    checked = [policy.check(claim) for claim in batch]
    assert [every_field(d) for d in checked] == [every_field(filed_alone(policy, c)) for c in batch]
    assert any(d.findings for d in checked)  # the claims break rules: findings are compared too
    assert any(d.status == "accepted" for d in checked)


def test_a_claim_of_two_dates_is_two_days(tmp_path):
    """A rule over the day sees only the lines of the judged line's date, on either road."""
    policy = payerpolicy.load(str(ROOT / "bench" / "peers" / "policies" / "payerpolicy"))
    line = {"code": "97140", "units": 1, "modifiers": ["GP"], "date": "2026-03-02", "provider": {"type": "PT"}}
    evaluation = {**line, "code": "97161"}
    one_day = {"id": "A", "patient": {"id": "P"}, "lines": [evaluation, line]}
    two_days = {"id": "B", "patient": {"id": "P"}, "lines": [{**evaluation, "date": "2026-03-03"}, line]}
    assert [f.rule for f in policy.check(one_day).findings] == ["bench.r3"]
    assert policy.check(two_days).findings == ()


def test_checking_a_claim_leaves_no_cycles_for_the_collector():
    """The claim's day context points at the judge, and the judge is kept between calls: nothing of a claim
    may stay behind in a reference cycle (in an application with a large heap, the collector's walks to find
    them cost more than judging)."""
    import gc

    policy = payerpolicy.load(str(ROOT / "bench" / "peers" / "policies" / "payerpolicy"))
    claims = peer_claims(300)
    policy.check(claims[0])
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        decisions = [policy.check(claim) for claim in claims]
        assert any(d.findings for d in decisions)
        assert gc.collect() == 0  # nothing unreachable: every claim's objects went when it was decided
    finally:
        if was:
            gc.enable()


def test_claims_of_codes_no_rule_concerns_between_others(tmp_path):
    """A policy whose rules name their codes: a claim of other codes meets no rule (no line is judged), and
    the claims before and after it are judged as ever."""
    (tmp_path / "policy.yaml").write_text(
        "policy: {payer: cap-only, name: One cap, version: '1', fictional: true}\n"
        "rules:\n"
        "  - id: cap.97112\n"
        "    family: unit_cap\n"
        "    codes: 97112\n"
        "    when: units > 4\n"
        "    severity: deny\n"
        '    reason: {group: CO, carc: "151"}\n'
        '    message: "97112 is limited to 4 units on a line"\n'
        "    fix: set units to 4\n"
        '    source: "a test"\n',
        encoding="utf-8",
    )
    policy = payerpolicy.load(str(tmp_path))
    line = {"code": "97112", "units": 6, "date": "2026-03-02"}
    capped = {"id": "A", "patient": {"id": "P"}, "lines": [line]}
    other = {"id": "B", "patient": {"id": "P"}, "lines": [{**line, "code": "A9999"}, {**line, "code": "99213"}]}
    decisions = [policy.check(claim) for claim in (capped, other, other, capped)]
    assert [d.status for d in decisions] == ["denied", "accepted", "accepted", "denied"]
    claims = (capped, other, other, capped)
    assert [every_field(d) for d in decisions] == [every_field(filed_alone(policy, c)) for c in claims]


def test_a_claim_made_in_code_without_lines_is_decided_as_the_day_book_decides_it():
    from payerpolicy.claims.model import Claim

    policy = payerpolicy.load(str(ROOT / "bench" / "peers" / "policies" / "payerpolicy"))
    empty = Claim("C-0", "P-0", ())
    judge = Judge(policy.program, remember=False)
    decided = policy.check(empty)
    assert decided.status == "accepted" and decided.lines == ()
    assert every_field(decided) == every_field(judge.decide(empty, judge.file(empty)))


def day_book_only(judge: Judge, record, last_of_patient: bool = False):
    """The day book's road for a patient's only claim of a group in a run: filed, decided, taken out (and kept
    in the history unless it is the patient's last of a run whose history ends with it, as `decide_alone`)."""
    views = judge.file(record)
    try:
        return judge.decide(record, views, counts=not (last_of_patient and judge.history_ends_with_run))
    finally:
        judge.forget(views)


@pytest.mark.parametrize(
    "source",
    ["medicare", str(ROOT / "bench" / "policies" / "medicare"), str(ROOT / "policies" / "example-commercial")],
)
def test_a_patients_only_claim_in_a_run_decides_as_the_day_book_does(source, monkeypatch):
    """In `check_many`, a group of one claim (its patient's only claim within the window) takes the one-date
    loop with the run's history. A dense population over a small window (patients come back in later groups
    and pass the year's KX threshold; some groups hold several claims), with the varied claims the loop hands
    back, gives the same decisions, field for field, as every group filed in the day book."""
    policy = payerpolicy.load(source)
    batch = varied(generate.claims(400, seed=21, patients=40, days=60), seed=22)
    alone = 0
    loop = Judge.decide_alone

    def counted(judge, record, last_of_patient=False):
        nonlocal alone
        alone += 1
        return loop(judge, record, last_of_patient)

    monkeypatch.setattr(Judge, "decide_alone", counted)
    fast = [every_field(d) for d in policy.check_many(batch, window=6)]
    monkeypatch.setattr(Judge, "decide_alone", day_book_only)
    filed = [every_field(d) for d in policy.check_many(batch, window=6)]
    assert fast == filed
    assert len(batch) / 2 < alone < len(batch)  # most groups are of one claim, not all
    rules = {f["rule"] for d in fast for f in d[0]["findings"]}
    assert "medicare.threshold.kx-pt-slp" in rules  # counted over the patient's year: the history was read
