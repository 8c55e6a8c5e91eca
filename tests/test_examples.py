"""The shipped example file examples/claims.json: each claim gets the decisions worked out from the policies.

(The policies' own regression cases are in policies/*/tests/test_*.yaml, run by pytest through the
payerpolicy plugin and by `payerpolicy test`.)
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import payerpolicy

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "claims.json"


@functools.lru_cache(maxsize=None)
def _policy(name: str) -> payerpolicy.Policy:
    return payerpolicy.load(name)


def _finding_line(finding: dict) -> str:
    fix = finding.get("fix")
    fix_text = f"  fix {fix['action']} {fix.get('value', '')}" if fix else ""
    return f"{finding['severity']}  {finding['rule']}  line {finding['line']}{fix_text}  | {finding['message']}"


# What each example claim should get, worked out from the policies: status and (rule, line) of each finding.
# Each claim is judged by its own payer's policy (C-1008 by example-commercial), as `payerpolicy check` does.
EXAMPLE_EXPECT = {
    "C-1001": ("accepted", []),  # PT 97112 for I69.351/R26.89, PTA line with GP and CQ: all in order
    # 5 units of 97112: over seed 003's guideline, a warning under Medicare (no MUE is confirmed)
    "C-1002": ("accepted", [("medicare.unit-cap.97112", 1)]),
    "C-1003": (
        "denied",
        [
            ("medicare.evaluation.manual-therapy-with-evaluation", 2),  # 97140 with 97161, no 59/X
            ("medicare.modifier.gp-on-pt-services", 3),
        ],
    ),  # 97110 without GP
    "C-1004": (
        "denied",
        [
            ("medicare.pair.97530-97116", 4),  # 97116 with 97530
            ("medicare.pair.one-on-one-with-group", 5),
        ],
    ),  # 97150 with 97110/97116
    "C-1005": (
        "denied",
        [
            ("medicare.modifier.cq-on-pta-services", 1),  # PTA, no CQ
            ("medicare.evaluation.reevaluation-with-treatment", 2),  # 97164 with 97116, no 59/X
            ("medicare.modifier.cq-on-pta-services", 2),
            ("medicare.scope.pt-evaluation-by-pt", 2),
        ],
    ),  # re-evaluation by a PTA
    # A chiropractor: 98941 without AT is maintenance; Medicare excludes a chiropractor's 97140 (GY). The
    # CMT/97140 pair (seed 001) is the example commercial plan's, not Medicare's.
    "C-1006": (
        "denied",
        [("medicare.chiropractic.manipulation-needs-at", 1), ("medicare.chiropractic.excluded-service", 2)],
    ),
    "C-1007": ("error", []),  # units "two", 2026-02-30
    "C-1008": ("denied", [("example-commercial.unit-cap.97112", 1)]),  # 4 units over the plan's 3, no CQ asked
    "C-1009": ("accepted", [("medicare.diagnosis.97112-example", 1)]),  # 97112 for low back pain: a warning
    "C-1010": ("denied", [("medicare.evaluation.one-pt-evaluation-per-day", 2)]),  # a second PT evaluation
    "C-1011": ("denied", [("medicare.timed.more-units-than-minutes", 2)]),  # 47 minutes pooled: 3 units, not 4
    "C-1012": ("accepted", [("medicare.timed.fewer-units-than-minutes", 1)]),  # 20 + 25 minutes: 3 units, not 1
}
EXAMPLE_FAMILIES = {"unit_cap", "modifier", "code_pair", "evaluation", "provider_scope", "diagnosis", "timed_units"}


def test_example_claims_give_one_decision_per_claim_in_order(capsys):
    from payerpolicy.cli.main import main

    claims = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    assert [c["id"] for c in claims] == list(EXAMPLE_EXPECT), "the example file changed: update EXAMPLE_EXPECT"
    code = main(["check", str(EXAMPLES), "--format", "json"])
    output = json.loads(capsys.readouterr().out)
    decisions = output["claims"]
    assert [d["id"] for d in decisions] == [c["id"] for c in claims]
    assert code == 3  # some claims are denied, one cannot be read (3 before 1)
    problems = []
    for decision in decisions:
        status, findings = EXAMPLE_EXPECT[decision["id"]]
        got = sorted((f["rule"], f["line"]) for f in decision["findings"])
        if decision["status"] != status or got != sorted(findings):
            problems.append(
                f"{decision['id']}: expected {status} {sorted(findings)}\n"
                f"    got {decision['status']} " + "\n        ".join(map(_finding_line, decision["findings"]))
            )
    assert not problems, "\n".join(problems)
    families = {f["family"] for d in decisions for f in d["findings"]}
    assert families == EXAMPLE_FAMILIES, f"families: expected {sorted(EXAMPLE_FAMILIES)}, got {sorted(families)}"
    assert output["summary"] == {"claims": 12, "accepted": 4, "denied": 7, "needs_fix": 3, "errors": 1}


def test_example_claims_through_the_library_keep_input_order():
    from payerpolicy.claims.json_claims import read_claims

    records = list(read_claims(EXAMPLES))
    decisions = list(_policy("medicare").check_many(records))
    assert [d.id for d in decisions] == list(EXAMPLE_EXPECT)
    assert [d.status for d in decisions] == [
        "accepted",
        "accepted",
        "denied",
        "denied",
        "denied",
        "denied",
        "error",
        "denied",
        "accepted",
        "denied",
        "denied",
        "accepted",
    ]
    # Under Medicare the example-commercial claim C-1008 (a PTA's line without CQ) is judged by Medicare's rules.
    assert [(f.rule, f.line) for f in decisions[7].findings] == [("medicare.modifier.cq-on-pta-services", 1)]
