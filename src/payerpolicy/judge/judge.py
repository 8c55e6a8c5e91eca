"""Stage 7, evaluate: claims in, decisions out, by running a compiled `RuleProgram`.

Every line of a group of a patient's claims (judge.window) is filed under its patient-day (same patient,
same date of service), in date-of-service order; the group's claims are judged in that order and their
lines leave the day book after. So a rule sees the whole day across claims (a daily cap spans two claims
sent for one visit; a code pair spans a claim and its follow-up). "Earlier that day" means earlier in that
order, never earlier in the input.
"""

from __future__ import annotations

from typing import Any, Sequence

import bisect
import datetime
import operator
import time

from payerpolicy._frozen import maker
from payerpolicy.claims.model import Claim, UnreadableClaim
from payerpolicy.decision import Decision, Finding, Fix, LineDecision
from payerpolicy.claims.values import therapy_discipline
from payerpolicy.program.compile import CompiledRule, RuleProgram
from payerpolicy.judge.run_history import RunHistory
from payerpolicy.judge.timed_splits import DaySplit
from payerpolicy.rules.fields import FAULT_ATTRIBUTES, JUDGED_LINE_ATTRIBUTES, LINE_ATTRIBUTES


class LineView:
    """A service line as rules see it: the claim's and the provider's facts folded in, looked up once.

    The facts most rules read are set when the view is made; the others (`_LATER`: age, discipline,
    assistant minutes...) are worked out the first time something reads them, by `__getattr__`, and kept:
    most policies read few of them, and working them all out for every line was a fifth of `Policy.check`."""

    # The attributes of the rule language's fields (rules.fields), less the data faults (below); and the
    # claim's service line and its provider, which the facts worked out later are read from.
    __slots__ = (
        "claim",
        "number",
        "_line",
        "_provider",
        *JUDGED_LINE_ATTRIBUTES,
        *(name for name in LINE_ATTRIBUTES if name not in FAULT_ATTRIBUTES),
    )

    def __init__(self, claim: Claim, line):
        # Most lines name no provider, or the claim none: then one or the other, without a call.
        own, claim_provider = line.provider, claim.provider
        if own is None:
            provider = claim_provider
        elif claim_provider is None:
            provider = own
        else:
            provider = claim.provider_of(line)
        self._provider = provider
        self._line = line
        self.claim = claim
        self.claim_id = claim.id
        self.number = line.number
        self.code = line.code
        self.units = line.units
        self.minutes = line.minutes
        self.modifiers = line.modifiers
        self.date = line.date_of_service
        self.charge = line.charge
        self.provider_type = provider.type if provider else None
        # Set when the claim is judged, by a policy with a fee schedule (program.allowed_amounts): missing otherwise.
        self.allowed = self.fee_schedule = None

    def __getattr__(self, name: str):
        """A fact not worked out yet (Python asks only for a slot not set): worked out now, and kept."""
        work_out = _LATER.get(name)
        if work_out is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        value = work_out(self)
        setattr(self, name, value)
        return value


def _diagnoses(view: LineView):
    claim, line = view.claim, view._line
    return claim.diagnoses_of(line) if line.diagnosis_pointers else claim.diagnoses


def _patient_age(view: LineView) -> int | None:
    born = view.claim.patient_birth_date
    return None if born is None else _age(born, view.date)


def _assistant_minutes_of(assistant: str):
    def minutes_of(view: LineView) -> int | None:
        line, minutes, provider_type = view._line, view.minutes, view.provider_type
        if minutes is None:
            return None
        if line.periods and any(period.provider is not None and period.provider.type for period in line.periods):
            return _assistant_minutes(line, provider_type, assistant)
        if provider_type is None:
            return None
        return minutes if provider_type == assistant else 0  # the line's provider furnished all of it

    return minutes_of


# The facts of a line worked out when first read (LineView.__getattr__), each from the view alone.
_LATER = {
    "diagnoses": _diagnoses,
    "provider_npi": lambda view: view._provider.npi if view._provider else None,
    "discipline": lambda view: therapy_discipline(view.claim, view._line, view._provider),
    "place_of_service": lambda view: view._line.place_of_service or view.claim.place_of_service,
    "prior_authorization": lambda view: view._line.prior_authorization or view.claim.prior_authorization,
    "patient_age": _patient_age,
    "pta_minutes": _assistant_minutes_of("PTA"),
    "ota_minutes": _assistant_minutes_of("OTA"),
}


