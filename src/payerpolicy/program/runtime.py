"""Stage 7, evaluate (what generated code calls): the lines a count looks at, and totals kept as they run.

The functions `program.source` writes name these, and nothing else of the package. Each takes `d`, the judged
line's place in its patient-day (`judge.judge.DayContext`).

Counts come in three speeds, chosen by `program.source` when it writes a rule:

- A count whose filter reads the judged line (`another line with the same code`) is worked out for each
  judged line, over the lines its scope gives (`earlier_that_day(d)`, ...).
- A count over the whole day or year whose filter reads only the counted lines (`total minutes of lines with
  code in @timed that day`) has one value for every line of the claim on that day: it is kept in the day's
  memo (`d.day_memo`) and worked out once per claim and date.
- A count of lines *earlier* that day or year with such a filter is a running total: each line adds to it
  once, by a generated `total_n(start, lines)` that adds the lines to `start`, in the order the plain count
  would take them. (Sums of charges are float sums: Python 3.12's `sum` compensates rounding within one call,
  so there a running total and one `sum` over all the lines can differ in the last binary digit. Charges in
  whole cents would make both exact.) When the filter also asks the counted line to share a value with the
  judged line (`code = line.code`), one total is kept per value (`running_in_day_by`, `running_in_year_by`).
  Over the patient's past, a count is carried from the patient's last claim (`_from_past`).
- A count over the whole record of the distinct dates of lines of some codes, fields equal to the judged
  line's and dates in a range (the plan of care's treatment days and latest evaluation) is answered by
  halving the record's sorted dates (`program.record_dates`), carried from the patient's last claim too.
"""

from __future__ import annotations

import bisect
import operator
from typing import Any

from payerpolicy.rules.builtins import format_value
from payerpolicy.program.record_dates import RECORD_DATES
from payerpolicy.program.source import MISSING


# --------------------------------------------------------------------------------- scopes, per judged line
# The lines of the judged line's day or year that a count looks at (named in program.source._SCOPES). Each
# is made once per judged line (`DayContext.scope`), however many counts of its rules look at it.
def _whole_day(day):
    past = day.past_day()
    return past + day.lines if past else day.lines


def _others_that_day(day):
    return day.past_day() + [line for line in day.lines if line is not day.line]


def _earlier_that_day(day):
    past = day.past_day()
    return past + day.lines[: day.position] if past else day.lines[: day.position]


def _year_without_self(day):
    return [line for line in day.year_lines(earlier=False) if line is not day.line]


def _record_without_self(day):
    return [line for line in day.year_lines(earlier=False, whole_record=True) if line is not day.line]


def whole_day(day):
    return day.scope("day", _whole_day)


def others_that_day(day):
    return day.scope("others", _others_that_day)


def earlier_that_day(day):
    return day.scope("earlier", _earlier_that_day)


def whole_year(day):
    return day.year_lines(earlier=False)


def year_without_self(day):
    return day.scope("year without self", _year_without_self)


def earlier_that_year(day):
    return day.year_lines(earlier=True)


def on_record(day):
    return day.year_lines(earlier=False, whole_record=True)


def record_without_self(day):
    return day.scope("record without self", _record_without_self)


def earlier_on_record(day):
    return day.year_lines(earlier=True, whole_record=True)


# --------------------------------------------------------------------------------- the day's index by code
# A count over the day whose filter asks for a code (`another line that day with code in @evaluations`)
# looks only at the day's lines of those codes (program.source.scope_lines). Without the index, every line of
# a claim of n lines on one day walked all n lines of the day for each such count: n * n steps, 143 s for a
# claim of 100,000 lines.
_INDEX = "lines by code"  # the day memo's key (memo slots are numbers)
_WHOLE, _OTHERS, _EARLIER, _YEAR, _YEAR_OTHERS, _RECORD, _RECORD_OTHERS = range(7)


def day_index(d) -> dict:
    """{code: (positions, lines)} of the judged line's day (`whole_day`: the past lines, then the day
    book's), made once per claim and date; positions count in that order."""
    index = d.day_memo.get(_INDEX)
    if index is None:
        index = d.day_memo[_INDEX] = _index_of(_whole_day(d))
    return index


