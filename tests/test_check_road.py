"""`Policy.check`'s quick road (judge/check_road.py) decides claim JSON on which no rule can fire without the
claim model or the judge. Its decisions must be, field for field, those `Judge.decide_alone` makes on the
claim json_quick reads; where it cannot say, it must hand the judge that same claim, or nothing (then the
careful road reads the claim and says what is wrong). Held here on the peer benchmark's policy, on a policy of
counts over the day and the year, dated rules and missing values, and on generated claims, good and bad (some
spoiled by hand, others made by hypothesis from test_claim_quick's good and bad values of every field)."""

from __future__ import annotations

import copy
import functools
import datetime
import enum
import random
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench" / "peers"))

import claimgen  # noqa: E402
import engines  # noqa: E402
from test_check_alone import every_field  # noqa: E402 - a decision with every field, as there
from test_claim_quick import claims as made_up_claims  # noqa: E402 - good and bad values of every field
from test_claim_quick import lines as made_up_lines  # noqa: E402

import payerpolicy  # noqa: E402
from payerpolicy.claims.json_claims import claim_field_by_field  # noqa: E402
from payerpolicy.claims.json_quick import quick_claim  # noqa: E402
from payerpolicy.decision import Decision  # noqa: E402
from payerpolicy.judge.check_road import check_road  # noqa: E402
from payerpolicy.judge.judge import Judge  # noqa: E402

# Rules of the kinds the quick road tests: fields of the line, counts over the day and the year (the claim's
# own lines, judged alone), lines earlier on the claim, missing values, arithmetic, dated rules.
COUNTS_POLICY = """
policy:
  payer: road-test
  name: Quick road test policy
  version: "1"
  fictional: true
code_sets:
  therapy: [97110, 97112, 97116, 97140, 97530, 97161-97163]
  evaluation: [97161-97163]
rules:
  - id: road.units
    family: unit_cap
    codes: 97110
    when: units > 4
    severity: deny
    reason: {group: CO, carc: "151"}
    message: "too many units: {units}"
    fix: set units to 4
    source: test
  - id: road.day_total
    family: unit_cap
    codes: "@therapy"
    when: total units of lines with code = line.code that day > 6
    severity: warn
    reason: {group: CO, carc: "151"}
    message: "{code} billed over 6 units that day"
    source: test
  - id: road.repeat
    family: code_pair
    codes: 97140
    when: another line with code = line.code earlier that day
    severity: deny
    reason: {group: CO, carc: "97"}
    message: "97140 billed twice"
    source: test
  - id: road.two_evaluations
    family: code_pair
    codes: "@evaluation"
    when: number of lines with code in @evaluation that day > 1
    severity: deny
    reason: {group: CO, carc: "97"}
    message: "two evaluations"
    source: test
  - id: road.no_minutes
    family: documentation
    codes: 97530
    when: minutes is missing and units > 2
    severity: warn
    reason: {group: CO, carc: "16"}
    message: "no minutes"
    source: test
  - id: road.minutes_short
    family: documentation
    codes: 97112
    when: minutes is present and units * 15 > minutes + 22
    severity: warn
    reason: {group: CO, carc: "16"}
    message: "minutes do not support the units"
    source: test
  - id: road.year_visits
    family: documentation
    codes: 97116
    when: number of days with code in @therapy that year > 0 and total minutes of lines that year > 150
    severity: info
    reason: {group: CO, carc: "119"}
    message: "long year"
    source: test
  - id: road.charge
    family: documentation
    when: charge > 400
    severity: warn
    reason: {group: CO, carc: "45"}
    message: "a high charge"
    source: test
    effective_from: 2024-03-01
    effective_to: 2024-09-30
  - id: road.rendering_npi
    family: claim_data
    codes: any
    when: data_fault.rendering_npi is present
    severity: deny
    reason: {group: CO, carc: "16", rarc: N290}
    message: "bad NPI: {data_fault.rendering_npi}"
    source: test
  - id: road.assistant
    family: modifier
    when: provider.type = PTA and lacks modifier CQ
    severity: deny
    reason: {group: CO, carc: "4"}
    message: "needs CQ"
    source: test
"""


@pytest.fixture(autouse=True)
def _fresh_policies(monkeypatch):
    """Policies compiled from their files (test_a_cached_or_pickled_policy_keeps_its_quick_road reads them from
    the cache)."""
    monkeypatch.setenv("PAYERPOLICY_CACHE", "off")


