"""Counts over the patient's record answered by halving its dates: the same answers as walking the record.

`program.record_filter` recognizes a count over the record whose filter asks for a set of codes, fields equal
to the judged line's and a range of dates (the plan-of-care counts: `latest date of lines with code in
@plan_evaluation and discipline = line.discipline and date <= line.date on record`), and `program.record_dates`
answers it from the record's sorted dates, carried from one claim of a patient to the next. These tests compile
policies both ways (the second with `plan_program(running_totals=False)`: every count walked) and judge random
records with both: several disciplines, codes, dates (claims billed late, out of date order), evaluations,
replacements and voids, with the run's own history, a SQLite history and a history in memory, in windows and
claim by claim.
"""

from __future__ import annotations

import datetime
import json
import random

import pytest

from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.diagnostics import TextOrigin
from payerpolicy.judge.history import ClaimHistory
from payerpolicy.judge.judge import Judge
from payerpolicy.judge.memory_history import MemoryHistory
from payerpolicy.judge.window import judge_in_order
from payerpolicy.pipeline import load_program
from payerpolicy.program.compile import assemble, plan_program
from payerpolicy.program.record_filter import dates_filter
from payerpolicy.rules import ast
from payerpolicy.rules.lower import lower_condition

_TREATMENT = {"GP": ["97110", "97112", "97140", "97530"], "GO": ["97530", "97535", "97110"], "GN": ["92507"]}
_EVALUATION = {"GP": ["97161", "97162"], "GO": ["97165", "97166"], "GN": ["92521", "92523"]}
_EVALUATIONS = "[97161-97163, 97165-97167, 92521-92524, 92610]"
_LATEST = (
    f"latest date of lines with code in {_EVALUATIONS} and discipline = line.discipline and date <= line.date on record"
)
_BEGAN = f"first_present({_LATEST}, claim.treatment_began)"

# Each value in a message, so that a count off by one day or one date changes the decision.
RULES = [
    ("latest-evaluation", f"{_LATEST} is present", f"{{{_LATEST}}}"),
    (
        "treatment-days",
        f"{_BEGAN} is present",
        "{number of days with code in [97110, 97112, 97140, 97530, 97535, 92507] and discipline = line.discipline"
        f" and date >= {_BEGAN} and date <= line.date on record}}",
    ),
    (
        "days-before-30",
        f"{_BEGAN} is present",
        "{number of days with code in [97110, 97530] and discipline = line.discipline"
        f" and date >= {_BEGAN} + 30 and date < line.date on record}}",
    ),
    (
        "earliest-after",
        "earliest date of lines with code = 97161 and line.date > date on record is present",
        "{earliest date of lines with code = 97161 and line.date > date on record}",
    ),
    (
        "any-code-two-fields",
        "units >= 1",
        "{number of days with discipline = line.discipline and provider.type = line.provider.type"
        " and date >= line.date - 20 and date < line.date on record}"
        " {latest date of lines with code = line.code and date < line.date on record}",
    ),
    ("whole-record", "units >= 1", "{earliest date of lines on record} {number of days on record}"),
    (
        "bound-from-the-claim",
        "claim.treatment_began is present",
        "{number of days with code in [97110, 97530] and date > claim.treatment_began on record}",
    ),
    # Not in the halving road's shape (a date test before the code, a units test): walked, as a control.
    (
        "walked",
        "units >= 1",
        "{number of days with date <= line.date and code in [97110] on record}"
        " {latest date of lines with code in [97110] and units >= 2 on record}",
    ),
]


def _policy_folder(tmp_path):
    """The rules as a policy file (JSON is YAML too)."""
    rules = [
        {
            "id": f"test.{name}",
            "family": "threshold",
            "codes": "@any",
            "when": condition,
            "severity": "info",
            "kind": "advisory",
            "message": message,
            "source": "test",
        }
        for name, condition, message in RULES
    ]
    codes = ["97110", "97112", "97140", "97530", "97535", "92507", "97161-97163", "97165-97167", "92521-92524"]
    policy = {"payer": "medicare", "name": "Record dates (test)", "version": "1"}
    (tmp_path / "policy.yaml").write_text(json.dumps({"policy": policy, "code_sets": {"any": codes}, "rules": rules}))
    return tmp_path


def _line(rng: random.Random, date: datetime.date) -> dict:
    discipline = rng.choice(["GP", "GP", "GO", "GN"])
    evaluation = rng.random() < 0.1
    code = rng.choice(_EVALUATION[discipline] if evaluation else _TREATMENT[discipline])
    modifiers = [discipline] if rng.random() < 0.9 else []  # else the provider's discipline, or none
    return {"code": code, "modifiers": modifiers, "units": rng.randint(1, 3), "date": date.isoformat(), "charge": 40.0}