def day_lines_of(d, which: int, codes) -> list:
    """The lines of `whole_day` (which 0), `others_that_day` (1) or `earlier_that_day` (2) whose code is
    `codes` (one code) or in it (a set), in the same order as the scope gives them."""
    if codes is None:
        return []
    if which >= _YEAR:
        return _year_lines_of(d, which, codes)
    past = d.past if d.past is not None else d.past_day()
    if not past and len(d.lines) <= _SMALL:  # a usual day: the scope itself costs less than an index
        return d.lines if which == _WHOLE else d.scope(*_PLAIN[which])
    positions, lines = _of_codes(d, codes)
    if not lines:
        return lines
    if which == _EARLIER:  # lines before the judged one: all the past lines, then the book's before it
        past = d.past
        return lines[: bisect.bisect_left(positions, len(past) + d.position if past else d.position)]
    if which == _OTHERS:
        return _without_judged(d.line, lines, codes)
    return lines


def _year_lines_of(d, which: int, codes) -> list:
    """The lines of `whole_year` / `on_record` (without the judged line for `year_without_self` and
    `record_without_self`) whose code is or is in `codes`, in the scope's order. The year's lines are the same
    for every line of the claim dated in that year, so they are picked once per claim and set of codes
    (`Judge.running` is emptied per claim). Picked by one walk over the year, not through an index by code as
    the day's are: the year's positions are never asked, and a set of codes such as the therapy services
    takes most of a patient's year, which an index then had to merge back into order by sorting."""
    whole_record = which >= _RECORD
    every = d.year_lines(False, whole_record)
    if len(every) <= _SMALL:  # a usual year: the scope itself costs less than picking
        return every if which in (_YEAR, _RECORD) else d.scope(*_PLAIN[which])
    year = None if whole_record else d.line.date.year
    running = d.judge.running
    key = (_INDEX, year, codes)
    lines = running.get(key)
    if lines is None:
        if isinstance(codes, str):
            lines = running[key] = [line for line in every if line.code == codes]
        else:
            lines = running[key] = [line for line in every if line.code in codes]
    if which in (_YEAR_OTHERS, _RECORD_OTHERS):
        return _without_judged(d.line, lines, codes)
    return lines


def _without_judged(me, lines: list, codes) -> list:
    """The lines of `codes` but the judged line `me`. A line of another code is not among them: the lines
    as they are, not a copy (a column-2 code asking for its column-1 codes on a claim of n lines copied
    the day's lines of those codes for every line)."""
    if (me.code != codes) if codes.__class__ is str else (me.code not in codes):
        return lines
    return [line for line in lines if line is not me]


def _index_of(lines) -> dict:
    index: dict = {}
    for position, line in enumerate(lines):
        entry = index.get(line.code)
        if entry is None:
            index[line.code] = ([position], [line])
        else:
            entry[0].append(position)
            entry[1].append(line)
    return index


def _merged(index: dict, codes) -> tuple[list, list]:
    """(positions, lines) of the index's lines of `codes`, in the order the index was made in."""
    if isinstance(codes, str):
        return index.get(codes, ([], []))
    entries = (
        [index[code] for code in codes if code in index]
        if len(codes) < len(index)
        else [entry for code, entry in index.items() if code in codes]
    )
    if len(entries) == 1:
        return entries[0]
    pairs = sorted((p, line) for positions, lines in entries for p, line in zip(positions, lines))
    return [p for p, _ in pairs], [line for _, line in pairs]


def _of_codes(d, codes) -> tuple[list, list]:
    """(positions, lines) of the day's lines of `codes`, made once per claim, date and set of codes."""
    memo = d.day_memo
    key = (_INDEX, codes)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _merged(day_index(d), codes)
    return found


# Up to this many lines, a count walks the scope itself (and its filter skips the other codes): making the
# index costs more than it saves on the few lines of a usual day or year.
_SMALL = 64
# The memo key and maker of each scope that is not the whole day or year (as `others_that_day` ... use them).
_PLAIN = {
    _OTHERS: ("others", _others_that_day),
    _EARLIER: ("earlier", _earlier_that_day),
    _YEAR_OTHERS: ("year without self", _year_without_self),
    _RECORD_OTHERS: ("record without self", _record_without_self),
}


