"""Code pair tables read from a file (`code_pair_tables:`): the NCCI edits at the size CMS publishes them.

A table is one rule indexed by its column-2 codes; these tests check that it judges as hand-written
`code_pairs:` rows do (indicators 0, 1 and 9, bypass modifiers, effective and deletion dates, a pair across
two claims of one day), and that a table with mistakes is refused with every mistake placed.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy.diagnostics import PolicyError

HEADER = "column1,column2,effective_from,deleted,modifier_indicator\n"


def _policy(tmp_path: Path, rows: str, header: str = HEADER, extra: str = "") -> Path:
    folder = tmp_path / "acme"
    folder.mkdir(exist_ok=True)
    (folder / "policy.yaml").write_text(
        textwrap.dedent("""\
        policy:
          payer: acme
          name: Acme test plan
          version: "1"
          extends: medicare
        code_pair_tables:
          - id: acme.ptp
            file: edits/ptp.csv
            source: "test edits"
        """)
        + extra
    )
    (folder / "edits").mkdir(exist_ok=True)
    (folder / "edits" / "ptp.csv").write_text(header + rows)
    return folder


def _claim(*lines, claim_id="C-1", patient="P-1", date="2026-03-02"):
    return {
        "id": claim_id,
        "payer": "acme",
        "patient": {"id": patient},
        "provider": {"type": "PT"},
        "diagnoses": ["I69.351"],
        "lines": [
            {"code": code, "modifiers": ["GP", *mods], "units": 1, "minutes": 15, "date": date} for code, *mods in lines
        ],
    }


def _table_findings(decision):
    return [(f.line, f.fix.action, f.fix.value) for f in decision.findings if f.rule == "acme.ptp"]


ROWS = (
    "97530,97035,2020-10-01,,1\n"  # indicator 1: a bypass modifier lifts it
    "97161,97035,20200101,*,0\n"  # indicator 0: nothing lifts it (CMS date form, * for none)
    "97110,97035,2020-01-01,2026-03-01,1\n"  # deleted from 2026-03-01 on
    "97112,97035,2026-04-01,,1\n"  # not in force until April
    "97010,97035,,,9\n"
)  # indicator 9: not applied


def test_an_indicator_1_pair_denies_the_column_2_line_unless_a_bypass_modifier_is_on_it(tmp_path):
    policy = payerpolicy.load(_policy(tmp_path, ROWS))
    decision = policy.check(_claim(("97530",), ("97035",)))
    assert _table_findings(decision) == [(2, "add_modifier", "59")]
    finding = next(f for f in decision.findings if f.rule == "acme.ptp")
    assert finding.severity == "deny" and finding.family == "code_pair"
    assert finding.message.startswith(
        "97035 is not paid on the same day as 97530 for the same patient "
        "(code pair edit 97530/97035, 97035 in column 2)"
    )
    assert finding.source["cite"] == "test edits"
    assert _table_findings(policy.check(_claim(("97530",), ("97035", "XU")))) == []
    # The column-1 line itself is never the one denied.
    assert all(line == 2 for line, *_ in _table_findings(decision))


def test_an_indicator_0_pair_is_not_lifted_by_any_modifier(tmp_path):
    policy = payerpolicy.load(_policy(tmp_path, ROWS))
    decision = policy.check(_claim(("97161",), ("97035", "59")))
    assert _table_findings(decision) == [(2, "remove_line", None)]
    assert "no modifier overrides this pair" in decision.findings[-1].message


def test_dates_decide_which_edits_are_in_force_and_indicator_9_rows_never_are(tmp_path):
    policy = payerpolicy.load(_policy(tmp_path, ROWS))
    # Deleted on 2026-03-01: in force the day before, not on it.
    assert _table_findings(policy.check(_claim(("97110",), ("97035",), date="2026-02-28")))
    assert not _table_findings(policy.check(_claim(("97110",), ("97035",), date="2026-03-01")))
    # Effective 2026-04-01.
    assert not _table_findings(policy.check(_claim(("97112",), ("97035",), date="2026-03-31")))
    assert _table_findings(policy.check(_claim(("97112",), ("97035",), date="2026-04-01")))
    assert not _table_findings(policy.check(_claim(("97010",), ("97035",))))


def test_several_column_1_codes_on_the_day_give_one_finding_naming_them_all(tmp_path):
    policy = payerpolicy.load(_policy(tmp_path, ROWS))
    decision = policy.check(_claim(("97530",), ("97161",), ("97035",)))
    [finding] = [f for f in decision.findings if f.rule == "acme.ptp"]
    assert "same day as 97530 and 97161" in finding.message
    assert finding.fix.action == "remove_line"  # one of them allows no modifier


def test_a_pair_listed_twice_with_two_periods_applies_in_each(tmp_path):
    rows = "97530,97035,2020-01-01,2021-01-01,1\n97530,97035,2024-01-01,,1\n"
    policy = payerpolicy.load(_policy(tmp_path, rows))
    assert _table_findings(policy.check(_claim(("97530",), ("97035",), date="2020-06-01")))
    assert not _table_findings(policy.check(_claim(("97530",), ("97035",), date="2022-06-01")))
    assert _table_findings(policy.check(_claim(("97530",), ("97035",), date="2026-06-01")))


def test_a_pair_spans_two_claims_of_one_patient_day(tmp_path):
    policy = payerpolicy.load(_policy(tmp_path, ROWS))
    first = _claim(("97035",), claim_id="C-1")
    second = _claim(("97530",), claim_id="C-2")
    decisions = list(policy.check_many([first, second]))
    assert _table_findings(decisions[0]) == [(1, "add_modifier", "59")]
    other_patient = _claim(("97530",), claim_id="C-3", patient="P-2")
    assert not _table_findings(list(policy.check_many([first, other_patient]))[0])


def test_a_table_judges_as_the_same_pairs_written_as_rows(tmp_path):
    """The same edits, once as a table and once as `code_pairs:` rows: the same lines denied, same fixes."""
    rows = "97530,97035,,,1\n97161,97035,,,0\n"
    table = payerpolicy.load(_policy(tmp_path, rows))
    written = tmp_path / "written"
    written.mkdir()
    (written / "policy.yaml").write_text(
        textwrap.dedent("""\
        policy: {payer: acme, name: Acme rows, version: "1", extends: medicare}
        code_pairs:
          - {id: acme.row.1, column1: 97530, column2: 97035, modifier_indicator: 1, source: "test"}
          - {id: acme.row.2, column1: 97161, column2: 97035, modifier_indicator: 0, source: "test",
             fix: remove line}
        """)
    )
    rows_policy = payerpolicy.load(written)
    claims = [
        _claim(("97530",), ("97035",)),
        _claim(("97161",), ("97035", "XS")),
        _claim(("97035", "59"), ("97530",)),
        _claim(("97110",), ("97035",)),
    ]
    for claim in claims:
        a, b = table.check(claim), rows_policy.check(claim)
        assert [(ln.line, ln.status) for ln in a.lines] == [(ln.line, ln.status) for ln in b.lines]
        assert {(f.line, f.fix.action) for f in a.findings if f.rule == "acme.ptp"} == {
            (f.line, f.fix.action) for f in b.findings if f.rule.startswith("acme.row")
        }


def test_the_table_may_name_its_own_bypass_modifiers_and_fix(tmp_path):
    extra = "    bypass: [XS]\n    fix: add modifier XS\n"
    folder = _policy(tmp_path, "98940,97140,,,1\n")
    text = (
        (folder / "policy.yaml").read_text().replace('    source: "test edits"\n', '    source: "test edits"\n' + extra)
    )
    (folder / "policy.yaml").write_text(text)
    policy = payerpolicy.load(folder)
    assert _table_findings(policy.check(_claim(("98940",), ("97140", "59")))) == [(2, "add_modifier", "XS")]
    assert _table_findings(policy.check(_claim(("98940",), ("97140", "XS")))) == []


def test_cms_headings_and_tabs_are_read(tmp_path):
    header = "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date\tModifier\tRationale\n"
    rows = "97530\t97035\t\t20201001\t*\t1\tMisuse of column two code with column one code\n"
    policy = payerpolicy.load(_policy(tmp_path, rows, header=header))
    assert _table_findings(policy.check(_claim(("97530",), ("97035",)))) == [(2, "add_modifier", "59")]


def _errors(tmp_path, rows, header=HEADER) -> str:
    with pytest.raises(PolicyError) as caught:
        payerpolicy.load(_policy(tmp_path, rows, header=header))
    return str(caught.value)


def test_every_mistake_of_a_table_is_placed_and_the_table_is_refused(tmp_path):
    rows = (
        "97530,97035,,,1\n"
        "9753,97035,,,1\n"  # line 3: not a code
        "97530,97035,2026-02-30,,1\n"  # line 4: not a date
        "97530,97035,,,2\n"  # line 5: no such indicator
        "97530,97035\n"
    )  # line 6: too few cells
    text = _errors(tmp_path, rows)
    assert "acme/edits/ptp.csv:3:1: error[E208]: `9753` in column 1 is not a procedure code" in text
    assert "acme/edits/ptp.csv:4:13: error[E208]: `2026-02-30` is not a date" in text
    assert "acme/edits/ptp.csv:5:15: error[E208]: `2` is not a modifier indicator" in text
    assert "acme/edits/ptp.csv:6:1: error[E208]: this row has 2 cells; the header has 5" in text
    assert text.rstrip().endswith("4 errors")


def test_a_header_without_a_needed_column_says_which_and_what_it_has(tmp_path):
    text = _errors(tmp_path, "97530,97035,1\n", header="column1,colum2,modifier_indicator\n")
    assert "ptp.csv:1:1: error[E208]: the header has no `column2` column" in text
    assert "it has column1, colum2, modifier_indicator" in text


def test_a_table_wrong_in_every_row_shows_the_first_fifty_mistakes_and_counts_the_rest(tmp_path):
    text = _errors(tmp_path, "97530,97035,,,5\n" * 80)
    assert text.count("is not a modifier indicator") == 50
    assert "30 more rows of `" in text


def test_a_missing_table_file_is_reported_at_the_policy_line_naming_it(tmp_path):
    folder = _policy(tmp_path, ROWS)
    (folder / "edits" / "ptp.csv").unlink()
    with pytest.raises(PolicyError) as caught:
        payerpolicy.load(folder)
    assert "policy.yaml:8:11: error[E101]: no code pair table file `" in str(caught.value)


def _read(tmp_path: Path, text: str):
    from payerpolicy.diagnostics import SourceFiles, Span
    from payerpolicy.policy.pair_table import read_pair_table

    path = tmp_path / "table.csv"
    path.write_text(text)
    diagnostics: list = []
    table = read_pair_table(path, "table.csv", SourceFiles(), diagnostics, Span("policy.yaml", 1, 1))
    return table, [str(d.span.line) + ":" + str(d.span.column) + " " + d.message for d in diagnostics]


def test_the_usual_column_order_reads_as_any_other_order(tmp_path):
    """Column 1 and 2 first is read by a shorter road (a row's dates and indicator looked up as one text):
    it keeps the same edits, line numbers and rows as the same file with its columns in another order."""
    rows = [
        ("97530", "97035", "2020-10-01", "", "1"),
        ("97161", "97035", "20200101", "*", "0"),
        ("97010", "97035", "", "", "9"),
        ("g0283", "97110", "2020-10-01", "", "1"),  # the same dates and indicator as the first row
        ("97530", "97110", "", "", "9"),  # indicator 9 again: not kept
        ("97530", "97035", "2020-10-01", "", "1"),  # a pair listed twice
    ]
    usual = "column1,column2,effective_from,deleted,modifier_indicator\n# a comment\n" + "".join(
        ",".join(row) + "\n" for row in rows
    )
    other = "modifier_indicator,deleted,column2,effective_from,column1\n# a comment\n" + "".join(
        ",".join((row[4], row[3], row[1], row[2], row[0])) + "\n" for row in rows
    )
    first, mistakes = _read(tmp_path, usual)
    second, _ = _read(tmp_path, other)
    assert mistakes == []
    assert first.rows == second.rows == 4
    assert first.by_column2 == second.by_column2 and first.lines == second.lines
    assert first.provenance((("G0283", None),), "97110")["row"] == 6


def test_a_mistake_in_the_usual_column_order_is_placed_even_where_its_dates_were_read_before(tmp_path):
    text = (
        "column1,column2,effective_from,deleted,modifier_indicator\n"
        "97530,97035,2020-10-01,,1\n"
        "9753,97035,2020-10-01,,1\n"  # line 3: the same rest as line 2, with a bad code
        "97530,97035,2020-10-01,,1,extra\n"  # another rest: read cell by cell, and good
        '"97530",97035,2020-10-01,,3\n'  # line 5: quoted, a bad indicator
    )
    table, mistakes = _read(tmp_path, text)
    assert table is None
    assert mistakes == [
        "3:1 `9753` in column 1 is not a procedure code",
        "5:25 `3` is not a modifier indicator",
    ]


def _reordered(rows) -> str:
    """The same rows with the columns in another order: read cell by cell, the road every layout has."""
    return "modifier_indicator,deleted,column2,effective_from,column1\n" + "".join(
        ",".join((row[4], row[3], row[1], row[2], row[0])) + "\n" for row in rows
    )


def test_a_file_of_plain_rows_reads_as_the_same_rows_read_cell_by_cell(tmp_path):
    """Plain rows (no quotes, comments or blank lines; codes in capitals) take the tight pass of the usual
    layout: the same edits, line numbers and rows as the cell-by-cell reading."""
    rows = [
        ("97530", "97035", "2020-10-01", "", "1"),
        ("97161", "97035", "20200101", "*", "0"),
        ("97010", "97035", "", "", "9"),
        ("G0283", "97110", "2020-10-01", "", "1"),
        ("97530", "97110", "", "", "9"),
        ("97530", "97035", "2020-10-01", "", "1"),  # a pair listed twice
    ]
    usual = "column1,column2,effective_from,deleted,modifier_indicator\n" + "".join(",".join(r) + "\n" for r in rows)
    first, mistakes = _read(tmp_path, usual)
    second, _ = _read(tmp_path, _reordered(rows))
    assert mistakes == []
    assert first.rows == second.rows == 4
    assert first.by_column2 == second.by_column2 and first.lines == second.lines
    assert first.provenance((("97530", None),), "97035")["row"] == [2, 7]


@pytest.mark.parametrize(
    ("bad_row", "mistake"),
    [
        ("9753,97035,2020-10-01,,1", "4:1 `9753` in column 1 is not a procedure code"),
        ("97530,9703,,,9", "4:7 `9703` in column 2 is not a procedure code"),  # a row never applied
        ("97530,97035,2020-10-01,,1,", None),  # another text after the codes, and a good one
        ("97530,97035,2020-13-01,,1", "4:13 `2020-13-01` is not a date"),
        ("97530,97035", "4:1 this row has 2 cells; the header has 5"),
    ],
)
def test_a_mistake_among_plain_rows_is_placed_as_the_careful_reading_places_it(tmp_path, bad_row, mistake):
    """Plain rows up to the mistake, plain rows after it: the tight pass gives up and reports nothing of its
    own, and the careful reading places the mistake (once)."""
    good = "97161,97035,2020-10-01,,1\n97161,97110,,,9\n"  # the texts after the codes seen before the mistake
    text = "column1,column2,effective_from,deleted,modifier_indicator\n" + good + bad_row + "\n" + good * 3
    table, mistakes = _read(tmp_path, text)
    assert mistakes == ([mistake] if mistake else [])
    assert (table is None) == (mistake is not None)
    if table is not None:
        assert table.rows == 5
