"""`payerpolicy tables import`: CMS's published files (hand-written samples in their layouts, tests/samples/cms)
turned into the tables a policy names; a bad row is reported with its file and line, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

import payerpolicy
from payerpolicy.cli.main import main
from payerpolicy.policy.table_import import TableImportError, import_table

CMS = Path(__file__).parent / "samples" / "cms"


def _table(path: Path) -> tuple[dict, list[str]]:
    meta, rows = {}, []
    for line in path.read_text().splitlines():
        if line.startswith("# ") and ":" in line:
            key, value = line[2:].split(":", 1)
            meta[key.strip()] = value.strip()
        else:
            rows.append(line)
    return meta, rows


def test_ptp_files_of_a_quarter_are_merged_and_indicator_9_left_out(tmp_path, capsys):
    out = tmp_path / "ptp.tsv"
    code = main(
        [
            "tables",
            "import",
            "ptp",
            str(CMS / "ptp-practitioner-2026q4-f1.txt"),
            str(CMS / "ptp-practitioner-2026q4-f2.txt"),
            "--quarter",
            "2026Q4",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert "8 code pair edits from 2 files (2026Q4" in capsys.readouterr().out
    meta, rows = _table(out)
    assert meta["quarter"] == "2026Q4" and meta["effective_from"] == "2026-10-01"
    assert meta["imported_from"] == "ptp-practitioner-2026q4-f1.txt, ptp-practitioner-2026q4-f2.txt"
    assert rows[0].split("\t") == ["column1", "column2", "effective_from", "deleted", "modifier_indicator"]
    assert rows[1].split("\t") == ["97140", "97530", "2020-01-01", "2020-01-24", "0"]
    assert "G0283\t97014\t2002-01-01\t\t0" in rows  # from the second file
    assert not any(r.startswith("97112\t97010") for r in rows)  # indicator 9


def test_an_imported_ptp_table_is_read_by_a_policy(tmp_path):
    folder = tmp_path / "acme"
    import_table("ptp", [CMS / "ptp-practitioner-2026q4-f1.txt"], "2026Q4", folder / "ptp.tsv")
    (folder / "policy.yaml").write_text(
        "policy: {payer: acme, name: Acme, version: '1', extends: medicare}\n"
        "code_pair_tables:\n  - {id: acme.ptp, file: ptp.tsv, source: CMS PTP 2026Q4}\n"
    )
    policy = payerpolicy.load(folder)
    claim = {
        "id": "C-1",
        "payer": "acme",
        "patient": {"id": "P-1"},
        "provider": {"type": "PT"},
        "diagnoses": ["I69.351"],
        "lines": [
            {"code": c, "modifiers": ["GP"], "units": 1, "minutes": 15, "date": "2026-10-05"}
            for c in ("97530", "97116")
        ],
    }
    hits = [f for f in policy.check(claim).findings if f.rule == "acme.ptp"]
    assert [(f.line, f.fix.action) for f in hits] == [(2, "add_modifier")]


def test_mue_values_keep_the_leading_digit_of_the_indicator_and_the_cms_row(tmp_path):
    out = tmp_path / "mue.csv"
    result = import_table("mue", [CMS / "mue-practitioner-2026q4.csv"], "2026Q4", out)
    assert result.rows == 6
    _, rows = _table(out)
    assert rows[0] == "code,mue,indicator,rationale,cms_row"
    assert "97112,4,3,Clinical: Data,mue-practitioner-2026q4.csv:5" in rows
    assert "97530,6,1,Clinical: Data,mue-practitioner-2026q4.csv:8" in rows


@pytest.mark.parametrize(
    "kind, name, quarter, meta_expected, row",
    [
        # RVU columns are found by their headings over several rows (NON-FAC over PE RVU)
        (
            "rvu",
            "rvu-2026-pprrvu.csv",
            "2026Q4",
            {"effective_from": "2026-10-01"},
            "97010,,B,0.06,0.10,0.10,0.01,9,rvu-2026-pprrvu.csv:5",
        ),
        # payment amounts by carrier, locality, code and modifier; a first quarter ends on March 31
        (
            "fees",
            "fees-2026-pfall.csv",
            "2026Q1",
            {"effective_from": "2026-01-01", "effective_to": "2026-03-31"},
            "01112,05,97110,,31.25,28.50,fees-2026-pfall.csv:3",
        ),
    ],
)
def test_fee_schedule_files(kind, name, quarter, meta_expected, row, tmp_path):
    out = tmp_path / f"{kind}.csv"
    import_table(kind, [CMS / name], quarter, out)
    meta, rows = _table(out)
    assert {k: meta[k] for k in meta_expected} == meta_expected
    assert row in rows


def _bad(kind: str, name: str, tmp_path, capsys) -> list[str]:
    out = tmp_path / "table.csv"
    code = main(["tables", "import", kind, str(CMS / name), "--quarter", "2026Q4", "--out", str(out)])
    assert code == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []  # nothing written, no temporary left
    err = capsys.readouterr().err
    assert "nothing was written" in err
    return [line.split(": ", 1)[0].rsplit("/", 1)[-1] for line in err.splitlines() if line.startswith(str(CMS))]


def test_every_bad_ptp_row_is_reported_with_its_line(tmp_path, capsys):
    assert _bad("ptp", "ptp-bad-rows.txt", tmp_path, capsys) == [
        "ptp-bad-rows.txt:7",
        "ptp-bad-rows.txt:8",
        "ptp-bad-rows.txt:9",
        "ptp-bad-rows.txt:10",
    ]


def test_every_bad_mue_row_is_reported_duplicates_included(tmp_path, capsys):
    assert _bad("mue", "mue-bad-rows.csv", tmp_path, capsys) == [
        "mue-bad-rows.csv:4",
        "mue-bad-rows.csv:5",
        "mue-bad-rows.csv:6",
        "mue-bad-rows.csv:7",
    ]


def test_every_bad_rvu_and_fee_row_is_reported(tmp_path, capsys):
    assert _bad("rvu", "rvu-bad-rows.csv", tmp_path, capsys) == ["rvu-bad-rows.csv:4", "rvu-bad-rows.csv:5"]
    assert _bad("fees", "fees-bad-rows.csv", tmp_path, capsys) == ["fees-bad-rows.csv:2", "fees-bad-rows.csv:3"]


def test_a_failed_import_leaves_the_table_it_would_replace(tmp_path):
    out = tmp_path / "mue.csv"
    import_table("mue", [CMS / "mue-practitioner-2026q4.csv"], "2026Q4", out)
    before = out.read_bytes()
    try:
        import_table("mue", [CMS / "mue-bad-rows.csv"], "2026Q4", out)
    except TableImportError as problem:
        assert len(problem.mistakes) == 4
    else:
        raise AssertionError("a bad file was imported")
    assert out.read_bytes() == before


def test_only_the_first_fifty_bad_rows_are_shown(tmp_path):
    bad = tmp_path / "many.csv"
    bad.write_text("HCPCS/CPT Code,MUE,MAI,Rationale\n" + "".join(f"9711{i % 10},x,1,r\n" for i in range(120)))
    try:
        import_table("mue", [bad], "2026Q4", tmp_path / "out.csv")
    except TableImportError as problem:
        assert len(problem.mistakes) == 50 and problem.more == 70
        assert "70 more bad rows" in problem.render()


def test_bad_arguments_are_told_plainly(tmp_path, capsys):
    assert (
        main(
            [
                "tables",
                "import",
                "mue",
                str(CMS / "mue-practitioner-2026q4.csv"),
                "--quarter",
                "2026",
                "--out",
                str(tmp_path / "m.csv"),
            ]
        )
        == 2
    )
    assert "`2026` is not a quarter" in capsys.readouterr().err
    assert (
        main(
            [
                "tables",
                "import",
                "mue",
                str(tmp_path / "nope.csv"),
                "--quarter",
                "2026Q4",
                "--out",
                str(tmp_path / "m.csv"),
            ]
        )
        == 2
    )
    assert "no such file" in capsys.readouterr().err
