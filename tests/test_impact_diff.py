"""The impact diff (`payerpolicy diff`, `payerpolicy.diff`): each kind of change, on the shipped policies and
on copies of them edited here (a cap lowered, a modifier rule removed, a code pair row added, a yearly limit
moved), history, bad input, the formats, the gates and `--base REV` on a git repository made here."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy.api import as_record
from payerpolicy.cli.main import main
from payerpolicy.judge.history import ClaimHistory

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "policies"
CERTIFIED = {"referring_npi": "1245319599"}  # a certifying physician, so no plan-of-care advisory


def claim(claim_id, lines, *, patient="P-1", provider="PT", payer="medicare", **extra):
    return {
        "id": claim_id,
        "payer": payer,
        "patient": {"id": patient},
        "provider": {"npi": "1234567893", "type": provider},
        "diagnoses": ["R26.81"],
        "lines": lines,
        **CERTIFIED,
        **extra,
    }


def line(code, units=1, date="2026-03-02", minutes=None, modifiers=("GP",), charge=100.0):
    out = {"code": code, "modifiers": list(modifiers), "units": units, "date": date, "charge": charge}
    if minutes is not None:
        out["minutes"] = minutes
    return out


def copy_policy(tmp_path: Path, name: str, to: str | None = None) -> Path:
    target = tmp_path / (to or name)
    shutil.copytree(SHIPPED / name, target, ignore=shutil.ignore_patterns("tests"))
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def add_pair_row(folder: Path, row_id: str, column1: str, column2: str) -> None:
    with open(folder / "code-pairs.yaml", "a", encoding="utf-8") as out:
        out.write(
            f"\n  - id: {row_id}\n    column1: {column1}\n    column2: {column2}\n"
            f'    modifier_indicator: 0\n    source: "test row"\n'
        )


def write_claims(path: Path, claims: list) -> Path:
    path.write_text("\n".join(json.dumps(c) for c in claims) + "\n", encoding="utf-8")
    return path


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def only_line(report: dict) -> dict:
    [changed] = report["claims"]
    [found] = changed["lines"]
    return found


# A claim the shipped Medicare policy accepts: 97110 and 97140 by a PT on one day, minutes that bill 2 units.
PAIR_CLAIM = claim("C-PAIR", [line("97110", 1, minutes=15, charge=80.0), line("97140", 1, minutes=15, charge=90.0)])


@pytest.fixture(scope="module")
def with_pair_row(tmp_path_factory) -> Path:
    """The shipped Medicare policy with one code pair row added: 97140 is not paid beside 97110 (indicator 0)."""
    folder = copy_policy(tmp_path_factory.mktemp("pair"), "medicare")
    add_pair_row(folder, "test.pair.97110-97140", "97110", "97140")
    return folder


# ------------------------------------------------------------------------------------------------ kinds


def test_a_code_pair_row_added_newly_denies_the_column_2_line(with_pair_row):
    report = payerpolicy.diff("medicare", with_pair_row, [PAIR_CLAIM]).to_dict()
    found = only_line(report)
    assert found["line"] == 2 and found["code"] == "97140" and found["kind"] == "newly_denied"
    assert (found["old"]["status"], found["new"]["status"]) == ("accepted", "denied")
    assert found["rules_added"] == ["test.pair.97110-97140"] and found["rules_removed"] == []
    [denial] = [f for f in found["new"]["findings"] if f["severity"] == "deny"]
    assert denial["source"]["file"].endswith("code-pairs.yaml") and denial["fix"]["action"] == "remove_line"
    summary = report["summary"]
    assert summary["by_kind"]["newly_denied"] == {"lines": 1, "claims": 1, "charges": 90.0}
    assert summary["money"]["newly_denied_charges"] == 90.0 and summary["money"]["at_stake_charges"] == 90.0
    assert summary["money"]["allowed"] is None  # the shipped policy names no fee schedule
    assert summary["by_rule"] == {"test.pair.97110-97140": {"now_fires": 1, "no_longer_fires": 0}}
    # Cause beside effect: the row is listed as added, and it changed a decision.
    assert [r["id"] for r in report["policy_changes"]["rules"]["added"]] == ["test.pair.97110-97140"]
    assert summary["changed_rules_without_effect"] == []


def test_the_same_row_taken_away_newly_passes_the_line(with_pair_row):
    found = only_line(payerpolicy.diff(with_pair_row, "medicare", [PAIR_CLAIM]).to_dict())
    assert found["kind"] == "newly_passed" and found["rules_removed"] == ["test.pair.97110-97140"]
    assert (found["old"]["status"], found["new"]["status"]) == ("denied", "accepted")


def test_a_line_denied_by_another_rule_is_denied_for_another_reason(tmp_path):
    old = copy_policy(tmp_path, "medicare", "old")
    new = copy_policy(tmp_path, "medicare", "new")
    add_pair_row(old, "test.pair.first-reading", "97110", "97140")
    add_pair_row(new, "test.pair.second-reading", "97110", "97140")
    report = payerpolicy.diff(old, new, [PAIR_CLAIM]).to_dict()
    found = only_line(report)
    assert found["kind"] == "denied_for_another_reason"
    assert found["rules_added"] == ["test.pair.second-reading"]
    assert found["rules_removed"] == ["test.pair.first-reading"]
    assert report["summary"]["money"]["at_stake_charges"] == 0  # denied either way: no money changes hands
    rules = report["policy_changes"]["rules"]
    assert [r["id"] for r in rules["added"]] == ["test.pair.second-reading"]
    assert [r["id"] for r in rules["removed"]] == ["test.pair.first-reading"]


def test_a_modifier_rule_removed_passes_an_assistants_line_without_cq(tmp_path):
    new = copy_policy(tmp_path, "medicare")
    modifiers = new / "modifiers.yaml"
    text = modifiers.read_text(encoding="utf-8")
    start = text.index("  - id: medicare.modifier.cq-on-pta-services")
    end = text.index("  - id: medicare.modifier.co-on-ota-services")
    modifiers.write_text(text[:start] + text[end:], encoding="utf-8")
    # An assistant's 97110 without CQ, units only (no minutes, so the minute rules say nothing).
    pta = claim("C-PTA", [line("97110", 2, charge=120.0)], provider="PTA")
    report = payerpolicy.diff("medicare", new, [pta]).to_dict()
    found = only_line(report)
    assert found["kind"] == "newly_passed"
    assert found["rules_removed"] == ["medicare.modifier.cq-on-pta-services"]
    assert report["summary"]["money"]["newly_passed_charges"] == 120.0
    assert [r["id"] for r in report["policy_changes"]["rules"]["removed"]] == ["medicare.modifier.cq-on-pta-services"]


def test_a_cap_lowered_changes_the_units_allowed(tmp_path):
    new = copy_policy(tmp_path, "example-commercial")
    edit(new / "policy.yaml", "max_units: 3", "max_units: 2")
    claims = [
        claim("C-3", [line("97112", 3, minutes=45)], payer="example-commercial"),
        claim("C-4", [line("97112", 4, minutes=60)], payer="example-commercial", patient="P-2"),
        claim("C-2", [line("97112", 2, minutes=30)], payer="example-commercial", patient="P-3"),
    ]
    report = payerpolicy.diff("example-commercial", new, claims).to_dict()
    changed = {c["id"]: c["lines"][0] for c in report["claims"]}
    assert set(changed) == {"C-3", "C-4"}  # 2 units are under both caps
    assert changed["C-3"]["kind"] == "units_changed"
    assert (changed["C-3"]["old"]["allowed_units"], changed["C-3"]["new"]["allowed_units"]) == (3, 2)
    assert (changed["C-3"]["old"]["status"], changed["C-3"]["new"]["status"]) == ("accepted", "adjusted")
    assert changed["C-4"]["kind"] == "units_changed"
    assert (changed["C-4"]["old"]["allowed_units"], changed["C-4"]["new"]["allowed_units"]) == (3, 2)
    # C-4 was cut either way: its status did not change, so its charge is not at stake; C-3's is.
    assert report["summary"]["money"]["at_stake_charges"] == 100.0
    [rule] = report["policy_changes"]["rules"]["changed"]
    assert rule["id"] == "example-commercial.unit-cap.97112" and "max units" in rule["changed"]


def test_a_new_warning_with_a_fix_is_a_change_of_fixes(tmp_path):
    new = copy_policy(tmp_path, "medicare")
    edit(new / "caps.yaml", "max_units: 4", "max_units: 2")  # the seed-003 guideline warns from 3 units
    report = payerpolicy.diff("medicare", new, [claim("C-1", [line("97112", 3, minutes=45)])]).to_dict()
    found = only_line(report)
    assert found["kind"] == "fixes_changed" and found["rules_added"] == ["medicare.unit-cap.97112"]
    assert found["old"]["status"] == found["new"]["status"] == "accepted"


def test_a_change_that_alters_no_decision_is_listed_as_such(tmp_path):
    new = copy_policy(tmp_path, "medicare")
    edit(new / "caps.yaml", "max_units: 4", "max_units: 6")
    claims = [PAIR_CLAIM, claim("C-2", [line("97112", 4, minutes=60)], patient="P-2")]
    impact = payerpolicy.diff("medicare", new, claims)
    assert list(impact) == []
    summary = impact.summary
    assert summary["claims"] == 2 and summary["lines_changed"] == 0
    assert summary["changed_rules_without_effect"] == ["medicare.unit-cap.97112"]
    [rule] = impact.policy_changes["rules"]["changed"]
    assert rule["id"] == "medicare.unit-cap.97112"


def test_the_same_policy_changes_nothing_and_moving_a_rule_is_not_a_change(tmp_path):
    new = copy_policy(tmp_path, "medicare")
    edit(new / "caps.yaml", "unit_caps:\n", "unit_caps:\n\n\n")  # every rule below moves two lines down
    impact = payerpolicy.diff("medicare", new, [PAIR_CLAIM])
    assert list(impact) == [] and impact.policy_changes["rules"] == {"added": [], "removed": [], "changed": []}


# ------------------------------------------------------------------------------------------------ history


@pytest.fixture
def visit_limit_of_2(tmp_path) -> Path:
    new = copy_policy(tmp_path, "example-commercial")
    edit(new / "policy.yaml", "visit_limit: 20", "visit_limit: 2")
    return new


def visit(claim_id, date):
    return claim(claim_id, [line("97110", 1, date=date, minutes=15)], patient="P-H", payer="example-commercial")


def test_a_yearly_limit_moved_counts_the_history_each_side_its_own(tmp_path, capsys, visit_limit_of_2):
    history = tmp_path / "history.sqlite"
    early = write_claims(tmp_path / "early.jsonl", [visit("H-1", "2026-01-05"), visit("H-2", "2026-02-02")])
    assert main(["check", "--payer", "example-commercial", "--history", str(history), str(early)]) == 0
    capsys.readouterr()
    late = [visit("H-3", "2026-03-02")]
    # Without the history the March visit is the patient's first: no limit of 2 is reached.
    assert list(payerpolicy.diff("example-commercial", visit_limit_of_2, late)) == []
    # With it, March is the third visit of 2026: past the new limit of 2, not the old 20.
    report = payerpolicy.diff("example-commercial", visit_limit_of_2, late, history=history).to_dict()
    found = only_line(report)
    assert found["kind"] == "newly_denied" and found["rules_added"] == ["example-commercial.visits.yearly-limit"]
    assert report["policy_changes"]["values"] == {"changed": ["visit_limit"]}
    assert report["policy_changes"]["rules"]["changed"] == []  # the rule reads the value; it did not change
    # Each side judged with its own copy: the file still holds only the two earlier claims.
    with ClaimHistory(history) as kept:
        assert kept.claim_ids("P-H") == ["H-1", "H-2"]


def test_claims_of_one_run_count_toward_each_other_on_each_side(visit_limit_of_2):
    claims = [visit("R-1", "2026-01-05"), visit("R-2", "2026-02-02"), visit("R-3", "2026-03-02")]
    changed = list(payerpolicy.diff("example-commercial", visit_limit_of_2, claims))
    assert [c.id for c in changed] == ["R-3"] and changed[0].lines[0].kind == "newly_denied"


# ------------------------------------------------------------------------------------------------ money


def fee_schedule_pair(tmp_path) -> tuple[Path, Path]:
    """The fee schedule test policy, and a copy with a code pair row added: 97110 is not paid beside 97112."""
    old = tmp_path / "fees-old"
    shutil.copytree(SHIPPED / "medicare" / "tests" / "fee-schedule", old)
    new = tmp_path / "fees-new"
    shutil.copytree(old, new)
    with open(new / "policy.yaml", "a", encoding="utf-8") as out:
        out.write(
            "\ncode_pairs:\n  - id: test.pair.97112-97110\n    column1: 97112\n    column2: 97110\n"
            '    modifier_indicator: 0\n    source: "test row"\n'
        )
    return old, new


def test_allowed_amounts_at_stake_come_from_the_fee_schedule(tmp_path):
    old, new = fee_schedule_pair(tmp_path)
    payer = "medicare-fee-schedule-test"
    day = claim("F-1", [line("97112", 2, charge=500.0), line("97110", 2, charge=500.0)], patient="P-F", payer=payer)
    report = payerpolicy.diff(old, new, [day]).to_dict()
    found = only_line(report)
    assert found["code"] == "97110" and found["kind"] == "newly_denied"
    # The case file's figure for 97110 x2 beside 97112 x2 after the multiple procedure reduction: $466.67.
    assert found["old"]["allowed_amount"] == 466.67
    assert report["summary"]["money"]["allowed"] == {"newly_denied": 466.67, "newly_passed": 0.0, "at_stake": 466.67}
    assert report["summary"]["money"]["newly_denied_charges"] == 500.0


# ------------------------------------------------------------------------------------------------ bad input


def test_a_bad_claim_is_reported_once(tmp_path, capsys, with_pair_row):
    bad = {
        "id": "C-BAD",
        "payer": "medicare",
        "patient": {"id": "P-9"},
        "lines": [{"code": "97110", "units": "two", "date": "2026-03-02"}],
    }
    claims = write_claims(tmp_path / "claims.jsonl", [PAIR_CLAIM, bad])
    code, out, _ = run_cli(capsys, "diff", "medicare", with_pair_row, claims)
    report = json.loads(out)
    errors = [c for c in report["claims"] if c.get("status") == "error"]
    assert [c["id"] for c in errors] == ["C-BAD"] and "units" in json.dumps(errors[0]["errors"])
    assert report["summary"]["unreadable"] == 1 and report["summary"]["claims"] == 2 and code == 0


def test_a_new_policy_that_does_not_load_gives_its_diagnostics_and_no_diff(tmp_path, capsys):
    new = copy_policy(tmp_path, "medicare")
    edit(new / "caps.yaml", "max_units: 4", "max_units: four")
    claims = write_claims(tmp_path / "claims.jsonl", [PAIR_CLAIM])
    code, out, err = run_cli(capsys, "diff", "medicare", new, claims)
    assert code == 2 and out == ""
    assert "caps.yaml:" in err and "error[E" in err and "the new policy" in err and "Traceback" not in err


def test_policies_of_different_payers_are_an_error_unless_asked_for(tmp_path, capsys):
    claims = write_claims(tmp_path / "claims.jsonl", [PAIR_CLAIM])
    code, out, err = run_cli(capsys, "diff", "medicare", "example-commercial", claims)
    assert code == 2 and out == "" and "payer `medicare`" in err and "--different-payers" in err
    code, out, _ = run_cli(capsys, "diff", "medicare", "example-commercial", claims, "--different-payers")
    assert code == 0 and json.loads(out)["new"]["payer"] == "example-commercial"


def test_claims_of_other_payers_are_left_out_and_counted(with_pair_row):
    other = dict(PAIR_CLAIM, id="C-OTHER", payer="example-commercial")
    impact = payerpolicy.diff("medicare", with_pair_row, [other, PAIR_CLAIM])
    assert [c.id for c in impact] == ["C-PAIR"]
    assert impact.summary["other_payers"] == 1 and impact.summary["claims"] == 1


def test_a_missing_claim_file_or_too_few_arguments_exit_2(capsys):
    assert run_cli(capsys, "diff", "medicare", "medicare", "no/such.json")[0] == 2
    code, _, err = run_cli(capsys, "diff", "medicare", "medicare")
    assert code == 2 and "claim file" in err


# ------------------------------------------------------------------------------------------------ formats


@pytest.fixture
def many_changes(tmp_path, with_pair_row) -> Path:
    claims = [dict(PAIR_CLAIM, id=f"C-{n}", patient={"id": f"P-{n}"}) for n in range(5)]
    return write_claims(tmp_path / "claims.jsonl", claims)


def test_the_json_is_the_librarys_structure(capsys, with_pair_row, many_changes):
    code, out, _ = run_cli(capsys, "diff", "medicare", with_pair_row, many_changes, "--received", "2026-12-01")
    import datetime

    library = payerpolicy.diff(
        "medicare", with_pair_row, payerpolicy.read_claims(many_changes), received=datetime.date(2026, 12, 1)
    ).to_dict()
    assert json.loads(out) == json.loads(json.dumps(library)) and code == 0
    assert set(library) == {"old", "new", "policy_changes", "claims", "summary"}
    assert library["summary"]["lines_changed"] == 5


def test_text_puts_the_summary_first_and_caps_the_lines(capsys, with_pair_row, many_changes):
    code, out, _ = run_cli(capsys, "diff", "medicare", with_pair_row, many_changes, "--format", "text", "--show", "2")
    lines = out.splitlines()
    assert lines[0].startswith("Impact of medicare") and "5 lines on 5 claims decided differently" in lines[3]
    assert out.index("newly denied") < out.index("Changed lines:")
    assert out.count("NEWLY DENIED") == 2 and "... and 3 more changed lines" in out
    assert "rule added: test.pair.97110-97140" in out and "$450.00" in out


def test_csv_has_a_row_per_changed_line(capsys, with_pair_row, many_changes):
    code, out, _ = run_cli(capsys, "diff", "medicare", with_pair_row, many_changes, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 5 and {r["kind"] for r in rows} == {"newly_denied"}
    assert rows[0]["rules_added"] == "test.pair.97110-97140" and rows[0]["charge"] == "90.00"


def test_markdown_is_short_enough_for_a_pull_request_comment(tmp_path, capsys, with_pair_row):
    claims = [dict(PAIR_CLAIM, id=f"C-{n}", patient={"id": f"P-{n}"}) for n in range(300)]
    path = write_claims(tmp_path / "claims.jsonl", claims)
    code, out, _ = run_cli(capsys, "diff", "medicare", with_pair_row, path, "--format", "markdown")
    assert out.startswith("### Policy impact") and len(out) < 10_000
    assert "| newly denied | 300 | 300 | $27,000.00 |" in out and "280 more changed lines" in out


def test_the_library_streams_changes_as_they_are_decided(with_pair_row):
    pulled = []

    def claims():
        for n in range(1000):
            pulled.append(n)
            yield dict(PAIR_CLAIM, id=f"C-{n}", patient={"id": f"P-{n}"})

    impact = payerpolicy.diff("medicare", with_pair_row, claims(), window=0)
    first = next(iter(impact))
    assert first.id == "C-0" and len(pulled) < 5


# ------------------------------------------------------------------------------------------------ gates


@pytest.mark.parametrize(
    "gate, expected",
    [
        ([], 0),
        (["--fail-on-change"], 1),
        (["--fail-on-newly-denied"], 1),
        (["--max-changed-lines", "5"], 0),
        (["--max-changed-lines", "4"], 1),
        (["--max-at-stake", "450"], 0),
        (["--max-at-stake", "449.99"], 1),
    ],
)
def test_gates_for_ci(capsys, with_pair_row, many_changes, gate, expected):
    code, _, err = run_cli(capsys, "diff", "medicare", with_pair_row, many_changes, *gate)
    assert code == expected and (("gate crossed" in err) == (expected == 1))


def test_no_change_crosses_no_gate(tmp_path, capsys):
    claims = write_claims(tmp_path / "claims.jsonl", [PAIR_CLAIM])
    assert run_cli(capsys, "diff", "medicare", "medicare", claims, "--fail-on-change")[0] == 0


# ------------------------------------------------------------------------------------------------ --base REV


def git(repo: Path, *args: str) -> None:
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.org",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.org",
    )
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_base_rev_diffs_the_work_tree_against_a_commit(tmp_path, capsys, monkeypatch):
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    repo = tmp_path / "repo"
    folder = copy_policy(repo / "policies", "medicare")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "policies as shipped")
    add_pair_row(folder, "test.pair.97110-97140", "97110", "97140")  # the pull request's change, uncommitted
    claims = write_claims(tmp_path / "claims.jsonl", [PAIR_CLAIM])
    code, out, err = run_cli(capsys, "diff", "--base", "HEAD", folder, claims, "--fail-on-newly-denied")
    report = json.loads(out)
    assert code == 1 and only_line(report)["kind"] == "newly_denied"
    assert report["old"]["source"] == f"HEAD:{folder}"
    # The old side's findings and rules are named by revision and path, not by the scratch folder.
    rule = report["policy_changes"]["rules"]["added"][0]
    assert rule["source"]["file"].endswith("policies/medicare/code-pairs.yaml")
    git(repo, "commit", "-q", "-am", "a code pair row")
    code, out, _ = run_cli(capsys, "diff", "--base", "HEAD~1", folder, claims, "--format", "json")
    assert code == 0 and only_line(json.loads(out))["rules_added"] == ["test.pair.97110-97140"]
    # An old finding names REV:path: diff the other way round, so the old side denies.
    (folder / "code-pairs.yaml").write_text(
        (folder / "code-pairs.yaml").read_text().split("\n  - id: test.pair")[0] + "\n", encoding="utf-8"
    )
    code, out, _ = run_cli(capsys, "diff", "--base", "HEAD", folder, claims)
    found = only_line(json.loads(out))
    [denial] = [f for f in found["old"]["findings"] if f["severity"] == "deny"]
    assert found["kind"] == "newly_passed" and denial["source"]["file"] == "HEAD:policies/medicare/code-pairs.yaml"
    assert list(scratch.iterdir()) == []  # the revision's files were removed once compiled
    code, _, err = run_cli(capsys, "diff", "--base", "no-such-rev", folder, claims)
    assert code == 2 and "no-such-rev" in err and "Traceback" not in err


def test_the_readme_worked_example_is_what_the_command_prints(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ payerpolicy diff bench/policies/medicare medicare examples/claims.json --format text\n")[1]
    shown = [line for line in block.split("```")[0].splitlines() if "..." not in line]
    code, out, _ = run_cli(
        capsys, "diff", "bench/policies/medicare", "medicare", "examples/claims.json", "--format", "text"
    )
    printed = out.splitlines()
    assert code == 0 and len(shown) > 30
    assert [line for line in shown if line not in printed] == []


# ------------------------------------------------------------------------------------------------ side by side


def dense_claims(count, seed=11, patients=25, days=15):
    """The benchmark's generated claims made dense (few patients and days), with replacements, voids and
    unreadable claims, as tests/test_parallel.py makes them."""
    import random
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import generate

    claims = generate.claims(count, seed, patients=patients, days=days)
    rng = random.Random(seed)
    for i, made in enumerate(claims):
        if i % 53 == 7:
            made["lines"][0]["units"] = 1.5  # unreadable
        elif i % 29 == 5 and i > 50:
            earlier = claims[i - rng.randrange(1, 50)]
            made.update(id=earlier["id"], patient=dict(earlier["patient"]), frequency=rng.choice("78"))
    return claims


@pytest.fixture(scope="module")
def dense():
    return dense_claims(700)


@pytest.fixture(scope="module")
def medicare_edited(tmp_path_factory) -> Path:
    """Shipped Medicare with a timed-code cap lowered and a code pair row added (the benchmark's edit)."""
    folder = copy_policy(tmp_path_factory.mktemp("edited"), "medicare")
    edit(folder / "caps.yaml", "max_units: 4", "max_units: 3")
    add_pair_row(folder, "test.pair.97110-97140", "97110", "97140")
    return folder


def alone(policy, claims, window, history=None):
    with payerpolicy.Session(policy, history=history, window=window, received=RECEIVED) as session:
        return list(session.check_many(claims))


RECEIVED = __import__("datetime").date(2026, 12, 1)


@pytest.mark.parametrize("window", [4, 10_000])
def test_side_by_side_each_policy_decides_every_claim_as_check_does_alone(dense, medicare_edited, window):
    from payerpolicy.judge.side_by_side import SideBySide
    from payerpolicy.judge.window import judge_in_order

    old, new = payerpolicy.load("medicare"), payerpolicy.load(medicare_edited)
    pair = SideBySide([old.program, new.program], received=RECEIVED)
    assert pair.shared_views and pair.shared_days is not None  # the fast path: one set of views, shared splits
    both = list(judge_in_order((as_record(c) for c in dense), lambda record: pair, window))
    assert [b for b, _ in both] == alone(old, dense, window)
    assert [a for _, a in both] == alone(new, dense, window)
    assert sum(b != a for b, a in both) > 20  # the edit changes decisions: the comparison is not idle


def test_side_by_side_with_a_yearly_limit_counts_the_run_once_for_both(visit_limit_of_2):
    from payerpolicy.judge.run_history import RunHistory
    from payerpolicy.judge.side_by_side import SideBySide

    old, new = payerpolicy.load("example-commercial"), payerpolicy.load(visit_limit_of_2)
    pair = SideBySide([old.program, new.program], received=RECEIVED)
    run = pair.judges[0].history
    assert isinstance(run, RunHistory) and pair.judges[1].history.shared is run  # one history for the run
    claims = [visit(f"Y-{n}", f"2026-0{n}-02") for n in range(1, 6)]
    decided = []
    for made in claims:
        record = as_record(made)
        views = pair.file(record)
        decided.append(pair.decide(record, views))
        pair.forget(views)
    assert run.count == 5  # each claim recorded once, by the old policy's judge
    assert [(b.status, a.status) for b, a in decided] == [("accepted", "accepted")] * 2 + [("accepted", "denied")] * 3
    changed = list(payerpolicy.diff("example-commercial", visit_limit_of_2, claims))
    assert [c.id for c in changed] == ["Y-3", "Y-4", "Y-5"]  # the 3rd to 5th visits, past the new limit of 2


def test_side_by_side_with_fee_schedules_and_histories_decides_as_check_does(tmp_path, dense):
    from payerpolicy.judge.side_by_side import SideBySide
    from payerpolicy.judge.window import judge_in_order

    old, new = (payerpolicy.load(folder) for folder in fee_schedule_pair(tmp_path))
    assert old.program.pricing is not None
    claims = [dict(c, payer=old.payer) for c in dense[:300]]
    # A history each, from the same earlier claims (as the diff's private copies are).
    earlier = [dict(c, payer=old.payer) for c in dense_claims(200, seed=5)]
    paths = []
    for name in ("old", "new", "old-alone", "new-alone"):
        path = tmp_path / f"{name}.sqlite"
        alone(old, earlier, 10_000, history=path)
        paths.append(path)
    histories = [ClaimHistory(paths[0]), ClaimHistory(paths[1])]
    pair = SideBySide([old.program, new.program], histories, received=RECEIVED)
    assert not pair.shared_views  # priced lines: each policy its own views
    both = list(judge_in_order((as_record(c) for c in claims), lambda record: pair, 6))
    for history in histories:
        history.close()
    assert [b for b, _ in both] == alone(old, claims, 6, history=paths[2])
    assert [a for _, a in both] == alone(new, claims, 6, history=paths[3])
    assert any(b.lines != a.lines for b, a in both)
    assert any(line.allowed_amount for b, _ in both for line in b.lines)


def test_the_diff_reads_and_judges_each_claim_once(tmp_path, monkeypatch, with_pair_row):
    from payerpolicy.judge import judge as judge_module

    made = []
    real = judge_module.LineView.__init__

    def counted(self, claim_, line_):
        made.append(line_)
        real(self, claim_, line_)

    monkeypatch.setattr(judge_module.LineView, "__init__", counted)
    claims = [dict(PAIR_CLAIM, id=f"C-{n}", patient={"id": f"P-{n}"}) for n in range(10)]
    assert len(list(payerpolicy.diff("medicare", with_pair_row, claims))) == 10
    assert len(made) == 20  # each line made into a line view once, for both policies


@pytest.mark.parametrize("output", ["json", "text", "csv"])
def test_jobs_give_the_same_bytes_as_one_job(tmp_path, capsys, medicare_edited, dense, output):
    path = write_claims(tmp_path / "claims.jsonl", dense[:400])
    one = run_cli(
        capsys, "diff", "medicare", medicare_edited, path, "--format", output, "--window", 5, "--received", "2026-12-01"
    )
    two = run_cli(
        capsys,
        "diff",
        "medicare",
        medicare_edited,
        path,
        "--format",
        output,
        "--window",
        5,
        "--received",
        "2026-12-01",
        "--jobs",
        2,
    )
    assert two == one and one[0] == 0 and len(one[1]) > 1000


def test_jobs_with_a_history_give_the_same_as_one_job(tmp_path, capsys, visit_limit_of_2):
    history = tmp_path / "history.sqlite"
    early = write_claims(tmp_path / "early.jsonl", [visit("H-1", "2026-01-05"), visit("H-2", "2026-02-02")])
    assert main(["check", "--payer", "example-commercial", "--history", str(history), str(early)]) == 0
    capsys.readouterr()
    late = write_claims(tmp_path / "late.jsonl", [visit("H-3", "2026-03-02"), visit("H-4", "2026-04-02")])
    before = history.read_bytes()
    outputs = [
        run_cli(
            capsys,
            "diff",
            "example-commercial",
            visit_limit_of_2,
            late,
            "--history",
            history,
            "--jobs",
            jobs,
            "--format",
            "csv",
        )
        for jobs in (1, 2)
    ]
    assert outputs[0] == outputs[1]
    rows = list(csv.DictReader(io.StringIO(outputs[0][1])))
    assert [(r["claim_id"], r["kind"]) for r in rows] == [("H-3", "newly_denied"), ("H-4", "newly_denied")]
    assert history.read_bytes() == before  # the user's file is never written
    assert not list(Path(__import__("tempfile").gettempdir()).glob("payerpolicy-diff-*/history.sqlite"))


def test_policies_folder_lets_old_and_new_name_a_users_payer(tmp_path, capsys):
    mine = tmp_path / "my-payers"
    mine.mkdir()
    old = copy_policy(mine, "example-commercial", "acme-health")
    edit(old / "policy.yaml", "payer: example-commercial", "payer: acme-health")
    new_root = tmp_path / "next-quarter"
    new_root.mkdir()
    new = copy_policy(new_root, "example-commercial", "acme-health")
    edit(new / "policy.yaml", "payer: example-commercial", "payer: acme-health")
    edit(new / "policy.yaml", "visit_limit: 20", "visit_limit: 2")
    claims = write_claims(
        tmp_path / "claims.jsonl", [dict(visit(f"A-{n}", f"2026-0{n}-02"), payer="acme-health") for n in range(1, 4)]
    )
    code, out, err = run_cli(capsys, "diff", "acme-health", new, claims, "--policies", mine)
    report = json.loads(out)
    assert code == 0 and report["old"]["payer"] == "acme-health" and report["summary"]["lines_changed"] == 1
    assert report["old"]["source"].endswith("acme-health")
    code, out, err = run_cli(capsys, "diff", "acme-health", new, claims)  # without it: no such payer
    assert code == 2 and "acme-health" in err and "Traceback" not in err


def test_fee_schedules_are_compared_fee_by_fee(tmp_path, capsys):
    old, new = fee_schedule_pair(tmp_path)
    fees, rvus = new / "reference" / "fees-2026.csv", new / "reference" / "rvu-2026.csv"
    edit(fees, "01112,05,97110,,300.00,270.00", "01112,05,97110,,330.00,297.00")
    edit(fees, "01112,05,97161,,900.00,800.00,PFALL26-invented.csv:7\n", "")
    edit(rvus, "97140,,A,0.40,0.40,0.30", "97140,,A,0.40,0.45,0.30")
    payer = "medicare-fee-schedule-test"
    day = claim("F-2", [line("97110", 2, charge=500.0)], patient="P-F", payer=payer)
    report = payerpolicy.diff(old, new, [day]).to_dict()
    [table] = report["policy_changes"]["fee_schedule"]
    assert table["table"] == "carrier 01112 locality 05, 2026Q1" and table["status"] == "changed"
    assert table["fees"]["changed_rows"] == ["97110"] and table["fees"]["removed_rows"] == ["97161"]
    assert table["fees"]["rows"][0] == {
        "code": "97110",
        "old": {"non_facility": 300.0, "facility": 270.0},
        "new": {"non_facility": 330.0, "facility": 297.0},
    }
    assert table["rvus"] == {"changed": 1, "changed_rows": ["97140"]}
    # A dearer fee decides no line differently here: the cause is listed, with no effect claimed.
    assert report["claims"] == [] and report["summary"]["lines_changed"] == 0
    code, out, _ = run_cli(capsys, "diff", old, new, write_claims(tmp_path / "c.jsonl", [day]), "--format", "text")
    assert (
        "fee schedule carrier 01112 locality 05, 2026Q1: 1 fee changed, 1 fee removed (97110 $300.00 -> "
        "$330.00, facility $270.00 -> $297.00; 97161 gone ($900.00, facility $800.00)); RVUs of 1 code differ "
        "(97140)"
    ) in out
    # The same fee schedule: nothing listed.
    assert payerpolicy.diff(old, old, [day]).to_dict()["policy_changes"]["fee_schedule"] == []
