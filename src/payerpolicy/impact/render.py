"""An impact diff written out: JSON (the contract, streamed), text for a billing specialist, CSV for a
spreadsheet, and Markdown short enough for a pull-request comment.

JSON and CSV stream: each changed claim is written as it comes. Text and Markdown put the summary first, so
they keep only the first `show` changed lines and count the rest; memory stays bounded by that cap.
"""

from __future__ import annotations

import csv
import json
from typing import TextIO

from payerpolicy.impact.compare import KIND_WORDS, KINDS, ClaimChange, LineChange
from payerpolicy.impact.run import PolicyDiff

__all__ = ["IMPACT_FORMATS", "ImpactWriter", "write_impact"]

IMPACT_FORMATS = ("json", "text", "csv", "markdown")
# Lines shown by default: text for reading, Markdown for a pull-request comment (GitHub takes 65,536 characters).
SHOW = {"text": 50, "markdown": 20}
RULES_SHOWN = {"text": 30, "markdown": 10}

CSV_COLUMNS = (
    "claim_id",
    "line",
    "code",
    "date",
    "kind",
    "old_status",
    "new_status",
    "old_allowed_units",
    "new_allowed_units",
    "charge",
    "old_allowed_amount",
    "new_allowed_amount",
    "rules_added",
    "rules_removed",
    "old_findings",
    "new_findings",
    "errors",
)


class ImpactWriter:
    def __init__(self, out: TextIO, output_format: str, show: int | None = None):
        if output_format not in IMPACT_FORMATS:
            raise ValueError(f"format is one of {', '.join(IMPACT_FORMATS)}, not {output_format!r}")
        self.out, self.format = out, output_format
        self.show = SHOW.get(output_format, 0) if show is None else show
        self.kept: list[tuple[ClaimChange, LineChange]] = []  # the first `show` lines (text, Markdown)
        self.unreadable: list[ClaimChange] = []  # the first `show` unreadable claims (text, Markdown)
        self.csv = csv.writer(out, lineterminator="\n") if output_format == "csv" else None
        self.written = 0

    def start(self, impact: PolicyDiff) -> None:
        if self.format == "json":
            head = json.dumps(impact.head())
            self.out.write(head[:-1] + ', "claims": [')
        elif self.csv is not None:
            self.csv.writerow(CSV_COLUMNS)

    def write(self, change: ClaimChange) -> None:
        first = self.written == 0
        self.written += 1
        if self.format == "json":
            self.out.write(("\n  " if first else ",\n  ") + json.dumps(change.to_dict()))
        elif self.csv is not None:
            self.csv.writerows(_csv_rows(change))
        elif change.errors:
            if len(self.unreadable) < self.show:
                self.unreadable.append(change)
        else:
            for line in change.lines:
                if len(self.kept) < self.show:
                    self.kept.append((change, line))

    def finish(self, impact: PolicyDiff) -> None:
        summary = impact.summary
        if self.format == "json":
            self.out.write(("\n" if self.written else "") + '],\n "summary": ' + json.dumps(summary) + "}\n")
        elif self.format == "text":
            self.out.write(render_text(impact, summary, self.kept, self.unreadable, self.show))
        elif self.format == "markdown":
            self.out.write(render_markdown(impact, summary, self.kept, self.show))


def write_impact(impact: PolicyDiff, out: TextIO, format: str = "json", show: int | None = None) -> dict:
    """Run the diff and write it as `payerpolicy diff --format FORMAT` does; return its summary."""
    writer = ImpactWriter(out, format, show)
    writer.start(impact)
    for change in impact:
        writer.write(change)
    writer.finish(impact)
    return impact.summary


# ------------------------------------------------------------------------------------------------ words


def _money(amount: float) -> str:
    return f"${amount:,.2f}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _where(source: dict) -> str:
    file, line = source.get("file"), source.get("line")
    return f"{file}:{line}" if file and line else (file or "")


def _finding_words(finding, place) -> str:
    where = _where(place(dict(finding.source)))
    fix = ""
    if finding.fix is not None:
        fix = f"; fix: {finding.fix.action.replace('_', ' ')}" + (
            f" {finding.fix.value}" if finding.fix.value is not None else ""
        )
    return f"{finding.severity.upper():4} {finding.rule}{fix} [{where}]"


