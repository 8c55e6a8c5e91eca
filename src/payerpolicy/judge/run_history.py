"""The claim history of one run: what `check_many` and the command line use without `--history`.

Same promises as the SQLite `ClaimHistory` for the calls the evaluator makes (`record`, `lines`): a
replacement (frequency 7) takes the place of the claim's earlier version, a void (8) removes it, and a claim
recorded again replaces itself, so no claim counts twice. It starts in memory, where recording and asking
cost microseconds; a run past `limit` claims moves to a temporary SQLite file, so that memory stays bounded
however long the run.

Recording is on every claim's road, and most claims of a batch are the only claim of their patient in it:
no later claim asks about that patient. So a claim is kept as it is recorded in plain values (a tuple per
line, which the cycle collector soon stops walking) and made into `HistoryLine`s only when its patient is
first asked about, in the order the claims were recorded: the same lines, the same answers.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

from payerpolicy.claims.values import therapy_discipline
from payerpolicy.judge.history import RUN_BATCH, ClaimHistory, HistoryLine
from payerpolicy.judge.history_cache import LinesByPatient, PatientLines, Revision
from payerpolicy.claims.model import Claim

# About 1 KB a claim in memory (its lines, and what they share with the claim): some 300 MB at the limit,
# measured on bench/generate.py's claims (4.5 lines a claim). Past it, the run's claims are read back from
# SQLite, which costs about twice the CPU a claim; at 100,000 that made a one-process run of 200,000 claims
# slow down halfway while each of two workers, holding half the patients, never spilled.
DEFAULT_LIMIT = 300_000


class RunHistory(LinesByPatient):
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self.count = 0
        # Per patient asked about, the lines of each claim and all of them in service order (judge.history_cache).
        self.by_patient: dict[str, PatientLines] = {}
        # Per patient not asked about since its first claim was recorded, its claims in order (`_kept`); never
        # a patient of `by_patient`.
        self.waiting: dict[str, list[tuple]] = {}
        self.spilled: ClaimHistory | None = None

    def may_hold(self, patient_id: str) -> bool:
        """Whether any claim of the patient is recorded (most claims of a batch are their patient's first)."""
        return self.spilled is not None or patient_id in self.waiting or patient_id in self.by_patient

    def record(self, claim: Claim, *, payer: str | None = None, views=None, allowed=None) -> None:
        """Count `claim` for the claims judged after it. `views`: its lines as the judge saw them
        (`judge.judge.LineView`), whose provider and discipline are worked out already."""
        if self.spilled is not None:
            self.spilled.record(claim, payer=payer, allowed=allowed or {v.number: v.allowed for v in views or ()})
            return
        patient_id = claim.patient_id
        # A new claim of a patient not asked about since waits as it is: nothing to take its place, nothing to void.
        if patient_id not in self.by_patient and claim.frequency not in _TAKES_A_PLACE:
            waiting = self.waiting.setdefault(patient_id, [])
            # The patient's first claim (most claims of a batch) has nothing to compare with; the same claim
            # again replaces itself, below.
            if not waiting or all(kept[0] != claim.id for kept in waiting):
                waiting.append(_kept(claim, payer, views))
                self._counted()
                return
        patient = self._made(patient_id)
        if claim.frequency == "8":
            if patient.remove(claim.id) is not None:
                self.count -= 1
            return
        self._put(patient, _kept(claim, payer, views))

    def _put(self, patient: PatientLines, kept: tuple) -> None:
        claim_id = kept[0]
        if patient.remove(claim_id) is not None:
            self.count -= 1
        patient.put(claim_id, _history_lines(kept))
        self._counted()

    def _counted(self) -> None:
        self.count += 1
        if self.count > self.limit:
            self._spill()

    def _patient(self, patient_id: str) -> PatientLines | None:
        """The patient's lines, its waiting claims made into lines first; None when it has none."""
        if patient_id not in self.waiting:
            return self.by_patient.get(patient_id)
        return self._made(patient_id)

    def _made(self, patient_id: str) -> PatientLines:
        """The patient's lines, its waiting claims made into lines first; made now when it has none yet."""
        patient = self.by_patient.get(patient_id)
        if patient is None:
            patient = self.by_patient[patient_id] = PatientLines()
        for kept in self.waiting.pop(patient_id, ()):  # new claims of the patient, in the order recorded
            patient.put(kept[0], _history_lines(kept))
        return patient

    def _patient_lines(self, patient_id: str) -> PatientLines | None:
        return self._patient(patient_id) if self.spilled is None else self.spilled._patient_lines(patient_id)

    def _patient_lines_held(self, patient_id: str) -> PatientLines | None:
        return self._patient(patient_id) if self.spilled is None else self.spilled._patient_lines_held(patient_id)

    def revision(self, patient_id: str, claim_id: str) -> Revision | None:
        """See `judge.history_cache.PatientLines.revision`."""
        if self.spilled is not None:
            return self.spilled.revision(patient_id, claim_id)
        patient = self._patient(patient_id)
        return _NO_PATIENT if patient is None else patient.revision(claim_id)

    def _spill(self) -> None:
        """Move to a scratch file in a private folder (0700), with its journal in memory. On POSIX systems the
        file and folder are removed at once (the open connection keeps the data), so nothing with patient
        data is left on disk whatever way the run ends; elsewhere they are removed when the run closes."""
        folder = tempfile.mkdtemp(prefix="payerpolicy-run-")
        path = os.path.join(folder, "history.sqlite")
        # Batched: a scratch file needs no claim written before its decision goes out.
        store = ClaimHistory(path, durable=False, batch=RUN_BATCH)
        try:
            os.unlink(path)
            os.rmdir(folder)
        except OSError:
            atexit.register(shutil.rmtree, folder, True)
        for patient_id in list(self.waiting):
            self._patient(patient_id)
        store.import_lines(line for patient in self.by_patient.values() for line in patient.every_line())
        self.by_patient.clear()
        self.spilled = store


_TAKES_A_PLACE = ("7", "8")  # a replacement takes its claim's place, a void removes it
_NO_PATIENT: Revision = (-1, 0, -1)  # the revision of a patient with no lines yet (no `PatientLines` has serial -1)


# A recorded claim as it waits: (claim id, patient id, payer, frequency, its lines as plain tuples in the order
# of `HistoryLine`'s fields from `number` on).
def _kept(claim: Claim, payer: str | None, views) -> tuple:
    payer = payer or claim.payer
    if views is None:
        return (claim.id, claim.patient_id, payer, claim.frequency, _lines_of_claim(claim))
    return (
        claim.id,
        claim.patient_id,
        payer,
        claim.frequency,
        tuple(
            [
                (v.number, v.code, v.modifiers, v.units, v.charge, v.date, v.provider_type, v.discipline, v.allowed)
                for v in views
            ]
        ),
    )


def _lines_of_claim(claim: Claim) -> tuple:
    lines = []
    for line in claim.lines:
        provider = claim.provider_of(line)
        lines.append(
            (
                line.number,
                line.code,
                line.modifiers,
                line.units,
                line.charge,
                line.date_of_service,
                provider.type if provider else None,
                therapy_discipline(claim, line),
                None,
            )
        )
    return tuple(lines)


def _history_lines(kept: tuple) -> tuple[HistoryLine, ...]:
    claim_id, patient_id, payer, frequency, lines = kept
    return tuple(HistoryLine(claim_id, patient_id, payer, frequency, *line) for line in lines)
