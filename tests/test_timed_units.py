"""Timed units: the CMS 8-minute rule and the AMA per-code midpoint rule (domain file, section 3).

The manual's three worked examples are the spec; the table's boundaries, the tie rule, periods given as
times, untimed codes and bad input are tested case by case; hypothesis checks the properties that must hold
for any day (the pooled table's total, full blocks kept, at most one extra unit per code, order does not
matter, AMA never pools). The command line `payerpolicy units` is tested at the end.
"""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import payerpolicy
from payerpolicy.cli.main import main
from payerpolicy.api import day_report, medicare_untimed, units
from payerpolicy.cli.units import parse_assignment
from payerpolicy.judge.timed_units import METHODS, UnitsError, allocate_units, day_units, table_units

# ------------------------------------------------------------------------------------- the manual's examples

MANUAL_EXAMPLES = [
    # 1. 24 + 23 = 47 min -> 3 units: 97112 x2, 97110 x1.
    ({"97112": 24, "97110": 23}, {"97112": 2, "97110": 1}),
    # 2. 20 + 20 = 40 min -> 3 units, 2 and 1, never 3 to one; the tie rule gives the 2 to 97110 (lower code).
    ({"97112": 20, "97110": 20}, {"97112": 1, "97110": 2}),
    # 3. 33 + 7 = 40 min -> 3 units: 97110 x2 (its first 30 min), 97140's 7 leftover minutes beat 97110's 3.
    ({"97110": 33, "97140": 7}, {"97110": 2, "97140": 1}),
]


@pytest.mark.parametrize("minutes, expected", MANUAL_EXAMPLES, ids=["example-1", "example-2", "example-3"])
def test_manual_examples_cms(minutes, expected):
    assert allocate_units(minutes, "cms") == expected
    assert units(minutes, method="cms") == expected
    assert units(minutes) == expected  # cms is the default
    assert day_units(minutes, "cms") == 3


def test_example_2_never_puts_all_three_units_on_one_code():
    result = units({"97112": 20, "97110": 20})
    assert sorted(result.values()) == [1, 2]


def test_example_1_under_ama_bills_4_units():
    assert units({"97112": 24, "97110": 23}, method="ama") == {"97112": 2, "97110": 2}
    assert day_units({"97112": 24, "97110": 23}, "ama") == 4


def test_design_doc_library_example():
    assert payerpolicy.units({"97112": 24, "97110": 23}, method="cms") == {"97112": 2, "97110": 1}
    assert "units" in payerpolicy.__all__


# ------------------------------------------------------------------------------------------- the table

