"""What differs between two policies, rule by rule and row by row: the cause side of an impact diff.

A rule is the same on both sides when everything that decides what it does is equal: its condition, codes,
severity, kind, remittance codes, message, fix, dates and citation. Where it stands in its file (file, line,
row) is left out, so moving a rule or adding a line above it is not a change. Syntax trees compare without
their positions (`rules.ast`). A rule made from a reference table (a code pair table, an MUE table, fee
schedule statuses) is compared by the table's rows, and the rows that differ are listed by their key
("97530/97116", "97112"), so a reviewer sees which rows of a quarter's file changed.

Code sets, settings, values and per-family defaults are compared too: a code set that gains a code changes
every rule that names it without any rule changing.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from payerpolicy.policy.model import PolicySpec, RuleSpec
from payerpolicy.rules import ast

__all__ = ["policy_changes", "ROWS_LISTED"]

# How many differing rows of one table are named; the rest are counted.
ROWS_LISTED = 50

# Where a rule stands, not what it does.
_PLACE_KEYS = ("file", "line", "row", "table", "published", "quarter")

# The parts of a rule compared, in billing words as the report names them.
_PARTS: tuple[tuple[str, Callable[[RuleSpec], object]], ...] = (
    ("when", lambda r: _condition_shape(r.condition)),
    ("codes", lambda r: (r.codes, r.every_code)),
    ("severity", lambda r: r.severity),
    ("kind", lambda r: r.kind),
    ("family", lambda r: r.family),
    ("reason", lambda r: tuple(sorted((r.reason or {}).items()))),
    ("message", lambda r: r.message),
    ("fix", lambda r: r.fix),
    ("max units", lambda r: r.limit),
    ("dates", lambda r: (r.effective_from, r.effective_to, r.deleted)),
    ("source", lambda r: tuple(sorted((k, str(v)) for k, v in (r.source or {}).items() if k not in _PLACE_KEYS))),
)


def _condition_shape(condition):
    """The condition without its reference table, which compares by identity (its rows are compared apart)."""
    if isinstance(condition, (ast.PairEdit, ast.TableEdit)):
        return dataclasses.replace(condition, table=None)
    return condition


def table_rows(rule: RuleSpec) -> dict | None:
    """The rows of the reference table a rule is made from, keyed as a biller names them; None for a rule
    written in the rule language or as a policy table row (it is its own row)."""
    condition = rule.condition
    if not isinstance(condition, (ast.PairEdit, ast.TableEdit)):
        return None
    table: Any = condition.table  # a pair, MUE or fee status table: told apart by what it holds
    by_column2 = getattr(table, "by_column2", None)
    if by_column2 is not None:  # a code pair table: column 1/column 2 -> the edit (dates, modifier indicator)
        rows = {}
        for column2 in list(by_column2):
            edits = by_column2[column2]
            if isinstance(edits, tuple):  # packed as the compiled-policy cache keeps it
                edits = table._unpack(column2)
            for column1, edit in edits.items():
                rows[f"{column1}/{column2}"] = edit
        return rows
    limits = getattr(table, "limits", None)
    if limits is not None:  # an MUE table: code -> (MUE value, adjudication indicator), in its period
        return {code: (limit[0], limit[1], table.first, table.last) for code, limit in limits.items()}
    statuses = getattr(getattr(table, "table", None), "statuses", None)
    if statuses is not None:  # fee schedule status: the codes with this rule's status
        return {code: found[0] for code, found in statuses.items() if found[0] == table.status}
    return {"table": repr(table)}


def _row_changes(old: dict, new: dict) -> dict:
    added = sorted(k for k in new if k not in old)
    removed = sorted(k for k in old if k not in new)
    changed = sorted(k for k in new if k in old and new[k] != old[k])
    out: dict[str, object] = {}
    for name, keys in (("added", added), ("removed", removed), ("changed", changed)):
        if keys:
            out[name] = len(keys)
            out[name + "_rows"] = keys[:ROWS_LISTED]
    return out


def rule_differences(old: RuleSpec, new: RuleSpec) -> list[str]:
    """The parts of a rule that differ (`when`, `severity`, `rows` ...), empty when it does the same."""
    parts = [name for name, part in _PARTS if part(old) != part(new)]
    return parts


def policy_changes(old: PolicySpec, new: PolicySpec, place: Callable[[dict], dict] = dict) -> dict:
    """Every rule, table row, code set, setting, value and default that differs between two policies.

    `place` rewrites a rule's `source` for the report (the base revision's files are read from a scratch
    folder and named as `REV:path`)."""
    old_rules = {rule.id: rule for rule in old.rules}
    new_rules = {rule.id: rule for rule in new.rules}
    added = [_rule_entry(new_rules[i], place) for i in new_rules if i not in old_rules]
    removed = [_rule_entry(old_rules[i], place) for i in old_rules if i not in new_rules]
    changed, tables = [], []
    for rule_id, rule in new_rules.items():
        before = old_rules.get(rule_id)
        if before is None:
            continue
        parts = rule_differences(before, rule)
        old_rows, new_rows = table_rows(before), table_rows(rule)
        if old_rows is not None or new_rows is not None:
            rows = _row_changes(old_rows or {}, new_rows or {})
            if rows:
                parts.append("rows")
                tables.append({"rule": rule_id, **rows})
        if parts:
            changed.append({**_rule_entry(rule, place), "changed": parts})
    return {
        "rules": {"added": added, "removed": removed, "changed": changed},
        "table_rows": tables,
        "code_sets": _named_changes(
            {k: v.entries for k, v in old.code_sets.items()}, {k: v.entries for k, v in new.code_sets.items()}
        ),
        "settings": _named_changes(_plain(old.settings), _plain(new.settings)),
        "values": _named_changes(_plain(old.values), _plain(new.values)),
        "defaults": _named_changes(_plain(old.defaults), _plain(new.defaults)),
        "fee_schedule": fee_schedule_changes(old.fee_schedule or (), new.fee_schedule or ()),
    }


def changed_rule_ids(changes: dict) -> list[str]:
    """The ids of the rules a policy change added, removed or changed (table rows included), in that order."""
    rules = changes["rules"]
    return [entry["id"] for part in ("added", "removed", "changed") for entry in rules[part]]


def _rule_entry(rule: RuleSpec, place: Callable[[dict], dict]) -> dict:
    return {"id": rule.id, "family": rule.family, "severity": rule.severity, "source": place(dict(rule.source or {}))}


def _named_changes(old: dict, new: dict) -> dict:
    out = {}
    for name, keys in (
        ("added", [k for k in new if k not in old]),
        ("removed", [k for k in old if k not in new]),
        ("changed", [k for k in new if k in old and old[k] != new[k]]),
    ):
        if keys:
            out[name] = sorted(keys)
    return out


def _plain(value):
    """A settings or values mapping as comparable plain data (YAML scalars may carry their place)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    text = getattr(value, "text", None)
    return text if isinstance(text, str) else value


