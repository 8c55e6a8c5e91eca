"""The claim history on Spark: earlier judged lines as a DataFrame, not a file.

A history file is one process's SQLite database; a cluster keeps its history as data, a table of the lines
judged before (`HISTORY_SCHEMA`: the fields of `judge.history.HistoryLine`, one row per line, plus when the
line was recorded). The job unions those lines with the claims, repartitions both by patient (so a patient's
history and new claims meet in one partition), sorts each patient's history ahead of their claims, and hands
each partition's lines to that partition's `Session` as a `MemoryHistory`. The lines the run records come
back as rows of the same shape, for the caller to append to the table for the next run.

The table is appended to, never updated in place, so each row carries `recorded_at` (the job's start, the
same for every row of a run): a claim counts as its rows of the latest `recorded_at`, and a void is a row
with `frequency` "8" and no line (`number` and `code` null), which removes the claim from then on
(`current_history`). A claim judged twice in one run comes back once, as it stood at the end of the run.

pyarrow and pyspark come with the optional extra `spark`; they are imported by the functions that use them.
"""

from __future__ import annotations

import dataclasses
import datetime
import operator
from typing import TYPE_CHECKING, Any, Iterable

from payerpolicy.judge.history import HistoryLine
from payerpolicy.spark.schema import HISTORY_COLUMNS, arrow_struct, spark_sql

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["HISTORY_SCHEMA", "current_history", "history_lines", "recorded_batch", "arrow_history_type"]

_FIELDS = tuple(name for name, _ in HISTORY_COLUMNS.fields if name != "recorded_at")  # `HistoryLine`'s
HISTORY_SCHEMA = spark_sql(HISTORY_COLUMNS)
_ROW = operator.attrgetter(*_FIELDS)  # a line as a row of the table (its modifiers a tuple, which Arrow takes)


def arrow_history_type() -> Any:
    """A row of `HISTORY_SCHEMA` as an Arrow struct."""
    return arrow_struct(HISTORY_COLUMNS)


def current_history(history: DataFrame) -> DataFrame:
    """The lines that count now: each claim's rows of its latest `recorded_at`, less the claims whose latest
    row is a void. (Also how to compact a history table: write this over it.) A table without `recorded_at`
    is taken as it stands, voids left out."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if "recorded_at" in history.columns:
        claim = Window.partitionBy("patient_id", "claim_id")
        history = (
            history.withColumn("_latest", F.max("recorded_at").over(claim))
            .where(F.col("recorded_at") == F.col("_latest"))
            .drop("_latest")
        )
    # A claim whose latest version is a void has only the void's row left; a line has a number.
    return history.where(F.col("number").isNotNull() & (F.coalesce(F.col("frequency"), F.lit("")) != "8"))


def history_lines(lines: Any) -> list[HistoryLine]:
    """`HistoryLine`s of an Arrow struct array of history rows (none null), column by column."""
    columns = {field.name: lines.field(field.name).to_pylist() for field in dataclasses.fields(HistoryLine)}
    columns["modifiers"] = [tuple(modifiers or ()) for modifiers in columns["modifiers"]]
    return [HistoryLine(*row) for row in zip(*columns.values())]


def recorded_batch(
    recorded: Iterable[tuple[str, str, tuple[HistoryLine, ...] | None]], recorded_at: datetime.datetime
) -> Any:
    """What a run recorded (`MemoryHistory.recorded`) as an Arrow struct array of history rows: a claim's
    lines, or one void row for a claim voided."""
    import pyarrow as pa

    rows: list[tuple] = []
    for patient_id, claim_id, lines in recorded:
        if lines is None:
            rows.append((patient_id, claim_id, None, "8", None, None, None, None, None, None, None, None, None))
            continue
        rows.extend(map(_ROW, lines))
    struct = arrow_history_type()
    columns = [pa.array([row[i] for row in rows], struct.field(i).type) for i in range(len(_FIELDS))]
    columns.append(pa.array([recorded_at] * len(rows), struct.field(len(_FIELDS)).type))
    return pa.StructArray.from_arrays(columns, fields=list(struct))