# --------------------------------------------------------------------------------- running totals
def running_in_day(d, slot, total):
    """A count over the lines earlier that day, carried from one judged line to the next of the claim.

    The state, kept in the day's memo under the count's slot, is (how many of the day's lines are counted,
    the total over them). The claim's lines of a date stand together in the day book and are judged in
    order, so each step adds the lines between the last judged line and this one."""
    memo = d.day_memo
    state = memo.get(slot)
    position = d.position
    if state is None or state[0] > position:  # first line of the day, or (never in practice) going back
        past = d.past_day()
        state = memo[slot] = [0, total(0, past) if past else 0]
    if state[0] < position:
        state[1] = total(state[1], d.lines[state[0] : position])
        state[0] = position
    return state[1]


def running_in_year(d, slot, total, whole_record=False):
    """A count over the patient's lines earlier in the year of the judged line (the whole record with
    `whole_record`): the lines of `earlier_that_year`, added in the same order.

    On a claim of one date of service (nearly all), the claim's earlier lines are the lines above the judged
    one: the count starts from the claims judged before, up to that date, and each line adds to it once. The
    state, kept per claim under the count's slot, is (how many of the claim's lines are counted, the count)."""
    judge = d.judge
    if not judge.one_date:  # lines of several dates: which are earlier depends on the date, line by line
        return _running_by_date(d, slot, total, whole_record)
    index = judge.line_index
    state = judge.running.get(slot)
    if state is None or state[0] > index:
        start = _carried_on(judge, d.line, slot, whole_record, total, None)
        if start is _NOT_CARRIED:
            past = _past_up_to(judge, d.line, whole_record)
            start = _from_past(judge, d.line, slot, whole_record, past, total, None) if past else 0
        state = judge.running[slot] = [0, start]
    if state[0] < index:
        state[1] = total(state[1], judge.lines_judged[state[0] : index])
        state[0] = index
    return state[1]


def _past_up_to(judge, view, whole_record) -> list:
    """The lines of the claims judged before, in the judged line's year (or record), dated up to its date.
    They come in service order (date first), so those are a slice, found by halving, not a walk: a patient's
    year grows over a run. Made once per claim, year and date, however many counts start from it."""
    year = None if whole_record else view.date.year
    key = (_PAST, year, view.date)
    found = judge.running.get(key)
    if found is None:
        lines = judge.past_lines(view.claim, year)
        found = judge.running[key] = lines[: bisect.bisect_right(lines, view.date, key=_DATE)] if lines else []
    return found


def _from_past(judge, view, slot, whole_record, past: list, total, counted_key):
    """A count over `past` (the lines of the claims judged before, up to the judged line's date, in service
    order), carried from the patient's last claim when it can be: a patient's year grows over a run, and
    counting it again for every claim made each claim cost more than the last.

    The patient's lines only grow in place between two claims of the same history revision
    (`Judge.past_revision`): if the line where the count stopped is still at the same place, the lines
    before it are the same, and the count goes on from there, adding the lines after it in the same order
    (the same additions as counting from the start). Otherwise, and after a replacement or void, it counts
    from the start. `counted_key`: the count is kept per key (a dict of totals, copied: the claim's own
    lines are added to it next); None: one total."""
    revision = judge.past_revision(view.claim)
    key = (view.claim.patient_id, None if whole_record else view.date.year, slot)
    start: Any = 0 if counted_key is None else {}  # a number, or totals by key
    taken = 0
    carried = judge.carried.get(key) if revision is not None else None
    if carried is not None:
        anchor, upto, value, stored = carried[:4]
        # The same stored lines (read back from the file meanwhile, maybe: other objects, the same lines), and
        # the line the count stopped at still in its place.
        if stored[:2] == revision[:2] and upto <= len(past):
            at = past[upto - 1]
            if at is anchor or (at.claim_id == anchor.claim_id and at.number == anchor.number):
                start, taken = (value if counted_key is None else dict(value)), upto
    if counted_key is None:
        value = total(start, past[taken:]) if taken < len(past) else start
    else:
        value = _fold(start, past[taken:], total, counted_key)
    if revision is not None:
        # Whether the count took every stored line of its year (none is dated after the judged line), and how
        # many claims were stored: what `_carried_on` needs to go on without the lines.
        whole = len(past) == len(judge.past_lines(view.claim, key[1]))
        stored = judge.past_lines_after(view.claim, revision, None)
        seen = None if stored is None else stored[0]
        judge.carry(key, (past[-1], len(past), value if counted_key is None else dict(value), revision, seen, whole))
    return value


