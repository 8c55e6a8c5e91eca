"""The Spark job's tables are declared once (`payerpolicy.spark.schema`): the Spark SQL text Spark is given and
the Arrow types the workers fill come from the same declaration, and the history table's columns are the
stored line's fields. The Spark SQL text is a contract (callers read `DECISION_SCHEMA`): it is spelled out here."""

from __future__ import annotations

import dataclasses

from payerpolicy.judge.history import HistoryLine
from payerpolicy.spark import DECISION_SCHEMA, HISTORY_SCHEMA
from payerpolicy.spark.schema import DECISION_COLUMNS, HISTORY_COLUMNS, Array, Map, Struct, spark_sql_type

DECISION_TEXT = (
    "position long, id string, payer string, policy_version string, status string, "
    "lines array<struct<line:int, code:string, billed_units:int, allowed_units:int, status:string>>, "
    "findings array<struct<rule:string, family:string, severity:string, kind:string, line:int, message:string, "
    "reason:map<string,string>, fix:struct<action:string, line:int, value:string, note:string>, "
    "source:map<string,string>>>, "
    "errors array<struct<field:string, message:string>>, `where` string, decision string"
)


def test_decision_schema_text_is_the_documented_contract():
    assert DECISION_SCHEMA == DECISION_TEXT


def test_history_table_is_the_stored_line_and_when_it_was_recorded():
    names = [name for name, _ in HISTORY_COLUMNS.fields]
    assert names[-1] == "recorded_at"
    assert sorted(names[:-1]) == sorted(field.name for field in dataclasses.fields(HistoryLine))
    assert HISTORY_SCHEMA.startswith("patient_id string, claim_id string, ")
    assert "modifiers array<string>" in HISTORY_SCHEMA and HISTORY_SCHEMA.endswith("recorded_at timestamp")


def test_nested_types_in_spark_sql_words():
    kind = Struct((("codes", Array("string")), ("reason", Map("string", "int")), ("at", Struct((("x", "long"),)))))
    assert spark_sql_type(kind) == "struct<codes:array<string>, reason:map<string,int>, at:struct<x:long>>"


def test_arrow_types_follow_the_same_declaration(optional_module):
    pa = optional_module("pyarrow", "pip install -e '.[spark]'")
    from payerpolicy.spark.columns import arrow_decision_schema
    from payerpolicy.spark.history import arrow_history_type

    schema = arrow_decision_schema()
    assert schema.names == [name for name, _ in DECISION_COLUMNS.fields]
    assert schema.field("position").type == pa.int64()
    lines = schema.field("lines").type.value_type
    assert [lines.field(i).name for i in range(lines.num_fields)] == [
        "line", "code", "billed_units", "allowed_units", "status"
    ]  # fmt: skip
    assert lines.field("line").type == pa.int32()
    finding = schema.field("findings").type.value_type
    assert finding.field("reason").type == pa.map_(pa.string(), pa.string())
    assert finding.field("fix").type.field("line").type == pa.int32()
    history = arrow_history_type()
    assert history.field("date_of_service").type == pa.date32()
    assert history.field("recorded_at").type == pa.timestamp("us", "UTC")
    assert history.field("modifiers").type == pa.list_(pa.string())
