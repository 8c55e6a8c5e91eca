"""Judging leaves no garbage for the cycle collector: every object made for a claim is freed by reference
counting the moment it is done with. In an application with a large heap of its own, each collection the
judging sets off walks that heap too, so reference cycles on the per-claim path (the judge and its day
contexts pointing at each other, say) made `check_many` slower per claim than `check`.

Each test runs with the collector off, collects once before, judges, and then asks the collector what it
found unreachable: with DEBUG_SAVEALL it keeps what it found in `gc.garbage`, which must be empty.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import generate  # noqa: E402

import payerpolicy  # noqa: E402


@pytest.fixture(scope="module")
def medicare():
    return payerpolicy.load("medicare")


@pytest.fixture(scope="module")
def claims():
    return generate.claims(300, seed=7)


def cycle_garbage(run) -> list:
    """What the cycle collector finds unreachable after `run()`, which runs with the collector off."""
    gc.collect()
    flags = gc.get_debug()
    gc.disable()
    try:
        run()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        found = list(gc.garbage)
    finally:
        gc.set_debug(flags)
        gc.garbage.clear()
        gc.enable()
    return found


def describe(garbage: list) -> str:
    kinds: dict[str, int] = {}
    for thing in garbage:
        kinds[type(thing).__name__] = kinds.get(type(thing).__name__, 0) + 1
    return ", ".join(f"{name} x{count}" for name, count in sorted(kinds.items(), key=lambda kv: -kv[1])[:8])


def test_check_leaves_no_cycle_garbage(medicare, claims):
    def run():
        for claim in claims:
            medicare.check(claim)

    garbage = cycle_garbage(run)
    assert not garbage, describe(garbage)


def test_check_many_leaves_no_cycle_garbage(medicare, claims):
    decisions = []
    garbage = cycle_garbage(lambda: decisions.extend(medicare.check_many(claims, window=50)))
    assert len(decisions) == len(claims)
    assert any(d.findings for d in decisions)  # the rules did fire: the judging was real
    assert not garbage, describe(garbage)


def test_unreadable_claims_leave_no_cycle_garbage(medicare):
    bad = [{"id": f"B{n}", "patient": {"id": "P"}, "lines": [{"code": "97110", "units": "two"}]} for n in range(50)]
    decisions = []
    garbage = cycle_garbage(lambda: decisions.extend(medicare.check(claim) for claim in bad))
    assert {d.status for d in decisions} == {"error"}
    assert not garbage, describe(garbage)


def test_the_check_detects_a_cycle():
    """The measure itself can fail: a run that leaves a cycle behind is caught."""

    def run():
        a: dict = {}
        a["self"] = a

    assert cycle_garbage(run)
