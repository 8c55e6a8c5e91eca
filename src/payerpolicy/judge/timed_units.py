"""Timed units: how a patient-day's treatment minutes turn into billable 15-minute units.

A timed code (97110, 97112, 97140, ...) is billed in 15-minute units from its direct one-on-one minutes; an
untimed code (an evaluation, group therapy 97150, a supervised modality) is billed as one unit whatever the
time, and its minutes count for nothing. Two methods turn timed minutes into units (domain file, section 3):

`cms`, the Medicare 8-minute rule (Pub 100-04, chapter 5, section 20.2). The minutes of every timed code of
the day are pooled, and the pooled total sets the day's units by the table 0-7 = 0, 8-22 = 1, 23-37 = 2,
38-52 = 3, ... : `0 if total < 8 else (total + 7) // 15`. The units are then shared out:

  1. each code first gets its full 15-minute blocks, `minutes // 15` (so a code of 15 minutes or more always
     gets at least one unit, and no code's units are all put on another);
  2. the units left over (the day's units minus all the full blocks) go one each to the codes with the most
     minutes left over, `minutes % 15` (a code under 15 minutes counts all its minutes). So a code under
     8 minutes can earn a unit when the day's total allows it (the manual's example 3: 97110 33 min and
     97140 7 min make 40 min = 3 units; 97110 gets its 2 full blocks, and 97140's 7 leftover minutes beat
     97110's 3 for the third unit).

  Ties. The manual lets a tie go to either code; this module decides it so that the result never depends on
  the order the codes are listed in: among codes with equal leftover minutes, the code with more total
  minutes that day wins, and if that is equal too, the lower code in string order ("97110" before "97112").
  The manual's example 2 (97112 20 min, 97110 20 min = 3 units) therefore bills 97110 x2 and 97112 x1.

  The day's full blocks never exceed the day's units, so the case the domain file leaves open ("a day whose
  full 15-minute blocks already exceed the total", e.g. many codes of 15-22 minutes each) cannot happen when
  the table is applied to the pooled minutes. Proof: write each code's minutes as m = 15 * b + r with
  0 <= r <= 14. Then total = 15 * B + R with B the sum of the blocks b and R the sum of the leftovers r, and
  for total >= 8, day units = (15 * B + R + 7) // 15 = B + (R + 7) // 15 >= B (the floor of a sum is at
  least the sum of the floors, and the +7 only adds). For total < 8 every code is under 15 minutes, so B = 0.
  Nor can the leftover units exceed the codes that have leftover minutes to compete with: if k codes have
  r > 0 then R <= 14 * k and (R + 7) // 15 <= (14 * k + 7) // 15 <= k, because 14 * k + 7 < 15 * (k + 1).
  So step 2 gives each code at most one extra unit, and every code ends with its full blocks or its full
  blocks + 1. (Three codes of 15-22 minutes each pool to 45-66 minutes, 3-4 units: each gets its block, and
  the fourth unit, if any, goes to the largest leftover.) What the per-code reading of the table would get
  wrong is the other direction: three codes of 10 minutes each pool to 30 minutes, 2 units, not 3; the two
  codes that win the tie rule get them and the third gets none.

`ama`, the CPT midpoint rule: each code on its own, by the same table: `0 if minutes < 8 else
(minutes + 7) // 15`. Nothing is pooled, so the methods differ on the same minutes (example 1: 97112 24 min
and 97110 23 min bill 3 units under `cms`, 2 + 2 = 4 under `ama`).

`allocate_units` is the fast core the engine calls once per patient-day, on timed codes and whole minutes.
`units` is the library function for people: it takes minutes, lists of periods or clock times, finds which
codes are untimed, and checks the input, raising `UnitsError` (a `ValueError`) with a message a billing
specialist can act on. A period's end is the start of the next minute not treated, so 09:00-09:24 is 24
minutes and touches 09:24-09:47 without overlapping it; every period is checked against every other,
untimed codes' too (one patient cannot be treated twice at once). This module uses only the standard library
and `payerpolicy.codes` (the shipped Medicare policy is read once, through `payerpolicy.load`, to know its
untimed codes).
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

from payerpolicy.codes import CODE_RANGE, PROCEDURE_CODE, range_codes

__all__ = [
    "METHODS",
    "UnitsError",
    "table_units",
    "allocate_units",
    "day_units",
    "units",
    "splits",
    "day_report",
    "expand_codes",
]

METHODS = ("cms", "ama")
_METHOD_NAMES = "`cms` (the Medicare 8-minute rule, minutes pooled) or `ama` (the CPT midpoint rule, per code)"


class UnitsError(ValueError):
    """Minutes that cannot be turned into units; the message says what is wrong and where."""


def table_units(minutes: int) -> int:
    """The unit table: 0-7 minutes = 0 units, 8-22 = 1, 23-37 = 2, ... every 15 minutes."""
    return 0 if minutes < 8 else (minutes + 7) // 15


def _unknown_method(method) -> UnitsError:
    return UnitsError(f"unknown method `{method}`: use {_METHOD_NAMES}")


def _negative(code, minutes) -> UnitsError:
    return UnitsError(f"{code}: minutes cannot be negative ({minutes})")


def allocate_units(minutes_by_code: Mapping[str, int], method: str = "cms") -> dict[str, int]:
    """Units per timed code for one patient-day, from each code's total direct minutes that day.

    Every input code is in the result (0 allowed), in input order. `method` is `cms` (minutes pooled,
    shared out by full blocks then largest leftovers, ties to more total minutes then the lower code) or
    `ama` (each code on its own). Raises `UnitsError` (a `ValueError`) for an unknown method or negative
    minutes; nothing else is checked.
    """
    if method == "ama":
        out = {}
        for code, minutes in minutes_by_code.items():
            if minutes < 0:
                raise _negative(code, minutes)
            out[code] = 0 if minutes < 8 else (minutes + 7) // 15
        return out
    if method != "cms":
        raise _unknown_method(method)
    out = {}
    total = blocks = 0
    for code, minutes in minutes_by_code.items():
        if minutes < 0:
            raise _negative(code, minutes)
        total += minutes
        out[code] = minutes // 15
        blocks += out[code]
    extra = (0 if total < 8 else (total + 7) // 15) - blocks  # 0 <= extra <= codes with leftovers: see above
    if extra:
        contenders = sorted(
            (-(minutes % 15), -minutes, code) for code, minutes in minutes_by_code.items() if minutes % 15
        )
        for _, _, code in contenders[:extra]:
            out[code] += 1
    return out


def day_units(minutes_by_code: Mapping[str, int], method: str = "cms") -> int:
    """The total timed units of one patient-day (what `allocate_units` shares out), from timed codes' minutes."""
    return sum(allocate_units(minutes_by_code, method).values())


