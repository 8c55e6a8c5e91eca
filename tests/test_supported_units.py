"""supported_units: the units a patient-day's minutes support for each line, as rules see them."""
from __future__ import annotations

import payerpolicy
from payerpolicy.claim_read import claim_from_dict
from payerpolicy.evaluate import DayContext, Judge

TIMED = frozenset({"97110", "97112", "97140"})


def day(*lines):
    """The LineViews of one claim's day, filed in a judge's day book."""
    claim = claim_from_dict({"id": "S", "patient": {"id": "P"}, "provider": {"type": "PT"},
                             "lines": [dict(line, date="2026-03-02", modifiers=["GP"]) for line in lines]})
    judge = Judge(payerpolicy.load("medicare").program)
    return judge.file(claim)


class _Program:  # what supported_units reads of a program: its timed codes and method
    def __init__(self, method):
        self.timed_codes, self.timed_method = TIMED, method


class _Judge:
    def __init__(self, method):
        self.program = _Program(method)


def units_of(views, method="cms"):
    """Each line's supported units as a rule reads them, all lines of the day sharing one day memo."""
    judge, day_memo = _Judge(method), {}
    return [DayContext(v, views, i, judge, day_memo).supported_units(v) for i, v in enumerate(views)]


def test_one_line_per_code_gets_the_code_units():
    views = day({"code": "97112", "units": 2, "minutes": 24}, {"code": "97110", "units": 1, "minutes": 23})
    assert units_of(views) == [2, 1]
    assert units_of(views, "ama") == [2, 2]


def test_a_code_on_two_lines_shares_its_units_by_full_blocks_then_leftovers():
    # 97110: 20 + 10 = 30 minutes = 2 units; the 20-minute line has its block, the 10 minutes beat 5.
    views = day({"code": "97110", "units": 1, "minutes": 20}, {"code": "97110", "units": 1, "minutes": 10})
    assert units_of(views) == [1, 1]
    # 97110: 40 + 5 = 45 minutes = 3 units: blocks 2 + 0, and the leftover unit goes to the 10 left of 40.
    views = day({"code": "97110", "units": 3, "minutes": 40}, {"code": "97110", "units": 1, "minutes": 5})
    assert units_of(views) == [3, 0]


def test_untimed_lines_support_one_unit_and_timed_lines_without_minutes_none():
    views = day({"code": "97161", "units": 1}, {"code": "97110", "units": 2})
    assert units_of(views) == [1, None]


def test_untimed_minutes_do_not_count():
    views = day({"code": "97010", "units": 1, "minutes": 30}, {"code": "97110", "units": 1, "minutes": 7})
    assert units_of(views) == [1, 0]
