"""The benchmark's floor (bench/floor.py, the Medicare policy written out by hand) decides exactly as the engine.

Differential tests: the same claims through `Policy.check` / `Policy.check_many` and through the floor must
give equal `Decision`s (findings in the same order, with the same messages and fixes; line decisions; status).
Two kinds of claims:
- the benchmark's own (`bench/generate.py`), spread thin as the benchmark runs them, and dense (few
  patients and dates), so that patient-days span claims inside and beyond a small window and the patients
  pass the year's KX threshold and the $3,000 review mark;
- edge claims made here, for what the benchmark's claims never hold: every provider type, every rule's codes,
  years from 2019 to 2027 (the rules' effective dates, years without a KX figure), missing minutes, periods
  furnished by assistants, line providers, claims over two dates, charges in quarters and none at all.
Each test also checks that the data really makes the rules fire, so that it cannot pass by finding nothing.
"""

from __future__ import annotations

import collections
import datetime
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import floor  # noqa: E402
import generate  # noqa: E402

import payerpolicy  # noqa: E402
from payerpolicy.claims.model import Claim  # noqa: E402
from payerpolicy.claims.json_claims import claim_from_dict  # noqa: E402


@pytest.fixture(scope="module")
def policy():
    return payerpolicy.load(floor.POLICY_FOLDER)  # the benchmark's frozen copy, which the floor writes out


def read(raw: list[dict]) -> list[Claim]:
    claims = [claim_from_dict(c) for c in raw]
    unreadable = [c for c in claims if not isinstance(c, Claim)]
    assert not unreadable, unreadable[:1]
    return claims


def assert_same(engine, floor_decisions, claims) -> None:
    engine, floor_decisions = list(engine), list(floor_decisions)
    assert len(engine) == len(floor_decisions) == len(claims)
    for claim, expected, got in zip(claims, engine, floor_decisions):
        # Field by field first, for a readable failure; then the whole Decision (what the benchmark compares).
        assert got.findings == expected.findings, claim
        assert got.lines == expected.lines, claim
        assert [(line.modifiers, line.date_of_service, line.charge) for line in got.lines] == [
            (line.modifiers, line.date_of_service, line.charge) for line in expected.lines
        ]
        assert got == expected, claim
        assert got.to_dict() == expected.to_dict()


def fired(decisions) -> collections.Counter:
    return collections.Counter(f.rule for d in decisions for f in d.findings)


# ------------------------------------------------------------------------------------------ edge claims

CODES = [
    "97110",
    "97112",
    "97113",
    "97116",
    "97124",
    "97140",
    "97530",
    "97535",
    "97750",
    "97035",
    "97150",
    "97161",
    "97162",
    "97163",
    "97164",
    "97165",
    "97166",
    "97168",
    "97010",
    "G0283",
    "98940",
    "98941",
    "99213",
]
PROVIDERS = ["PT", "PT", "PT", "PTA", "OT", "OT", "OTA", "SLP", "DC", "MD", None]
MODIFIERS = ["GP", "GO", "GN", "CQ", "CO", "KX", "59", "XS", "XU", "25", "LT"]
DIAGNOSES = ["I69.351", "R26.89", "M54.50", "G20.A1", "M25.511", "R42", "Z96.651"]
DISCIPLINE_MODIFIER = {"PT": "GP", "PTA": "GP", "OT": "GO", "OTA": "GO", "SLP": "GN"}
# Dates either side of the rules' effective dates, and years with and without a KX figure.
DATES = [
    "2019-12-30",
    "2020-02-03",
    "2020-09-30",
    "2020-10-01",
    "2021-04-16",
    "2021-04-19",
    "2022-03-01",
    "2024-06-10",
    "2026-03-02",
    "2026-03-02",
    "2026-03-03",
    "2026-07-01",
    "2026-12-31",
    "2027-01-04",
]


