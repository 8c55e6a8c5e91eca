"""The Spark job's tables, each declared once: a column's name and type, from which come both the Spark SQL
text Spark is given (`DECISION_SCHEMA`, `HISTORY_SCHEMA`) and the Arrow types the workers fill their batches with.

A type is a Spark SQL scalar name (`"string"`, `"int"`, ...), or an `Array`, `Map` or `Struct` of types. The two
spellings cannot drift apart: a column added to a declaration here is in both.

pyarrow comes with the optional extra `spark`; it is imported by the functions that make Arrow types.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Union

__all__ = [
    "Array",
    "Map",
    "Struct",
    "DECISION_COLUMNS",
    "HISTORY_COLUMNS",
    "spark_sql",
    "spark_sql_type",
    "arrow_struct",
    "arrow_type",
]


@dataclass(frozen=True)
class Array:
    """A list of values of one type."""

    item: Kind


@dataclass(frozen=True)
class Map:
    """A map of keys to values, each of one type."""

    key: Kind
    value: Kind


@dataclass(frozen=True)
class Struct:
    """Named fields, in order."""

    fields: tuple[tuple[str, Kind], ...]


Kind = Union[str, Array, Map, Struct]
"""A column's type: a Spark SQL scalar name, or an Array, Map or Struct."""

_TEXT_MAP = Map("string", "string")

# The decision JSON as columns. `reason` and `source` are maps of text (a source's line number is written as
# text); `decision` is the decision JSON itself, byte for byte as `payerpolicy check --format json` writes the
# claim, and `position` the claim's place in the input DataFrame (to put decisions back in input order).
_LINE = Struct(
    (("line", "int"), ("code", "string"), ("billed_units", "int"), ("allowed_units", "int"), ("status", "string"))
)
_FIX = Struct((("action", "string"), ("line", "int"), ("value", "string"), ("note", "string")))
_FINDING = Struct(
    (
        ("rule", "string"),
        ("family", "string"),
        ("severity", "string"),
        ("kind", "string"),
        ("line", "int"),
        ("message", "string"),
        ("reason", _TEXT_MAP),
        ("fix", _FIX),
        ("source", _TEXT_MAP),
    )
)
_ERROR = Struct((("field", "string"), ("message", "string")))
DECISION_COLUMNS = Struct(
    (
        ("position", "long"),
        ("id", "string"),
        ("payer", "string"),
        ("policy_version", "string"),
        ("status", "string"),
        ("lines", Array(_LINE)),
        ("findings", Array(_FINDING)),
        ("errors", Array(_ERROR)),
        ("where", "string"),
        ("decision", "string"),
    )
)

# One row per stored line: `HistoryLine`'s fields, with the date of service as a date and charges and allowed
# amounts in dollars; then `recorded_at`, when the run that judged it started (UTC).
HISTORY_COLUMNS = Struct(
    (
        ("patient_id", "string"),
        ("claim_id", "string"),
        ("payer", "string"),
        ("frequency", "string"),
        ("number", "int"),
        ("code", "string"),
        ("modifiers", Array("string")),
        ("units", "int"),
        ("charge", "double"),
        ("date_of_service", "date"),
        ("provider_type", "string"),
        ("discipline", "string"),
        ("allowed", "double"),
        ("recorded_at", "timestamp"),
    )
)

# Column names Spark SQL reads as keywords, back-quoted where they name a top-level column.
_KEYWORDS = frozenset({"where"})


def spark_sql(columns: Struct) -> str:
    """A table's columns as Spark SQL's schema text: `id string, lines array<struct<line:int, ...>>, ...`."""
    return ", ".join(
        f"{f'`{name}`' if name in _KEYWORDS else name} {spark_sql_type(kind)}" for name, kind in columns.fields
    )


def spark_sql_type(kind: Kind) -> str:
    """One type in Spark SQL's words: `array<string>`, `map<string,string>`, `struct<line:int, code:string>`."""
    if isinstance(kind, str):
        return kind
    if isinstance(kind, Array):
        return f"array<{spark_sql_type(kind.item)}>"
    if isinstance(kind, Map):
        return f"map<{spark_sql_type(kind.key)},{spark_sql_type(kind.value)}>"
    return "struct<" + ", ".join(f"{name}:{spark_sql_type(of)}" for name, of in kind.fields) + ">"


@functools.lru_cache(maxsize=None)
def arrow_struct(columns: Struct) -> Any:
    """A table's row as an Arrow struct type (made once per worker)."""
    return arrow_type(columns)


def arrow_type(kind: Kind) -> Any:
    """One type in Arrow's terms; Spark's `int` is 32 bits, `long` 64, a timestamp is UTC microseconds."""
    import pyarrow as pa

    if isinstance(kind, str):
        scalars = {
            "string": pa.string,
            "int": pa.int32,
            "long": pa.int64,
            "double": pa.float64,
            "date": pa.date32,
            "timestamp": lambda: pa.timestamp("us", "UTC"),
        }
        return scalars[kind]()
    if isinstance(kind, Array):
        return pa.list_(arrow_type(kind.item))
    if isinstance(kind, Map):
        return pa.map_(arrow_type(kind.key), arrow_type(kind.value))
    return pa.struct([(name, arrow_type(of)) for name, of in kind.fields])
