"""The claim JSON's fields are declared once (`claims.json_fields`), and both roads read that declaration.

Every declared field has a sample value here. With it on an otherwise plain claim, the careful road must
read the claim without a problem and put the value on the `Claim`; the quick road must give the same claim
for a field it reads, and step aside for one declared careful-only. A field added to the declaration fails
`test_every_declared_field_has_a_sample` until it is given a sample, and then the others hold both roads to
it. The claim schema must list the same fields.
"""

from __future__ import annotations

import json

import pytest

from payerpolicy._resources import schema_file
from payerpolicy.claims import json_fields
from payerpolicy.claims.json_claims import claim_field_by_field
from payerpolicy.claims.json_quick import quick_claim
from payerpolicy.claims.model import Claim, UnreadableClaim


def plain_claim() -> dict:
    return {
        "id": "C-1",
        "patient": {"id": "P-1"},
        "lines": [{"code": "97110", "units": 1, "date": "2026-03-02"}],
    }


PROVIDER = {"npi": "1234567893", "type": "PT"}

# A good value for each declared field, and where it lands on the `Claim` the careful road reads.
CLAIM_SAMPLES = {
    "id": ("C-9", lambda c: c.id == "C-9"),
    "payer": ("acme", lambda c: c.payer == "acme"),
    "patient": ({"id": "P-9"}, lambda c: c.patient_id == "P-9"),
    "provider": (PROVIDER, lambda c: c.provider.npi == "1234567893"),
    "diagnoses": (["M54.50"], lambda c: c.diagnoses == ("M54.50",)),
    "frequency": ("7", lambda c: c.frequency == "7"),
    "place_of_service": ("22", lambda c: c.place_of_service == "22"),
    "prior_authorization": ("PA-1", lambda c: c.prior_authorization == "PA-1"),
    "referring_npi": ("1234567893", lambda c: c.referring_npi == "1234567893"),
    "treatment_began": ("2026-02-01", lambda c: str(c.treatment_began) == "2026-02-01"),
    "lines": ([{"code": "97112", "units": 2, "date": "2026-03-03"}], lambda c: c.lines[0].code == "97112"),
}
PATIENT_SAMPLES = {
    "id": ("P-9", lambda c: c.patient_id == "P-9"),
    "birth_date": ("1950-05-01", lambda c: str(c.patient_birth_date) == "1950-05-01"),
}
PROVIDER_SAMPLES = {
    "npi": ("1234567893", lambda c: c.provider.npi == "1234567893"),
    "type": ("OT", lambda c: c.provider.type == "OT"),
}
LINE_SAMPLES = {
    "code": ("97140", lambda c: c.lines[0].code == "97140"),
    "modifiers": (["GP"], lambda c: c.lines[0].modifiers == ("GP",)),
    "units": (3, lambda c: c.lines[0].units == 3),
    "minutes": (40, lambda c: c.lines[0].minutes == 40),
    "periods": ([{"start": "09:00", "end": "09:20"}], lambda c: c.lines[0].minutes == 20),
    "date": ("2026-03-04", lambda c: str(c.lines[0].date_of_service) == "2026-03-04"),
    "charge": (120, lambda c: c.lines[0].charge == 120.0),
    "diagnosis_pointers": ([1], lambda c: c.lines[0].diagnosis_pointers == (1,)),
    "provider": (PROVIDER, lambda c: c.lines[0].provider.npi == "1234567893"),
    "place_of_service": ("11", lambda c: c.lines[0].place_of_service == "11"),
    "prior_authorization": ("PA-2", lambda c: c.lines[0].prior_authorization == "PA-2"),
}
PERIOD_SAMPLES = {
    "start": ("09:00", lambda c: c.lines[0].periods[0].start_minute == 9 * 60),
    "end": ("09:30", lambda c: c.lines[0].periods[0].end_minute == 9 * 60 + 30),
    "provider": ({"type": "PTA"}, lambda c: c.lines[0].periods[0].provider.type == "PTA"),
}