def bench_policy():
    return payerpolicy.load(str(ROOT / "bench" / "peers" / "policies" / "payerpolicy"))


def counts_policy():
    return payerpolicy.load_text(COUNTS_POLICY, as_of=datetime.date(2026, 1, 1))


def judged(policy, claim: dict) -> Decision:
    """The road `Policy.check` took before the quick road: json_quick (else the careful road), then the judge."""
    record = quick_claim(claim)
    if record is None:
        record = claim_field_by_field(claim)
    return Judge(policy.program, remember=False).decide_alone(record)


def peer_claims(count: int, seed: int = 20240611) -> list[dict]:
    return [engines.payerpolicy_record(c, f"C{i}") for i, c in enumerate(claimgen.make_claims(count, seed=seed))]


def mixed_claims(count: int, seed: int) -> list[dict]:
    """Claims for the counts policy: a few lines of a few codes on one date, with or without minutes, charges
    and providers, so that some break its rules and most do not."""
    rng = random.Random(seed)
    codes = ["97110", "97112", "97116", "97140", "97530", "97161", "97162", "99213", "G0283"]
    out = []
    for i in range(count):
        date = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        lines = []
        for _ in range(rng.randint(1, 5)):
            line: dict = {"code": rng.choice(codes), "units": rng.randint(1, 5), "date": date}
            if rng.random() < 0.7:
                line["minutes"] = line["units"] * 15 - rng.randint(0, 25)
            if rng.random() < 0.6:
                line["modifiers"] = rng.choice([["GP"], ["GP", "CQ"], [], ["59", "GO"]])
            if rng.random() < 0.5:
                line["charge"] = rng.choice([80, 120.5, 450, 600])
            if rng.random() < 0.6:
                line["provider"] = {"type": rng.choice(["PT", "PTA", "OT"])}
                if rng.random() < 0.05:
                    line["provider"]["npi"] = "1234567890"  # a bad check digit: a data fault
            lines.append(line)
        claim: dict = {"id": f"M{i}", "patient": {"id": f"P{i % 7}"}, "lines": lines}
        if rng.random() < 0.2:
            claim["provider"] = {"npi": "1234567893", "type": rng.choice(["PT", "PTA"])}
        out.append(claim)
    return out


class Modifier(str, enum.Enum):
    GP = "GP"


def spoiled(claims: list[dict], seed: int) -> list[dict]:
    """Copies of claims with one thing changed that the quick road must hand over, or must read as
    json_quick does: missing and unknown fields, values of other types, bad codes and dates, a void, a second
    date, a provider in part, a str subclass, unhashable values where a table is looked up."""
    rng = random.Random(seed)
    changes = [
        lambda c, line: line.pop("code"),
        lambda c, line: line.update(code=97110),
        lambda c, line: line.update(code="9711"),
        lambda c, line: line.update(code="97110x"),
        lambda c, line: line.update(code="g0283"),
        lambda c, line: line.update(units=True),
        lambda c, line: line.update(units=2.0),
        lambda c, line: line.update(units=-1),
        lambda c, line: line.update(units="2"),
        lambda c, line: line.update(minutes=100_000),
        lambda c, line: line.update(minutes=None),
        lambda c, line: line.update(date="2024-02-30"),
        lambda c, line: line.update(date="2024-12-31"),
        lambda c, line: line.update(modifiers=["gp"]),
        lambda c, line: line.update(modifiers=[["GP"]]),
        lambda c, line: line.update(modifiers=[{"m": 1}]),
        lambda c, line: line.update(modifiers="GP"),
        lambda c, line: line.update(modifiers=[Modifier.GP]),
        lambda c, line: line.update(modifiers=["GP", "GO", "GN", "59", "XU"]),
        lambda c, line: line.update(provider={}),
        lambda c, line: line.update(provider={"type": "XX"}),
        lambda c, line: line.update(provider={"type": ["PT"]}),
        lambda c, line: line.update(provider={"npi": "1234567893"}),
        lambda c, line: line.update(provider={"npi": "123", "type": "PT"}),
        lambda c, line: line.update(provider="PT"),
        lambda c, line: line.update(charge="10"),
        lambda c, line: line.update(charge=-5),
        lambda c, line: line.update(charge=float("nan")),
        lambda c, line: line.update(diagnosis_pointers=[1]),
        lambda c, line: line.update(place_of_service="11"),
        lambda c, line: line.update(note="x"),
        lambda c, line: c.update(frequency="8"),
        lambda c, line: c.update(frequency="7"),
        lambda c, line: c.update(diagnoses=["M54.5"]),
        lambda c, line: c.update(provider={"type": "PTA"}),
        lambda c, line: c.update(id=""),
        lambda c, line: c.pop("patient"),
        lambda c, line: c.update(lines=[]),
        lambda c, line: c.update(lines=[line, "not a line"]),
        lambda c, line: c.update(extra=1),
    ]
    out = []
    for number, claim in enumerate(claims):
        for _ in range(2):
            other = copy.deepcopy(claim)
            other["id"] = f"{claim['id']}-{number}"
            change = rng.choice(changes)
            change(other, rng.choice(other["lines"]))
            out.append(other)
    return out


