"""Fields and functions of the rule language are declared once (rules.fields, rules.builtins), and everything
else follows from the declarations: the checker, the generated code, the judged line, a past line from the
claim history and the README's tables. The generated code never holds a policy's own names."""

from __future__ import annotations

import ast as python_ast
import datetime
import json
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy.claims.model import FAULTS
from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.judge.history import HistoryLine
from payerpolicy.judge.judge import line_view
from payerpolicy.rules import builtins, fields

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PROGRAM = ROOT / "src" / "payerpolicy" / "program"

CLAIM = {
    "id": "C-1",
    "payer": "every",
    "patient": {"id": "P-1", "birth_date": "1950-04-02"},
    "provider": {"npi": "1234567893", "type": "PT"},
    "diagnoses": ["I69.351"],
    "frequency": "1",
    "place_of_service": "11",
    "prior_authorization": "A-1",
    "referring_npi": "1234567893",
    "treatment_began": "2026-02-01",
    "lines": [
        {
            "code": "97110",
            "modifiers": ["GP"],
            "units": 2,
            "minutes": 30,
            "date": "2026-03-02",
            "charge": 90.0,
            "diagnosis_pointers": [1],
        },
        {"code": "97112", "modifiers": ["GP"], "units": 1, "minutes": 12, "date": "2026-03-02", "charge": 45.0},
    ],
}


def test_the_readme_tables_are_the_declarations():
    text = README.read_text(encoding="utf-8")
    for table in (fields.markdown_table(), builtins.markdown_table()):
        assert table in text, "rewrite the README's tables with `python -m payerpolicy.rules.readme README.md`"


def test_the_field_table_refuses_an_entry_it_does_not_know():
    # A slip in fields.yaml (a misspelt key, a place to read that the code writer has no read for) stops the
    # import with the field's name, not a rule language that quietly lacks or misreads a field.
    bad_key = "line:\n  units:\n    kind: number\n    sumable: true\n    doc: the units billed\n"
    with pytest.raises(ValueError, match=r"line\.units: unknown \['sumable'\]"):
        fields._load(bad_key)
    bad_read = "claim:\n  payer:\n    kind: text\n    read: payer file\n    doc: the payer\n"
    with pytest.raises(ValueError, match="claim.payer: unknown payer file"):
        fields._load(bad_read)
    faults = fields._load("line:\n  data_fault.*:\n    kind: text\n    attr: fault_{fault}\n    doc: 'x: {doc}'\n")
    assert [f.attribute for f in faults] == [f"fault_{fault}" for fault in FAULTS]
    assert [f.doc for f in faults] == [f"x: {doc}" for doc in FAULTS.values()]


def test_a_judged_line_and_a_past_line_have_every_line_field():
    claim = claim_from_dict(CLAIM)
    faulty = claim_from_dict(dict(CLAIM, referring_npi="12"))
    assert faulty.faults and not claim.faults  # the second is judged by the view for claims with data faults
    for view in (line_view(claim, claim.lines[0]), line_view(faulty, faulty.lines[0])):
        for name in fields.LINE_ATTRIBUTES + fields.JUDGED_LINE_ATTRIBUTES:
            getattr(view, name)  # set, or the slot is empty and this raises
    assert line_view(faulty, faulty.lines[0]).fault_referring_npi is not None
    past = HistoryLine("C-0", "P-1", "every", None, 1, "97110", ("GP",), 2, 90.0, datetime.date(2026, 3, 1), "PT", "PT")
    for declared in fields.FIELDS:
        if declared.read != fields.LINE:
            continue
        value = getattr(past, declared.attribute)
        if not declared.in_history:  # not kept: missing, as a rule sees a missing value
            assert value == declared.empty, declared.name


def _policy_reading_every_field(tmp_path: Path) -> Path:
    rules = []
    for n, declared in enumerate(fields.FIELDS):
        rules.append(
            {
                "id": f"every.field-{n}",
                "family": "custom",
                "codes": "any",
                "severity": "info",
                "kind": "advisory",
                "when": f"{declared.name} is present and another line with {declared.name} is present that day",
                "message": f"{{{declared.name}}}",
                "source": "test",
            }
        )
    for n, summed in enumerate(fields.SUMMABLE):
        rules.append(
            {
                "id": f"every.total-{n}",
                "family": "custom",
                "codes": "any",
                "severity": "info",
                "kind": "advisory",
                "when": f"total {summed} of lines earlier that year >= 0",
                "message": f"{{total {summed} of lines that day}}",
                "source": "test",
            }
        )
    text = json.dumps({"policy": {"payer": "every", "name": "every field", "version": "1"}, "rules": rules})
    (tmp_path / "policy.yaml").write_text(text)
    return tmp_path


