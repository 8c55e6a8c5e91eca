"""Tests of the FHIR R4 read stage (payerpolicy.claims.fhir).

The samples in tests/samples/fhir/ (their sources in SOURCES.md there) are real public FHIR files, each
tested for what it yields, plus files written here: a therapy Bundle with its equivalent claim JSON (the
acceptance check: both give the same Medicare findings) and a Bundle with bad entries among good ones.
The small cases below them build one Claim in code, to pin each mapping rule and each problem.
"""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy.claims.model import Claim, Provider, ServiceLine, UnreadableClaim
from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.claims.fhir import read_fhir

SAMPLES = Path(__file__).parent / "samples" / "fhir"
CPT = "http://www.ama-assn.org/go/cpt"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
NUCC = "http://nucc.org/provider-taxonomy"
NPI = "http://hl7.org/fhir/sid/us-npi"


def _sample(name: str):
    with open(SAMPLES / name, encoding="utf-8") as file:
        return json.load(file)


def _read(name: str) -> list:
    return list(read_fhir(_sample(name), name))


def _problems(record) -> list[tuple[str, str]]:
    assert isinstance(record, UnreadableClaim), record
    return [(problem.field, problem.message) for problem in record.problems]


def _assert_problems(record, expected: list[tuple[str, str]]) -> None:
    """Every expected (field, fragment) matches its own problem, and no problem is left over."""
    found = _problems(record)
    remaining = list(found)
    for field, fragment in expected:
        match = next((item for item in remaining if item[0] == field and fragment in item[1]), None)
        assert match is not None, f"no problem on {field!r} saying {fragment!r}; found {found}"
        remaining.remove(match)
    assert not remaining, f"problems not expected: {remaining}"


# ---------------------------------------------------------------------------------------------------------
# The public samples


def test_every_sample_file_is_tested_and_listed_in_sources():
    tested = {
        "fhir-r4-spec_claim-example-cms1500-medical.json",
        "davinci-pas-test-kit_pas_claim.json",
        "davinci-pas-test-kit_conformant_pas_bundle_v110.json",
        "carin-bb_ExplanationOfBenefit_ProfessionalEOBExample1.json",
        "therapy-bundle.json",
        "therapy-claims.json",
        "bundle-with-bad-entries.json",
    }
    assert {path.name for path in SAMPLES.glob("*.json")} == tested
    sources = (SAMPLES / "SOURCES.md").read_text(encoding="utf-8")
    assert all(f"| {name} |" in sources for name in tested)


def test_cms1500_spec_example_reads_its_procedure_diagnoses_and_pointers():
    [claim] = _read("fhir-r4-spec_claim-example-cms1500-medical.json")
    assert isinstance(claim, Claim)
    assert claim.id == "MED-00050"
    assert claim.patient_id == "patient-1"  # a contained Patient (#patient-1) without an identifier
    assert claim.payer is None  # Humana Inc. is not Medicare
    assert claim.provider is None  # Organization/1 and Practitioner/example are not in the file
    assert claim.diagnoses == ("M96.1", "G89.4", "M53.88", "M47.816")
    assert claim.lines == (
        ServiceLine(
            number=1,
            code="62264",
            date_of_service=datetime.date(2015, 10, 13),
            units=1,
            charge=12500.0,
            diagnosis_pointers=(2, 4),
            place_of_service="24",
        ),
    )  # item.locationCodeableConcept
    assert claim.diagnoses_of(claim.lines[0]) == ("G89.4", "M47.816")


def test_pas_prior_authorization_claim_has_no_procedure_code_and_no_date():
    [record] = _read("davinci-pas-test-kit_pas_claim.json")
    assert record.id == "ReferralAuthorizationExample"
    assert record.where == "davinci-pas-test-kit_pas_claim.json"
    assert record.patient_id == "Patient/SubscriberExample"  # the Patient is not in this file
    _assert_problems(
        record,
        [
            ("item[1].productOrService", "code `3` (Consultation) is an X12 service type code"),
            ("item[1].servicedDate", "prior-authorization request"),
        ],
    )


