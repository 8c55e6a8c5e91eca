"""Reference tables a policy names (`unit_cap_tables:`, `fee_status_table:` with `fee_status:`), as written by
`payerpolicy tables import`: judged by date of service, and every finding they cause names its table, quarter
and row in the decision JSON. The policy case files (policies/*/tests/test_unit_limits.yaml,
test_fee_status.yaml) cover the billing behaviour; these tests the plumbing and the provenance."""

from __future__ import annotations

import json
import random
import textwrap
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy.cli.main import main
from payerpolicy.diagnostics import PolicyError
from payerpolicy.policy.table_import import import_table

CMS = Path(__file__).parent / "samples" / "cms"


def _policy(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "policy.yaml").write_text(textwrap.dedent(text))
    return folder


def _claim(claim_id: str, *lines, date="2026-10-05") -> dict:
    return {
        "id": claim_id,
        "payer": "acme",
        "patient": {"id": "P-1"},
        "referring_npi": "1245319599",
        "provider": {"type": "PT"},
        "diagnoses": ["M54.50"],
        "lines": [{"code": code, "modifiers": ["GP"], "units": units, "date": date} for code, units in lines],
    }


@pytest.fixture
def mue_policy(tmp_path) -> Path:
    folder = tmp_path / "acme"
    import_table("mue", [CMS / "mue-practitioner-2026q4.csv"], "2026Q4", folder / "reference" / "mue.csv")
    return _policy(
        folder,
        """\
        policy: {payer: acme, name: Acme, version: "1", extends: medicare}
        remove: [medicare.unit-cap.97112]
        unit_cap_tables:
          - id: acme.mue
            file: reference/mue.csv
            source: "CMS practitioner MUE, 2026Q4 (test sample)"
        """,
    )


def test_an_mue_finding_names_its_table_quarter_and_rows_in_the_decision_json(mue_policy, tmp_path, capsys):
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps([_claim("C-1", ("97530", 7))]))
    assert main(["check", str(claims), "--policy", str(mue_policy), "--format", "json"]) == 1
    [finding] = json.loads(capsys.readouterr().out)["claims"][0]["findings"]
    assert finding["rule"] == "acme.mue" and finding["reason"] == {"group": "CO", "carc": "151", "rarc": "N362"}
    source = finding["source"]
    assert source["table"].endswith("acme/reference/mue.csv") and source["quarter"] == "2026Q4"
    # line 11 of the imported table (5 `#` lines, the heading, then 97530 fifth), line 8 of the CMS file
    assert source["row"] == 11 and source["published"] == "mue-practitioner-2026q4.csv:8"
    assert source["cite"] == "CMS practitioner MUE, 2026Q4 (test sample)"


def test_the_text_output_names_the_table_row(mue_policy, tmp_path, capsys):
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps([_claim("C-1", ("97530", 7))]))
    assert main(["check", str(claims), "--policy", str(mue_policy), "--format", "text"]) == 1
    assert "reference/mue.csv row 11 (2026Q4), from mue-practitioner-2026q4.csv:8" in capsys.readouterr().out


def test_indicator_1_is_per_line_and_indicators_2_and_3_count_the_day_across_claims(mue_policy):
    policy = payerpolicy.load(mue_policy)
    # 97530 (MAI 1, 6): 4 + 4 on two claims is fine; 97140 (MAI 2, 4): 3 + 2 is not; 97110 (MAI 3, 6): 4 + 3 not.
    decisions = list(
        policy.check_many(
            [
                _claim("A", ("97530", 4), ("97140", 3), ("97110", 4)),
                _claim("B", ("97530", 4), ("97140", 2), ("97110", 3)),
            ]
        )
    )
    hits = [[(f.line, f.fix.action) for f in d.findings if f.rule == "acme.mue"] for d in decisions]
    assert hits == [[], [(2, "review"), (3, "review")]]
    assert [line.status for line in decisions[1].lines] == ["accepted", "denied", "denied"]  # whole lines


def test_a_line_the_mue_denies_does_not_count_toward_later_lines(mue_policy):
    policy = payerpolicy.load(mue_policy)
    decisions = list(policy.check_many([_claim("A", ("97140", 5)), _claim("B", ("97140", 4))]))
    assert [d.status for d in decisions] == ["denied", "accepted"]


def test_the_table_judges_dates_of_service_in_its_quarter_only(mue_policy):
    policy = payerpolicy.load(mue_policy)
    assert policy.check(_claim("Q3", ("97530", 9), date="2026-09-30")).status == "accepted"
    assert policy.check(_claim("Q4", ("97530", 9), date="2026-10-01")).status == "denied"


def test_a_cached_load_keeps_the_tables_and_their_provenance(mue_policy):
    first = payerpolicy.load(mue_policy).check(_claim("C", ("97530", 7)))
    again = payerpolicy.load(mue_policy).check(_claim("C", ("97530", 7)))  # from the compiled-policy cache
    assert first.to_dict() == again.to_dict() and again.findings[0].source["row"] == 11


