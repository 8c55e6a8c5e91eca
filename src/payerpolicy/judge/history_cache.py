"""The claim history's memory of recent patients: each one's stored lines, so judging a claim reads nothing.

Rules over the patient's year (the KX threshold, the plan of care) ask the history for every line of the
patient's year and record, once per claim judged. Read from SQLite each time, that is a reread of the whole
patient-year per claim, which grows with the run: the cost that made long runs slow down. `PatientCache`
keeps the lines of the patients asked about most recently, as `HistoryLine`s in service order, up to a number
of lines (least recently asked patients go first), and the history keeps it current as it records claims.

It holds no SQL: `ClaimHistory` fills it from the file (one query for a patient not in it), writes through
it, and drops the patients another process wrote meanwhile.
"""

from __future__ import annotations

import bisect
import collections
import datetime
import itertools
import operator
from typing import TYPE_CHECKING, Callable, NamedTuple

if TYPE_CHECKING:  # the history imports this module
    from payerpolicy.judge.history import HistoryLine

# The order of `lines`, as SQL gives it: by date, claim, line.
IN_ORDER = operator.attrgetter("date_of_service", "claim_id", "number")
_DATE = operator.attrgetter("date_of_service")

# Lines a megabyte of the cache holds, counted low (about 185 bytes a line measured on a 1,000,000-claim run;
# 250 here), so that a memory budget given in megabytes (`check --history-memory`) is not passed.
LINES_PER_MB = 4_000
DEFAULT_HISTORY_MB = 100
DEFAULT_CACHE_LINES = DEFAULT_HISTORY_MB * LINES_PER_MB  # a patient's year is a few hundred lines at most
# A patient's lines as one `PatientLines` holds them (see `PatientLines.revision`): (the serial of its stored
# lines, claims taken out of them so far, the serial of this copy in memory).
Revision = tuple[int, int, int]
_SERIALS = itertools.count()  # each `PatientLines` made (or read back) has its own
# Patients let go for memory whose revision (and size) is kept for their next read back, at most: a few dozen
# bytes each.
KEPT_REVISIONS = 200_000