def test_pas_bundle_resolves_the_patient_and_reports_the_practitioners_short_npi():
    records = _read("davinci-pas-test-kit_conformant_pas_bundle_v110.json")
    assert len(records) == 1  # one Claim; Organization, Coverage, Patient, ... only resolve references
    [record] = records
    assert record.where == "davinci-pas-test-kit_conformant_pas_bundle_v110.json entry 1"
    assert record.patient_id == "12345678901"  # Patient.identifier[0]
    assert record.payer is None  # MARYLAND CAPITAL INSURANCE COMPANY
    _assert_problems(
        record,
        [
            ("item[1].productOrService", "is an X12 service type code"),
            ("item[1].servicedDate", "missing: every line needs a date of service"),
            # A data fault, listed with the problems of a claim that cannot be read for other reasons.
            (
                "careTeam[1].provider",
                "the NPI of careTeam member 1 (Practitioner/ReferralPractitionerExample) "
                "`987654321` has 9 digits; an NPI has 10",
            ),
        ],
    )


def test_carin_explanation_of_benefit_is_not_a_claim_to_check():
    [record] = _read("carin-bb_ExplanationOfBenefit_ProfessionalEOBExample1.json")
    assert record.id == "ProfessionalEOBExample1"
    _assert_problems(
        record, [("resourceType", "an ExplanationOfBenefit is the payer's account of a claim it has already processed")]
    )


# ---------------------------------------------------------------------------------------------------------
# The therapy Bundle and its claim JSON: the acceptance check


def _json_claims() -> list:
    return [claim_from_dict(claim) for claim in _sample("therapy-claims.json")]


def test_therapy_bundle_reads_into_the_same_model_as_its_claim_json():
    fhir = _read("therapy-bundle.json")
    assert all(isinstance(claim, Claim) for claim in fhir), fhir
    assert fhir == _json_claims()
    first = fhir[0]
    assert first.provider == Provider("1234567893", "PT")  # Claim.provider -> PractitionerRole -> Practitioner
    assert first.lines[1].provider == Provider("1245319599", "PTA")  # careTeam 2, not the supervising PT
    assert first.diagnoses[0] == "I69.351"  # written I69351 in the Bundle
    assert fhir[1].payer == "medicare"  # the insurer is the CMS Organization, by reference


def _findings(decisions) -> list:
    return [(d.id, d.status, [(f.rule, f.line, f.severity, f.fix) for f in d.findings]) for d in decisions]


def test_therapy_bundle_gets_the_same_medicare_findings_as_its_claim_json():
    policy = payerpolicy.load("medicare")
    from_fhir = _findings(policy.check_many(read_fhir(_sample("therapy-bundle.json"), "therapy-bundle.json")))
    from_json = _findings(policy.check_many(_json_claims()))
    assert from_fhir == from_json
    rules = {(rule, line) for _, _, found in from_fhir for rule, line, _, _ in found}
    # Not an empty agreement: the mistakes planted in the Bundle are found.
    assert {
        ("medicare.unit-cap.97112", 1),
        ("medicare.modifier.cq-on-pta-services", 2),
        ("medicare.evaluation.manual-therapy-with-evaluation", 4),
    } <= rules


# ---------------------------------------------------------------------------------------------------------
# A Bundle with bad entries among good ones


def test_bad_bundle_entries_do_not_stop_the_good_claims():
    name = "bundle-with-bad-entries.json"
    records = _read(name)
    assert [type(r).__name__ for r in records] == ["Claim"] + ["UnreadableClaim"] * 4 + ["Claim"]
    assert [r.id for r in records] == ["GOOD-1", "BAD-2", None, None, "NOITEMS-7", "GOOD-8"]
    assert [r.where for r in records if isinstance(r, UnreadableClaim)] == [
        f"{name} entry 2",
        f"{name} entry 3",
        f"{name} entry 4",
        f"{name} entry 7",
    ]
    assert records[0].provider == Provider("1234567893", "PT")  # the type written as plain text "PT"
    assert records[1].patient_id == "MRN-9" and records[1].payer == "medicare"
    _assert_problems(
        records[1],
        [
            ("item[2].productOrService", "missing: every line needs a procedure code (CPT/HCPCS)"),
            ("item[3].servicedDate", "date `2026-02-30` is not a real date"),
            ("item[3].diagnosisSequence", "diagnosis sequence 4 points at no diagnosis: the claim lists sequences 1"),
        ],
    )
    _assert_problems(records[2], [("entry[3]", 'found the text "not an entry"')])
    _assert_problems(records[3], [("entry[4]", "did you mean `resource` for `resouce`?")])
    _assert_problems(records[4], [("item", "missing: every claim needs at least one service line")])


# ---------------------------------------------------------------------------------------------------------
# Mapping rules, one Claim built in code


