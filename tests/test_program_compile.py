"""The compiled program: the generated function per group of codes judges exactly as the rules do one by one.

Judging without an observer runs the generated group functions (conditions written in line, effective dates
as constants, counts shared through the judged line's memo); with an observer, each rule's own function is
called in turn. Both must give the same decisions on every claim, so these tests judge the same claims both
ways, over the shipped policies and over a policy built to take the paths the shipped ones do not.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

import payerpolicy
from payerpolicy.claims.json_claims import claim_from_dict, read_claims
from payerpolicy.judge.judge import Judge
from payerpolicy.judge.window import judge_in_order
from payerpolicy.program.compile import assemble, plan_program

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import generate  # noqa: E402


def _judge_both_ways(policy, claims, window=25):
    def run(observer):
        judge = Judge(policy.program, observer=observer)
        return list(judge_in_order(iter(claims), lambda record: judge, window))

    return run(None), run(lambda rule, line, fired: None)


# Rules each run must fire, so that the comparison is not vacuous: counts over the day and the year, pairs.
MUST_FIRE = {
    "medicare": {
        "medicare.unit-cap.97112",
        "medicare.threshold.kx-pt-slp",
        "medicare.modifier.gp-on-pt-services",
        "medicare.timed.more-units-than-minutes",
        "medicare.pair.one-on-one-with-group",
    },
    "example-commercial": {
        "medicare.threshold.kx-pt-slp",
        "medicare.modifier.gp-on-pt-services",
        "medicare.pair.one-on-one-with-group",
    },
}


@pytest.mark.parametrize("payer", sorted(MUST_FIRE))
def test_generated_groups_judge_as_the_rules_one_by_one(payer):
    policy = payerpolicy.load(payer)
    raw = generate.claims(3000, seed=7)
    for c in raw:
        c["payer"] = payer
    # Few patients, so patient-days span claims and years pass the thresholds.
    for i, c in enumerate(raw):
        c["patient"]["id"] = f"P-{i % 40}"
    claims = [claim_from_dict(c) for c in raw]
    fast, slow = _judge_both_ways(policy, claims)
    assert fast == slow
    assert MUST_FIRE[payer] <= {f.rule for d in fast for f in d.findings}


def test_the_shipped_examples_judge_the_same_both_ways():
    path = ROOT / "examples" / "claims.json"
    records = [r for r in read_claims(path) if getattr(r, "payer", None) in (None, "medicare")]
    fast, slow = _judge_both_ways(payerpolicy.load("medicare"), records)
    assert fast == slow and any(d.findings for d in fast)


CODES = [f"9{n:04d}" for n in range(7000, 7030)]  # thirty made-up codes, each with a cap of its own


def _wide_policy(tmp_path: Path) -> Path:
    """A rule over thirty codes that each have a rule of their own: the shared rule stands in more groups
    than are written in line, so it is called from each. Dated rules and missing values are in it too."""
    caps = "\n".join(
        f"""  - id: wide.cap.{code}
    codes: {code}
    max_units: {1 + i % 3}
    source: "test" """
        for i, code in enumerate(CODES)
    )
    text = textwrap.dedent("""\
        policy:
          payer: wide
          name: Wide test policy
          version: "1"
        defaults:
          unit_cap: {{severity: deny, reason: {{group: CO, carc: "119"}}}}
        code_sets:
          wide: {codes}
        rules:
          - id: wide.minutes
            family: timed_units
            codes: "@wide"
            severity: warn
            reason: {{group: CO, carc: "16"}}
            when: minutes is missing or minutes > 20 and total minutes of lines with code in @wide that day > 40
            message: "{{line.code}}: {{total minutes of lines with code in @wide that day}} minutes that day"
            source: "test"
          - id: wide.dated
            family: modifier
            codes: "@wide"
            severity: deny
            reason: {{group: CO, carc: "4"}}
            effective_from: 2026-03-01
            effective_to: 2026-03-31
            when: lacks modifier GP
            fix: add modifier GP
            source: "test"
        """).format(codes="[" + ", ".join(CODES) + "]")
    folder = tmp_path / "wide"
    folder.mkdir()
    (folder / "policy.yaml").write_text(text + "unit_caps:\n" + caps + "\n")
    return folder


def test_a_rule_over_many_groups_is_called_not_written_in_line(tmp_path):
    loaded = payerpolicy.load(_wide_policy(tmp_path))
    # Every group written as a function of its own (none composed of a shorter group and its cap: that
    # way, below, judges the same).
    policy = SimpleNamespace(
        program=assemble(loaded.program.policy, plan_program(loaded.program.policy, compose=False))
    )
    source = policy.program.source
    assert "W_0(d, f)" in source  # called from the groups, not written in line
    assert "W_1(d, f)" not in source  # ... but a short condition (`lacks modifier GP`) is written in line
    # Thirty caps differ only in their figures: their conditions, messages and fixes share shapes.
    shapes = policy.program.shapes_source.count("# shape ")
    assert shapes < 20 < source.count("\ndef ")
    claims = []
    for i in range(400):
        lines = []
        for j in range(1 + i % 4):
            line = {
                "code": CODES[(i * 7 + j * 3) % len(CODES)],
                "units": 1 + (i + j) % 4,
                "modifiers": ["GP"] if (i + j) % 3 else [],
                "date": f"2026-0{2 + i % 3}-1{j % 2}",
            }
            if (i + j) % 5:
                line["minutes"] = 10 + (i * j) % 35
            lines.append(line)
        claims.append(
            claim_from_dict(
                {
                    "id": f"W-{i}",
                    "payer": "wide",
                    "patient": {"id": f"P-{i % 9}"},
                    "provider": {"type": "PT"},
                    "lines": lines,
                }
            )
        )
    fast, slow = _judge_both_ways(policy, claims)
    assert fast == slow
    fired = {f.rule for d in fast for f in d.findings}
    assert {"wide.minutes", "wide.dated"} <= fired and any(r.startswith("wide.cap.") for r in fired)
    assert len(loaded.program.plan.composed) == len(CODES)  # each cap's group: the two shared rules, and the cap
    assert _judge_both_ways(loaded, claims)[0] == fast
    # The dated rule fires only on lines of March.
    dated = [(d, f) for d in fast for f in d.findings if f.rule == "wide.dated"]
    assert all(next(ln for ln in d.lines if ln.line == f.line).date_of_service.startswith("2026-03") for d, f in dated)


def test_the_generated_source_names_each_rule_and_tracebacks_show_what_runs():
    program = payerpolicy.load("medicare").program
    for spec in program.policy.rules:
        assert f"# {spec.id}" in program.source
    # Tracebacks and profiles show the compiled lines.
    import linecache

    code = program.judge_for("97112").__code__
    assert linecache.getline(code.co_filename, code.co_firstlineno).strip() == "def run(d, f):"


def test_the_generated_source_is_the_same_in_every_process():
    """Python seeds its string hashes per process; the generated program must not depend on them."""
    import os
    import subprocess

    script = (
        "import hashlib, payerpolicy; p = payerpolicy.load('medicare'); "
        "print(hashlib.sha1((p.program.source + p.program.shapes_source).encode()).hexdigest())"
    )
    digests = set()
    for seed in ("1", "2", "3"):
        env = dict(
            os.environ,
            PYTHONHASHSEED=seed,
            PAYERPOLICY_CACHE="off",
            PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
        )
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        digests.add(done.stdout.strip())
    assert len(digests) == 1


NESTED_POLICY = """\
policy: {payer: nest, name: Nested counts (test), version: "1"}
rules:
  - id: nest.more-than-earlier-97112
    family: unit_cap
    codes: [97110, 97112]
    when: another line with units > total units of lines with code = 97112 earlier that day earlier that day
    severity: warn
    reason: {group: CO, carc: "119"}
    message: "more units than the {total units of lines with code = 97112 earlier that day} of 97112 before"
    source: test
  - id: nest.again-with-two-units
    family: unit_cap
    codes: [97110, 97112]
    when: >-
      another line with units > total units of lines with code = 97112 earlier that day earlier that day
      and units > 1
    severity: warn
    reason: {group: CO, carc: "119"}
    message: "the same, on two units or more"
    source: test