def test_every_declared_field_is_checked_written_and_read(tmp_path):
    policy = payerpolicy.load(_policy_reading_every_field(tmp_path))
    decision = policy.check(claim_from_dict(CLAIM))
    fired = {f.rule for f in decision.findings}
    # Fields the claim gives on both lines are read on the judged line and on the other line of the day.
    for n, declared in enumerate(fields.FIELDS):
        if declared.name in ("units", "code", "claim.referring_npi", "patient.age", "claim.received"):
            assert f"every.field-{n}" in fired, declared.name
        if declared.path[0] == "data_fault":
            assert f"every.field-{n}" not in fired, declared.name
    assert {f"every.total-{n}" for n in range(len(fields.SUMMABLE))} <= fired
    messages = {f.rule: f.message for f in decision.findings if f.line == 1}
    code = next(n for n, d in enumerate(fields.FIELDS) if d.name == "patient.age")
    assert messages[f"every.field-{code}"] == "75"
    total = fields.SUMMABLE.index("charge")
    assert messages[f"every.total-{total}"] == "135"


NAMES_POLICY = """\
policy: {payer: names, name: names, version: "1"}
code_sets:
  zz_marker_codes: [97110, 97112]
values:
  zz_marker_limit: 3
  zz_marker_by_year: {2026: 2}
rules:
  - id: names.zz-marker-rule
    family: custom
    codes: "@zz_marker_codes"
    when: >-
      units > value("zz_marker_limit") - value("zz_marker_by_year", year_of(line.date))
      and total charge of lines with code in @zz_marker_codes that day > 100
    severity: warn
    kind: advisory
    message: "{units} of {value(\\"zz_marker_limit\\")}"
    source: test
"""


def test_a_policys_names_never_enter_the_compiled_code_and_the_constants_are_explained(tmp_path):
    (tmp_path / "policy.yaml").write_text(NAMES_POLICY)
    policy = payerpolicy.load(tmp_path)
    program = policy.program
    assert "zz_marker" not in program.shapes_source  # what is compiled: names go in as constants by number
    legend = [line for line in program.source.splitlines() if line.startswith("# K_")]
    used = {name for name in program.plan.constants}
    assert {line.split(" = ")[0][2:] for line in legend} == used
    assert any("the policy's value 'zz_marker_by_year'" in line for line in legend)
    claim = claim_from_dict(dict(CLAIM, lines=[dict(line, units=3, charge=60.0) for line in CLAIM["lines"]]))
    assert [f.message for f in policy.check(claim).findings] == ["3 of 3", "3 of 3"]


def test_the_code_writer_never_reads_its_own_output():
    """No regular expression or text search over written code (program.pycode keeps code as data)."""
    for path in PROGRAM.glob("*.py"):
        if path.name == "cache.py":  # the compiled-policy cache reads files, not code it wrote
            continue
        tree = python_ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.name for node in python_ast.walk(tree) if isinstance(node, python_ast.Import) for alias in node.names
        }
        assert "re" not in imported, path.name
        searched = {
            node.func.attr
            for node in python_ast.walk(tree)
            if isinstance(node, python_ast.Call) and isinstance(node.func, python_ast.Attribute)
        }
        assert not searched & {"find", "index", "rfind", "sub", "search", "findall"}, path.name


def test_the_checker_and_the_writer_know_no_function_by_name():
    """A function with parts of its own (`value`, `year_of`, `first_present`) carries them in rules.builtins."""
    for module in ("policy/check.py", "program/source.py", "program/compile.py"):
        text = (ROOT / "src" / "payerpolicy" / module).read_text(encoding="utf-8")
        for name, builtin in builtins.BUILTINS.items():
            if builtin.check or builtin.emit or builtin.may_be_missing:
                assert f'"{name}"' not in text, (module, name)
    assert all(b.implementation is not None or b.emit is not None for b in builtins.BUILTINS.values())