def _side_words(line_decision) -> str:
    units = "" if line_decision.status == "denied" else f", {line_decision.allowed_units} allowed"
    return f"{line_decision.status.upper()}{units}"


def _policy_label(described: dict) -> str:
    return f"{described['payer']} {described['version']} ({described['source']})"


def _policy_change_lines(changes: dict, limit: int) -> list[str]:
    out = []
    rules = changes["rules"]
    for part, word in (("added", "added"), ("removed", "removed"), ("changed", "changed")):
        entries = rules[part]
        for entry in entries[:limit]:
            what = f" ({', '.join(entry['changed'])})" if part == "changed" else ""
            out.append(f"rule {word}: {entry['id']}{what} [{_where(entry['source'])}]")
        if len(entries) > limit:
            out.append(f"... and {len(entries) - limit:,} more rules {word}")
    for table in changes["table_rows"]:
        counts = ", ".join(f"{table[k]:,} {k}" for k in ("added", "removed", "changed") if k in table)
        named = [row for k in ("added", "removed", "changed") for row in table.get(k + "_rows", ())][:8]
        out.append(
            f"table rows of {table['rule']}: {counts} ({', '.join(named)}{' ...' if sum(table.get(k, 0) for k in ('added', 'removed', 'changed')) > len(named) else ''})"
        )
    for section in ("code_sets", "settings", "values", "defaults"):
        for part, names in changes[section].items():
            out.append(f"{section.replace('_', ' ')} {part}: {', '.join(names)}")
    for table in changes["fee_schedule"]:
        out.append(_fee_table_words(table))
    return out or ["no rule, table row, code set, setting or value differs"]


def _fee_table_words(table: dict) -> str:
    """One fee schedule table that differs, fee by fee: "fee schedule carrier 01112 locality 05, 2026Q1: 1 fee
    changed (97110 $300.00 -> $330.00, facility $270.00 -> $297.00)"."""
    name = f"fee schedule {table['table']}"
    if table["status"] != "changed":
        return f"{name}: table {table['status']} ({_plural(table['fees'], 'fee')})"
    said = []
    fees = table["fees"]
    counts = [
        f"{fees[k]:,} {'fee' if fees[k] == 1 else 'fees'} {k}" for k in ("changed", "added", "removed") if k in fees
    ]
    shown = []
    for row in fees.get("rows", ())[:8]:
        old, new = row["old"], row["new"]
        if old and new:
            shown.append(
                f"{row['code']} {_money(old['non_facility'])} -> {_money(new['non_facility'])}, facility "
                f"{_money(old['facility'])} -> {_money(new['facility'])}"
            )
        else:
            side, word = (new, "new") if new else (old, "gone")
            shown.append(f"{row['code']} {word} ({_money(side['non_facility'])}, facility {_money(side['facility'])})")
    if counts:
        more = " ..." if sum(fees.get(k, 0) for k in ("changed", "added", "removed")) > len(shown) else ""
        said.append(", ".join(counts) + f" ({'; '.join(shown)}{more})")
    rvus = table["rvus"]
    if rvus:
        codes = [c for k in ("changed", "added", "removed") for c in rvus.get(k + "_rows", ())][:8]
        total = sum(rvus.get(k, 0) for k in ("changed", "added", "removed"))
        said.append(
            f"RVUs of {_plural(total, 'code')} differ ({', '.join(codes)}{' ...' if total > len(codes) else ''})"
        )
    return f"{name}: " + "; ".join(said)


# ------------------------------------------------------------------------------------------------ text


def render_text(impact: PolicyDiff, summary: dict, kept: list, unreadable: list, show: int) -> str:
    head = impact.head()
    out = [f"Impact of {_policy_label(head['new'])}", f"     over {_policy_label(head['old'])}", ""]
    out += _text_counts(summary)
    out += _text_money(summary["money"])
    out += _text_rules(summary, head)
    if kept:
        out += _text_changed_lines(impact, kept, summary)
    if unreadable:
        out += _text_unreadable(unreadable, summary)
    return "\n".join(out) + "\n"


