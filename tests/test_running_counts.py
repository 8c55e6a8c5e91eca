"""Counts worked out once per claim and date, and running totals: the same answers as counting line by line.

A count whose filter reads only the counted lines is compiled to a faster form (program.source): over the
whole day or year it is kept in the day's memo, over earlier lines it is a running total down the claim. These
tests compile one policy both ways, the second time with `plan_program(running_totals=False)`, every count written the plain way (a list of the
scope's lines, filtered, per judged line), and judge the same claims with both: claims of several dates
(out of date order, across a new year), patient-days spanning claims, replacements, and a claim history.
"""

from __future__ import annotations

import random
import textwrap

import pytest

from payerpolicy.program.compile import assemble, plan_program
from payerpolicy.judge.history import ClaimHistory
from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.judge.judge import Judge
from payerpolicy.judge.window import judge_in_order
from payerpolicy.pipeline import load_program

# One rule per fast form: scope (day, earlier that day, year, earlier that year, record, earlier on record),
# measure (total, number, another line), with and without a filter. Low figures, so that they fire.
RULES = [
    ("year-charges", "total charge of lines with discipline = PT earlier that year + charge > 400"),
    ("year-charges-ot", "total charge of lines with discipline = OT earlier that year > 150"),
    ("day-earlier-count", "number of lines with code in [97110, 97112] earlier that day >= 2"),
    ("day-earlier-units", "total units of lines with code = 97112 earlier that day + units > 3"),
    ("another-that-day", "another line with code = 97140 that day and lacks modifier 59"),
    ("another-any-that-day", "another line that day and code = 97530"),
    ("day-minutes", "total minutes of lines with code in [97110, 97112, 97140] that day >= 50"),
    ("year-count", "number of lines with code = 97110 that year >= 4"),
    ("another-earlier-year", "another line with code = 97112 earlier that year and code = 97112"),
    ("record-earlier-units", "total units of lines with code = 97110 earlier on record > 6"),
    ("another-this-year", "another line with code = 97530 that year and code = 97530"),
    ("record-count", "number of lines on record >= 12"),
    ("another-earlier-record", "another line earlier on record and code = 97161"),
    # Running totals per value: the counted line shares the judged line's code, claim or discipline.
    (
        "same-code-earlier-units",
        "total units of lines with code = line.code and claim_id = claim.id earlier that day + units > 3",
    ),
    (
        "same-discipline-earlier",
        "another line with code in [97110, 97530] and discipline = line.discipline earlier that day and code = 97530",
    ),
    ("same-code-year-charges", "total charge of lines with line.code = code earlier that year > 600"),
    (
        "same-code-record-count",
        "number of lines with code = line.code and discipline = line.discipline and units >= 2 earlier on record >= 3",
    ),
    # Exact figures, however far down a long claim: a total off by one line changes which lines fire.
    (
        "same-code-units-exactly",
        "remainder(total units of lines with code = line.code and claim_id = claim.id earlier that day, 7) = 3",
    ),
    (
        "own-claim-record",
        "another line with claim_id = line.claim_id and code in [97161, 97112] earlier on record and code = 97110",
    ),
    (
        "same-code-year-exactly",
        "remainder(number of lines with code = line.code and units >= 2 earlier that year, 5) = 2",
    ),
]


def _policy_folder(tmp_path):
    rules = "\n".join(
        f"""\
          - id: test.{name}
            family: threshold
            codes: [97110, 97112, 97140, 97530, 97161]
            when: {condition}
            severity: deny
            reason: {{group: CO, carc: "119"}}
            message: "{name}"
            source: test"""
        for name, condition in RULES
    )
    (tmp_path / "policy.yaml").write_text(
        textwrap.dedent("""\
        policy: {payer: counts, name: Counts (test), version: "1"}
        rules:
        """)
        + textwrap.dedent(rules)
        + "\n"
    )
    return tmp_path


