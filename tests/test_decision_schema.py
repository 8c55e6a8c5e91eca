"""The decision JSON schema (schemas/decision.schema.json) holds for what `payerpolicy check --format json`
really writes: the examples, every shipped policy case's decisions, claims that cannot be read, a claim for a
payer no policy serves, and the real X12 and FHIR samples."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from payerpolicy._resources import schema_file
from payerpolicy.cases.files import find_case_files, read_case_file
from payerpolicy.cases.run import CaseRunner
from payerpolicy.cli.main import main
from payerpolicy.diagnostics import SourceFiles

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads(schema_file("decision.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
DECISION = jsonschema.Draft202012Validator({"$defs": SCHEMA["$defs"], "$ref": "#/$defs/decision"})


def _problems(validator, document) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize(
    "files",
    [
        ["examples/claims.json"],
        ["tests/samples/x12/therapy_pt_ot_medicare.837"],
        ["tests/samples/fhir/bundle-with-bad-entries.json", "tests/samples/fhir/therapy-claims.json"],
        ["tests/samples/x12/stupidedi_X222A1_chiropractic.edi", "tests/samples/x12/moov-io_837p_sample_97530.txt"],
    ],
)
def test_check_output_matches_the_schema(capsys, files):
    main(["check", "--format", "json", "--received", "2026-11-02", *(str(ROOT / f) for f in files)])
    document = json.loads(capsys.readouterr().out)
    assert document["claims"], "nothing was judged: the test would prove nothing"
    assert _problems(VALIDATOR, document) == []


def test_unreadable_and_unrouted_claims_match_the_schema(capsys, tmp_path):
    lines = [
        "{broken",
        json.dumps(
            {
                "id": "X",
                "payer": "nobody-health",
                "patient": {"id": "P"},
                "lines": [{"code": "97110", "units": 1, "date": "2026-03-02"}],
            }
        ),
        json.dumps({"id": "Y", "lines": "none"}),
    ]
    path = tmp_path / "claims.jsonl"
    path.write_text("\n".join(lines) + "\n")
    main(["check", "--format", "json", str(path)])
    document = json.loads(capsys.readouterr().out)
    assert [c["status"] for c in document["claims"]] == ["error", "error", "error"]
    assert _problems(VALIDATOR, document) == []


def test_every_shipped_case_decision_matches_the_schema():
    runner, sources, diagnostics = CaseRunner(), SourceFiles(), []
    checked = 0
    for path in find_case_files([ROOT / "policies"]):
        case_file = read_case_file(path, sources, diagnostics)
        for case in case_file.cases:
            for decision in runner.run(case).decisions:
                assert _problems(DECISION, decision.to_dict()) == [], (case.file, case.name)
                checked += 1
    assert checked > 250 and not diagnostics