def _claim(**changes) -> dict:
    """A readable one-line Claim; `changes` replace its elements (None removes one)."""
    claim = {
        "resourceType": "Claim",
        "id": "C-1",
        "patient": {"reference": "Patient/p1"},
        "insurer": {"display": "Medicare"},
        "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": {"coding": [{"system": ICD, "code": "R26.89"}]}}],
        "item": [_item()],
    }
    for key, value in changes.items():
        if value is None:
            claim.pop(key, None)
        else:
            claim[key] = value
    return claim


def _item(**changes) -> dict:
    item = {
        "sequence": 1,
        "productOrService": {"coding": [{"system": CPT, "code": "97110"}]},
        "modifier": [{"coding": [{"code": "GP"}]}],
        "quantity": {"value": 2},
        "servicedDate": "2026-03-02",
    }
    for key, value in changes.items():
        if value is None:
            item.pop(key, None)
        else:
            item[key] = value
    return item


def _one(document) -> Claim | UnreadableClaim:
    [record] = read_fhir(document, "test.json")
    return record


def _bundle(*resources) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def test_a_json_array_of_resources_resolves_references_among_them():
    patient = {"resourceType": "Patient", "id": "p1", "identifier": [{"value": "MRN-1"}]}
    records = list(read_fhir([patient, _claim(), _claim(id="C-2")], "batch.json"))
    assert [(r.id, r.patient_id) for r in records] == [("C-1", "MRN-1"), ("C-2", "MRN-1")]


def test_a_patient_resource_without_identifier_or_id_sends_its_claim_back_and_the_rest_are_read():
    # Found by a reader refactor: this used to end the run with an internal error.
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {"fullUrl": "urn:uuid:p0", "resource": {"resourceType": "Patient"}},
            {"resource": _claim(patient={"reference": "urn:uuid:p0"})},
            {"resource": _claim(id="C-2", patient={"identifier": {"value": "MRN-2"}})},
        ],
    }
    sent_back, read = read_fhir(bundle, "day.json")
    assert isinstance(sent_back, UnreadableClaim) and sent_back.id == "C-1"
    [problem] = sent_back.problems
    assert problem.field == "patient"
    assert "Patient resource has no `identifier` value and no `id`" in problem.message
    assert isinstance(read, Claim) and read.patient_id == "MRN-2"


@pytest.mark.parametrize(
    "document, fragment",
    [
        ({"resourceType": "Patient", "id": "p1"}, "this is a FHIR `Patient`, not a Claim or a Bundle of Claims"),
        ({"id": "C-1", "patient": {"id": "P-1"}, "lines": []}, "it looks like a claim in payerpolicy's claim JSON"),
        ("Claim", 'expected a FHIR Claim or Bundle, an object {...}; found the text "Claim"'),
        (None, "found null (no value)"),
        ({"resourceType": "ClaimResponse", "id": "r1"}, "a ClaimResponse is the payer's answer to a claim"),
        (_bundle({"resourceType": "Patient", "id": "p1"}), "this Bundle holds no Claim to read (it holds Patient)"),
        ({"resourceType": "Bundle", "entry": {}}, "this Bundle has entry an object {...}, not a list of entries"),
        ([{"resourceType": "Patient"}], "this array holds no FHIR Claim or Bundle to read"),
    ],
)
def test_what_is_not_a_claim_says_what_it_is(document, fragment):
    record = _one(document)
    assert isinstance(record, UnreadableClaim)
    assert record.where == "test.json"
    assert fragment in record.problems[0].message


def test_a_single_object_where_a_list_belongs_is_read_as_a_list_of_one():
    claim = _one(
        _claim(
            item=_item(modifier={"coding": [{"code": "GP"}]}),
            diagnosis={"diagnosisCodeableConcept": {"coding": {"system": ICD, "code": "R26.89"}}},
        )
    )
    assert claim.diagnoses == ("R26.89",)
    assert [(line.code, line.modifiers) for line in claim.lines] == [("97110", ("GP",))]


def test_bundles_in_an_array_are_each_read_and_placed():
    records = list(read_fhir([_bundle(_claim()), _claim(id="C-2", item=[])], "batch.json"))
    assert [r.id for r in records] == ["C-1", "C-2"]
    assert records[1].where == "batch.json resource 2"
    nested = list(read_fhir([_bundle({"resourceType": "Patient", "id": "p"})], "batch.json"))
    assert nested[0].where == "batch.json resource 1"


def test_an_empty_array_yields_nothing():
    assert list(read_fhir([], "empty.json")) == []


def test_a_bundle_entry_that_is_a_delete_request_is_skipped():
    bundle = _bundle(_claim())
    bundle["entry"].append({"request": {"method": "DELETE", "url": "Claim/old"}})
    assert [r.id for r in read_fhir(bundle, "b.json")] == ["C-1"]


