"""Decisions as Arrow columns, built straight from the decision objects: the rows the Spark job hands back.

One Arrow array per field of `DECISION_SCHEMA`, filled field by field over a batch of decisions (a list of
values per column, the lines, findings and errors of every decision of the batch flattened into child arrays
with offsets), rather than one Python dict per claim and per finding turned into rows by
`RecordBatch.from_pylist`. The `decision` column, the decision JSON itself, is the one place the decision's
dict is still made: it is the text contract, written by the same `to_dict` the command line writes.

pyarrow is imported by the functions that need it: it comes with the optional extra `spark`.
"""

from __future__ import annotations

import functools
import json
import itertools
from typing import Any, Iterable, Iterator, Sequence

from payerpolicy.decision import Decision
from payerpolicy.judge.history import HistoryLine
from payerpolicy.spark.history import arrow_history_type, recorded_batch
from payerpolicy.spark.schema import DECISION_COLUMNS, arrow_struct

__all__ = ["decision_batch", "recorded_batches", "arrow_decision_schema", "arrow_recording_schema"]


@functools.lru_cache(maxsize=1)
def arrow_decision_schema() -> Any:
    """`payerpolicy.spark.DECISION_SCHEMA` in Arrow's terms (made once per worker)."""
    import pyarrow as pa

    return pa.schema(list(arrow_struct(DECISION_COLUMNS)))


@functools.lru_cache(maxsize=1)
def arrow_recording_schema() -> Any:
    """The decisions' schema and a `recorded` column: a history row (null in the rows of decisions), for a job
    that gives back the history lines it recorded as rows of their own (decision columns null)."""
    import pyarrow as pa

    return arrow_decision_schema().append(pa.field("recorded", arrow_history_type()))


def recorded_batches(
    recorded: Iterable[tuple[str, str, tuple[HistoryLine, ...] | None]], recorded_at: Any, claims_per_batch: int
) -> Iterator[Any]:
    """What a run recorded (`MemoryHistory.recorded`), as `RecordBatch`es of `arrow_recording_schema()`."""
    import pyarrow as pa

    schema = arrow_recording_schema()
    entries = iter(recorded)
    while chunk := list(itertools.islice(entries, claims_per_batch)):
        rows = recorded_batch(chunk, recorded_at)
        columns = [pa.nulls(len(rows), field.type) for field in arrow_decision_schema()] + [rows]
        yield pa.RecordBatch.from_arrays(columns, schema=schema)


def _item_type(column: str) -> Any:
    """The struct of one item of a list column of the decisions (`lines`, `findings`, `errors`)."""
    return arrow_struct(DECISION_COLUMNS).field(column).type.value_type


def decision_batch(
    decisions: Sequence[Decision], positions: Sequence[int], *, with_json: bool = True, recorded: bool = False
) -> Any:
    """One `RecordBatch` of `arrow_decision_schema()`: `decisions[i]` at input position `positions[i]`.
    `with_json=False` leaves the `decision` column null (the structured columns say the same). `recorded`:
    of `arrow_recording_schema()`, its `recorded` column null."""
    import pyarrow as pa

    text = pa.string()
    policies = [d.policy or {} for d in decisions]
    where = [d.where or None for d in decisions]
    json_text = [json.dumps(d.to_dict()) for d in decisions] if with_json else [None] * len(decisions)
    columns = [
        pa.array(positions, pa.int64()),
        pa.array([d.id for d in decisions], text),
        pa.array([p.get("payer") for p in policies], text),
        pa.array([p.get("version") for p in policies], text),
        pa.array([d.status for d in decisions], text),
        _lines(decisions),
        _findings(decisions),
        _errors(decisions),
        pa.array(where, text),
        pa.array(json_text, text),
    ]
    if recorded:
        columns.append(pa.nulls(len(decisions), arrow_history_type()))
        return pa.RecordBatch.from_arrays(columns, schema=arrow_recording_schema())
    return pa.RecordBatch.from_arrays(columns, schema=arrow_decision_schema())


def _offsets(counts) -> list[int]:
    """List offsets from the length of each list: [0, n0, n0 + n1, ...]."""
    out, total = [0], 0
    for count in counts:
        total += count
        out.append(total)
    return out


def _lines(decisions: Sequence[Decision]) -> Any:
    import pyarrow as pa

    lines = [line for d in decisions for line in d.lines]
    children = [
        pa.array([x.line for x in lines], pa.int32()),
        pa.array([x.code for x in lines], pa.string()),
        pa.array([x.billed_units for x in lines], pa.int32()),
        pa.array([x.allowed_units for x in lines], pa.int32()),
        pa.array([x.status for x in lines], pa.string()),
    ]
    values = pa.StructArray.from_arrays(children, fields=list(_item_type("lines")))
    return pa.ListArray.from_arrays(pa.array(_offsets(len(d.lines) for d in decisions), pa.int32()), values)


def _findings(decisions: Sequence[Decision]) -> Any:
    import pyarrow as pa

    text = pa.string()
    found = [f for d in decisions for f in d.findings]
    fixes = [f.fix for f in found]
    fix_children = [
        pa.array([x.action if x else None for x in fixes], text),
        pa.array([x.line if x else None for x in fixes], pa.int32()),
        pa.array([None if x is None or x.value is None else str(x.value) for x in fixes], text),
        pa.array([(x.note or None) if x else None for x in fixes], text),
    ]
    fix = pa.StructArray.from_arrays(
        fix_children,
        fields=list(_item_type("findings").field("fix").type),
        mask=pa.array([x is None for x in fixes], pa.bool_()),
    )
    children = [
        pa.array([f.rule for f in found], text),
        pa.array([f.family for f in found], text),
        pa.array([f.severity for f in found], text),
        pa.array([f.kind for f in found], text),
        pa.array([f.line for f in found], pa.int32()),
        pa.array([f.message for f in found], text),
        _texts([f.reason for f in found]),
        fix,
        _texts([f.source for f in found]),
    ]
    values = pa.StructArray.from_arrays(children, fields=list(_item_type("findings")))
    return pa.ListArray.from_arrays(pa.array(_offsets(len(d.findings) for d in decisions), pa.int32()), values)


def _texts(mappings: list[dict]) -> Any:
    """A map<string, string> column: every value as text, a value that is not text (a list of codes, a line
    number) as its JSON."""
    import pyarrow as pa

    keys = [key for m in mappings for key in m]
    items = [value if isinstance(value, str) else json.dumps(value) for m in mappings for value in m.values()]
    return pa.MapArray.from_arrays(
        pa.array(_offsets(len(m) for m in mappings), pa.int32()),
        pa.array(keys, pa.string()),
        pa.array(items, pa.string()),
    )


def _errors(decisions: Sequence[Decision]) -> Any:
    import pyarrow as pa

    errors = [e for d in decisions for e in d.errors]
    children = [
        pa.array([e.get("field") for e in errors], pa.string()),
        pa.array([e.get("message") for e in errors], pa.string()),
    ]
    values = pa.StructArray.from_arrays(children, fields=list(_item_type("errors")))
    return pa.ListArray.from_arrays(pa.array(_offsets(len(d.errors) for d in decisions), pa.int32()), values)