# ------------------------------------------------------------------------------------------ untimed codes


def expand_codes(entries: Iterable) -> set[str]:
    """Codes and ranges ("97010-97028") as the set of codes they name; `UnitsError` for anything else."""
    out: set[str] = set()
    for entry in entries:
        text = _code_text(entry)
        found = CODE_RANGE.match(text)
        if found:
            codes = range_codes(found.group(1), found.group(2))
            if isinstance(codes, str):
                raise UnitsError(f"untimed code range {text}: {codes.replace('`', '')}")
            out.update(codes)
        else:
            out.add(_code(entry))
    return out


def _code_text(code) -> str:
    if isinstance(code, bool) or not isinstance(code, (str, int)):
        raise UnitsError(f"{code!r} is not a procedure code (a CPT or HCPCS code such as 97112 or G0283)")
    return str(code).strip().upper()


def _code(code) -> str:
    text = _code_text(code)
    if not PROCEDURE_CODE.match(text):
        raise UnitsError(f"`{code}` is not a procedure code (a CPT or HCPCS code such as 97112 or G0283)")
    return text


# ------------------------------------------------------------------------------------------- minutes in

_CLOCK = re.compile(r"^\s*([01]?[0-9]|2[0-3]):([0-5][0-9])\s*$")
_PERIOD = re.compile(r"^\s*([0-9]{1,2}:[0-9]{2})\s*-\s*([0-9]{1,2}:[0-9]{2})\s*$")
_TIME_HELP = "write times of day as HH:MM on a 24-hour clock, such as 09:00 or 14:30"


