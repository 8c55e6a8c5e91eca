"""Stage 7, evaluate (pricing): each line's estimated allowed amount from the policy's fee schedule.

When a policy names `fee_schedule_tables:` (policy.fee_schedule), every line judged gets `allowed` (dollars,
rounded to cents) and `fee_schedule` (which carrier, locality and period priced it), both fields of the rule
language, worked out before any rule runs on the claim:

    allowed = fee x units
              - the practice-expense (PE) part of every reduced unit x (1 - pe_share)    (MPPR)
              then x share on a line with an assistant modifier                          (CQ/CO)

- The fee is the code's at the practice's carrier and locality: the facility fee when the line's place of
  service is one of `facility_places_of_service`, else (and when no place of service is given) the
  non-facility fee; so is the PE RVU.
- The multiple procedure payment reduction (setting `multiple_procedure_reduction`): the codes whose RVU
  row has the `mult_proc` indicator are reduced together, for one patient on one date of service, across
  disciplines. The one unit with the highest PE RVU (ties: the higher fee) is paid in full, the PE part of
  every other unit at `pe_share`. The PE part of a fee is fee x PE RVU / (work + PE + MP RVU). Claims are
  priced in the order a payer receives them: when an earlier claim of the day (in the run or in the claim
  history) has a reduced code, that claim took the full unit and every unit of this claim is reduced. All
  claims of the patient's day count as one practice's (a MAC reduces per practice: not told apart here).
- The assistant payment (setting `assistant_payment`): a line with one of the modifiers, dated from `from`,
  is paid `share` of its amount (Medicare: CQ/CO at 85% from 2022-01-01).

A line whose code has no fee at the locality has no allowed amount (missing), nor does a line dated outside
every period of the schedule (then `fee_schedule` is missing too). It is an estimate: the payer prices every
provider's claims in the order it processes them, which a pre-bill check does not see.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["Pricing", "pricing_of"]

_CENT = Decimal("0.01")
_NOT_YET = object()


def _date(text) -> datetime.date:
    if text is None:
        return datetime.date.min
    return text if isinstance(text, datetime.date) else datetime.date.fromisoformat(str(text))


def _text(value) -> str:
    return getattr(value, "text", None) or str(value)


class Pricing:
    """The fee schedule of a policy and its payment settings, pricing the lines of each claim judged."""

    def __init__(self, tables: list, settings: dict, code_sets: dict):
        self.tables = tables
        mppr = settings.get("multiple_procedure_reduction")
        self.mppr_indicator = _text(mppr["mult_proc"]) if mppr else None
        self.mppr_share = float(mppr["pe_share"]) if mppr else 1.0
        self.mppr_from = _date(mppr.get("from")) if mppr else datetime.date.max
        assistant = settings.get("assistant_payment")
        names = code_sets.get(str(assistant["modifiers"])[1:]) if assistant else None
        self.assistant_modifiers = frozenset(e.upper() for e in names.entries) if names else frozenset()
        self.assistant_share = float(assistant["share"]) if assistant else 1.0
        self.assistant_from = _date(assistant.get("from")) if assistant else datetime.date.max
        self.facility = frozenset(_text(p) for p in settings.get("facility_places_of_service") or ())
        # One unit of a code, worked out once per period, code, modifiers and facility or not. The MPPR's
        # start date is the only date it depends on: kept apart on either side of it.
        self._units: dict = {}

    def tables_at(self, date: datetime.date):
        for tables in self.tables:
            if tables.covers(date):
                return tables
        return None

    def reduced_code(self, code: str, modifiers: tuple, date: datetime.date) -> bool:
        """Whether the MPPR reduces a code on a date (its RVU row carries the indicator)."""
        if self.mppr_indicator is None or date < self.mppr_from:
            return False
        tables = self.tables_at(date)
        rvu = tables.rvu(code, modifiers) if tables is not None else None
        return rvu is not None and rvu[4] == self.mppr_indicator

    def price_claim(self, judge, views: list) -> None:
        """Set `allowed` and `fee_schedule` on the claim's lines (`judge.judge.LineView`), a date at a time."""
        by_date: dict = {}
        for view in views:
            by_date.setdefault(view.date, []).append(view)
        for date, day in by_date.items():
            self._price_day(judge, date, day)

    def _price_day(self, judge, date: datetime.date, day: list) -> None:
        tables = self.tables_at(date)
        if tables is None:
            return  # no period of the schedule covers the date: not priced (fee_schedule stays missing)
        priced = []  # (view, fee per unit, PE part per unit, PE RVU, reduced by the MPPR)
        for view in day:
            view.fee_schedule = tables.label
            facility = view.place_of_service in self.facility
            key = (id(tables), view.code, view.modifiers, facility, date >= self.mppr_from)
            unit = self._units.get(key, _NOT_YET)
            if unit is _NOT_YET:
                unit = self._units[key] = self._unit(tables, view.code, view.modifiers, facility, date)
            if unit is not None:  # None: no fee at the locality, allowed stays missing
                priced.append((view, *unit))
        full = None  # the line holding the day's one unit paid in full
        if any(p[4] and p[0].units for p in priced) and not self._earlier_claim_reduced(judge, day[0]):
            full = max((p for p in priced if p[4] and p[0].units), key=lambda p: (p[3], p[1]))[0]
        for view, fee, pe_part, _, reduced in priced:
            units = view.units
            amount = fee * units
            if reduced:
                cut_units = units - 1 if view is full else units
                amount -= pe_part * (1 - self.mppr_share) * cut_units
            if date >= self.assistant_from and not self.assistant_modifiers.isdisjoint(view.modifiers):
                amount *= self.assistant_share
            view.allowed = float(Decimal(repr(amount)).quantize(_CENT, rounding=ROUND_HALF_UP))

    def _unit(self, tables, code: str, modifiers: tuple, facility: bool, date: datetime.date) -> tuple | None:
        """(fee, PE part, PE RVU, reduced by the MPPR) of one unit of a code; None without a fee."""
        fee_row = tables.fee(code, modifiers)
        if fee_row is None:
            return None
        fee = fee_row[1] if facility else fee_row[0]
        rvu = tables.rvu(code, modifiers)
        if rvu is None:
            return fee, 0.0, 0.0, False
        work, pe_nonfacility, pe_facility, mp, indicator = rvu
        pe_rvu = pe_facility if facility else pe_nonfacility
        total = work + pe_rvu + mp
        reduced = self.mppr_indicator is not None and indicator == self.mppr_indicator and date >= self.mppr_from
        return fee, (fee * pe_rvu / total if total else 0.0), pe_rvu, reduced

    def _earlier_claim_reduced(self, judge, view) -> bool:
        """Whether a claim received before this one has a reduced code on the same patient-day: then it had
        the unit paid in full, and every unit of this claim is reduced."""
        claim = view.claim
        for other in judge.days.get((claim.patient_id, view.date), ()):
            if other.claim is claim:
                break  # the day book lists claims in the order received: the rest came later
            if self.reduced_code(other.code, other.modifiers, other.date):
                return True
        if judge.history is None:
            return False
        in_book = {other.claim_id for other in judge.days.get((claim.patient_id, view.date), ())}
        return any(
            line.date == view.date
            and line.claim_id not in in_book
            and self.reduced_code(line.code, line.modifiers, line.date)
            for line in judge.past_lines(claim, view.date.year)
        )


def pricing_of(policy) -> Pricing | None:
    """The pricing of a policy with a fee schedule; None without one (no line has an allowed amount)."""
    if not policy.fee_schedule:
        return None
    return Pricing(policy.fee_schedule, policy.settings, policy.code_sets)