BOUNDARIES = [
    (0, 0),
    (7, 0),
    (8, 1),
    (22, 1),
    (23, 2),
    (37, 2),
    (38, 3),
    (52, 3),
    (53, 4),
    (67, 4),
    (68, 5),
    (82, 5),
    (83, 6),
    (97, 6),
    (98, 7),
    (112, 7),
    (113, 8),
    (127, 8),
    (128, 9),
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("minutes, expected", BOUNDARIES, ids=[f"{m}min" for m, _ in BOUNDARIES])
def test_table_boundaries_for_a_single_code(method, minutes, expected):
    assert table_units(minutes) == expected
    assert allocate_units({"97112": minutes}, method) == {"97112": expected}
    assert units({"97112": minutes}, method=method) == {"97112": expected}


def test_table_matches_the_manual_ranges():
    # 0-7 = 0, 8-22 = 1, 23-37 = 2, ... every 15 minutes.
    for minutes in range(0, 400):
        expected = 0 if minutes <= 7 else 1 + (minutes - 8) // 15
        assert table_units(minutes) == expected, minutes


# -------------------------------------------------------------------------------------------- ties


def test_tie_on_leftover_goes_to_the_code_with_more_total_minutes():
    # 97110 20 min (leftover 5) and 97112 35 min (leftover 5): 55 min = 4 units, 3 full blocks, 1 to share.
    assert units({"97110": 20, "97112": 35}) == {"97110": 1, "97112": 3}
    assert units({"97112": 35, "97110": 20}) == {"97112": 3, "97110": 1}


def test_tie_on_leftover_and_total_goes_to_the_lower_code():
    assert units({"97112": 20, "97110": 20}) == {"97112": 1, "97110": 2}
    assert units({"97110": 20, "97112": 20}) == {"97110": 2, "97112": 1}
    # Three codes of 10 minutes: 30 minutes pool to 2 units; the two lowest codes get them.
    assert units({"97140": 10, "97112": 10, "97110": 10}) == {"97140": 0, "97112": 1, "97110": 1}


def test_ties_do_not_depend_on_input_order():
    day = {"97530": 10, "97140": 10, "97116": 25, "97112": 10, "97110": 40}
    expected = allocate_units(day)
    codes = list(day)
    shuffle = random.Random(3)
    for _ in range(50):
        shuffle.shuffle(codes)
        assert allocate_units({c: day[c] for c in codes}) == expected


def test_result_keeps_input_order_and_every_code():
    result = allocate_units({"97530": 3, "97110": 0, "97112": 30})
    assert list(result) == ["97530", "97110", "97112"]
    assert result == {"97530": 0, "97110": 0, "97112": 2}


def test_empty_day():
    assert allocate_units({}) == {}
    assert allocate_units({}, "ama") == {}
    assert units({}) == {}


# ------------------------------------------------------- full blocks never exceed the day's units (domain 3.1)


@pytest.mark.parametrize(
    "minutes, expected",
    [
        ([15, 15, 15], [1, 1, 1]),  # 45 min = 3 units: exactly the full blocks
        ([22, 22, 22], [1, 1, 1]),  # 66 min = 4 units: blocks 3, one more to the largest leftover ...
        ([15] * 8, [1] * 8),  # 120 min = 8 units
        ([16, 17, 18, 19, 20, 21, 22], [1, 1, 1, 1, 1, 1, 1]),
    ],
)
def test_many_codes_of_15_to_22_minutes(minutes, expected):
    codes = ["97110", "97112", "97116", "97140", "97530", "97535", "97750", "97032"][: len(minutes)]
    day = dict(zip(codes, minutes))
    result = allocate_units(day)
    assert all(result[c] >= m // 15 for c, m in day.items())
    assert sum(result.values()) == table_units(sum(minutes))
    if minutes == [22, 22, 22]:
        assert result == {"97110": 2, "97112": 1, "97116": 1}  # ... a three-way tie: the lowest code
    elif minutes == [16, 17, 18, 19, 20, 21, 22]:
        # 133 min = 9 units: 7 blocks, 2 more to the largest leftovers (22 and 21 minutes).
        assert result == {"97110": 1, "97112": 1, "97116": 1, "97140": 1, "97530": 1, "97535": 2, "97750": 2}
    else:
        assert list(result.values()) == expected


# --------------------------------------------------------------------------- under 8 minutes


def test_a_code_under_8_minutes_earns_a_unit_when_the_day_allows():
    assert units({"97110": 33, "97140": 7})["97140"] == 1
    assert units({"97110": 33, "97140": 7}, method="ama")["97140"] == 0


@pytest.mark.parametrize("method", METHODS)
def test_a_lone_service_under_8_minutes_is_not_billed(method):
    assert units({"97140": 7}, method=method) == {"97140": 0}


def test_two_short_services_pool_to_a_unit_under_cms_only():
    assert units({"97110": 5, "97140": 4}) == {"97110": 1, "97140": 0}
    assert units({"97110": 5, "97140": 4}, method="ama") == {"97110": 0, "97140": 0}


# ------------------------------------------------------------------------------------- periods


def test_seed_003_morning_and_afternoon_periods_add_up():
    assert units({"97112": [20, 25]}) == {"97112": 3}
    assert units({"97112": [("08:00", "08:20"), ("14:00", "14:25")]}) == {"97112": 3}
    assert day_report({"97112": [20, 25]})["total_minutes"] == 45


@pytest.mark.parametrize(
    "value",
    [
        ("09:00", "09:24"),
        ["09:00", "09:24"],
        {"start": "09:00", "end": "09:24"},
        "09:00-09:24",
        [("09:00", "09:24")],
        [{"start": "09:00", "end": "09:10"}, "09:10-09:20", ("09:20", "09:24")],
        [("9:00", "9:14"), 10],
    ],
)
def test_periods_as_times(value):
    assert day_report({"97112": value})["total_minutes"] == 24
    assert units({"97112": value, "97110": [("10:00", "10:23")]}) == {"97112": 2, "97110": 1}


def test_touching_periods_do_not_overlap():
    assert units({"97112": ("09:00", "09:24"), "97110": ("09:24", "09:47")}) == {"97112": 2, "97110": 1}


def test_overlap_across_codes_is_refused_naming_both():
    with pytest.raises(UnitsError) as caught:
        units({"97112": ("09:00", "09:24"), "97110": ("09:20", "09:43")})
    message = str(caught.value)
    assert "97112 09:00-09:24" in message and "97110 09:20-09:43" in message
    assert "twice at the same time" in message


def test_overlap_within_one_code_is_refused():
    with pytest.raises(UnitsError, match=r"two periods of 97112 overlap: 09:00-09:30 and 09:15-09:20"):
        units({"97112": [("09:00", "09:30"), ("09:15", "09:20")]})


def test_overlap_with_an_untimed_service_is_refused():
    with pytest.raises(UnitsError, match="97161"):
        units({"97161": ("09:00", "09:45"), "97110": ("09:30", "09:53")})


def test_overlap_found_whatever_the_order():
    periods = {"97110": ("11:00", "11:30"), "97140": ("08:00", "08:10"), "97112": ("09:00", "12:00")}
    with pytest.raises(UnitsError, match="97112 09:00-12:00 overlaps 97110 11:00-11:30"):
        units(periods)


# -------------------------------------------------------------------------------------------- untimed


def contract(report: dict) -> dict:
    """The keys `units` output had before the allowed splits were added (still there, unchanged)."""
    return {key: report[key] for key in ("method", "total_minutes", "total_units", "units")}


def test_untimed_codes_bill_one_unit_and_their_minutes_do_not_count():
    report = day_report({"97112": 24, "97161": 45, "97110": 23, "97150": 30})
    assert contract(report) == {
        "method": "cms",
        "total_minutes": 47,
        "total_units": 5,
        "units": {"97112": 2, "97161": 1, "97110": 1, "97150": 1},
    }


def test_untimed_minutes_do_not_lift_the_pool():
    # 97110 7 minutes alone is nothing; an evaluation's 60 minutes must not pool with it.
    assert units({"97110": 7, "97163": 60}) == {"97110": 0, "97163": 1}


def test_medicare_untimed_set_is_read_from_the_shipped_policy():
    untimed = medicare_untimed()
    for code in ("97150", "97161", "97168", "97010", "97014", "97028", "G0283", "98940", "98942"):
        assert code in untimed
    for code in ("97110", "97112", "97140", "97530", "97035"):
        assert code not in untimed


def test_untimed_argument_adds_codes_and_ranges():
    assert units({"97999": 30, "97110": 23}) == {"97999": 2, "97110": 2}  # timed by default: 53 min = 4
    assert units({"97999": 30, "97110": 23}, untimed=["97999"]) == {"97999": 1, "97110": 2}
    assert day_report({"97999": 30, "97110": 23}, untimed=["97999"])["total_minutes"] == 23
    assert day_report({"97999": 30, "97110": 23}, untimed="97990-97999")["total_minutes"] == 23


def test_untimed_code_with_no_minutes_still_bills_one():
    assert units({"97161": [], "97112": 8}) == {"97161": 1, "97112": 1}


def test_codes_are_normalised_and_add_up():
    assert units({97112: 10, "97112": 14}) == {"97112": 2}
    assert units({"g0283": 15}) == {"G0283": 1}


# ------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "minutes, fragment",
    [
        ({"97112": -1}, "cannot be negative"),
        ({"97112": [10, -3]}, "cannot be negative"),
        ({"97112": "24"}, "neither a number of minutes nor a period"),
        ({"97112": None}, "no minutes"),
        ({"97112": True}, "whole number"),
        ({"97112": 24.5}, "whole minutes"),
        ({"97112": object()}, "not minutes or a period"),
        ({"97112": ("09:24", "09:00")}, "ends before it starts"),
        ({"97112": ("9.00", "09:20")}, "'9.00' is not a time of day"),
        ({"97112": ("09:00", "25:00")}, "'25:00' is not a time of day"),
        ({"97112": ("09:00", "09:60")}, "not a time of day"),
        ({"97112": {"start": "09:00"}}, "a period is written"),
        ({"97112": "09:00-9"}, "neither a number"),
        ({"ABC": 10}, "not a procedure code"),
        ({"": 10}, "not a procedure code"),
        ([("97112", 24)], "expected each code with its minutes"),
    ],
)
def test_bad_input_raises_units_error(minutes, fragment):
    with pytest.raises(UnitsError, match=fragment.replace("(", r"\(")):
        units(minutes)


def test_integral_float_minutes_are_accepted():
    assert units({"97112": 24.0}) == {"97112": 2}


def test_unknown_method():
    with pytest.raises(UnitsError, match="unknown method `medicare`"):
        units({"97112": 24}, method="medicare")
    with pytest.raises(ValueError):
        allocate_units({"97112": 24}, "medicare")


@pytest.mark.parametrize("method", METHODS)
def test_allocate_units_refuses_negative_minutes(method):
    with pytest.raises(ValueError, match="97112"):
        allocate_units({"97112": -5, "97110": 30}, method)


def test_units_error_is_a_value_error():
    assert issubclass(UnitsError, ValueError)


# ------------------------------------------------------------------------------------------- properties

CODES = st.sampled_from(
    ["97110", "97112", "97113", "97116", "97124", "97140", "97530", "97535", "97750", "97032", "97035", "97039"]
)
DAYS = st.dictionaries(CODES, st.integers(min_value=0, max_value=240), max_size=12)


@settings(max_examples=400)
@given(DAYS)
def test_cms_units_total_the_table_units_of_the_pooled_minutes(day):
    assert sum(allocate_units(day, "cms").values()) == table_units(sum(day.values()))


@settings(max_examples=400)
@given(DAYS)
def test_cms_each_code_gets_its_full_blocks_and_at_most_one_more(day):
    result = allocate_units(day, "cms")
    assert list(result) == list(day)
    for code, minutes in day.items():
        assert minutes // 15 <= result[code] <= minutes // 15 + 1


@settings(max_examples=400)
@given(DAYS)
def test_cms_full_blocks_never_exceed_the_day_and_extras_never_exceed_the_codes(day):
    blocks = sum(m // 15 for m in day.values())
    extra = table_units(sum(day.values())) - blocks
    assert 0 <= extra <= sum(1 for m in day.values() if m % 15)


@settings(max_examples=400)
@given(DAYS)
def test_cms_extra_units_go_to_the_largest_leftovers(day):
    result = allocate_units(day, "cms")
    winners = [m % 15 for c, m in day.items() if result[c] > m // 15]
    losers = [m % 15 for c, m in day.items() if result[c] == m // 15]
    assert all(w > 0 for w in winners)
    if winners and losers:
        assert min(winners) >= max(losers)


@settings(max_examples=300)
@given(DAYS, st.randoms(use_true_random=False), st.sampled_from(METHODS))
def test_result_does_not_depend_on_the_order_of_the_codes(day, rnd, method):
    codes = list(day)
    rnd.shuffle(codes)
    assert allocate_units({c: day[c] for c in codes}, method) == allocate_units(day, method)


@settings(max_examples=400)
@given(DAYS)
def test_ama_never_pools(day):
    result = allocate_units(day, "ama")
    for code, minutes in day.items():
        assert result[code] == table_units(minutes) == allocate_units({code: minutes}, "ama")[code]


@settings(max_examples=200)
@given(DAYS, st.sampled_from(METHODS))
def test_units_agrees_with_allocate_units(day, method):
    assert units(day, method=method) == allocate_units(day, method)


@settings(max_examples=200)
@given(st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=8), st.sampled_from(METHODS))
def test_periods_as_times_count_like_minutes(lengths, method):
    # Back-to-back periods from 08:00, dealt out to codes in turn: the same units as the bare minutes.
    codes = ["97110", "97112", "97140"]
    by_times: dict[str, list] = {}
    by_minutes: dict[str, int] = {}
    clock = 8 * 60
    for i, length in enumerate(lengths):
        code = codes[i % len(codes)]
        start, end = clock, clock + length
        by_times.setdefault(code, []).append((f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}"))
        by_minutes[code] = by_minutes.get(code, 0) + length
        clock = end
    assert units(by_times, method=method) == units(by_minutes, method=method)


# ------------------------------------------------------------------------------------------ command line


def run(capsys, *args):
    code = main(["units", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_acceptance_command(capsys):
    code, out, err = run(capsys, "--method", "cms", "97112=24", "97110=23")
    assert code == 0 and err == ""
    # The keys the contract had before the allowed splits were added come first, as they were.
    assert out.startswith(
        '{"method": "cms", "total_minutes": 47, "total_units": 3, "units": {"97112": 2, "97110": 1}, '
    )
    assert json.loads(out)["split_count"] == 1


def test_cli_default_method_is_cms_and_keeps_the_order_given(capsys):
    code, out, _ = run(capsys, "97110=23", "97112=24")
    assert code == 0
    assert contract(json.loads(out)) == {
        "method": "cms",
        "total_minutes": 47,
        "total_units": 3,
        "units": {"97110": 1, "97112": 2},
    }
    assert list(json.loads(out)["units"]) == ["97110", "97112"]


def test_cli_ama(capsys):
    code, out, _ = run(capsys, "97112=24", "97110=23", "--method", "ama")
    assert code == 0 and json.loads(out)["units"] == {"97112": 2, "97110": 2}
    assert json.loads(out)["total_units"] == 4


def test_cli_periods_that_add_up(capsys):
    code, out, _ = run(capsys, "97112=20+25")
    assert code == 0
    assert contract(json.loads(out)) == {"method": "cms", "total_minutes": 45, "total_units": 3, "units": {"97112": 3}}


def test_cli_a_code_given_twice_adds_up(capsys):
    code, out, _ = run(capsys, "97112=20", "97112=25")
    assert code == 0 and json.loads(out)["units"] == {"97112": 3}


def test_cli_times(capsys):
    code, out, _ = run(capsys, "97112=09:00-09:24", "97110=09:24-09:40,13:00-13:07")
    assert code == 0
    assert contract(json.loads(out)) == {
        "method": "cms",
        "total_minutes": 47,
        "total_units": 3,
        "units": {"97112": 2, "97110": 1},
    }
    code, out, _ = run(capsys, "97112=08:00-08:20+14:00-14:25")
    assert code == 0 and json.loads(out)["units"] == {"97112": 3}


def test_cli_untimed(capsys):
    code, out, err = run(capsys, "97112=24", "97110=23", "97999=30", "--untimed", "97999")
    assert code == 0 and err == ""
    assert contract(json.loads(out)) == {
        "method": "cms",
        "total_minutes": 47,
        "total_units": 4,
        "units": {"97112": 2, "97110": 1, "97999": 1},
    }


def test_cli_untimed_code_named_only_there_bills_one_unit(capsys):
    code, out, _ = run(capsys, "--untimed", "97161", "97112=24", "97110=23")
    assert code == 0
    assert contract(json.loads(out)) == {
        "method": "cms",
        "total_minutes": 47,
        "total_units": 4,
        "units": {"97161": 1, "97112": 2, "97110": 1},
    }


def test_cli_medicare_untimed_code_with_minutes(capsys):
    code, out, _ = run(capsys, "97112=24", "97150=45")
    assert code == 0
    assert contract(json.loads(out)) == {
        "method": "cms",
        "total_minutes": 24,
        "total_units": 3,
        "units": {"97112": 2, "97150": 1},
    }


def test_cli_options_may_follow_codes(capsys):
    code, out, _ = run(capsys, "97112=24", "--untimed", "97150", "97110=23", "--method", "ama")
    assert code == 0
    assert contract(json.loads(out)) == {
        "method": "ama",
        "total_minutes": 47,
        "total_units": 5,
        "units": {"97112": 2, "97150": 1, "97110": 2},
    }


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["97112=2x"], "97112=2x: '2x' is not minutes"),
        (["97112="], "minutes are missing"),
        (["97112=20+"], "minutes are missing"),
        (["=24"], "is not CODE=MINUTES"),
        (["97112"], "has no minutes"),
        (["foo=24"], "not a procedure code"),
        (["97112=-5"], "not minutes"),
        (["97112=09:30-09:00"], "ends before it starts"),
        (["97112=09:00-09:24", "97110=09:20-09:43"], "97112 09:00-09:24 overlaps 97110 09:20-09:43"),
        (["--method", "medicare", "97112=24"], "unknown method `medicare`"),
        (["97112=24", "--method"], "--method needs a value"),
        (["97112=24", "--bogus"], "unknown option --bogus"),
        ([], "no codes given"),
    ],
)
def test_cli_errors_exit_2_with_one_line_and_no_traceback(capsys, args, fragment):
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith("payerpolicy: ") and err.count("\n") == 1
    assert fragment in err
    assert "Traceback" not in err and "internal error" not in err


def test_parse_assignment():
    assert parse_assignment("97112=24") == ("97112", [24])
    assert parse_assignment("97112 = 20+25") == ("97112", [20, 25])
    assert parse_assignment("97112=09:00-09:24,10:00-10:05+3") == ("97112", ["09:00-09:24", "10:00-10:05", 3])


# ----------------------------------------------------------- every split the rule allows (domain section 12)

import itertools  # noqa: E402

from payerpolicy.judge.timed_splits import DaySplit, allowed_splits, day_share, share  # noqa: E402


def _greedy(minutes: list[int], units: int, order: list[int]) -> tuple[int, ...]:
    """One reading of the 8-minute rule with ties broken by `order` (the item's place in it): full blocks,
    then one unit each to the largest leftovers. Written apart from timed_splits, as the oracle."""
    out = [m // 15 for m in minutes]
    extra = units - sum(out)
    contenders = sorted((i for i, m in enumerate(minutes) if m % 15), key=lambda i: (-(minutes[i] % 15), order[i]))
    for i in contenders[:extra]:
        out[i] += 1
    return tuple(out)


def _valid_code_splits(minutes: list[int]) -> set[tuple[int, ...]]:
    """Every split of the day's units among codes that some way of breaking ties gives: brute force."""
    units = table_units(sum(minutes))
    return {_greedy(minutes, units, list(order)) for order in itertools.permutations(range(len(minutes)))}


def _valid_line_splits(lines: list[tuple[str, int]]) -> set[tuple[int, ...]]:
    """The same for lines: codes first (the code's minutes pooled), then each code's units among its lines,
    every tie-break order of codes and of lines tried."""
    codes = list(dict.fromkeys(code for code, _ in lines))
    of_code = {c: [i for i, (code, _) in enumerate(lines) if code == c] for c in codes}
    code_minutes = [sum(lines[i][1] for i in of_code[c]) for c in codes]
    found = set()
    for code_units in _valid_code_splits(code_minutes):
        per_code = []
        for c, n in zip(codes, code_units):
            line_minutes = [lines[i][1] for i in of_code[c]]
            per_code.append(
                {_greedy(line_minutes, n, list(o)) for o in itertools.permutations(range(len(line_minutes)))}
            )
        for choice in itertools.product(*per_code):
            split = [0] * len(lines)
            for c, shares in zip(codes, choice):
                for i, n in zip(of_code[c], shares):
                    split[i] = n
            found.add(tuple(split))
    return found


def test_brute_force_every_split_of_small_random_days_is_accepted_and_nothing_else():
    rnd = random.Random(22)
    for _ in range(400):
        minutes = [
            rnd.choice([0, 3, 5, 6, 7, 8, 10, 12, 14, 15, 20, 22, 23, 25, 33, 35, 37, 40, 50])
            for _ in range(rnd.randint(1, 4))
        ]
        valid = _valid_code_splits(minutes)
        found = day_share(minutes)
        assert found.count == len(valid), minutes
        assert set(found.splits()) == valid, minutes
        # Every billed split in range, valid or not: accepted exactly when the brute force has it.
        for billed in itertools.product(*(range(m // 15 + 3) for m in minutes)):
            assert found.allows(billed) == (billed in valid), (minutes, billed)


def test_brute_force_nearest_split_of_small_random_days_with_codes_on_several_lines():
    rnd = random.Random(2022)
    for _ in range(300):
        lines = [
            (rnd.choice(["97110", "97112", "97140"]), rnd.choice([0, 4, 5, 6, 7, 10, 12, 15, 20, 25, 35]))
            for _ in range(rnd.randint(1, 4))
        ]
        valid = _valid_line_splits(lines)
        for billed in itertools.product(*(range(m // 15 + 3) for _, m in lines)):
            split = DaySplit([(code, m, b) for (code, m), b in zip(lines, billed)])
            assert tuple(split.units) in valid, (lines, billed)
            if billed in valid:  # a right bill comes back unchanged, line for line
                assert tuple(split.units) == billed
            distance = sum(abs(a - b) for a, b in zip(split.units, billed))
            assert distance == min(sum(abs(a - b) for a, b in zip(v, billed)) for v in valid), (lines, billed)
        assert DaySplit([(code, m, 0) for code, m in lines]).count == len(valid), lines


def test_the_proposed_split_of_an_unbilled_day_is_allocate_units():
    # With nothing billed every choice costs the same: the tie goes as allocate_units breaks it.
    rnd = random.Random(7)
    for _ in range(200):
        day = {c: rnd.choice([5, 7, 10, 20, 22, 35]) for c in rnd.sample(["97110", "97112", "97140", "97530"], 3)}
        split = DaySplit([(c, m, 0) for c, m in day.items()])
        assert dict(zip(day, split.units)) == allocate_units(day)


def test_manual_example_2_allows_2_on_either_code_never_3():
    found = allowed_splits({"97112": 20, "97110": 20})
    assert found["count"] == 2
    assert found["splits"] == [{"97112": 2, "97110": 1}, {"97112": 1, "97110": 2}]
    assert found["allowed"] == {"97112": [1, 2], "97110": [1, 2]}
    assert "either 97112 or 97110" in found["choice"]
    assert not day_share([20, 20]).allows([3, 0]) and not day_share([20, 20]).allows([0, 3])


def test_seven_seven_seven_allows_the_unit_on_any_code():
    found = allowed_splits({"97110": 7, "97112": 7, "97140": 7})
    assert found["count"] == 3
    assert found["choice"].startswith("the day's timed unit may go to any one of 97110, 97112 or 97140")
    assert not day_share([7, 7, 7]).allows([1, 1, 0])


def test_manual_examples_1_and_3_have_one_split():
    assert allowed_splits({"97112": 24, "97110": 23})["count"] == 1
    assert allowed_splits({"97110": 33, "97140": 7}) == {
        "allowed": {"97110": [2, 2], "97140": [1, 1]},
        "count": 1,
        "splits": [{"97110": 2, "97140": 1}],
        "choice": None,
    }


def test_two_services_of_7_minutes_or_less_one_unit_to_the_longer():
    # 5 + 4 = 9 minutes: 1 unit, to the 5 minutes; 6 + 6: to either.
    assert allocate_units({"97110": 5, "97140": 4}) == {"97110": 1, "97140": 0}
    assert allocate_units({"97140": 4, "97110": 5}) == {"97140": 0, "97110": 1}
    assert allowed_splits({"97110": 5, "97140": 4})["splits"] == [{"97110": 1, "97140": 0}]
    assert allowed_splits({"97110": 6, "97140": 6})["count"] == 2
    assert allowed_splits({"97110": 3, "97140": 4})["splits"] == [{"97110": 0, "97140": 0}]  # 7 minutes: none


def test_many_tied_codes_are_counted_without_listing_them():
    day = {
        code: 10
        for code in [
            "97110",
            "97112",
            "97113",
            "97116",
            "97124",
            "97140",
            "97530",
            "97535",
            "97750",
            "97032",
            "97033",
            "97034",
            "97035",
            "97036",
            "97039",
        ]
    }
    found = allowed_splits(day)  # 150 minutes = 10 units among 15 tied codes: C(15, 10) = 3003 splits
    assert found["count"] == 3003 and len(found["splits"]) == 20
    assert share([10] * 15, 10).allows([1] * 10 + [0] * 5)
    assert not share([10] * 15, 10).allows([1] * 11 + [0] * 4)


def test_ama_has_one_split_per_day():
    assert allowed_splits({"97112": 20, "97110": 20}, "ama") == {
        "allowed": {"97112": [1, 1], "97110": [1, 1]},
        "count": 1,
        "splits": [{"97112": 1, "97110": 1}],
        "choice": None,
    }


def test_library_splits_function_and_units_unchanged():
    assert payerpolicy.splits({"97112": 20, "97110": 20, "97010": 15})["allowed"] == {
        "97112": [1, 2],
        "97110": [1, 2],
        "97010": [1, 1],
    }
    assert payerpolicy.units({"97112": 20, "97110": 20}) == {"97112": 1, "97110": 2}  # still one split
    assert "splits" in payerpolicy.__all__


def test_cli_shows_the_allowed_splits(capsys):
    assert main(["units", "97112=20", "97110=20"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["units"] == {"97112": 1, "97110": 2} and out["total_units"] == 3  # the keys kept
    assert out["allowed"] == {"97112": [1, 2], "97110": [1, 2]}
    assert out["split_count"] == 2
    assert out["splits"] == [{"97112": 2, "97110": 1}, {"97112": 1, "97110": 2}]
    assert "either 97112 or 97110" in out["choice"]


def test_cli_text_form(capsys):
    assert main(["units", "--format", "text", "97112=20", "97110=20"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "97112 x1, 97110 x2: 3 units from 40 timed minutes (cms)",
        "2 splits are allowed: one of the day's 3 timed units may go to either 97112 or 97110, whose minutes "
        "left over after full 15-minute units are equal",
        "  97112 x2, 97110 x1",
        "  97112 x1, 97110 x2",
    ]
    assert main(["units", "97112=24", "97110=23", "--format=text"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "this is the only split the rule allows"
    assert main(["units", "--format", "xml", "97110=3"]) == 2
    assert "unknown format" in capsys.readouterr().err


# ------------------------------------------------------------------- the receipt date (one line per code)


def _split_claim(modifiers=("GP",), other=("GP",), date="2021-04-16"):
    return {
        "id": "R-1",
        "patient": {"id": "P-R"},
        "referring_npi": "1245319599",
        "provider": {"type": "PT"},
        "diagnoses": ["M54.50"],
        "lines": [
            {"code": "97110", "modifiers": list(modifiers), "units": 1, "minutes": 15, "date": date},
            {"code": "97110", "modifiers": list(other), "units": 1, "minutes": 15, "date": date},
        ],
    }


def _rules(decision):
    return [f.rule for f in decision.findings]


def test_library_received_sets_the_receipt_date():
    import datetime

    policy = payerpolicy.load("medicare")
    edit = "medicare.timed.one-line-per-code"
    assert _rules(policy.check(_split_claim(), received=datetime.date(2021, 4, 18))) == []
    assert _rules(policy.check(_split_claim(), received=datetime.date(2021, 4, 19))) == [edit]
    assert _rules(policy.check(_split_claim())) == [edit]  # default: today
    many = list(policy.check_many([_split_claim()], received=datetime.date(2021, 4, 18)))
    assert _rules(many[0]) == []


def test_separate_line_modifiers():
    policy = payerpolicy.load("medicare")
    edit = ["medicare.timed.one-line-per-code"]
    for other, expected in [
        (("GP", "XS"), []),
        (("GP", "59"), []),
        (("GP", "XU"), []),
        (("GP", "KX"), edit),
        (("GP",), edit),
    ]:
        assert _rules(policy.check(_split_claim(other=other, date="2026-03-02"))) == expected, other
    # 59 on one line and XS on the other still differ by a distinct-service modifier.
    assert _rules(policy.check(_split_claim(("GP", "59"), ("GP", "XS"), date="2026-03-02"))) == []


def test_cli_received_option(tmp_path, capsys):
    path = tmp_path / "claims.json"
    path.write_text(json.dumps([_split_claim()]))
    assert main(["check", str(path), "--received", "2021-04-18"]) == 0
    assert json.loads(capsys.readouterr().out)["claims"][0]["findings"] == []
    assert main(["check", str(path), "--received", "2021-04-19"]) == 1
    found = json.loads(capsys.readouterr().out)["claims"][0]["findings"]
    assert [f["rule"] for f in found] == ["medicare.timed.one-line-per-code"]
    with pytest.raises(SystemExit) as stopped:  # argparse's own refusal, exit status 2
        main(["check", str(path), "--received", "2021-04-31"])
    assert stopped.value.code == 2 and "2021-04-31" in capsys.readouterr().err


def test_cli_received_with_jobs(tmp_path, capsys):
    path = tmp_path / "claims.json"
    path.write_text(json.dumps([_split_claim()]))
    assert main(["check", str(path), "--received", "2021-04-18", "--jobs", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["claims"][0]["findings"] == []
