"""Payer scale on Apache Spark: a DataFrame of claims in, a DataFrame of decisions out.

    from payerpolicy.spark import judge
    decisions = judge(spark.read.text("claims.jsonl"), policies="medicare")
    decisions.write.parquet("decisions.parquet")

The decisions are those `payerpolicy check` gives on the same claims, whatever the partitioning, because every
claim of one patient is judged in one place: the claims are repartitioned by patient and sorted within each
partition by patient, first date of service and claim id, then each partition is judged as one run of the
library's `Session` (the same code the command line runs). The policies are compiled once, on the driver, before
any task starts (a policy with errors fails the job there, with its diagnostics), and reach each executor once,
as a broadcast of their compiled plans; an executor's Python worker unpickles them once and keeps them.

Claims come as a column of claim JSON text (`spark.read.text` gives one, `value`), or as the claim schema's own
columns (`spark.read.json` of claim JSON, Parquet written from it), which are turned back into claim JSON.
A claim that cannot be read is a row with its `errors`, as in the command line; a bad claim never fails the job.

The claim history is data here, not a file (`payerpolicy.spark.history`): `history=` takes a DataFrame (or a
Parquet path) of earlier judged lines (`HISTORY_SCHEMA`), which meet each patient's new claims in their
partition, and `record_history=True` gives back this run's lines in the same shape, to append to that table.

    judged = judge(claims, history="history/", record_history=True).persist()   # judged once for both
    judged.decisions.write.parquet("decisions/")
    judged.history.write.mode("append").parquet("history/")
    judged.unpersist()

A later run judged against the earlier runs' lines decides as `payerpolicy check --history FILE` does after
the same earlier claims were recorded in its file.
"""

from __future__ import annotations

import datetime
import os
import pickle
import uuid
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Literal, TypedDict, overload

from payerpolicy.api import DEFAULT_WINDOW, Policy, load
from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.claims.json_files import read_claim_text
from payerpolicy.decision import Decision
from payerpolicy.judge.memory_history import MemoryHistory
from payerpolicy.session import Policies, Session
from payerpolicy.spark.columns import decision_batch, recorded_batches
from payerpolicy.spark.history import HISTORY_SCHEMA, current_history, history_lines
from payerpolicy.spark.schema import DECISION_COLUMNS, HISTORY_COLUMNS, spark_sql, spark_sql_type

if TYPE_CHECKING:  # pyspark is the optional extra `spark`; this module imports it only when judging
    from pyspark.sql import DataFrame
    from typing_extensions import Unpack

__all__ = ["judge", "Judged", "DECISION_SCHEMA", "HISTORY_SCHEMA", "current_history"]

DECISION_SCHEMA = spark_sql(DECISION_COLUMNS)

# Rows per Arrow batch handed back to Spark: big enough that Arrow's per-batch cost vanishes, small enough that
# a partition's decisions are never all held at once.
_BATCH_ROWS = 2048

_HISTORY_ROW = spark_sql_type(HISTORY_COLUMNS)  # a history row as one struct column


@dataclass(frozen=True)
class Judged:
    """What `judge(..., record_history=True)` gives: the decisions, and the history lines this run recorded
    (`HISTORY_SCHEMA`), to append to the history table. Both are read from `rows`, the judging pass's output
    (a decision or a recorded line per row): `persist()` keeps it, so that writing both judges once."""

    decisions: DataFrame
    history: DataFrame
    rows: DataFrame

    def persist(self, level=None) -> Judged:
        """Keep the judging pass's output (memory, then disk) for the actions after this one."""
        from pyspark import StorageLevel

        self.rows.persist(level or StorageLevel.MEMORY_AND_DISK)
        return self

    def unpersist(self) -> None:
        self.rows.unpersist()


class _JudgeOptions(TypedDict, total=False):
    """`judge`'s options other than `record_history`, for its two typed forms below."""

    as_of: datetime.date | None
    received: datetime.date | None
    column: str | None
    partitions: int | None
    window: int
    history: DataFrame | str | os.PathLike | None
    decision_json: bool


