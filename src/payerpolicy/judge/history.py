"""Claim history: an embedded SQLite store of judged claims, so rules can look beyond the claim in hand.

Some payer rules count across claims sent separately: a daily unit cap spans every claim for the patient
that day; the Medicare KX threshold adds up a patient's therapy charges over the calendar year (PT and SLP
together, OT on its own); commercial plans limit visits per year. `ClaimHistory` keeps the lines of every
claim judged so far in one SQLite file (`--history FILE`), one row a claim with its lines as JSON, and answers
those questions from each patient's lines, read from the file once and kept in memory.

Guarantees
- No claim is ever counted twice. A claim is known by (patient id, claim id). Recording it again replaces
  every earlier version: a replacement (frequency code 7) does so by definition, and an original (1 or no
  code) sent a second time does the same, so judging the same file twice leaves the history as it was
  (see `record` for why this replaces rather than refuses). A void (8) removes the claim.
- Claims are written in transactions of `batch` claims (1 unless asked: each `record` its own); in each the
  old versions go and the new ones arrive together, or nothing does. A run that batches gives out a claim's
  decision only after its transaction committed (`written_first`), so a run killed at any point (kill -9)
  has every claim it reported in the file, and judging the same input again replaces rather than doubles.
- Reading a patient's lines does not reread the file each claim: the lines of recently asked patients are
  kept in memory (`judge.history_cache`), up to `cache_lines` lines, and kept current as claims are recorded.
  Each write also logs which patients it touched (the `changes` table), so that another process's writes
  drop exactly those patients from this one's memory before it answers again.
- Several processes may write one file at once and nothing is lost: the file is in WAL mode (readers never
  block the writer), every write transaction starts with BEGIN IMMEDIATE (it takes the write lock before
  reading anything, so two writers can never both hold a read snapshot and then fail to upgrade), and a
  busy timeout makes a writer wait for the lock instead of failing with "database is locked".
- The file carries a `schema_version` table; a file written by a newer payerpolicy is refused rather than
  misread, and older versions are migrated on open.

Charges are stored as whole cents, so a year of charges adds up exactly; queries return dollars as float.
Dates of service are stored as ISO text (YYYY-MM-DD), which sorts and ranges like the dates themselves.
One `ClaimHistory` object belongs to one thread (sqlite3's rule); open one per process or thread.
Standard library only.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import json
import operator
import os
import sqlite3
import sys
import time
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

from payerpolicy.claims.model import Claim, ServiceLine
from payerpolicy.claims.values import therapy_discipline
from payerpolicy.rules.fields import FIELDS, LINE
from payerpolicy.judge.history_cache import (
    DEFAULT_CACHE_LINES,
    LinesByPatient,
    HistoryMemoryUse,
    PatientCache,
    PatientLines,
    Revision,
    STORED_FIRST,
    STORED_LAST,
    STORED_LINES,
    STORED_PAYER,
)

__all__ = [
    "ClaimHistory",
    "RecordingHistory",
    "HistoryLine",
    "Recorded",
    "HistoryError",
    "therapy_discipline",
    "stored_lines",
    "DISCIPLINES",
    "SCHEMA_VERSION",
]


DISCIPLINES = ("PT", "OT", "SLP")
# 2: each line keeps its estimated allowed amount (`allowed_cents`); 3: the `changes` log of patients written;
# 4: no covering indexes on `lines` (writing a line updates one index, not three); 5: no `lines` table, each
# claim's lines as JSON on its row (`claims.lines_json`); 6: each claim's place in the order claims were
# stored (`seq`), the span of its lines' dates and how many lines it has, so a patient is read back in the
# order memory had it and only the claims a question needs are parsed
SCHEMA_VERSION = 6
BUSY_TIMEOUT_SECONDS = 60.0  # how long a writer waits for another process's transaction before giving up
RUN_BATCH = 1000  # claims per transaction in a run that gives out decisions only once written
HOLD_SECONDS = 1.0  # ... and the longest it holds a decision back for a batch to fill
_CHANGES_KEPT = 100_000  # entries of the change log kept; a process further behind forgets every patient

_FREQUENCIES = {None: "original", "1": "original", "7": "replacement", "8": "void"}


class HistoryError(ValueError):
    """A claim or a history file the store cannot accept, with a message a user can act on."""


@dataclass(slots=True, unsafe_hash=True)
class HistoryLine:
    """One stored service line, as the rule engine sees history. Read-only by convention: not a frozen
    dataclass because a run makes one per line it judges, and frozen ones take six times longer to make."""

    claim_id: str
    patient_id: str
    payer: str | None
    frequency: str | None
    number: int
    code: str
    modifiers: tuple[str, ...]
    units: int
    charge: float | None
    date_of_service: datetime.date
    provider_type: str | None
    discipline: str | None
    # The line's allowed amount as the policy's fee schedule estimated it when the line was judged (dollars);
    # None when no fee schedule priced it (judged without one, or by a history file older than the column).
    allowed: float | None = None


# `date` is what rules call the date of service: the same slot under a second name (a property would cost a
# Python call on every read, and rules over the year read the date of every past line).
HistoryLine.date = HistoryLine.date_of_service  # type: ignore[attr-defined, misc]
# A line from the history is also what rules see of a past claim (`another line ... that year`): the fields
# of a judged line that the history does not keep (rules.fields) are missing, whichever history it came from.
# (A past claim's data faults were reported when it was judged.)
for _field in FIELDS:
    if _field.read == LINE and not _field.in_history:
        setattr(HistoryLine, _field.attribute, _field.empty)


@dataclass(frozen=True, slots=True)
class Recorded:
    """What `record` did: `action` is "added", "replaced", "voided" or "nothing_to_void"."""

    claim_id: str
    patient_id: str
    action: str
    lines_stored: int
    lines_removed: int


_CHANGES = "CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY, patient_id TEXT NOT NULL)"
# The `seq` of the claim stored last (one row): each claim written takes the next.
_CLAIM_ORDER = "CREATE TABLE IF NOT EXISTS claim_order (last_seq INTEGER NOT NULL)"
_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    # One row per claim currently counted; (patient_id, claim_id) is the claim's identity, and `lines_json`
    # its lines, as one JSON text (`_lines_json`). Every question is about one patient, and is answered from
    # the patient's lines in memory (`judge.history_cache`), read back from the file when the patient is not
    # there: a few dozen claim rows and one parse. Until version 5 each line was a row of a `lines` table, and
    # reading a patient back meant hundreds of rows whose twelve values sqlite3 turned into Python objects
    # one by one (2 to 2.5 times slower: most of what a long run spent per claim), and writing a claim
    # meant a row per line.
    """CREATE TABLE IF NOT EXISTS claims (
        patient_id TEXT NOT NULL,
        claim_id TEXT NOT NULL,
        payer TEXT,
        frequency TEXT,
        recorded_at TEXT NOT NULL,
        lines_json TEXT,
        seq INTEGER NOT NULL DEFAULT 0,
        first_date TEXT NOT NULL DEFAULT '',
        last_date TEXT NOT NULL DEFAULT '',
        line_count INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (patient_id, claim_id)
    ) WITHOUT ROWID""",
    # The patients each transaction wrote, in order: how another process's memory of them is kept true.
    _CHANGES,
    _CLAIM_ORDER,
]

# Migrations from version N to N + 1, run in order inside the opening transaction. Version 2 keeps each
# line's estimated allowed amount: lines stored before it have none (NULL), which counts as not priced.
# Version 3 logs the patients each transaction wrote (`changes`): a version 2 file gets the empty table, and
# an older payerpolicy refuses a version 3 file (its writes would not be logged, and other processes' memory
# of those patients would go stale).
# Version 4 drops the two covering indexes version 3 had on `lines`; an older payerpolicy refuses the file.
# Version 5 keeps each claim's lines as JSON on its row (`claims.lines_json`), made for the claims already
# there from their `lines` rows, and drops `lines`; an older payerpolicy refuses the file.
# Version 6 gives each claim its place in the order stored (`seq`; the claims already there take one in the
# order of patient and claim id), its lines' first and last dates and their number; an older payerpolicy
# refuses the file.
_MIGRATIONS: dict[int, list[str | Callable[[sqlite3.Connection], None]]] = {
    1: ["ALTER TABLE lines ADD COLUMN allowed_cents INTEGER"],
    2: [_CHANGES],
    3: ["DROP INDEX IF EXISTS lines_by_day", "DROP INDEX IF EXISTS lines_by_discipline"],
    4: ["ALTER TABLE claims ADD COLUMN lines_json TEXT", lambda db: _fill_lines_json(db), "DROP TABLE lines"],
    5: [
        "ALTER TABLE claims ADD COLUMN seq INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE claims ADD COLUMN first_date TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE claims ADD COLUMN last_date TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE claims ADD COLUMN line_count INTEGER NOT NULL DEFAULT 0",
        _CLAIM_ORDER,
        lambda db: _fill_claim_order(db),
    ],
}


def _columns_of(db: sqlite3.Connection) -> dict[str, set[tuple]]:
    """Each table's columns (name, declared type), in any order: a migration adds a column at the end."""
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {t: {(c[1], c[2].upper()) for c in db.execute(f'PRAGMA table_info("{t}")')} for t in tables}


