"""Table rows written as rows of a shared form (program.row_forms): the same program as written rule by rule.

`plan_program(row_forms=False)` writes every unit cap's and modifier requirement's functions; by default the
first row of each form is written and the rest are bound to its functions with their own figures. The two
must give the same source, constant for constant, and the same findings (messages, fixes, sources) on the
same claims, whatever the rows hold: codes alone or in sets, a limit of 0, two caps counting the same codes,
a row with its own message or fix, dates, a requirement of several modifiers or with a `when`.
"""

from __future__ import annotations

from pathlib import Path

from payerpolicy.pipeline import load_program
from payerpolicy.program import source as program_source
from payerpolicy.program.compile import assemble, plan_program
from test_payer_scale import judged, table_claims

CAPPED = [f"2{n:04d}" for n in range(1000, 1040)]  # made-up codes, a unit cap each
NEED_SIDE = [f"2{n:04d}" for n in range(2000, 2030)]  # made-up codes, each needing a modifier


def _cap(i: int, code: str) -> str:
    codes = f"[{code}, {CAPPED[(i + 1) % len(CAPPED)]}]" if i % 7 == 3 else code
    extra = ""
    if i % 11 == 5:
        extra = '    message: "{line.code}: too many units"\n'
    if i % 13 == 6:
        extra += '    fix: review "check the notes"\n'
    if i % 9 == 4:
        extra += "    effective_from: 2026-03-03\n"
    row = f"  - id: rows.cap.{code}\n    codes: {codes}\n    max_units: {i % 4}\n    source: test\n{extra}"
    if i % 10 == 8:  # a second cap on the same code: the same running total
        row += f"  - id: rows.cap2.{code}\n    codes: {code}\n    max_units: 3\n    source: test\n"
    return row


def _requirement(i: int, code: str) -> str:
    required = "require_any: [RT, LT]" if i % 8 == 2 else f"require: {('RT', 'LT', 'TC', '26')[i % 4]}"
    when = "    when: units > 1\n" if i % 9 == 5 else ""
    return f"  - id: rows.side.{code}\n    codes: {code}\n    {required}\n{when}    source: test\n"


def _row_policy(tmp_path: Path) -> Path:
    folder = tmp_path / "rows"
    folder.mkdir()
    (folder / "policy.yaml").write_text(
        "policy: {payer: rows, name: Row-form test policy, version: '1', extends: medicare, fictional: true}\n"
    )
    (folder / "caps.yaml").write_text("unit_caps:\n" + "".join(_cap(i, c) for i, c in enumerate(CAPPED)))
    (folder / "sides.yaml").write_text(
        "modifier_requirements:\n" + "".join(_requirement(i, c) for i, c in enumerate(NEED_SIDE))
    )
    return folder


def _conditions_written(spec, monkeypatch, **options) -> tuple:
    """The program planned with `options`, and how many rule conditions the writer wrote for it."""
    written = []
    condition = program_source.SourceWriter.condition

    def counted(self, node, focus):
        if focus is None:
            written.append(node)
        return condition(self, node, focus)

    monkeypatch.setattr(program_source.SourceWriter, "condition", counted)
    program = assemble(spec, plan_program(spec, **options))
    monkeypatch.undo()
    return program, len(written)


def test_table_rows_as_forms_make_the_program_written_rule_by_rule(tmp_path, monkeypatch):
    spec = load_program(_row_policy(tmp_path), cache=False)[0].policy
    forms, form_conditions = _conditions_written(spec, monkeypatch)
    each, each_conditions = _conditions_written(spec, monkeypatch, row_forms=False)
    # Most rows were not written (their groups are composed, so no group asks for their conditions either).
    assert each_conditions - form_conditions > 40
    assert forms.source == each.source  # constant for constant, in the same order
    assert "# rows.cap.21001\ndef when_" in forms.source  # a row's functions are in the source people read

    codes = CAPPED + NEED_SIDE + ["97110", "97140"]
    claims = table_claims(5, 800, "rows", codes, ("GP", "RT", "LT", "TC", "26", "59"))
    decisions = judged(forms, claims)
    assert decisions == judged(each, claims)
    fired = {f.rule.split(".")[1] for d in decisions for f in d.findings if f.rule.startswith("rows.")}
    assert fired == {"cap", "cap2", "side"}
    messages = {f.message for d in decisions for f in d.findings if f.rule.startswith("rows.cap.")}
    assert any("is limited to 0 units" in m for m in messages) and any("too many units" in m for m in messages)


def test_shipped_policies_are_the_same_with_row_forms():
    for payer in ("medicare", "example-commercial"):
        spec = load_program(payer, cache=False)[0].policy
        assert assemble(spec, plan_program(spec)).source == assemble(spec, plan_program(spec, row_forms=False)).source