class PatientLines:
    """One patient's stored claims: claim id -> its lines; and all of them in service order when asked.

    The lines in service order are kept as claims come in (each new line put in its place), not sorted again
    for every claim: a patient's year grows over a run, and sorting it whole per claim made each claim cost
    more than the last. `payers` counts the lines per payer, so that asking for one payer's lines of a
    patient who has no other (nearly always) is a copy, not a walk over the lines.

    A patient read back from a file (`read_back`) has its claims as the file keeps them (`STORED_PAYER` ...), and
    makes each one's lines only when a question needs them: the claim judged next usually asks for one day
    and for the claims stored since its last claim (counts over the year carry on from there), so reading a
    patient back costs a few claims, not its whole record, however long its record has grown."""

    __slots__ = ("claims", "_ordered", "size", "payers", "removals", "serial", "copy", "_stored", "_make")

    def __init__(self) -> None:
        # In the order stored: a claim stored again is taken out first (see `revision`), so between two
        # matching revisions claims are only added at the end (`lines_after`). None: in `_stored`, not made yet.
        self.claims: dict[str, tuple[HistoryLine, ...] | None] = {}
        self._ordered: list[HistoryLine] | None = None
        self.size = 0
        self.payers: collections.Counter = collections.Counter()
        self.removals = 0  # claims taken out (replaced, voided): see `revision`
        self.serial = next(_SERIALS)  # these stored lines; kept when memory lets the patient go and reads it back
        self.copy = next(_SERIALS)  # this copy in memory: kept too, as a file gives claims back in stored order
        # Claims read back whose lines are not made yet, and how to make them (`read_back`).
        self._stored: dict[str, tuple] | None = None
        self._make: Callable[[list[tuple]], list[tuple[HistoryLine, ...]]] | None = None

    @classmethod
    def read_back(
        cls, claims: dict[str, tuple], make: Callable[[list[tuple]], list[tuple[HistoryLine, ...]]]
    ) -> "PatientLines":
        """A patient as a file holds it: its claims in the order they were stored (a claim may have no lines),
        each as a stored claim (`STORED_FIRST` ...), whose lines `make(stored claims)` makes, in one call for
        many, when they are first needed."""
        patient = cls()
        patient.claims = dict.fromkeys(claims)
        if claims:
            patient._stored = claims
            patient._make = make
        payers = patient.payers
        for stored in claims.values():
            count = stored[STORED_LINES]
            if count:
                patient.size += count
                payers[stored[STORED_PAYER]] += count
        return patient

    def _made(self, claim_id: str) -> tuple[HistoryLine, ...]:
        """The claim's lines, made now if it was read back and not made yet."""
        lines = self.claims[claim_id]
        if lines is None:
            self._make_now([claim_id])
            lines = self.claims[claim_id]
        return lines  # type: ignore[return-value]

    def _all_made(self) -> None:
        if self._stored:
            self._make_now(list(self._stored))

    def _make_now(self, claim_ids: list[str]) -> None:
        """Make the lines of these claims read back (not made yet), in one call: a file parses many at once
        faster than one by one."""
        stored = self._stored
        assert stored is not None and self._make is not None
        taken = [stored.pop(claim_id) for claim_id in claim_ids]
        claims = self.claims
        for claim_id, kept, lines in zip(claim_ids, taken, self._make(taken)):
            claims[claim_id] = lines
            self.size += len(lines) - kept[STORED_LINES]  # (the same, unless the file was written by hand)
        if not stored:
            self._stored = self._make = None

    def lines_of(self, claim_id: str) -> tuple[HistoryLine, ...]:
        """The lines of one stored claim; none when the claim is not stored."""
        return self._made(claim_id) if claim_id in self.claims else ()

    def every_line(self) -> list[HistoryLine]:
        """Every stored line, claim after claim in the order stored."""
        self._all_made()
        return [line for lines in self.claims.values() if lines for line in lines]

    def revision(self, claim_id: str) -> Revision | None:
        """What a count carried from one of the patient's claims to the next must match: between two claims
        whose revisions match, lines are only ever added, each in its place, and claims only added after the
        others. None when the claim is stored already: its lines are left out of what the judge is given, so
        nothing carries.

        Its first two parts say which lines are stored, the third this copy in memory. A patient that memory
        let go and read back from the file keeps all three (`PatientCache.trim` keeps them for it): the file
        gives its claims back in the order they were stored, so a count over the lines in service order
        (program.runtime) or one carried by the claims' order (`lines_after`, program.record_dates) goes on
        from where it stopped. A patient another process wrote is read back as new lines altogether."""
        return None if claim_id in self.claims else (self.serial, self.removals, self.copy)

    def lines_after(self, claims_seen: int | None, payer: str | None) -> tuple[int, list[HistoryLine]]:
        """How many claims are stored, and the lines (of `payer`) of those stored after the first `claims_seen`
        (None: no lines, the number only): what was added since a revision's `claims_seen` were seen."""
        claims = self.claims
        if claims_seen is None or claims_seen >= len(claims):
            return len(claims), []
        added = itertools.islice(reversed(claims), len(claims) - claims_seen)
        made = self._made
        return len(claims), [
            line for claim_id in added for line in made(claim_id) if payer is None or line.payer == payer
        ]

    def put(self, claim_id: str, lines: tuple[HistoryLine, ...]) -> tuple[HistoryLine, ...] | None:
        """Store the claim's lines in place of any earlier version; the earlier version's lines, if any."""
        earlier = self.remove(claim_id)
        self.claims[claim_id] = lines
        self.size += len(lines)
        ordered = self._ordered
        for line in lines:
            self.payers[line.payer] += 1
            if ordered is not None:
                bisect.insort_right(ordered, line, key=IN_ORDER)
        return earlier

    def remove(self, claim_id: str) -> tuple[HistoryLine, ...] | None:
        if claim_id not in self.claims:
            return None
        earlier = self._made(claim_id)
        del self.claims[claim_id]
        self.size -= len(earlier)
        self.removals += 1
        self._ordered = None  # rare (a replacement, a void): sorted again when next asked
        for line in earlier:
            self.payers[line.payer] -= 1
            if not self.payers[line.payer]:
                del self.payers[line.payer]
        return earlier

    def between(
        self, date_from: datetime.date, date_to: datetime.date, exclude_claim: str | None, payer: str | None
    ) -> list[HistoryLine]:
        ordered = self._ordered
        if ordered is None:
            if self._stored and not self._made_for(date_from, date_to):
                return self._between_made(date_from, date_to, exclude_claim, payer)
            ordered = self._ordered = sorted((line for lines in self.claims.values() for line in lines), key=IN_ORDER)  # type: ignore[union-attr]
        if ordered and (ordered[0].date_of_service < date_from or ordered[-1].date_of_service > date_to):
            ordered = ordered[
                bisect.bisect_left(ordered, date_from, key=_DATE) : bisect.bisect_right(ordered, date_to, key=_DATE)
            ]
        if (exclude_claim is None or exclude_claim not in self.claims) and (
            payer is None or (len(self.payers) == 1 and payer in self.payers)
        ):
            return list(ordered)
        return [line for line in ordered if line.claim_id != exclude_claim and (payer is None or line.payer == payer)]

    def _made_for(self, date_from: datetime.date, date_to: datetime.date) -> bool:
        """Make the lines of the claims read back that have a line from `date_from` to `date_to`. True when
        that was every claim not made yet (then the patient's lines are all made); False when some are left."""
        stored = self._stored
        assert stored is not None
        low, high = date_from.isoformat(), date_to.isoformat()
        wanted = [
            claim_id for claim_id, claim in stored.items() if claim[STORED_FIRST] <= high and claim[STORED_LAST] >= low
        ]
        if len(wanted) == len(stored):
            self._all_made()
            return True
        if wanted:
            self._make_now(wanted)
        return False

    def _between_made(
        self, date_from: datetime.date, date_to: datetime.date, exclude_claim: str | None, payer: str | None
    ) -> list[HistoryLine]:
        """`between`, while some claims are not made: those have no line in the stretch (`_made_for`)."""
        found = [
            line
            for claim_id, lines in self.claims.items()
            if lines is not None and claim_id != exclude_claim
            for line in lines
            if date_from <= line.date_of_service <= date_to and (payer is None or line.payer == payer)
        ]
        found.sort(key=IN_ORDER)
        return found


