"""Stage 1, read (tables): a code pair table file (the NCCI procedure-to-procedure edits, a million rows a quarter).

A policy names the file under `code_pair_tables:`; this module reads it into a `PairTable`, an index from the
column-2 code to its column-1 codes, so that judging a line costs one lookup per other line of its day
however many pairs the table holds. Hand-written `code_pairs:` rows stay rules of their own, each with its id,
message and source; a table is one rule whose findings name the pair that hit.

The file is text, comma- or tab-separated, with a header naming the columns (any order, any case; spaces and
underscores alike; the CMS headings "Column 1", "Column 2", "Effective Date", "Deletion Date" and "Modifier"
are understood too; other columns, such as the edit rationale, are ignored):

    column1,column2,effective_from,deleted,modifier_indicator
    97530,97116,2020-10-01,,1
    97161,97530,20200101,20201231,0

`effective_from` and `deleted` (the first date of service the edit no longer applies to) are optional, as
YYYY-MM-DD or YYYYMMDD (the CMS files' form); `*` or an empty cell means none. `modifier_indicator` is 0 (no
modifier bypasses the edit), 1 (a bypass modifier does) or 9 (the edit does not apply: the row is skipped).
Every mistake is reported with file:line:column, all of them in one go (up to a limit), and a table with
mistakes is not used at all.
"""

from __future__ import annotations


import array
import csv
import datetime
import itertools
from collections import defaultdict
from pathlib import Path

from payerpolicy.diagnostics import Diagnostic, SourceFiles, Span

REQUIRED = ("column1", "column2", "modifier_indicator")
OPTIONAL = ("effective_from", "deleted")
MISTAKES_SHOWN = 50  # a file wrong in every row says so once it has shown this many

# An edit is packed into one int: first day, day it stops (exclusive), indicator, as
# (first << 22) | (stops << 2) | indicator. Dates are ordinals (day numbers): a million edits take one small
# int each rather than a tuple of dates.
_DAY_BITS = 20  # ordinals stay below 2**20 until the year 2870
_NO_END = (1 << _DAY_BITS) - 1
_MISTAKE = object()  # a cell that could not be read (and has been reported)
# What each kind of cell must hold, as a mistake in it is reported: the message (with the cell's text, and
# which column of codes) and the hint.
_CELL_MISTAKES = {
    "code": (
        "`{text}` in {what} is not a procedure code",
        "procedure codes have five letters or digits (97530, G0283)",
    ),
    "indicator": (
        "`{text}` is not a modifier indicator",
        "0: no modifier bypasses the edit; 1: a bypass modifier does; 9: not applied",
    ),
    "date": ("`{text}` is not a date", "write dates as YYYY-MM-DD or YYYYMMDD; `*` or nothing for none"),
}