@functools.lru_cache(maxsize=1)
def _expected_columns() -> dict[str, set[tuple]]:
    """The tables and columns a history of the current schema has, made once in memory from `_SCHEMA`."""
    db = sqlite3.connect(":memory:")
    try:
        for statement in _SCHEMA:
            db.execute(statement)
        return _columns_of(db)
    finally:
        db.close()


def _create_private(path: str) -> None:
    """Create an empty history file readable by its owner only: it holds patient data. SQLite gives its
    -wal and -shm files the same permissions."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass  # made meanwhile by another process of the run


class RecordingHistory(LinesByPatient):
    """`record`, alike for every kind of history that keeps claims (the file, one in memory): which lines of
    a claim are stored, and what a replacement or a void does. Each kind says how it puts and removes a claim."""

    def record(
        self,
        claim: Claim,
        *,
        payer: str | None = None,
        discipline_of: Callable[[Claim, ServiceLine], str | None] = therapy_discipline,
        allowed: dict[int, float | None] | None = None,
    ) -> Recorded:
        """Store a judged claim, so that it counts exactly once.

        - frequency "7" (replacement): every earlier version of (patient, claim id) goes, this one stays;
        - frequency "8" (void): the claim goes; its lines are not stored. Voiding an unknown claim is
          not an error (the original may predate the history file) and reports "nothing_to_void";
        - frequency "1" or None (original): stored; if the same claim id is already there for the patient,
          it is REPLACED, not refused. Judging the same file twice, or re-judging a claim after fixing it,
          is ordinary use and must not fail or double count; the latest judged version is what the payer
          will see. (The result's action says "replaced", so a caller can warn if it wants to.)
        Any other frequency code raises `HistoryError`: guessing what it means could count a claim twice.
        `payer` overrides the claim's own (the policy that judged it); `discipline_of` says which therapy
        discipline a line counts toward; `allowed` the estimated allowed amount of each line, by line number
        (when a fee schedule priced the claim).
        """
        lines = stored_lines(claim, payer=payer, discipline_of=discipline_of, allowed=allowed)  # or HistoryError
        if claim.frequency == "8":
            removed = self._remove_claim(claim)
            action = "voided" if removed is not None else "nothing_to_void"
        else:
            removed = self._put_claim(claim, payer or claim.payer, lines)
            action = "replaced" if removed is not None else "added"
        return Recorded(claim.id, claim.patient_id, action, len(lines), len(removed or ()))

    def _remove_claim(self, claim: Claim) -> tuple[HistoryLine, ...] | None:
        """Take the claim out; the lines it had, or None when it was not there."""
        raise NotImplementedError

    def _put_claim(
        self, claim: Claim, payer: str | None, lines: tuple[HistoryLine, ...]
    ) -> tuple[HistoryLine, ...] | None:
        """Store the claim's lines in place of any earlier version; the earlier version's lines, if any."""
        raise NotImplementedError


class ClaimHistory(RecordingHistory):
    """The claim history in one SQLite file. `ClaimHistory(path)`; use it as a context manager or `close()`.

    ":memory:" gives a private history that lives as long as the object (handy for tests of the engine).
    `batch`: claims written per transaction (1: each `record` commits before it returns); recorded claims
    not yet written count in every answer all the same, and `flush` or `close` writes them. `cache_lines`:
    how many lines of recently asked patients are kept in memory.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = BUSY_TIMEOUT_SECONDS,
        durable: bool = True,
        batch: int = 1,
        cache_lines: int = DEFAULT_CACHE_LINES,
    ) -> None:
        if batch < 1:
            raise ValueError("batch must be 1 or more")
        self.path = str(path)
        self.batch = batch
        # Claims recorded and not yet written, in order: (patient id, claim id, claim row or None for a void,
        # line rows); and how many of them each patient has, so the cache never drops such a patient.
        self._pending: list[tuple] = []
        self._pending_patients: dict[str, int] = {}
        self._cache = PatientCache(cache_lines, pinned=self._pending_patients.__contains__)
        self.cache_lines = cache_lines  # as given: worker processes open the same file with the same budget
        self._seen_change = 0  # the last entry of the change log this process has taken into account
        self._data_version = None
        if self.path != ":memory:" and not os.path.exists(self.path):
            _create_private(self.path)
        # isolation_level=None: the module issues BEGIN IMMEDIATE / COMMIT itself (see _write).
        self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            if durable:
                self._use_wal()
            else:  # a scratch file: its journal in memory, so no -wal or -shm file is left beside it
                self._db.execute("PRAGMA journal_mode = MEMORY")
            # In WAL mode, NORMAL keeps every committed claim through a crash of the program (not of the
            # machine) without a disk flush per claim; a scratch file (durable=False) needs no flush at all.
            self._db.execute(f"PRAGMA synchronous = {'NORMAL' if durable else 'OFF'}")
            self._create_or_migrate()
            self._seen_change = self._db.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
            self._data_version = self._db.execute("PRAGMA data_version").fetchone()[0]
        except Exception:
            self._db.close()
            raise

    def memory_use(self) -> HistoryMemoryUse:
        """How this process's memory of recent patients served so far (judge.history_cache.HistoryMemoryUse)."""
        return self._cache.use()

    # -- opening ---------------------------------------------------------------------------------------

    def _use_wal(self) -> None:
        """Switch the file to WAL (it stays so); skipped when it already is, as switching needs a lock."""
        mode = self._db.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() not in ("wal", "memory"):
            self._db.execute("PRAGMA journal_mode = WAL")

    def _create_or_migrate(self) -> None:
        with self._write() as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables and "schema_version" not in tables:
                # Someone else's database: never add our tables to it silently.
                raise HistoryError(
                    f"{self.path} is an SQLite database of something else (it has tables "
                    f"{', '.join(sorted(tables)[:5])}), not a claim history; give a new file"
                )
            for statement in _SCHEMA[:1]:
                db.execute(statement)
            row = db.execute("SELECT max(version) FROM schema_version").fetchone()
            version = row[0]
            if version is None:  # a new file: the whole current schema
                for statement in _SCHEMA[1:]:
                    db.execute(statement)
                db.execute("INSERT INTO claim_order (last_seq) VALUES (0)")
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
                return
            if version > SCHEMA_VERSION:
                raise HistoryError(
                    f"{self.path}: claim history schema version {version} is newer than this "
                    f"payerpolicy understands ({SCHEMA_VERSION}); upgrade payerpolicy"
                )
            for step in range(version, SCHEMA_VERSION):
                for change in _MIGRATIONS[step]:
                    if isinstance(change, str):
                        db.execute(change)
                    else:
                        change(db)
            if version < SCHEMA_VERSION:
                db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
            wrong = _columns_of(db) != _expected_columns()
            if wrong:
                raise HistoryError(
                    f"{self.path}: its tables are not those of a claim history of schema version "
                    f"{SCHEMA_VERSION} (columns differ); it was changed by hand or by another tool"
                )

    def _write(self) -> "_Transaction":
        return _Transaction(self._db)

    def close(self) -> None:
        """Write the claims recorded and not yet written, and close the file."""
        try:
            self.flush()
        finally:
            self._db.close()

    def __enter__(self) -> "ClaimHistory":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------------------

    def _remove_claim(self, claim: Claim) -> tuple[HistoryLine, ...] | None:
        # No catching up with other processes here: if one wrote this patient meanwhile, `flush` finds out
        # under the write lock (and writes this claim as if its earlier version were there), and any
        # answer before that catches up, writing this claim first.
        removed = self._cache.remove(self._patient(claim.patient_id, catch_up=False), claim.id)
        self._queue(claim.patient_id, claim.id, None, removed is None)
        return removed

    def _put_claim(
        self, claim: Claim, payer: str | None, lines: tuple[HistoryLine, ...]
    ) -> tuple[HistoryLine, ...] | None:
        removed = self._cache.put(self._patient(claim.patient_id, catch_up=False), claim.id, lines)
        claim_row = (claim.patient_id, claim.id, payer, claim.frequency, *_stored_form(lines))
        self._queue(claim.patient_id, claim.id, claim_row, removed is None)
        return removed

    def _queue(self, patient_id: str, claim_id: str, claim_row: tuple | None, new: bool) -> None:
        """`new`: the patient's lines in memory (as the file has them, plus this process's) have no version
        of the claim, so writing it deletes nothing first."""
        self._pending.append((patient_id, claim_id, claim_row, new))
        self._pending_patients[patient_id] = self._pending_patients.get(patient_id, 0) + 1
        if len(self._pending) >= self.batch:
            self.flush()
        elif self._cache.over() and not self._cache.trim():
            self.flush()  # the patients to let go have claims not yet written: write them first

    @property
    def unwritten(self) -> int:
        """How many recorded claims are not yet written to the file."""
        return len(self._pending)

    def flush(self) -> None:
        """Write every claim recorded and not yet written, in one transaction. When it fails nothing of them
        is written, and the patients they belong to are forgotten (read again from the file when asked)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        touched = list(self._pending_patients)
        self._pending_patients.clear()
        now = _now()
        try:
            with self._write() as db:
                # Patients another process wrote since this one last looked (None: any of them) may have a
                # version of a claim that memory said was new: those claims delete first, like the others.
                theirs = self._catch_up(db)
                claims: list[tuple] = []
                seq = _last_seq(db)
                for patient_id, claim_id, claim_row, new in pending:
                    if not new or theirs is None or patient_id in theirs:
                        # in order: what is queued before this claim may be an earlier version of it
                        _insert(db, claims)
                        db.execute("DELETE FROM claims WHERE patient_id = ? AND claim_id = ?", (patient_id, claim_id))
                    if claim_row is not None:
                        seq += 1
                        claims.append((*claim_row, now, seq))
                _insert(db, claims)
                db.execute("UPDATE claim_order SET last_seq = ?", (seq,))
                self._log_changes(db, touched)
        except BaseException:
            for patient_id in touched:
                self._cache.drop(patient_id)
            raise
        self._cache.trim()

    def _log_changes(self, db: sqlite3.Connection, patients: list[str]) -> None:
        """Log the patients this transaction wrote, and take them as seen: this process knows its own."""
        db.executemany("INSERT INTO changes (patient_id) VALUES (?)", [(p,) for p in patients])
        last = db.execute("SELECT max(seq) FROM changes").fetchone()[0] or 0
        db.execute("DELETE FROM changes WHERE seq <= ?", (last - _CHANGES_KEPT,))
        self._seen_change = last

    def _catch_up(self, db: sqlite3.Connection | None = None) -> set[str] | None:
        """Forget the patients other processes wrote since this one last looked; those patients (None: the
        log no longer goes back that far, and every patient was forgotten). Inside a write transaction (`db`),
        nobody else can write meanwhile; outside, only when the file changed (`data_version`)."""
        if db is None:
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
            if version == self._data_version:
                return set()
            if self._pending:  # their patients are about to be read again: write them first
                self.flush()
            self._data_version = version
            db = self._db
        rows = db.execute(
            "SELECT seq, patient_id FROM changes WHERE seq > ? ORDER BY seq", (self._seen_change,)
        ).fetchall()
        if not rows:
            return set()
        theirs: set[str] | None = None
        if rows[0][0] != self._seen_change + 1:  # the log was trimmed past what this process saw
            self._cache.clear()
        else:
            theirs = {patient_id for _, patient_id in rows}
            for patient_id in theirs:
                self._cache.drop(patient_id)
        self._seen_change = rows[-1][0]
        return theirs

    def _patient(self, patient_id: str, catch_up: bool = True) -> PatientLines:
        """The patient's stored claims and lines, from memory, or read from the file once. `catch_up`: first
        forget what other processes wrote since (see `record` for when that can wait)."""
        if catch_up:
            self._catch_up()
        patient = self._cache.get(patient_id)
        if patient is not None:
            return patient
        stored = {row[0]: row for row in self._db.execute(_PATIENT_CLAIMS, (patient_id, patient_id))}
        return self._cache.add(patient_id, PatientLines.read_back(stored, _claim_lines))

    def written_first(self, decisions: Iterable[_T]) -> Iterator[_T]:
        """`decisions`, each given out only once the claims recorded before it are written: held back until
        a batch is written (at most `batch` claims or `HOLD_SECONDS`), so that a run stopped at any point,
        even killed, has every claim it reported in the file. An exception from `decisions` comes after the
        decisions before it, written."""
        held: list = []
        since = time.monotonic()
        try:
            for decision in decisions:
                held.append(decision)
                if self._pending and len(held) < self.batch and time.monotonic() - since < HOLD_SECONDS:
                    continue
                self.flush()
                out, held = held, []
                yield from out
                since = time.monotonic()
        except GeneratorExit:
            self.flush()
            raise
        except BaseException:
            self.flush()
            yield from held
            raise
        self.flush()
        yield from held

    def import_lines(self, lines: Iterable[HistoryLine]) -> None:
        """Add many claims' lines at once, in one transaction (a run moving its history to disk). The claims
        must not be in the store yet: this is a bulk load, not `record`'s replace-or-void."""
        self.flush()
        claims: dict[tuple[str, str], list[HistoryLine]] = {}
        for line in lines:
            claims.setdefault((line.patient_id, line.claim_id), []).append(line)
        now = _now()
        with self._write() as db:
            seq = _last_seq(db)
            db.executemany(
                _INSERT_CLAIM,
                [
                    (p, c, own[0].payer, own[0].frequency, *_stored_form(own), now, seq + n)
                    for n, ((p, c), own) in enumerate(claims.items(), 1)
                ],
            )
            db.execute("UPDATE claim_order SET last_seq = ?", (seq + len(claims),))
            self._log_changes(db, sorted({p for p, _ in claims}))
        for patient_id, _ in claims:
            self._cache.drop(patient_id)

    # -- queries ---------------------------------------------------------------------------------------
    # Every query is for one patient and can leave out one claim (`exclude_claim`): the engine judging a
    # resubmission must not count that claim's earlier version against itself. `payer` narrows to claims
    # sent to one payer (the Medicare threshold counts Medicare claims only); None counts every payer.

    def year_to_date_charges(
        self,
        patient_id: str,
        year: int,
        disciplines: Iterable[str],
        *,
        before: tuple[datetime.date, str] | None = None,
        exclude_claim: str | None = None,
        payer: str | None = None,
    ) -> float:
        """Sum of charges (dollars) of the patient's lines of `disciplines` in calendar `year`.

        The KX threshold counts ("PT", "SLP") together and ("OT",) alone. `before=(date, claim_id)` counts
        only lines ahead of that point in service order: earlier dates of service, and on the same date,
        lower claim ids; so the order claims happen to arrive in never changes which line crosses the
        threshold. Lines without a charge count as 0.
        """
        wanted = _disciplines(disciplines)
        lines = self._in_year(patient_id, year, exclude_claim, payer)
        point = None if before is None else (_day(before[0]), before[1])
        cents = sum(
            _cents(line.charge) or 0
            for line in lines
            if line.discipline in wanted and (point is None or (line.date_of_service, line.claim_id) < point)
        )
        return round(cents / 100, 2)

    def day_units(
        self,
        patient_id: str,
        date: datetime.date,
        codes: Iterable[str] | None = None,
        *,
        exclude_claim: str | None = None,
        payer: str | None = None,
    ) -> int:
        """Units the patient was billed on `date` for `codes` (every code when None), across all claims."""
        day = _day(date)
        wanted = None if codes is None else set(codes)
        lines = self.lines(patient_id, day, day, exclude_claim=exclude_claim, payer=payer)
        return sum(line.units for line in lines if wanted is None or line.code in wanted)

    def visits(
        self,
        patient_id: str,
        year: int,
        *,
        disciplines: Iterable[str] | None = None,
        exclude_claim: str | None = None,
        payer: str | None = None,
    ) -> int:
        """Visits in calendar `year`: distinct dates of service (of `disciplines` when given)."""
        wanted = None if disciplines is None else _disciplines(disciplines)
        lines = self._in_year(patient_id, year, exclude_claim, payer)
        return len({line.date_of_service for line in lines if wanted is None or line.discipline in wanted})

    def _in_year(self, patient_id: str, year: int, exclude_claim: str | None, payer: str | None) -> list[HistoryLine]:
        first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        return self.lines(patient_id, first, last, exclude_claim=exclude_claim, payer=payer)

    def _patient_lines(self, patient_id: str) -> PatientLines:
        return self._patient(patient_id)

    def _patient_lines_held(self, patient_id: str) -> PatientLines:
        return self._patient(patient_id, catch_up=False)

    def revision(self, patient_id: str, claim_id: str) -> Revision | None:
        """See `judge.history_cache.PatientLines.revision`."""
        return self._patient(patient_id).revision(claim_id)

    def claim_ids(self, patient_id: str) -> list[str]:
        """The ids of the patient's claims currently counted, sorted."""
        return sorted(self._patient(patient_id).claims)