def _clock(code: str, text) -> int:
    found = _CLOCK.match(text) if isinstance(text, str) else None
    if not found:
        raise UnitsError(f"{code}: {text!r} is not a time of day; {_TIME_HELP}")
    return int(found.group(1)) * 60 + int(found.group(2))


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


class _Period:
    __slots__ = ("code", "start", "end")

    def __init__(self, code: str, start: int, end: int):
        self.code, self.start, self.end = code, start, end

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


def _period(code: str, start, end) -> _Period:
    first, last = _clock(code, start), _clock(code, end)
    if last < first:
        raise UnitsError(
            f"{code}: the period {_hhmm(first)}-{_hhmm(last)} ends before it starts "
            "(a period past midnight must be given as two periods, one each day)"
        )
    return _Period(code, first, last)


def _is_time_pair(value) -> bool:
    return (
        isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, str) and "-" not in v for v in value)
    )


def _piece(code: str, value, periods: list) -> int:
    """The minutes of one item of a code's value: a number, or a period (which is also recorded)."""
    if isinstance(value, bool):
        raise UnitsError(f"{code}: minutes must be a whole number, not {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise _negative(code, value)
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise UnitsError(f"{code}: minutes must be whole minutes, not {value!r}")
        return _piece(code, int(value), periods)
    if isinstance(value, str):
        found = _PERIOD.match(value)
        if not found:
            raise UnitsError(
                f"{code}: {value!r} is neither a number of minutes nor a period such as "
                "09:00-09:24 (minutes are given as numbers, not text)"
            )
        period = _period(code, found.group(1), found.group(2))
    elif isinstance(value, Mapping):
        if set(value) != {"start", "end"}:
            raise UnitsError(f"{code}: a period is written {{'start': '09:00', 'end': '09:24'}}, not {dict(value)!r}")
        period = _period(code, value["start"], value["end"])
    elif _is_time_pair(value):
        period = _period(code, value[0], value[1])
    else:
        raise UnitsError(
            f"{code}: {value!r} is not minutes or a period; give a number of minutes, a list of "
            "them, or periods such as ('09:00', '09:24')"
        )
    periods.append(period)
    return period.end - period.start


def _minutes(code: str, value, periods: list) -> int:
    """A code's minutes that day: a number, a period, or a list of numbers and periods (which add up)."""
    if value is None:
        raise UnitsError(f"{code}: no minutes given")
    if isinstance(value, (list, tuple)) and not _is_time_pair(value):
        return sum(_piece(code, item, periods) for item in value)
    return _piece(code, value, periods)


def _check_overlaps(periods: list[_Period]) -> None:
    """One patient cannot be treated twice at once: no two periods (of any codes) may overlap."""
    latest = None  # of the periods so far, the one that ends last
    for period in sorted((p for p in periods if p.end > p.start), key=lambda p: (p.start, p.end, p.code)):
        if latest is not None and period.start < latest.end:
            if period.code == latest.code:
                where = f"two periods of {period.code} overlap: {latest} and {period}"
            else:
                where = f"{latest.code} {latest} overlaps {period.code} {period}"
            raise UnitsError(f"{where}; one patient cannot be treated twice at the same time, so correct the times")
        if latest is None or period.end > latest.end:
            latest = period


def _read(minutes_by_code, method: str, untimed) -> dict:
    """Check the input and work out the day: the `payerpolicy units` report, codes in input order."""
    if method not in METHODS:
        raise _unknown_method(method)
    if not isinstance(minutes_by_code, Mapping):
        raise UnitsError("expected each code with its minutes, such as {'97112': 24, '97110': 23}")
    if isinstance(untimed, (str, int)):
        untimed = (untimed,)
    untimed_codes = expand_codes(untimed)
    timed: dict[str, int] = {}
    other: dict[str, int] = {}
    periods: list[_Period] = []
    order: dict[str, None] = {}
    for raw, value in minutes_by_code.items():
        code = _code(raw)
        order[code] = None
        minutes = _minutes(code, value, periods)
        into = other if code in untimed_codes else timed
        into[code] = into.get(code, 0) + minutes  # 97112 and "97112" are one code
    _check_overlaps(periods)
    allocated = allocate_units(timed, method)
    per_code = {code: 1 if code in other else allocated[code] for code in order}
    from payerpolicy.judge.timed_splits import allowed_splits  # here: timed_splits builds on this module

    found = allowed_splits(timed, method)
    allowed = {code: [1, 1] if code in other else found["allowed"][code] for code in order}
    splits = [{code: 1 if code in other else split[code] for code in order} for split in found["splits"]]
    return {
        "method": method,
        "total_minutes": sum(timed.values()),
        "total_units": sum(per_code.values()),
        "units": per_code,
        "allowed": allowed,
        "split_count": found["count"],
        "splits": splits,
        "choice": found["choice"],
    }


def units(minutes_by_code: Mapping, method: str = "cms", untimed: Iterable = ()) -> dict[str, int]:
    """The units each code of one patient-day bills.

        payerpolicy.units({"97112": 24, "97110": 23}, method="cms")   # -> {"97112": 2, "97110": 1}

    A code's value is its minutes (24), a list of minutes that add up ([20, 25]: two periods, 45 minutes),
    or periods given as times: ("09:00", "09:24"), {"start": "09:00", "end": "09:24"} or "09:00-09:24", alone
    or in a list. Periods may not overlap, within a code or across codes. Untimed codes (`untimed`: codes or ranges
    such as "97010-97028"; `payerpolicy.units` adds the shipped Medicare policy's `untimed` set) bill one unit
    each and their minutes are not pooled; every other code is timed. Raises `UnitsError` (a `ValueError`) for bad
    input: a malformed code or time, negative minutes, a period ending before it starts, overlapping periods,
    an unknown method.
    """
    return _read(minutes_by_code, method, untimed)["units"]


def splits(minutes_by_code: Mapping, method: str = "cms", untimed: Iterable = ()) -> dict:
    """Every split of one patient-day's units the rule allows (ties may go to any of the tied codes):

        payerpolicy.splits({"97112": 20, "97110": 20})
        # -> {"allowed": {"97112": [1, 2], "97110": [1, 2]}, "count": 2,
        #     "splits": [{"97112": 2, "97110": 1}, {"97112": 1, "97110": 2}],
        #     "choice": "one of the day's 3 units may go to either 97112 or 97110, whose minutes left over ..."}

    `allowed`: each code's fewest and most units in any allowed split; `count`: how many splits; `splits`:
    the first 20 of them (many tied codes make many splits); `choice`: the freedom in words, None when there
    is one split only. Input as for `units`.
    """
    report = _read(minutes_by_code, method, untimed)
    return {
        "allowed": report["allowed"],
        "count": report["split_count"],
        "splits": report["splits"],
        "choice": report["choice"],
    }


def day_report(minutes_by_code: Mapping, method: str = "cms", untimed: Iterable = ()) -> dict:
    """What `payerpolicy units` prints: the method, the timed minutes, the day's units and each code's units
    (`units`: one split, the one ties are broken to), then every split the rule allows: `allowed` (each code's
    fewest and most units), `split_count`, `splits` (the first 20) and `choice` (in words, or None).

    `total_minutes` counts timed minutes only; `total_units` includes the untimed codes' units.
    """
    return _read(minutes_by_code, method, untimed)