@overload
def judge(
    claims: DataFrame,
    policies: Policies | Policy | str | os.PathLike | None = ...,
    *,
    record_history: Literal[False] = ...,
    **options: Unpack[_JudgeOptions],
) -> DataFrame: ...


@overload
def judge(
    claims: DataFrame,
    policies: Policies | Policy | str | os.PathLike | None = ...,
    *,
    record_history: Literal[True],
    **options: Unpack[_JudgeOptions],
) -> Judged: ...


def judge(
    claims: DataFrame,
    policies: Policies | Policy | str | os.PathLike | None = None,
    *,
    as_of: datetime.date | None = None,
    received: datetime.date | None = None,
    column: str | None = None,
    partitions: int | None = None,
    window: int = DEFAULT_WINDOW,
    history: DataFrame | str | os.PathLike | None = None,
    record_history: bool = False,
    decision_json: bool = True,
) -> DataFrame | Judged:
    """Judge a DataFrame of claims; one row of `DECISION_SCHEMA` per claim.

    `claims`: a column of claim JSON text (`column`, or the DataFrame's only text column, or one named
    `claim` or `value`), or else the claim schema's columns. `policies`: a `Policies` (each claim routed by
    its `payer`, as the command line does), one `Policy`, or a policy name or path; default the shipped
    policies. `as_of` and `received` as for `payerpolicy check` (one date for the whole job, fixed on the
    driver). `partitions`: how many partitions to judge in (default: Spark's shuffle partitions).
    `decision_json=False` leaves the `decision` column (the decision JSON text) null: the other columns say
    the same, and writing the JSON is most of what building the rows costs (bench/spark_rows.py).

    `history`: the claims judged before, as `payerpolicy check --history FILE` has them in its file: a
    DataFrame (or a Parquet path) with the columns of `HISTORY_SCHEMA`, one row per line. Each claim counts
    as its rows of the latest `recorded_at` (a void row removes it; `current_history`). Only the lines of
    patients who have claims in this job are used; they travel with those claims to their partition and are
    held in memory there while it is judged (a partition's patients' lines: choose `partitions` so that
    they fit). `record_history=True`: return `Judged(decisions, history)`, where `history` holds the lines
    this run recorded (each claim as it stood at the end of the run; a void as one row with `frequency` "8"
    and no line), all with the job's start as `recorded_at`: append them to the history table and the next
    run counts them. Both come from one judging pass: every action on either runs the job again (with the
    same rows each time) unless the pass is kept: `judged.persist()`, write both, `judged.unpersist()`.
    """
    from pyspark.sql import functions as F

    as_of = as_of or datetime.date.today()
    received = received or datetime.date.today()
    shipped = _ship(_compiled(policies, as_of))
    keyed, order = _keyed(claims, column, history)
    spread = keyed.repartition(partitions, "patient") if partitions else keyed.repartition("patient")
    ordered = spread.sortWithinPartitions(*order)
    broadcast = claims.sparkSession.sparkContext.broadcast(shipped)
    recorded_at = datetime.datetime.now(datetime.timezone.utc) if record_history else None
    run = _PartitionRun(broadcast, as_of, received, window, history is not None, recorded_at, decision_json)
    inputs = ["claim", "position"] + (["kind", "line"] if history is not None else [])
    if not record_history:
        return ordered.select(*inputs).mapInArrow(run, DECISION_SCHEMA)
    judged = ordered.select(*inputs).mapInArrow(run, f"{DECISION_SCHEMA}, recorded {_HISTORY_ROW}")
    return Judged(
        judged.where(F.col("recorded").isNull()).drop("recorded"),
        judged.where(F.col("recorded").isNotNull()).select("recorded.*"),
        judged,
    )


