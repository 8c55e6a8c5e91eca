"""A day whose timed codes are each on one line takes `DaySplit`'s quick road (`_one_line_each`); any day may
take the general one (`_shared_among_lines`). Over thousands of random days both give the same units, the
same count of allowed splits and the same words, and the lines' names are made only when a message needs them."""

from __future__ import annotations

import copy
import random

import pytest

from payerpolicy.judge.timed_splits import DaySplit, _shared_among_lines

CODES = ["97110", "97112", "97116", "97140", "97530", "97535", "92507"]


def general_road(lines, method: str) -> DaySplit:
    """The day's split as the general road makes it, whatever the day."""
    split = DaySplit(lines, method)
    general = copy.copy(split)
    general._day, general.units, general._line_shares = _shared_among_lines(lines, method, split.codes, split._lines)
    return general


def random_day(rng: random.Random, one_line_each: bool) -> list[tuple[str, int, int]]:
    count = rng.randint(1, 5)
    if one_line_each:
        codes = rng.sample(CODES, count)
    else:  # at least one code on two lines or more
        codes = [rng.choice(CODES[:3]) for _ in range(count + 1)]
        codes.append(codes[0])
        rng.shuffle(codes)
    return [
        (code, rng.choice([0, 7, 8, 15, 22, 23, 30, 37, 38, 45, 52, 53, rng.randint(0, 90)]), rng.randint(0, 5))
        for code in codes
    ]


@pytest.mark.parametrize("method", ["cms", "ama"])
def test_the_quick_road_for_one_line_per_code_is_the_general_road(method):
    rng = random.Random(1616)
    quick_days = 0
    for _ in range(3000):
        lines = random_day(rng, one_line_each=True)
        split = DaySplit(lines, method)
        assert split._line_shares is None  # the quick road was taken
        quick_days += 1
        general = general_road(lines, method)
        assert split.units == general.units, lines
        assert split.count == general.count, lines
        assert split.others() == general.others(), lines
        assert split.proposal() == general.proposal(), lines
    assert quick_days == 3000


@pytest.mark.parametrize("method", ["cms", "ama"])
def test_a_code_on_several_lines_takes_the_general_road(method):
    rng = random.Random(1617)
    for _ in range(1000):
        lines = random_day(rng, one_line_each=False)
        split = DaySplit(lines, method)
        assert split._line_shares is not None
        general = general_road(lines, method)
        assert (split.units, split.count, split.others()) == (general.units, general.count, general.others())


def test_the_lines_names_are_made_only_when_a_message_names_lines():
    asked = []

    def labels():
        asked.append(1)
        return ["claim B line 1", "line 2"]

    one_each = DaySplit([("97110", 23, 2), ("97112", 15, 1)], "cms", labels)
    assert one_each.proposal() == "97110 x2, 97112 x1" and not asked
    shared = DaySplit([("97110", 23, 2), ("97110", 15, 1)], "cms", labels)
    assert shared.proposal() == "97110 x3 (claim B line 1 x2, line 2 x1)" and asked == [1]
    assert shared.labels == ["claim B line 1", "line 2"] and asked == [1]  # made once
    assert DaySplit([("97110", 8, 1), ("97110", 8, 1)]).labels == ["line 1", "line 2"]
