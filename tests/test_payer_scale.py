"""A payer's tables compiled as a few functions: the same findings as a function written per group of codes.

A policy with thousands of table rows (unit caps, modifier requirements, a code pair table over the same
codes) has a group of rules per code, all alike but for the code's row. `program.compile.composed_groups`
judges such a group as the shorter group the codes share, plus the row's condition, instead of writing a
function per group. These tests compile the same checked rules both ways (`plan_program(compose=False)`
writes every group) and judge the same claims with both.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.judge.judge import Judge
from payerpolicy.judge.window import judge_in_order
from payerpolicy.program import compile as program_compile
from payerpolicy.program.compile import assemble, plan_program
from payerpolicy.pipeline import load_program

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import generate  # noqa: E402

CAPPED = [f"2{n:04d}" for n in range(1000, 1030)]  # made-up codes, a unit cap each
NEED_SIDE = [f"2{n:04d}" for n in range(2000, 2020)]  # made-up codes, each needing a modifier
PARTNERS = ["20550", "20552", "20553"]  # column 1 of the pair table
SOME_MODIFIERS = ("GP", "RT", "LT", "59", "KX")


def _table_policy(tmp_path: Path) -> Path:
    """Medicare grown by table rows: thirty caps, twenty modifier requirements, a pair table whose column 2
    is every one of those codes, and a rule over the capped codes written after the caps (so that a cap's
    finding goes between the shorter group's findings, not after them)."""
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "policy.yaml").write_text(
        "policy: {payer: tables, name: Table-shaped test policy, version: '1', extends: medicare, fictional: true}\n"
        "code_pair_tables:\n  - id: tables.ptp\n    file: ptp.csv\n    source: test\n"
    )
    (folder / "caps.yaml").write_text(
        "unit_caps:\n"
        + "".join(
            f"  - id: tables.cap.{code}\n    codes: {code}\n    max_units: {1 + i % 3}\n    source: test\n"
            for i, code in enumerate(CAPPED)
        )
    )
    (folder / "sides.yaml").write_text(
        "modifier_requirements:\n"
        + "".join(
            f"  - id: tables.side.{code}\n    codes: {code}\n    require: {('RT', 'LT')[i % 2]}\n    source: test\n"
            for i, code in enumerate(NEED_SIDE)
        )
    )
    (folder / "z-later.yaml").write_text(
        "rules:\n  - id: tables.later\n    family: custom\n    codes: [" + ", ".join(CAPPED) + "]\n"
        "    when: units > 2 and lacks modifier 59\n    severity: warn\n    reason: {group: CO, carc: '16'}\n"
        '    message: "{line.code}: {units} units without 59"\n    source: test\n'
    )
    rows = ["column1,column2,effective_from,deleted,modifier_indicator\n"]
    for i, code in enumerate(CAPPED + NEED_SIDE):
        rows.append(f"{PARTNERS[i % 3]},{code},2010-01-01,,{i % 2}\n")
    (folder / "ptp.csv").write_text("".join(rows))
    return folder


def table_claims(
    seed: int = 3, count: int = 600, payer: str = "tables", codes: list | None = None, modifiers: tuple = SOME_MODIFIERS
) -> list:
    """Claims of `codes` (by default the test policy's table codes and a few therapy codes) for `payer`, each
    line with up to two of `modifiers`."""
    rng = random.Random(seed)
    codes = codes or CAPPED + NEED_SIDE + PARTNERS + ["97110", "97112", "97140"]
    out = []
    for i in range(count):
        lines = [
            {
                "code": rng.choice(codes),
                "units": rng.randint(1, 5),
                "modifiers": rng.sample(modifiers, rng.randint(0, 2)),
                "date": f"2026-03-{1 + i % 5:02d}",
                "minutes": rng.choice([8, 15, 30, 45]),
            }
            for _ in range(rng.randint(1, 5))
        ]
        head = {"id": f"T-{i}", "payer": payer, "patient": {"id": f"P-{i % 25}"}, "provider": {"type": "PT"}}
        out.append(claim_from_dict(dict(head, lines=lines)))
    return out


def judged(program, claims) -> list:
    judge = Judge(program)
    return list(judge_in_order(iter(claims), lambda record: judge, 25))


def _written_per_group(program):
    return assemble(program.policy, plan_program(program.policy, compose=False))


def test_table_rows_judge_alike_composed_and_written_per_group(tmp_path):
    program = load_program(_table_policy(tmp_path), cache=False)[0]
    written = _written_per_group(program)
    plan = program.plan
    # Every cap and side code's group is composed: the shorter groups are written, theirs are not.
    composed_rules = {program.policy.rules[rule].id for _, rule in plan.composed.values()}
    assert composed_rules == {f"tables.cap.{c}" for c in CAPPED} | {f"tables.side.{c}" for c in NEED_SIDE}
    assert written.source.count("\ndef group_") >= len(plan.composed) > program.source.count("\ndef group_")
    # A cap's finding goes before the later rule's (the cap's group: medicare's rules, the cap, the pair
    # table and `tables.later`): the path that puts a rule between the shorter group's findings is taken.
    assert any(any(i > rule for i in plan.groups[shorter]) for shorter, rule in plan.composed.values()) and any(
        all(i < rule for i in plan.groups[shorter]) for shorter, rule in plan.composed.values()
    )

    claims = table_claims()
    composed_decisions, written_decisions = judged(program, claims), judged(written, claims)
    assert composed_decisions == written_decisions
    fired = [[f.rule for f in d.findings] for d in composed_decisions]
    rules = {rule for found in fired for rule in found}
    assert {"tables.later", "tables.ptp"} <= rules
    assert any(r.startswith("tables.cap.") for r in rules) and any(r.startswith("tables.side.") for r in rules)
    # Both a cap and the later rule on one line: the cap's finding first, as in the policy.
    both = [
        (d, f.line)
        for d in composed_decisions
        for f in d.findings
        if f.rule == "tables.later" and any(g.rule.startswith("tables.cap.") and g.line == f.line for g in d.findings)
    ]
    assert both
    for decision, line in both:
        on_line = [f.rule for f in decision.findings if f.line == line]
        assert on_line.index("tables.later") > max(i for i, r in enumerate(on_line) if r.startswith("tables.cap."))


@pytest.mark.parametrize("payer", ["medicare", "example-commercial"])
def test_shipped_policies_judge_alike_with_every_shared_group_composed(payer, monkeypatch):
    """The shipped policies are too small for composed groups (each group is written); with every group
    composed that can be (of itself less its rarest rule, written as a group of its own), they judge as
    written."""
    spec = load_program(payer, cache=False)[0].policy  # with its conditions (a cached one has none)
    monkeypatch.setattr(program_compile, "_SHARED_BY", 1)
    composed = assemble(spec, plan_program(spec))
    assert composed.plan.composed, "some groups must be composed for the comparison to count"
    written = _written_per_group(composed)
    assert not written.plan.composed
    raw = generate.claims(2000, seed=11)
    for i, c in enumerate(raw):
        c.update(payer=payer)
        c["patient"]["id"] = f"P-{i % 40}"
    claims = [claim_from_dict(c) for c in raw]
    composed_decisions = judged(composed, claims)
    assert composed_decisions == judged(written, claims)
    assert sum(len(d.findings) for d in composed_decisions) > 100


def test_a_shipped_policy_writes_every_group():
    """A small policy's groups are written out, the fastest way to judge: none is composed."""
    assert not load_program("medicare", cache=False)[0].plan.composed
