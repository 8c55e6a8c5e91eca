"""The public sample claims (tests/samples, copied from ../shared/samples with their SOURCES.md), judged by the
shipped medicare policy as `payerpolicy check` would: how many claims are read and judged, how many cannot be
read, and which claim data faults a payer's front end would reject them for (issue 22 point 8).

Before claim data faults were findings, 20 of the 28 claims of the X12 samples came back "could not be
read", nearly all for a 9-digit NPI or a diagnosis pointer to nothing. Now only the claims that truly cannot
be read stay so: a procedure code of six digits (`478331`, imsweb) and a file whose body uses another
component separator than its ISA header declares (lfh example 11). Every expectation below was read off the
sample files by hand: the NPIs of IG examples (1234567890, 9876543210, ...) fail the NPI check digit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy.claims.fhir import read_fhir
from payerpolicy.claims.x12 import read_x12

SAMPLES = Path(__file__).parent / "samples"

# file: (claims judged, claims that cannot be read, the claim-data rules that fire in the file)
X12_OUTCOMES = {
    "imsweb_x12_complex.txt": (2, 4, {"billing-npi", "diagnosis-format", "referring-npi", "rendering-npi", "taxonomy"}),
    "imsweb_x12_valid.txt": (1, 1, {"billing-npi", "diagnosis-format"}),
    "imsweb_x12_valid_different_separators.txt": (1, 1, {"billing-npi", "diagnosis-format"}),
    "lfh_demo.ambulance.example5.837": (1, 0, {"billing-npi"}),
    "lfh_demo.autoaccident.837": (1, 0, {"billing-npi", "rendering-npi"}),
    "lfh_demo.cob.example3.A.837": (1, 0, {"billing-npi", "rendering-npi"}),
    "lfh_demo.example11_gt-separator.837": (0, 1, set()),
    "moov-io_837p_sample_97530.txt": (8, 0, {"diagnosis-pointer", "referring-npi", "rendering-npi"}),
    "staedi_sample837-original_indented.edi": (1, 0, {"billing-npi"}),
    "stupidedi_X222A1_anesthesia_MJ.edi": (1, 0, {"billing-npi", "rendering-npi"}),
    "stupidedi_X222A1_chiropractic.edi": (1, 0, {"billing-npi"}),
    "stupidedi_X222A1_commercial-health-insurance.edi": (1, 0, {"billing-npi"}),
    "stupidedi_X222A1_medicare-secondary-payer-COB.edi": (1, 0, {"billing-npi", "rendering-npi"}),
    "stupidedi_X222A1_wheelchair_3mods.edi": (1, 0, set()),
}


@pytest.fixture(scope="module")
def medicare():
    return payerpolicy.load("medicare")


def _outcome(decisions) -> tuple[int, int, set[str]]:
    judged = [d for d in decisions if d.status != "error"]
    faults = {
        f.rule.removeprefix("medicare.claim-data.") for d in judged for f in d.findings if f.family == "claim_data"
    }
    return len(judged), len(decisions) - len(judged), faults


@pytest.mark.parametrize("name", sorted(X12_OUTCOMES))
def test_each_public_837p_sample_is_judged_as_far_as_it_can_be_read(medicare, name):
    text = (SAMPLES / "x12" / name).read_text(encoding="utf-8")
    assert _outcome(list(medicare.check_many(read_x12(text, name)))) == X12_OUTCOMES[name]


def test_of_the_28_public_837p_claims_21_are_judged_and_7_cannot_be_read(medicare):
    judged = sum(outcome[0] for outcome in X12_OUTCOMES.values())
    unreadable = sum(outcome[1] for outcome in X12_OUTCOMES.values())
    assert (judged, unreadable) == (21, 7)


def test_a_claim_with_data_faults_still_gets_its_other_findings(medicare):
    """moov-io's first claim: its NPIs are faults, and its three lines of 97530 on one day are still judged."""
    name = "moov-io_837p_sample_97530.txt"
    first = next(iter(medicare.check_many(read_x12((SAMPLES / "x12" / name).read_text(encoding="utf-8"), name))))
    rules = [(f.rule, f.line) for f in first.findings]
    assert ("medicare.claim-data.rendering-npi", 1) in rules
    assert ("medicare.timed.one-line-per-code", 3) in rules and ("medicare.timed.one-line-per-code", 4) in rules
    # The fault is the payer's rejection: group CO, CARC 16 and the remark naming the field.
    npi = next(f for f in first.findings if f.rule == "medicare.claim-data.rendering-npi")
    assert (npi.kind, npi.severity, npi.reason) == ("payer_edit", "deny", {"group": "CO", "carc": "16", "rarc": "N290"})
    assert "`123456789` has 9 digits" in npi.message and "NM109 in loop 2310B" in npi.message


@pytest.mark.parametrize(
    "name, outcome",
    [
        ("fhir-r4-spec_claim-example-cms1500-medical.json", (1, 0, set())),
        ("davinci-pas-test-kit_conformant_pas_bundle_v110.json", (0, 1, set())),  # a prior-authorization request
        ("davinci-pas-test-kit_pas_claim.json", (0, 1, set())),
        ("carin-bb_ExplanationOfBenefit_ProfessionalEOBExample1.json", (0, 1, set())),  # an EOB, not a claim
    ],
)
def test_each_public_fhir_sample(medicare, name, outcome):
    document = json.loads((SAMPLES / "fhir" / name).read_text(encoding="utf-8"))
    assert _outcome(list(medicare.check_many(read_fhir(document, name)))) == outcome


def test_timed_lines_in_units_only_get_one_note_for_the_run_not_one_per_line(capsys):
    """Real 837P lines carry units, not minutes: normal input. moov-io's 8 claims bill 97530 (timed) on 10
    lines in units: no line says a word about minutes, and the run says once what was not checked."""
    from payerpolicy.cli.main import main

    main(["check", "--format", "text", str(SAMPLES / "x12" / "moov-io_837p_sample_97530.txt")])
    out = capsys.readouterr().out
    assert "minutes" not in out[: out.index("Note:")]  # no line says a word about minutes
    assert out.rstrip().endswith(
        "Note: 10 timed lines were billed in units without treatment minutes (as 837P "
        "claims are), so the 8-minute rule could not check their units; send the minutes "
        "(claim JSON `minutes` or `periods`) to have them checked."
    )
    main(["check", "--format", "text", str(SAMPLES / "x12" / "stupidedi_X222A1_wheelchair_3mods.edi")])
    assert "Note:" not in capsys.readouterr().out  # no timed line, no note