@pytest.mark.parametrize(
    "load, claims",
    [
        (bench_policy, lambda: peer_claims(600)),
        (counts_policy, lambda: mixed_claims(600, seed=5)),
    ],
)
def test_the_quick_road_decides_as_the_judge_does(load, claims):
    policy = load()
    road = check_road(policy.program)
    assert road is not None
    batch = claims()
    decided = 0
    for claim in batch:
        read = road.decide(claim)
        expected = judged(policy, claim)
        if isinstance(read, Decision):  # the quick road said: every line accepted
            decided += 1
            assert every_field(read) == every_field(expected)
        else:  # handed over: the claim json_quick reads
            assert read == quick_claim(claim)
        assert every_field(policy.check(claim)) == every_field(expected)
    assert decided > len(batch) / 5  # many claims break no rule, and the road decides them
    assert any(judged(policy, claim).findings for claim in batch)  # and some break rules: handed over


@pytest.mark.parametrize(
    "load, claims",
    [(bench_policy, lambda: peer_claims(150, seed=7)), (counts_policy, lambda: mixed_claims(150, seed=8))],
)
def test_bad_and_unusual_claims_get_the_careful_roads_answer(load, claims):
    policy = load()
    road = check_road(policy.program)
    assert road is not None
    for claim in spoiled(claims(), seed=3):
        read = road.decide(claim)
        expected = judged(policy, claim)
        if isinstance(read, Decision):
            assert every_field(read) == every_field(expected)
        else:
            assert read == quick_claim(claim)
        # Errors too: the same problems, with the same field and words, as before the quick road.
        assert every_field(policy.check(claim)) == every_field(expected), claim


def test_a_bad_claim_is_still_reported_with_its_field():
    policy = bench_policy()
    claim = peer_claims(1)[0]
    claim["lines"][0]["units"] = "three"
    decision = policy.check(claim)
    assert decision.status == "error"
    assert [problem["field"] for problem in decision.errors] == ["lines[1].units"]


def test_a_rule_the_tests_cannot_say_hands_the_claim_to_the_judge():
    """A group with a rule the tuple form does not say (here a function of the rule language) has no test:
    its lines go to the judge, which finds the rule."""
    policy = payerpolicy.load_text(
        COUNTS_POLICY.replace("when: units > 4", 'when: units > value("limit")').replace(
            "code_sets:", "values:\n  limit: 4\ncode_sets:"
        ),
        as_of=datetime.date(2026, 1, 1),
    )
    road = check_road(policy.program)
    assert road is not None
    claim = {"id": "A", "patient": {"id": "P"}, "lines": [{"code": "97110", "units": 6, "date": "2024-05-01"}]}
    assert road.decide(claim) == quick_claim(claim)
    assert [f.rule for f in policy.check(claim).findings] == ["road.units"]
    other = {"id": "B", "patient": {"id": "P"}, "lines": [{"code": "97112", "units": 1, "date": "2024-05-01"}]}
    assert isinstance(road.decide(other), Decision)


@pytest.mark.parametrize("source", ["medicare", str(ROOT / "policies" / "example-commercial")])
def test_policies_most_of_whose_codes_the_tests_cannot_say_have_no_quick_road(source):
    """The shipped policies' timed codes have rules over the day's timed units: their lines would all go to the
    judge after a detour on the quick road, so there is none, and `check` is as it was."""
    assert check_road(payerpolicy.load(source).program) is None


