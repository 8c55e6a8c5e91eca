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
from payerpolicy.cli import main
from payerpolicy.timed_units import (METHODS, UnitsError, allocate_units, day_report, day_units,
                                     medicare_untimed, parse_assignment, table_units, units)

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

BOUNDARIES = [(0, 0), (7, 0), (8, 1), (22, 1), (23, 2), (37, 2), (38, 3), (52, 3), (53, 4), (67, 4), (68, 5),
              (82, 5), (83, 6), (97, 6), (98, 7), (112, 7), (113, 8), (127, 8), (128, 9)]


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

@pytest.mark.parametrize("minutes, expected", [
    ([15, 15, 15], [1, 1, 1]),          # 45 min = 3 units: exactly the full blocks
    ([22, 22, 22], [1, 1, 1]),          # 66 min = 4 units: blocks 3, one more to the largest leftover ...
    ([15] * 8, [1] * 8),                # 120 min = 8 units
    ([16, 17, 18, 19, 20, 21, 22], [1, 1, 1, 1, 1, 1, 1]),
])
def test_many_codes_of_15_to_22_minutes(minutes, expected):
    codes = ["97110", "97112", "97116", "97140", "97530", "97535", "97750", "97032"][:len(minutes)]
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


@pytest.mark.parametrize("value", [
    ("09:00", "09:24"),
    ["09:00", "09:24"],
    {"start": "09:00", "end": "09:24"},
    "09:00-09:24",
    [("09:00", "09:24")],
    [{"start": "09:00", "end": "09:10"}, "09:10-09:20", ("09:20", "09:24")],
    [("9:00", "9:14"), 10],
])
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

def test_untimed_codes_bill_one_unit_and_their_minutes_do_not_count():
    report = day_report({"97112": 24, "97161": 45, "97110": 23, "97150": 30})
    assert report == {"method": "cms", "total_minutes": 47, "total_units": 5,
                      "units": {"97112": 2, "97161": 1, "97110": 1, "97150": 1}}


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

@pytest.mark.parametrize("minutes, fragment", [
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
])
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

CODES = st.sampled_from(["97110", "97112", "97113", "97116", "97124", "97140", "97530", "97535", "97750",
                         "97032", "97035", "97039"])
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
    assert out == '{"method": "cms", "total_minutes": 47, "total_units": 3, "units": {"97112": 2, "97110": 1}}\n'


def test_cli_default_method_is_cms_and_keeps_the_order_given(capsys):
    code, out, _ = run(capsys, "97110=23", "97112=24")
    assert code == 0
    assert json.loads(out) == {"method": "cms", "total_minutes": 47, "total_units": 3,
                               "units": {"97110": 1, "97112": 2}}
    assert list(json.loads(out)["units"]) == ["97110", "97112"]


def test_cli_ama(capsys):
    code, out, _ = run(capsys, "97112=24", "97110=23", "--method", "ama")
    assert code == 0 and json.loads(out)["units"] == {"97112": 2, "97110": 2}
    assert json.loads(out)["total_units"] == 4


def test_cli_periods_that_add_up(capsys):
    code, out, _ = run(capsys, "97112=20+25")
    assert code == 0
    assert json.loads(out) == {"method": "cms", "total_minutes": 45, "total_units": 3, "units": {"97112": 3}}


def test_cli_a_code_given_twice_adds_up(capsys):
    code, out, _ = run(capsys, "97112=20", "97112=25")
    assert code == 0 and json.loads(out)["units"] == {"97112": 3}


def test_cli_times(capsys):
    code, out, _ = run(capsys, "97112=09:00-09:24", "97110=09:24-09:40,13:00-13:07")
    assert code == 0
    assert json.loads(out) == {"method": "cms", "total_minutes": 47, "total_units": 3,
                               "units": {"97112": 2, "97110": 1}}
    code, out, _ = run(capsys, "97112=08:00-08:20+14:00-14:25")
    assert code == 0 and json.loads(out)["units"] == {"97112": 3}


def test_cli_untimed(capsys):
    code, out, err = run(capsys, "97112=24", "97110=23", "97999=30", "--untimed", "97999")
    assert code == 0 and err == ""
    assert json.loads(out) == {"method": "cms", "total_minutes": 47, "total_units": 4,
                               "units": {"97112": 2, "97110": 1, "97999": 1}}


def test_cli_untimed_code_named_only_there_bills_one_unit(capsys):
    code, out, _ = run(capsys, "--untimed", "97161", "97112=24", "97110=23")
    assert code == 0
    assert json.loads(out) == {"method": "cms", "total_minutes": 47, "total_units": 4,
                               "units": {"97161": 1, "97112": 2, "97110": 1}}


def test_cli_medicare_untimed_code_with_minutes(capsys):
    code, out, _ = run(capsys, "97112=24", "97150=45")
    assert code == 0
    assert json.loads(out) == {"method": "cms", "total_minutes": 24, "total_units": 3,
                               "units": {"97112": 2, "97150": 1}}


def test_cli_options_may_follow_codes(capsys):
    code, out, _ = run(capsys, "97112=24", "--untimed", "97150", "97110=23", "--method", "ama")
    assert code == 0
    assert json.loads(out) == {"method": "ama", "total_minutes": 47, "total_units": 5,
                               "units": {"97112": 2, "97150": 1, "97110": 2}}


@pytest.mark.parametrize("args, fragment", [
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
])
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
