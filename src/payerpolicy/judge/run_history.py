"""The claim history of one run: what `check_many` and the command line use without `--history`.

Same promises as the SQLite `ClaimHistory` for the calls the evaluator makes (`record`, `lines`): a
replacement (frequency 7) takes the place of the claim's earlier version, a void (8) removes it, and a claim
recorded again replaces itself, so no claim counts twice. It starts in memory, where recording and asking
cost microseconds; a run past `limit` claims moves to a temporary SQLite file, so that memory stays bounded
however long the run.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

from payerpolicy.claims.values import therapy_discipline
from payerpolicy.judge.history import RUN_BATCH, ClaimHistory, HistoryLine
from payerpolicy.judge.history_cache import LinesByPatient, PatientLines
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
        # Per patient, the lines of each claim and all of them in service order (judge.history_cache).
        self.by_patient: dict[str, PatientLines] = {}
        self.spilled: ClaimHistory | None = None

    def record(self, claim: Claim, *, payer: str | None = None, views=None, allowed=None) -> None:
        """Count `claim` for the claims judged after it. `views`: its lines as the judge saw them
        (`judge.judge.LineView`), whose provider and discipline are worked out already."""
        if self.spilled is not None:
            self.spilled.record(claim, payer=payer, allowed=allowed or {v.number: v.allowed for v in views or ()})
            return
        patient = self.by_patient.get(claim.patient_id)
        if patient is None:
            patient = self.by_patient[claim.patient_id] = PatientLines()
        if patient.remove(claim.id) is not None:
            self.count -= 1
        if claim.frequency == "8":
            return
        patient.put(claim.id, _history_lines(claim, payer) if views is None else _lines_seen(claim, payer, views))
        self.count += 1
        if self.count > self.limit:
            self._spill()

    def _patient_lines(self, patient_id: str) -> PatientLines | None:
        return self.by_patient.get(patient_id) if self.spilled is None else self.spilled._patient_lines(patient_id)

    def revision(self, patient_id: str, claim_id: str) -> int | None:
        """See `judge.history_cache.PatientLines.revision`."""
        if self.spilled is not None:
            return self.spilled.revision(patient_id, claim_id)
        patient = self.by_patient.get(patient_id)
        return 0 if patient is None else patient.revision(claim_id)

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
        store.import_lines(
            line for patient in self.by_patient.values() for lines in patient.claims.values() for line in lines
        )
        self.by_patient.clear()
        self.spilled = store


def _history_lines(claim: Claim, payer: str | None) -> tuple[HistoryLine, ...]:
    lines = []
    for line in claim.lines:
        provider = claim.provider_of(line)
        lines.append(
            HistoryLine(
                claim.id,
                claim.patient_id,
                payer or claim.payer,
                claim.frequency,
                line.number,
                line.code,
                line.modifiers,
                line.units,
                line.charge,
                line.date_of_service,
                provider.type if provider else None,
                therapy_discipline(claim, line),
            )
        )
    return tuple(lines)


def _lines_seen(claim: Claim, payer: str | None, views) -> tuple[HistoryLine, ...]:
    payer = payer or claim.payer
    return tuple(
        HistoryLine(
            claim.id,
            claim.patient_id,
            payer,
            claim.frequency,
            v.number,
            v.code,
            v.modifiers,
            v.units,
            v.charge,
            v.date,
            v.provider_type,
            v.discipline,
            v.allowed,
        )
        for v in views
    )