def _text_counts(summary: dict) -> list[str]:
    """Claims and lines judged, and the changed lines by kind."""
    out = [
        f"{_plural(summary['claims'], 'claim')} judged by both ({_plural(summary['lines'], 'line')}): "
        f"{_plural(summary['lines_changed'], 'line')} on {_plural(summary['claims_changed'], 'claim')} "
        "decided differently"
    ]
    if summary["other_payers"]:
        out.append(f"{_plural(summary['other_payers'], 'claim')} of other payers left out")
    if summary["unreadable"]:
        out.append(f"{_plural(summary['unreadable'], 'claim')} could not be read (listed once, below)")
    if summary["lines_changed"]:
        out.append("")
    for kind in KINDS:
        counts = summary["by_kind"][kind]
        if counts["lines"]:
            out.append(
                f"  {KIND_WORDS[kind]:27} {_plural(counts['lines'], 'line'):>12} on "
                f"{_plural(counts['claims'], 'claim'):>12}   charges {_money(counts['charges'])}"
            )
    return out


def _text_money(money: dict) -> list[str]:
    out = [
        "",
        f"Money at stake (billed charges of lines whose status changes): {_money(money['at_stake_charges'])}; "
        f"newly denied {_money(money['newly_denied_charges'])}, newly passed {_money(money['newly_passed_charges'])}",
    ]
    if money["lines_without_charge"]:
        n = money["lines_without_charge"]
        out.append(f"  ({n:,} of those lines {'has' if n == 1 else 'have'} no charge)")
    if money["allowed"] is not None:
        allowed = money["allowed"]
        out.append(
            f"Estimated allowed amounts (fee schedule): {_money(allowed['at_stake'])} at stake; newly denied "
            f"{_money(allowed['newly_denied'])}, newly passed {_money(allowed['newly_passed'])}"
        )
    return out


def _text_rules(summary: dict, head: dict) -> list[str]:
    """The rules that fire on more or fewer lines, and what differs between the policies."""
    out = []
    limit = RULES_SHOWN["text"]
    rules = list(summary["by_rule"].items())
    if rules:
        out += ["", "By rule (lines it now fires on / no longer fires on):"]
        out += [f"  {rule}: +{n['now_fires']:,} / -{n['no_longer_fires']:,}" for rule, n in rules[:limit]]
        if len(rules) > limit:
            out.append(f"  ... and {len(rules) - limit:,} more rules")
    out += ["", "What differs between the two policies:"]
    out += ["  " + line for line in _policy_change_lines(head["policy_changes"], limit)]
    idle = summary["changed_rules_without_effect"]
    if idle:
        more = f" and {len(idle) - limit:,} more" if len(idle) > limit else ""
        out.append(
            f"  changed rules that changed no decision on these claims ({len(idle):,}): {', '.join(idle[:limit])}{more}"
        )
    return out


def _text_changed_lines(impact: PolicyDiff, kept: list, summary: dict) -> list[str]:
    out = ["", "Changed lines:"]
    place = impact.old.place
    for change, line in kept:
        out.append(
            f"Claim {change.id}  line {line.line}  {line.date_of_service}  {line.code} x{line.billed_units}"
            f"  {KIND_WORDS[line.kind].upper()}: {_side_words(line.old)} -> {_side_words(line.new)}"
            + (f"  charge {_money(line.charge)}" if line.charge is not None else "")
        )
        for finding in line.old_findings:
            out.append("    was  " + _finding_words(finding, place))
        for finding in line.new_findings:
            out.append("    now  " + _finding_words(finding, dict))
    rest = summary["lines_changed"] - len(kept)
    if rest > 0:
        out.append(f"... and {_plural(rest, 'more changed line')} (--show N to see more, --format csv for all)")
    return out


