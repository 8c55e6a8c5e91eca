"""Tests of the X12 837P reader (payerpolicy.claims.x12).

tests/samples/x12/expected.yaml holds what every sample file gives, record by record: the fields and lines of
a claim, or the problems of an unreadable one, verbatim. The two therapy files written for this project have a
twin in the claim JSON, and the medicare policy must find the same things in both: that is the issue's
acceptance check. The cases below build small 837P files from one template, to show what each kind of bad
input gives (a problem naming the element, loop and segment, never an exception) and how each decision of
the reader (MJ, RD8, payer, ICD-9, patient id, providers) plays out.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import payerpolicy
from payerpolicy.claims.model import Claim, Provider, ServiceLine, UnreadableClaim
from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.claims.x12 import patient_key, read_x12

SAMPLES = Path(__file__).parent / "samples" / "x12"
EXPECTED = yaml.safe_load((SAMPLES / "expected.yaml").read_text(encoding="utf-8"))
X12_FILES = sorted(p.name for p in SAMPLES.iterdir() if p.suffix not in (".md", ".json", ".yaml"))
THERAPY_FILES = ["therapy_pt_ot_medicare", "therapy_pt_commercial_pretty"]


def _sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def _plain(value):
    """The model as plain data, to compare with the expectations written in YAML."""
    if dataclasses.is_dataclass(value):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _problems(record) -> list[tuple[str, str]]:
    return [(problem.field, problem.message) for problem in getattr(record, "problems", ())]


# ---------------------------------------------------------------------------------------------------------
# Every sample file


def test_every_sample_file_has_its_expectation():
    assert sorted(entry["file"] for entry in EXPECTED) == X12_FILES


@pytest.mark.parametrize("entry", EXPECTED, ids=[entry["file"] for entry in EXPECTED])
def test_sample_file_reads_as_expected(entry):
    records = list(read_x12(_sample(entry["file"]), entry["file"]))
    assert len(records) == len(entry["records"])
    for record, expected in zip(records, entry["records"]):
        if "problems" in expected:
            assert isinstance(record, UnreadableClaim), f"{record.id} should be unreadable"
            assert (record.id, record.where) == (expected["id"], expected["where"])
            assert _problems(record) == [(p["field"], p["message"]) for p in expected["problems"]]
            continue
        assert isinstance(record, Claim), _problems(record)
        actual = _plain(record)
        for key, value in expected.items():
            if key == "lines":
                assert len(actual["lines"]) == len(value)
                for line, want in zip(actual["lines"], value):
                    assert {k: line[k] for k in want} == want
                    assert "provider" in want or line["provider"] is None
            else:
                assert actual[key] == value, key


@pytest.mark.parametrize("name", X12_FILES)
def test_one_record_per_claim_in_file_order(name):
    """Every CLM gives one record, in order; no sample fails as a whole file."""
    text = _sample(name)
    records = list(read_x12(text, name))
    terminator = text[text.index("ISA") + 105]
    claim_ids = [
        segment.strip().split(text[3])[1]
        for segment in text.split(terminator)
        if segment.strip().startswith("CLM" + text[3])
    ]
    assert [record.id for record in records] == claim_ids


def test_pretty_printed_file_with_other_delimiters_reads_like_a_plain_one():
    """The pretty-printed therapy file (`|`, `^`, line breaks) and the same file written plainly (`*`, `:`, `~`)."""
    pretty = _sample("therapy_pt_commercial_pretty.837")
    lines = [line.strip() for line in pretty.splitlines()]
    plain = "~".join(line.replace("|", "*").replace("^", ":") for line in lines) + "~"
    assert list(read_x12(plain, "plain")) == list(read_x12(pretty, "pretty"))


def test_the_same_content_with_different_delimiters_gives_the_same_problems():
    standard = list(read_x12(_sample("imsweb_x12_valid.txt"), "f"))
    different = list(read_x12(_sample("imsweb_x12_valid_different_separators.txt"), "f"))
    assert [[(f, m.replace("^", ":")) for f, m in _problems(r)] for r in different] == [_problems(r) for r in standard]


# ---------------------------------------------------------------------------------------------------------
# The acceptance check: an 837P and its claim JSON twin are judged alike


def _findings(policy, records) -> list[list[tuple]]:
    return [[(f.rule, f.line, f.severity, f.fix) for f in decision.findings] for decision in policy.check_many(records)]


@pytest.mark.parametrize("stem", THERAPY_FILES)
def test_x12_and_its_json_twin_give_the_same_findings(stem):
    policy = payerpolicy.load("medicare")
    from_x12 = list(read_x12(_sample(stem + ".837"), stem + ".837"))
    from_json = [claim_from_dict(claim) for claim in json.loads(_sample(stem + ".json"))]
    assert all(isinstance(record, Claim) for record in from_x12), [_problems(r) for r in from_x12]
    assert from_x12 == from_json
    assert _findings(policy, from_x12) == _findings(policy, from_json)


def test_therapy_files_raise_the_findings_they_were_written_for():
    policy = payerpolicy.load("medicare")
    denials = {
        stem: [
            [(rule, line, fix.action, fix.value) for rule, line, severity, fix in claim if severity == "deny"]
            for claim in _findings(policy, read_x12(_sample(stem + ".837"), stem))
        ]
        for stem in THERAPY_FILES
    }
    # 97112 over seed 003's 4 units a day is a practice guideline warning under Medicare (no MUE is confirmed),
    # not a denial: see test_the_97112_guideline_warns_across_claims below.
    assert denials["therapy_pt_ot_medicare"] == [
        [
            ("medicare.evaluation.manual-therapy-with-evaluation", 2, "add_modifier", "59"),
            ("medicare.modifier.cq-on-pta-services", 4, "add_modifier", "CQ"),
        ],
        [("medicare.modifier.go-on-ot-services", 3, "add_modifier", "GO")],
    ]
    assert denials["therapy_pt_commercial_pretty"] == [[("medicare.pair.97530-97116", 2, "add_modifier", "59")], []]


def test_the_97112_guideline_warns_across_claims():
    """2 units of 97112 on the first claim, 3 on the second: one patient, one day, across claims; a warning."""
    policy = payerpolicy.load("medicare")
    found = [
        [(rule, line, severity) for rule, line, severity, _ in claim if rule == "medicare.unit-cap.97112"]
        for claim in _findings(
            policy, read_x12(_sample("therapy_pt_commercial_pretty.837"), "therapy_pt_commercial_pretty")
        )
    ]
    assert found == [[], [("medicare.unit-cap.97112", 1, "warn")]]


def test_minutes_billed_as_mj_are_judged_by_the_policy():
    """97110 billed as 38 minutes (MJ) bills no units; the policy says what the minutes support."""
    policy = payerpolicy.load("medicare")
    findings = _findings(policy, read_x12(_sample("therapy_pt_commercial_pretty.837"), "f"))[1]
    assert ("medicare.timed.fewer-units-than-minutes", 2, "warn") in [f[:3] for f in findings]
    # 38 minutes are 2 full units for sure; a third depends on the minutes of the day's other timed lines,
    # billed in units without minutes here, so the sure 2 are what the fix asks for.
    assert [f[3].value for f in findings if f[:2] == ("medicare.timed.fewer-units-than-minutes", 2)] == [2]


# ---------------------------------------------------------------------------------------------------------
# Small files built from one template. Segments: ISA 1, GS 2, ST 3, BHT 4, NM1 5-6, HL 7, NM1*85 8, HL 9,
# SBR 10, NM1*IL 11, NM1*PR 12, CLM 13, HI 14, NM1*82 15, PRV 16, LX 17, SV1 18, DTP 19, SE 20, GE 21, IEA 22.

TEMPLATE = """\
ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260303*0915*^*00501*000000001*0*T*:~
GS*HC*SENDER*RECEIVER*20260303*0915*1*X*005010X222A1~
ST*837*0001*005010X222A1~
BHT*0019*00*1*20260303*0915*CH~
NM1*41*2*CLINIC*****46*S1~
NM1*40*2*PAYER*****46*P1~
HL*1**20*1~
NM1*85*2*CLINIC*****XX*1234567893~
HL*2*1*22*0~
SBR*P*18*******MB~
NM1*IL*1*DOE*JANE****MI*M123~
NM1*PR*2*MEDICARE PART B*****PI*12502~
CLM*C1*100***11:B:1*Y*A*Y*Y~
HI*ABK:I69351*ABF:R2689~
NM1*82*1*RIVERA*ANA****XX*1245319599~
PRV*PE*PXC*225100000X~
LX*1~
SV1*HC:97110:GP*100*UN*2***1:2~
DTP*472*D8*20260302~
SE*20*0001~
GE*1*1~
IEA*1*000000001~
"""
CLAIM = TEMPLATE[TEMPLATE.index("CLM*") : TEMPLATE.index("SE*")]


def _edit(*changes: tuple[str, str], text: str = TEMPLATE) -> str:
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def _one(text: str):
    records = list(read_x12(text, "test.837"))
    assert len(records) == 1, records
    return records[0]


def _claim(*changes: tuple[str, str]) -> Claim:
    record = _one(_edit(*changes))
    assert isinstance(record, Claim), _problems(record)
    return record


def test_the_template_reads():
    claim = _claim()
    assert claim == Claim(
        id="C1",
        patient_id="M123",
        payer="medicare",
        provider=Provider("1245319599", "PT"),
        diagnoses=("I69.351", "R26.89"),
        frequency="1",
        place_of_service="11",
        lines=(
            ServiceLine(
                number=1,
                code="97110",
                date_of_service=datetime.date(2026, 3, 2),
                units=2,
                modifiers=("GP",),
                charge=100.0,
                diagnosis_pointers=(1, 2),
            ),
        ),
    )


SV1 = "SV1*HC:97110:GP*100*UN*2***1:2"

BAD_CLAIMS = [
    (
        "fractional units",
        (SV1, "SV1*HC:97110:GP*100*UN*1.5***1:2"),
        [
            (
                "SV104 in loop 2400, segment 18",
                "line 1: 1.5 units is not a whole number; units are billed whole (1, 2, 3)",
            )
        ],
    ),
    (
        "fractional minutes",
        (SV1, "SV1*HC:97110:GP*100*MJ*22.5***1:2"),
        [("SV104 in loop 2400, segment 18", "line 1: 22.5 minutes is not a whole number")],
    ),
    (
        "negative units",
        (SV1, "SV1*HC:97110:GP*100*UN*-1***1:2"),
        [("SV104 in loop 2400, segment 18", "line 1: units must be a number of 0 or more; found `-1`")],
    ),
    (
        "units not a number",
        (SV1, "SV1*HC:97110:GP*100*UN*TWO***1:2"),
        [("SV104 in loop 2400, segment 18", "found `TWO`")],
    ),
    (
        "no count",
        (SV1, "SV1*HC:97110:GP*100*UN****1:2"),
        [("SV104 in loop 2400, segment 18", "missing: line 1 needs its count of units (SV104)")],
    ),
    (
        "unit basis other than UN or MJ",
        (SV1, "SV1*HC:97110:GP*100*F2*2***1:2"),
        [("SV103 in loop 2400, segment 18", "line 1: the unit basis must be UN (units) or MJ (minutes); found `F2`")],
    ),
    (
        "bad code",
        (SV1, "SV1*HC:9711:GP*100*UN*2***1:2"),
        [
            (
                "SV101-2 in loop 2400, segment 18",
                "line 1: code `9711` is not a CPT/HCPCS code (five characters: 97112, G0283)",
            )
        ],
    ),
    (
        "no code",
        (SV1, "SV1*HC*100*UN*2***1:2"),
        [("SV101-2 in loop 2400, segment 18", "the code is missing: SV101-2 is not a CPT/HCPCS code")],
    ),
    (
        "not a HCPCS composite",
        (SV1, "SV1*WK:97110*100*UN*2***1:2"),
        [
            (
                "SV101 in loop 2400, segment 18",
                "line 1: SV101 must be `HC`, the procedure code and its modifiers (HC:97110:GP); found `WK:97110`",
            )
        ],
    ),
    (
        "five modifiers",
        (SV1, "SV1*HC:97110:GP:KX:59:XU:CQ*100*UN*2***1:2"),
        [
            (
                "SV101 in loop 2400, segment 18",
                "line 1: a line may carry at most 4 modifiers (SV101-3 to SV101-6); found 5 parts after the code",
            )
        ],
    ),
    (
        "bad modifier",
        (SV1, "SV1*HC:97110:G*100*UN*2***1:2"),
        [
            (
                "SV101-3 in loop 2400, segment 18",
                "line 1: modifier `G` is not a modifier (two letters or digits: GP, 59, KX)",
            )
        ],
    ),
    (
        "negative charge",
        (SV1, "SV1*HC:97110:GP*-100*UN*2***1:2"),
        [("SV102 in loop 2400, segment 18", "the charge must be an amount of 0 or more, e.g. 120.00; found `-100`")],
    ),
    (
        "second SV1",
        (SV1 + "~", SV1 + "~\n" + SV1 + "~"),
        [("SV1 in loop 2400, segment 19", "line 1 has a second SV1; each service line (LX) has one")],
    ),
    (
        "line without SV1",
        (SV1 + "~\n", ""),
        [("LX in loop 2400, segment 17", "line 1 has no SV1 segment (the service: code, charge, units)")],
    ),
    (
        "line without a date",
        ("DTP*472*D8*20260302~\n", ""),
        [("LX in loop 2400, segment 17", "missing: line 1 needs its date of service (DTP*472)")],
    ),
    (
        "date that does not exist",
        ("D8*20260302", "D8*20260230"),
        [("DTP03 in loop 2400, segment 19", "line 1: date of service `20260230` is not a real date (CCYYMMDD)")],
    ),
    (
        "date written with dashes",
        ("D8*20260302", "D8*2026-03-02"),
        [("DTP03 in loop 2400, segment 19", "date of service `2026-03-02` is not written CCYYMMDD (e.g. 20260302)")],
    ),
    (
        "date range backwards",
        ("D8*20260302", "RD8*20260305-20260302"),
        [("DTP03 in loop 2400, segment 19", "line 1: the date range `20260305-20260302` ends before it starts")],
    ),
    (
        "date range without its end",
        ("D8*20260302", "RD8*20260302"),
        [("DTP03 in loop 2400, segment 19", "a date range (RD8) is written CCYYMMDD-CCYYMMDD; found `20260302`")],
    ),
    (
        "date and time",
        ("D8*20260302", "DT*202603020900"),
        [
            (
                "DTP02 in loop 2400, segment 19",
                "line 1: the date format must be D8 (a date) or RD8 (a range); found `DT`",
            )
        ],
    ),
    (
        "no lines",
        ("LX*1~\n" + SV1 + "~\nDTP*472*D8*20260302~\n", ""),
        [("CLM in loop 2300, segment 13", "a claim needs at least one service line (LX with SV1); this one has none")],
    ),
    (
        "SV1 before its LX",
        ("LX*1~\n", ""),
        [
            ("SV1 in loop 2300, segment 17", "SV1 stands before the LX that opens its service line (loop 2400)"),
            ("CLM in loop 2300, segment 13", "a claim needs at least one service line"),
        ],
    ),
    (
        "bad ICD-10 code",
        ("ABK:I69351", "ABK:169351"),
        [("HI01 in loop 2300, segment 14", "diagnosis `169351` is not an ICD-10-CM code")],
    ),
    (
        "unknown diagnosis qualifier",
        ("ABF:R2689", "ZZ:R2689"),
        [
            (
                "HI02 in loop 2300, segment 14",
                "diagnosis qualifier `ZZ` is not one of ABK (principal) or ABF (other) for "
                "ICD-10-CM, BK or BF for ICD-9-CM",
            )
        ],
    ),
    (
        "bad ICD-9 code",
        ("HI*ABK:I69351*ABF:R2689", "HI*BK:43*BF:78199"),
        ("D8*20260302", "D8*20150930"),
        [("HI01 in loop 2300, segment 14", "diagnosis `43` (qualifier BK) is not an ICD-9-CM code")],
    ),
    (
        "frequency code not allowed",
        ("11:B:1", "11:B:6"),
        [
            (
                "CLM05-3 in loop 2300, segment 13",
                "the claim frequency code must be 1 (original claim), 7 (replacement) or 8 (void); found `6`",
            )
        ],
    ),
    (
        "no frequency code",
        ("11:B:1", "11"),
        [
            (
                "CLM05-3 in loop 2300, segment 13",
                "missing: the claim frequency code is the third part of CLM05, after the "
                "place of service and B (11:B:1); CLM05 `11` has none",
            )
        ],
    ),
    (
        "no claim id",
        ("CLM*C1*", "CLM**"),
        [
            (
                "CLM01 in loop 2300, segment 13",
                "missing: every claim needs its claim id (CLM01, the patient control number)",
            )
        ],
    ),
    (
        "a segment that is not one",
        ("HI*ABK:I69351*ABF:R2689~\n", "HI*ABK:I69351*ABF:R2689~\n12*34~\n"),
        [
            (
                "segment 15",
                "segment `12*34` does not start with a segment id (2 or 3 capital letters or digits) followed "
                "by `*`, the element separator declared at ISA position 4",
            )
        ],
    ),
    (
        "a damaged segment id",
        ("PRV*PE*PXC*225100000X", "PRX*PE*PXC*225100000X"),
        [
            (
                "PRX, segment 16",
                "`PRX` is not a segment of an 837P claim: a damaged segment id? What it held of this claim is lost",
            )
        ],
    ),
    (
        "a damaged entity code",
        ("NM1*82*1*RIVERA", "NM1*83*1*RIVERA"),
        [
            (
                "NM101, segment 15",
                "NM101 `83` is not an entity an 837P names: a damaged segment? Whose name and id it holds is unknown",
            )
        ],
    ),
    (
        "claim id with a separator",
        ("CLM*C1*", "CLM*C:1*"),
        [
            (
                "CLM01 in loop 2300, segment 13",
                "the claim id `C:1` holds a separator of the file; a claim id is plain text",
            )
        ],
    ),
    (
        "member id shifted",
        ("DOE*JANE****MI*M123", "DOE*JANE*****MI*M123"),
        [
            (
                "NM108 in loop 2010BA, segment 11",
                "the subscriber's member id is written NM108 MI, then the id in NM109 (MI*1EG4TE5MK73); found `MI`",
            )
        ],
    ),
    (
        "no subscriber",
        (
            "HL*2*1*22*0~\nSBR*P*18*******MB~\nNM1*IL*1*DOE*JANE****MI*M123~\nNM1*PR*2*MEDICARE PART B*****PI*12502~\n",
            "",
        ),
        [
            (
                "CLM in loop 2300, segment 9",
                "missing: the claim has no subscriber above it (HL*...*22 with NM1*IL), so its patient is unknown",
            )
        ],
    ),
    (
        "subscriber without id or name",
        ("NM1*IL*1*DOE*JANE****MI*M123", "NM1*IL*1"),
        [("NM109 in loop 2010BA, segment 11", "missing: the subscriber has neither a member id (NM109) nor a name")],
    ),
]


# Faults a payer's front end rejects the claim for, but that leave its lines meaningful: the claim is read,
# with the fault recorded (kind, element, loop, segment, what is wrong), and its lines are judged.
FAULTY_CLAIMS = [
    (
        "pointer at no diagnosis",
        (SV1, "SV1*HC:97110:GP*100*UN*2***1:3"),
        [
            (
                "diagnosis_pointer",
                1,
                "SV107 in loop 2400, segment 18",
                "line 1: diagnosis pointer 3 points at no diagnosis: the claim lists only 2",
            )
        ],
    ),
    (
        "pointer out of range",
        (SV1, "SV1*HC:97110:GP*100*UN*2***13"),
        [
            (
                "diagnosis_pointer",
                1,
                "SV107 in loop 2400, segment 18",
                "line 1: diagnosis pointer `13` is not one of 1 to 12",
            )
        ],
    ),
    (
        "qualifier and code as two elements",
        ("HI*ABK:I69351*ABF:R2689", "HI*ABK*I69351*ABF:R2689"),
        [
            (
                "diagnosis_format",
                None,
                "HI01-HI02 in loop 2300, segment 14",
                "diagnosis qualifier `ABK` and code `I69351` are written as two elements; write them as one, joined by `:` "
                "(ABK:I69351)",
            )
        ],
    ),
    (
        "ICD-9 after 2015-09-30",
        ("HI*ABK:I69351*ABF:R2689", "HI*BK:4359*BF:78199"),
        [
            (
                "diagnosis_code_set",
                None,
                "HI01 in loop 2300, segment 14",
                "diagnoses `4359` (BK), `78199` (BF) are ICD-9 codes, and ICD-9 is invalid for services on or after "
                "2015-10-01: line 1 is on 2026-03-02. Code the diagnoses in ICD-10-CM (qualifiers ABK, ABF)",
            )
        ],
    ),
    (
        "ICD-9 on 2015-10-01",
        ("HI*ABK:I69351*ABF:R2689", "HI*BK:4359*BF:78199"),
        ("D8*20260302", "D8*20151001"),
        [("diagnosis_code_set", None, "HI01 in loop 2300, segment 14", "line 1 is on 2015-10-01")],
    ),
    (
        "NPI of 9 digits",
        ("XX*1245319599", "XX*124531959"),
        [
            (
                "rendering_npi",
                None,
                "NM109 in loop 2310B, segment 15",
                "the rendering provider's NPI `124531959` has 9 digits; an NPI has 10",
            )
        ],
    ),
    (
        "NPI failing its check digit",
        ("XX*1245319599", "XX*1245319598"),
        [
            (
                "rendering_npi",
                None,
                "NM109 in loop 2310B, segment 15",
                "the rendering provider's NPI `1245319598` fails the NPI check digit",
            )
        ],
    ),
    (
        "NM1 with an element too many",
        ("ANA****XX", "ANA*****XX"),
        [
            (
                "rendering_npi",
                None,
                "NM108 in loop 2310B, segment 15",
                "NM108 must be XX, saying that NM109 is the rendering provider's NPI; found none (an element too many or too "
                "few before it?)",
            )
        ],
    ),
    (
        "malformed taxonomy",
        ("PXC*225100000X", "PXC*2251"),
        [
            (
                "taxonomy",
                None,
                "PRV03 in loop 2310B, segment 16",
                "taxonomy code `2251` is not a provider taxonomy code (ten letters and digits: 225100000X for a physical "
                "therapist)",
            )
        ],
    ),
    (
        "line's NPI",
        ("DTP*472*D8*20260302~\n", "DTP*472*D8*20260302~\nNM1*82*1*CHEN*LEE****XX*198765432~\n"),
        [
            (
                "rendering_npi",
                1,
                "NM109 in loop 2420A, segment 20",
                "the NPI of the line's rendering provider `198765432` has 9 digits",
            )
        ],
    ),
    (
        "billing NPI standing for the rendering provider",
        ("NM1*82*1*RIVERA*ANA****XX*1245319599~\nPRV*PE*PXC*225100000X~\n", ""),
        ("XX*1234567893", "XX*12345"),
        [
            (
                "billing_npi",
                None,
                "NM109 in loop 2010AA, segment 8",
                "the billing provider's NPI `12345` has 5 digits; an NPI has 10 (the billing provider stands for the "
                "rendering provider: the claim names none in 2310B)",
            )
        ],
    ),
    (
        "billing NPI beside a rendering provider",
        ("XX*1234567893", "XX*1234567890"),
        [
            (
                "billing_npi",
                None,
                "NM109 in loop 2010AA, segment 8",
                "the billing provider's NPI `1234567890` fails the NPI check digit",
            )
        ],
    ),
    (
        "taxonomy without PXC",
        ("PRV*PE*PXC", "PRV*PE*ZZ"),
        [
            (
                "taxonomy",
                None,
                "PRV02 in loop 2310B, segment 16",
                "PRV02 must be PXC (a taxonomy code follows); found `ZZ`",
            )
        ],
    ),
    (
        "place of service not two digits",
        ("11:B:1", "O1:B:1"),
        [
            (
                "place_of_service",
                None,
                "CLM05-1 in loop 2300, segment 13",
                "the place of service `O1` is not a place of service code (two digits",
            )
        ],
    ),
    (
        "birth date after the service",
        ("NM1*PR*2*MEDICARE PART B*****PI*12502~\n", "DMG*D8*20270101*F~\nNM1*PR*2*MEDICARE PART B*****PI*12502~\n"),
        [
            (
                "patient_birth_date",
                None,
                "DMG02 in loop 2010BA, segment 12",
                "the patient's date of birth 2027-01-01 is after line 1's date of service 2026-03-02",
            )
        ],
    ),
    (
        "date treatment began after the service",
        ("HI*ABK", "DTP*454*D8*20260310~\nHI*ABK"),
        [
            (
                "date_treatment_began",
                None,
                "DTP03 in loop 2300, segment 14",
                "the date treatment began 2026-03-10 is after line 1's date of service 2026-03-02",
            )
        ],
    ),
]


@pytest.mark.parametrize("case", FAULTY_CLAIMS, ids=[case[0] for case in FAULTY_CLAIMS])
def test_a_data_fault_is_recorded_and_the_claim_read(case):
    *changes, expected = case[1:]
    record = _one(_edit(*changes))
    assert isinstance(record, Claim), _problems(record)
    assert len(record.faults) == len(expected), record.faults
    for fault, (kind, line, field, fragment) in zip(record.faults, expected):
        assert (fault.fault, fault.line, fault.field) == (kind, line, field)
        assert fragment in fault.message


def test_a_pointer_to_no_diagnosis_leaves_the_line_its_other_diagnoses():
    claim = _claim((SV1, "SV1*HC:97110:GP*100*UN*2***2:3"))
    assert claim.diagnoses_of(claim.lines[0]) == ("R26.89",)
    only_dangling = _claim((SV1, "SV1*HC:97110:GP*100*UN*2***3"))
    assert only_dangling.diagnoses_of(only_dangling.lines[0]) == ()


def test_a_claim_unreadable_for_other_reasons_lists_its_faults_too():
    record = _one(_edit(("XX*1245319599", "XX*124531959"), ("HC:97110", "HC:9711")))
    assert isinstance(record, UnreadableClaim)
    assert [field for field, _ in _problems(record)] == [
        "SV101-2 in loop 2400, segment 18",
        "NM109 in loop 2310B, segment 15",
    ]


def test_claim_fields_payer_rules_need():
    claim = _claim(
        ("CLM*C1*100***11:B:1*Y*A*Y*Y~\n", "CLM*C1*100***11:B:1*Y*A*Y*Y~\nDTP*454*D8*20260201~\nREF*G1*PA-778~\n"),
        ("HI*ABK:I69351*ABF:R2689~\n", "HI*ABK:I69351*ABF:R2689~\nNM1*DN*1*WELBY*MARCUS****XX*1234567893~\n"),
        ("NM1*PR*2", "DMG*D8*19500315*F~\nNM1*PR*2"),
        (SV1, "SV1*HC:97110:GP*100*UN*2*22**1:2"),
        ("DTP*472*D8*20260302~\n", "DTP*472*D8*20260302~\nREF*G1*PA-999~\n"),
    )
    assert claim.faults == ()
    assert (claim.place_of_service, claim.prior_authorization, claim.referring_npi) == ("11", "PA-778", "1234567893")
    assert (claim.patient_birth_date, claim.treatment_began) == (datetime.date(1950, 3, 15), datetime.date(2026, 2, 1))
    line = claim.lines[0]
    assert (line.place_of_service, line.prior_authorization) == ("22", "PA-999")
    assert claim.place_of_service_of(line) == "22"


def test_the_primary_care_provider_is_the_certifier_when_no_referring_provider_is_named():
    claim = _claim(
        ("HI*ABK:I69351*ABF:R2689~\n", "HI*ABK:I69351*ABF:R2689~\nNM1*P3*1*WELBY*MARCUS****XX*1245319599~\n")
    )
    assert claim.referring_npi == "1245319599"


@pytest.mark.parametrize("case", BAD_CLAIMS, ids=[case[0] for case in BAD_CLAIMS])
def test_bad_claim_names_element_loop_and_segment(case):
    *changes, expected = case[1:]
    text = _edit(*changes)
    record = _one(text)
    assert isinstance(record, UnreadableClaim)
    clm = next(number for number, segment in enumerate(text.split("~\n"), 1) if segment.startswith("CLM"))
    assert record.where == f"test.837 segment {clm}"
    found = _problems(record)
    remaining = list(found)
    for field, fragment in expected:
        match = next((item for item in remaining if item[0] == field and fragment in item[1]), None)
        assert match is not None, f"no problem on {field!r} saying {fragment!r}; found {found}"
        remaining.remove(match)
    assert not remaining, f"problems not expected: {remaining}"


def test_unreadable_claim_keeps_id_payer_and_patient():
    record = _one(_edit((SV1, "SV1*HC:9711:GP*100*UN*2***1:2")))
    assert (record.id, record.payer, record.patient_id) == ("C1", "medicare", "M123")


# -- what a good line becomes


@pytest.mark.parametrize(
    "sv1, code, modifiers, units, minutes",
    [
        ("SV1*hc:97110:gp*100*UN*2***1:2", "97110", ("GP",), 2, None),
        ("SV1*HC:97110::GP*100*UN*2***1:2", "97110", ("GP",), 2, None),  # an empty modifier slot
        ("SV1*HC:97110:GP:KX:59:XU:THERAPEUTIC EXERCISE*100*UN*2***1:2", "97110", ("GP", "KX", "59", "XU"), 2, None),
        ("SV1*HC:97110:GP*100*UN*2.00***1:2", "97110", ("GP",), 2, None),
        ("SV1*HC:97110:GP*100*UN*0***1:2", "97110", ("GP",), 0, None),
        # MJ: the count is minutes; no units were billed.
        ("SV1*HC:97110:GP*100*MJ*38***1:2", "97110", ("GP",), 0, 38),
        ("SV1*HC:G0283:GP*100*UN*1***1:2", "G0283", ("GP",), 1, None),
    ],
)
def test_good_line(sv1, code, modifiers, units, minutes):
    line = _claim((SV1, sv1)).lines[0]
    assert (line.code, line.modifiers, line.units, line.minutes) == (code, modifiers, units, minutes)


def test_date_range_dates_the_line_on_its_first_day():
    line = _claim(("D8*20260302", "RD8*20260302-20260306")).lines[0]
    assert line.date_of_service == datetime.date(2026, 3, 2)


def test_no_charge_and_no_pointers_are_allowed():
    line = _claim((SV1, "SV1*HC:97110:GP**UN*2")).lines[0]
    assert (line.charge, line.diagnosis_pointers) == (None, ())


@pytest.mark.parametrize(
    "hi, diagnoses",
    [
        ("HI*ABK:I69351*ABF:R2689", ("I69.351", "R26.89")),
        ("HI*ABK:I69.351*ABF:r2689", ("I69.351", "R26.89")),  # a dot and lower case, against the guide, still read
        ("HI*ABK:R52*ABF:R2689", ("R52", "R26.89")),
        ("HI*ABK:I69351*BG:01*ABF:R2689", ("I69.351", "R26.89")),  # a condition code is not a diagnosis
        ("HI*ABK:I69351~\nHI*ABF:R2689", ("I69.351", "R26.89")),
    ],
)
def test_diagnoses(hi, diagnoses):
    assert _claim(("HI*ABK:I69351*ABF:R2689", hi)).diagnoses == diagnoses


def test_icd9_before_icd10_began_is_kept_without_a_dot():
    claim = _claim(("HI*ABK:I69351*ABF:R2689", "HI*BK:4359*BF:V5789"), ("D8*20260302", "D8*20150930"))
    assert claim.diagnoses == ("4359", "V5789")


def test_frequency_code():
    assert _claim(("11:B:1", "11:B:7")).frequency == "7"


# -- providers


@pytest.mark.parametrize(
    "taxonomy, kind",
    [
        ("225100000X", "PT"),
        ("2251X0800X", "PT"),
        ("225200000X", "PTA"),
        ("225X00000X", "OT"),
        ("225XH1200X", "OT"),
        ("224Z00000X", "OTA"),
        ("235Z00000X", "SLP"),
        ("111N00000X", "DC"),
        ("363L00000X", "NP"),
        ("363A00000X", "PA"),
        ("207Q00000X", None),  # a physician: MD or DO, the taxonomy does not say
        ("261QR0400X", None),  # a rehabilitation clinic: no provider type of ours
    ],
)
def test_taxonomy_gives_the_provider_type(taxonomy, kind):
    assert _claim(("PXC*225100000X", "PXC*" + taxonomy)).provider == Provider("1245319599", kind)


def test_line_provider_from_2420a():
    claim = _claim(
        (
            "DTP*472*D8*20260302~\n",
            "DTP*472*D8*20260302~\nNM1*82*1*CHEN*LEE****XX*1987654328~\nPRV*PE*PXC*225200000X~\n",
        )
    )
    assert claim.lines[0].provider == Provider("1987654328", "PTA")
    assert claim.provider_of(claim.lines[0]) == Provider("1987654328", "PTA")


def test_without_2310b_the_billing_provider_renders():
    no_2310b = ("NM1*82*1*RIVERA*ANA****XX*1245319599~\nPRV*PE*PXC*225100000X~\n", "")
    assert _claim(no_2310b).provider == Provider("1234567893", None)
    with_taxonomy = ("HL*1**20*1~\n", "HL*1**20*1~\nPRV*BI*PXC*225X00000X~\n")
    assert _claim(no_2310b, with_taxonomy).provider == Provider("1234567893", "OT")


def test_other_payers_loops_do_not_change_the_claim():
    """2320/2330: another subscriber (NM1*IL), payer (NM1*PR) and rendering provider (NM1*82, 2330D)."""
    cob = (
        "SBR*S*01*******CI~\nOI***Y*P**Y~\nNM1*IL*1*DOE*JOHN****MI*OTHER1~\nNM1*PR*2*OTHER PAYER*****PI*999~\n"
        "NM1*82*1~\nREF*G2*X1~\n"
    )
    claim = _claim(("LX*1~\n", cob + "LX*1~\n"))
    assert (claim.patient_id, claim.payer, claim.provider) == ("M123", "medicare", Provider("1245319599", "PT"))


def test_adjudication_loop_does_not_date_the_line():
    adjudication = "SVD*43*55*HC:97110:GP**2~\nDTP*573*D8*20260401~\n"
    claim = _claim(("DTP*472*D8*20260302~\n", "DTP*472*D8*20260302~\n" + adjudication))
    assert claim.lines[0].date_of_service == datetime.date(2026, 3, 2)


# -- payer and patient


@pytest.mark.parametrize(
    "indicator, name, payer",
    [
        ("MB", "MEDICARE PART B", "medicare"),
        ("MB", "ABC PAYER", "medicare"),  # the claim filing indicator says Medicare Part B
        ("MA", "NORIDIAN", "medicare"),
        ("CI", "MEDICARE PART B MARYLAND", "medicare"),
        ("16", "ACME MEDICARE ADVANTAGE", None),  # a Medicare HMO: a private plan with policies of its own
        ("CI", "BLUE CROSS", None),
        ("CI", "MEDICAREBLUE", None),
    ],
)
def test_payer(indicator, name, payer):
    claim = _claim(("SBR*P*18*******MB", "SBR*P*18*******" + indicator), ("MEDICARE PART B", name))
    assert claim.payer == payer


def test_patient_without_member_id_is_named():
    claim = _claim(("NM1*IL*1*DOE*JANE****MI*M123~\n", "NM1*IL*1*DOE*JANE~\nDMG*D8*19480312*F~\n"))
    assert claim.patient_id == patient_key(None, "DOE, JANE", "1948-03-12")


def test_patient_below_the_subscriber():
    patient = "HL*3*2*23*0~\nPAT*19~\nNM1*QC*1*DOE*TIM~\nDMG*D8*20150601*M~\n"
    dependent = ("NM1*PR*2*MEDICARE PART B*****PI*12502~\n", "NM1*PR*2*MEDICARE PART B*****PI*12502~\n" + patient)
    assert _claim(dependent).patient_id == patient_key("M123", "DOE, TIM", "2015-06-01")


def test_two_dependents_on_one_policy_are_two_patients():
    second = CLAIM.replace("CLM*C1", "CLM*C2")
    text = _edit(
        ("CLM*C1", "HL*3*2*23*0~\nNM1*QC*1*DOE*TIM~\nCLM*C1"),
        ("SE*", "HL*4*2*23*0~\nNM1*QC*1*DOE*ANN~\n" + second + "SE*"),
    )
    patients = [record.patient_id for record in read_x12(text, "f")]
    assert patients == [patient_key("M123", "DOE, TIM", ""), patient_key("M123", "DOE, ANN", "")]
    assert patients[0] != patients[1] and not any("DOE" in p for p in patients)  # no name in clear


def test_the_patient_key_follows_the_users_secret(monkeypatch):
    default = patient_key(None, "DOE, JANE", "1948-03-12")
    monkeypatch.setenv("PAYERPOLICY_PATIENT_KEY", "our own secret")
    assert patient_key(None, "DOE, JANE", "1948-03-12") not in (default, "DOE, JANE / 1948-03-12")


# ---------------------------------------------------------------------------------------------------------
# Files: envelope, delimiters, one bad claim among good ones


def test_a_bad_claim_does_not_stop_the_rest():
    bad = CLAIM.replace("CLM*C1", "CLM*C2").replace("HC:97110", "HC:9711")
    good = CLAIM.replace("CLM*C1", "CLM*C3")
    records = list(read_x12(_edit(("SE*", bad + good + "SE*")), "f"))
    assert [(type(r).__name__, r.id) for r in records] == [("Claim", "C1"), ("UnreadableClaim", "C2"), ("Claim", "C3")]


FILE_PROBLEMS = [
    (
        "empty file",
        "",
        "ISA",
        "test.837 is not an X12 file: an 837P starts with the ISA interchange header (`ISA*00*...`); it is empty",
    ),
    ("JSON, not X12", '{"id": "C-1"}', "ISA", 'it starts with `{"id": "C-1"}`'),
    (
        "ISA cut short",
        TEMPLATE[:60],
        "ISA, segment 1",
        "the ISA header is cut short: it needs 16 elements separated by `*`, then the segment terminator",
    ),
    (
        "letter as element separator",
        "ISAX00X",
        "ISA, segment 1",
        "the character after `ISA` must be the element separator (such as `*`); found `X`",
    ),
    (
        "component separator = element separator",
        TEMPLATE.replace("*T*:~", "*T**~", 1),
        "ISA, segment 1",
        "the element separator (ISA position 4) and the component separator (ISA16) are both `*`",
    ),
    (
        "component separator = repetition separator",
        TEMPLATE.replace("*T*:~", "*T*^~", 1),
        "ISA, segment 1",
        "the component separator (ISA16) and the repetition separator (ISA11) are both `^`",
    ),
    (
        "letter as segment terminator",
        TEMPLATE.replace("*T*:~", "*T*:A", 1),
        "ISA16, segment 1",
        "the character after ISA16 must be the segment terminator (such as `~` or a line break); found `A`",
    ),
    (
        "4010 837",
        _edit(("005010X222A1~\nST", "004010X098A1~\nST")),
        "GS08, segment 2",
        "GS08 `004010X098A1`: it is the 4010 version of the 837, replaced by 5010 (005010X222A1) in 2012",
    ),
    (
        "837I",
        _edit(("005010X222A1~\nST", "005010X223A2~\nST")),
        "GS08, segment 2",
        "GS08 `005010X223A2`: it holds institutional claims (837I); this reader takes professional claims (837P)",
    ),
    (
        "835, not 837",
        _edit(("ST*837", "ST*835")),
        "ST, segment 3",
        "ST01 `835` is not 837: this transaction set holds no health care claims",
    ),
    (
        "no ST",
        _edit(("ST*837*0001*005010X222A1~\n", "")),
        "BHT, segment 3",
        "BHT stands outside a transaction set (ST ... SE)",
    ),
    # The body contradicts the ISA header: another element separator, another segment terminator.
    (
        "body uses another element separator",
        TEMPLATE[:106] + TEMPLATE[106:].replace("*", "|"),
        "segment 2",
        "segment `GS|HC|SENDER|RECEIVER|20260303|0915|1|X|...` does not start with a segment id (2 or 3 capital "
        "letters or digits) followed by `*`, the element separator declared at ISA position 4; it seems to use `|`: "
        "the file's body contradicts its ISA header",
    ),
    (
        "body uses another segment terminator",
        TEMPLATE[:106] + TEMPLATE[106:].replace("~", ""),
        "segment 2",
        "ends with a line break instead of `~`, the segment terminator declared after ISA16",
    ),
    (
        "ISA declares line breaks, body uses tildes",
        TEMPLATE.replace("*:~", "*:", 1),
        "GS08, segment 2",
        "GS08 `005010X222A1~`: it ends with `~`: if the file ends its segments with `~`, the ISA header must say so",
    ),
]


LEVEL_PROBLEMS = [
    (
        "unknown HL level",
        _edit(("HL*1**20*1", "HL*1**19*1")),
        "HL, segment 7",
        "HL03 `19` is not a level of an 837P (20 billing provider, 22 subscriber, 23 patient)",
    ),
    (
        "a damaged segment id before the claim",
        _edit(("CLM*C1", "CL*C1")),
        "CL, segment 13",
        "`CL` is not a segment an 837P holds here, before a claim (CLM): a damaged or lost segment? The claims of "
        "this level cannot be placed; reading goes on at the next level (HL)",
    ),
    (
        "a damaged entity code before the claim",
        _edit(("NM1*IL", "NM1*IK")),
        "NM1, segment 11",
        "NM101 `IK` is not an entity an 837P names",
    ),
]


@pytest.mark.parametrize("name, text, field, message", LEVEL_PROBLEMS, ids=[case[0] for case in LEVEL_PROBLEMS])
def test_a_broken_level_spoils_its_claim_only(name, text, field, message):
    record = _one(text)  # the claim under the broken level: still one record for it
    assert isinstance(record, UnreadableClaim)
    assert record.problems[0].field == field
    assert message in record.problems[0].message


def test_reading_goes_on_at_the_next_level_after_a_broken_one():
    sample = (SAMPLES / "moov-io_837p_sample_97530.txt").read_text()
    sound = list(read_x12(sample, "f"))
    for broken in (sample.replace("NM1*IL", "NM1*LI", 1), sample.replace("*2*1*22*", "*2*1*99*", 1)):
        records = list(read_x12(broken, "f"))
        assert len(records) == len(sound) == 8
        assert isinstance(records[0], UnreadableClaim) and records[0].id == sound[0].id
        assert records[1:] == sound[1:]


@pytest.mark.parametrize("name, text, field, message", FILE_PROBLEMS, ids=[case[0] for case in FILE_PROBLEMS])
def test_file_that_cannot_be_read_gives_one_record(name, text, field, message):
    record = _one(text)
    assert isinstance(record, UnreadableClaim) and record.id is None
    assert record.problems[0].field == field
    assert message in record.problems[0].message


@pytest.mark.parametrize(
    "change, field, message",
    [
        (
            ("IEA*1*000000001~\n", "IEA*1*000000001~\nGS*HC*A*B*20260303*0915*2*X*005010X222A1~\n"),
            "GS, segment 23",
            "GS opens a functional group inside another, or outside an interchange (ISA ... IEA)",
        ),
        (
            ("GE*1*1~\n", ""),
            "IEA, segment 21",
            "IEA closes the interchange, but none is open, or its functional group has no GE",
        ),
    ],
)
def test_claims_before_a_broken_envelope_are_kept(change, field, message):
    claim, broken = list(read_x12(_edit(change), "f"))
    assert isinstance(claim, Claim)
    segment = field.rsplit(" ", 1)[1]
    assert (_problems(broken), broken.where) == ([(field, message)], f"f segment {segment}")


def test_file_cut_inside_a_claim():
    text = TEMPLATE[: TEMPLATE.index("*UN*2")]
    record = _one(text)
    assert isinstance(record, UnreadableClaim) and record.id == "C1"
    assert _problems(record)[-1] == (
        "SV1, segment 18",
        "the file ends at segment 18 (SV1), inside this claim, without the SE that closes its "
        "transaction set: the file is cut short, and the claim may have lost lines or part of its "
        "last segment",
    )


def test_file_cut_between_claims():
    text = TEMPLATE[: TEMPLATE.index("GE*")]
    claim, cut = list(read_x12(text, "f"))
    assert isinstance(claim, Claim)
    assert _problems(cut) == [
        (
            "SE, segment 20",
            "the file ends at segment 20 (SE) without the GE and IEA that close "
            "it: it is cut short, and claims after this point may be missing",
        )
    ]


@pytest.mark.parametrize(
    "text",
    [
        TEMPLATE.rstrip("~\n"),  # no terminator after IEA
        "\ufeff\n\n" + TEMPLATE,  # a byte order mark and blank lines first
        TEMPLATE.replace("\n", "\r\n"),
        TEMPLATE.replace("~\n", "~"),  # one line
        TEMPLATE.replace("~\n", "\n"),  # line breaks as terminators
        TEMPLATE.replace("SENDER         ", "SENDER").replace("RECEIVER       ", "RECEIVER"),  # ISA without padding
        TEMPLATE + TEMPLATE.replace("CLM*C1", "CLM*C2"),  # two interchanges in one file
        _edit(("005010X222A1~\nST", "005010X222A2~\nST")),
        _edit(("005010X222A1~\nST", "005010X222~\nST")),
        TEMPLATE.replace("*^*00501", "*U*00401"),  # ISA11 before 5010: no repetition separator
    ],
)
def test_file_variants_read(text):
    records = list(read_x12(text, "f"))
    assert records and all(isinstance(record, Claim) for record in records), [_problems(r) for r in records]


# ---------------------------------------------------------------------------------------------------------
# Robustness: no input makes the reader raise


@pytest.mark.parametrize(
    "name", ["therapy_pt_ot_medicare.837", "imsweb_x12_complex.txt", "staedi_sample837-original_indented.edi"]
)
def test_a_file_cut_anywhere_gives_records_not_exceptions(name):
    text = _sample(name)
    for end in range(len(text) + 1):
        records = list(read_x12(text[:end], name))
        assert 1 <= len(records) <= text.count("CLM") + 1
        assert all(isinstance(record, (Claim, UnreadableClaim)) for record in records)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(TEMPLATE) - 1), st.sampled_from("*:~^\n|>01A.- ")), max_size=6))
def test_a_file_with_characters_changed_gives_records_not_exceptions(changes):
    text = list(TEMPLATE)
    for position, char in changes:
        text[position] = char
    records = list(read_x12("".join(text), "f"))
    assert records and all(isinstance(record, (Claim, UnreadableClaim)) for record in records)


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_a_file_read_in_chunks_reads_as_the_whole_text(monkeypatch, chunk):
    """Streamed, the segments may break at any character between chunks: the records are the same."""
    import io

    import payerpolicy.claims.x12 as x12

    monkeypatch.setattr(x12, "_CHUNK", chunk)
    for name in X12_FILES:
        text = _sample(name)
        assert list(read_x12(io.StringIO(text), name)) == list(read_x12(text, name)), name
    damaged = "ISA*00*          *00*          *ZZ*S*ZZ*R*260101*1200*^*00501*000000001*0*P*:~\nGS*HC~ST*837~CLM"
    assert list(read_x12(io.StringIO(damaged), "d")) == list(read_x12(damaged, "d"))


def test_a_claim_file_on_disk_is_streamed_not_read_whole(tmp_path, monkeypatch):
    import payerpolicy.claims.formats as formats

    monkeypatch.setattr(formats, "_read_whole", lambda *a: pytest.fail("an 837P file was read whole"))
    name = "moov-io_837p_sample_97530.txt"
    (tmp_path / name).write_bytes((SAMPLES / name).read_bytes())
    streamed = list(formats.read_claim_file(tmp_path / name))
    assert streamed and streamed == list(read_x12(_sample(name), str(tmp_path / name)))


# ---------------------------------------------------------------------------------------------------------
# Line breaks where a segment terminator was lost, or inside a CLM: the reader resynchronises


def _clm_starts(text: str) -> list[int]:
    """Where each CLM segment starts in a sound file (after a terminator and any line break or indent)."""
    element, terminator = text[3], text[105]
    return [m.start() for m in re.finditer(rf"(?<=[{re.escape(terminator)}\s])CLM{re.escape(element)}", text)]


def _damaged(text: str) -> list[tuple[str, int, str]]:
    """Each CLM of a sample damaged two ways: the terminator before it lost (its line break kept, or one put
    in its place), and a line break inside the CLM itself."""
    out = []
    for number, start in enumerate(_clm_starts(text)):
        end = start
        while text[end - 1].isspace():
            end -= 1
        if text[end - 1] == text[105]:
            out.append(("terminator lost", number, text[: end - 1] + ("\n" if end == start else "") + text[end:]))
        out.append(("line break in CLM", number, text[: start + 6] + "\n" + text[start + 6 :]))
    return out


@pytest.mark.parametrize("name", [name for name in X12_FILES if len(_clm_starts(_sample(name))) > 1])
def test_a_lost_terminator_or_a_broken_clm_spoils_one_claim_only(name):
    text = _sample(name)
    sound = list(read_x12(text, "f"))
    assert len(sound) == len(_clm_starts(text))
    for how, number, damaged in _damaged(text):
        records = list(read_x12(damaged, "f"))
        # One record per CLM, in order: the next claim is never taken into the damaged segment.
        assert len(records) == len(sound), (how, number)
        # The damaged segment belongs to this claim (its CLM), to the one before it (its last segment), or to
        # the level above this claim (a subscriber's DMG): then the claims of that level, and no others, are
        # spoiled, each naming that one segment first.
        spoiled = [index for index, (before, after) in enumerate(zip(sound, records)) if after != before]
        assert spoiled and spoiled[0] in (number - 1, number), (how, number, spoiled)
        assert spoiled == list(range(spoiled[0], spoiled[-1] + 1))
        assert all(isinstance(records[index], UnreadableClaim) for index in spoiled)
        assert len({records[index].problems[0] for index in spoiled}) == 1, (how, number)
        if how == "terminator lost":  # the claim's own CLM is whole: its id is read
            assert records[number].id == sound[number].id


def test_the_damaged_segment_is_named_and_the_next_claim_read():
    text = _sample("imsweb_x12_complex.txt")
    sound = list(read_x12(text, "f"))
    start = _clm_starts(text)[2]
    lost = text[: start - 2] + text[start - 1 :]  # `~\n` before the third CLM becomes `\n`
    records = list(read_x12(lost, "f"))
    assert [r.id for r in records] == [r.id for r in sound]
    problem = records[1].problems[0]
    assert problem.field.startswith("segment ")
    assert problem.message.startswith("segment `") and "ends with a line break instead of `~`" in problem.message
    assert "the next segment is read from the next line" in problem.message
    assert records[2] == sound[2]


def test_a_clm_broken_over_a_line_break_is_its_own_error_only():
    text = _sample("therapy_pt_ot_medicare.837")
    sound = list(read_x12(text, "f"))
    start = _clm_starts(text)[0]
    records = list(read_x12(text[: start + 7] + "\n" + text[start + 7 :], "f"))
    assert len(records) == 2 and isinstance(records[0], UnreadableClaim)
    assert records[0].problems[0].field.startswith("CLM in loop 2300, segment ")
    assert "runs over a line break" in records[0].problems[0].message
    assert records[1] == sound[1]  # before: the broken CLM spoiled the level, and the next claim with it


@pytest.mark.parametrize("clm", ["CLM~", "CLM*X~", "CLM**{id}**505***11:B:1*Y*A*Y*Y~"])
def test_a_clm_with_elements_missing_or_shifted_is_its_own_error_only(clm):
    text = _sample("therapy_pt_ot_medicare.837")
    sound = list(read_x12(text, "f"))
    first = re.search(r"CLM\*([^*~]*)[^~]*~", text)
    records = list(read_x12(text.replace(first[0], clm.format(id=first[1])), "f"))
    assert len(records) == 2 and isinstance(records[0], UnreadableClaim)
    assert any("CLM" in problem.field for problem in records[0].problems)
    assert records[1] == sound[1]