@pytest.mark.parametrize(
    "quantity, units, minutes",
    [
        (None, 1, None),
        ({"value": 3}, 3, None),
        ({"value": 2.0}, 2, None),
        ({"value": 0, "unit": "units"}, 0, None),
        ({"value": 4, "code": "{unit}"}, 4, None),
        # A length of time bills no units: the minutes are kept for the policy to turn into units.
        ({"value": 24, "system": "http://unitsofmeasure.org", "code": "min"}, 0, 24),
        ({"value": 23, "unit": "Minutes"}, 0, 23),
        ({"value": 0.5, "code": "h"}, 0, 30),
        ({"value": 40, "unit": "MJ"}, 0, 40),
    ],
)
def test_units_and_minutes_come_from_the_quantity(quantity, units, minutes):
    claim = _one(_claim(item=[_item(quantity=quantity)]))
    assert (claim.lines[0].units, claim.lines[0].minutes) == (units, minutes)


def test_a_visit_sent_in_minutes_gets_the_findings_of_its_claim_json():
    items = [
        _item(quantity={"value": 24, "code": "min"}, unitPrice={"value": 2.5}),
        _item(
            sequence=2,
            productOrService={"coding": [{"system": CPT, "code": "97112"}]},
            quantity={"value": 23, "code": "min"},
        ),
    ]
    fhir = _one(_claim(item=items))
    as_json = claim_from_dict(
        {
            "id": "C-1",
            "payer": "medicare",
            "patient": {"id": "Patient/p1"},
            "diagnoses": ["R26.89"],
            "lines": [
                {"code": "97110", "modifiers": ["GP"], "units": 0, "minutes": 24, "date": "2026-03-02", "charge": 60.0},
                {"code": "97112", "modifiers": ["GP"], "units": 0, "minutes": 23, "date": "2026-03-02"},
            ],
        }
    )
    assert fhir == as_json
    policy = payerpolicy.load("medicare")
    findings = _findings([policy.check(fhir)])
    assert findings == _findings([policy.check(as_json)])
    # (Neither names a certifying physician: both also get the plan-of-care warning, left out here.)
    assert [
        (rule, fix.value) for rule, _, _, fix in findings[0][2] if rule != "medicare.plan-of-care.certifying-npi"
    ] == [("medicare.timed.fewer-units-than-minutes", 2), ("medicare.timed.fewer-units-than-minutes", 1)]


@pytest.mark.parametrize(
    "quantity, field, fragment",
    [
        ({"value": 2.5}, "item[1].quantity.value", "units must be a whole number of 0 or more; found 2.5"),
        (
            {"value": 7.5, "code": "min"},
            "item[1].quantity.value",
            "minutes must be a whole number of 0 or more; found 7.5",
        ),
        ({"value": -1}, "item[1].quantity.value", "found -1"),
        ({"value": "2"}, "item[1].quantity.value", 'found the text "2"'),
        ({"unit": "units"}, "item[1].quantity.value", "missing: the quantity gives no value (how many units)"),
        (3, "item[1].quantity", 'quantity must be an object like {"value": 2}; found 3'),
    ],
)
def test_a_quantity_that_is_not_a_count_of_units_is_a_problem(quantity, field, fragment):
    _assert_problems(_one(_claim(item=[_item(quantity=quantity)])), [(field, fragment)])


@pytest.mark.parametrize(
    "changes, expected",
    [
        (
            {
                "servicedDate": None,
                "servicedPeriod": {"start": "2026-03-02T09:00:00-05:00", "end": "2026-03-02T09:45:00-05:00"},
            },
            datetime.date(2026, 3, 2),
        ),
        ({"servicedDate": None, "servicedPeriod": {"end": "2026-03-03"}}, datetime.date(2026, 3, 3)),
        ({"servicedDate": "2026-03-04"}, datetime.date(2026, 3, 4)),
    ],
)
def test_the_date_of_service(changes, expected):
    assert _one(_claim(item=[_item(**changes)])).lines[0].date_of_service == expected


def test_a_line_without_a_date_takes_a_one_day_billable_period():
    claim = _one(_claim(billablePeriod={"start": "2026-03-05", "end": "2026-03-05"}, item=[_item(servicedDate=None)]))
    assert claim.lines[0].date_of_service == datetime.date(2026, 3, 5)