def _text_unreadable(unreadable: list, summary: dict) -> list[str]:
    out = ["", "Claims that could not be read:"]
    for change in unreadable:
        said = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in change.errors)
        out.append(f"Claim {change.id or '(no id)'}{' ' + change.where if change.where else ''}: {said}")
    if summary["unreadable"] > len(unreadable):
        out.append(f"... and {_plural(summary['unreadable'] - len(unreadable), 'more claim')} that could not be read")
    return out


# ------------------------------------------------------------------------------------------------ Markdown


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(impact: PolicyDiff, summary: dict, kept: list, show: int) -> str:
    head = impact.head()
    money = summary["money"]
    out = [
        f"### Policy impact: {_policy_label(head['old'])} → {_policy_label(head['new'])}",
        "",
        f"**{_plural(summary['lines_changed'], 'line')}** on **{_plural(summary['claims_changed'], 'claim')}** "
        f"of {summary['claims']:,} decided differently; **{_money(money['at_stake_charges'])}** billed charges "
        "change status"
        + (f" ({_money(money['allowed']['at_stake'])} estimated allowed)" if money["allowed"] is not None else "")
        + ".",
        "",
    ]
    out += ["| change | lines | claims | charges |", "|---|---:|---:|---:|"]
    for kind in KINDS:
        counts = summary["by_kind"][kind]
        if counts["lines"]:
            out.append(
                f"| {KIND_WORDS[kind]} | {counts['lines']:,} | {counts['claims']:,} | {_money(counts['charges'])} |"
            )
    rules = list(summary["by_rule"].items())
    if rules:
        limit = RULES_SHOWN["markdown"]
        out += ["", "| rule | now fires | no longer fires |", "|---|---:|---:|"]
        out += [f"| `{rule}` | {n['now_fires']:,} | {n['no_longer_fires']:,} |" for rule, n in rules[:limit]]
        if len(rules) > limit:
            out.append(f"\n… and {len(rules) - limit:,} more rules")
    out += ["", "<details><summary>What differs between the policies</summary>", ""]
    out += ["- " + _cell(line) for line in _policy_change_lines(head["policy_changes"], RULES_SHOWN["markdown"])]
    idle = summary["changed_rules_without_effect"]
    if idle:
        limit = RULES_SHOWN["markdown"]
        out.append(
            f"- {len(idle):,} changed rules changed no decision on these claims: "
            + ", ".join(f"`{r}`" for r in idle[:limit])
            + (" …" if len(idle) > limit else "")
        )
    out += ["", "</details>"]
    if kept:
        out += ["", "| claim | line | code | change | was | now |", "|---|---:|---|---|---|---|"]
        for change, line in kept:
            was = ", ".join(f"`{r}`" for r in line.rules_removed) or _side_words(line.old)
            now = ", ".join(f"`{r}`" for r in line.rules_added) or _side_words(line.new)
            out.append(f"| {_cell(change.id)} | {line.line} | {line.code} | {KIND_WORDS[line.kind]} | {was} | {now} |")
        rest = summary["lines_changed"] - len(kept)
        if rest > 0:
            out.append(f"\n… and {_plural(rest, 'more changed line')}.")
    if summary["unreadable"]:
        out.append(f"\n{_plural(summary['unreadable'], 'claim')} could not be read.")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------------------------ CSV


def _csv_rows(change: ClaimChange) -> list[list]:
    if change.errors:
        said = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in change.errors)
        return [[change.id, "", "", "", "unreadable", "error", "error", "", "", "", "", "", "", "", "", "", said]]
    rows = []
    for line in change.lines:
        old_place = line.place
        rows.append(
            [
                change.id,
                line.line,
                line.code,
                line.date_of_service,
                line.kind,
                line.old.status,
                line.new.status,
                line.old.allowed_units,
                line.new.allowed_units,
                "" if line.charge is None else f"{line.charge:.2f}",
                "" if line.old.allowed_amount is None else f"{line.old.allowed_amount:.2f}",
                "" if line.new.allowed_amount is None else f"{line.new.allowed_amount:.2f}",
                " ".join(line.rules_added),
                " ".join(line.rules_removed),
                "; ".join(_finding_words(f, old_place) for f in line.old_findings),
                "; ".join(_finding_words(f, dict) for f in line.new_findings),
                "",
            ]
        )
    return rows
