"""Data-driven tests of the shipped policies: claims in, the findings a payer would make out.

The cases are in tests/cases/policies/*.yaml (format: see the header of medicare.yaml). Each case is one
pytest item, named by the case's name; its claims are judged together with `Policy.check_many`, and each
claim's findings, reduced to (rule, line), must be exactly the expected ones.

Below the cases: a coverage check (every rule of the shipped Medicare policy fires in some case and is
applicable without firing in another; every deleted code pair is shown not to deny) and a test of the
shipped example file examples/claims.json.
"""
from __future__ import annotations

import datetime
import functools
import json
from pathlib import Path

import pytest
import yaml

import payerpolicy
from payerpolicy.codes import range_codes
from payerpolicy.resources import policies_dir

TESTS = Path(__file__).parent
CASES = TESTS / "cases" / "policies"
EXAMPLES = TESTS.parent / "examples" / "claims.json"

_CASE_KEYS = {"name", "policy", "claims", "expect", "xfail", "window"}
_EXPECT_KEYS = {"status", "findings", "lines", "errors"}
_FINDING_KEYS = {"rule", "line", "severity", "fix", "message_contains"}


class _CaseLoader(yaml.SafeLoader):
    """YAML without timestamps: a date in a claim is text, as in the claim JSON."""


_CaseLoader.yaml_implicit_resolvers = {
    first: [resolver for resolver in resolvers if resolver[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load_cases() -> list[dict]:
    cases = []
    for path in sorted(CASES.glob("*.yaml")):
        with open(path, encoding="utf-8") as file:
            for case in yaml.load(file, _CaseLoader) or []:
                case["_file"] = path.name
                cases.append(case)
    return cases


CASE_LIST = _load_cases()


@functools.lru_cache(maxsize=None)
def _policy(name: str) -> payerpolicy.Policy:
    return payerpolicy.load(name)


def _params():
    for case in CASE_LIST:
        marks = [pytest.mark.xfail(reason=case["xfail"], strict=True)] if case.get("xfail") else []
        yield pytest.param(case, id=case["name"], marks=marks)


# ---------------------------------------------------------------------------------------------------------
# Reading the results


def _fix_text(fix: dict | None) -> str:
    if not fix:
        return ""
    value = fix.get("value")
    return f" fix {fix['action']}" + (f" {value}" if value is not None else "")


def _finding_line(finding: dict) -> str:
    """One finding, expected or found, as a line a biller can read."""
    text = f"{finding.get('severity', '?'):<5} {finding['rule']}  line {finding['line']} {_fix_text(finding.get('fix'))}"
    if "message" in finding:
        text += f"  | {finding['message']}"
    elif "message_contains" in finding:
        text += f"  | ...{finding['message_contains']}..."
    return text


def _block(title: str, findings: list[dict]) -> list[str]:
    return [f"  {title}:"] + ([f"    {_finding_line(f)}" for f in findings] or ["    (none)"])


def _compare_claim(number: int, claim: dict, expected: dict, decision) -> list[str]:
    """What differs between one claim's expectation and its decision, as readable lines (empty: none)."""
    actual = decision.to_dict()
    problems: list[str] = []
    if isinstance(claim, dict) and claim.get("id") is not None and actual["id"] != str(claim["id"]):
        problems.append(f"  decision is for claim {actual['id']!r}, expected {claim['id']!r} (order?)")
    if actual["status"] != expected["status"]:
        problems.append(f"  status: expected {expected['status']}, got {actual['status']}")
        if actual["errors"]:
            problems += [f"    error {e['field']}: {e['message']}" for e in actual["errors"]]

    want = expected.get("findings") or []
    got = actual["findings"]
    want_keys = sorted((f["rule"], f["line"]) for f in want)
    got_keys = sorted((f["rule"], f["line"]) for f in got)
    if want_keys != got_keys:
        missing = [f for f in want if (f["rule"], f["line"]) not in got_keys]
        extra = [f for f in got if (f["rule"], f["line"]) not in want_keys]
        problems.append("  findings differ")
        problems += _block("expected", want) + _block("got", got)
        if missing:
            problems += _block("missing", missing)
        if extra:
            problems += _block("not expected", extra)
        if len(got_keys) != len(set(got_keys)):
            problems.append("  (a finding was reported twice)")
    else:
        by_key = {(f["rule"], f["line"]): f for f in got}
        for want_finding in want:
            problems += _compare_finding(want_finding, by_key[(want_finding["rule"], want_finding["line"])])

    lines = {line["line"]: line for line in actual["lines"]}
    for want_line in expected.get("lines") or []:
        got_line = lines.get(want_line["line"])
        if got_line is None:
            problems.append(f"  line {want_line['line']}: no line decision")
            continue
        for key in ("status", "allowed_units"):
            if key in want_line and got_line[key] != want_line[key]:
                problems.append(f"  line {want_line['line']} {key}: expected {want_line[key]}, got {got_line[key]}")

    error_fields = [e["field"] for e in actual["errors"]]
    for field in expected.get("errors") or []:
        if field not in error_fields:
            problems.append(f"  no error on field {field!r}; errors: {actual['errors']}")

    if problems:
        problems.insert(0, f"claim {number} ({actual['id']}):")
    return problems


def _compare_finding(want: dict, got: dict) -> list[str]:
    where = f"  {want['rule']} line {want['line']}"
    problems = []
    if "severity" in want and got["severity"] != want["severity"]:
        problems.append(f"{where}: severity expected {want['severity']}, got {got['severity']}")
    if "fix" in want:
        fix = got.get("fix")
        if fix is None:
            problems.append(f"{where}: expected{_fix_text(want['fix'])}, got no fix")
        else:
            if fix["action"] != want["fix"]["action"] or (
                    "value" in want["fix"] and fix.get("value") != want["fix"]["value"]):
                problems.append(f"{where}: expected{_fix_text(want['fix'])}, got{_fix_text(fix)}")
            if fix["line"] != got["line"]:
                problems.append(f"{where}: the fix is for line {fix['line']}")
    if "message_contains" in want and want["message_contains"] not in got["message"]:
        problems.append(f"{where}: message does not contain {want['message_contains']!r}: {got['message']!r}")
    return problems


# ---------------------------------------------------------------------------------------------------------
# The cases


def test_cases_are_well_formed():
    names = [case.get("name") for case in CASE_LIST]
    assert len(CASE_LIST) > 0
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"case names used twice: {duplicates}"
    problems = []
    for case in CASE_LIST:
        where = f"{case['_file']}: {case.get('name')!r}"
        unknown = set(case) - _CASE_KEYS - {"_file"}
        missing = {"name", "policy", "claims", "expect"} - set(case)
        if unknown or missing:
            problems.append(f"{where}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
            continue
        if len(case["claims"]) != len(case["expect"]):
            problems.append(f"{where}: {len(case['claims'])} claims but {len(case['expect'])} expectations")
        for expected in case["expect"]:
            if set(expected) - _EXPECT_KEYS or "status" not in expected:
                problems.append(f"{where}: bad expectation keys {sorted(expected)}")
            for finding in expected.get("findings") or []:
                if set(finding) - _FINDING_KEYS or not {"rule", "line"} <= set(finding):
                    problems.append(f"{where}: bad finding keys {sorted(finding)}")
    assert not problems, "\n".join(problems)


def test_expected_rule_ids_are_rules_of_the_case_policy():
    """Catches a misspelt id, which would otherwise hide inside an expected failure."""
    problems = []
    for case in CASE_LIST:
        ids = {rule.id for rule in _policy(case["policy"]).program.policy.rules}
        for expected in case["expect"]:
            for finding in expected.get("findings") or []:
                if finding["rule"] not in ids:
                    problems.append(f"{case['name']}: {finding['rule']} is not a rule of {case['policy']}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case", list(_params()))
def test_policy_case(case):
    policy = _policy(case["policy"])
    options = {"window": case["window"]} if "window" in case else {}
    decisions = list(policy.check_many(case["claims"], **options))
    assert len(decisions) == len(case["claims"]), "one decision per claim"
    problems = []
    for number, (claim, expected, decision) in enumerate(zip(case["claims"], case["expect"], decisions), 1):
        problems += _compare_claim(number, claim, expected, decision)
    assert not problems, f"{case['name']}\n" + "\n".join(problems)


# ---------------------------------------------------------------------------------------------------------
# Coverage of the shipped Medicare policy


def _medicare_cases() -> list[dict]:
    return [case for case in CASE_LIST if case["policy"] == "medicare" and not case.get("xfail")]


def _readable_lines(case: dict):
    """(claim index, patient, line number, line) of every claim the case expects to be read."""
    for index, (claim, expected) in enumerate(zip(case["claims"], case["expect"])):
        if expected["status"] == "error":
            continue
        for number, line in enumerate(claim["lines"], 1):
            yield index, claim["patient"]["id"], number, line


def _expected_on(case: dict, index: int, number: int) -> set[str]:
    return {f["rule"] for f in case["expect"][index].get("findings") or [] if f["line"] == number}


def _in_effect(spec, date: datetime.date) -> bool:
    return (spec.effective_from is None or date >= spec.effective_from) and (
        spec.effective_to is None or date <= spec.effective_to)


def test_every_medicare_rule_fires_in_a_case_and_passes_in_another():
    """Each rule: one case where it fires, one where the line's code is one it concerns (and the rule is in
    effect on the line's date) but it does not fire. Counted from the expectations of passing cases."""
    program = _policy("medicare").program
    ids = [rule.id for rule in program.policy.rules]
    fired: dict[str, set] = {i: set() for i in ids}
    passed: dict[str, set] = {i: set() for i in ids}
    for case in _medicare_cases():
        for index, _patient, number, line in _readable_lines(case):
            date = datetime.date.fromisoformat(line["date"])
            expected = _expected_on(case, index, number)
            for rule in program.rules_for(line["code"].upper()):
                if not _in_effect(rule.spec, date):
                    continue
                (fired if rule.spec.id in expected else passed)[rule.spec.id].add(case["name"])
        for expected in case["expect"]:
            for finding in expected.get("findings") or []:
                fired.setdefault(finding["rule"], set()).add(case["name"])
    never_fired = [i for i in ids if not fired[i]]
    never_passed = [i for i in ids if not passed[i]]
    assert not never_fired and not never_passed, (
        "medicare rules never firing in a case: " + (", ".join(never_fired) or "none") +
        "\nmedicare rules never applicable without firing: " + (", ".join(never_passed) or "none"))


def _expand(value, code_sets: dict) -> set[str]:
    entries = value if isinstance(value, list) else [value]
    out: set[str] = set()
    for entry in entries:
        text = str(entry).strip()
        if text.startswith("@"):
            out |= _expand(list(code_sets[text[1:]].entries), code_sets)
            continue
        text = text.upper()
        if "-" in text:
            out |= set(range_codes(*text.split("-")))
        else:
            out.add(text)
    return out


def test_deleted_code_pairs_have_no_rule_and_are_shown_not_to_deny():
    """Rows with modifier indicator 9 compile to no rule; a case shows each pair billed without a bypass
    modifier on the column-2 line, and no code-pair finding on it."""
    program = _policy("medicare").program
    code_sets = program.policy.code_sets
    families = {rule.id: rule.family for rule in program.policy.rules}
    bypass = _expand(program.policy.settings.get("bypass_modifiers", "@ncci_bypass"), code_sets)
    with open(policies_dir() / "medicare" / "code-pairs.yaml", encoding="utf-8") as file:
        rows = [row for row in yaml.safe_load(file)["code_pairs"] if int(row["modifier_indicator"]) == 9]
    assert rows, "the shipped policy has no deleted pairs any more: update this test"
    problems = []
    for row in rows:
        if row["id"] in families:
            problems.append(f"{row['id']}: a deleted pair (indicator 9) became a rule")
        column1, column2 = _expand(row["column1"], code_sets), _expand(row["column2"], code_sets)
        shown = False
        for case in _medicare_cases():
            lines = list(_readable_lines(case))
            for index, patient, number, line in lines:
                if line["code"].upper() not in column2 or bypass & {m.upper() for m in line.get("modifiers", [])}:
                    continue
                partner = any(p == patient and other["date"] == line["date"] and other["code"].upper() in column1
                              for _i, p, _n, other in lines)
                pair_findings = [r for r in _expected_on(case, index, number) if families.get(r) == "code_pair"]
                shown = shown or (partner and not pair_findings)
        if not shown:
            problems.append(f"{row['id']}: no case bills {row['column1']} with {row['column2']} and expects no denial")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------------------
# The shipped example file

# What each example claim should get, worked out from the policies: status and (rule, line) of each finding.
# Each claim is judged by its own payer's policy (C-1008 by example-commercial), as `payerpolicy check` does.
EXAMPLE_EXPECT = {
    "C-1001": ("accepted", []),  # PT 97112 for I69.351/R26.89, PTA line with GP and CQ: all in order
    "C-1002": ("denied", [("medicare.unit-cap.97112", 1)]),  # 5 units of 97112
    "C-1003": ("denied", [("medicare.evaluation.manual-therapy-with-evaluation", 2),  # 97140 with 97161, no 59/X
                          ("medicare.modifier.gp-on-pt-services", 3)]),  # 97110 without GP
    "C-1004": ("denied", [("medicare.pair.97530-97116", 4),  # 97116 with 97530
                          ("medicare.pair.one-on-one-with-group", 5)]),  # 97150 with 97110/97116
    "C-1005": ("denied", [("medicare.modifier.cq-on-pta-services", 1),  # PTA, no CQ
                          ("medicare.evaluation.reevaluation-with-treatment", 2),  # 97164 with 97116, no 59/X
                          ("medicare.modifier.cq-on-pta-services", 2),
                          ("medicare.scope.pt-evaluation-by-pt", 2)]),  # re-evaluation by a PTA
    "C-1006": ("denied", [("medicare.pair.cmt-with-soft-tissue", 2)]),  # 97140 with 98941, no 59/XS
    "C-1007": ("error", []),  # units "two", 2026-02-30
    "C-1008": ("denied", [("example-commercial.unit-cap.97112", 1)]),  # 4 units over the plan's 3, no CQ asked
    "C-1009": ("accepted", [("medicare.diagnosis.97112-example", 1)]),  # 97112 for low back pain: a warning
    "C-1010": ("denied", [("medicare.evaluation.one-pt-evaluation-per-day", 2)]),  # a second PT evaluation
    "C-1011": ("denied", [("medicare.timed.more-units-than-minutes", 2)]),  # 47 minutes pooled: 3 units, not 4
    "C-1012": ("accepted", [("medicare.timed.fewer-units-than-minutes", 1)]),  # 20 + 25 minutes: 3 units, not 1
}
EXAMPLE_FAMILIES = {"unit_cap", "modifier", "code_pair", "evaluation", "provider_scope", "diagnosis", "timed_units"}


def test_example_claims_give_one_decision_per_claim_in_order(capsys):
    from payerpolicy.cli import main

    claims = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    assert [c["id"] for c in claims] == list(EXAMPLE_EXPECT), "the example file changed: update EXAMPLE_EXPECT"
    code = main(["check", str(EXAMPLES), "--format", "json"])
    output = json.loads(capsys.readouterr().out)
    decisions = output["claims"]
    assert [d["id"] for d in decisions] == [c["id"] for c in claims]
    assert code == 1  # some claims are denied or unreadable
    problems = []
    for decision in decisions:
        status, findings = EXAMPLE_EXPECT[decision["id"]]
        got = sorted((f["rule"], f["line"]) for f in decision["findings"])
        if decision["status"] != status or got != sorted(findings):
            problems.append(f"{decision['id']}: expected {status} {sorted(findings)}\n"
                            f"    got {decision['status']} " + "\n        ".join(map(_finding_line, decision["findings"])))
    assert not problems, "\n".join(problems)
    families = {f["family"] for d in decisions for f in d["findings"]}
    assert families == EXAMPLE_FAMILIES, f"families: expected {sorted(EXAMPLE_FAMILIES)}, got {sorted(families)}"
    assert output["summary"] == {"claims": 12, "accepted": 3, "denied": 8, "needs_fix": 2, "errors": 1}


def test_example_claims_through_the_library_keep_input_order():
    from payerpolicy.claim_read import read_claims

    records = list(read_claims(EXAMPLES))
    decisions = list(_policy("medicare").check_many(records))
    assert [d.id for d in decisions] == list(EXAMPLE_EXPECT)
    assert [d.status for d in decisions] == ["accepted", "denied", "denied", "denied", "denied", "denied", "error",
                                             "denied", "accepted", "denied", "denied", "accepted"]
    # Under Medicare the example-commercial claim C-1008 (a PTA's line without CQ) is judged by Medicare's rules.
    assert [(f.rule, f.line) for f in decisions[7].findings] == [("medicare.modifier.cq-on-pta-services", 1)]
