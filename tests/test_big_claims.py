"""A claim of very many lines on one day is judged in near-linear work: counts over the day or the year that
ask for codes (`another line that day with code in @evaluations`) look only at the day's lines of those
codes, from an index made once per claim and date (program.runtime.day_lines_of), not at every line of the
day for every line judged (which took 143 s for a claim of 100,000 lines).

The work is measured, not the time: every list of lines a generated count walks is counted. A claim with a
line of each code the Medicare policy has rules for, and thousands of lines of other codes (supplies, each
its own code, judged by the rules for every code): the therapy lines' counts must walk the same lines
whatever the number of supply lines (plain scopes walked the whole day for each: n * n).

What is left (see README "Size"): lines of ONE code on one claim and day still cost k * k in the counts that
compare each line with the earlier lines of its own code (the one-line-per-code edit, the units of a code on
the claim)."""

from __future__ import annotations

import pytest

import payerpolicy
from payerpolicy.program import runtime

SCOPES = (
    "whole_day",
    "others_that_day",
    "earlier_that_day",
    "whole_year",
    "year_without_self",
    "earlier_that_year",
    "on_record",
    "record_without_self",
    "earlier_on_record",
    "day_lines_of",
)


def big_claim(lines: int, codes) -> dict:
    """A line of each of `codes` (therapy on one day) and many lines of supplies, each its own code."""
    therapy = [{"code": code, "modifiers": ["GP"], "units": 1, "minutes": 15, "date": "2026-03-02"} for code in codes]
    supplies = [
        {"code": f"A{n % 10_000:04d}" if n < 10_000 else f"E{n % 10_000:04d}", "units": 1, "date": "2026-03-02"}
        for n in range(lines - len(therapy))
    ]
    return {
        "id": "BIG",
        "patient": {"id": "P-1"},
        "provider": {"type": "PT"},
        "referring_npi": "1245319599",
        "diagnoses": ["I69.351"],
        "lines": therapy + supplies,
    }


@pytest.fixture
def counted(monkeypatch):
    """A freshly compiled Medicare whose counts add the length of every list of lines they walk to `walked`."""
    walked = [0]

    def counting(function):
        def scope(*args):
            lines = function(*args)
            walked[0] += len(lines)
            return lines

        return scope

    for name in SCOPES:
        monkeypatch.setitem(runtime.RUNTIME, name, counting(runtime.RUNTIME[name]))
    return payerpolicy.load("medicare"), walked


def test_the_lines_a_claims_counts_walk_grow_with_its_lines_not_their_square(counted):
    policy, walked = counted
    work = {}
    codes = sorted(policy.program.judge_by_code)
    assert len(codes) > 50
    for lines in (1_000, 4_000):
        walked[0] = 0
        decision = policy.check(big_claim(lines, codes))
        assert len(decision.lines) == lines
        work[lines] = walked[0]
    assert work[1_000] > 0  # the counts were seen at all
    assert work[4_000] == work[1_000], work


def test_the_index_gives_the_lines_the_scope_gives(counted):
    # Same findings with the index as the plain scopes give, over claims where the counts find something.
    policy, _ = counted
    claim = big_claim(200, ["97110"])
    claim["lines"] += [
        {"code": "97161", "modifiers": ["GP"], "units": 1, "date": "2026-03-02"},
        {"code": "97140", "modifiers": ["GP"], "units": 2, "minutes": 30, "date": "2026-03-02"},
    ]
    rules = {f.rule for f in policy.check(claim).findings}
    assert "medicare.evaluation.manual-therapy-with-evaluation" in rules