def test_a_data_fault_is_missing_on_the_quick_road_and_found_on_the_careful_one():
    """A claim the quick road reads has no data faults: a rule on one never fires there. A claim with one (an
    NPI with a bad check digit) is read by the careful road, and the rule finds it."""
    policy = counts_policy()
    road = check_road(policy.program)
    assert road is not None
    line = {"code": "99213", "units": 1, "date": "2024-05-01", "provider": {"npi": "1234567893", "type": "PT"}}
    good = {"id": "G", "patient": {"id": "P"}, "lines": [line]}
    bad = {"id": "B", "patient": {"id": "P"}, "lines": [{**line, "provider": {"npi": "1234567890", "type": "PT"}}]}
    assert isinstance(road.decide(good), Decision)
    assert road.decide(bad) is None
    assert [f.rule for f in policy.check(bad).findings] == ["road.rendering_npi"]


def test_a_cached_or_pickled_policy_keeps_its_quick_road(monkeypatch, tmp_path):
    """The compiled-policy cache keeps no rule trees, so the tests are written when the policy is loaded from
    its files and kept with its plan: a policy read from the cache, or pickled to a worker, has the same road."""
    import pickle

    monkeypatch.setenv("PAYERPOLICY_CACHE", str(tmp_path))
    fresh = bench_policy()  # compiled, and written to the cache
    cached = bench_policy()
    assert all(spec.condition is None for spec in cached.program.policy.rules)  # read from the cache
    claims = peer_claims(200, seed=9)
    for policy in (cached, pickle.loads(pickle.dumps(fresh))):
        road = check_road(policy.program)
        assert road is not None
        decided = [claim for claim in claims if isinstance(road.decide(claim), Decision)]
        assert len(decided) > len(claims) / 2
        assert [every_field(policy.check(c)) for c in claims] == [every_field(judged(fresh, c)) for c in claims]


def test_a_provider_type_given_as_a_list_is_an_error_not_a_traceback():
    """json_quick looked a list up among the provider types (a TypeError, before the quick road's tests found
    it); now the careful road says what is wrong."""
    policy = bench_policy()
    line = {"code": "97110", "units": 1, "date": "2024-01-01", "provider": {"type": ["PT"]}}
    decision = policy.check({"id": "A", "patient": {"id": "P"}, "lines": [line]})
    assert decision.status == "error"
    assert [problem["field"] for problem in decision.errors] == ["lines[1].provider.type"]


def test_a_claim_of_many_lines_goes_to_the_judge():
    """A test walks every line of the claim for each line it asks about; the judge's counts over a day of many
    lines use an index by code (tests/test_big_claims.py). A claim of more than 64 lines is the judge's."""
    policy = bench_policy()
    road = check_road(policy.program)
    assert road is not None
    line = {"code": "97140", "units": 1, "modifiers": ["GP"], "date": "2024-05-01", "provider": {"type": "PT"}}
    small = {"id": "S", "patient": {"id": "P"}, "lines": [dict(line) for _ in range(64)]}
    large = {"id": "L", "patient": {"id": "P"}, "lines": [dict(line) for _ in range(65)]}
    assert isinstance(road.decide(small), Decision)
    assert road.decide(large) is None
    assert every_field(policy.check(large)) == every_field(judged(policy, large))


@functools.lru_cache(maxsize=None)
def loaded(which: str):
    return counts_policy() if which == "counts" else bench_policy()


def same_on_both_roads(which: str, claim: dict) -> None:
    policy = loaded(which)
    road = check_road(policy.program)
    assert road is not None
    read = road.decide(claim)
    expected = judged(policy, claim)
    if isinstance(read, Decision):
        assert every_field(read) == every_field(expected)
    elif read is not None:
        assert read == quick_claim(claim)
    assert every_field(policy.check(claim)) == every_field(expected)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["bench", "counts"]), made_up_claims)
def test_made_up_claims_are_decided_as_the_judge_does(which, claim):
    same_on_both_roads(which, claim)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["bench", "counts"]), st.lists(made_up_lines, min_size=1, max_size=4))
def test_good_claims_with_made_up_lines_are_decided_as_the_judge_does(which, lines):
    same_on_both_roads(which, {"id": "C-1", "patient": {"id": "P-1"}, "diagnoses": ["I69.351"], "lines": lines})
