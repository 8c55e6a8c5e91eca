"""Hostile and unlucky claim input: every claim gets exactly one result, a bad one names its field, the rest
are judged, and the output stays well-formed, with a history file or without."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from payerpolicy.cli.main import main


def good(claim_id: str, patient: str) -> dict:
    return {
        "id": claim_id,
        "patient": {"id": patient},
        "provider": {"type": "PT"},
        "lines": [{"code": "97110", "modifiers": ["GP"], "units": 1, "minutes": 15, "date": "2026-03-02"}],
    }


def with_line(claim_id: str, **values) -> dict:
    claim = good(claim_id, "P-" + claim_id)
    claim["lines"][0].update(values)
    return claim


HUGE = "9" * 5000  # past Python's 4,300-digit limit for reading an int


def _lines(claims: list) -> str:
    return "\n".join(c if isinstance(c, str) else json.dumps(c) for c in claims) + "\n"


CASES = [
    (with_line("U-1", units=99999999999999999999), "lines[1].units", "at most 99,999"),
    (with_line("C-1", charge=1e20), "lines[1].charge", "at most 99,999,999.99"),
    (with_line("M-1", minutes=10**400), "lines[1].minutes", "at most 99,999"),
    ('{"id": "S-\\ud800", "patient": {"id": "P-9"}, "provider": {"type": "PT"}, "lines": []}', "id", "not text"),
    (
        json.dumps(with_line("D-1", units=1)).replace('"units": 1', f'"units": {HUGE}'),
        "lines[1].units",
        "too long to read",
    ),
]


@pytest.mark.parametrize("history", [False, True])
@pytest.mark.parametrize("layout", ["jsonl", "array"])
def test_each_bad_claim_is_its_own_error_and_the_rest_are_judged(capsys, tmp_path, history, layout):
    claims = [good("G-0", "P-0")]
    for bad, _, _ in CASES:
        claims += [bad, good(f"G-{len(claims)}", f"P-{len(claims)}")]
    path = tmp_path / f"claims.{layout}"
    text = _lines(claims)
    path.write_text(text if layout == "jsonl" else "[" + ",\n".join(text.splitlines()) + "]")
    options = ["--history", str(tmp_path / "history.sqlite")] if history else []
    code = main(["check", str(path), *options])
    out = json.loads(capsys.readouterr().out)  # well-formed whatever came in
    assert code == 3
    results = out["claims"]
    assert len(results) == len(claims) and out["summary"]["errors"] == len(CASES)
    for i, (_, field, words) in enumerate(CASES):
        bad = results[1 + 2 * i]
        assert bad["status"] == "error"
        assert any(e["field"] == field and words in e["message"] for e in bad["errors"]), bad["errors"]
    assert all(r["status"] == "accepted" for r in results[::2])


X12 = Path(__file__).resolve().parent / "samples" / "x12" / "therapy_pt_ot_medicare.837"


@pytest.mark.parametrize(
    "element, field_words",
    [(4, "units must be at most 99,999"), (2, "the charge must be at most"), (7, "diagnosis pointer")],
)
def test_an_x12_number_too_long_is_that_claims_own_problem(capsys, tmp_path, element, field_words):
    text = X12.read_text()
    first = re.search(r"SV1\*[^~]*~", text).group(0)
    parts = first.rstrip("~").split("*")
    parts += [""] * (8 - len(parts))
    parts[element] = HUGE
    path = tmp_path / "claims.837"
    path.write_text(text.replace(first, "*".join(parts) + "~", 1))
    expected = len(re.findall(r"~\s*CLM\*", text))
    code = main(["check", "--format", "json", str(path)])
    out = json.loads(capsys.readouterr().out)
    # A pointer too long is a data fault (the claim is judged and denied); units or a charge too long, unreadable.
    assert code == (1 if element == 7 else 3) and len(out["claims"]) == expected
    messages = [e["message"] for c in out["claims"] for e in c["errors"]] + [
        f["message"] for c in out["claims"] for f in c["findings"]
    ]
    assert any(field_words in m for m in messages)
    assert sum(c["status"] != "error" for c in out["claims"]) >= expected - 1
