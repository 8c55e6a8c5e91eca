"""Stage 1, read (tables): reference tables a policy names, as `payerpolicy tables import` writes them.

Two tables judge lines here, each as one rule whose condition is the table itself (`rules.ast.TableEdit`):

- a unit limit table (`unit_cap_tables:`, from an imported MUE file): per code, the MUE value and its
  adjudication indicator (MAI). MAI 1 limits each claim line; MAI 2 and 3 limit the units of the patient's
  date of service, every claim of the day counted. An MUE denial takes the whole line, not the units over the
  value, and a line it denies is not counted toward the day's units seen by later lines (the payer pays
  none of it). MAI 2 is absolute; MAI 3 may be paid on appeal with documentation (domain §12, "Unit limits").
- a fee schedule status table (`fee_status_table:`, from an imported RVU file or written by hand): per code,
  its Medicare physician fee schedule status (B bundled, I invalid, N not covered, ...). Each `fee_status:`
  rule of the policy denies the lines whose code has one status.

The table file starts with `#` lines (kind, quarter, effective dates, the CMS files it came from), then a
heading row and the rows. A finding a table causes carries, in its `source`, the table file, its quarter,
the row (line number in the table file) and, for imported tables, the line of the CMS file it was read from
(`published`). Every mistake in a table is reported with file:line:column, all of them at once, and a table
with mistakes is not used.
"""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

from payerpolicy.decision import Fix
from payerpolicy.diagnostics import Diagnostic, SourceFiles, Span
from payerpolicy.policy.pair_table import MISTAKES_SHOWN, read_table_text, report_row_mistakes

_NEEDED = {
    "mue": ("code", "mue", "indicator"),
    "rvu": ("code", "status"),
    "fees": ("carrier", "locality", "code", "modifier", "nonfacility_fee", "facility_fee"),
}
_WHAT = {
    "mue": "MUE table (`payerpolicy tables import mue`)",
    "rvu": "fee status table (`payerpolicy tables import rvu`)",
    "fees": "fee table (`payerpolicy tables import fees`)",
}

# What each MUE adjudication indicator means for the billing specialist (domain §4 and §12).
_MAI_WORDS = {
    1: "per claim line",
    2: "per date of service, across all claims: an absolute limit, not paid even on appeal",
    3: "per date of service, across all claims: a clinical limit, more payable only on appeal with documentation",
}
# Fee schedule status codes, in a billing specialist's words (the RVU file's own legend, shortened).
STATUS_WORDS = {
    "A": "active: paid under the fee schedule",
    "B": "bundled: paid as part of other services, never separately",
    "I": "not valid for Medicare: another code is billed instead",
    "N": "not covered by Medicare",
    "R": "restricted coverage",
    "T": "paid only when no other service is paid that day",
    "X": "excluded from the fee schedule by law",
}


class TableFile:
    """A reference table file read: its `#` facts (quarter, effective dates, imported_from) and its rows."""

    def __init__(self, display: str, meta: dict, rows: list, mistakes: int = 0):
        self.display = display
        self.meta = meta
        self.rows = rows  # (line number, {column: cell})
        self.mistakes = mistakes  # rows already reported: the table is not used, but its other rows are checked
        self.text: str | None = None

    def cell_mistake(self, diagnostics: list, sources: SourceFiles, message: str, line: int, hint: str) -> None:
        """A row whose cells are wrong, found after reading: reported like the others, the first fifty shown."""
        self.mistakes += 1
        if self.text is not None:
            sources.texts[self.display] = self.text
        if self.mistakes <= MISTAKES_SHOWN:
            diagnostics.append(Diagnostic("E208", message, Span(self.display, line, 1, line, 2), hint))
        elif self.mistakes == MISTAKES_SHOWN + 1:
            diagnostics.append(
                Diagnostic(
                    "E208",
                    f"more rows of `{self.display}` have mistakes",
                    None,
                    f"only the first {MISTAKES_SHOWN} are shown",
                )
            )

    def __getstate__(self):  # the text is not kept in the compiled-policy cache
        return self.display, self.meta, [], self.mistakes  # rows are read only while the policy is built

    def __setstate__(self, state) -> None:
        self.display, self.meta, self.rows, self.mistakes = state
        self.text = None

    @property
    def first_day(self) -> datetime.date:
        return _iso(self.meta.get("effective_from")) or datetime.date.min

    @property
    def last_day(self) -> datetime.date:
        return _iso(self.meta.get("effective_to")) or datetime.date.max

    def provenance(self, line: int, published: str) -> dict:
        out: dict[str, object] = {"table": self.display}
        if self.meta.get("quarter"):
            out["quarter"] = self.meta["quarter"]
        out["row"] = line
        if published:
            out["published"] = published
        return out