# A claim as a file keeps it, its lines not made yet (`PatientLines.read_back`): a tuple as the file's query
# gives it (a plain tuple: a patient read back has dozens), whose items at these places are the payer its lines
# were judged for, the first and last of their dates of service as ISO text ("" when it has no line) and how
# many lines it has; the rest is the file's, to make the lines.
STORED_PAYER, STORED_FIRST, STORED_LAST, STORED_LINES = 2, 4, 5, 6


class LinesByPatient:
    """The `lines` question, asked of every kind of history (the file, one run's, in memory) the same way: find
    the patient's claims, then the stretch of days. Each kind says only how it finds a patient's claims."""

    def _patient_lines(self, patient_id: str) -> PatientLines | None:
        raise NotImplementedError

    def may_hold(self, patient_id: str) -> bool:
        """False only when the history surely holds no line of the patient (then the judge asks nothing of
        it); a history that cannot say cheaply says True."""
        return True

    def _patient_lines_held(self, patient_id: str) -> PatientLines | None:
        """`_patient_lines`, as held now: asked right after `revision` for the same claim, which looked for
        what other processes wrote (a history file's `_catch_up`, a query per claim saved here)."""
        return self._patient_lines(patient_id)

    def lines(
        self,
        patient_id: str,
        date_from: datetime.date,
        date_to: datetime.date,
        *,
        exclude_claim: str | None = None,
        payer: str | None = None,
    ) -> list[HistoryLine]:
        """The patient's stored lines with dates of service from `date_from` to `date_to`, both included,
        in service order (date, claim id, line number)."""
        patient = self._patient_lines(patient_id)
        return [] if patient is None else patient.between(date_from, date_to, exclude_claim, payer)

    def lines_after(
        self,
        patient_id: str,
        claim_id: str,
        revision: Revision | None,
        claims_seen: int | None,
        *,
        payer: str | None = None,
    ) -> tuple[int, list[HistoryLine]] | None:
        """`PatientLines.lines_after` for the judged claim `claim_id`, while the patient's lines are still at
        `revision` (see `PatientLines.revision`); None once they are not."""
        patient = self._patient_lines_held(patient_id)
        if patient is None or revision is None or patient.revision(claim_id) != revision:
            return None
        return patient.lines_after(claims_seen, payer)


