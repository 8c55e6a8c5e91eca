"""`Policy.check` keeps its judges between calls (making one per claim cost as much as reading the claim):
each claim is still judged alone, as if by a new judge, whatever was judged before, and threads never
share a judge."""

from __future__ import annotations

import concurrent.futures
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import generate  # noqa: E402

import payerpolicy  # noqa: E402


def line(code: str) -> dict:
    return {"code": code, "modifiers": ["GP"], "units": 1, "minutes": 15, "date": "2026-03-02"}


@pytest.fixture(scope="module")
def medicare():
    return payerpolicy.load("medicare")


def test_a_claim_checked_after_another_of_its_day_does_not_see_it(medicare):
    first = {"id": "A", "patient": {"id": "P-1"}, "lines": [line("97530")]}
    second = {"id": "B", "patient": {"id": "P-1"}, "lines": [line("97116")]}
    pair = "medicare.pair.97530-97116"
    together = list(medicare.check_many([first, second]))
    assert pair in [f.rule for f in together[1].findings]  # judged together, the pair is found on the second
    medicare.check(first)
    alone = medicare.check(second)
    assert pair not in [f.rule for f in alone.findings]
    assert alone == payerpolicy.load("medicare").check(second)


def test_checks_in_any_order_and_after_errors_decide_alike(medicare):
    claims = generate.claims(150, seed=5)
    broken = {"id": "X", "patient": {"id": "P-9"}, "lines": [{"code": "97110", "units": -1}]}
    first = [medicare.check(claim) for claim in claims]
    assert medicare.check(broken).status == "error"
    again = [medicare.check(claim) for claim in reversed(claims)][::-1]
    fresh = payerpolicy.load("medicare")
    assert first == again == [fresh.check(claim) for claim in claims]
    assert any(d.findings for d in first)


def test_threads_checking_at_once_decide_as_one_thread(medicare):
    claims = generate.claims(300, seed=6)
    alone = [medicare.check(claim) for claim in claims]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        shares = [claims[n::4] for n in range(4)]
        results = list(pool.map(lambda share: [medicare.check(claim) for claim in share], shares))
    together = [None] * len(claims)
    for n, decided in enumerate(results):
        together[n::4] = decided
    assert together == alone


def test_received_is_the_call_s_own(medicare):
    import datetime

    claim = generate.claims(1, seed=8)[0]
    assert medicare.check(claim, received=datetime.date(2026, 5, 1)) == medicare.check(claim)  # no rule reads it
    judge = medicare._spare_judges[-1]
    medicare.check(claim, received=datetime.date(2026, 5, 1))
    assert judge.received == datetime.date(2026, 5, 1)
    medicare.check(claim)
    assert judge.received == datetime.date.today()
