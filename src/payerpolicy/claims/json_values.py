"""Claim JSON lines read straight to plain values, for `Policy.check`'s quick road (judge/check_road.py).

`json_quick` reads a claim in the usual shape into the claim model (`Claim`, `ServiceLine`). The quick road of
`Policy.check` needs less: the values of each line that rules can read, as one tuple (`LINE_VALUES`), and no
objects. `line_values` gives them, taking each value from json_quick's tables of values seen and checked
before; a line with a value not in a table, or with a field beyond the usual ones, is read by json_quick's own
line reader, which checks it (and learns its values). Either way a line is taken only where json_quick takes
it, with the values json_quick gives it: tests/test_check_road.py holds the two to the same claims.
"""

from __future__ import annotations

from payerpolicy.claims.json_quick import (
    _USUAL_LINE_FIELDS,
    _PROVIDER_FIELDS,
    _codes,
    _dates,
    _line,
    _make_line,
    _modifier_lists,
    _providers,
)
from payerpolicy.claims.model import Provider, ServiceLine
from payerpolicy.claims.values import MAX_COUNT, is_amount

__all__ = ["LINE_VALUES", "line_values", "service_line"]

# What `line_values` gives for a line, in this order: the fields of the rule language a line holds itself (the
# provider's type is the line's own, else the claim's, as rules read it), and where it stands. After them, what
# `service_line` needs to make the line's `ServiceLine`: the line's own provider, or the line itself when
# json_quick's line reader read it.
LINE_VALUES = ("number", "code", "units", "minutes", "modifiers", "date", "charge", "provider_type", "claim_id")


class _Unusual(Exception):
    """A line not made of values from the tables: json_quick's line reader reads it."""


def line_values(raw_lines: list, claim_id: str, provider: Provider | None, listed_diagnoses: int) -> list | None:
    """Each line's values (`LINE_VALUES`, and what `service_line` needs) for the lines of a claim whose other
    fields json_quick took (`claim_head`): `provider` is the claim's, `listed_diagnoses` how many diagnoses it
    lists. None when a line is not in the usual shape."""
    codes, dates, modifier_lists, providers = _codes.get, _dates.get, _modifier_lists.get, _providers.get
    claim_type = provider.type if provider is not None else None
    out: list[tuple] = []
    for number, raw in enumerate(raw_lines, 1):
        # The checks of json_quick's `_line`, in its order, with every value found in a table.
        try:
            if raw.__class__ is not dict or not _USUAL_LINE_FIELDS.issuperset(raw):
                raise _Unusual
            code = raw.get("code")
            if code.__class__ is not str or (code := codes(code)) is None:
                raise _Unusual
            units, minutes = raw.get("units"), raw.get("minutes")
            if units.__class__ is not int or not 0 <= units <= MAX_COUNT:
                raise _Unusual
            if minutes is not None and (minutes.__class__ is not int or not 0 <= minutes <= MAX_COUNT):
                raise _Unusual
            date = raw.get("date")
            if date.__class__ is not str or (date := dates(date)) is None:
                raise _Unusual
            modifiers = raw.get("modifiers")
            if modifiers is None:
                modifiers = ()
            elif modifiers.__class__ is not list or (modifiers := modifier_lists(tuple(modifiers))) is None:
                raise _Unusual
            own = raw.get("provider")
            if own is not None and (
                own.__class__ is not dict
                or not _PROVIDER_FIELDS.issuperset(own)
                or (own := providers((own.get("npi"), own.get("type")))) is None
            ):
                raise _Unusual
            charge = raw.get("charge")
            if charge is not None and not is_amount(charge):
                raise _Unusual
        except (_Unusual, TypeError):  # TypeError: a list or an object where a table is asked for a value
            line = _line(raw, number, listed_diagnoses)
            if line is None:
                return None
            code, units, minutes, modifiers = line.code, line.units, line.minutes, line.modifiers
            date, charge, own = line.date_of_service, line.charge, line.provider
            kind = own.type if own is not None and own.type is not None else claim_type
            out.append((number, code, units, minutes, modifiers, date, charge, kind, claim_id, line))
        else:
            kind = own.type if own is not None and own.type is not None else claim_type
            amount = None if charge is None else float(charge)  # as the model keeps it (2 -> 2.0)
            out.append((number, code, units, minutes, modifiers, date, amount, kind, claim_id, own))
    return out


def service_line(values: tuple) -> ServiceLine:
    """The `ServiceLine` json_quick reads for a line `line_values` gave `values` for."""
    number, code, units, minutes, modifiers, date, charge, _, _, own = values
    if own.__class__ is ServiceLine:
        return own
    return _make_line(number, code, date, units, modifiers, minutes, (), charge, (), own, None, None)