def _iso(text) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def read_table_file(
    path: Path | None, display: str, kind: str, sources: SourceFiles, diagnostics: list[Diagnostic], at: Span
) -> TableFile | None:
    """Read an imported table of `kind` (mue, rvu): None when it cannot be read at all; else the table, with
    the rows of the wrong shape reported and counted in `mistakes` (the caller checks the others' cells)."""
    text = read_table_text(path, display, _WHAT[kind], sources, diagnostics, at)
    if text is None:
        return None
    meta: dict = {}
    rows: list = []
    names: list[str] | None = None
    mistake = _Mistakes(display, diagnostics)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line.startswith("#"):
            if ":" in line:
                key, value = line[1:].split(":", 1)
                meta[key.strip()] = value.strip()
            continue
        cells = next(csv.reader([line]))
        if names is None:
            names = [c.strip().lower() for c in cells]
            wrong = _wrong_heading(names, kind, meta.get("payerpolicy reference table"), display)
            if wrong is not None:
                mistake(wrong[0], number, 1, wrong[1], len(line))
                break
            continue
        if len(cells) < len(names):
            mistake(f"this row has {len(cells)} cells; the heading row has {len(names)}", number, 1, None, len(line))
            continue
        rows.append((number, dict(zip(names, cells))))
    if names is None and not mistake.count:
        mistake(
            f"`{display}` has no heading row and no rows", 1, 1, f"write it with `payerpolicy tables import {kind} ...`"
        )
    report_row_mistakes(mistake.count, display, text, at, sources, diagnostics)
    table = None if names is None else TableFile(display, meta, rows, mistake.count)
    if table is not None:
        table.text = text  # kept while the policy is built, for a mistake found in a cell later
    return table


class _Mistakes:
    """The rows of a table file with the wrong shape: each counted, the first `MISTAKES_SHOWN` said (E208)."""

    def __init__(self, display: str, diagnostics: list[Diagnostic]):
        self.display, self.diagnostics, self.count = display, diagnostics, 0

    def __call__(self, message: str, line: int, column: int = 1, hint: str | None = None, width: int = 1) -> None:
        self.count += 1
        if self.count <= MISTAKES_SHOWN:
            span = Span(self.display, line, column, line, column + width)
            self.diagnostics.append(Diagnostic("E208", message, span, hint))


def _wrong_heading(names: list[str], kind: str, kind_seen: str | None, display: str) -> tuple[str, str] | None:
    """What is wrong with a table's heading row (a table of another kind, a column missing), with its help."""
    if kind_seen not in (None, kind):
        return (
            f"`{display}` is a table of kind `{kind_seen}`, not `{kind}`",
            f"import the right CMS file: payerpolicy tables import {kind} FILE --quarter ... --out {Path(display).name}",
        )
    missing = [n for n in _NEEDED[kind] if n not in names]
    if missing:
        return (
            f"the heading row has no {', '.join(f'`{m}`' for m in missing)} column",
            f"a {_WHAT[kind]} has the columns {', '.join(_NEEDED[kind])}",
        )
    return None


# --------------------------------------------------------------------------------------------- MUE
class UnitLimitTable:
    """Code -> (MUE value, adjudication indicator, row, CMS row), in force on the table's dates of service."""

    __slots__ = ("file", "limits", "first", "last")

    def __init__(self, file: TableFile, limits: dict):
        self.file = file
        self.limits = limits
        self.first, self.last = file.first_day, file.last_day

    def codes(self) -> list[str]:
        return sorted(self.limits)

    def hits(self, day) -> tuple:
        """((value, indicator, row, published, units counted),) when the judged line is over its code's MUE:
        its own units (MAI 1), or the day's units of the code on lines not denied by the MUE before it, its
        own included (MAI 2, 3). Empty otherwise."""
        line = day.line
        limit = self.limits.get(line.code)
        if limit is None or not (self.first <= line.date <= self.last):
            return ()
        value, indicator = limit[0], limit[1]
        if indicator == 1:
            return (limit + (line.units,),) if line.units > value else ()
        counted = 0
        past = day.past_day()
        for other in (past + day.lines[: day.position]) if past else day.lines[: day.position]:
            # A line the MUE denied is paid nothing, so its units do not count against the lines after it.
            if other.code == line.code and counted + other.units <= value:
                counted += other.units
        total = counted + line.units
        return (limit + (total,),) if total > value else ()

    def message(self, hits: tuple, line) -> str:
        value, indicator, _, _, total = hits[0]
        quarter = self.file.meta.get("quarter")
        table = f"the {quarter} MUE table" if quarter else "the MUE table"
        if indicator == 1:
            said = f"{line.code} is billed for {total} units on one line; the MUE for {line.code} is {value}"
        else:
            said = (
                f"this line brings the patient's units of {line.code} on {line.date.isoformat()} to {total} "
                f"(every claim of the day counted); the MUE for {line.code} is {value}"
            )
        return (
            f"{said} ({table}, adjudication indicator {indicator}: {_MAI_WORDS[indicator]}). An MUE denial "
            f"takes the whole line, not only the units over {value}, and an ABN cannot shift it to the patient"
        )

    def fix(self, hits: tuple, line) -> Fix:
        value, indicator, _, _, total = hits[0]
        if indicator == 1:
            note = (
                f"bill at most {value} units of {line.code} on this line; more units of truly separate services "
                "go on another line with the modifier that fits them"
            )
        else:
            room = max(0, value - (total - line.units))
            note = (
                f"bill at most {room} unit{'' if room == 1 else 's'} of {line.code} on this line "
                f"({value} a day across all claims)"
                + ("; more are paid only on appeal with the documentation that supports them" if indicator == 3 else "")
            )
        return Fix("review", line.number, note=note)

    def provenance(self, hits: tuple) -> dict:
        _, _, row, published, _ = hits[0]
        return self.file.provenance(row, published)

    def __repr__(self) -> str:
        return f"<UnitLimitTable {self.file.display}: {len(self.limits)} codes>"


