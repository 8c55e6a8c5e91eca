"""A claim history held in memory: the earlier claims a run is given as data, rather than as a file.

A history file (`ClaimHistory`) is one process's SQLite database. Where claims are judged on many machines
(Spark), the history is data like the claims: each place judging a set of patients is handed those patients'
earlier lines (`add`), judges their new claims against them, and gives back what the run changed
(`recorded`), which its caller appends to the history it keeps for the next run.

`MemoryHistory` answers as `ClaimHistory` does for the calls the judge makes (`record`, `lines`) and keeps
its promises: a claim is known by (patient id, claim id); recording it again, or a replacement (frequency 7),
takes the place of the earlier version; a void (8) removes it; so no claim is counted twice. It stores the
lines `ClaimHistory.record` would (`judge.history.stored_lines`: charges in whole cents, the same discipline
and provider), so that a run judged against it decides as a run judged against a history file holding the
same claims. Everything is in memory: a caller judging more patients than fit hands each batch of patients
its own `MemoryHistory`, or calls `forget` for the patients it is done with.
"""

from __future__ import annotations

from typing import Iterable, Iterator, TypeVar

from payerpolicy.claims.model import Claim
from payerpolicy.judge.history import HistoryLine, RecordingHistory
from payerpolicy.judge.history_cache import PatientLines

__all__ = ["MemoryHistory"]

_T = TypeVar("_T")


class MemoryHistory(RecordingHistory):
    """The claim history in memory: `add` the earlier claims' lines, judge (a `Session(history=...)` records
    each claim it judges), then read what the run changed with `recorded`."""

    path = ":memory:"  # what a `ClaimHistory` says of itself when it is not a file

    def __init__(self, lines: Iterable[HistoryLine] = ()) -> None:
        self._patients: dict[str, PatientLines] = {}
        # What this history's `record` changed, claim by claim, the latest each time: the claim's lines, or
        # None for a claim voided.
        self._changed: dict[tuple[str, str], tuple[HistoryLine, ...] | None] = {}
        self.add(lines)

    def add(self, lines: Iterable[HistoryLine]) -> None:
        """Earlier claims, as lines: each claim's lines are added to what it already has here. Give only the
        lines that count now (a claim's latest version, no voided claim); they are not in `recorded`."""
        gathered: dict[tuple[str, str], list[HistoryLine]] = {}
        for line in lines:
            gathered.setdefault((line.patient_id, line.claim_id), []).append(line)
        for (patient_id, claim_id), found in gathered.items():
            patient = self._patient(patient_id)
            patient.put(claim_id, patient.lines_of(claim_id) + tuple(found))

    def _remove_claim(self, claim: Claim) -> tuple[HistoryLine, ...] | None:
        self._changed[(claim.patient_id, claim.id)] = None
        return self._patient(claim.patient_id).remove(claim.id)

    def _put_claim(
        self, claim: Claim, payer: str | None, lines: tuple[HistoryLine, ...]
    ) -> tuple[HistoryLine, ...] | None:
        self._changed[(claim.patient_id, claim.id)] = lines
        return self._patient(claim.patient_id).put(claim.id, lines)

    def recorded(self) -> Iterator[tuple[str, str, tuple[HistoryLine, ...] | None]]:
        """What `record` changed, one entry per claim in the order first recorded: (patient id, claim id,
        the claim's lines now, or None when it was voided)."""
        for (patient_id, claim_id), lines in self._changed.items():
            yield patient_id, claim_id, lines

    def forget(self, patient_id: str) -> None:
        """Let go of a patient's lines (not of what was recorded for them)."""
        self._patients.pop(patient_id, None)

    def _patient_lines(self, patient_id: str) -> PatientLines | None:
        return self._patients.get(patient_id)

    def claim_ids(self, patient_id: str) -> list[str]:
        """The ids of the patient's claims currently counted, sorted."""
        patient = self._patients.get(patient_id)
        return [] if patient is None else sorted(patient.claims)

    def written_first(self, decisions: Iterable[_T]) -> Iterator[_T]:
        """The decisions as they come: nothing here waits to be written."""
        return iter(decisions)

    def flush(self) -> None:
        """Nothing to write."""

    def close(self) -> None:
        """Nothing to close; what was recorded stays readable."""

    def _patient(self, patient_id: str) -> PatientLines:
        found = self._patients.get(patient_id)
        if found is None:
            found = self._patients[patient_id] = PatientLines()
        return found