_T = TypeVar("_T")
_V = TypeVar("_V")
_INSERT_CLAIM = (
    "INSERT INTO claims (patient_id, claim_id, payer, frequency, lines_json, first_date, last_date, line_count, "
    "recorded_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# A patient's claims in the order they were stored (the order memory had them in), each with its lines as
# JSON (made into lines by `_claim_lines` when needed) and what says which questions need them: a stored claim
# as judge.history_cache has it (`STORED_PAYER` ... name its places), the patient last.
_PATIENT_CLAIMS = (
    "SELECT claim_id, frequency, payer, lines_json, first_date, last_date, line_count, ? FROM claims "
    "WHERE patient_id = ? ORDER BY seq"
)
assert (STORED_PAYER, STORED_FIRST, STORED_LAST, STORED_LINES) == (2, 4, 5, 6)  # the query's places


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception.

    IMMEDIATE takes the write lock at the start, waiting (busy timeout) while another process holds it. A
    plain BEGIN would read first and upgrade later, and in WAL mode an upgrade from a stale snapshot fails
    at once with "database is locked" whatever the timeout.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        self._db.execute("BEGIN IMMEDIATE")
        return self._db

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._db.execute("ROLLBACK")
            return
        try:
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:  # never leave the connection holding the write lock
                self._db.execute("ROLLBACK")
            raise


# -- helpers -------------------------------------------------------------------------------------------


def _frequency_kind(frequency: str | None) -> str:
    try:
        return _FREQUENCIES[frequency]
    except KeyError:
        raise HistoryError(
            f"claim frequency code {frequency!r} is not supported by the claim history; "
            "use 1 (original), 7 (replacement) or 8 (void)"
        ) from None


def _check_lines(claim: Claim) -> None:
    """Line numbers identify lines in the history; two lines with one number would make one overwrite."""
    seen: set[int] = set()
    for line in claim.lines:
        if line.number in seen:
            raise HistoryError(f"claim {claim.id}: line number {line.number} appears twice")
        seen.add(line.number)


def _stored_line(
    claim: Claim,
    line: ServiceLine,
    payer: str | None,
    discipline_of: Callable[[Claim, ServiceLine], str | None],
    allowed: float | None,
) -> HistoryLine:
    """A judged line as the history stores it, with the values reading it back gives (charges in whole cents).
    The texts many lines share are interned: a run's memory of recent patients holds hundreds of thousands."""
    provider = claim.provider_of(line)
    discipline = discipline_of(claim, line)
    if discipline is not None and discipline not in DISCIPLINES:
        raise HistoryError(
            f"claim {claim.id} line {line.number}: discipline {discipline!r} is not one of {', '.join(DISCIPLINES)}"
        )
    payer = payer or claim.payer
    return HistoryLine(
        claim.id,
        claim.patient_id,
        None if payer is None else sys.intern(payer),
        claim.frequency,
        line.number,
        sys.intern(line.code),
        line.modifiers,
        line.units,
        _in_whole_cents(line.charge),
        line.date_of_service,
        None if provider is None or provider.type is None else sys.intern(provider.type),
        discipline,
        _in_whole_cents(allowed),
    )


def _insert(db: sqlite3.Connection, claims: list[tuple]) -> None:
    """Write the claim rows gathered so far in one statement, and empty the list."""
    if claims:
        db.executemany(_INSERT_CLAIM, claims)
        claims.clear()


def _lines_json(lines: Iterable[HistoryLine]) -> str:
    """A claim's stored lines as the JSON text `claims.lines_json` keeps: a list of [number, code, modifiers
    (space separated), units, charge_cents, date_of_service (ISO), provider_type, discipline, allowed_cents]
    (the patient, the claim, its payer and frequency are the claim row's). Charges in whole cents, as
    `_stored_line` rounded them; `_claim_lines` reads them back."""
    return _to_json(
        [
            (
                line.number,
                line.code,
                " ".join(line.modifiers),
                line.units,
                _cents(line.charge),
                line.date_of_service.isoformat(),
                line.provider_type,
                line.discipline,
                _cents(line.allowed),
            )
            for line in lines
        ]
    )


# Compact, and made once: `json.dumps` with options makes a new encoder per call.
_to_json = json.JSONEncoder(separators=(",", ":")).encode


def _fill_lines_json(db: sqlite3.Connection) -> None:
    """Migration 4 to 5: each claim's `lines_json`, from its `lines` rows (a claim without any has none)."""
    rows = db.execute(
        "SELECT patient_id, claim_id, number, code, modifiers, units, charge_cents, date_of_service, provider_type, "
        "discipline, allowed_cents FROM lines ORDER BY patient_id, claim_id, number"
    )
    db.executemany(
        "UPDATE claims SET lines_json = ? WHERE patient_id = ? AND claim_id = ?",
        [
            (_to_json([row[2:] for row in group]), *key)
            for key, group in itertools.groupby(rows, key=operator.itemgetter(0, 1))
        ],
    )
    db.execute("UPDATE claims SET lines_json = '[]' WHERE lines_json IS NULL")


def _claim_lines(stored_claims: list[tuple]) -> list[tuple[HistoryLine, ...]]:
    """The lines of a patient's stored claims, from their rows as `_PATIENT_CLAIMS` reads them: lines alike to
    those `record` stored (`_stored_line`). The claims' JSON is parsed in one call, then one loop makes the
    lines with no call per line but the line's own; the values many lines share (dates, modifier lists, codes)
    are kept once, the stored lines being most of what a run holds."""
    dates, modifier_lists, intern, line_of = _DATES, _MODIFIER_LISTS, sys.intern, HistoryLine
    if len(stored_claims) == 1:
        each_claims_lines = [json.loads(stored_claims[0][3])]
    else:
        each_claims_lines = json.loads("[" + ",".join([stored[3] for stored in stored_claims]) + "]")
    made = []
    for (claim_id, frequency, payer, _, _, _, _, patient_id), rows in zip(stored_claims, each_claims_lines):
        payer = None if payer is None else intern(payer)
        lines = []
        for number, code, modifiers, units, cents, dos, provider_type, discipline, allowed in rows:
            day = dates.get(dos)
            if day is None:
                day = _keep_in(dates, dos, datetime.date.fromisoformat(dos))
            listed = modifier_lists.get(modifiers)
            if listed is None:
                listed = _keep_in(modifier_lists, modifiers, tuple(modifiers.split()))
            lines.append(
                line_of(
                    claim_id,
                    patient_id,
                    payer,
                    frequency,
                    number,
                    intern(code),
                    listed,
                    units,
                    None if cents is None else cents / 100,
                    day,
                    None if provider_type is None else intern(provider_type),
                    discipline,
                    None if allowed is None else allowed / 100,
                )
            )
        made.append(tuple(lines))
    return made


def _stored_form(lines: Sequence[HistoryLine]) -> tuple[str, str, str, int]:
    """What a claim row keeps of its lines: the lines as JSON (`_lines_json`), the first and last of their
    dates of service (ISO text; "" for a claim with no line) and how many there are."""
    if not lines:
        return "[]", "", "", 0
    first = min(line.date_of_service for line in lines)
    last = max(line.date_of_service for line in lines)
    return _lines_json(lines), first.isoformat(), last.isoformat(), len(lines)


def _last_seq(db: sqlite3.Connection) -> int:
    return db.execute("SELECT last_seq FROM claim_order").fetchone()[0]


def _fill_claim_order(db: sqlite3.Connection) -> None:
    """Migration 5 to 6: each claim's place in the order stored (by patient and claim id: the order they were
    stored in is not known), the span of its lines' dates and their number, from `lines_json`."""
    rows = db.execute("SELECT patient_id, claim_id, lines_json FROM claims ORDER BY patient_id, claim_id").fetchall()
    updates = []
    for seq, (patient_id, claim_id, lines_json) in enumerate(rows, 1):
        dates = [line[5] for line in json.loads(lines_json or "[]")]
        updates.append((seq, min(dates, default=""), max(dates, default=""), len(dates), patient_id, claim_id))
    db.executemany(
        "UPDATE claims SET seq = ?, first_date = ?, last_date = ?, line_count = ? WHERE patient_id = ? AND claim_id = ?",
        updates,
    )
    db.execute("INSERT INTO claim_order (last_seq) VALUES (?)", (len(rows),))


# Dates of service and modifier lists by their text, kept once: the memory of recent patients holds hundreds
# of thousands of lines. Emptied when they grow past a bound, as a run of odd values could.
_DATES: dict[str, datetime.date] = {}
_MODIFIER_LISTS: dict[str, tuple[str, ...]] = {}


def _keep_in(kept: dict[str, _V], key: str, value: _V) -> _V:
    if len(kept) > 100_000:
        kept.clear()
    kept[key] = value
    return value


def _disciplines(disciplines: Iterable[str]) -> list[str]:
    if isinstance(disciplines, str):  # "PT" would otherwise be read as "P", "T"
        disciplines = [disciplines]
    wanted = sorted(set(disciplines))
    unknown = [d for d in wanted if d not in DISCIPLINES]
    if unknown:
        raise HistoryError(f"unknown therapy discipline {unknown[0]!r}; use {', '.join(DISCIPLINES)}")
    return wanted


def _day(day: datetime.date | str) -> datetime.date:
    """A date given as a date or as ISO text (checked, so that a typo cannot match nothing silently)."""
    if isinstance(day, str):
        return datetime.date.fromisoformat(day)
    if isinstance(day, datetime.datetime):  # a datetime is a date too, but would never equal one
        return day.date()
    return day


def _cents(charge: float | None) -> int | None:
    """Dollars to whole cents, half up (Decimal via str, so 0.285 is 29 cents as written, not 28)."""
    if charge is None:
        return None
    cents = charge * 100
    whole = round(cents)
    if abs(cents - whole) < 0.49:  # not near a half cent (nearly every charge: whole cents), so no tie to break
        return int(whole)
    return int((Decimal(str(charge)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _in_whole_cents(dollars: float | None) -> float | None:
    """Dollars as the file gives them back: rounded to whole cents as `_cents` stores them."""
    cents = _cents(dollars)
    return None if cents is None else cents / 100


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def stored_lines(
    claim: Claim,
    *,
    payer: str | None = None,
    discipline_of: Callable[[Claim, ServiceLine], str | None] = therapy_discipline,
    allowed: dict[int, float | None] | None = None,
) -> tuple[HistoryLine, ...]:
    """The lines `ClaimHistory.record` would store for `claim`, with the values reading them back gives
    (charges in whole cents), none for a void: for a history kept elsewhere (`judge.memory_history`) to count
    exactly alike."""
    kind = _frequency_kind(claim.frequency)
    _check_lines(claim)
    if kind == "void":  # a void stores nothing
        return ()
    allowed = allowed or {}
    return tuple(_stored_line(claim, line, payer, discipline_of, allowed.get(line.number)) for line in claim.lines)