def unit_limit_table(file: TableFile, diagnostics: list[Diagnostic], sources: SourceFiles) -> UnitLimitTable | None:
    limits: dict = {}
    for number, row in file.rows:
        code, value, indicator = row["code"].strip().upper(), row["mue"].strip(), row["indicator"].strip()
        if not (len(code) == 5 and code.isalnum()) or not value.isdigit() or indicator not in ("1", "2", "3"):
            file.cell_mistake(
                diagnostics,
                sources,
                f"row `{code},{value},{indicator}` is not a code, a whole number of units and an indicator 1, 2 or 3",
                number,
                "import the MUE file again: payerpolicy tables import mue",
            )
            continue
        if code in limits:
            file.cell_mistake(
                diagnostics,
                sources,
                f"{code} has two MUE rows (the first at line {limits[code][2]})",
                number,
                "a code has one MUE value a quarter: import the MUE file again",
            )
            continue
        limits[code] = (int(value), int(indicator), number, row.get("cms_row", "").strip())
    return None if file.mistakes else UnitLimitTable(file, limits)


# --------------------------------------------------------------------------------------------- fee status
class FeeStatusTable:
    """Code -> (status, row, where it came from): from an imported RVU table, or rows written in the policy."""

    __slots__ = ("file", "statuses", "first", "last")

    def __init__(self, file: TableFile | None, statuses: dict):
        self.file = file
        self.statuses = statuses  # code -> (status, provenance dict)
        self.first = file.first_day if file else datetime.date.min
        self.last = file.last_day if file else datetime.date.max

    def codes_with(self, status: str) -> list[str]:
        return sorted(code for code, (s, _) in self.statuses.items() if s == status)


class StatusEdit:
    """One `fee_status:` rule's view of the status table: the lines whose code has `status`."""

    __slots__ = ("table", "status")

    def __init__(self, table: FeeStatusTable, status: str):
        self.table, self.status = table, status

    def hits(self, day) -> tuple:
        line = day.line
        found = self.table.statuses.get(line.code)
        if found is None or found[0] != self.status or not (self.table.first <= line.date <= self.table.last):
            return ()
        return (found,)

    def message(self, hits: tuple, line) -> str:
        words = STATUS_WORDS.get(self.status, "not paid as billed")
        return f"{line.code} has Medicare fee schedule status {self.status} ({words})"

    def fix(self, hits: tuple, line) -> Fix:
        return Fix("remove_line", line.number)

    def provenance(self, hits: tuple) -> dict:
        return dict(hits[0][1])

    def __repr__(self) -> str:
        return f"<StatusEdit {self.status}>"


def fee_status_rows(
    file: TableFile | None,
    hand_rows: list,
    hand_file: str,
    hand_lines: list[int],
    diagnostics: list[Diagnostic],
    sources: SourceFiles,
) -> FeeStatusTable | None:
    """The status table from an imported RVU table (codes with a modifier are left out: a status is the
    code's own), then the rows written in the policy, which take precedence."""
    statuses: dict = {}
    for number, row in file.rows if file else ():
        assert file is not None
        code, status = row["code"].strip().upper(), row["status"].strip().upper()
        if row.get("modifier", "").strip():
            continue
        if not (len(code) == 5 and code.isalnum()) or len(status) != 1 or not status.isalpha():
            file.cell_mistake(
                diagnostics,
                sources,
                f"row `{code},{status}` is not a code and a status letter",
                number,
                "import the RVU file again: payerpolicy tables import rvu",
            )
            continue
        statuses[code] = (status, file.provenance(number, row.get("cms_row", "").strip()))
    for row, line in zip(hand_rows, hand_lines):
        code = str(getattr(row["code"], "text", row["code"])).strip().upper()  # 00100 as written, not 100
        statuses[code] = (
            str(row["status"]).strip().upper(),
            {"table": hand_file, "row": line, "status_source": row["source"]},
        )
    return None if file is not None and file.mistakes else FeeStatusTable(file, statuses)


__all__ = [
    "TableFile",
    "read_table_file",
    "UnitLimitTable",
    "unit_limit_table",
    "FeeStatusTable",
    "StatusEdit",
    "fee_status_rows",
    "STATUS_WORDS",
]