def _claims(seed: int, count: int = 400, patients: int = 5) -> list:
    """Dense records over most of a year; some claims of several dates, some billed late (dated before
    claims judged already), some naming the date treatment began, some replacing or voiding an earlier one."""
    rng = random.Random(seed)
    start = datetime.date(2025, 9, 1)
    out: list[dict] = []
    for number in range(count):
        first = start + datetime.timedelta(days=number * 300 // count + rng.randrange(4))
        if rng.random() < 0.08:  # billed late
            first -= datetime.timedelta(days=rng.randrange(10, 90))
        dates = [first + datetime.timedelta(days=rng.randrange(3)) for _ in range(rng.choice([1, 1, 1, 2]))]
        claim = {
            "id": f"R-{number}",
            "payer": "medicare",
            "patient": {"id": f"P-{rng.randrange(patients)}"},
            "provider": {"npi": "1234567893", "type": rng.choice(["PT", "PT", "OT", "PTA"])},
            "referring_npi": "1234567893",
            "diagnoses": ["M54.50"],
            "lines": [_line(rng, rng.choice(dates)) for _ in range(rng.randint(1, 6))],
        }
        if rng.random() < 0.2:
            claim["treatment_began"] = (first - datetime.timedelta(days=rng.randrange(120))).isoformat()
        if number > 30 and rng.random() < 0.06:  # a replacement or a void of an earlier claim of the patient
            earlier = rng.choice(out[-30:])
            claim = dict(claim, id=earlier["id"], patient=earlier["patient"], frequency=rng.choice("778"))
        out.append(claim)
    return [claim_from_dict(c) for c in out]


def _both(program_fast):
    plain = assemble(program_fast.policy, plan_program(program_fast.policy, running_totals=False))
    assert "record_dates(" in program_fast.source  # the two programs really are compiled differently
    assert "record_dates(" not in plain.source
    return program_fast, plain


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    fast, _ = load_program(_policy_folder(tmp_path_factory.mktemp("policy")), cache=False)
    return _both(fast)


@pytest.fixture(scope="module")
def medicare():
    fast, _ = load_program("medicare", cache=False)
    return _both(fast)


def _judged(program, claims, window, history=None):
    judge = Judge(program, history=history)
    return list(judge_in_order(iter(claims), lambda record: judge, window))


@pytest.mark.parametrize("window", [0, 4])
def test_halved_counts_judge_as_the_walk_with_the_runs_history(programs, window):
    claims = _claims(seed=31)
    fast, plain = (_judged(program, claims, window) for program in programs)
    assert fast == plain
    fired = {f.rule for d in fast for f in d.findings}
    assert fired == {f"test.{name}" for name, _, _ in RULES}, "every form must fire for the comparison to count"


@pytest.mark.parametrize("seed", [32, 33])
def test_halved_counts_judge_as_the_walk_with_a_claim_history(tmp_path, programs, seed):
    claims = _claims(seed=seed)
    decisions = []
    for name, program in zip(("fast", "plain"), programs):
        with ClaimHistory(tmp_path / f"{name}.sqlite") as history:
            for record in claims[:120]:  # an earlier run, kept in the history
                history.record(record, payer="medicare")
            decisions.append(_judged(program, claims[120:], 3, history))
    assert decisions[0] == decisions[1]


def test_halved_counts_judge_as_the_walk_with_a_history_in_memory(programs):
    claims = _claims(seed=34, count=250)
    fast, plain = (_judged(program, claims, 2, MemoryHistory()) for program in programs)
    assert fast == plain


def test_halved_counts_judge_as_the_walk_claim_by_claim(programs):
    fast, plain = programs
    for record in _claims(seed=35, count=120):
        assert Judge(fast, remember=False).judge([record]) == Judge(plain, remember=False).judge([record]), record.id


@pytest.mark.parametrize("window", [0, 5])
def test_medicare_plan_of_care_judges_as_the_walk(tmp_path, medicare, window):
    claims = _claims(seed=36, count=500, patients=6)
    decisions = []
    for name, program in zip(("fast", "plain"), medicare):
        with ClaimHistory(tmp_path / f"{name}.sqlite") as history:
            for record in claims[:150]:
                history.record(record, payer="medicare")
            decisions.append(_judged(program, claims[150:], window, history))
    assert decisions[0] == decisions[1]
    fired = {f.rule for d in decisions[0] for f in d.findings}
    assert {
        "medicare.plan-of-care.progress-report-due",
        "medicare.plan-of-care.certification-due",
        "medicare.plan-of-care.recertification-due",
    } <= fired, "the plan-of-care rules must fire for the comparison to count"


def _filter(text: str):
    """The filter of the first count over lines in a condition."""
    diagnostics: list = []
    condition = lower_condition(text, TextOrigin("test.yaml", tuple((1, i + 1) for i in range(len(text)))), diagnostics)
    assert not diagnostics, diagnostics
    return next(n for n in _walk(condition) if isinstance(n, ast.DayLines)).filter


def _walk(node):
    yield node
    for name in getattr(node, "__slots__", ()):
        value = getattr(node, name)
        for item in value if isinstance(value, tuple) else (value,):
            if hasattr(item, "__slots__"):
                yield from _walk(item)


def test_the_filters_the_halving_road_takes():
    fitted = dates_filter(_filter(f"{_LATEST} is present"))
    assert fitted is not None
    assert (fitted.counted, fitted.judged) == (("discipline",), ("discipline",))
    assert [narrowing for narrowing, _ in fitted.bounds] == ["dates_upto"]
    swapped = dates_filter(_filter("latest date of lines with code = 97161 and line.date > date on record is present"))
    assert swapped is not None and [n for n, _ in swapped.bounds] == ["dates_before"]
    assert dates_filter(None) is not None  # `on record` without a filter: every line
    # What it leaves to the walk: a date test before the code's, a test of anything but the code, fields
    # equal to the judged line's and the date, a bound reading the counted line, a negated code test.
    for walked in (
        "number of days with date <= line.date and code in [97110] on record > 1",
        "number of days with code in [97110] and units >= 2 on record > 1",
        "number of days with code in [97110] and date <= date + 1 on record > 1",
        "number of days with code not in [97110] and date <= line.date on record > 1",
        "number of days with code in [97110] and discipline != line.discipline on record > 1",
        "number of days with code in [97110] and date != line.date on record > 1",
    ):
        assert dates_filter(_filter(walked)) is None, walked


def test_a_replacement_before_the_last_line_seen_makes_the_dates_again(programs):
    """A replacement whose lines take the places of the earlier version's, before the last line the carried
    dates saw: that line is still where it was, but the history's revision moved on, so the dates are made
    again (the replaced evaluation is no longer on record)."""

    def claim(claim_id: str, date: str, code: str, frequency: str = "1"):
        return claim_from_dict(
            {
                "id": claim_id,
                "payer": "medicare",
                "frequency": frequency,
                "patient": {"id": "P-1"},
                "provider": {"npi": "1234567893", "type": "PT"},
                "lines": [{"code": code, "modifiers": ["GP"], "units": 1, "date": date, "charge": 40.0}],
            }
        )

    claims = [
        claim("A", "2025-09-01", "97161"),
        claim("B", "2025-09-10", "97110"),
        claim("D", "2025-09-15", "97110"),
        claim("A", "2025-09-02", "97110", frequency="7"),
        claim("C", "2025-09-20", "97110"),
    ]
    fast, plain = (_judged(program, claims, 0) for program in programs)
    assert fast == plain
    said = {f.rule for f in fast[-1].findings}
    assert "test.latest-evaluation" not in said and "test.latest-evaluation" in {f.rule for f in fast[2].findings}


def test_the_lines_stored_since_a_revision():
    """What carries the record's dates from one claim to the next: the lines of the claims stored after the
    ones seen, of the judged payer, while the revision holds; a claim stored again, or the patient made
    again, is another revision."""
    from payerpolicy.judge.history import HistoryLine
    from payerpolicy.judge.history_cache import PatientLines

    def lines(claim_id: str, payer: str, *days: int) -> tuple:
        return tuple(
            HistoryLine(
                claim_id, "P", payer, "1", n + 1, "97110", ("GP",), 1, 40.0, datetime.date(2026, 3, day), "PT", "PT"
            )
            for n, day in enumerate(days)
        )

    patient = PatientLines()
    patient.put("A", lines("A", "medicare", 20))
    revision = patient.revision("C")
    assert patient.lines_after(None, "medicare") == (1, [])
    patient.put("B", lines("B", "acme", 21))
    patient.put("late", lines("late", "medicare", 2, 3))  # billed late: dated before A
    assert patient.revision("C") == revision
    seen, added = patient.lines_after(1, "medicare")
    assert seen == 3 and [(line.claim_id, line.date.day) for line in added] == [("late", 2), ("late", 3)]
    assert patient.lines_after(3, "medicare") == (3, [])
    assert patient.revision("A") is None  # a claim stored already: nothing carries
    patient.put("A", lines("A", "medicare", 22))  # stored again: taken out first
    assert patient.revision("C") != revision
    assert PatientLines().revision("C") != PatientLines().revision("C")  # a patient read again
