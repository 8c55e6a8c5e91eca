"""Output formats of `payerpolicy check`: CSV, one row per finding; the X12 835 view of denied lines."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from payerpolicy.cli.main import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "claims.json"

CLAIM = {
    "id": "R-1",
    "patient": {"id": "P-1"},
    "referring_npi": "1245319599",
    "provider": {"type": "PT"},
    "diagnoses": ["I69.351"],
    "lines": [
        {"code": "97112", "modifiers": ["GP"], "units": 5, "minutes": 75, "date": "2026-03-02", "charge": 250.0},
        {"code": "97110", "units": 1, "minutes": 15, "date": "2026-03-02", "charge": 45.5},
        {"code": "97140", "modifiers": ["GP"], "units": 1, "minutes": 15, "date": "2026-03-02", "charge": 40.0},
    ],
}


def run(capsys, tmp_path, *args, claims=(CLAIM,)):
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(list(claims)))
    code = main(["check", str(path), *args])
    return code, capsys.readouterr().out


# Medicare's 97112 figure is a guideline warning; the fictional commercial plan denies past 3 units a day, which
# shows an adjusted line.
PLAN = ("--payer", "example-commercial")


def test_csv_has_one_row_per_finding(capsys, tmp_path):
    code, out = run(capsys, tmp_path, "--format", "csv", *PLAN)
    assert code == 1
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["line"], r["rule"]) for r in rows] == [
        ("1", "example-commercial.unit-cap.97112"),
        ("2", "medicare.modifier.gp-on-pt-services"),
    ]
    cap = rows[0]
    assert (cap["claim"], cap["claim_status"], cap["code"], cap["severity"]) == ("R-1", "denied", "97112", "deny")
    assert (cap["group"], cap["carc"], cap["rarc"]) == ("CO", "151", "N362")
    assert (cap["fix_action"], cap["fix_value"]) == ("set_units", "3")
    assert cap["source_file"] == "policies/example-commercial/policy.yaml"


def test_csv_reports_an_unreadable_claim_as_a_row(capsys, tmp_path):
    bad = dict(CLAIM, id="R-2", lines=[dict(CLAIM["lines"][0], units=1.5)])
    _, out = run(capsys, tmp_path, "--format", "csv", claims=[bad])
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert (row["claim"], row["claim_status"], row["severity"]) == ("R-2", "error", "error")
    assert row["message"].startswith("lines[1].units: ")


def test_835_view_of_denied_and_adjusted_lines(capsys, tmp_path):
    code, out = run(capsys, tmp_path, "--format", "835", *PLAN)
    assert code == 1
    assert out.splitlines() == [
        "CLP*R-1*1*335.5**~",  # partly denied; the claim's total charge
        "SVC*HC:97112:GP*250***3**5~",  # 3 of 5 units allowed
        "CAS*CO*151*100~",  # two fifths of the charge taken off
        "LQ*HE*N362~",
        "SVC*HC:97110*45.5***0**1~",  # denied for the missing GP
        "CAS*CO*4*45.5~",
    ]


def test_835_view_leaves_amounts_out_when_charges_are_unknown(capsys, tmp_path):
    claim = dict(CLAIM, lines=[{k: v for k, v in CLAIM["lines"][1].items() if k != "charge"}])
    _, out = run(capsys, tmp_path, "--format", "835", claims=[claim])
    assert out.splitlines() == ["CLP*R-1*4***~", "SVC*HC:97110****0**1~", "CAS*CO*4*~"]


def test_accepted_claims_have_no_835_segments(capsys, tmp_path):
    ok = dict(CLAIM, lines=[CLAIM["lines"][2]])
    code, out = run(capsys, tmp_path, "--format", "835", claims=[ok])
    assert code == 0 and out == ""


# A PT assistant's line without CQ (compliance: the payer never sees who furnished it) beside a line a payer
# edit denies (97110 without GP) and a unit the minutes do not support (compliance).
KINDS_CLAIM = {
    "id": "K-1",
    "patient": {"id": "P-9"},
    "provider": {"type": "PT"},
    "diagnoses": ["I69.351"],
    "lines": [
        {"code": "97110", "units": 1, "minutes": 15, "date": "2026-03-02", "charge": 45.0},
        {
            "code": "97112",
            "modifiers": ["GP"],
            "units": 2,
            "minutes": 15,
            "date": "2026-03-02",
            "charge": 90.0,
            "provider": {"type": "PTA"},
        },
    ],
}


def test_every_finding_says_its_kind_and_only_payer_edits_carry_codes(capsys, tmp_path):
    _, out = run(capsys, tmp_path, "--format", "json", claims=[KINDS_CLAIM])
    findings = {(f["rule"], f["line"]): f for f in json.loads(out)["claims"][0]["findings"]}
    gp = findings[("medicare.modifier.gp-on-pt-services", 1)]
    assert gp["kind"] == "payer_edit" and gp["reason"] == {"group": "CO", "carc": "4"}
    for key in (("medicare.modifier.cq-on-pta-services", 2), ("medicare.timed.more-units-than-minutes", 2)):
        assert findings[key]["kind"] == "compliance" and findings[key]["reason"] == {}, key


def test_csv_has_a_kind_column(capsys, tmp_path):
    _, out = run(capsys, tmp_path, "--format", "csv", claims=[KINDS_CLAIM])
    rows = {(r["line"], r["rule"]): r for r in csv.DictReader(io.StringIO(out))}
    assert rows[("1", "medicare.modifier.gp-on-pt-services")]["kind"] == "payer_edit"
    cq = rows[("2", "medicare.modifier.cq-on-pta-services")]
    assert (cq["kind"], cq["group"], cq["carc"]) == ("compliance", "", "")


def test_835_view_carries_payer_edits_only(capsys, tmp_path):
    _, out = run(capsys, tmp_path, "--format", "835", claims=[KINDS_CLAIM])
    # Line 2 is held back only by compliance findings: no remittance would report it.
    assert "SVC*HC:97110*45***0**1~" in out and "CAS*CO*4*45~" in out
    assert "97112" not in out and "CAS**" not in out


def test_text_labels_each_finding_and_says_when_only_compliance_holds_a_claim(capsys, tmp_path):
    _, out = run(capsys, tmp_path, "--format", "text", claims=[KINDS_CLAIM])
    assert "DENY  [payer edit] 97110 by a physical therapist" in out
    assert "DENY  [compliance] 97112 furnished by a physical therapist assistant needs modifier CQ" in out
    assert "no payer code: the payer cannot see this on the claim" in out
    only_compliance = dict(KINDS_CLAIM, id="K-2", lines=KINDS_CLAIM["lines"][1:])
    _, out = run(capsys, tmp_path, "--format", "text", claims=[only_compliance])
    assert "Claim K-2  [medicare 2026.1]: DENIED (fix before sending: the payer would not see the problem" in out


def test_text_output_shows_claim_text_escaped_and_cut():
    import payerpolicy
    from payerpolicy.render.text import render_claim

    hostile = {
        "id": "C-\x1b[31mRED\u2028\x07",
        "patient": {"id": "P-1"},
        "provider": {"type": "PT"},
        "lines": [{"code": "97110", "modifiers": ["GP"], "units": "x" * 5000, "date": "2026-03-02"}],
    }
    text = render_claim(payerpolicy.load("medicare").check(hostile))
    assert "\x1b" not in text and "\u2028" not in text and "\x07" not in text
    assert "C-\\x1b[31mRED\\u2028\\x07" in text
    assert len(text) < 1500  # the reader cuts what it quotes; the renderer cuts what it prints, too
    from payerpolicy.diagnostics import shown

    assert shown("y" * 5000) == "y" * 200 + "... (4,800 more characters)"