class PatientCache:
    """The most recently asked patients' lines, up to `limit` lines in all. `get` or `add` a patient, then
    `put` and `remove` its claims through the cache (which counts the lines it keeps). `pinned(patient_id)`
    says whether a patient may not be dropped yet (it has claims not yet written)."""

    def __init__(self, limit: int = DEFAULT_CACHE_LINES, pinned: Callable[[str], bool] = lambda _: False):
        self.limit = limit
        self.pinned = pinned
        self.lines_kept = 0
        self._patients: collections.OrderedDict[str, PatientLines] = collections.OrderedDict()
        # Patients let go for memory only: their revision (serial, removals, copy), for `add`, and how many
        # lines they had, for `use`.
        self._let_go: dict[str, tuple[int, int, int, int]] = {}
        self.let_go_forgotten = False  # `_let_go` was emptied once (full, or `clear`): `use` is then too low
        # Patients read back after memory let them go, and their lines: what too small a budget costs a run.
        self.read_again = 0
        self.lines_read_again = 0

    def get(self, patient_id: str) -> PatientLines | None:
        found = self._patients.get(patient_id)
        if found is not None:
            self._patients.move_to_end(patient_id)
        return found

    def add(self, patient_id: str, patient: PatientLines) -> PatientLines:
        """Keep `patient`, as read from the file: one that `trim` let go keeps the revision of its lines."""
        kept = self._let_go.pop(patient_id, None)
        if kept is not None:
            patient.serial, patient.removals, patient.copy, _ = kept
            self.read_again += 1
            patient._make = self._counted(patient._make)
        self.drop(patient_id)
        self._patients[patient_id] = patient
        self.lines_kept += patient.size
        return patient

    def _counted(self, make):
        """`make`, counting the lines it makes in `lines_read_again`: what a patient read back again costs."""
        if make is None:
            return None

        def counted(stored_claims: list[tuple]) -> list[tuple[HistoryLine, ...]]:
            made = make(stored_claims)
            self.lines_read_again += sum(map(len, made))
            return made

        return counted

    def put(self, patient: PatientLines, claim_id: str, lines: tuple[HistoryLine, ...]):
        before = patient.size
        earlier = patient.put(claim_id, lines)
        self.lines_kept += patient.size - before
        return earlier

    def remove(self, patient: PatientLines, claim_id: str):
        before = patient.size
        earlier = patient.remove(claim_id)
        self.lines_kept += patient.size - before
        return earlier

    def drop(self, patient_id: str) -> None:
        """Forget the patient: what the file holds of it may have changed (another process wrote it)."""
        self._let_go.pop(patient_id, None)
        patient = self._patients.pop(patient_id, None)
        if patient is not None:
            self.lines_kept -= patient.size

    def clear(self) -> None:
        self._patients.clear()
        if self._let_go:
            self.let_go_forgotten = True
        self._let_go.clear()
        self.lines_kept = 0

    def __contains__(self, patient_id: str) -> bool:
        return patient_id in self._patients

    def __len__(self) -> int:
        return len(self._patients)

    def over(self) -> bool:
        return self.lines_kept > self.limit and len(self._patients) > 1

    def trim(self) -> bool:
        """Drop the least recently asked patients until the lines kept fit the limit (the most recent one
        always stays). A `pinned` patient is not dropped: False when one stood in the way, so that the
        history writes what it holds and trims again."""
        patients = self._patients
        while self.lines_kept > self.limit and len(patients) > 1:
            patient_id = next(iter(patients))
            if self.pinned(patient_id):
                return False
            patient = patients.pop(patient_id)
            self.lines_kept -= patient.size
            # Every claim of it is written (it is not pinned): the file holds these very lines.
            if len(self._let_go) >= KEPT_REVISIONS:
                self._let_go.clear()
                self.let_go_forgotten = True
            self._let_go[patient_id] = (patient.serial, patient.removals, patient.copy, patient.size)
        return True

    def use(self) -> "HistoryMemoryUse":
        """How this memory has served so far (`HistoryMemoryUse`)."""
        # The lines memory would hold had no patient been let go: those kept, and those let go as they were
        # then (a patient let go and read back again is in memory, counted once).
        wanted = self.lines_kept + sum(kept[-1] for kept in self._let_go.values())
        return HistoryMemoryUse(
            self.read_again, self.lines_read_again, -(-wanted // LINES_PER_MB), self.let_go_forgotten
        )


class HistoryMemoryUse(NamedTuple):
    """How a claim history's memory of recent patients (`--history-memory`) served a run.

    `read_again`: patients read back from the file after memory had let them go; `lines_read_again`: the lines
    of their claims made again from the file, those the claims judged next needed (a few when claims come in
    the order of their dates, as counts over the year carry on; the whole year when not): a run that does
    this for many of its claims slows down. `wanted_mb`: the megabytes that would have held every patient the run asked about, as
    `--history-memory` counts them; `at_least`: that figure is too low (more patients were let go than are
    remembered, `KEPT_REVISIONS`, or memory forgot them all when other processes had written too much)."""

    read_again: int
    lines_read_again: int
    wanted_mb: int
    at_least: bool