@pytest.mark.parametrize(
    "changes, claim_changes, field, fragment",
    [
        ({"servicedDate": None}, {}, "item[1].servicedDate", "missing: every line needs a date of service"),
        (
            {"servicedDate": None},
            {"billablePeriod": {"start": "2026-03-02", "end": "2026-03-06"}},
            "item[1].servicedDate",
            "missing",
        ),
        (
            {"servicedDate": None, "servicedPeriod": {"start": "2026-03-02", "end": "2026-03-05"}},
            {},
            "item[1].servicedPeriod",
            "the line runs from 2026-03-02 to 2026-03-05, but a line is one date of service",
        ),
        ({"servicedDate": "2026-03"}, {}, "item[1].servicedDate", "date `2026-03` is not a full date"),
        ({"servicedDate": 20260302}, {}, "item[1].servicedDate", "a date must be text written YYYY-MM-DD"),
    ],
)
def test_date_problems(changes, claim_changes, field, fragment):
    _assert_problems(_one(_claim(item=[_item(**changes)], **claim_changes)), [(field, fragment)])


def test_lines_follow_the_item_sequence_and_are_numbered_by_it():
    items = [
        _item(sequence=3, productOrService={"coding": [{"system": CPT, "code": "97140"}]}),
        _item(sequence=1),
        _item(sequence=2, productOrService={"coding": [{"system": CPT, "code": "97112"}]}),
    ]
    claim = _one(_claim(item=items))
    assert [(line.number, line.code) for line in claim.lines] == [(1, "97110"), (2, "97112"), (3, "97140")]


def test_two_items_with_one_sequence_are_a_problem():
    _assert_problems(_one(_claim(item=[_item(), _item()])), [("item[2].sequence", "sequence 1 is used by item[1] too")])


def test_pointers_name_diagnoses_by_sequence_and_become_positions():
    diagnoses = [
        {"sequence": 7, "diagnosisCodeableConcept": {"coding": [{"system": ICD, "code": "M62.81"}]}},
        {"sequence": 3, "diagnosisCodeableConcept": {"coding": [{"system": ICD, "code": "I69351"}]}},
    ]
    claim = _one(_claim(diagnosis=diagnoses, item=[_item(diagnosisSequence=[7])]))
    assert claim.diagnoses == ("I69.351", "M62.81")
    assert claim.lines[0].diagnosis_pointers == (2,)


def test_a_diagnosis_reference_resolves_to_the_condition_in_the_bundle():
    condition = {
        "resourceType": "Condition",
        "id": "c1",
        "code": {
            "coding": [
                {"system": "http://snomed.info/sct", "code": "230690007"},
                {"system": "http://hl7.org/fhir/sid/icd-10", "code": "I63.9"},
            ]
        },
    }
    claim = _one(
        _bundle(_claim(diagnosis=[{"sequence": 1, "diagnosisReference": {"reference": "Condition/c1"}}]), condition)
    )
    assert claim.diagnoses == ("I63.9",)


@pytest.mark.parametrize(
    "entry, field, fragment",
    [
        (
            {"sequence": 1, "diagnosisReference": {"reference": "Condition/gone"}},
            "diagnosis[1].diagnosisReference",
            "refers to `Condition/gone`, which is not in the Bundle",
        ),
        (
            {
                "sequence": 1,
                "diagnosisCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "1"}]},
            },
            "diagnosis[1].diagnosisCodeableConcept",
            "found codes of http://snomed.info/sct",
        ),
        (
            {"sequence": 1, "diagnosisCodeableConcept": {"coding": [{"system": ICD, "code": "26.89"}]}},
            "diagnosis[1].diagnosisCodeableConcept",
            "diagnosis `26.89` is not an ICD-10-CM code",
        ),
    ],
)
def test_a_diagnosis_without_a_readable_icd10_code_is_a_problem(entry, field, fragment):
    _assert_problems(_one(_claim(diagnosis=[entry])), [(field, fragment)])


