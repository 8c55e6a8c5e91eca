"""The read stage's front door: a claim file's format told from its content, the same decisions whatever
the format (the X12 and FHIR therapy samples against their claim JSON twins, through the command line)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from payerpolicy.claims.formats import read_claim_file, sniff
from payerpolicy.cli.main import main

SAMPLES = Path(__file__).resolve().parent / "samples"


@pytest.mark.parametrize(
    "head, kind",
    [
        (b"ISA*00*          *00*", "x12"),
        (b"\xef\xbb\xbf\n  ISA|00|", "x12"),
        (b'{"resourceType": "Bundle", "entry": []}', "fhir"),
        (b'[{"resourceType": "Claim"}]', "fhir"),
        (b'{"id": "C-1", "lines": []}', "json"),
        (b'{"id": "C-1"}\n{"id": "C-2"}\n', "json"),
        (b"", "json"),
    ],
)
def test_sniff(head, kind):
    assert sniff(head) == kind


def findings(capsys, path, *options):
    code = main(["check", str(path), "--payer", "medicare", *options])
    out = json.loads(capsys.readouterr().out)
    return code, [
        [(f["rule"], f["line"], f["severity"], json.dumps(f.get("fix"), sort_keys=True)) for f in claim["findings"]]
        for claim in out["claims"]
    ]


@pytest.mark.parametrize(
    "native, twin",
    [
        ("x12/therapy_pt_ot_medicare.837", "x12/therapy_pt_ot_medicare.json"),
        ("x12/therapy_pt_commercial_pretty.837", "x12/therapy_pt_commercial_pretty.json"),
        ("fhir/therapy-bundle.json", "fhir/therapy-claims.json"),
    ],
)
def test_a_native_file_gets_the_findings_of_its_claim_json_twin(capsys, native, twin):
    code, from_native = findings(capsys, SAMPLES / native)
    twin_code, from_twin = findings(capsys, SAMPLES / twin)
    assert from_native == from_twin
    assert code == twin_code == 1
    assert any(from_native)  # the therapy files carry mistakes: the comparison is not of two empty lists


def test_input_format_can_be_forced(capsys, tmp_path):
    x12 = (SAMPLES / "x12" / "therapy_pt_ot_medicare.837").read_text()
    disguised = tmp_path / "claims.txt"
    disguised.write_text("\n\n" + x12)
    code, from_forced = findings(capsys, disguised, "--input-format", "x12")
    assert code == 1 and any(from_forced)
    code = main(["check", str(disguised), "--input-format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert out["claims"][0]["status"] == "error"  # read as claim JSON, it is not JSON


def test_standard_input_in_any_format(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO((SAMPLES / "fhir" / "therapy-bundle.json").read_text()))
    code = main(["check", "-", "--payer", "medicare"])
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["claims"] == 2
    assert code == 1  # the bundle carries planted mistakes


def test_a_fhir_file_that_is_not_json_is_one_unreadable_record(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"resourceType": "Bundle", "entry": [')
    [record] = list(read_claim_file(path))
    assert record.problems[0].field == "json" and "not valid JSON" in record.problems[0].message


@pytest.mark.parametrize(
    "sample, input_format",
    [
        ("x12/therapy_pt_ot_medicare.837", "auto"),
        ("x12/therapy_pt_ot_medicare.837", "x12"),
        ("fhir/therapy-bundle.json", "auto"),
        ("fhir/therapy-bundle.json", "fhir"),
    ],
)
def test_a_binary_stream_reads_as_its_file_does(sample, input_format):
    # An application hands over `open(path, "rb")` or a request body: it used to end in an AttributeError.
    path = SAMPLES / sample
    from_file = list(read_claim_file(path, input_format=input_format))
    with open(path, "rb") as stream:
        from_stream = list(read_claim_file(stream, name=str(path), input_format=input_format))
    assert from_stream == from_file and len(from_file) >= 2


def test_a_binary_stream_not_utf8_is_read_as_latin1_like_a_file(tmp_path):
    x12 = (SAMPLES / "x12" / "therapy_pt_ot_medicare.837").read_bytes()
    spoiled = x12.replace(b"NM1*IL*1*", b"NM1*IL*1*\xe9", 1)  # a stray byte in a name
    path = tmp_path / "claims.837"
    path.write_bytes(spoiled)
    assert list(read_claim_file(io.BytesIO(spoiled), name=str(path))) == list(read_claim_file(path))