def _claims(seed: int = 11) -> list:
    rng = random.Random(seed)
    codes = ["97110", "97112", "97140", "97530", "97161"]
    dates = ["2025-12-30", "2025-12-31", "2026-01-02", "2026-01-05", "2026-01-06"]
    out = []
    for number in range(400):
        claim_dates = rng.sample(dates, rng.choice([1, 1, 2, 3]))  # several dates, in any order
        lines = [
            {
                "code": rng.choice(codes),
                "units": rng.randint(1, 3),
                "minutes": rng.choice([8, 15, 25, 40]),
                "date": rng.choice(claim_dates),
                "charge": float(rng.choice([40, 75, 120])),
                "modifiers": rng.choice([["GP"], ["GO"], ["GP", "59"], []]),
            }
            for _ in range(rng.randint(1, 5))
        ]
        claim = {
            "id": f"C-{number}",
            "patient": {"id": f"P-{rng.randrange(6)}"},
            "payer": "counts",
            "provider": {"type": rng.choice(["PT", "OT", "PTA"])},
            "lines": lines,
        }
        if number > 20 and rng.random() < 0.1:  # a replacement of an earlier claim of the same patient
            earlier = rng.choice([c for c in out if c["patient"] == claim["patient"]] or [out[-1]])
            claim = dict(claim, id=earlier["id"], patient=earlier["patient"], frequency="7")
        out.append(claim)
    return [claim_from_dict(c) for c in out]


def _programs(tmp_path):
    """The policy compiled twice from the same checked rules: with running totals, and with every count over
    earlier lines written as a walk over them (`plan_program(running_totals=False)`)."""
    folder = _policy_folder(tmp_path)
    fast, _ = load_program(folder, cache=False)
    plain = assemble(fast.policy, plan_program(fast.policy, running_totals=False))
    # The two programs really are compiled differently.
    assert "running_in_year" in fast.source and "dm.get(" in fast.source
    assert "running_in_day_by(" in fast.source and "running_in_year_by(" in fast.source
    assert "running_in_" not in plain.source and "dm.get(" not in plain.source
    return fast, plain


@pytest.mark.parametrize("window", [0, 3, 25])
def test_fast_counts_judge_as_plain_counts(tmp_path, window):
    fast, plain = _programs(tmp_path)
    claims = _claims()

    def run(program):
        judge = Judge(program)
        return list(judge_in_order(iter(claims), lambda record: judge, window))

    fast_decisions, plain_decisions = run(fast), run(plain)
    assert fast_decisions == plain_decisions
    fired = {f.rule for d in fast_decisions for f in d.findings}
    assert fired == {f"test.{name}" for name, _ in RULES}, "every form must fire for the comparison to count"


def test_fast_counts_judge_as_plain_counts_with_a_claim_history(tmp_path):
    fast, plain = _programs(tmp_path)
    claims = _claims(seed=12)
    decisions = []
    for name, program in (("fast", fast), ("plain", plain)):
        with ClaimHistory(tmp_path / f"{name}.sqlite") as history:
            for record in claims[:150]:  # an earlier run, kept in the history
                history.record(record, payer="counts")
            judge = Judge(program, history=history)
            decisions.append(list(judge_in_order(iter(claims[150:]), lambda record, judge=judge: judge, 5)))
    assert decisions[0] == decisions[1]
    assert any(d.findings for d in decisions[0])


def test_one_claim_alone_fast_and_plain(tmp_path):
    fast, plain = _programs(tmp_path)
    for record in _claims(seed=13)[:200]:
        assert Judge(fast, remember=False).judge([record]) == Judge(plain, remember=False).judge([record]), record.id


def test_big_claims_fast_and_plain(tmp_path):
    """Claims of more lines than a usual day (program.runtime._SMALL): the running totals per value are
    kept by key, not counted again line by line, and still judge as the plain counts do."""
    fast, plain = _programs(tmp_path)
    rng = random.Random(14)
    codes = ["97110", "97112", "97140", "97530", "97161"]
    for number, dates in enumerate((["2026-01-05"], ["2026-01-05", "2026-01-06", "2025-12-31"])):
        lines = [
            {
                "code": rng.choice(codes),
                "units": rng.randint(1, 3),
                "minutes": 15,
                "date": rng.choice(dates),
                "charge": float(rng.choice([40, 75, 120])),
                "modifiers": rng.choice([["GP"], ["GO"], []]),
            }
            for _ in range(150)
        ]
        record = claim_from_dict(
            {
                "id": f"BIG-{number}",
                "patient": {"id": "P-1"},
                "payer": "counts",
                "provider": {"type": "PT"},
                "lines": lines,
            }
        )
        decided = Judge(fast, remember=False).judge([record])
        assert decided == Judge(plain, remember=False).judge([record])
        fired = {f.rule for d in decided for f in d.findings}
        assert {"test.same-code-units-exactly", "test.same-code-year-exactly"} <= fired