def _age(born: datetime.date, on: datetime.date) -> int | None:
    """Age in whole years on a date (None before birth: a data fault the reader reports)."""
    if on < born:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# `data_fault.<kind>` (claims.model.FAULTS) is missing on every line of a claim without data faults: a class
# attribute, so that the usual line pays nothing for it. A line of a claim with faults is a `FaultyLineView`.
for _fault in FAULT_ATTRIBUTES:
    setattr(LineView, _fault, None)


class FaultyLineView(LineView):
    """A line of a claim with data faults (rare: a claim a payer's front end would reject, judged all the
    same): `data_fault.<kind>` holds what concerns the line, its own faults, and those of the whole claim on
    the claim's first line, so that each is reported once: what is wrong and where. Faults of one kind are
    joined."""

    __slots__ = FAULT_ATTRIBUTES

    def __init__(self, claim: Claim, line):
        super().__init__(claim, line)
        for name in self.__slots__:
            setattr(self, name, None)
        first = line is claim.lines[0]
        for fault in claim.faults:
            if fault.line == line.number or (fault.line is None and first):
                name = "fault_" + fault.fault
                found = getattr(self, name)
                said = f"{fault.message} (at {fault.field})"  # where: an element of the 837P, a JSON field
                setattr(self, name, said if found is None else f"{found}; {said}")


def line_view(claim: Claim, line) -> LineView:
    """How rules see a line of `claim`."""
    return FaultyLineView(claim, line) if claim.faults else LineView(claim, line)


def _assistant_minutes(line, provider_type: str | None, assistant: str) -> int:
    """Minutes of the line furnished by an assistant, when its periods name their own providers (a PTA's 10
    minutes within a PT's session); a period without one is the line's provider's."""
    return sum(
        period.minutes
        for period in line.periods
        if ((period.provider.type if period.provider else None) or provider_type) == assistant
    )


class DayContext:
    """The judged line (`line`), every line of its patient-day in order (`lines`), and where it stands."""

    __slots__ = ("line", "lines", "position", "judge", "memo", "day_memo", "past")

    def __init__(self, line: LineView, lines: list, position: int, judge: "Judge", day_memo: dict):
        self.line = line
        self.lines = lines
        self.position = position
        self.judge = judge
        # Counts over lines (see program.source) and the lines they count over, once per judged line.
        self.memo: dict = {}
        # Counts the same for every line of the claim on this date, and running totals over the day.
        self.day_memo = day_memo
        self.past: list | None = None  # `past_day`, when first asked

    def past_day(self) -> list:
        """Lines of this patient-day from claims judged before that are no longer in the day book (an
        earlier run kept in the claim history, or a claim further back than the window): they come first."""
        past = self.past
        if past is None:
            past = self.past = self.judge.past_day(self.line)
        return past

    def scope(self, name: str, make) -> list:
        """The lines a scope (`others that day`, ...) gives for the judged line, made once however many
        rules count over it."""
        found = self.memo.get(name)
        if found is None:
            found = self.memo[name] = make(self)
        return found

    def year_lines(self, earlier: bool, whole_record: bool = False) -> list:
        """The patient's lines in the calendar year of the judged line: claims judged before (the claim
        history, without this claim's own earlier versions) and this claim's own lines. `earlier`: only
        those dated before the judged line, and on its date those from earlier claims or earlier lines."""
        key = ("year", earlier, whole_record)
        found = self.memo.get(key)
        if found is not None:
            return found
        view = self.line
        year = None if whole_record else view.date.year
        judge = self.judge
        past = judge.past_lines(view.claim, year) if judge.history is not None else None
        own = judge.claim_lines_in(view.claim, year)
        if not earlier:
            found = past + own if past else own
        else:
            date, number = view.date, view.number
            found = [p for p in past if p.date <= date] if past else []
            found += [v for v in own if v.date < date or (v.date == date and v.number < number)]
        self.memo[key] = found
        return found

    def supported_units(self, view: LineView) -> int | None:
        """The units the day's treatment minutes support for `view`: its units in the allowed split of the
        day nearest to the bill (so a bill that is an allowed split is supported line for line). Missing for
        a timed line when any timed line of the day has no minutes: then the day's units are not known."""
        if not isinstance(view, LineView):
            return None  # a line from the claim history: its minutes are not kept
        if view.code not in self.judge.program.timed_codes:
            return 1
        split = self.day_split()
        return None if split is None else split.get(id(view))

    def day_split(self) -> "DayUnits | None":
        """The day's timed units (`DayUnits`), worked out once per claim and date; None when not known."""
        found = self.day_memo.get(_UNITS, _UNITS)
        if found is _UNITS:
            judge = self.judge
            program = judge.program
            shared = judge.shared_days
            if shared is None:
                found = DayUnits.of(self.lines, program.timed_codes, program.timed_method, self.line.claim)
            else:  # judged side by side with another policy of the same timed units: worked out once for both
                claim = self.line.claim
                key = (id(claim), *map(id, self.lines))
                found = shared.get(key, _UNITS)
                if found is _UNITS:
                    found = shared[key] = DayUnits.of(self.lines, program.timed_codes, program.timed_method, claim)
            self.day_memo[_UNITS] = found
        return found

    def split_words(self, which: str) -> str | None:
        """`day_split` (the proposed split, "97112 x2, 97110 x1") or `other_splits` (what else the rule
        allows, "" when nothing) for messages; missing when the day's units are not known."""
        split = self.day_split()
        if split is None:
            return None
        if split.split is None:  # some timed lines of the day have no minutes
            return _PARTIAL_DAY if which == "proposal" else ""
        return split.split.proposal() if which == "proposal" else split.split.others()


