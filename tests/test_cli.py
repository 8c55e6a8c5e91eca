"""The command line: exit codes, JSON and text output, bad input and bad policies, never a traceback."""

from __future__ import annotations

import io
import re
import json
from pathlib import Path

import pytest

from payerpolicy.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "claims.json"

GOOD = {
    "id": "G-1",
    "payer": "medicare",
    "patient": {"id": "P-1"},
    "referring_npi": "1245319599",
    "provider": {"type": "PT"},
    "diagnoses": ["I69.351"],
    "lines": [{"code": "97112", "modifiers": ["GP"], "units": 2, "minutes": 30, "date": "2026-03-02"}],
}


def run(capsys, *args):
    code = main(list(map(str, args)))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_examples_json_has_one_record_per_claim_in_order(capsys):
    code, out, err = run(capsys, "check", EXAMPLES)
    assert code == 3 and err == ""  # C-1007 cannot be read
    result = json.loads(out)
    given = json.loads(EXAMPLES.read_text())
    assert [c["id"] for c in result["claims"]] == [c["id"] for c in given]
    assert result["summary"] == {"claims": 12, "accepted": 4, "denied": 7, "needs_fix": 3, "errors": 1}
    by_id = {c["id"]: c for c in result["claims"]}
    assert by_id["C-1008"]["policy"] == {"payer": "example-commercial", "version": "2026.1"}
    assert by_id["C-1007"]["status"] == "error"
    assert {e["field"] for e in by_id["C-1007"]["errors"]} == {"lines[2].units", "lines[2].date"}


def test_text_output_says_what_to_do(capsys):
    code, out, _ = run(capsys, "check", "--format", "text", EXAMPLES)
    assert code == 3  # C-1007 cannot be read
    assert "Claim C-1002  [medicare 2026.1]: ACCEPTED" in out
    # Medicare's 97112 figure is seed 003's practice guideline: a warning, not a denial (no MUE is confirmed)
    assert "line 1  2026-03-03  97112 GP  x5  ACCEPTED" in out
    assert "WARN  [advisory]   practice guideline (seed 003), not a Medicare limit" in out
    assert "what to do: add modifier GP to line 3" in out
    assert "Claim C-1007 (" in out and "COULD NOT BE READ" in out
    assert "WARN  [advisory]   example rule: none of the diagnoses on 97112 (M54.50)" in out
    assert "what to do: bill 1 unit on line 2 (billed 2)" in out  # 97110 of the manual's example 1
    assert out.rstrip().endswith(
        "12 claims: 4 accepted, 7 denied, 1 could not be read "
        "(3 accepted with a warning worth fixing); at least $340.00 at risk on 9 denied lines"
    )


def test_all_accepted_exits_0(capsys, tmp_path):
    code, out, _ = run(capsys, "check", write(tmp_path, "good.json", GOOD))
    assert code == 0
    assert json.loads(out)["claims"][0]["status"] == "accepted"


def test_payer_option_overrides_the_claims_payer(capsys, tmp_path):
    claim = dict(GOOD, lines=[dict(GOOD["lines"][0], units=4, minutes=60)])
    path = write(tmp_path, "c.json", claim)
    assert run(capsys, "check", path)[0] == 0  # Medicare allows 4 units of 97112
    code, out, _ = run(capsys, "check", "--payer", "example-commercial", path)
    assert code == 1
    finding = json.loads(out)["claims"][0]["findings"][0]
    assert finding["rule"] == "example-commercial.unit-cap.97112"
    assert finding["fix"] == {"action": "set_units", "line": 1, "value": 3}


def test_claim_for_an_unknown_payer_is_an_error_record_and_the_rest_is_judged(capsys, tmp_path):
    lines = [json.dumps(dict(GOOD, id="A", payer="acme-health")), json.dumps(GOOD)]
    code, out, _ = run(capsys, "check", write(tmp_path, "c.jsonl", "\n".join(lines)))
    claims = json.loads(out)["claims"]
    assert code == 3
    assert [c["status"] for c in claims] == ["error", "accepted"]
    assert claims[0]["errors"][0]["field"] == "payer"
    assert "acme-health" in claims[0]["errors"][0]["message"]


def test_jsonl_with_a_broken_line_still_judges_the_others(capsys, tmp_path):
    text = json.dumps(GOOD) + "\n{not json\n" + json.dumps(dict(GOOD, id="G-2")) + "\n"
    code, out, _ = run(capsys, "check", write(tmp_path, "c.jsonl", text))
    claims = json.loads(out)["claims"]
    assert code == 3
    assert [c["status"] for c in claims] == ["accepted", "error", "accepted"]
    assert claims[1]["errors"][0]["field"] == "json"


