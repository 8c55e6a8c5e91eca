"""The Spark job's Arrow columns (`payerpolicy.spark.columns`), built field by field from the decision objects,
hold what the decision JSON says, claim by claim: findings with and without fixes, maps of reasons and
sources, unreadable claims with their errors, claims no policy serves. Needs pyarrow (the `spark` extra), not
Spark itself."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import pytest

import payerpolicy

pa = pytest.importorskip("pyarrow", reason="pyarrow comes with the `spark` extra: pip install -e '.[spark]'")

from payerpolicy.spark.columns import decision_batch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import generate  # noqa: E402
from spark_rows import dict_rows  # noqa: E402  (the former way: rows made from the decision JSON, one dict each)

AS_OF = RECEIVED = datetime.date(2026, 12, 1)


def _decisions() -> list:
    claims: list = generate.claims(400, 11, patients=20, days=30)
    claims[3] = {"id": "BAD-1", "lines": "none"}  # unreadable: a row with its errors
    claims[7] = dict(claims[7], payer="nobody")  # no policy serves its payer
    with payerpolicy.Session(as_of=AS_OF, received=RECEIVED) as session:
        return list(session.check_many(claims))


def test_each_row_holds_what_the_decision_json_says():
    decisions = _decisions()
    positions = [10 * i for i in range(len(decisions))]
    rows = decision_batch(decisions, positions).to_pylist()
    expected = dict_rows(decisions, positions).to_pylist()  # read from the decision JSON, the contract
    assert len(rows) == len(expected) == len(decisions)
    for row, wanted, decision in zip(rows, expected, decisions):
        assert row == wanted, decision.id


def test_the_rows_cover_fixes_maps_errors_and_missing_policies():
    """Guards the test above: it means something only if every kind of value is there."""
    rows = decision_batch(_decisions(), list(range(400))).to_pylist()
    findings = [f for row in rows for f in row["findings"]]
    assert any(f["fix"] is None for f in findings) and any(f["fix"] is not None for f in findings)
    assert any(f["fix"] and f["fix"]["value"] is not None for f in findings)
    assert any(f["reason"] for f in findings) and all(f["source"] for f in findings)
    assert rows[3]["status"] == "error" and any(e["field"] == "lines" for e in rows[3]["errors"])
    assert rows[7]["payer"] is None and "no policy for payer `nobody`" in rows[7]["errors"][0]["message"]


def test_without_json_the_decision_column_is_empty_and_the_rest_the_same():
    decisions = _decisions()[:50]
    full = decision_batch(decisions, list(range(50)))
    bare = decision_batch(decisions, list(range(50)), with_json=False)
    assert bare.column("decision").null_count == 50
    assert bare.drop_columns(["decision"]).equals(full.drop_columns(["decision"]))


def test_an_empty_batch_is_an_empty_batch_of_the_schema():
    empty = decision_batch([], [])
    assert empty.num_rows == 0 and "findings" in empty.schema.names