def fee_schedule_changes(old_tables, new_tables) -> list[dict]:
    """The fee schedule tables (`fee_schedule_tables:`) that differ, fee by fee: one entry per table (a carrier
    and locality for a period) added, removed or changed; for a changed one, each code whose fee differs,
    with its non-facility and facility fees on each side, and the codes whose RVUs differ (they decide the
    multiple procedure reduction). Empty when the fee schedules are the same."""

    def key(table) -> tuple:
        return (table.carrier, table.locality, table.first, table.last)

    old_by, new_by = {key(t): t for t in old_tables}, {key(t): t for t in new_tables}
    out = []
    for table_key in [*old_by, *(k for k in new_by if k not in old_by)]:
        before, after = old_by.get(table_key), new_by.get(table_key)
        table = after if after is not None else old_by[table_key]
        entry: dict[str, object] = {
            "table": table.label,
            "carrier": table.carrier,
            "locality": table.locality,
            "from": table.first.isoformat(),
            "to": table.last.isoformat(),
        }
        if before is None or after is None:
            entry["status"] = "added" if before is None else "removed"
            entry["fees"] = len(table.fees)
            out.append(entry)
            continue
        fees = _fee_rows(before.fees, after.fees)
        rvus = _row_changes(_keyed(before.rvus), _keyed(after.rvus))
        if fees or rvus:
            out.append({**entry, "status": "changed", "fees": fees, "rvus": rvus})
    return out


def _keyed(rows: dict) -> dict:
    """Fee or RVU rows keyed as a biller names them: "97110", or "97110-26" for a modifier's own row."""
    return {f"{code}-{modifier}" if modifier else code: row for (code, modifier), row in rows.items()}


def _fee_rows(old: dict, new: dict) -> dict:
    """The fees that differ: counts, and the first `ROWS_LISTED` rows with both sides' amounts."""
    old, new = _keyed(old), _keyed(new)
    out: dict[str, object] = _row_changes(old, new)
    if not out:
        return {}
    rows = []
    for name in ("changed", "added", "removed"):
        codes: Any = out.get(name + "_rows", ())
        for code in codes:
            rows.append({"code": code, "old": _amounts(old.get(code)), "new": _amounts(new.get(code))})
    out["rows"] = rows[:ROWS_LISTED]
    return out


def _amounts(row) -> dict | None:
    return None if row is None else {"non_facility": row[0], "facility": row[1]}
