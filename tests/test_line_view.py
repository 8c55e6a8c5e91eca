"""How rules see a line (judge.judge.LineView): the facts worked out only when first read give what they
gave when every view worked them all out, and stay set once read."""

import datetime

import pytest

from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.judge.judge import LineView

CLAIM = {
    "id": "C1",
    "payer": "medicare",
    "patient": {"id": "P1", "birth_date": "1950-06-15"},
    "provider": {"npi": "1234567893", "type": "PT"},
    "diagnoses": ["M54.50", "M25.561"],
    "place_of_service": "11",
    "prior_authorization": "PA-CLAIM",
    "lines": [
        {
            "code": "97110",
            "units": 2,
            "date": "2026-06-14",
            "modifiers": ["GP"],
            "periods": [
                {"start": "08:00", "end": "08:20"},
                {"start": "08:21", "end": "08:31", "provider": {"type": "PTA"}},
            ],
        },
        {
            "code": "97530",
            "units": 1,
            "minutes": 15,
            "date": "2026-06-15",
            "modifiers": ["GO"],
            "provider": {"type": "OTA"},
            "diagnosis_pointers": [2],
            "place_of_service": "22",
            "prior_authorization": "PA-LINE",
        },
        {"code": "97140", "units": 1, "date": "2026-06-15", "modifiers": ["GP"]},
    ],
}


def views():
    claim = claim_from_dict(CLAIM)
    assert not claim.faults
    return [LineView(claim, line) for line in claim.lines]


def test_facts_worked_out_on_reading():
    periods, assistant, units_only = views()
    # The PT's claim, a PTA's 10 of the 30 minutes; the patient turns 76 on the second date of service.
    assert (periods.patient_age, periods.discipline, periods.provider_npi) == (75, "PT", "1234567893")
    assert (periods.pta_minutes, periods.ota_minutes, periods.minutes) == (10, 0, 30)
    assert periods.diagnoses == ("M54.50", "M25.561")
    assert (periods.place_of_service, periods.prior_authorization) == ("11", "PA-CLAIM")
    # A line's own provider type (the claim's NPI kept), diagnosis pointer, place and authorization win
    # over the claim's.
    assert (assistant.patient_age, assistant.discipline, assistant.provider_type) == (76, "OT", "OTA")
    assert (assistant.pta_minutes, assistant.ota_minutes, assistant.provider_npi) == (0, 15, "1234567893")
    assert assistant.diagnoses == ("M25.561",)
    assert (assistant.place_of_service, assistant.prior_authorization) == ("22", "PA-LINE")
    # Units without minutes: no assistant minutes to speak of.
    assert (units_only.pta_minutes, units_only.ota_minutes) == (None, None)


def test_facts_not_read_are_not_worked_out_and_kept_once_read():
    view = views()[0]
    with pytest.raises(AttributeError):
        object.__getattribute__(view, "discipline")  # not worked out yet
    assert view.discipline == "PT"
    assert object.__getattribute__(view, "discipline") == "PT"  # kept: later reads are plain slot reads
    assert view.date == datetime.date(2026, 6, 14) and view.fault_rendering_npi is None


def test_unknown_attribute_is_still_an_error():
    view = views()[0]
    with pytest.raises(AttributeError, match="no attribute 'disipline'"):
        view.disipline  # noqa: B018
    assert getattr(view, "disipline", "absent") == "absent"