@pytest.mark.parametrize(
    "product, code",
    [
        (
            {"coding": [{"system": "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "code": "g0283"}]},
            "G0283",
        ),
        (
            {
                "coding": [
                    {"system": "http://example.org/local", "code": "LOCAL-7"},
                    {"system": "http://example.org/other", "code": "97530"},
                ]
            },
            "97530",
        ),
        ({"coding": [{"system": "http://codesystem.x12.org/005010/1365", "code": "97112"}]}, "97112"),
        ({"text": "97116"}, "97116"),
    ],
)
def test_the_procedure_code_is_the_first_with_the_cpt_hcpcs_shape(product, code):
    assert _one(_claim(item=[_item(productOrService=product)])).lines[0].code == code


def test_modifiers_are_read_and_at_most_four_are_allowed():
    five = [{"coding": [{"code": code}]} for code in ("GP", "59", "KX", "CQ", "XE")]
    _assert_problems(
        _one(_claim(item=[_item(modifier=five)])),
        [("item[1].modifier", "a line may carry at most 4 modifiers; found 5")],
    )
    bad = [{"coding": [{"code": "GPX"}]}]
    _assert_problems(
        _one(_claim(item=[_item(modifier=bad)])), [("item[1].modifier", "modifier `GPX` is not a modifier")]
    )
    claim = _one(_claim(item=[_item(modifier=[{"coding": [{"code": "gp"}]}, {"text": "KX"}])]))
    assert claim.lines[0].modifiers == ("GP", "KX")


@pytest.mark.parametrize(
    "item, charge",
    [
        ({"net": {"value": 80}}, 80.0),
        ({"unitPrice": {"value": 35.5}}, 71.0),  # two units
        ({"unitPrice": {"value": 40}, "factor": 0.5}, 40.0),
        ({}, None),
    ],
)
def test_the_charge_is_net_else_unit_price_times_units(item, charge):
    assert _one(_claim(item=[_item(**item)])).lines[0].charge == charge


def test_a_negative_charge_is_a_problem():
    _assert_problems(
        _one(_claim(item=[_item(net={"value": -80})])), [("item[1].net", "net must be an amount of 0 or more")]
    )


# Providers


def _practitioner(ident: str, npi: str | None = "1234567893", **more) -> dict:
    practitioner = {"resourceType": "Practitioner", "id": ident, **more}
    if npi:
        practitioner["identifier"] = [{"system": "urn:example:staff", "value": "S-1"}, {"system": NPI, "value": npi}]
    return practitioner


def _taxonomy(code: str) -> dict:
    return {"coding": [{"system": NUCC, "code": code}]}


@pytest.mark.parametrize(
    "qualification, kind",
    [
        (_taxonomy("225100000X"), "PT"),
        (_taxonomy("2251H1200X"), "PT"),
        (_taxonomy("225200000X"), "PTA"),
        (_taxonomy("225X00000X"), "OT"),
        (_taxonomy("224Z00000X"), "OTA"),
        (_taxonomy("235Z00000X"), "SLP"),
        (_taxonomy("111N00000X"), "DC"),
        (_taxonomy("207Q00000X"), None),
        ({"text": "ota"}, "OTA"),
        ({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0360", "code": "NP"}]}, "NP"),
    ],
)
def test_the_line_provider_type_comes_from_the_care_team_qualification(qualification, kind):
    team = [{"sequence": 1, "provider": {"reference": "Practitioner/a"}, "qualification": qualification}]
    claim = _one(_bundle(_claim(careTeam=team, item=[_item(careTeamSequence=[1])]), _practitioner("a")))
    assert claim.lines[0].provider == Provider("1234567893", kind)


def test_the_rendering_member_is_chosen_over_referring_and_supervising_ones():
    team = [
        {"sequence": 1, "provider": {"reference": "Practitioner/sup"}, "role": {"coding": [{"code": "supervisor"}]}},
        {"sequence": 2, "provider": {"reference": "Practitioner/ref"}, "role": {"coding": [{"code": "referring"}]}},
        {"sequence": 3, "provider": {"reference": "Practitioner/pta"}, "qualification": _taxonomy("225200000X")},
        {
            "sequence": 4,
            "provider": {"reference": "Practitioner/ren"},
            "role": {"coding": [{"code": "rendering"}]},
            "qualification": _taxonomy("225100000X"),
        },
    ]
    people = [
        _practitioner("sup", "1111111111"),
        _practitioner("ref", "2222222222"),
        _practitioner("pta", "3333333333"),
        _practitioner("ren", "4444444444"),
    ]
    claim = _one(
        _bundle(
            _claim(careTeam=team, item=[_item(careTeamSequence=[1, 2, 3]), _item(sequence=2, careTeamSequence=[3, 4])]),
            *people,
        )
    )
    assert [line.provider for line in claim.lines] == [Provider("3333333333", "PTA"), Provider("4444444444", "PT")]


def test_the_claim_provider_resolves_contained_roles_and_practitioners():
    role = {
        "resourceType": "PractitionerRole",
        "id": "r1",
        "practitioner": {"reference": "#pr1"},
        "code": [{"text": "Physical therapist"}],
        "specialty": [_taxonomy("225X00000X")],
    }
    claim = _one(_claim(contained=[role, _practitioner("pr1", "1245319599")], provider={"reference": "#r1"}))
    assert claim.provider == Provider("1245319599", "OT")


def test_a_practitioner_qualification_gives_the_type_and_an_identifier_reference_gives_the_npi():
    practitioner = _practitioner("pr1", qualification=[{"code": _taxonomy("235Z00000X")}])
    claim = _one(
        _bundle(_claim(provider={"reference": "https://example.org/fhir/Practitioner/pr1/_history/2"}), practitioner)
    )
    assert claim.provider == Provider("1234567893", "SLP")
    by_identifier = _one(_claim(provider={"identifier": {"system": NPI, "value": "1003000126"}}))
    assert by_identifier.provider == Provider("1003000126", None)


def test_a_bad_npi_is_listed_with_the_problems_of_a_claim_unreadable_for_other_reasons():
    team = [{"sequence": 1, "provider": {"reference": "Practitioner/a"}}]
    record = _one(
        _bundle(
            _claim(careTeam=team, item=[_item(careTeamSequence=[1]), _item(sequence=2, careTeamSequence=[1, 9])]),
            _practitioner("a", "12345"),
        )
    )
    _assert_problems(
        record,
        [
            ("careTeam[1].provider", "(Practitioner/a) `12345` has 5 digits; an NPI has 10"),
            ("item[2].careTeamSequence", "careTeamSequence 9 points at no careTeam member"),
        ],
    )


def test_data_faults_leave_the_claim_readable():
    team = [
        {"sequence": 1, "provider": {"reference": "Practitioner/a"}},
        {"sequence": 2, "role": {"coding": [{"code": "referring"}]}, "provider": {"reference": "Practitioner/r"}},
    ]
    record = _one(
        _bundle(
            _claim(
                careTeam=team,
                item=[
                    _item(
                        careTeamSequence=[1],
                        diagnosisSequence=[1, 7],
                        locationCodeableConcept={"coding": [{"code": "1X"}]},
                    )
                ],
            ),
            _practitioner("a", "1234567890"),
            _practitioner("r", "12345678"),
        )
    )
    assert isinstance(record, Claim), record
    assert [(f.fault, f.field, f.line) for f in record.faults] == [
        ("diagnosis_pointer", "item[1].diagnosisSequence", 1),
        ("rendering_npi", "careTeam[1].provider", None),
        ("place_of_service", "item[1].locationCodeableConcept", 1),
        ("referring_npi", "careTeam[2].provider", None),
    ]
    assert record.lines[0].provider.npi == "1234567890"  # kept as written: still the provider the claim names
    assert record.referring_npi == "12345678"
    assert record.diagnoses_of(record.lines[0]) == record.diagnoses[:1]  # the line just has fewer diagnoses


def test_claim_fields_payer_rules_need():
    team = [{"sequence": 1, "role": {"coding": [{"code": "referring"}]}, "provider": {"reference": "Practitioner/r"}}]
    record = _one(
        _bundle(
            _claim(
                careTeam=team,
                insurance=[
                    {"sequence": 1, "focal": True, "preAuthRef": ["PA-778"], "coverage": {"reference": "Coverage/c"}}
                ],
                item=[_item(locationCodeableConcept={"coding": [{"code": "11"}]})],
            ),
            _practitioner("r", "1234567893"),
            {"resourceType": "Patient", "id": "p1", "birthDate": "1950-03-15"},
        )
    )
    assert isinstance(record, Claim) and record.faults == (), record
    assert (record.prior_authorization, record.referring_npi) == ("PA-778", "1234567893")
    assert record.patient_birth_date == datetime.date(1950, 3, 15)
    assert record.lines[0].place_of_service == "11"


# Claim id, patient, payer


def test_the_claim_id_falls_back_to_the_first_identifier():
    assert _one(_claim(id=None, identifier=[{"system": "urn:x", "value": "CLM-9"}])).id == "CLM-9"
    _assert_problems(_one(_claim(id=None)), [("id", "missing: every claim needs an id")])


@pytest.mark.parametrize(
    "claim_changes, resources, patient_id",
    [
        (
            {},
            [{"resourceType": "Patient", "id": "p1", "identifier": [{"system": "urn:mrn", "value": "MRN-1"}]}],
            "MRN-1",
        ),
        ({}, [{"resourceType": "Patient", "id": "p1"}], "p1"),
        ({}, [], "Patient/p1"),
        ({"patient": {"identifier": {"system": "urn:mrn", "value": "MRN-2"}}}, [], "MRN-2"),
    ],
)
def test_the_patient_id(claim_changes, resources, patient_id):
    assert _one(_bundle(_claim(**claim_changes), *resources)).patient_id == patient_id


def test_a_claim_without_a_patient_is_a_problem():
    _assert_problems(_one(_claim(patient=None)), [("patient", "missing: every claim needs a patient")])


@pytest.mark.parametrize(
    "insurer, payer",
    [
        ({"display": "Medicare"}, "medicare"),
        ({"display": "MEDICARE PART B"}, "medicare"),
        ({"display": "Centers for Medicare & Medicaid Services"}, "medicare"),
        ({"display": "CMS"}, "medicare"),
        ({"display": "Humana Medicare Advantage"}, None),
        ({"display": "Medicaid"}, None),
        ({"display": "Humana Inc."}, None),
        ({"reference": "Organization/o1"}, "medicare"),
        ({"reference": "Organization/o2"}, None),
    ],
)
def test_the_payer_is_medicare_only_when_the_insurer_clearly_is(insurer, payer):
    organizations = [
        {"resourceType": "Organization", "id": "o1", "name": "CMS Region 5", "alias": ["Medicare"]},
        {"resourceType": "Organization", "id": "o2", "name": "Aetna"},
    ]
    assert _one(_bundle(_claim(insurer=insurer), *organizations)).payer == payer


def test_without_an_insurer_name_the_focal_coverage_tells_medicare():
    coverage = {
        "resourceType": "Coverage",
        "id": "cov",
        "type": {"coding": [{"system": "https://nahdo.org/sopt", "code": "121"}]},
    }
    insurance = [{"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/cov"}}]
    assert (
        _one(_bundle(_claim(insurer={"reference": "Organization/none"}, insurance=insurance), coverage)).payer
        == "medicare"
    )
    # A named insurer decides: a Humana claim is not taken for Medicare because of its coverage type.
    assert _one(_bundle(_claim(insurer={"display": "Humana"}, insurance=insurance), coverage)).payer is None


# Never raise


@pytest.mark.parametrize(
    "document",
    [
        5,
        [],
        [None, 3, "x", {}],
        {"resourceType": 3},
        {"resourceType": "Bundle", "entry": [None, {"resource": []}, {"resource": {"resourceType": None}}, {}]},
        {"resourceType": "Claim"},
        {
            "resourceType": "Claim",
            "id": [],
            "identifier": "x",
            "patient": "p",
            "insurer": [],
            "provider": 5,
            "careTeam": {},
            "diagnosis": [None, {"sequence": "a"}, {"diagnosisCodeableConcept": []}],
            "insurance": "x",
            "contained": [None, {"id": 4}],
            "billablePeriod": [],
            "item": {},
        },
        {
            "resourceType": "Claim",
            "id": "x",
            "patient": {"reference": 5},
            "careTeam": [None, {"sequence": 1}],
            "item": [
                None,
                {"sequence": 0},
                {
                    "productOrService": [],
                    "modifier": {},
                    "quantity": [],
                    "servicedDate": [],
                    "servicedPeriod": "x",
                    "net": "x",
                    "diagnosisSequence": {},
                    "careTeamSequence": [None, 1, 2],
                },
                {
                    "productOrService": {"coding": [None, {"code": 5}]},
                    "modifier": [None, {"coding": "x"}, 7],
                    "quantity": {"value": float("nan")},
                    "servicedPeriod": {"start": 5, "end": []},
                    "unitPrice": {"value": float("inf")},
                    "factor": "x",
                    "careTeamSequence": [1],
                },
            ],
        },
        _bundle(
            _claim(provider={"reference": "PractitionerRole/r"}),
            {"resourceType": "PractitionerRole", "id": "r", "practitioner": "x", "code": 5, "specialty": [None]},
            {"resourceType": "Patient", "id": "p1", "identifier": [None, {"value": 5}]},
        ),
    ],
)
def test_odd_values_never_raise(document):
    records = list(read_fhir(copy.deepcopy(document), "odd.json"))
    for record in records:
        assert isinstance(record, (Claim, UnreadableClaim))
        for problem in getattr(record, "problems", ()):
            assert isinstance(problem.field, str) and problem.message


def test_a_resource_type_that_is_not_a_name_is_reported_not_raised():
    from payerpolicy.claims.fhir import read_fhir

    [record] = list(read_fhir({"resourceType": {"text": "Claim"}}, "odd.json"))
    assert record.problems
