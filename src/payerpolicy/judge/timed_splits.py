"""Timed units: every split of a patient-day's units that the 8-minute rule allows, not just one.

`judge.timed_units.allocate_units` gives one split of the day's units, broken by its own tie rule. The manual lets a
tie go to either code (Pub 100-04 ch. 5 §20.2, example 2: 97112 20 min and 97110 20 min bill 3 units, 2 on
either code and 1 on the other; domain file section 12, "Units and ties"), so a checker must accept every
split the rule allows. Listing them is no way to do it: ten codes of 10 minutes each pool to 100 minutes,
7 units, and C(10, 7) = 120 splits. The splits have a simple shape instead, `Share`:

  - every item (a code of the day, or a line of one code) gets its full 15-minute blocks;
  - the units left over go to the items with the most minutes left over beyond their blocks. An item whose
    leftover is larger than the last one to win a unit surely gets one more; one whose leftover is smaller
    surely does not;
  - the items whose leftover equals the last winner's are *tied*: any `free` of them get one unit more. That
    is the only freedom, so the allowed splits number C(tied, free).

Under `ama` (each code on its own) a code's units are fixed; only the sharing among one code's lines can tie.

A code billed on several lines (a PT's 97110 and a PT assistant's 97110 with CQ) first takes its units as a
code, then shares them among its lines the same way: full blocks per line, then the largest leftovers, ties
either way. When a tied code may take one unit more or not, its lines are shared for whichever it takes.

`DaySplit` is what the engine keeps once per claim and date (`judge.judge.DayContext`): for the billed units of
the day's timed lines, the allowed split *nearest* to what was billed (fewest units changed, line by line),
so that a bill that is one of the allowed splits comes back unchanged, line for line; and the words that say
whether other splits are allowed too. The nearest split is found without listing splits: each choice
(which tied items get their unit) is a choice of `free` items out of the tied ones, and each item's cost
depends on its own choice only, so taking the items that save most is best. Among equal savings the choice
falls as `allocate_units` breaks ties (more minutes, then the lower code; for lines, the earlier line), so
the split proposed for a day billed without regard to ties is the one `payerpolicy units` shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb
from typing import Callable, Mapping, Sequence

from payerpolicy.judge.timed_units import table_units

__all__ = ["Share", "share", "day_share", "DaySplit", "allowed_splits"]


@dataclass(frozen=True)
class Share:
    """How `units` units may be shared among items with given minutes: item i gets `sure[i]`, and any `free`
    of the items in `tied` (positions) get one more. `free` is 0 when there is nothing to choose."""

    units: int
    sure: tuple[int, ...]
    tied: tuple[int, ...] = ()
    free: int = 0

    @property
    def count(self) -> int:
        """How many splits are allowed."""
        return comb(len(self.tied), self.free)

    def bounds(self, item: int) -> tuple[int, int]:
        """The fewest and the most units the item has in any allowed split."""
        low = self.sure[item]
        return low, low + (item in self.tied)

    def allows(self, units: Sequence[int]) -> bool:
        """Whether `units` (one number per item) is one of the allowed splits."""
        more = 0
        for item, (given, low) in enumerate(zip(units, self.sure)):
            if given == low + 1 and item in self.tied:
                more += 1
            elif given != low:
                return False
        return more == self.free

    def splits(self, limit: int | None = None):
        """The allowed splits (tuples, one number per item), at most `limit` of them."""
        from itertools import combinations, islice

        for chosen in islice(combinations(self.tied, self.free), limit):
            split = list(self.sure)
            for item in chosen:
                split[item] += 1
            yield tuple(split)


def share(minutes: Sequence[int], units: int) -> Share:
    """The splits of `units` among items with these minutes: full blocks, then the largest leftovers, ties
    either way. `units` is what the minutes bill together (the pooled table, or a code's own units for its
    lines), never fewer than the full blocks nor more than full blocks + the items with leftovers: see the
    proof in `judge.timed_units`."""
    sure = [m // 15 for m in minutes]
    extra = units - sum(sure)
    if extra <= 0:
        return Share(units, tuple(sure))
    contenders = sorted((m % 15 for m in minutes if m % 15), reverse=True)
    if extra > len(contenders):
        raise ValueError(f"{units} units cannot be shared among minutes {list(minutes)}")
    cut = contenders[extra - 1]  # the leftover of the last item to win a unit
    tied = []
    for item, m in enumerate(minutes):
        if m % 15 > cut:
            sure[item] += 1
            extra -= 1
        elif m % 15 == cut:
            tied.append(item)
    if extra == len(tied):  # every tied item wins: nothing to choose
        for item in tied:
            sure[item] += 1
        return Share(units, tuple(sure))
    return Share(units, tuple(sure), tuple(tied), extra)


def day_share(minutes: Sequence[int], method: str = "cms") -> Share:
    """The splits of a day's units among its timed codes (one number of minutes per code)."""
    if method == "ama":  # each code on its own: nothing is shared, nothing ties
        return Share(sum(table_units(m) for m in minutes), tuple(table_units(m) for m in minutes))
    return share(minutes, table_units(sum(minutes)))