def test_standard_input(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(GOOD)))
    code, out, _ = run(capsys, "check", "-")
    assert code == 0 and json.loads(out)["summary"]["accepted"] == 1


def test_missing_claim_file_exits_2(capsys, tmp_path):
    code, out, err = run(capsys, "check", tmp_path / "nope.json")
    assert code == 2 and out == ""
    assert "no such claim file" in err


def test_unknown_payer_option_exits_2_with_a_suggestion(capsys, tmp_path):
    code, out, err = run(capsys, "check", "--payer", "medicar", write(tmp_path, "c.json", GOOD))
    assert code == 2 and out == ""
    assert "error[E100]" in err and "did you mean `medicare`?" in err


BROKEN_RULES = """\
rules:
  - id: acme.rule.one
    family: custom
    severity: deny
    reason: {group: CO, carc: "16"}
    message: wrong
    source: test
    when: code = 97112 and modifers = GP
  - id: acme.rule.two
    family: custom
    severity: deny
    reason: {group: CO, carc: "16"}
    message: wrong
    source: test
    when: code in @timd
"""
BROKEN_POLICY = """\
policy:
  payer: acme
  name: Acme
  version: "1"
  extends: medicare
unit_caps:
  - id: acme.cap
    codes: 97110
    max_unit: 3
    source: test
"""


def test_three_mistakes_in_two_files_are_all_reported_and_exit_2(capsys, tmp_path):
    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "policy.yaml").write_text(BROKEN_POLICY)
    (folder / "rules.yaml").write_text(BROKEN_RULES)
    code, out, err = run(capsys, "check", "--policy", folder, write(tmp_path, "c.json", GOOD))
    assert code == 2 and out == ""
    assert "acme/policy.yaml:9:5: error[E201]: unknown key `max_unit`" in err
    assert "did you mean `max_units`?" in err
    assert "acme/rules.yaml:8:28: error[E401]: unknown field `modifers`" in err
    assert "acme/rules.yaml:15:19: error[E402]: unknown code set `@timd`" in err
    assert "did you mean `@timed`?" in err
    assert "3 errors" in err
    assert "Traceback" not in err


def test_lint(capsys, tmp_path):
    code, out, _ = run(capsys, "lint", ROOT / "policies")
    assert code == 0
    assert re.search(r"medicare: ok, \d+ rules", out) and "example-commercial: ok" in out
    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "policy.yaml").write_text(BROKEN_POLICY)
    code, out, _ = run(capsys, "lint", folder)
    assert code == 1 and "error[E201]" in out and "cannot be loaded" in out
    code, out, _ = run(capsys, "lint", "--format", "json", folder)
    report = json.loads(out)["policies"][0]
    assert code == 1 and report["ok"] is False
    assert report["diagnostics"][0]["code"] == "E201" and report["diagnostics"][0]["line"] == 9


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["check"])
    assert exit_info.value.code == 2


def test_lint_warns_of_a_rule_judged_on_every_line(capsys, tmp_path):
    folder = tmp_path / "wild"
    folder.mkdir()
    (folder / "policy.yaml").write_text(
        'policy: {payer: wild, name: Wild, version: "1"}\n'
        "rules:\n"
        "  - id: wild.units-over-ten\n"
        '    family: custom\n    severity: warn\n    reason: {group: CO, carc: "151"}\n'
        '    message: "{units} units on one line"\n    source: test\n    when: units > 10\n'
    )
    code, out, _ = run(capsys, "lint", folder)
    assert code == 0
    assert "policy.yaml:3:9: warning[W501]: rule `wild.units-over-ten` concerns every procedure code" in out
    assert "wild: ok, 1 rule" in out


def test_lint_repr_and_coverage_count_the_rules_alike(capsys):
    """One rule count everywhere: the rules written (coverage's count), with those in force today beside it."""
    import datetime

    import payerpolicy

    policy = payerpolicy.load("medicare")
    written, in_force = policy.program.rules_written, policy.program.rule_count
    assert written > in_force  # Medicare has evaluation pair rules in force only before 2020
    today = datetime.date.today().isoformat()
    assert repr(policy).endswith(f": {written} rules ({in_force} in force on {today})>")
    main(["lint", "policies/medicare"])
    assert f"policies/medicare: ok, {written} rules ({in_force} in force on {today})" in capsys.readouterr().out
    main(["test", "policies/medicare"])
    assert f"policies/medicare: {written} rules; {written} fire in some case" in capsys.readouterr().out
