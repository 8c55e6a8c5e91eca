"""Reference tables (import): CMS's published files turned into the table files a policy names.

`payerpolicy tables import KIND FILE... --quarter 2026Q4 --out PATH` reads one kind of CMS file in its
published layout, checks every row and writes the table form the policy loaders read. A file with one bad
row is not imported at all: every bad row is reported with its file and line number (the first fifty), and
nothing is written; a good import is written to a temporary file beside the target and renamed over it, so
a policy never reads half a table.

The kinds and the layouts read (no CMS file is at hand offline: tests/samples/cms/ holds small files written
in these layouts):

- `ptp`: the practitioner NCCI procedure-to-procedure edits, several tab-separated text files a quarter
  (split by code range), merged. A few lines of title and copyright, the column headings ("Column 1",
  "Column 2", ...) on one line (more heading lines may follow with their first cell empty), then rows:
  column 1, column 2, "*" when the edit existed before 1996, effective date YYYYMMDD, deletion date
  YYYYMMDD or "*", modifier indicator 0/1/9, edit rationale.
- `mue`: the practitioner services MUE file (CSV): header lines, then code, MUE value, MUE adjudication
  indicator (a digit followed by its text: "3 Date of Service Edit: Clinical"), rationale.
- `rvu`: the physician fee schedule RVU file (CSV) with its several heading rows; columns are found by their
  heading text (HCPCS, MOD, DESCRIPTION, STATUS CODE, WORK RVU, NON-FACILITY PE RVU, FACILITY PE RVU, MP RVU,
  MULT PROC), not by position, as CMS moves them between years.
- `fees`: the payment amount file (CSV), columns found by heading: carrier, locality, HCPCS, modifier,
  non-facility fee, facility fee.

Every table written starts with `#` lines naming its kind, quarter, effective dates and the files it came
from; the loaders read those, and a finding a table row causes names the table, its quarter and the row.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("ptp", "mue", "rvu", "fees")
MISTAKES_SHOWN = 50
_CODE = re.compile(r"^([0-9]{4}[0-9A-Z]|[A-Z][0-9]{4})$")  # CPT (97110, 0001U) or HCPCS II (G0283)
_QUARTER = re.compile(r"^([0-9]{4})[Qq]([1-4])$")
_MONEY = re.compile(r"^[0-9]+(\.[0-9]+)?$")
# Fee schedule status codes CMS defines in the RVU file (the letters, not their meaning, are checked here).
STATUSES = frozenset("ABCDEFGHIJMNPRTX")

# The columns each kind's table file has, in order (the loaders find them by these names).
COLUMNS = {
    # The PTP edit rationale is left out: a quarter's table is read whole on every cold load (and its bytes
    # hashed on every cached one), and the rationale text would more than double it.
    "ptp": ("column1", "column2", "effective_from", "deleted", "modifier_indicator"),
    "mue": ("code", "mue", "indicator", "rationale", "cms_row"),
    "rvu": (
        "code",
        "modifier",
        "status",
        "work_rvu",
        "pe_nonfacility_rvu",
        "pe_facility_rvu",
        "mp_rvu",
        "mult_proc",
        "cms_row",
    ),
    "fees": ("carrier", "locality", "code", "modifier", "nonfacility_fee", "facility_fee", "cms_row"),
}


@dataclass(frozen=True)
class Mistake:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class TableImportError(Exception):
    """The files could not be imported; `mistakes` holds every bad row found (the first fifty are shown)."""

    def __init__(self, mistakes: list[Mistake], more: int = 0):
        self.mistakes = mistakes
        self.more = more
        super().__init__("\n".join(map(str, mistakes)))

    def render(self) -> str:
        text = "\n".join(f"{m}" for m in self.mistakes)
        if self.more:
            text += f"\n... and {self.more} more bad rows (only the first {MISTAKES_SHOWN} are shown)"
        return text


@dataclass
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        found = _QUARTER.match(text.strip())
        if not found:
            raise ValueError(f"`{text}` is not a quarter: write it as YYYYQn, for example 2026Q4")
        return cls(int(found.group(1)), int(found.group(2)))

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> datetime.date:
        if self.number == 4:
            return datetime.date(self.year, 12, 31)
        return datetime.date(self.year, 3 * self.number + 1, 1) - datetime.timedelta(days=1)


@dataclass
class ImportResult:
    kind: str
    out: Path
    rows: int
    files: list[str]
    quarter: str
    effective_from: datetime.date
    effective_to: datetime.date
    skipped: int = 0  # rows read but not kept (PTP indicator 9: the edit does not apply)


@dataclass
class _Rows:
    """What reading the files gives: good rows (as table cells) and every mistake."""

    rows: list | _Written = field(default_factory=list)  # _Written: the PTP edits, straight to the file
    mistakes: list = field(default_factory=list)
    count: int = 0  # mistakes found, shown or not
    skipped: int = 0

    def mistake(self, file: str, line: int, message: str) -> None:
        self.count += 1
        if self.count <= MISTAKES_SHOWN:
            self.mistakes.append(Mistake(file, line, message))


def import_table(
    kind: str,
    files: list[Path],
    quarter: str,
    out: Path,
    effective_from: datetime.date | None = None,
    effective_to: datetime.date | None = None,
) -> ImportResult:
    """Read `files` (CMS's published layout of `kind`), check every row, and write the table to `out`.
    Raises `TableImportError` (nothing written) when any row is bad, ValueError for bad arguments, OSError
    when a file cannot be read or the table cannot be written."""
    if kind not in KINDS:
        raise ValueError(f"`{kind}` is not a kind of table: one of {', '.join(KINDS)}")
    period = Quarter.parse(quarter)
    first = effective_from or period.first_day
    last = effective_to or period.last_day
    if last < first:
        raise ValueError(f"the table would stop ({last}) before it starts ({first})")
    names = [Path(p).name for p in files]
    header = [
        f"# payerpolicy reference table: {kind}",
        f"# quarter: {period}",
        f"# effective_from: {first.isoformat()}",
        f"# effective_to: {last.isoformat()}",
        f"# imported_from: {', '.join(names)}",
    ]
    # Written beside the target and renamed over it: a reader sees the old table or the new one, never half of
    # one, and a failed import leaves nothing behind.
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write("\n".join(header) + "\n")
            writer = csv.writer(stream, delimiter="\t" if kind == "ptp" else ",", lineterminator="\n")
            writer.writerow(COLUMNS[kind])
            # A quarter's million PTP edits go straight to the file; the other tables, a few thousand rows,
            # are held until every row is checked against the others (a code listed twice).
            read = _Rows(rows=_Written(writer) if kind == "ptp" else [])
            for path in files:
                _READERS[kind](str(path), _read_text(path), read)
            _check_duplicates(kind, read, {Path(p).name: str(p) for p in files})
            if read.count:
                raise TableImportError(read.mistakes, max(0, read.count - MISTAKES_SHOWN))
            if not len(read.rows):
                raise TableImportError([Mistake(str(files[0]), 1, "no rows found: is this the right kind of file?")])
            if isinstance(read.rows, list):  # the PTP edits went to the file as they were read
                writer.writerows(read.rows)
        os.replace(temporary, out)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return ImportResult(kind, out, len(read.rows), names, str(period), first, last, read.skipped)


class _Written:
    """Rows written as they are read (the PTP edits), counted."""

    def __init__(self, writer):
        self.writer, self.count = writer, 0

    def append(self, row: tuple) -> None:
        self.writer.writerow(row)
        self.count += 1

    def __len__(self) -> int:
        return self.count


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:  # CMS files are plain ASCII; the odd description in Latin-1
        return data.decode("latin-1")


# ------------------------------------------------------------------------------------------ cells
def _code(cell: str) -> str | None:
    code = cell.strip().upper()
    return code if _CODE.match(code) else None


def _cms_date(cell: str, star_is_none: bool) -> datetime.date | None | str:
    """A YYYYMMDD date; None for `*` (or empty) where that means "none"; the string "bad" otherwise."""
    text = cell.strip()
    if star_is_none and text in ("*", ""):
        return None
    if len(text) == 8 and text.isdigit():
        try:
            return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return "bad"
    return "bad"


def _number(cell: str) -> str | None:
    """A decimal figure as written (RVUs, fees); empty stays empty (CMS leaves some blank)."""
    text = cell.strip()
    if text == "":
        return ""
    return text if _MONEY.match(text) else None


def _csv_rows(text: str, delimiter: str = ","):
    """(line number, cells) of each line, numbered as in the file."""
    for number, line in enumerate(io.StringIO(text), start=1):  # not splitlines: no list of a million lines
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        cells = next(csv.reader(io.StringIO(line), delimiter=delimiter)) if '"' in line else line.split(delimiter)
        yield number, cells


def _heading(text: str) -> str:
    return " ".join(text.replace("\n", " ").strip().strip('"').upper().split())


# ------------------------------------------------------------------------------------------ PTP
def _read_ptp(file: str, text: str, read: _Rows) -> None:
    in_body = rows_seen = False
    for number, cells in _csv_rows(text, "\t"):
        if not in_body:
            if _heading(cells[0]).startswith("COLUMN 1"):
                in_body = True
            continue
        if not cells[0].strip() and not rows_seen:  # a heading's second line ("*=no data", "0=not allowed")
            continue
        rows_seen = True
        if len(cells) < 6:
            read.mistake(
                file,
                number,
                f"this row has {len(cells)} cells separated by tabs; a PTP row has 7 "
                "(column 1, column 2, *, effective date, deletion date, modifier "
                "indicator, rationale)",
            )
            continue
        column1, column2 = _code(cells[0]), _code(cells[1])
        problems = []
        if column1 is None:
            problems.append(f"`{cells[0].strip()}` in column 1 is not a procedure code")
        if column2 is None:
            problems.append(f"`{cells[1].strip()}` in column 2 is not a procedure code")
        if cells[2].strip() not in ("", "*"):
            problems.append(f"`{cells[2].strip()}` in the before-1996 column: it is `*` or empty")
        start = _cms_date(cells[3], star_is_none=False)
        end = _cms_date(cells[4], star_is_none=True)
        if start == "bad":
            problems.append(f"`{cells[3].strip()}` is not an effective date (YYYYMMDD)")
        if end == "bad":
            problems.append(f"`{cells[4].strip()}` is not a deletion date (YYYYMMDD, or * for none)")
        indicator = cells[5].strip()
        if indicator not in ("0", "1", "9"):
            problems.append(f"`{indicator}` is not a modifier indicator (0, 1 or 9)")
        if problems:
            read.mistake(file, number, "; ".join(problems))
            continue
        if indicator == "9":  # not applied: CMS lists it for the record only
            read.skipped += 1
            continue
        assert isinstance(start, datetime.date) and not isinstance(end, str)  # a bad date is a problem above
        read.rows.append((column1, column2, start.isoformat(), end.isoformat() if end else "", indicator))
    if not in_body:
        read.mistake(file, 1, "no column headings (a line starting `Column 1`): is this a PTP edit file?")


# ------------------------------------------------------------------------------------------ MUE
_MUE_HEADING = re.compile(r"^(HCPCS|CPT)( ?/ ?(CPT|HCPCS))?( CODE)?$")


def _read_mue(file: str, text: str, read: _Rows) -> None:
    in_body = False
    for number, cells in _csv_rows(text):
        if not in_body:
            if _MUE_HEADING.match(_heading(cells[0])):
                in_body = True
            continue
        if len(cells) < 3:
            read.mistake(
                file,
                number,
                f"this row has {len(cells)} cells; an MUE row has a code, the MUE value, "
                "the adjudication indicator and the rationale",
            )
            continue
        code = _code(cells[0])
        value = cells[1].strip()
        indicator = cells[2].strip()[:1]
        problems = []
        if code is None:
            problems.append(f"`{cells[0].strip()}` is not a procedure code")
        if not value.isdigit():
            problems.append(f"`{value}` is not an MUE value (a whole number of units)")
        if indicator not in ("1", "2", "3"):
            problems.append(f"`{cells[2].strip()}` is not an MUE adjudication indicator (it starts with 1, 2 or 3)")
        if problems:
            read.mistake(file, number, "; ".join(problems))
            continue
        rationale = cells[3].strip() if len(cells) > 3 else ""
        read.rows.append((code, str(int(value)), indicator, rationale, f"{Path(file).name}:{number}"))
    if not in_body:
        read.mistake(file, 1, "no heading row (its first cell names the HCPCS/CPT code): is this an MUE file?")


# ------------------------------------------------------------------------------------------ RVU and fees
def _find_columns(file: str, text: str, wanted: dict, read: _Rows, what: str):
    """(columns by name, line where the body starts) from heading rows found by their text; heading rows
    run down to the one with a cell reading HCPCS. A column's heading may be split over several rows
    (NON-FACILITY over PE RVU): the texts of each column are joined, top to bottom."""
    headings: list[list[str]] = []
    for number, cells in _csv_rows(text):
        headings.append(cells)
        if any(_heading(c) == "HCPCS" or _heading(c).startswith("HCPCS ") for c in cells):
            width = max(len(row) for row in headings)
            joined = [
                " ".join(_heading(row[i]) for row in headings if i < len(row) and row[i].strip()) for i in range(width)
            ]
            columns = {}
            for name, test in wanted.items():
                found = [i for i, heading in enumerate(joined) if test(heading)]
                if found:
                    columns[name] = found[0]
            missing = [name for name in wanted if name not in columns]
            if missing:
                read.mistake(
                    file,
                    number,
                    f"no {', '.join(missing)} column among the headings of this {what} "
                    f"(found: {'; '.join(h for h in joined if h) or 'none'})",
                )
                return None, number
            return columns, number
    read.mistake(file, 1, f"no heading row with a HCPCS column: is this a {what}?")
    return None, 0


def _has(*words):
    return lambda heading: all(w in heading for w in words)


_RVU_COLUMNS = {
    "code": lambda h: h == "HCPCS" or h.endswith(" HCPCS") or h.startswith("HCPCS"),
    "modifier": lambda h: h == "MOD" or h.endswith(" MOD") or h == "MODIFIER",
    "status": _has("STATUS"),
    "work_rvu": lambda h: "WORK RVU" in h,
    "pe_nonfacility_rvu": lambda h: ("NON-FAC" in h or "NON FAC" in h or "NONFAC" in h) and "PE RVU" in h,
    "pe_facility_rvu": lambda h: "FACILITY" in h and "PE RVU" in h and "NON" not in h,
    "mp_rvu": lambda h: "MP RVU" in h or "MALPRACTICE" in h,
    "mult_proc": _has("MULT", "PROC"),
}


def _body(file: str, text: str, read: _Rows, wanted: dict, what: str):
    """(line number, cells, columns) of each row below the headings that has every column wanted."""
    columns, start = _find_columns(file, text, wanted, read, what)
    if columns is None:
        return
    width = max(columns.values()) + 1
    for number, cells in _csv_rows(text):
        if number <= start:
            continue
        if len(cells) < width:
            read.mistake(file, number, f"this row has {len(cells)} cells; the headings have at least {width}")
            continue
        yield number, cells, columns


def _read_rvu(file: str, text: str, read: _Rows) -> None:
    for number, cells, columns in _body(file, text, read, _RVU_COLUMNS, "RVU file"):
        code = _code(cells[columns["code"]])
        modifier = cells[columns["modifier"]].strip().upper()
        status = cells[columns["status"]].strip().upper()
        problems = []
        if code is None:
            problems.append(f"`{cells[columns['code']].strip()}` is not a procedure code")
        if modifier and not (len(modifier) == 2 and modifier.isalnum()):
            problems.append(f"`{modifier}` is not a modifier")
        if status not in STATUSES:
            problems.append(f"`{status}` is not a fee schedule status code ({', '.join(sorted(STATUSES))})")
        figures = []
        for name in ("work_rvu", "pe_nonfacility_rvu", "pe_facility_rvu", "mp_rvu"):
            figure = _number(cells[columns[name]])
            if figure is None:
                problems.append(f"`{cells[columns[name]].strip()}` in {name.replace('_', ' ')} is not a number")
            figures.append(figure)
        mult = cells[columns["mult_proc"]].strip()
        if mult and not (len(mult) == 1 and mult.isdigit()):
            problems.append(f"`{mult}` is not a multiple procedure indicator (one digit)")
        if problems:
            read.mistake(file, number, "; ".join(problems))
            continue
        read.rows.append((code, modifier, status, *figures, mult, f"{Path(file).name}:{number}"))


_FEE_COLUMNS = {
    "carrier": _has("CARRIER"),
    "locality": _has("LOCALITY"),
    "code": lambda h: h.startswith("HCPCS"),
    "modifier": lambda h: h in ("MOD", "MODIFIER"),
    "nonfacility_fee": lambda h: ("NON-FAC" in h or "NON FAC" in h or "NONFAC" in h) and ("FEE" in h or "AMOUNT" in h),
    "facility_fee": lambda h: "FACILITY" in h and "NON" not in h and ("FEE" in h or "AMOUNT" in h),
}


def _read_fees(file: str, text: str, read: _Rows) -> None:
    for number, cells, columns in _body(file, text, read, _FEE_COLUMNS, "payment amount file"):
        carrier, locality = cells[columns["carrier"]].strip(), cells[columns["locality"]].strip()
        code = _code(cells[columns["code"]])
        modifier = cells[columns["modifier"]].strip().upper()
        problems = []
        if not (carrier.isdigit() and len(carrier) == 5):
            problems.append(f"`{carrier}` is not a carrier number (five digits)")
        if not (locality.isdigit() and 1 <= len(locality) <= 2):
            problems.append(f"`{locality}` is not a locality (two digits)")
        if code is None:
            problems.append(f"`{cells[columns['code']].strip()}` is not a procedure code")
        if modifier and not (len(modifier) == 2 and modifier.isalnum()):
            problems.append(f"`{modifier}` is not a modifier")
        fees = []
        for name in ("nonfacility_fee", "facility_fee"):
            fee = _number(cells[columns[name]])
            if not fee:
                problems.append(f"`{cells[columns[name]].strip()}` in {name.replace('_', ' ')} is not an amount")
            else:
                fees.append(fee)
        if problems:
            read.mistake(file, number, "; ".join(problems))
            continue
        read.rows.append(
            (
                carrier,
                locality.zfill(2),
                code,
                modifier,
                *(f"{float(fee):.2f}" for fee in fees),
                f"{Path(file).name}:{number}",
            )
        )


def _check_duplicates(kind: str, read: _Rows, paths: dict) -> None:
    """A code has one MUE, one status per modifier, one fee per carrier, locality and modifier: a second row
    for the same key is a mistake (two quarters' files mixed, say), reported at the second."""
    if not isinstance(read.rows, list):  # the PTP edits: written as read, not held
        return
    key_of = {"mue": lambda r: r[0], "rvu": lambda r: (r[0], r[1]), "fees": lambda r: r[:4]}[kind]
    seen: dict = {}
    for row in read.rows:
        key = key_of(row)
        if key in seen:
            file, line = row[-1].rsplit(":", 1)
            read.mistake(
                paths.get(file, file),
                int(line),
                f"{'/'.join(key) if isinstance(key, tuple) else key} is listed twice (first at {seen[key]})",
            )
        else:
            seen[key] = row[-1]


_READERS = {"ptp": _read_ptp, "mue": _read_mue, "rvu": _read_rvu, "fees": _read_fees}


__all__ = ["KINDS", "COLUMNS", "import_table", "ImportResult", "TableImportError", "Mistake", "Quarter"]