def allowed_splits(minutes_by_code: Mapping[str, int], method: str = "cms", limit: int = 20) -> dict:
    """The splits of a day's units among its timed codes, for people: each code's fewest and most units,
    how many splits are allowed, the first `limit` of them, and a sentence on the choice (None: only one)."""
    codes = list(minutes_by_code)
    day = day_share([minutes_by_code[c] for c in codes], method)
    return {
        "allowed": {c: list(day.bounds(i)) for i, c in enumerate(codes)},
        "count": day.count,
        "splits": [dict(zip(codes, split)) for split in day.splits(limit)],
        "choice": _choice_words(day, codes),
    }


def _choice_words(day: Share, codes: Sequence[str]) -> str | None:
    """What may go where, in a biller's words, when the day's split is not the only one."""
    if not day.free:
        return None
    among = [codes[i] for i in day.tied]
    names = (
        f"either {among[0]} or {among[1]}"
        if len(among) == 2
        else f"any {'one' if day.free == 1 else day.free} of {', '.join(among[:-1])} or {among[-1]}"
    )
    if day.free == day.units:
        units = "the day's timed unit" if day.free == 1 else f"the day's {day.free} timed units"
    else:
        units = f"{'one' if day.free == 1 else day.free} of the day's {day.units} timed units"
    return f"{units} may go to {names}, whose minutes left over after full 15-minute units are equal"


class DaySplit:
    """The allowed split of one patient-day nearest to the bill, for timed lines given as (code, minutes,
    billed units) in day order: `units[i]` for line i, and `others` saying whether other splits are allowed."""

    __slots__ = ("codes", "units", "_labels", "_day", "_lines", "_line_shares", "_minutes")

    def __init__(
        self,
        lines: Sequence[tuple[str, int, int]],
        method: str = "cms",
        labels: Sequence[str] | Callable[[], Sequence[str]] | None = None,
    ):
        """`labels` name the lines in words ("line 3"), for a code billed on several lines; or a function that
        names them, called only when a message needs the names (most days never do)."""
        of_code: dict[str, list[int]] = {}
        for i, (code, _, _) in enumerate(lines):
            of_code.setdefault(code, []).append(i)
        codes = list(of_code)
        minutes = [m for _, m, _ in lines]
        if len(codes) == len(lines):  # the usual day: each timed code on one line
            day = day_share(minutes, method)
            self.units, self._line_shares = _one_line_each(lines, minutes, day, codes), None
        else:
            day, self.units, self._line_shares = _shared_among_lines(lines, method, codes, of_code)
        self.codes = codes
        self._labels = labels
        self._day, self._lines = day, of_code
        self._minutes = minutes

    @property
    def labels(self) -> list[str]:
        """The lines' names in words, made when first asked."""
        labels = self._labels
        if labels is None:
            labels = [f"line {i + 1}" for i in range(len(self._minutes))]
        elif callable(labels):
            labels = labels()
        self._labels = labels = list(labels)
        return labels

    @property
    def count(self) -> int:
        """How many splits of the day are allowed, the sharing of a code's units among its lines included."""
        ways = []
        for c, code in enumerate(self.codes):
            minutes = [self._minutes[i] for i in self._lines[code]]
            low, high = self._day.bounds(c)
            ways.append({n: share(minutes, n).count for n in range(low, high + 1)})
        return _count(self._day, ways)

    def proposal(self) -> str:
        """The nearest split, code by code: "97112 x2, 97110 x1", "97110 x1 and no units of 97112 or 97140"."""
        totals: dict[str, int] = {code: 0 for code in self.codes}
        for code, lines in self._lines.items():
            totals[code] = sum(self.units[i] for i in lines)
        said = ", ".join(f"{code} x{n}{self._by_line(code)}" for code, n in totals.items() if n)
        none = [code for code, n in totals.items() if not n]
        if not none:
            return said
        nothing = f"no units of {' or '.join(none) if len(none) < 3 else ', '.join(none[:-1]) + ' or ' + none[-1]}"
        return f"{said} and {nothing}" if said else nothing

    def _by_line(self, code: str) -> str:
        lines = self._lines[code]
        if len(lines) == 1:
            return ""
        return " (" + ", ".join(f"{self.labels[i]} x{self.units[i]}" for i in lines) + ")"

    def others(self) -> str:
        """ "" when the day's split is the only one the rule allows; else what else is allowed, in words."""
        said = []
        day_words = _choice_words(self._day, self.codes)
        if day_words:
            said.append(day_words)
        for c, code in enumerate(self.codes):
            if self._line_shares is not None and self._line_shares[c].free:
                said.append(
                    f"the units of {code} may be shared another way among its lines, whose minutes left "
                    "over after full 15-minute units are equal"
                )
        return f" (other splits are valid too: {'; '.join(said)})" if said else ""


