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

What is not here yet: the claim history (a history file is one process's; a cluster needs a shared store).
"""
from __future__ import annotations

import datetime
import os
import pickle
import uuid
from collections import deque
from typing import TYPE_CHECKING, Iterator

from payerpolicy.api import DEFAULT_WINDOW, Policy, load
from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.claims.json_files import read_claim_text
from payerpolicy.decision import Decision
from payerpolicy.session import Policies, Session
from payerpolicy.spark.columns import decision_batch

if TYPE_CHECKING:  # pyspark is the optional extra `spark`; this module imports it only when judging
    from pyspark.sql import DataFrame

__all__ = ["judge", "DECISION_SCHEMA"]

# The decision JSON as columns. `reason` and `source` are maps of text (a source's line number is written as
# text); `decision` is the decision JSON itself, byte for byte as `payerpolicy check --format json` writes the
# claim, and `position` the claim's place in the input DataFrame (to put decisions back in input order).
DECISION_SCHEMA = (
    "position long, id string, payer string, policy_version string, status string, "
    "lines array<struct<line:int, code:string, billed_units:int, allowed_units:int, status:string>>, "
    "findings array<struct<rule:string, family:string, severity:string, kind:string, line:int, message:string, "
    "reason:map<string,string>, fix:struct<action:string, line:int, value:string, note:string>, "
    "source:map<string,string>>>, "
    "errors array<struct<field:string, message:string>>, `where` string, decision string"
)

# Rows per Arrow batch handed back to Spark: big enough that Arrow's per-batch cost vanishes, small enough that
# a partition's decisions are never all held at once.
_BATCH_ROWS = 2048


def judge(claims: DataFrame, policies: Policies | Policy | str | os.PathLike | None = None, *,
          as_of: datetime.date | None = None, received: datetime.date | None = None,
          column: str | None = None, partitions: int | None = None,
          window: int = DEFAULT_WINDOW) -> DataFrame:
    """Judge a DataFrame of claims; one row of `DECISION_SCHEMA` per claim.

    `claims`: a column of claim JSON text (`column`, or the DataFrame's only text column, or one named
    `claim` or `value`), or else the claim schema's columns. `policies`: a `Policies` (each claim routed by
    its `payer`, as the command line does), one `Policy`, or a policy name or path; default the shipped
    policies. `as_of` and `received` as for `payerpolicy check` (one date for the whole job, fixed on the
    driver). `partitions`: how many partitions to judge in (default: Spark's shuffle partitions).
    """
    from pyspark.sql import functions as F

    as_of = as_of or datetime.date.today()
    received = received or datetime.date.today()
    shipped = _ship(_compiled(policies, as_of))
    text, as_columns = _claim_text(claims, column)
    patient, first_date, claim_id = _claim_keys(claims, text, as_columns)
    keyed = claims.select(text.alias("claim"), F.monotonically_increasing_id().alias("position"),
                          patient.alias("patient"), first_date.alias("first_date"), claim_id.alias("claim_id"))
    spread = keyed.repartition(partitions, "patient") if partitions else keyed.repartition("patient")
    ordered = spread.sortWithinPartitions("patient", "first_date", "claim_id", "position")
    broadcast = claims.sparkSession.sparkContext.broadcast(shipped)
    run = _PartitionRun(broadcast, as_of, received, window)
    return ordered.select("claim", "position").mapInArrow(run, DECISION_SCHEMA)


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
    if ("id" in fields and isinstance(patient, StructType) and "id" in patient.names
            and isinstance(lines, ArrayType) and isinstance(lines.elementType, StructType)
            and "date" in lines.elementType.names):
        return (F.col("patient.id").cast("string"), F.array_min(F.col("lines.date")).cast("string"),
                F.col("id").cast("string"))
    return (F.get_json_object(text, "$.patient.id"),
            F.array_min(F.from_json(F.get_json_object(text, "$.lines[*].date"), "array<string>")),
            F.get_json_object(text, "$.id"))


# The unpickled policies of each broadcast, kept for the life of an executor's Python worker.
_RECEIVED: dict[str, Policies | Policy] = {}


class _PartitionRun:
    """Judges one partition's claims (already in patient, date order) as one session; picklable, so that
    Spark ships it to the executors."""

    def __init__(self, broadcast, as_of: datetime.date, received: datetime.date, window: int):
        self.broadcast, self.as_of, self.received, self.window = broadcast, as_of, received, window
        self.token = uuid.uuid4().hex  # names this job's policies in the worker's keep

    def policies(self) -> Policies | Policy:
        found = _RECEIVED.get(self.token)
        if found is None:
            found = _RECEIVED[self.token] = pickle.loads(self.broadcast.value)
        return found

    def __call__(self, batches) -> Iterator:
        positions: deque[int] = deque()  # of the claims read and not yet decided, in input order

        def records():
            for batch in batches:
                texts = batch.column("claim").to_pylist()
                for text, position in zip(texts, batch.column("position").to_pylist()):
                    positions.append(position)
                    where = f"position {position}"
                    if text is None:
                        yield read_claim_text("", where, claim_from_dict, "an empty row")
                    else:
                        yield read_claim_text(text, where, claim_from_dict)

        session = Session(self.policies(), as_of=self.as_of, received=self.received, window=self.window)
        held: list[Decision] = []
        at: list[int] = []
        for decision in session.check_many(records()):  # decisions come in input order
            held.append(decision)
            at.append(positions.popleft())
            if len(held) >= _BATCH_ROWS:
                yield decision_batch(held, at)
                held, at = [], []
        session.close()
        if held:
            yield decision_batch(held, at)