"""


def test_a_count_asked_twice_inside_another_count_is_held_once(tmp_path):
    """A group asks two counts twice each, one inside the other's filter: each is held in a local of the
    group function, set where it is first worked out, even inside the other count's loop."""
    (tmp_path / "policy.yaml").write_text(NESTED_POLICY)
    policy = payerpolicy.load(tmp_path)
    group = policy.program.source.split("def group_1(")[1]
    assert group.count(" = NOT_YET") == 2 and "m.get(" not in group
    raw = generate.claims(1500, seed=5)
    for i, c in enumerate(raw):
        c.update(payer="nest", patient={"id": f"P-{i % 30}"})
    fast, slow = _judge_both_ways(policy, [claim_from_dict(c) for c in raw])
    assert fast == slow
    assert {f.rule for d in fast for f in d.findings} == {"nest.more-than-earlier-97112", "nest.again-with-two-units"}


NUMBER_SET_POLICY = """\
policy: {payer: numbers, name: numbers, version: "1"}
rules:
  - id: numbers.units-in-a-list
    family: custom
    codes: any
    when: units in [2, 4] and number of lines that day not in [3]
    severity: warn
    kind: advisory
    message: "{units}"
    source: test
"""


def test_a_number_in_a_list_of_numbers(tmp_path):
    """`units in [2, 4]` compares numbers with numbers (once it compared them with the text "2", "4", and no
    number was ever in the list)."""
    (tmp_path / "policy.yaml").write_text(NUMBER_SET_POLICY)
    policy = payerpolicy.load(tmp_path)
    claim = claim_from_dict(
        {
            "id": "C-1",
            "patient": {"id": "P-1"},
            "lines": [{"code": "97110", "units": units, "date": "2026-03-02"} for units in (1, 2, 4)],
        }
    )
    assert [f.line for f in policy.check(claim).findings] == []  # three lines that day
    claim = claim_from_dict(
        {
            "id": "C-2",
            "patient": {"id": "P-1"},
            "lines": [{"code": "97110", "units": units, "date": "2026-03-02"} for units in (2, 3)],
        }
    )
    assert [f.line for f in policy.check(claim).findings] == [1]
