"""Tests of the read stage (payerpolicy.claims.json_claims), driven by the cases in tests/cases/claims/.

good.yaml: a claim in, the model out. bad.yaml: a claim in, every problem out (field and message).
files.yaml: a claims file in, one record per claim out. The tests below the data-driven ones cover what
data files cannot hold: encodings, streams, missing files, and reading JSON Lines without reading ahead.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from payerpolicy._resources import schema_file
from payerpolicy.claims import json_claims as claim_read
from payerpolicy.claims.model import Claim, ClaimProblem, UnreadableClaim
from payerpolicy.claims.json_claims import ClaimFileError, claim_from_dict, read_claims

CASES = Path(__file__).parent / "cases" / "claims"
FILES = CASES / "files"
SCHEMA_PATH = schema_file("claim.schema.json")


class _CaseLoader(yaml.SafeLoader):
    """YAML without timestamps: a date in a claim is text, as in JSON."""


_CaseLoader.yaml_implicit_resolvers = {
    first: [resolver for resolver in resolvers if resolver[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load(name: str) -> list[dict]:
    with open(CASES / name, encoding="utf-8") as file:
        return yaml.load(file, _CaseLoader)


GOOD = _load("good.yaml")
BAD = _load("bad.yaml")
FILE_CASES = _load("files.yaml")


def _plain(value):
    """The model as plain data, to compare with the expectations written in YAML."""
    if dataclasses.is_dataclass(value):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _assert_problems(problems: tuple[ClaimProblem, ...], expected: list[list[str]]) -> None:
    """Every expected (field, fragment) matches its own problem, and no problem is left over."""
    found = [(problem.field, problem.message) for problem in problems]
    remaining = list(found)
    for field, fragment in expected:
        match = next((item for item in remaining if item[0] == field and fragment in item[1]), None)
        assert match is not None, f"no problem on {field!r} saying {fragment!r}; found {found}"
        remaining.remove(match)
    assert not remaining, f"problems not expected: {remaining}"


# ---------------------------------------------------------------------------------------------------------
# One claim


@pytest.mark.parametrize("case", GOOD, ids=[case["name"] for case in GOOD])
def test_good_claim_reads_into_the_model(case):
    record = claim_from_dict(case["claim"], where="case")
    problems = [(p.field, p.message) for p in getattr(record, "problems", ())]
    assert isinstance(record, Claim), problems
    actual = _plain(record)
    for key, expected in case["expect"].items():
        if key != "lines":
            assert actual[key] == expected, key
            continue
        assert len(actual["lines"]) == len(expected)
        for got, want in zip(actual["lines"], expected):
            assert {name: got[name] for name in want} == want


@pytest.mark.parametrize("case", BAD, ids=[case["name"] for case in BAD])
def test_bad_claim_reports_every_problem(case):
    record = claim_from_dict(case["claim"], where="claims.json claim 9")
    assert isinstance(record, UnreadableClaim)
    assert record.where == "claims.json claim 9"
    _assert_problems(record.problems, case["problems"])
    for key, expected in case.get("unreadable", {}).items():
        assert getattr(record, key) == expected, key


def test_line_numbers_in_fields_count_from_one():
    claim = {
        "id": "C-1",
        "patient": {"id": "P-1"},
        "lines": [
            {"code": "97110", "units": 1, "date": "2026-03-02"},
            {"code": "97110", "units": 1, "date": "2026-03-02"},
            {"code": "97110", "units": -2, "date": "2026-03-02"},
        ],
    }
    record = claim_from_dict(claim)
    assert [p.field for p in record.problems] == ["lines[3].units"]


@pytest.mark.parametrize(
    "value",
    [
        None,
        5,
        "C-1",
        [],
        {1: 2},
        {"lines": [None, [], "x", {"periods": [None]}]},
        {"id": {"x": 1}, "patient": {"id": [1]}, "lines": {"code": "97110"}},
        {
            "id": "C-1",
            "patient": {"id": "P-1"},
            "diagnoses": [None, [], {}],
            "lines": [
                {
                    "code": ["97110"],
                    "modifiers": [None, {}],
                    "units": float("nan"),
                    "charge": float("inf"),
                    "date": None,
                    "periods": [{}],
                }
            ],
        },
    ],
)
def test_odd_values_never_raise(value):
    record = claim_from_dict(value)
    assert isinstance(record, UnreadableClaim)
    assert all(isinstance(p.field, str) and p.message for p in record.problems)


# ---------------------------------------------------------------------------------------------------------
# Files


@pytest.mark.parametrize("case", FILE_CASES, ids=[case["file"] for case in FILE_CASES])
def test_claims_file_gives_one_record_per_claim(case):
    records = list(read_claims(FILES / case["file"], name=case["file"]))
    assert len(records) == len(case["records"])
    for record, expected in zip(records, case["records"]):
        assert record.id == expected["id"]
        if "problems" not in expected:
            assert isinstance(record, Claim), record
            continue
        assert isinstance(record, UnreadableClaim)
        assert record.where == expected["where"]
        _assert_problems(record.problems, expected["problems"])


def test_default_name_is_the_path_as_given():
    path = str(FILES / "batch.jsonl")
    where = [r.where for r in read_claims(path) if isinstance(r, UnreadableClaim)]
    assert where == [f"{path} line 2", f"{path} line 4", f"{path} line 6"]


def test_text_stream_is_read_like_a_file():
    with open(FILES / "batch.jsonl", encoding="utf-8") as stream:
        from_stream = list(read_claims(stream))
    from_path = list(read_claims(FILES / "batch.jsonl"))
    assert from_stream == from_path  # the stream's name is the path, as for the file


def test_stream_without_a_name_takes_the_name_given():
    text = (FILES / "batch.json").read_text(encoding="utf-8")
    records = list(read_claims(io.StringIO(text), name="upload.json"))
    assert [r.where for r in records if isinstance(r, UnreadableClaim)] == [
        "upload.json claim 3",
        "upload.json claim 4",
    ]
    assert [r.where for r in read_claims(io.StringIO("[1]"))] == ["<input> claim 1"]


class _CountingStream:
    """A text stream that counts the lines taken from it."""

    name = "big.jsonl"

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.taken = 0

    def __iter__(self):
        for line in self.lines:
            self.taken += 1
            yield line


def _claim_line(number: int) -> str:
    return (
        json.dumps(
            {
                "id": f"C-{number}",
                "patient": {"id": "P-1"},
                "lines": [{"code": "97110", "units": 1, "date": "2026-03-02"}],
            }
        )
        + "\n"
    )


def test_json_lines_are_read_one_at_a_time():
    stream = _CountingStream([_claim_line(n) for n in range(1, 1001)])
    records = read_claims(stream)
    first, second = next(records), next(records)
    assert (first.id, second.id) == ("C-1", "C-2")
    assert stream.taken <= 3
    assert len(list(records)) == 998


def test_json_lines_with_a_broken_first_line_stream_past_the_sample(monkeypatch):
    monkeypatch.setattr(claim_read, "_SAMPLE_CHARS", 1000)
    stream = _CountingStream(['{"id": "C-0", "patient": \n'] + [_claim_line(n) for n in range(1, 501)])
    records = read_claims(stream)
    first = next(records)
    assert first.where == "big.jsonl line 1"
    assert first.problems[0].field == "json"
    assert stream.taken < 50
    assert [r.id for r in records] == [f"C-{n}" for n in range(1, 501)]


def test_claim_over_several_lines_longer_than_the_sample_is_still_one_claim(monkeypatch):
    monkeypatch.setattr(claim_read, "_SAMPLE_CHARS", 50)
    [record] = read_claims(FILES / "single.json")
    assert isinstance(record, Claim) and record.id == "C-1001" and len(record.lines) == 2


def test_json_line_nested_too_deeply_is_one_unreadable_claim():
    text = _claim_line(1) + "[" * 100_000 + "\n" + _claim_line(3)
    records = list(read_claims(io.StringIO(text), name="deep.jsonl"))
    assert [r.id for r in records] == ["C-1", None, "C-3"]
    assert records[1].problems[0].message == "this line is not valid JSON: it is nested too deeply"


def test_byte_order_mark_is_ignored(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + (FILES / "single_line.json").read_bytes())
    [record] = read_claims(path)
    assert isinstance(record, Claim) and record.id == "S-1"


def test_file_that_is_not_utf8_cannot_be_read(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"id": "C-1", "patient": {"id": "Jos\u00e9"},\n "lines": []}'.encode("latin-1"))
    with pytest.raises(ClaimFileError, match=r"latin1\.json is not UTF-8 text"):
        read_claims(path)


def test_utf16_file_is_named_as_such(tmp_path):
    path = tmp_path / "export.json"
    path.write_text((FILES / "single.json").read_text(encoding="utf-8"), encoding="utf-16")
    with pytest.raises(ClaimFileError, match="it looks like UTF-16"):
        read_claims(path)


def test_json_line_that_is_not_utf8_spoils_only_its_own_claim(tmp_path):
    path = tmp_path / "mixed.jsonl"
    bad = '{"id": "C-2", "patient": {"id": "Jos\u00e9"}}\n'.encode("latin-1")
    path.write_bytes(_claim_line(1).encode() + bad + _claim_line(3).encode())
    records = list(read_claims(path, name="mixed.jsonl"))
    assert [r.id for r in records] == ["C-1", None, "C-3"]
    assert records[1].where == "mixed.jsonl line 2"
    assert records[1].problems[0].field == "encoding"
    assert "this line is not UTF-8 text (byte 37 of the line" in records[1].problems[0].message


def test_missing_file_is_a_file_error_naming_the_path(tmp_path):
    path = tmp_path / "nowhere.jsonl"
    with pytest.raises(ClaimFileError, match=f"cannot read claims from {path}: no such file"):
        read_claims(path)


def test_folder_is_a_file_error_naming_the_path(tmp_path):
    with pytest.raises(ClaimFileError, match=f"cannot read claims from {tmp_path}: it is a folder"):
        read_claims(tmp_path)


# ---------------------------------------------------------------------------------------------------------
# The shipped JSON Schema says the same as the reader


@pytest.fixture(scope="module")
def schema_validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _good_claims_in_files() -> list[dict]:
    """Every claim in the claims files under files/ that the reader reads whole."""
    found = []
    for path in sorted(FILES.iterdir()):
        text = path.read_text(encoding="utf-8")
        try:
            values = json.loads(text) if text.strip() else []
        except ValueError:
            values = [json.loads(line) for line in text.splitlines() if line.strip() and _parses(line)]
        for value in values if isinstance(values, list) else [values]:
            if isinstance(claim_from_dict(value), Claim):
                found.append(value)
    return found


def _parses(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def test_schema_accepts_every_good_claim(schema_validator):
    claims = [case["claim"] for case in GOOD] + _good_claims_in_files()
    assert len(claims) > len(GOOD) + 10
    for claim in claims:
        errors = [error.message for error in schema_validator.iter_errors(claim)]
        assert not errors, (claim.get("id"), errors)


@pytest.mark.parametrize("case", BAD, ids=[case["name"] for case in BAD])
def test_schema_rejects_bad_claims_it_has_words_for(schema_validator, case):
    assert schema_validator.is_valid(case["claim"]) == (case.get("schema") == "accepts")


# ---------------------------------------------------------------------------------------------------------
# Data faults: what a payer's front end rejects the claim for, though its lines can be judged. The claim is
# read, the fault recorded (kind, field, line), the value kept as written where it still means something.

FAULTY = [
    (
        "an NPI of nine digits",
        {"provider": {"npi": "123456789", "type": "PT"}},
        [("rendering_npi", "provider.npi", None, "the NPI of the claim's provider `123456789` has 9 digits")],
    ),
    (
        "an NPI failing its check digit, on a line",
        {"lines": [{"code": "97110", "units": 1, "date": "2026-03-02", "provider": {"npi": "1234567890"}}]},
        [("rendering_npi", "lines[1].provider.npi", 1, "`1234567890` fails the NPI check digit")],
    ),
    (
        "a pointer on a claim without diagnoses",
        {"lines": [{"code": "97110", "units": 1, "date": "2026-03-02", "diagnosis_pointers": [1]}]},
        [
            (
                "diagnosis_pointer",
                "lines[1].diagnosis_pointers",
                1,
                "line 1: diagnosis pointer 1 points at no diagnosis: the claim lists none",
            )
        ],
    ),
    (
        "a referring NPI of the wrong length",
        {"referring_npi": "12345678901"},
        [("referring_npi", "referring_npi", None, "the referring provider's NPI `12345678901` has 11 digits")],
    ),
    (
        "a place of service that is not one",
        {"place_of_service": "1A"},
        [("place_of_service", "place_of_service", None, "the place of service `1A` is not a place of service code")],
    ),
    (
        "a birth date after the service",
        {"patient": {"id": "P-1", "birth_date": "2026-05-01"}},
        [
            (
                "patient_birth_date",
                "patient.birth_date",
                None,
                "the patient's date of birth 2026-05-01 is after a date of service (2026-03-02)",
            )
        ],
    ),
    (
        "a date treatment began that is not a date",
        {"treatment_began": "02/01/2026"},
        [("date_treatment_began", "treatment_began", None, "must be a real date written YYYY-MM-DD")],
    ),
]


@pytest.mark.parametrize("case", FAULTY, ids=[case[0] for case in FAULTY])
def test_a_data_fault_is_recorded_and_the_claim_read(case):
    _, changes, expected = case
    claim = {"id": "C-1", "patient": {"id": "P-1"}, "lines": [{"code": "97110", "units": 1, "date": "2026-03-02"}]}
    claim.update(changes)
    record = claim_from_dict(claim)
    assert isinstance(record, Claim), record
    assert [(f.fault, f.field, f.line) for f in record.faults] == [e[:3] for e in expected]
    for fault, want in zip(record.faults, expected):
        assert want[3] in fault.message, fault.message


def test_claim_fields_payer_rules_need():
    record = claim_from_dict(
        {
            "id": "C-1",
            "patient": {"id": "P-1", "birth_date": "1950-03-15"},
            "place_of_service": "11",
            "prior_authorization": "PA-778",
            "referring_npi": "1234567893",
            "treatment_began": "2026-02-01",
            "lines": [
                {
                    "code": "98940",
                    "modifiers": ["AT"],
                    "units": 1,
                    "date": "2026-03-02",
                    "place_of_service": 22,
                    "prior_authorization": "PA-999",
                }
            ],
        }
    )
    assert isinstance(record, Claim) and record.faults == ()
    assert (record.place_of_service, record.prior_authorization, record.referring_npi) == ("11", "PA-778", "1234567893")
    assert (record.patient_birth_date, record.treatment_began) == (
        datetime.date(1950, 3, 15),
        datetime.date(2026, 2, 1),
    )
    assert (record.lines[0].place_of_service, record.lines[0].prior_authorization) == ("22", "PA-999")
