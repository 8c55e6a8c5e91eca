"""The one step that ends every careful reader's reading: `claims.reading`.

The readers' own tests (test_claim_read*.py) hold each format to its records; these hold the step they share:
every piece a reader fills reaches the model, a problem sends the claim back with its data faults, and a line
with a problem of its own is left out.
"""

from __future__ import annotations

import dataclasses
import datetime

from payerpolicy.claims.model import Claim, ClaimProblem, DataFault, Provider, ServiceLine, UnreadableClaim
from payerpolicy.claims.reading import ClaimReading, LineReading

DAY = datetime.date(2026, 3, 2)
FAULT = DataFault("rendering_npi", "provider.npi", "the NPI 123 is not 10 digits")


def _names(cls) -> list[str]:
    return [field.name for field in dataclasses.fields(cls)]


def test_every_field_of_the_model_can_be_read():
    """A field added to `Claim` or `ServiceLine` needs its place in the reading too (CONTRIBUTING.md)."""
    assert set(_names(Claim)) <= set(_names(ClaimReading))
    assert set(_names(ServiceLine)) <= set(_names(LineReading))


def _a_line(claim: ClaimReading, number: int = 1, code: str | None = "97110") -> LineReading:
    line = LineReading(claim, number)
    line.code, line.date_of_service, line.units = code, DAY, 2
    return line


def test_every_piece_read_reaches_the_claim_and_its_line():
    claim = ClaimReading("claims.jsonl line 1")
    claim.id, claim.patient_id, claim.payer = "C-1", "P-1", "medicare"
    claim.provider = Provider("1234567893", "PT")
    claim.diagnoses, claim.frequency, claim.place_of_service = ("I69.351",), "7", "11"
    claim.prior_authorization, claim.referring_npi = "PA-9", "1234567893"
    claim.patient_birth_date, claim.treatment_began = datetime.date(1950, 1, 1), datetime.date(2026, 1, 5)
    claim.faults.append(FAULT)
    line = _a_line(claim)
    line.modifiers, line.minutes, line.charge = ("GP",), 24, 120.0
    line.diagnosis_pointers, line.provider = (1,), Provider(None, "PTA")
    line.place_of_service, line.prior_authorization = "22", "PA-10"
    line.done()
    made = claim.record()
    assert made == Claim(
        id="C-1",
        patient_id="P-1",
        lines=(
            ServiceLine(
                number=1,
                code="97110",
                date_of_service=DAY,
                units=2,
                modifiers=("GP",),
                minutes=24,
                charge=120.0,
                diagnosis_pointers=(1,),
                provider=Provider(None, "PTA"),
                place_of_service="22",
                prior_authorization="PA-10",
            ),
        ),
        payer="medicare",
        provider=Provider("1234567893", "PT"),
        diagnoses=("I69.351",),
        frequency="7",
        place_of_service="11",
        prior_authorization="PA-9",
        patient_birth_date=datetime.date(1950, 1, 1),
        referring_npi="1234567893",
        treatment_began=datetime.date(2026, 1, 5),
        faults=(FAULT,),
    )
    assert type(made.lines) is tuple and type(made.faults) is tuple


def test_a_problem_sends_the_claim_back_with_its_data_faults_as_problems():
    claim = ClaimReading("claims.837 segment 23")
    claim.id, claim.patient_id, claim.payer = "C-2", "P-2", "medicare"
    claim.faults.append(FAULT)
    claim.problems.append(ClaimProblem("lines[1].units", "missing"))
    assert claim.record() == UnreadableClaim(
        "C-2",
        (ClaimProblem("lines[1].units", "missing"), FAULT.problem()),
        "claims.837 segment 23",
        "medicare",
        "P-2",
    )


def test_a_line_with_a_problem_of_its_own_is_left_out():
    claim = ClaimReading("here")
    claim.problems.append(ClaimProblem("payer", "not text"))  # the claim's, before the line began
    kept = _a_line(claim, 1)
    kept.done()
    left_out = _a_line(claim, 2)
    claim.problems.append(ClaimProblem("lines[2].code", "not a code"))
    left_out.done()
    without_code = _a_line(claim, 3, code=None)
    without_code.done()
    assert [line.number for line in claim.lines] == [1]


def test_a_claim_without_an_id_is_sent_back():
    claim = ClaimReading("here")
    claim.patient_id = "P-3"
    claim.problems.append(ClaimProblem("id", "missing: every claim needs an id"))
    record = claim.record()
    assert isinstance(record, UnreadableClaim) and record.id is None and record.patient_id == "P-3"