def _keyed(
    claims: DataFrame, column: str | None, history: DataFrame | str | os.PathLike | None
) -> tuple[DataFrame, list[str]]:
    """Each claim as its JSON text and its place in the input, keyed by patient, first date of service and
    id; with `history`, the patients' earlier lines among them. And the order to judge them in."""
    from pyspark.sql import functions as F

    text, as_columns = _claim_text(claims, column)
    patient, first_date, claim_id = _claim_keys(claims, text, as_columns)
    keyed = claims.select(
        text.alias("claim"),
        F.monotonically_increasing_id().alias("position"),
        patient.alias("patient"),
        first_date.alias("first_date"),
        claim_id.alias("claim_id"),
    )
    if history is None:
        return keyed, ["patient", "first_date", "claim_id", "position"]
    # Each patient's earlier lines (kind 0) ahead of their claims (kind 1).
    keyed = keyed.select("*", F.lit(1).alias("kind"), F.lit(None).cast(_HISTORY_ROW).alias("line"))
    keyed = keyed.unionByName(_earlier_lines(history, keyed, claims.sparkSession))
    return keyed, ["patient", "kind", "first_date", "claim_id", "position"]


def _earlier_lines(history: DataFrame | str | os.PathLike, claims: DataFrame, spark) -> DataFrame:
    """The lines of `history` that count now, of the patients of `claims`, as rows to union with them."""
    from pyspark.sql import functions as F

    table: DataFrame = spark.read.parquet(os.fspath(history)) if isinstance(history, (str, os.PathLike)) else history
    missing = [name for name, _ in HISTORY_COLUMNS.fields if name != "recorded_at" and name not in table.columns]
    if missing:
        raise ValueError(
            f"the history has no column {', '.join(f'`{m}`' for m in missing)}; a history has the "
            f"columns of payerpolicy.spark.HISTORY_SCHEMA: {HISTORY_SCHEMA}"
        )
    lines = current_history(table)
    wanted = claims.select("patient").where(F.col("patient").isNotNull()).distinct()
    lines = lines.join(wanted.withColumnRenamed("patient", "patient_id"), "patient_id", "left_semi")
    row = F.struct(
        *[
            (F.col(name) if name in lines.columns else F.lit(None)).cast(spark_sql_type(kind)).alias(name)
            for name, kind in HISTORY_COLUMNS.fields
        ]
    )
    return lines.select(
        F.lit(None).cast("string").alias("claim"),
        F.lit(None).cast("long").alias("position"),
        F.col("patient_id").alias("patient"),
        F.lit(None).cast("string").alias("first_date"),
        F.col("claim_id").cast("string").alias("claim_id"),
        F.lit(0).alias("kind"),
        row.alias("line"),
    )


def _compiled(policies, as_of: datetime.date) -> Policies | Policy:
    """The policies, every one loaded now: a policy with errors raises `PolicyError` on the driver."""
    if policies is None:
        policies = Policies(as_of=as_of)
    if isinstance(policies, Policies):
        for name in policies.names():
            policies.get(name)
        return policies
    if isinstance(policies, Policy):
        return policies
    return load(policies, as_of=as_of)


def _ship(policies: Policies | Policy) -> bytes:
    return pickle.dumps(policies, protocol=pickle.HIGHEST_PROTOCOL)