def edge_claim(rng: random.Random, number: int, patients: int) -> dict:
    provider = rng.choice(PROVIDERS)
    dates = [rng.choice(DATES)]
    if rng.random() < 0.1:
        dates.append(rng.choice(DATES))  # a claim over two dates of service
    clock = 8 * 60  # periods follow each other: the reader refuses overlapping ones
    lines = []
    for _ in range(rng.randint(1, 7)):
        code = rng.choice(CODES)
        if lines and rng.random() < 0.12:  # the same code again, often with the same modifiers
            code = lines[-1]["code"]
        modifiers = []
        if provider in DISCIPLINE_MODIFIER and rng.random() < 0.85:
            modifiers.append(DISCIPLINE_MODIFIER[provider])
        if provider == "PTA" and rng.random() < 0.8:
            modifiers.append("CQ")
        if provider == "OTA" and rng.random() < 0.8:
            modifiers.append("CO")
        while rng.random() < 0.3 and len(modifiers) < 4:
            extra = rng.choice(MODIFIERS)
            if extra not in modifiers:
                modifiers.append(extra)
        if lines and lines[-1]["code"] == code and rng.random() < 0.5:
            modifiers = list(reversed(lines[-1].get("modifiers", [])))  # the same modifiers in another order
        line = {
            "code": code,
            "modifiers": modifiers,
            "units": rng.choice([0, 1, 1, 1, 2, 2, 3, 4, 5, 6]),
            "date": rng.choice(dates),
        }
        shape = rng.random()
        if shape < 0.15:
            pass  # no minutes
        elif shape < 0.3:
            # periods, part of them furnished by an assistant
            periods = []
            for _ in range(rng.randint(1, 3)):
                length = rng.choice([2, 5, 8, 10, 15, 20])
                period = {
                    "start": f"{clock // 60:02d}:{clock % 60:02d}",
                    "end": f"{(clock + length) // 60:02d}:{(clock + length) % 60:02d}",
                }
                if rng.random() < 0.5:
                    period["provider"] = {"type": rng.choice(["PTA", "OTA", "PT", "OT"])}
                periods.append(period)
                clock += length + 1
            line["periods"] = periods
        else:
            line["minutes"] = rng.choice([0, 3, 5, 7, 8, 10, 14, 15, 20, 23, 30, 38, 45, 53, 60, 90])
        charge = rng.random()
        if charge < 0.85:
            line["charge"] = float(rng.choice([35, 70, 105, 140, 210, 400, 12.25, 99.5]))
        if rng.random() < 0.1:
            line["provider"] = rng.choice(
                [{"type": rng.choice(["PT", "PTA", "OT", "OTA", "SLP", "DC"])}, {"npi": "1234567893"}]
            )
        if rng.random() < 0.15:
            line["diagnosis_pointers"] = [rng.choice([1, 2])]
        lines.append(line)
    claim = {
        "id": f"E-{number}",
        "payer": "medicare",
        "patient": {"id": f"Q-{rng.randrange(patients)}"},
        "diagnoses": rng.sample(DIAGNOSES, k=2),
        "lines": lines,
    }
    if provider is not None:
        claim["provider"] = {"npi": "1234567893", "type": provider}
    elif rng.random() < 0.5:
        claim["provider"] = {"npi": "1234567893"}
    return claim