def _one_line_each(
    lines: Sequence[tuple[str, int, int]], minutes: list[int], day: Share, codes: list[str]
) -> list[int]:
    """The units of a day whose timed codes are each on one line (`day`: their share of the day's units): a
    code's line takes the code's units, so only the tied codes choose, by what their line's bill saves (the
    road of `_shared_among_lines` with nothing to share among lines; a test holds them to the same split)."""
    chosen: set[int] = set()
    if day.free:
        saving = {c: abs(lines[c][2] - day.sure[c]) - abs(lines[c][2] - day.sure[c] - 1) for c in day.tied}
        chosen = _tied_taking_their_unit(day, saving, minutes, codes)
    return [n + (c in chosen) for c, n in enumerate(day.sure)]


def _shared_among_lines(
    lines: Sequence[tuple[str, int, int]], method: str, codes: list[str], of_code: dict[str, list[int]]
) -> tuple[Share, list[int], list[Share]]:
    """The day's share among its codes, each line's units and each code's share among its lines, for a day
    with a code on several lines (or any day: a test holds `_one_line_each` to this road)."""
    code_minutes = [sum(lines[i][1] for i in of_code[c]) for c in codes]
    day = day_share(code_minutes, method)
    # For each code and each number of units it may take: its lines' share, the nearest sharing of the
    # bill and what it costs (units changed).
    options = []
    for c, code in enumerate(codes):
        low, high = day.bounds(c)
        options.append({n: _nearest_lines([lines[i] for i in of_code[code]], n) for n in range(low, high + 1)})
    chosen: set[int] = set()
    if day.free:
        saving = {c: options[c][day.sure[c]][1] - options[c][day.sure[c] + 1][1] for c in day.tied}
        chosen = _tied_taking_their_unit(day, saving, code_minutes, codes)
    units = [0] * len(lines)
    line_shares = []
    for c, code in enumerate(codes):
        lines_share, _, split = options[c][day.sure[c] + (c in chosen)]
        line_shares.append(lines_share)
        for i, given in zip(of_code[code], split):
            units[i] = given
    return day, units, line_shares


def _tied_taking_their_unit(day: Share, saving: dict[int, int], code_minutes: list[int], codes: list[str]) -> set[int]:
    """The tied codes that save most by taking their unit take it; equal savings: more minutes, lower code."""
    return set(sorted(day.tied, key=lambda c: (-saving[c], -code_minutes[c], codes[c]))[: day.free])


def _nearest_lines(lines: Sequence[tuple[str, int, int]], units: int) -> tuple[Share, int, list[int]]:
    """How a code's `units` may be shared among its lines, the sharing nearest to their billed units and
    how many units it changes. Equal savings: the line with more minutes, then the earlier line."""
    minutes = [m for _, m, _ in lines]
    found = share(minutes, units)
    split = list(found.sure)
    if found.free:
        best = sorted(found.tied, key=lambda i: (-(lines[i][2] > split[i]), -minutes[i], i))[: found.free]
        for i in best:
            split[i] += 1
    return found, sum(abs(b - s) for (_, _, b), s in zip(lines, split)), split


def _count(day: Share, ways: list[dict[int, int]]) -> int:
    """The splits of the day: each code's ways of sharing its units among its lines, over the day's choices."""
    total = 1
    for c in range(len(day.sure)):
        if c not in day.tied:
            total *= ways[c][day.sure[c]]
    # Tied codes: choose `free` of them to take one more; a sum over choices, by counting polynomial.
    by_more = [1]
    for c in day.tied:
        stay, more = ways[c][day.sure[c]], ways[c][day.sure[c] + 1]
        nxt = [0] * (len(by_more) + 1)
        for k, v in enumerate(by_more):
            nxt[k] += v * stay
            nxt[k + 1] += v * more
        by_more = nxt
    return total * (by_more[day.free] if day.free < len(by_more) else 0) if day.tied else total
