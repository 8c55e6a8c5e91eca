"""The claim history of one run, in memory: what `check_many` and the command line use without `--history`.

Same promises as the SQLite `ClaimHistory` for the calls the evaluator makes (`record`, `lines`): a
replacement (frequency 7) takes the place of the claim's earlier version, a void (8) removes it, and a claim
recorded again replaces itself, so no claim counts twice. Kept in dicts, so recording and asking cost
microseconds rather than a database transaction per claim.
"""
from __future__ import annotations

import datetime

from .claim_history import HistoryLine, therapy_discipline
from .claim_model import Claim


class RunHistory:
    def __init__(self) -> None:
        self.claims: dict[tuple[str, str], tuple[HistoryLine, ...]] = {}  # (patient, claim id) -> lines
        self.by_patient: dict[str, dict[str, tuple[HistoryLine, ...]]] = {}

    def record(self, claim: Claim, *, payer: str | None = None) -> None:
        patient = self.by_patient.setdefault(claim.patient_id, {})
        patient.pop(claim.id, None)
        if claim.frequency == "8":
            return
        patient[claim.id] = tuple(
            HistoryLine(claim.id, claim.patient_id, payer or claim.payer, claim.frequency, line.number, line.code,
                        line.modifiers, line.units, line.charge, line.date_of_service,
                        (claim.provider_of(line) or _NO_PROVIDER).type, therapy_discipline(claim, line))
            for line in claim.lines)

    def lines(self, patient_id: str, date_from: datetime.date, date_to: datetime.date, *,
              exclude_claim: str | None = None, payer: str | None = None) -> list[HistoryLine]:
        found = [line for claim_id, lines in self.by_patient.get(patient_id, {}).items() if claim_id != exclude_claim
                 for line in lines
                 if date_from <= line.date_of_service <= date_to and (payer is None or line.payer == payer)]
        found.sort(key=lambda line: (line.date_of_service, line.claim_id, line.number))
        return found


class _NoProvider:
    type = None


_NO_PROVIDER = _NoProvider()