def _carried_on(judge, view, slot, whole_record, total, counted_key):
    """`_from_past` without the patient's past lines, when the count carried from the patient's last claim
    took every line stored then and the claims stored since (`Judge.past_lines_after`) only add lines after
    those, up to the judged line's date: then the past up to that date is the lines counted and those added,
    in that order, and the count goes on with the added ones. So a patient whose lines a history file gives
    back only when asked (judge.history_cache) costs its new claims, not its year. `_NOT_CARRIED` otherwise
    (no count carried, another revision, a claim billed late in among those counted): `_from_past` then."""
    revision = judge.past_revision(view.claim)
    if revision is None:
        return _NOT_CARRIED
    year = None if whole_record else view.date.year
    key = (view.claim.patient_id, year, slot)
    carried = judge.carried.get(key)
    if carried is None:
        return _NOT_CARRIED
    anchor, upto, value, stored, seen, whole = carried
    if not whole or seen is None or stored != revision:
        return _NOT_CARRIED
    found = judge.past_lines_after(view.claim, revision, seen)
    if found is None:
        return _NOT_CARRIED
    now_seen, added = found
    if year is not None and added:
        added = [line for line in added if line.date.year == year]
    if added:
        added.sort(key=_IN_ORDER)
        first, last = added[0], added[-1]
        if last.date > view.date or _IN_ORDER(first) <= _IN_ORDER(anchor):
            return _NOT_CARRIED
        anchor, upto = last, upto + len(added)
        value = total(value, added) if counted_key is None else _fold(dict(value), added, total, counted_key)
    if now_seen != seen:  # (always, when lines were added)
        judge.carry(key, (anchor, upto, value if counted_key is None else dict(value), revision, now_seen, True))
    return value if counted_key is None else dict(value)  # totals by key: the claim's own lines go in next


_NOT_CARRIED = object()
_IN_ORDER = operator.attrgetter("date", "claim_id", "number")  # service order, as the history gives lines


_PAST = "past lines up to a date"  # the key of `_past_up_to` in `Judge.running` (count slots are numbers)


def _running_by_date(d, slot, total, whole_record):
    """`running_in_year` for a claim of several dates: the count before each of the claim's lines, worked out
    for all of them in one walk in date order (claims judged before, up to and on each date, then the claim's
    own lines by date and number), so a claim of n lines costs n steps, not n * n. The walk is
    `_keyed_by_date`'s, with one key for every line."""
    return _keyed_by_date(d, slot, total, whole_record, _one_key, _one_key)[d.line.number]


def _one_key(line) -> int:
    return 0


# --------------------------------------------------------------------------------- running totals per key
# `total units of lines with code = line.code and claim_id = claim.id earlier that day`: the filter asks the
# counted line to share values with the judged line (program.source.keyed_by_judged_line). Counted plainly,
# every judged line walks the earlier lines of its code: a claim of n lines of one code costs n * n. Kept
# here, the state is one total per value of the counted line's key (`counted_key`, an attrgetter), each line
# added once to its own, in the order of the lines (so a sum adds the same numbers in the same order as the
# plain count); the judged line reads its own value's (`judged_key`). A key holding None (a missing value)
# is left out: a missing value equals nothing.
def running_in_day_by(d, slot, total, counted_key, judged_key):
    """`running_in_day`, one total per key: the state in the day's memo is (lines counted, totals by key)."""
    memo = d.day_memo
    state = memo.get(slot)
    position = d.position
    if state is None and position < _SMALL and not d.past_day():  # a usual day: the few lines before, as
        key = judged_key(d.line)  # the plain count takes them, cost less than keeping totals by key
        if key is None or (key.__class__ is tuple and None in key):
            return 0
        return total(0, [line for line in d.lines[:position] if counted_key(line) == key])
    if state is None or state[0] > position:
        state = memo[slot] = [0, _fold({}, d.past_day(), total, counted_key)]
    if state[0] < position:
        _fold(state[1], d.lines[state[0] : position], total, counted_key)
        state[0] = position
    return _total_of(state[1], judged_key(d.line))