class PairTable:
    """Column-2 code -> {column-1 code -> edit, or a tuple of edits for a pair listed more than once}."""

    __slots__ = ("file", "by_column2", "rows", "lines", "quarter")

    def __init__(self, file: str, by_column2: dict, rows: int, lines: dict | None = None, quarter: str = ""):
        self.file = file  # as shown to people
        self.by_column2 = by_column2
        self.rows = rows  # edits kept (indicator 9 rows are not)
        # Where each edit is in the file, for the findings' provenance: column-2 code -> (its column-1 codes,
        # five characters each, and an array of line numbers in the same order). Read only for a finding.
        self.lines = lines or {}
        self.quarter = quarter  # from the file's `# quarter:` line (`payerpolicy tables import ptp`)

    def provenance(self, hits: tuple, code: str) -> dict:
        """The table, quarter and line(s) of the file holding the edits that hit a line of `code`."""
        column1s, raw = self.lines.get(code, ("", b""))
        numbers = array.array("I")
        numbers.frombytes(raw)
        wanted = {column1 for column1, _ in hits}
        rows = [numbers[n // 5] for n in range(0, len(column1s), 5) if column1s[n : n + 5] in wanted]
        out: dict[str, object] = {"table": self.file}
        if self.quarter:
            out["quarter"] = self.quarter
        out["row"] = rows[0] if len(rows) == 1 else rows
        return out

    def column2_codes(self) -> list[str]:
        return sorted(self.by_column2)

    # In the compiled-policy cache a column-2 code's edits are kept as one string of its column-1 codes
    # (five characters each) and an array of packed edits, and unpacked only when a line of that code is
    # judged: a million edits load in a fraction of a second, and a run unpacks only the codes it meets.
    def __getstate__(self) -> tuple:
        packed = {}
        for column2, edits in self.by_column2.items():
            if isinstance(edits, tuple):  # still packed: keep as it is
                packed[column2] = edits
                continue
            codes, values = [], array.array("Q")
            for column1, edit in edits.items():
                for one in edit if isinstance(edit, tuple) else (edit,):
                    codes.append(column1)
                    values.append(one)
            packed[column2] = ("".join(codes), values.tobytes())
        return self.file, packed, self.rows, self.lines, self.quarter

    def __setstate__(self, state: tuple) -> None:
        self.file, self.by_column2, self.rows, self.lines, self.quarter = state

    def _unpack(self, column2: str) -> dict:
        text, raw = self.by_column2[column2]
        values = array.array("Q")
        values.frombytes(raw)
        edits: dict = {}
        for n, edit in enumerate(values):
            column1 = text[5 * n : 5 * n + 5]
            known = edits.get(column1)
            edits[column1] = edit if known is None else (known + (edit,) if isinstance(known, tuple) else (known, edit))
        self.by_column2[column2] = edits
        return edits

    def hits(
        self,
        day,
        bypass: frozenset,
        either: frozenset | None = None,
        either_from: int = 0,
        sites: frozenset | None = None,
        ignored_on: frozenset | None = None,
    ) -> tuple:
        """The edits the judged line of `day` (judge.judge.DayContext) fails on its day: (column-1 code,
        indicator) for each other line of the day, claims judged before first, whose code is column 1 of an
        edit with the line's code in column 2, in force on its date, and not lifted (indicator 1 only) by one
        of the line's `bypass` modifiers, by an `either` modifier on either line (dates of service from the
        day number `either_from`; never on a line of an `ignored_on` code), or by `sites` showing different
        sites on the two lines. Empty when none: a line is judged once per table."""
        line = day.line
        edits = self.by_column2.get(line.code)
        if edits is None:
            return ()
        if edits.__class__ is tuple:  # from the cache, not unpacked yet
            edits = self._unpack(line.code)
        found: list = []
        how = (bypass, either, either_from, sites, ignored_on)
        past = day.past_day()
        lifts = self._scan(line, edits, past, how, found, None) if past else None
        self._scan(line, edits, day.lines, how, found, lifts)
        return tuple(found)

    @staticmethod
    def _scan(line, edits: dict, others, how: tuple, found: list, lifts):
        """Add the edits `line` fails against `others` to `found`; returns the line's `_Lifts`, made when
        first needed (most lines meet no other line of an edit)."""
        day = line.date.toordinal()
        for other in others:
            packed = edits.get(other.code)
            if packed is None or other is line:
                continue
            for edit in packed if isinstance(packed, tuple) else (packed,):
                indicator = edit & 3
                if not (edit >> (_DAY_BITS + 2)) <= day < ((edit >> 2) & _NO_END):
                    continue
                if indicator == 1:
                    if lifts is None:
                        lifts = _Lifts(line, *how)
                    if lifts.lifted(other):
                        continue
                hit = (other.code, indicator)
                if hit not in found:
                    found.append(hit)
                break
        return lifts

    def __repr__(self) -> str:
        return f"<PairTable {self.file}: {self.rows} edits>"


class _Lifts:
    """Whether an indicator-1 edit between the judged (column-2) line and another line is lifted by their
    modifiers: the same test as a `code_pairs` row's condition (policy.tables.PairBypass), worked out in Python
    here because a table's edits are found by lookup, not written as rules."""

    __slots__ = ("own", "either", "sites", "line_sites", "ignored_on")

    def __init__(self, line, bypass: frozenset, either, either_from: int, sites, ignored_on):
        if ignored_on is not None and either is not None and line.code in ignored_on:
            bypass = bypass - either  # the either-line modifiers do not count on this code's line
        self.own = not bypass.isdisjoint(line.modifiers)  # on the column-2 line: lifts every edit
        self.either = either if either is not None and line.date.toordinal() >= either_from else None
        self.sites = sites
        self.line_sites = sites.intersection(line.modifiers) if sites is not None else None
        self.ignored_on = ignored_on or ()

    def lifted(self, other) -> bool:
        if self.own:
            return True
        if (
            self.either is not None
            and other.code not in self.ignored_on
            and not self.either.isdisjoint(other.modifiers)
        ):
            return True
        if self.line_sites:  # both lines show a site, and not the same sites
            other_sites = self.sites.intersection(other.modifiers)
            return bool(other_sites) and other_sites != self.line_sites
        return False


def read_pair_table(
    path: Path, display: str, sources: SourceFiles, diagnostics: list[Diagnostic], at: Span
) -> PairTable | None:
    """Read a table file; on any mistake, report them all and return None (a table is used whole or not)."""
    text = read_table_text(path, display, "code pair table", sources, diagnostics, at)
    if text is None:
        return None
    lines = text.splitlines()
    reader = _Reader(display, diagnostics)
    table = reader.read(lines)
    if reader.mistakes:
        report_row_mistakes(reader.mistakes, display, text, at, sources, diagnostics)
        return None
    return table


def report_row_mistakes(
    count: int, display: str, text: str, at: Span, sources: SourceFiles, diagnostics: list[Diagnostic]
) -> None:
    """After a table file's rows are read (a code pair or a reference table), with `count` rows found wrong:
    its text is kept so that each mistake is shown with its line, and past the first `MISTAKES_SHOWN` one
    more diagnostic says how many rows were not shown."""
    if not count:
        return
    sources.texts[display] = text
    if count > MISTAKES_SHOWN:
        diagnostics.append(
            Diagnostic(
                "E208",
                f"{count - MISTAKES_SHOWN} more rows of `{display}` have mistakes",
                at,
                f"only the first {MISTAKES_SHOWN} are shown",
            )
        )


def read_table_text(
    path: Path | None, display: str, what: str, sources: SourceFiles, diagnostics: list[Diagnostic], at: Span
) -> str | None:
    """The text of a table file a policy names, recorded among the files the load read (for the compiled-
    policy cache); None, with the reason reported at the policy's `file:`, when it cannot be read (or was
    refused already: `path` None)."""
    if path is None:
        return None
    unsaved = sources.unsaved.get(path.resolve()) if sources.unsaved else None
    try:
        # An editor's unsaved text is read instead of the disk, as for the policy files.
        if unsaved is not None:
            text = unsaved.removeprefix("\ufeff")
        else:  # as `read_text` reads it (a byte order mark dropped, every line end made "\n"), noted for the cache
            text = sources.read_bytes(path).decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except FileNotFoundError:
        diagnostics.append(
            Diagnostic(
                "E101",
                f"no {what} file `{display}`",
                at,
                "the path is read from the folder of the policy file that names it",
            )
        )
        return None
    except UnicodeDecodeError:
        diagnostics.append(Diagnostic("E102", f"`{display}` is not UTF-8 text", at, "save the file as UTF-8"))
        return None
    except OSError as exc:
        diagnostics.append(Diagnostic("E101", f"cannot read `{display}`: {exc.strerror}", at))
        return None
    sources.read.append(path)
    return text


class _Reader:
    def __init__(self, display: str, diagnostics: list[Diagnostic]):
        self.display = display
        self.diagnostics = diagnostics
        self.mistakes = 0

    def mistake(self, message: str, line: int, column: int, hint: str | None = None, width: int = 1) -> None:
        self.mistakes += 1
        if self.mistakes <= MISTAKES_SHOWN:
            self.diagnostics.append(
                Diagnostic("E208", message, Span(self.display, line, column, line, column + max(width, 1)), hint)
            )

    def read(self, lines: list[str]) -> PairTable | None:
        header = self.header(lines)
        if header is None:
            return None
        first, delimiter, columns, where = header
        by_column2, rows = self.rows(lines, first, delimiter, columns, where)
        if self.mistakes:
            return None
        by_column2, line_numbers = _packed(by_column2)
        quarter = next((line.split(":", 1)[1].strip() for line in lines[:first] if line.startswith("# quarter:")), "")
        return PairTable(self.display, by_column2, rows, line_numbers, quarter)

    def header(self, lines: list[str]) -> tuple[int, str, int, dict[str, int]] | None:
        """(the header's line number from 0, the delimiter, how many columns it names, where each known
        column is), or None with the mistakes reported."""
        first = next((n for n, line in enumerate(lines) if line.strip() and not line.startswith("#")), None)
        if first is None:
            self.mistake(
                "the code pair table is empty: it needs a header and rows",
                1,
                1,
                f"the header names the columns: {', '.join(REQUIRED + OPTIONAL)}",
            )
            return None
        header = lines[first]
        delimiter = "\t" if "\t" in header else ","
        names = [_column_name(c) for c in _split(header, delimiter)]
        where = {}
        for name in REQUIRED + OPTIONAL:
            if name in names:
                where[name] = names.index(name)
            elif name in REQUIRED:
                self.mistake(
                    f"the header has no `{name}` column",
                    first + 1,
                    1,
                    f"the columns it needs are {', '.join(REQUIRED)} (and may have "
                    f"{', '.join(OPTIONAL)}); it has {', '.join(n for n in names if n) or 'none'}",
                    len(header),
                )
        return None if self.mistakes else (first, delimiter, len(names), where)

    def rows(self, lines: list[str], first: int, delimiter: str, columns: int, where: dict[str, int]):
        """The edits by column-2 code, a flat list per code ([column 1, edit, line number] after each other),
        and how many rows were read; each mistake reported.

        A million rows name a few thousand distinct codes and dates: each distinct cell text is checked once
        (`slow_row`) and remembered, with its value ready to pack, so that a well-formed row costs a split and a
        few dict lookups. A row with anything not seen before takes the slow path once."""
        by_column2: dict[str, list] = {}
        rows = 0
        c1, c2, ind = where["column1"], where["column2"], where["modifier_indicator"]
        start_at, end_at = where.get("effective_from"), where.get("deleted")
        width = max(where.values()) + 1
        self.codes: dict[str, str] = {}
        self.starts: dict[str, int] = {}  # date text -> its day number, shifted into place
        self.ends: dict[str, int] = {}
        self.indicators = {"0": 0, "1": 1, "9": 9}
        # The usual layout's rows: the text after the codes -> its packed edit; None: indicator 9.
        self.rests: dict[str, int | None] = {}
        codes, starts, ends, indicators = self.codes, self.starts, self.ends, self.indicators
        at = (c1, c2, ind, start_at, end_at)
        if c1 == 0 and c2 == 1:
            return self.rows_usual(lines, first, delimiter, columns, width, at)
        for number in range(first + 1, len(lines)):
            line = lines[number]
            cells = line.split(delimiter) if '"' not in line else _split(line, delimiter)
            try:
                column1, column2 = codes[cells[c1]], codes[cells[c2]]
                indicator = indicators[cells[ind]]
                edit = (
                    (starts[cells[start_at]] if start_at is not None else 0)
                    + (ends[cells[end_at]] if end_at is not None else ends[""])
                    + indicator
                )
            except (KeyError, IndexError):
                read = self.slow_row(line, cells, number, width, columns, delimiter, at)
                if read is None:
                    continue
                column1, column2, indicator, edit = read
            if indicator == 9:
                continue
            edits = by_column2.get(column2)
            if edits is None:
                by_column2[column2] = [column1, edit, number + 1]
            else:
                edits.extend((column1, edit, number + 1))  # one call for the three
            rows += 1
        return by_column2, rows

    def rows_usual(self, lines: list[str], first: int, delimiter: str, columns: int, width: int, at: tuple):
        """`rows` for the usual layout, column 1 and column 2 first (as `payerpolicy tables import` writes
        it). A file whose every row is plain (`rows_plain`) is read in one tight pass; any other is read row by
        row (`rows_usual_careful`), which places each mistake."""
        plain = self.rows_plain(lines, first, delimiter, columns, width, at)
        return plain if plain is not None else self.rows_usual_careful(lines, first, delimiter, columns, width, at)

    def rows_plain(self, lines: list[str], first: int, delimiter: str, columns: int, width: int, at: tuple):
        """`rows` for a file in the usual layout whose rows are all plain: no quotes, comments or blank lines,
        and every code already written as a code is (five capitals or digits). Such a row costs a split and
        one lookup of the text after its codes (its dates and indicator: a few distinct texts in a million
        rows, each checked once, by `slow_row`); the codes are checked afterwards, each distinct one once.
        Returns None, having reported nothing, at the first row that is not plain: the careful reading then
        reads the file again from the top and places every mistake."""
        by_column2: dict[str, list] = {}
        not_applied: list[str] = []  # the codes of indicator 9 rows: checked like the others, not kept
        rests = self.rests
        for number, line in enumerate(itertools.islice(lines, first + 1, None), first + 2):
            try:
                raw1, raw2, rest = line.split(delimiter, 2)
                edit = rests[rest]
            except ValueError:  # fewer than three cells, or a blank line
                return None
            except KeyError:  # a text after the codes not seen before: checked cell by cell
                if '"' in line or not self.plain_rest(line, number, width, columns, delimiter, at):
                    return None
                edit = rests[rest]
            if edit is None:
                not_applied += raw1, raw2
                continue
            edits = by_column2.get(raw2)
            if edits is None:
                by_column2[raw2] = [raw1, edit, number]
            else:
                edits += raw1, edit, number  # one call for the three
        if not all(map(_plain_code, set(by_column2).union(not_applied))):
            return None
        rows = 0
        for edits in by_column2.values():
            if not _plain_codes(edits[0::3]):
                return None
            rows += len(edits) // 3
        return by_column2, rows

    def plain_rest(self, line: str, number: int, width: int, columns: int, delimiter: str, at: tuple) -> bool:
        """Check a row of `rows_plain` cell by cell and remember the edit its text after the codes stands for;
        False, with anything reported taken back, when the row has a mistake or is a comment."""
        reported, mistakes = len(self.diagnostics), self.mistakes
        read = self.slow_row(line, line.split(delimiter), number - 1, width, columns, delimiter, at)
        if read is None:
            del self.diagnostics[reported:]
            self.mistakes = mistakes
            return False
        indicator, edit = read[2], read[3]
        self.rests[line.split(delimiter, 2)[2]] = None if indicator == 9 else edit
        return True

    def rows_usual_careful(self, lines: list[str], first: int, delimiter: str, columns: int, width: int, at: tuple):
        """`rows` for the usual layout, row by row: a row is split into its two codes and the rest, whose text
        (the dates and the indicator) takes a few distinct values in a million rows and stands for one packed
        edit. A row with a text not seen before is read cell by cell (`slow_row`), its mistakes reported, and a
        good one remembered."""
        by_column2: defaultdict[str, list] = defaultdict(list)  # a code's list made on first sight
        rows = 0
        codes, rests = self.codes, self.rests
        for number in range(first + 1, len(lines)):
            line = lines[number]
            try:
                if '"' in line:
                    raise KeyError(line)  # quoted cells: read by the csv module, cell by cell
                raw1, raw2, rest = line.split(delimiter, 2)
                column1, column2, edit = codes[raw1], codes[raw2], rests[rest]
            except (KeyError, ValueError):
                cells = line.split(delimiter) if '"' not in line else _split(line, delimiter)
                read = self.slow_row(line, cells, number, width, columns, delimiter, at)
                if read is None:
                    continue
                column1, column2, indicator, edit = read
                if '"' not in line:  # the rest of this good row stands for its edit from now on
                    rests[line.split(delimiter, 2)[2]] = None if indicator == 9 else edit
                if indicator == 9:
                    continue
            if edit is None:  # indicator 9: the edit does not apply
                continue
            by_column2[column2].extend((column1, edit, number + 1))
            rows += 1
        return by_column2, rows

    def slow_row(self, line, cells, number, width, columns, delimiter, at):
        """Read a row with a cell not seen before: check each cell, remember the good ones, report the rest."""
        if line.startswith("#") or not line.strip():
            return None
        if len(cells) < width:
            self.mistake(
                f"this row has {len(cells)} cells; the header has {columns}",
                number + 1,
                1,
                f"cells are separated by {'tabs' if delimiter == chr(9) else 'commas'}",
                len(line),
            )
            return None
        c1, c2, ind, start_at, end_at = at
        column1 = self.code(cells, c1, number, "column 1")
        column2 = self.code(cells, c2, number, "column 2")
        indicator = self.indicator(cells, ind, number)
        start = self.day(cells, start_at, number) if start_at is not None else 0
        end = self.day(cells, end_at, number) if end_at is not None else 0
        if _MISTAKE in (column1, column2, indicator, start, end):
            return None
        start_text = cells[start_at] if start_at is not None else ""
        end_text = cells[end_at] if end_at is not None else ""
        self.starts[start_text] = start << (_DAY_BITS + 2)
        self.ends[end_text] = (end or _NO_END) << 2
        self.ends.setdefault("", _NO_END << 2)
        return column1, column2, indicator, self.starts[start_text] + self.ends[end_text] + indicator

    def code(self, cells: list[str], index: int, number: int, what: str):
        raw = cells[index]
        code = raw.strip().upper()
        if len(code) == 5 and code.isalnum():
            known = self.codes.setdefault(code, code)  # one string object per code, however many rows
            self.codes[raw] = known
            return known
        return self.cell_mistake(cells, index, number, "code", what)

    def indicator(self, cells: list[str], index: int, number: int):
        raw = cells[index]
        if raw.strip() in ("0", "1", "9"):
            self.indicators[raw] = int(raw)
            return int(raw)
        return self.cell_mistake(cells, index, number, "indicator")

    def day(self, cells: list[str], index: int, number: int):
        """A date cell as a day number; 0 for none."""
        text = cells[index].strip()
        if text in ("", "*"):
            return 0
        try:
            iso = text if "-" in text else f"{text[:4]}-{text[4:6]}-{text[6:]}"
            return datetime.date.fromisoformat(iso).toordinal()
        except ValueError:
            return self.cell_mistake(cells, index, number, "date")

    def cell_mistake(self, cells: list[str], index: int, number: int, kind: str, what: str = "") -> object:
        """Report the cell at `index` of row `number` as not holding a `kind` of value (`_CELL_MISTAKES`)."""
        message, hint = _CELL_MISTAKES[kind]
        column = sum(len(c) + 1 for c in cells[:index]) + 1  # exact for rows without quotes
        self.mistake(message.format(text=cells[index].strip(), what=what), number + 1, column, hint, len(cells[index]))
        return _MISTAKE


def _packed(by_column2: dict[str, list]) -> tuple[dict, dict]:
    """The edits in the packed form of the compiled-policy cache: per column-2 code, its column-1 codes as one
    string and its edits as an array, and their line numbers (for provenance) likewise. Built from one list per
    code, a million edits cost one call each while reading, and writing the cache copies bytes instead of
    walking every edit again. A code's edits are unpacked when a line of it is first judged (`_unpack`)."""
    packed, line_numbers = {}, {}
    for column2, edits in by_column2.items():
        text = "".join(edits[0::3])
        packed[column2] = (text, array.array("Q", edits[1::3]).tobytes())
        line_numbers[column2] = (text, array.array("I", edits[2::3]).tobytes())
    return packed, line_numbers


def _plain_code(raw: str) -> bool:
    """Whether a cell is a procedure code written as `code` would keep it (no spaces, capitals)."""
    return len(raw) == 5 and raw.isalnum() and raw.upper() == raw


def _plain_codes(cells: list[str]) -> bool:
    """`_plain_code` of every cell, without hashing each: five characters each, and capitals or digits
    all together."""
    together = "".join(cells)
    return min(map(len, cells)) == 5 == max(map(len, cells)) and together.isalnum() and together.upper() == together


def _split(line: str, delimiter: str) -> list[str]:
    if '"' in line:
        return next(csv.reader([line], delimiter=delimiter))
    return line.split(delimiter)


# The CMS files' own headings for the same columns.
_ALIASES = {
    "column_1": "column1",
    "column_2": "column2",
    "effective_date": "effective_from",
    "deletion_date": "deleted",
    "modifier": "modifier_indicator",
}


def _column_name(text: str) -> str:
    name = "_".join(text.strip().strip('"').lower().replace("-", " ").replace("_", " ").split())
    return _ALIASES.get(name, name)