def _claim_text(claims: DataFrame, column: str | None):
    """The column of claim JSON text: the one named, the only text column, `claim` or `value`; else the
    claim schema's columns written back as claim JSON (a null field is a field not given). And whether the
    claims came as columns."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType

    text_columns = [f.name for f in claims.schema.fields if isinstance(f.dataType, StringType)]
    if column is not None:
        if column not in claims.columns:
            raise ValueError(f"the claims have no column `{column}`; their columns are {', '.join(claims.columns)}")
        return F.col(column), False
    if len(claims.columns) == 1 and text_columns:
        return F.col(text_columns[0]), False
    for name in ("claim", "value"):
        if name in text_columns:
            return F.col(name), False
    return F.to_json(F.struct(*[F.col(c) for c in claims.columns])), True


def _claim_keys(claims: DataFrame, text, as_columns: bool):
    """What a claim is repartitioned and sorted by: its patient's id, its first date of service and its id.
    Claims given as the claim schema's columns have them as columns (`patient.id`, `lines.date`, `id`);
    claim JSON text (or columns of another shape) is read for them with JSON paths."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, StructType

    fields = {f.name: f.dataType for f in claims.schema.fields} if as_columns else {}
    patient, lines = fields.get("patient"), fields.get("lines")
    if (
        "id" in fields
        and isinstance(patient, StructType)
        and "id" in patient.names
        and isinstance(lines, ArrayType)
        and isinstance(lines.elementType, StructType)
        and "date" in lines.elementType.names
    ):
        return (
            F.col("patient.id").cast("string"),
            F.array_min(F.col("lines.date")).cast("string"),
            F.col("id").cast("string"),
        )
    return (
        F.get_json_object(text, "$.patient.id"),
        F.array_min(F.from_json(F.get_json_object(text, "$.lines[*].date"), "array<string>")),
        F.get_json_object(text, "$.id"),
    )


# The unpickled policies of each broadcast, kept for the life of an executor's Python worker.
_RECEIVED: dict[str, Policies | Policy] = {}


class _PartitionRun:
    """Judges one partition's claims (already in patient, date order, each patient's earlier lines ahead of
    their claims) as one session; picklable, so that Spark ships it to the executors. With `recorded_at`,
    the lines the run recorded follow the decisions, as rows of their own (`recorded`)."""

    def __init__(
        self,
        broadcast,
        as_of: datetime.date,
        received: datetime.date,
        window: int,
        with_history: bool = False,
        recorded_at: datetime.datetime | None = None,
        decision_json: bool = True,
    ):
        self.broadcast, self.as_of, self.received, self.window = broadcast, as_of, received, window
        self.with_history, self.recorded_at = with_history or recorded_at is not None, recorded_at
        self.decision_json = decision_json
        self.token = uuid.uuid4().hex  # names this job's policies in the worker's keep

    def policies(self) -> Policies | Policy:
        found = _RECEIVED.get(self.token)
        if found is None:
            found = _RECEIVED[self.token] = pickle.loads(self.broadcast.value)
        return found

    def __call__(self, batches) -> Iterator:
        import pyarrow.compute as pc

        positions: deque[int] = deque()  # of the claims read and not yet decided, in input order
        # The earlier lines given, and what this run records. Without either, the session keeps its own run's
        # history, as `check` without --history does (it moves to a scratch file past 100,000 claims).
        history = MemoryHistory() if self.with_history else None

        def records():
            for batch in batches:
                claims = batch
                if history is not None and "kind" in batch.schema.names:  # earlier lines, ahead of the claims
                    earlier = pc.equal(batch.column("kind"), 0)
                    history.add(history_lines(batch.column("line").filter(earlier)))
                    claims = batch.filter(pc.invert(earlier))
                texts = claims.column("claim").to_pylist()
                for text, position in zip(texts, claims.column("position").to_pylist()):
                    positions.append(position)
                    where = f"position {position}"
                    if text is None:
                        yield read_claim_text("", where, claim_from_dict, "an empty row")
                    else:
                        yield read_claim_text(text, where, claim_from_dict)

        session = Session(
            self.policies(), as_of=self.as_of, received=self.received, window=self.window, history=history
        )
        recording = self.recorded_at is not None
        held: list[Decision] = []
        at: list[int] = []
        for decision in session.check_many(records()):  # decisions come in input order
            held.append(decision)
            at.append(positions.popleft())
            if len(held) >= _BATCH_ROWS:
                yield decision_batch(held, at, with_json=self.decision_json, recorded=recording)
                held, at = [], []
        session.close()
        if held:
            yield decision_batch(held, at, with_json=self.decision_json, recorded=recording)
        if history is not None and self.recorded_at is not None:
            yield from recorded_batches(history.recorded(), self.recorded_at, _BATCH_ROWS)