_UNITS = "supported units"  # the day memo's key for the day's timed units (memo slots are numbers)
_PARTIAL_DAY = (
    "each line with minutes at its full 15-minute units, or one more for the minutes left over "
    "(other timed lines that day have no minutes, so no more can be said)"
)


class DayUnits:
    """A patient-day's timed lines and the allowed split nearest to their bill (`judge.timed_splits.DaySplit`)."""

    __slots__ = ("split", "by_line")

    def __init__(self, split: DaySplit | None, by_line: dict[int, int]):
        self.split, self.by_line = split, by_line

    def get(self, key: int) -> int | None:
        return self.by_line.get(key)

    @classmethod
    def of(cls, lines, timed_codes, method: str, claim=None) -> "DayUnits | None":
        """The day's timed lines and their units in the allowed split nearest to the bill; None when no timed
        line has minutes (real 837P lines carry units only: normal input, about which nothing is said).

        When some timed lines have minutes and others not (a line billed in minutes, MJ, beside lines billed
        in units), the unknown minutes may take or leave the day's leftover units, so all that is sure of a
        line with minutes is its full 15-minute blocks, and at most one unit more: it is held to that range
        (its billed units when they fall in it), and no split of the day is proposed."""
        timed = [view for view in lines if view.code in timed_codes]
        if any(view.minutes is None for view in timed):
            known = [view for view in timed if view.minutes is not None]
            if not known:
                return None
            return cls(
                None,
                {
                    id(view): min(max(view.units, view.minutes // 15), view.minutes // 15 + (view.minutes % 15 > 0))
                    for view in known
                },
            )
        split = DaySplit(
            [(view.code, view.minutes, view.units) for view in timed], method, lambda: _labels(timed, claim)
        )
        return cls(split, {id(view): units for view, units in zip(timed, split.units)})


def _labels(timed: list[LineView], claim) -> list[str]:
    """The day's timed lines in words, for a message on a code billed on several lines (made only then)."""
    return [
        f"line {view.number}" if view.claim is claim else f"claim {view.claim_id} line {view.number}" for view in timed
    ]


class Judge:
    """Judges batches of claims against one program, remembering each patient-day across batches."""

    def __init__(
        self,
        program: RuleProgram,
        observer=None,
        history=None,
        remember: bool = True,
        received: datetime.date | None = None,
    ):
        self.program = program
        # The date the payer receives the claims (`claim.received`): a claim does not carry it, so it is the
        # run's, by default the day of the run, as if the claims went out today.
        self.received = received or today()
        # Claims judged before, for rules over the patient's year: a `ClaimHistory` file kept between runs,
        # or else the run's own (`RunHistory`), so claims of one run still count toward each other. A judge
        # of one claim alone (`remember=False`) keeps none: no claim after it would read it.
        self.history = history if history is not None else (RunHistory() if program.uses_history and remember else None)
        self.past: dict[tuple, Any] = {}  # the claim being judged: its patient-years from the history
        self.filed: dict[tuple, list] = {}  # (patient, claim id) -> its lines in the day book
        self.claim_judged: Claim | None = None  # the claim being judged, and its lines (`lines_judged`)
        self.own_years: dict[tuple, list] = {}
        # Told of every rule a line met (rule, line, fired): how policy tests measure rule coverage.
        self.observer = observer
        # The timed units of each patient-day of the group being judged, shared with another judge that files
        # the same line views and counts timed units alike (judge.side_by_side); None when judging alone.
        self.shared_days: dict | None = None
        spec = program.policy
        self.policy_label = {"payer": spec.payer, "version": spec.version}
        self.days: dict[tuple, list[LineView]] = {}
        # Per date of the claim being judged, its place in the day (DayContext), moved from line to line and
        # made again for each claim, as the day book may have changed since the last.
        self.day_contexts: dict[datetime.date, DayContext] = {}
        # Running totals over the year, per count (program.runtime), for the claim being judged: its lines,
        # the one being judged, and whether all its lines share one date of service, numbered in order.
        self.running: dict[int, list] = {}
        self.lines_judged: list[LineView] = []
        self.line_index = 0
        self.one_date = True
        # Counts over the past carried from a patient's claim to the next (program.runtime._from_past):
        # (patient, year, count) -> where the count stopped in the patient's lines, and its value there.
        self.carried: dict[tuple, tuple] = {}
        # Whether the judge serves one run only and its history is that run's (`Policy.check_many`): then a
        # patient's last claim of the run need not be kept, as no claim after it asks (judge.window).
        self.history_ends_with_run = False

    def judge(self, records) -> list[Decision]:
        """Judge claims all together (each sees the others' lines of its patient-days)."""
        filed = [self.file(record) for record in records]
        return [self.decide(record, views) for record, views in zip(records, filed)]

    def file(self, record, views: list[LineView] | None = None) -> list[LineView] | None:
        """Put a claim's lines in the day book, so that rules judging other claims see them.

        A replacement (frequency 7) takes the place of the claim's earlier version, and a void (8) removes
        it: the same service is never in the day book twice. A void's own lines are not filed. `views`: the
        claim's line views as another judge filed them (judge.side_by_side), filed here as they are."""
        if not isinstance(record, Claim):
            return None
        key = (record.patient_id, record.id)
        if record.frequency in ("7", "8"):
            self.forget(self.filed.pop(key, None))
        if record.frequency == "8":
            return []
        days, patient = self.days, record.patient_id
        if views is not None:
            for view in views:
                days.setdefault((patient, view.date), []).append(view)
            self.filed[key] = views
            return views
        view_of = FaultyLineView if record.faults else LineView  # as `line_view`, asked once per claim
        views = []
        for line in record.lines:
            view = view_of(record, line)
            days.setdefault((patient, line.date_of_service), []).append(view)
            views.append(view)
        self.filed[key] = views
        return views

    def start_over(self) -> None:
        """Empty the day book: the judge is as new (for `Policy.check`, which judges one claim at a time
        and keeps its judges between calls)."""
        self.days.clear()
        self.filed.clear()

    def forget(self, views: list[LineView] | None) -> None:
        """Take a claim's lines out of the day book: no claim judged from now on is near enough to see them."""
        for view in views or ():
            key = (view.claim.patient_id, view.date)
            day = self.days.get(key)
            if day is None or view not in day:
                continue  # already taken out when a replacement or void of its claim came in
            day.remove(view)
            if not day:
                del self.days[key]
        if views:
            claim = views[0].claim
            if self.filed.get((claim.patient_id, claim.id)) is views:
                del self.filed[(claim.patient_id, claim.id)]

    def decide(self, record, lines, counts: bool = True) -> Decision:
        """The decision on a claim filed with `file` (its lines `lines`). `counts=False`: a version of a
        claim that a replacement or void judged with it stands for: it is judged, but not kept in the
        history for the claims after it (judge.window)."""
        if isinstance(record, UnreadableClaim):
            return self._sent_back(record)
        if record.frequency == "8":  # a void cancels a claim: nothing of it is judged, the history forgets it
            return self._void(record, counts)
        program = self.program
        self.claim_judged, self.lines_judged = record, lines
        self.one_date = _one_date_in_order(lines)
        findings: list[Finding] = []
        line_decisions = []
        day, iso = None, ""  # the date last written out, as text: most claims are of one date
        # Timed lines billed in units without minutes (as real 837P lines are): normal input, about which no
        # line says anything; the run says once that the 8-minute rule was not checked on them.
        timed, units_only = program.timed_codes, 0
        try:
            if program.pricing is not None:  # each line's allowed amount, before any rule reads it
                program.pricing.price_claim(self, lines)
            for self.line_index, view in enumerate(lines):
                if view.minutes is None and view.code in timed:
                    units_only += 1
                found = self._judge_line(view)
                if found:
                    findings.extend(found)
                    line_decisions.append(_line_decision(view, found))
                else:  # most lines: nothing to say
                    if view.date is not day:
                        day = view.date
                        iso = _ISO.get(day) or _iso(day)
                    line_decisions.append(_accepted(view, iso))
        finally:  # also after an error: nothing of this claim's is left for the next
            self._forget_claim()
        denied = bool(findings) and any(f.severity == "deny" for f in findings)
        # A version a replacement or void in its group stands for (not `counts`) is kept for no later claim.
        if counts and self.history is not None:
            self._keep(record, lines)
        return _make_decision(
            record.id,
            self.policy_label,
            "denied" if denied else "accepted",
            tuple(line_decisions),
            tuple(findings),
            (),
            "",
            {"timed_units_only": units_only} if units_only else {},
        )

    def _sent_back(self, record: UnreadableClaim) -> Decision:
        """The decision on a claim that could not be read: its problems, and where it stood."""
        return Decision(
            record.id,
            self.policy_label,
            "error",
            errors=tuple(p.to_dict() for p in record.problems),
            where=record.where,
        )

    def _void(self, record: Claim, counts: bool) -> Decision:
        """The decision on a void: every line accepted, nothing judged; the history forgets the claim."""
        if self.history is not None and counts:
            self.history.record(record, payer=self.program.policy.payer)
        return Decision(
            record.id,
            self.policy_label,
            "accepted",
            tuple(LineDecision(line.number, line.code, line.units, 0, "accepted") for line in record.lines),
        )

    def _keep(self, record: Claim, lines) -> None:
        """Record the judged claim in the history, for the claims after it."""
        history, program = self.history, self.program
        if isinstance(history, RunHistory):  # later claims of this run count this one
            history.record(record, payer=program.policy.payer, views=lines)
        elif history is not None:  # ... and of later runs, with the allowed amounts when priced
            history.record(
                record,
                payer=program.policy.payer,
                allowed={v.number: v.allowed for v in lines} if program.pricing else None,
            )

    def decide_alone(self, record, last_of_patient: bool = False) -> Decision:
        """The decision on a claim with no other claim of its patient in the day book: one judged on its own
        (`Policy.check`), or a claim of a patient's group in a run whose claims share no patient-day
        (judge.window). Its patient-days are its own lines (and, with a history, the lines of earlier claims,
        as `past_day` gives them), so there is no day book to file them in and empty after. A claim of one date with its lines in order
        (nearly every claim) is judged in one loop here; any other (several dates, a void, data faults, a fee
        schedule, an observer) takes `decide`'s road. Both give the same decision, and keep the claim in the
        history alike: `decide` with the claim's lines as the whole day. `last_of_patient`: no claim of the
        patient comes after it in the run (then a history that ends with the run need not keep it)."""
        keep = not (last_of_patient and self.history_ends_with_run)
        if not self._alone_on_one_date(record):
            return self._decide_filed(record, None, keep)
        program = self.program
        views = [LineView(record, line) for line in record.lines]
        date = record.lines[0].date_of_service
        by_code = program.judge_by_code
        every = program.judge_any_code if program.for_every_code else None
        timed, units_only = program.timed_codes, 0
        self.claim_judged, self.lines_judged, self.one_date = record, views, True
        findings: list[Finding] = []
        line_decisions = []
        iso = _ISO.get(date) or _iso(date)
        day: DayContext | None = None  # made for the first line a rule concerns; the claim is its day
        try:
            for index, view in enumerate(views):
                code = view.code
                if view.minutes is None and code in timed:
                    units_only += 1
                judge = by_code.get(code, every)
                if judge is None:  # a code no rule concerns
                    fired = None
                else:
                    if day is None:
                        day = DayContext(view, views, index, self, {})
                    else:  # the context moves down to the line, its memo emptied
                        day.line, day.position = view, index
                        if day.memo:
                            day.memo.clear()
                    self.line_index = index
                    fired = judge(day, view)
                if fired:
                    assert day is not None  # a rule fired, so the line had a judge and its context
                    found = [_finding(rule, day, view) for rule in fired]
                    findings.extend(found)
                    line_decisions.append(_line_decision(view, found))
                else:  # most lines: nothing to say (as `_accepted` says it, without the call)
                    units = view.units
                    line_decisions.append(
                        _make_line_decision(
                            view.number, code, units, units, "accepted", view.modifiers, iso, view.charge, view.allowed
                        )
                    )
        finally:  # also after an error: nothing of this claim's is left for the next
            self._forget_claim()
        if keep and self.history is not None:  # for the patient's claims judged after this one
            self._keep(record, views)
        return _make_decision(
            record.id,
            self.policy_label,
            "denied" if findings and any(f.severity == "deny" for f in findings) else "accepted",
            tuple(line_decisions),
            tuple(findings),
            (),
            "",
            {"timed_units_only": units_only} if units_only else {},
        )

    def _alone_on_one_date(self, record) -> bool:
        """Whether `decide_alone`'s loop may judge the claim: a plain claim (not a void, no data faults) of one
        date with its lines in order (`_one_date_in_order`, asked of the claim's lines as they are), judged
        with no observer or fee schedule (a fee schedule prices a line from its whole day in the day book). A
        claim with no lines (made in code) goes to the day book's road too, which says so."""
        if (
            record.__class__ is not Claim
            or record.frequency == "8"
            or record.faults
            or self.observer is not None
            or self.program.pricing is not None
            or not record.lines
        ):
            return False
        date = record.lines[0].date_of_service
        number = 0
        for line in record.lines:
            if line.date_of_service != date or line.number <= number:
                return False
            number = line.number
        return True

    def _decide_filed(self, record, views: list[LineView] | None, keep: bool = True) -> Decision:
        """`decide` on a claim filed alone in the day book (`views`: its line views, made already), which
        is then emptied; kept in the history for later claims when `keep`."""
        try:
            return self.decide(record, self.file(record, views), counts=keep)
        finally:
            self.start_over()

    def _forget_claim(self) -> None:
        """Let go of what was worked out for the claim just judged. The day contexts point back at the judge:
        kept, they would make a reference cycle per claim, left for the garbage collector to find (slow in
        an application with a large heap of its own); and the claim itself need not live on until the next."""
        # Most claims fill none of them (a claim judged alone, by rules of its own lines): looked at first.
        if self.past:
            self.past.clear()
        if self.own_years:
            self.own_years.clear()
        if self.day_contexts:
            self.day_contexts.clear()
        if self.running:
            self.running.clear()
        self.claim_judged, self.lines_judged = None, _NO_LINES

    def past_lines(self, claim: Claim, year: int | None) -> list:
        """The patient's lines judged before, in `year` (None: whatever their date)."""
        history = self.history
        if history is None:
            return []
        key = (claim.patient_id, year)
        if key not in self.past:
            if not history.may_hold(claim.patient_id):  # the patient's first claim: nothing to ask
                self.past[key] = []
                return self.past[key]
            first, last = (
                (datetime.date(year, 1, 1), datetime.date(year, 12, 31))
                if year is not None
                else (datetime.date.min, datetime.date.max)
            )
            found = history.lines(
                claim.patient_id, first, last, exclude_claim=claim.id, payer=self.program.policy.payer
            )
            self.past[key] = found
        return self.past[key]

    def past_revision(self, claim: Claim) -> tuple[int, int] | None:
        """The history's revision of the patient's lines for `claim` (None: nothing may be carried), asked
        once per claim."""
        key = ("revision", claim.patient_id)
        if key not in self.past:
            revision = getattr(self.history, "revision", None)
            self.past[key] = None if revision is None else revision(claim.patient_id, claim.id)
        return self.past[key]

    def past_lines_after(self, claim: Claim, revision, claims_seen: int | None) -> tuple[int, list] | None:
        """How many of the patient's claims the history holds, and the lines of those it stored after the first
        `claims_seen`, while the patient's lines are still at `revision` (`past_revision`); None when they are
        not, or the history cannot say (judge.history_cache.LinesByPatient.lines_after)."""
        key = ("lines after", claim.patient_id, claims_seen)  # asked once per claim (each index of dates asks)
        if key not in self.past:
            lines_after = getattr(self.history, "lines_after", None)
            self.past[key] = (
                None
                if lines_after is None
                else lines_after(claim.patient_id, claim.id, revision, claims_seen, payer=self.program.policy.payer)
            )
        return self.past[key]

    def carry(self, key: tuple, state: tuple) -> None:
        """Keep a count's state for the patient's next claim; a bounded number of them, as a run has many
        patients (emptied when full: a count not carried is worked out again, to the same value)."""
        if len(self.carried) >= _CARRIED:
            self.carried.clear()
        self.carried[key] = state

    def past_day(self, view: LineView) -> list:
        """The lines of `view`'s patient-day from claims judged before and no longer in the day book, asked
        once per claim and date (`DayContext.past_day` keeps them). Taken from the patient's year when the
        claim asked for it already; otherwise asked of the history for the day alone: counts over the year
        mostly carry on from the patient's last claim without its lines (program.runtime), and a patient
        read back from a history file makes only the lines a question needs."""
        history = self.history
        if history is None:
            return []
        claim, date = view.claim, view.date
        year = self.past.get((claim.patient_id, date.year))
        if year is not None:
            # The year's lines come in service order: the day's are a slice, found by halving.
            day = year[bisect.bisect_left(year, date, key=_DATE) : bisect.bisect_right(year, date, key=_DATE)]
        elif history.may_hold(claim.patient_id):
            day = history.lines(claim.patient_id, date, date, exclude_claim=claim.id, payer=self.program.policy.payer)
        else:  # the patient's first claim
            return []
        if not day:
            return day
        in_book = {v.claim_id for v in self.days.get((claim.patient_id, date), ())}
        return [line for line in day if line.claim_id not in in_book] if in_book else day

    def claim_lines(self, claim: Claim) -> list:
        return self.lines_judged if claim is self.claim_judged else []

    def claim_lines_in(self, claim: Claim, year: int | None) -> list:
        """The claim's own lines in `year` (None: all of them), worked out once per claim judged."""
        key = (id(claim), year)
        found = self.own_years.get(key)
        if found is None:
            found = [v for v in self.claim_lines(claim) if year is None or v.date.year == year]
            self.own_years[key] = found
        return found

    def _judge_line(self, view: LineView) -> "list[Finding] | tuple":
        program = self.program
        observer = self.observer
        if observer is None:
            judge = program.judge_by_code.get(view.code)
            if judge is None:
                if not program.for_every_code:
                    return _NO_FINDINGS  # a code no rule concerns
                judge = program.judge_any_code
        elif not program.rules_for(view.code):
            return []
        day = self.day_contexts.get(view.date)
        if day is None:  # the claim's first line of this date
            day_lines = self.days.get((view.claim.patient_id, view.date))
            if day_lines is None or view not in day_lines:
                # A replacement or void of the claim in its group stands for it (judge.window): it is
                # judged on its own day, as the payer judged it before the replacement arrived.
                day_lines = [v for v in self.claim_lines(view.claim) if v.date == view.date]
            day = self.day_contexts[view.date] = DayContext(view, day_lines, day_lines.index(view), self, {})
        else:  # the same day, a later line: the context moves down to it, its memo emptied
            day.line = view
            # A claim's lines of a date stand together in the day book, in order: the next one is usually
            # right after the last (looking it up from the start made a claim of n lines cost n * n).
            following = day.position + 1
            lines = day.lines
            day.position = following if following < len(lines) and lines[following] is view else lines.index(view)
            day.memo.clear()
        if observer is None:  # the generated function of the line's code runs every rule in one go
            assert judge is not None  # set above, on the same condition
            fired = judge(day, view)
            return [_finding(rule, day, view) for rule in fired] if fired else _NO_FINDINGS
        found = []
        for rule in program.rules_for(view.code):  # one at a time, so the observer hears of each rule met
            if rule.dated and not _in_effect(rule, view.date):
                continue
            fired = rule.applies(day, view)
            if fired:
                found.append(_finding(rule, day, view))
            observer(rule, view, bool(fired))
        return found


_today = (datetime.date.min, 0.0)  # today's date, and the time (time.time()) of the next local midnight


def today() -> datetime.date:
    """Today's date, as `datetime.date.today()` gives it, looked up again only after midnight: asking the
    clock and the time zone cost a third as much as judging a claim, and `Policy.check` makes a judge per
    claim."""
    global _today
    known, until = _today  # one tuple: two threads never see one's date with the other's midnight
    if time.time() < until:
        return known
    now = datetime.date.today()
    _today = (now, datetime.datetime.combine(now + datetime.timedelta(days=1), datetime.time.min).timestamp())
    return now


def _one_date_in_order(lines: list[LineView]) -> bool:
    """Whether a claim's lines are all of one date, numbered down the claim (as claim readers number them):
    then a line's earlier lines on the claim are the lines above it."""
    if not lines:
        return True
    date, number = lines[0].date, lines[0].number
    for view in lines[1:]:
        if view.date != date or view.number <= number:
            return False
        number = view.number
    return True


def _in_effect(rule: CompiledRule, date: datetime.date) -> bool:
    if rule.effective_from is not None and date < rule.effective_from:
        return False
    return rule.effective_to is None or date <= rule.effective_to


def _finding(rule: CompiledRule, day: DayContext, view: LineView) -> Finding:
    spec = rule.spec
    message = rule.message(day, view)
    fix = None
    if rule.fix_of is not None:
        fix = rule.fix_of(day, view)
    elif rule.fix is not None:
        f = rule.fix
        if f.action == "set_units":
            assert f.units is not None  # the checker gives every set_units fix its units
            units = f.units(day, view)
            units = None if units is None else max(int(units), 0)
            # Setting a line to no units is removing it; say so in the payer's words.
            fix = (
                _make_fix("remove_line", view.number, None, None)
                if units == 0
                else _make_fix("set_units", view.number, units, None)
            )
        elif f.action in ("add_modifier", "remove_modifier"):
            fix = _written_fix(f.action, view.number, f.modifier, None)
        elif f.action == "merge_lines":
            fix = _merge_fix(day, view)
        else:
            fix = _written_fix(f.action, view.number, None, f.note)
    source = spec.source if rule.source_of is None else {**spec.source, **rule.source_of(day, view)}
    return _make_finding(spec.id, spec.family, spec.severity, view.number, message, spec.reason, source, fix, spec.kind)


def _written_fix(action: str, number: int, modifier: str | None, note: str | None) -> Fix:
    """A fix the policy writes out whole (add GP, review with its note) for line `number`: made once per rule
    and line number and shared by their findings (a Fix cannot change), not made again for each finding."""
    key = (action, number, number.__class__, modifier, note)  # the class: a line True would equal line 1
    fix = _WRITTEN_FIXES.get(key)
    if fix is None:
        if len(_WRITTEN_FIXES) >= 4096:  # a policy's fixes times a claim's line numbers: rarely more
            _WRITTEN_FIXES.clear()
        fix = _WRITTEN_FIXES[key] = _make_fix(action, number, modifier, note)
    return fix


_WRITTEN_FIXES: dict[tuple, Fix] = {}


def _merge_fix(day: DayContext, view: LineView) -> Fix:
    """Merge a line into the first line of its code that day on the same claim; across claims, say so."""
    first = day.day_memo.get(_FIRST_OF_CODE)
    if first is None:  # once per claim and date: walking the day for each line cost n * n on a big claim
        first = day.day_memo[_FIRST_OF_CODE] = {}
        for position, line in enumerate(day.lines):
            first.setdefault((line.code, id(line.claim)), (position, line))
    position, other = first.get((view.code, id(view.claim)), (day.position, None))
    if other is not None and position < day.position:
        return Fix(
            "merge_lines",
            view.number,
            other.number,
            note=f"add its units to line {other.number} and remove line {view.number}",
        )
    return Fix(
        "review",
        view.number,
        note=f"{view.code} is also billed that day on another claim: bill the day's units of a code on one line",
    )


_DATE = operator.attrgetter("date")
_CARRIED = 200_000  # counts carried between claims (a patient has a few; tens of bytes each)
_FIRST_OF_CODE = "first line of each code and claim"  # the day memo's key (memo slots are numbers)
_NO_FINDINGS = ()  # what most lines find, shared rather than made each time
_NO_LINES: list = []  # the lines judged when no claim is being judged (never added to)
_ISO: dict[datetime.date, str] = {}  # dates of service as decisions write them, each worked out once


def _iso(date: datetime.date) -> str:
    if len(_ISO) >= 20_000:  # more than a run's distinct dates of service: emptied, a moment's memory only
        _ISO.clear()
    text = _ISO[date] = date.isoformat()
    return text


_make_line_decision = maker(LineDecision)  # the judge makes one per line: see payerpolicy._frozen
_make_decision = maker(Decision)
_make_finding = maker(Finding)  # and one per rule a line breaks, often with a fix
_make_fix = maker(Fix)


def _accepted(view: LineView, iso: str) -> LineDecision:
    """The decision on a line nothing was found on (most lines); `iso`: its date as text."""
    units = view.units
    return _make_line_decision(
        view.number, view.code, units, units, "accepted", view.modifiers, iso, view.charge, view.allowed
    )


def _line_decision(view: LineView, found: Sequence[Finding]) -> LineDecision:
    denials = [f for f in found if f.severity == "deny"]
    reduced: list[Any] = [f.fix.value for f in denials if f.fix is not None and f.fix.action == "set_units"]  # ints
    if not denials:
        status, allowed = "accepted", view.units
    elif len(reduced) == len(denials):
        status, allowed = "adjusted", min(reduced)
    else:
        status, allowed = "denied", 0
    return _make_line_decision(
        view.number,
        view.code,
        view.units,
        allowed,
        status,
        view.modifiers,
        _ISO.get(view.date) or _iso(view.date),
        view.charge,
        view.allowed,
    )