def edge_claims(count: int, patients: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    return [edge_claim(rng, i, patients) for i in range(count)]


# ------------------------------------------------------------------------------------------ tests


def test_the_floor_implements_the_rules_the_engine_runs_in_its_order(policy):
    assert [rule[0] for rule in floor.RULES] == [rule.id for rule in policy.program.policy.rules]
    assert floor.TIMED == policy.program.timed_codes
    assert (floor.PAYER, floor.VERSION) == (policy.payer, policy.version)


def test_check_on_the_benchmark_claims(policy):
    claims = read(generate.claims(2000))
    decisions = [policy.check(c) for c in claims]
    assert_same(decisions, [floor.check(c) for c in claims], claims)
    # The benchmark's mistakes all show up (a claim on its own reaches no KX threshold). It makes no timed
    # over-billing on purpose: what looked like one (a tied unit on the code the old tie rule did not pick)
    # is one of the splits the 8-minute rule allows. The edge claims below bill timed units over the minutes.
    assert set(fired(decisions)) >= {
        "medicare.unit-cap.97112",
        "medicare.modifier.gp-on-pt-services",
        "medicare.modifier.cq-on-pta-services",
        "medicare.pair.97530-97116",
        "medicare.pair.one-on-one-with-group",
        "medicare.diagnosis.97112-example",
        "medicare.evaluation.manual-therapy-with-evaluation",
        "medicare.evaluation.one-pt-evaluation-per-day",
        "medicare.scope.pt-evaluation-by-pt",
        "medicare.timed.fewer-units-than-minutes",
        "medicare.timed.one-line-per-code",
        "medicare.timed.untimed-more-than-one-unit",
    }


@pytest.mark.parametrize("window", [0, 25])
def test_check_many_on_claims_in_order_of_service(policy, window):
    """Claims that come in the order of their dates, as a practice bills: each patient's counts over the
    year go on from its last claim without its past lines (program.runtime._carried_on), and agree with the
    floor, which counts every claim's past from the start. A few claims billed late break the order."""
    claims = generate.claims(1500, seed=12, patients=10, days=60)
    claims.sort(key=lambda claim: claim["lines"][0]["date"])
    for late in range(100, 1500, 150):
        claims.insert(late - 90, claims.pop(late))
    claims = read(claims)
    decisions = list(policy.check_many(claims, window=window))
    assert_same(decisions, floor.check_many(claims, window=window), claims)
    assert fired(decisions)["medicare.threshold.kx-pt-slp"] > 100


@pytest.mark.parametrize("window", [0, 25])
def test_check_many_on_dense_benchmark_claims(policy, window):
    # 10 patients over 5 days: some 30 claims a patient-day, one every 50 claims or so, so that the next
    # claim of a day is often within the window and often further; 150 claims a patient, far past the KX
    # threshold (which takes about 20).
    claims = read(generate.claims(1500, seed=11, patients=10, days=5))
    decisions = list(policy.check_many(claims, window=window))
    assert_same(decisions, floor.check_many(claims, window=window), claims)

    counts = fired(decisions)
    for rule in (
        "medicare.threshold.kx-pt-slp",
        "medicare.threshold.targeted-review-pt-slp",
        "medicare.unit-cap.97112",
        "medicare.evaluation.one-pt-evaluation-per-day",
        "medicare.pair.97530-97116",
        "medicare.evaluation.manual-therapy-with-evaluation",
        "medicare.modifier.gp-on-pt-services",
    ):
        assert counts[rule], rule
    if window:  # claims of one day judged together pool their minutes: their units together go over
        assert counts["medicare.timed.more-units-than-minutes"]
    # Each patient passes $3,000 once in input order; a claim dated before others judged earlier can pass
    # it again, since "earlier that year" counts only lines dated on or before the judged one.
    assert counts["medicare.threshold.targeted-review-pt-slp"] >= len({c.patient_id for c in claims})
    # Claims were judged differently together than alone: the cross-claim paths ran.
    alone = [policy.check(c) for c in claims[:300]]
    assert sum(a != t for a, t in zip(alone, decisions)) > 100
    # Claims of one patient-day follow each other both within the window and further apart than it.
    last_seen, near, far = {}, 0, 0
    for position, claim in enumerate(claims):
        key = (claim.patient_id, claim.lines[0].date_of_service)
        if key in last_seen:
            near += position - last_seen[key] <= window
            far += position - last_seen[key] > window
        last_seen[key] = position
    assert far > 500 and (window == 0 or near > 300)


def test_check_on_edge_claims(policy):
    claims = read(edge_claims(1500, patients=1500))
    decisions = [policy.check(c) for c in claims]
    assert_same(decisions, [floor.check(c) for c in claims], claims)


@pytest.mark.parametrize("window", [0, 1, 30])
def test_check_many_on_edge_claims(policy, window):
    claims = read(edge_claims(1500, patients=12))
    decisions = list(policy.check_many(claims, window=window))
    assert_same(decisions, floor.check_many(claims, window=window), claims)
    # Every rule of the policy fires somewhere in these claims, each family with more than a token count.
    counts = fired(decisions)
    missing = [rule[0] for rule in floor.RULES if not counts[rule[0]]]
    assert not missing
    families = collections.Counter(f.family for d in decisions for f in d.findings)
    assert set(families) == {
        "unit_cap",
        "code_pair",
        "diagnosis",
        "evaluation",
        "modifier",
        "provider_scope",
        "threshold",
        "timed_units",
    }
    assert min(families.values()) > 20
    statuses = collections.Counter(line.status for d in decisions for line in d.lines)
    assert statuses["adjusted"] and statuses["denied"] and statuses["accepted"]
    fixes = collections.Counter(f.fix.action for d in decisions for f in d.findings if f.fix)
    assert set(fixes) == {"add_modifier", "remove_modifier", "set_units", "remove_line", "merge_lines", "review"}


def test_threshold_boundaries(policy):
    # Charges that land exactly on the KX threshold and on the $3,000 review mark, then just past them,
    # for PT and for OT; random charges almost never hit a boundary exactly.
    def visit(number, provider, modifier, charge, extra=()):
        return {
            "id": f"T-{number}",
            "patient": {"id": "P-T"},
            "provider": {"type": provider},
            "diagnoses": ["I69.351"],
            "lines": [
                {
                    "code": "97110",
                    "modifiers": [modifier, *extra],
                    "units": 1,
                    "minutes": 15,
                    "date": "2026-05-04",
                    "charge": charge,
                }
            ],
        }

    stream = []
    for provider, modifier in (("PT", "GP"), ("OT", "GO")):
        base = len(stream)
        stream += [
            visit(base, provider, modifier, 2480.0),  # reaches the threshold: not past it
            visit(base + 1, provider, modifier, 0.25),  # past it: KX needed (2480.25)
            visit(base + 2, provider, modifier, 10.0, ["KX"]),  # past it with KX: nothing
            visit(base + 3, provider, modifier, 509.75),  # reaches $3,000: not past it
            visit(base + 4, provider, modifier, 1.0),
        ]  # past $3,000: noted once
    claims = read(stream)
    decisions = list(policy.check_many(claims, window=2))
    assert_same(decisions, floor.check_many(claims, window=2), claims)
    assert [[f.rule.rsplit(".", 1)[1] for f in d.findings] for d in decisions] == [
        [],
        ["kx-pt-slp"],
        [],
        ["kx-pt-slp"],
        ["kx-pt-slp", "targeted-review-pt-slp"],
        [],
        ["kx-ot"],
        [],
        ["kx-ot"],
        ["kx-ot", "targeted-review-ot"],
    ]
    assert "to 2480.25, past the KX threshold of 2480" in decisions[1].findings[0].message


def test_default_window_and_whole_stream(policy):
    claims = read(generate.claims(600, seed=5, patients=30, days=20) + edge_claims(600, patients=30, seed=9))
    assert_same(policy.check_many(claims), floor.check_many(claims), claims)


def test_what_the_floor_does_not_support_is_refused():
    claim = read(generate.claims(1))[0]
    replacement = Claim(claim.id, claim.patient_id, claim.lines, claim.payer, claim.provider, claim.diagnoses, "7")
    with pytest.raises(ValueError):
        floor.check(replacement)
    with pytest.raises(ValueError):
        list(floor.check_many([claim, claim]))  # one claim sent twice
    with pytest.raises(TypeError):
        floor.check(generate.claims(1)[0])  # a dict, not read into the claim model
    cents = claim_from_dict(
        {
            "id": "C",
            "patient": {"id": "P"},
            "provider": {"type": "PT"},
            "lines": [
                {"code": "97110", "modifiers": ["GP"], "units": 1, "minutes": 15, "date": "2026-03-02", "charge": 35.1}
            ],
        }
    )
    with pytest.raises(ValueError):
        floor.check(cents)
    with pytest.raises(ValueError):
        floor.check_many([], window=-1)


def test_no_rule_has_an_effective_end_the_floor_would_miss(policy):
    # The floor writes in the rules' start dates; an end date (a deletion announced since) would need code.
    assert all(rule.effective_to is None for rule in policy.program.policy.rules)
    starts = {rule.id: rule.effective_from for rule in policy.program.policy.rules if rule.effective_from}
    assert starts == {
        "medicare.pair.97530-97116": datetime.date(2020, 10, 1),
        "medicare.pair.one-on-one-with-group": datetime.date(2020, 10, 1),
        "medicare.evaluation.manual-therapy-with-evaluation": datetime.date(2020, 1, 1),
        "medicare.evaluation.reevaluation-with-treatment": datetime.date(2020, 10, 1),
        "medicare.modifier.cq-on-pta-services": datetime.date(2020, 1, 1),
        "medicare.modifier.co-on-ota-services": datetime.date(2020, 1, 1),
        "medicare.timed.cq-for-pta-minutes": datetime.date(2020, 1, 1),
        "medicare.timed.co-for-ota-minutes": datetime.date(2020, 1, 1),
    }