def test_fee_status_from_an_imported_rvu_table_with_hand_rows_taking_precedence(tmp_path):
    folder = tmp_path / "acme"
    import_table("rvu", [CMS / "rvu-2026-pprrvu.csv"], "2026Q4", folder / "rvu.csv")
    policy = payerpolicy.load(
        _policy(
            folder,
            """\
        policy: {payer: acme, name: Acme, version: "1"}
        fee_status_table:
          file: rvu.csv
          rows:
            - {code: "97112", status: N, source: "a hand row for the test"}
        fee_status:
          - id: acme.bundled
            status: B
            severity: deny
            reason: {group: CO, carc: "97", rarc: M15}
            source: "MPFS status B"
          - id: acme.not-covered
            status: N
            severity: deny
            reason: {group: CO, carc: "96"}
            source: "MPFS status N"
          - id: acme.restricted
            status: R
            severity: deny
            reason: {group: CO, carc: "96"}
            source: "no code has status R: the rule judges nothing"
        """,
        )
    )
    decision = policy.check(_claim("C", ("97010", 1), ("97112", 1), ("97110", 1)))
    found = {f.rule: f for f in decision.findings}
    assert set(found) == {"acme.bundled", "acme.not-covered"}
    bundled = found["acme.bundled"]
    assert (
        bundled.line == 1
        and bundled.message
        == "97010 has Medicare fee schedule status B (bundled: paid as part of other services, never separately)"
    )
    assert bundled.fix.action == "remove_line"
    assert {k: bundled.source[k] for k in ("quarter", "row", "published")} == {
        "quarter": "2026Q4",
        "row": 7,
        "published": "rvu-2026-pprrvu.csv:5",
    }
    assert found["acme.not-covered"].source["status_source"] == "a hand row for the test"


def test_mistakes_in_reference_tables_are_placed_and_reported_together(tmp_path):
    folder = _policy(
        tmp_path / "acme",
        """\
        policy: {payer: acme, name: Acme, version: "1"}
        unit_cap_tables:
          - {id: acme.mue, file: mue.csv, source: "test"}
          - {id: acme.mue2, file: missing.csv, source: "test"}
        fee_status:
          - {id: acme.bundled, status: B, severity: deny, reason: {group: CO, carc: "97"}, source: "test"}
        """,
    )
    (folder / "mue.csv").write_text("# payerpolicy reference table: mue\ncode,mue,indicator\n97110,six,1\n97112,4\n")
    with pytest.raises(PolicyError) as raised:
        payerpolicy.load(folder)
    found = {(d.code, d.span.file.rsplit("/", 1)[-1], d.span.line) for d in raised.value.diagnostics}
    assert ("E208", "mue.csv", 3) in found and ("E208", "mue.csv", 4) in found
    assert ("E101", "policy.yaml", 4) in found
    assert any(d.code == "E210" for d in raised.value.diagnostics)


def test_a_reference_table_wrong_in_every_row_shows_the_first_fifty_mistakes_and_counts_the_rest(mue_policy):
    table = mue_policy / "reference" / "mue.csv"
    table.write_text("# payerpolicy reference table: mue\ncode,mue,indicator\n" + "97110,4\n" * 70)
    with pytest.raises(PolicyError) as raised:
        payerpolicy.load(mue_policy)
    shapes = [d for d in raised.value.diagnostics if "this row has 2 cells" in d.message]
    [more] = [d for d in raised.value.diagnostics if "more rows" in d.message]
    assert len(shapes) == 50 and shapes[-1].span.line == 52
    assert more.code == "E208" and more.message.startswith("20 more rows of `")
    assert more.message.endswith("/acme/reference/mue.csv` have mistakes")
    assert more.span.file.endswith("policy.yaml") and more.help == "only the first 50 are shown"


def test_a_table_of_another_kind_is_refused_with_the_command_that_makes_the_right_one(tmp_path):
    folder = tmp_path / "acme"
    import_table("rvu", [CMS / "rvu-2026-pprrvu.csv"], "2026Q4", folder / "rvu.csv")
    _policy(
        folder,
        """\
        policy: {payer: acme, name: Acme, version: "1", extends: medicare}
        unit_cap_tables:
          - {id: acme.mue, file: rvu.csv, source: "test"}
        """,
    )
    with pytest.raises(PolicyError) as raised:
        payerpolicy.load(folder)
    [problem] = raised.value.diagnostics
    assert problem.code == "E208" and "is a table of kind `rvu`, not `mue`" in problem.message
    assert "payerpolicy tables import mue" in problem.help


def test_a_generated_2000_row_ptp_file_imports_and_judges(tmp_path):
    rng = random.Random(3)
    rows = [
        f"{10000 + rng.randrange(80000):05d}\t{10000 + rng.randrange(80000):05d}\t\t20200101\t*\t1\tr\n"
        for _ in range(1999)
    ]
    rows.append("97530\t97116\t\t20201001\t*\t1\tMutually exclusive procedures\n")
    source = tmp_path / "ptp.txt"
    source.write_text(
        "CPT only copyright\n\nColumn 1\tColumn 2\t*\tEffective Date\tDeletion Date\tModifier\t"
        "PTP Edit Rationale\n" + "".join(rows)
    )
    folder = tmp_path / "acme"
    assert import_table("ptp", [source], "2026Q4", folder / "ptp.tsv").rows == 2000
    policy = payerpolicy.load(
        _policy(
            folder,
            """\
        policy: {payer: acme, name: Acme, version: "1", extends: medicare}
        code_pair_tables:
          - {id: acme.ptp, file: ptp.tsv, source: "generated PTP"}
        """,
        )
    )
    [finding] = [f for f in policy.check(_claim("C", ("97530", 1), ("97116", 1))).findings if f.rule == "acme.ptp"]
    assert finding.line == 2 and finding.source["quarter"] == "2026Q4" and finding.source["table"].endswith("ptp.tsv")
    assert finding.source["row"] == 2006  # 5 `#` lines and the heading, then the 2,000th edit
    # The same from the compiled-policy cache, whose packed pair table keeps the rows too
    policy = payerpolicy.load(folder)
    [again] = [f for f in policy.check(_claim("C", ("97530", 1), ("97116", 1))).findings if f.rule == "acme.ptp"]
    assert again.source == finding.source
