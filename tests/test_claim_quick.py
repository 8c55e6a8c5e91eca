"""The quick road for claim JSON (`claims.json_quick`) gives exactly the careful road's `Claim`, or steps aside.

`claim_from_dict` first tries the quick road, which reads claims in the usual shape with values it has seen
before looked up rather than checked again; the careful road (`json_claims.claim_field_by_field`) reads
everything else and words every problem. Here both read the same claims: the benchmark's, the examples,
and claims made by hypothesis from good and bad values of every field the quick road reads. The quick road
must give the careful road's `Claim` or None, never a different claim, and never a claim where the careful
road finds a problem or a data fault.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from payerpolicy.claims.json_claims import claim_field_by_field, claim_from_dict
from payerpolicy.claims.json_quick import quick_claim
from payerpolicy.claims.model import Claim

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402


def same_or_aside(obj) -> bool:
    """Whether the quick road took `obj` (and then gave the careful road's claim)."""
    careful = claim_field_by_field(obj)
    quick = quick_claim(obj) if type(obj) is dict else None
    if quick is None:
        return False
    assert isinstance(careful, Claim), careful
    assert quick == careful
    assert repr(quick) == repr(careful)  # the same types too: 120.0, not 120, for a charge
    return True


def test_the_benchmark_claims_take_the_quick_road_and_read_the_same():
    claims = generate.claims(400, seed=11)
    taken = [same_or_aside(claim) for claim in claims]
    assert all(taken)


def test_example_claims_read_the_same():
    for path in sorted((ROOT / "examples").rglob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        for claim in document if isinstance(document, list) else [document]:
            same_or_aside(claim)


def test_a_claim_seen_twice_reads_the_same_both_times():
    claim = generate.claims(1, seed=3)[0]
    assert claim_from_dict(claim) == claim_from_dict(claim) == claim_field_by_field(claim)


# Good and bad values for each field, about half of each: the quick road must take the good ones it knows
# and leave the rest to the careful road.
def good_or_bad(good: list, *bad):
    return st.one_of(st.sampled_from(good), *bad)


ids = good_or_bad(
    ["C-1", "P 7", 1001, 0, 2**64 - 1, "é"],
    st.text(max_size=6),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.none(),
    st.booleans(),
    st.just("\ud800"),
    st.just("  "),
    st.lists(st.integers(), max_size=1),
)
codes = good_or_bad(
    ["97110", "97112", "G0283", "g0283", "0001F"],
    st.sampled_from(["9711", "97110 ", "ABCDEF"]),
    st.integers(),
    st.none(),
    st.text(max_size=6),
)
modifier_lists = good_or_bad(
    [["GP"], ["GP", "59"], [], ["KX", "GO", "CQ", "59"]],
    st.none(),
    st.lists(st.one_of(st.sampled_from(["GP", "gp", "59", "KX", "X", "G P"]), st.integers(), st.none()), max_size=6),
    st.text(max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
counts = good_or_bad(
    [0, 1, 4, 99_999],
    st.sampled_from([100_000, -1, "2", 2.0, 2.5, True, None]),
    st.integers(),
    st.floats(allow_nan=False),
)
dates = good_or_bad(
    ["2026-03-02", "2024-02-29"],
    st.sampled_from(["2026-02-30", "20260302", "2026-3-2", "2026-03-02T00:00", "２０２６-03-02"]),
    st.none(),
    st.integers(),
    st.text(max_size=10),
)
providers = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "npi": good_or_bad(
                ["1234567893"], st.sampled_from(["1234567890", "123456789", "12345678a3"]), st.integers(), st.none()
            ),
            "type": good_or_bad(["PT", "PTA", "OT"], st.sampled_from(["pt", "XX", ""]), st.none(), st.integers()),
            "name": st.text(max_size=2),
        },
    ),
    st.text(max_size=2),
)
places = good_or_bad(["11", "22"], st.none(), st.sampled_from(["1", "AB", "１１"]), st.integers(-1, 120))
amounts = good_or_bad(
    [0, 35.0, 99_999_999.99, 120], st.none(), st.floats(), st.integers(-5, 10**9), st.booleans(), st.text(max_size=2)
)
pointers = good_or_bad(
    [[1], [1, 2]],
    st.none(),
    st.lists(st.one_of(st.integers(-1, 14), st.floats(0, 3), st.booleans()), max_size=3),
    st.integers(),
)
texts = good_or_bad(["A1", " x ", "  "], st.none(), st.text(max_size=4), st.integers(), st.floats(allow_nan=False))
diagnoses = good_or_bad(
    [["I69.351"], ["I69.351", "r2689"]],
    st.none(),
    st.lists(st.one_of(st.sampled_from(["X", "123", "I69.3511"]), st.integers()), max_size=3),
    st.text(max_size=2),
)

lines = st.fixed_dictionaries(
    {"code": codes, "units": counts, "date": dates},
    optional={
        "modifiers": modifier_lists,
        "minutes": counts,
        "charge": amounts,
        "diagnosis_pointers": pointers,
        "provider": providers,
        "place_of_service": places,
        "prior_authorization": texts,
        "periods": st.just([{"start": "09:00", "end": "09:20"}]),
        "unit": counts,
    },
)
claims = st.fixed_dictionaries(
    {"id": ids, "lines": st.one_of(st.lists(lines, min_size=0, max_size=3), st.none(), st.text(max_size=2))},
    optional={
        "patient": st.one_of(st.fixed_dictionaries({"id": ids}, optional={"birth_date": dates}), st.none(), ids),
        "payer": good_or_bad(["medicare"], st.none(), st.sampled_from([" ", ""]), st.integers()),
        "provider": providers,
        "diagnoses": diagnoses,
        "frequency": good_or_bad(["1", "7", "8"], st.none(), st.sampled_from(["2", 1]), st.integers()),
        "place_of_service": places,
        "prior_authorization": texts,
        "referring_npi": texts,
        "treatment_began": dates,
        "payor": st.text(max_size=2),
    },
)


@settings(max_examples=300, deadline=None)
@given(claims)
def test_made_up_claims_read_the_same_on_either_road(claim):
    same_or_aside(claim)


@settings(max_examples=300, deadline=None)
@given(st.lists(lines, min_size=1, max_size=3))
def test_good_claims_with_made_up_lines_read_the_same(made):
    same_or_aside(
        {"id": "C-1", "patient": {"id": "P-1"}, "payer": "medicare", "diagnoses": ["I69.351", "R26.89"], "lines": made}
    )


def test_the_quick_road_is_taken_for_the_usual_shape_and_left_for_anything_else():
    usual = {
        "id": "C-1",
        "patient": {"id": "P-1"},
        "payer": "medicare",
        "diagnoses": ["I69.351"],
        "provider": {"npi": "1234567893", "type": "PT"},
        "lines": [
            {
                "code": "97110",
                "modifiers": ["GP"],
                "units": 2,
                "minutes": 30,
                "date": "2026-03-02",
                "charge": 70,
                "diagnosis_pointers": [1],
            }
        ],
    }
    assert same_or_aside(usual)
    for field, value in [
        ("code", "97110x"),
        ("units", -1),
        ("date", "2026-02-30"),
        ("modifiers", ["gp"]),
        ("diagnosis_pointers", [2]),
        ("charge", -1),
        ("unknown", 1),
    ]:
        odd = {**usual, "lines": [{**usual["lines"][0], field: value}]}
        assert not same_or_aside(odd), field


def test_modifiers_seen_before_read_as_plain_text_and_odd_ones_go_the_careful_way():
    """Lists of modifiers seen before are looked up: the same modifiers as an enum's members still read as
    plain text, as on the careful road; a modifier that is a list or an object is left to the careful road."""
    import enum

    class Modifier(enum.StrEnum):
        GP = "GP"
        KX = "KX"

    line = {"code": "97110", "units": 1, "date": "2026-03-02", "modifiers": ["GP", "KX"]}
    claim = {"id": "C-1", "patient": {"id": "P-1"}, "lines": [line]}
    assert same_or_aside(claim)  # seen once: the list is known from now on
    as_enum = {**claim, "lines": [{**line, "modifiers": [Modifier.GP, Modifier.KX]}]}
    careful = claim_field_by_field(as_enum)
    assert repr(careful.lines[0].modifiers) == "('GP', 'KX')"
    assert same_or_aside(as_enum)  # repr checked too: plain text, not the enum's members
    for odd in (["GP", ["KX"]], ["GP", {"KX": 1}], [None]):
        bad = {**claim, "lines": [{**line, "modifiers": odd}]}
        assert quick_claim(bad) is None
        (problem,) = claim_from_dict(bad).problems  # the careful road's words, no traceback
        assert problem.field == "lines[1].modifiers"
        assert "which is not a modifier" in problem.message
