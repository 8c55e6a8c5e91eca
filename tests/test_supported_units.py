"""supported_units: the units a patient-day's minutes support for each line, as rules see them."""

from __future__ import annotations

import payerpolicy
from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.judge.judge import DayContext, Judge

TIMED = frozenset({"97110", "97112", "97140"})


def day(*lines):
    """The LineViews of one claim's day, filed in a judge's day book."""
    claim = claim_from_dict(
        {
            "id": "S",
            "patient": {"id": "P"},
            "provider": {"type": "PT"},
            "lines": [dict(line, date="2026-03-02", modifiers=["GP"]) for line in lines],
        }
    )
    judge = Judge(payerpolicy.load("medicare").program)
    return judge.file(claim)


class _Program:  # what supported_units reads of a program: its timed codes and method
    def __init__(self, method):
        self.timed_codes, self.timed_method = TIMED, method


class _Judge:
    shared_days = None  # judging alone, not side by side with another policy (judge.side_by_side)

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


# ------------------------------------------------------------ every allowed split is supported as billed


def test_manual_example_2_either_way_is_supported_as_billed():
    # 97112 20 min and 97110 20 min pool to 3 units: 2 on either code and 1 on the other.
    for billed in ([2, 1], [1, 2]):
        views = day(
            {"code": "97112", "units": billed[0], "minutes": 20}, {"code": "97110", "units": billed[1], "minutes": 20}
        )
        assert units_of(views) == billed


def test_three_on_one_code_is_never_supported_and_the_nearest_split_is_proposed():
    views = day({"code": "97112", "units": 3, "minutes": 20}, {"code": "97110", "units": 0, "minutes": 20})
    assert units_of(views) == [2, 1]  # one unit moved, not two
    views = day({"code": "97112", "units": 0, "minutes": 20}, {"code": "97110", "units": 3, "minutes": 20})
    assert units_of(views) == [1, 2]


def test_seven_seven_seven_the_unit_may_go_to_any_code():
    codes = ["97110", "97112", "97140"]
    for winner in codes:
        views = day(*({"code": c, "units": int(c == winner), "minutes": 7} for c in codes))
        assert units_of(views) == [int(c == winner) for c in codes]
    # A unit on each: only one is supported, the tie broken to the lower code (97110).
    views = day(*({"code": c, "units": 1, "minutes": 7} for c in codes))
    assert units_of(views) == [1, 0, 0]


def test_a_timed_line_without_minutes_leaves_the_others_only_their_sure_range():
    # 97110 5 minutes could earn a unit with the unknown minutes of 97140: 0 or 1 unit, as billed.
    views = day(
        {"code": "97110", "units": 1, "minutes": 5}, {"code": "97140", "units": 1}, {"code": "97010", "units": 1}
    )
    assert units_of(views) == [1, None, 1]
    # 38 minutes are 2 full units for sure and at most 3: 0 billed is held to 2, 5 to 3, 3 stays 3.
    for billed, supported in ((0, 2), (5, 3), (3, 3), (2, 2)):
        views = day({"code": "97110", "units": billed, "minutes": 38}, {"code": "97140", "units": 1})
        assert units_of(views) == [supported, None]
    # No timed line with minutes: nothing known.
    views = day({"code": "97110", "units": 2}, {"code": "97140", "units": 1})
    assert units_of(views) == [None, None]


def test_the_day_split_words():
    views = day({"code": "97112", "units": 3, "minutes": 20}, {"code": "97110", "units": 0, "minutes": 20})
    judge, day_memo = _Judge("cms"), {}
    context = DayContext(views[0], views, 0, judge, day_memo)
    assert context.split_words("proposal") == "97112 x2, 97110 x1"
    assert context.split_words("others") == (
        " (other splits are valid too: one of the day's 3 timed units may go to either 97112 or 97110, whose "
        "minutes left over after full 15-minute units are equal)"
    )
    views = day({"code": "97112", "units": 2, "minutes": 24}, {"code": "97110", "units": 1, "minutes": 23})
    context = DayContext(views[0], views, 0, judge, {})
    assert context.split_words("proposal") == "97112 x2, 97110 x1"
    assert context.split_words("others") == ""  # example 1 has one split only