def with_claim_field(name, value) -> dict:
    claim = plain_claim()
    claim[name] = value
    if name == "lines":
        claim["diagnoses"] = ["M54.50"]
    return claim


def with_patient_field(name, value) -> dict:
    claim = plain_claim()
    claim["patient"][name] = value
    return claim


def with_provider_field(name, value) -> dict:
    claim = plain_claim()
    claim["provider"] = {name: value}
    return claim


def with_line_field(name, value) -> dict:
    claim = plain_claim()
    claim["lines"][0][name] = value
    if name == "diagnosis_pointers":
        claim["diagnoses"] = ["M54.50"]
    return claim


def with_period_field(name, value) -> dict:
    claim = plain_claim()
    claim["lines"][0]["periods"] = [{"start": "09:00", "end": "09:20", name: value}]
    return claim


# Each level: its declaration, its samples, a claim with one of its fields set, and where that level stands.
LEVELS = {
    "claim": (json_fields.CLAIM, CLAIM_SAMPLES, with_claim_field, lambda c: c),
    "patient": (json_fields.PATIENT, PATIENT_SAMPLES, with_patient_field, lambda c: c["patient"]),
    "provider": (json_fields.PROVIDER, PROVIDER_SAMPLES, with_provider_field, lambda c: c["provider"]),
    "line": (json_fields.LINE, LINE_SAMPLES, with_line_field, lambda c: c["lines"][0]),
    "period": (json_fields.PERIOD, PERIOD_SAMPLES, with_period_field, lambda c: c["lines"][0]["periods"][0]),
}
CASES = [
    pytest.param(level, name, *samples[name], build, id=f"{where}.{name}")
    for where, (level, samples, build, _) in LEVELS.items()
    for name in level.fields
]


def test_every_declared_field_has_a_sample():
    for level, samples, _, _ in LEVELS.values():
        assert list(samples) == list(level.fields)
        assert level.careful_only <= set(level.fields)


@pytest.mark.parametrize("level, name, value, landed, build", CASES)
def test_the_careful_road_reads_every_declared_field(level, name, value, landed, build):
    claim = claim_field_by_field(build(name, value))
    assert isinstance(claim, Claim), claim
    assert landed(claim)


@pytest.mark.parametrize("level, name, value, landed, build", CASES)
def test_the_quick_road_reads_its_fields_and_leaves_the_rest(level, name, value, landed, build):
    obj = build(name, value)
    quick = quick_claim(obj)
    # A period stands only inside `periods`, which the quick road leaves to the careful one.
    if name in level.careful_only or level is json_fields.PERIOD:
        assert quick is None
    else:
        assert quick is not None
        assert quick == claim_field_by_field(obj)


@pytest.mark.parametrize("where", LEVELS)
def test_an_undeclared_field_goes_to_the_careful_road_and_is_named_there(where):
    level, samples, build, place = LEVELS[where]
    name = level.fields[0]
    obj = build(name, samples[name][0])
    place(obj)["colour"] = "blue"
    assert quick_claim(obj) is None
    careful = claim_field_by_field(obj)
    assert isinstance(careful, UnreadableClaim)
    assert any("unknown field `colour`" in problem.message for problem in careful.problems)


def test_the_claim_schema_lists_the_declared_fields():
    schema = json.loads(schema_file("claim.schema.json").read_text(encoding="utf-8"))
    defs = schema["$defs"]
    assert list(schema["properties"]) == list(json_fields.CLAIM.fields)
    assert list(defs["line"]["properties"]) == list(json_fields.LINE.fields)
    assert list(defs["period"]["properties"]) == list(json_fields.PERIOD.fields)
    assert list(defs["provider"]["properties"]) == list(json_fields.PROVIDER.fields)
    assert list(schema["properties"]["patient"]["properties"]) == list(json_fields.PATIENT.fields)