def running_in_year_by(d, slot, total, whole_record, counted_key, judged_key, own_claim=False):
    """`running_in_year`, one total per key (see `running_in_day_by`). `own_claim`: the key holds the
    claim id, so no line of the claims judged before counts (their lines never have this claim's id)."""
    judge = d.judge
    view = d.line
    if not judge.one_date:
        before = _keyed_by_date(d, slot, total, whole_record, counted_key, judged_key, own_claim)
        return before[view.number]
    index = judge.line_index
    state = judge.running.get(slot)
    if state is None or state[0] > index:
        start = {} if own_claim else _carried_on(judge, view, slot, whole_record, total, counted_key)
        if start is _NOT_CARRIED:
            past = _past_up_to(judge, view, whole_record)
            start = _from_past(judge, view, slot, whole_record, past, total, counted_key) if past else {}
        state = judge.running[slot] = [0, start]
    if state[0] < index:
        _fold(state[1], judge.lines_judged[state[0] : index], total, counted_key)
        state[0] = index
    return _total_of(state[1], judged_key(view))


def _keyed_by_date(d, slot, total, whole_record, counted_key, judged_key, own_claim=False) -> dict:
    """`_running_by_date` per key: {line number: its total}, for all the claim's lines in one walk."""
    judge, view = d.judge, d.line
    year = None if whole_record else view.date.year
    key = (slot, year)
    before = judge.running.get(key)
    if before is None:
        own = sorted(judge.claim_lines_in(view.claim, year), key=_DATE_NUMBER)
        past = [] if own_claim else sorted(judge.past_lines(view.claim, year), key=_DATE)
        before = judge.running[key] = {}
        totals: dict = {}
        taken = 0
        for line in own:
            upto = taken
            while upto < len(past) and past[upto].date <= line.date:
                upto += 1
            if upto > taken:
                _fold(totals, past[taken:upto], total, counted_key)
                taken = upto
            before[line.number] = _total_of(totals, judged_key(line))
            _fold(totals, [line], total, counted_key)
    return before


def _fold(totals: dict, lines, total, counted_key) -> dict:
    """Add `lines` to `totals` (key -> total), each to its own key's, in their order."""
    if not lines:
        return totals
    groups: dict = {}
    for line in lines:
        key = counted_key(line)
        if key is None or (key.__class__ is tuple and None in key):
            continue
        group = groups.get(key)
        if group is None:
            groups[key] = [line]
        else:
            group.append(line)
    for key, group in groups.items():
        totals[key] = total(totals.get(key, 0), group)
    return totals


def _total_of(totals: dict, key):
    if key is None or (key.__class__ is tuple and None in key):
        return 0
    return totals.get(key, 0)


_DATE = operator.attrgetter("date")
_DATE_NUMBER = operator.attrgetter("date", "number")


_NOT_YET = object()  # a memo slot not worked out yet (None is a value a count may not have, but be safe)


def _remember(memo: dict, slot: int, value):
    memo[slot] = value
    return value


def _pair_message(hits: tuple, code: str, bypass_words: str) -> str:
    """What a pair table's finding says: the column-1 codes billed that day, and whether a modifier helps
    (`bypass_words`, written once per table by policy.tables.bypass_words, as a `code_pairs` row's message)."""
    paired = " and ".join(column1 for column1, _ in hits)
    text = (
        f"{code} is not paid on the same day as {paired} for the same patient "
        f"(code pair edit{'s' if len(hits) > 1 else ''} {', '.join(f'{c}/{code}' for c, _ in hits)}, "
        f"{code} in column 2)"
    )
    if any(indicator == 0 for _, indicator in hits):
        return text + "; no modifier overrides this pair"
    return text + "; " + bypass_words


# What every generated module may name besides its own constants.
RUNTIME = {
    "whole_day": whole_day,
    "others_that_day": others_that_day,
    "earlier_that_day": earlier_that_day,
    "whole_year": whole_year,
    "year_without_self": year_without_self,
    "earlier_that_year": earlier_that_year,
    "on_record": on_record,
    "record_without_self": record_without_self,
    "earlier_on_record": earlier_on_record,
    "running_in_day": running_in_day,
    "day_lines_of": day_lines_of,
    "running_in_year": running_in_year,
    "running_in_day_by": running_in_day_by,
    "running_in_year_by": running_in_year_by,
    "NOT_YET": _NOT_YET,
    "remember": _remember,
    "pair_message": _pair_message,
    "MISSING": MISSING,
    "format_value": format_value,
    **RECORD_DATES,
    "__builtins__": __builtins__,
}
