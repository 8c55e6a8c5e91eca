"""Stage 7, evaluate (what generated code calls): counts over the patient's record answered by halving its dates.

A count over the record whose filter `program.record_filter` proves fits (`latest date of lines with code in
@plan_evaluation and discipline = line.discipline and date <= line.date on record`) is answered from the
sorted distinct dates of the record's lines of those codes, one list per value of the fields the judged line
must share (its discipline): the latest date up to the judged line's is one halving, a number of treatment
days between two dates two. Walked, the same count looked at every line of the patient's record for every
judged line, so a claim cost more the longer its patient had been treated.

The record is what `on_record` gives: the lines of the claims judged before (the claim history, or the run's
own), then the judged claim's own lines. The first part's dates are kept per patient in `Judge.carried` and
carried to the patient's next claim: between two claims of one history revision
(`judge.history_cache.PatientLines.revision`) the patient's claims are only added, one after the other, so
the dates are brought up to date with the lines of the claims stored since (`Judge.past_lines_after`),
whatever their dates (a claim billed late goes in among the earlier ones), and a patient memory let go and
read back from the file keeps its revision; otherwise (a replacement, a void, another process wrote the
patient, a history that cannot say) they are made again from all the lines. The
claim's own lines are kept apart, per claim (`Judge.running`), and each answer takes both into account.
"""

from __future__ import annotations

import bisect

_RECORD_DATES = "record dates"  # its keys in `Judge.running` and `Judge.carried` (count slots are numbers)
_NONE: tuple = ()


class Dates:
    """The record's dates still counted: `past[low:high]` (the claims judged before, sorted, distinct) and
    `own` (the judged claim's, sorted, distinct; some may also be in `past`)."""

    __slots__ = ("past", "low", "high", "own")

    def __init__(self, past, low: int, high: int, own):
        self.past, self.low, self.high, self.own = past, low, high, own

    def left(self) -> "Dates | None":
        return self if self.high > self.low or self.own else None


def record_dates(d, codes, counted_key, judged_key) -> Dates | None:
    """The dates of the record's lines whose code is in `codes` (None: any code) and whose fields
    (`counted_key`) equal the judged line's (`judged_key`; both None: no field asked); None when there are
    none. A judged line missing one of those fields counts no line (a missing value equals nothing)."""
    if judged_key is None:
        key = 0
    else:
        key = judged_key(d.line)
        if key is None or (key.__class__ is tuple and None in key):
            return None
    judge = d.judge
    index_key = (_RECORD_DATES, codes, counted_key)
    found = judge.running.get(index_key)
    if found is None:  # once per claim and index
        claim = d.line.claim
        own = _add_dates({}, judge.claim_lines_in(claim, None), codes, counted_key)
        found = judge.running[index_key] = (_past_dates(judge, claim, codes, counted_key), own)
    past = found[0].get(key, _NONE)
    own = found[1].get(key, _NONE)
    if not past and not own:
        return None
    return Dates(past, 0, len(past), own)


def _past_dates(judge, claim, codes, counted_key) -> dict:
    """{key: sorted distinct dates} of the lines of the claims judged before, carried from the patient's last
    claim and brought up to date with the claims stored since (see the module's note)."""
    revision = judge.past_revision(claim)
    if revision is None:  # the claim is stored already (sent again): its lines are left out, nothing carries
        return _add_dates({}, judge.past_lines(claim, None), codes, counted_key)
    key = (claim.patient_id, _RECORD_DATES, codes, counted_key)
    carried = judge.carried.get(key)
    # Carried first: the record's lines are asked of the history only when nothing carries (a patient a
    # history file gives back makes its lines only when asked: judge.history_cache).
    if carried is not None and carried[0] == revision:
        added = judge.past_lines_after(claim, revision, carried[1])
        if added is not None:
            seen, lines = added
            index = carried[2]
            if lines:
                _add_dates(index, lines, codes, counted_key)
            if seen != carried[1]:
                judge.carry(key, (revision, seen, index))
            return index
    past = judge.past_lines(claim, None)
    if not past:
        return {}
    index = _add_dates({}, past, codes, counted_key)
    stored = judge.past_lines_after(claim, revision, None)
    if stored is not None:
        judge.carry(key, (revision, stored[0], index))
    return index


def _add_dates(index: dict, lines, codes, counted_key) -> dict:
    """Put the dates of `lines` of `codes` into `index` ({key: sorted distinct dates}), each under its
    line's key; a line missing a field of the key counts for no judged line and is left out."""
    for line in lines:
        if codes is not None and line.code not in codes:
            continue
        if counted_key is None:
            key = 0
        else:
            key = counted_key(line)
            if key is None or (key.__class__ is tuple and None in key):
                continue
        date = line.date
        dates = index.get(key)
        if dates is None:
            index[key] = [date]
        elif date > dates[-1]:  # the usual: lines come in service order
            dates.append(date)
        else:
            at = bisect.bisect_left(dates, date)
            if dates[at] != date:
                dates.insert(at, date)
    return index


# --------------------------------------------------------------------------------- narrowing by a date bound
# `date <= V`, `date < V`, `date >= V`, `date > V` on the counted line: the dates left, or None when none is.
# A missing V (None) holds for no line, as the walk's `V is not None and ...` says.
def dates_upto(dates: Dates, value) -> Dates | None:
    if value is None:
        return None
    dates.high = bisect.bisect_right(dates.past, value, dates.low, dates.high)
    dates.own = [date for date in dates.own if date <= value]
    return dates.left()


def dates_before(dates: Dates, value) -> Dates | None:
    if value is None:
        return None
    dates.high = bisect.bisect_left(dates.past, value, dates.low, dates.high)
    dates.own = [date for date in dates.own if date < value]
    return dates.left()


def dates_from(dates: Dates, value) -> Dates | None:
    if value is None:
        return None
    dates.low = bisect.bisect_left(dates.past, value, dates.low, dates.high)
    dates.own = [date for date in dates.own if date >= value]
    return dates.left()


def dates_after(dates: Dates, value) -> Dates | None:
    if value is None:
        return None
    dates.low = bisect.bisect_right(dates.past, value, dates.low, dates.high)
    dates.own = [date for date in dates.own if date > value]
    return dates.left()


# --------------------------------------------------------------------------------- answers
def dates_days(dates: Dates) -> int:
    """`number of days`: the distinct dates left, a date of the claim's own that the past has too once."""
    count = dates.high - dates.low
    past = dates.past
    for date in dates.own:  # within the bounds: if the past has it, it is among past[low:high]
        at = bisect.bisect_left(past, date)
        if at == len(past) or past[at] != date:
            count += 1
    return count


def dates_latest(dates: Dates):
    """`latest date of lines`: the last date left (there is one: `Dates.left`)."""
    own = dates.own[-1] if dates.own else None  # sorted
    if dates.high > dates.low:
        last = dates.past[dates.high - 1]
        return last if own is None or last >= own else own
    return own


def dates_earliest(dates: Dates):
    """`earliest date of lines`: the first date left."""
    own = dates.own[0] if dates.own else None  # sorted
    if dates.high > dates.low:
        first = dates.past[dates.low]
        return first if own is None or first <= own else own
    return own


# What generated code may name of this module (program.runtime.RUNTIME).
RECORD_DATES = {
    "record_dates": record_dates,
    "dates_upto": dates_upto,
    "dates_before": dates_before,
    "dates_from": dates_from,
    "dates_after": dates_after,
    "dates_days": dates_days,
    "dates_latest": dates_latest,
    "dates_earliest": dates_earliest,
}
