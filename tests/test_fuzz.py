"""Fuzzing (hypothesis) of every surface that takes outside input: the rule language, the policy YAML loader
and each claim reader (claim JSON, JSON Lines, X12 837P, FHIR R4). Whatever comes in:

- no internal error: a policy either loads or raises `PolicyError` with diagnostics placed in its file; a
  claim file gives decisions (a damaged claim is that claim's error record), never an exception;
- one result per claim (per JSON Lines line, per array item, per `CLM`, per FHIR `Claim` resource);
- the output is well-formed: the JSON writer's output parses, and its summary counts every record.

Each test runs a few seconds (`EXAMPLES`); `-m slow` adds a long profile (`SLOW_EXAMPLES`) of each, as CI runs;
`PAYERPOLICY_FUZZ_RANDOM=1` makes them draw new inputs each run (tests/conftest.py).
Inputs are grown from the repository's own samples, mutated, and from generated values.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import payerpolicy
from payerpolicy.diagnostics import PolicyError
from payerpolicy.render.stream import write_decisions
from payerpolicy.session import Session, read_claims

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "samples"
_NAMES = itertools.count()  # file names of one run (hypothesis seeds `random` the same for every example)
EXAMPLES = 40
SLOW_EXAMPLES = 600
QUICK = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# Both draw the same inputs every run unless PAYERPOLICY_FUZZ_RANDOM=1 (tests/conftest.py's profiles).
LONG = settings(QUICK, max_examples=SLOW_EXAMPLES)


@pytest.fixture(scope="module")
def medicare():
    return payerpolicy.load("medicare")


def judged(policy, data: bytes, tmp_path: Path, name: str, input_format: str = "auto") -> dict:
    """The claim file judged and written as JSON: the parsed output (asserting it is well-formed)."""
    path = tmp_path / name
    path.write_bytes(data)
    out = io.StringIO()
    with Session(policy) as session:
        write_decisions(session.check_many(read_claims(path, input_format)), out, "json")
    result = json.loads(out.getvalue())
    assert result["summary"]["claims"] == len(result["claims"])
    for record in result["claims"]:
        assert record["status"] in ("accepted", "denied", "error")
        assert record["status"] != "error" or record["errors"], record  # an error says what is wrong
    return result


# ------------------------------------------------------------------------------------------ rule language

WORDS = [
    "and",
    "or",
    "not",
    "(",
    ")",
    "units",
    "minutes",
    "code",
    "modifiers",
    "date",
    "line.date",
    "charge",
    "provider.type",
    "claim.place_of_service",
    "patient.age",
    "in",
    "@timed",
    "@nope",
    "97110",
    "97161-97163",
    "=",
    "!=",
    "<",
    ">=",
    "+",
    "-",
    "*",
    "4",
    "0",
    "2026-02-30",
    "2026-03-02",
    '"text"',
    "is",
    "missing",
    "present",
    "has",
    "modifier",
    "any",
    "of",
    "no",
    "GP",
    "59",
    "another",
    "line",
    "with",
    "that",
    "day",
    "year",
    "earlier",
    "on",
    "record",
    "number",
    "lines",
    "days",
    "claims",
    "total",
    "latest",
    "earliest",
    "year_of",
    "value",
    "first_present",
    ",",
    "{",
    "}",
    "é",
    "\u2028",
    "\x00",
    "unitz",
]

rule_text = st.one_of(st.lists(st.sampled_from(WORDS), max_size=25).map(" ".join), st.text(max_size=80))


def policy_folder(tmp_path: Path, when: str, message: str = "fired") -> Path:
    folder = tmp_path / f"p{next(_NAMES)}"
    folder.mkdir()
    row = {
        "id": "fuzz.rule",
        "family": "custom",
        "kind": "advisory",
        "codes": ["97110"],
        "when": when,
        "severity": "warn",
        "message": message,
        "source": "fuzz",
    }
    policy = {"policy": {"payer": "fuzz", "name": "Fuzz", "version": "1", "fictional": True}, "rules": [row]}
    (folder / "policy.yaml").write_text(json.dumps(policy), encoding="utf-8")  # JSON is YAML
    return folder


def loads_or_diagnoses(folder: Path):
    """A policy that loads, or its diagnostics, each placed in the policy's own file."""
    try:
        return payerpolicy.load(folder)
    except PolicyError as exc:
        assert exc.diagnostics
        for diagnostic in exc.diagnostics:
            assert diagnostic.span is None or diagnostic.span.line >= 1
        assert exc.render()
        return None


def _rule_language(tmp_path, when, message):
    policy = loads_or_diagnoses(policy_folder(tmp_path, when, message))
    if policy is not None:  # it loaded: it must judge
        claim = {
            "id": "C",
            "patient": {"id": "P"},
            "lines": [{"code": "97110", "units": 2, "minutes": 30, "date": "2026-03-02", "modifiers": ["GP"]}],
        }
        assert policy.check(claim).status in ("accepted", "denied")


@QUICK
@given(when=rule_text, message=st.one_of(st.just("fired"), rule_text.map(lambda t: "{" + t + "}")))
def test_the_rule_language_never_fails_inside(tmp_path, when, message):
    _rule_language(tmp_path, when, message)


@LONG
@given(when=rule_text, message=st.one_of(st.just("fired"), rule_text.map(lambda t: "{" + t + "}")))
@pytest.mark.slow
def test_the_rule_language_never_fails_inside_long(tmp_path, when, message):
    _rule_language(tmp_path, when, message)


# ------------------------------------------------------------------------------------------ policy YAML

POLICY_TEXT = (ROOT / "tests" / "policies" / "example-medicaid" / "policy.yaml").read_text(encoding="utf-8")
YAML_BITS = [
    "\n",
    ": ",
    "- ",
    "  ",
    "&a ",
    "*a",
    "<<: *a",
    "!!python/object:os.system",
    "{",
    "}",
    "[",
    "]",
    "'",
    '"',
    "#",
    "\t",
    "\x00",
    "2026-02-30",
    "99999999999999999999",
    "@",
    "~",
    "|",
    ">",
    "\ufeff",
]


@st.composite
def mutated(draw, text: str, bits: list[str]):
    """`text` with a few random cuts, insertions of `bits` or random text, and duplications."""
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["cut", "insert", "duplicate"]))
        if action == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif action == "insert":
            text = text[:at] + draw(st.one_of(st.sampled_from(bits), st.text(max_size=10))) + text[at:]
        else:
            text = text[:at] + text[at : at + draw(st.integers(1, 200))] + text[at:]
    return text


json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def _policy_yaml(tmp_path, text):
    folder = tmp_path / f"y{next(_NAMES)}"
    folder.mkdir()
    (folder / "policy.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    loads_or_diagnoses(folder)


policy_yaml = st.one_of(
    mutated(POLICY_TEXT, YAML_BITS),
    st.dictionaries(
        st.sampled_from(["policy", "rules", "code_sets", "unit_caps", "defaults", "settings", "remove", "values", "x"]),
        json_value,
        max_size=5,
    ).map(json.dumps),
)


@QUICK
@given(text=policy_yaml)
def test_the_policy_loader_never_fails_inside(tmp_path, text):
    _policy_yaml(tmp_path, text)


@LONG
@given(text=policy_yaml)
@pytest.mark.slow
def test_the_policy_loader_never_fails_inside_long(tmp_path, text):
    _policy_yaml(tmp_path, text)


# ------------------------------------------------------------------------------------------ claim JSON

GOOD = {
    "id": "C-1",
    "payer": "medicare",
    "patient": {"id": "P-1", "birth_date": "1950-01-01"},
    "provider": {"npi": "1234567893", "type": "PT"},
    "diagnoses": ["I69.351"],
    "referring_npi": "1245319599",
    "lines": [
        {
            "code": "97112",
            "modifiers": ["GP"],
            "units": 2,
            "minutes": 24,
            "date": "2026-03-02",
            "charge": 120.0,
            "diagnosis_pointers": [1],
        }
    ],
}
FIELDS = [
    ("id",),
    ("patient",),
    ("patient", "id"),
    ("provider",),
    ("provider", "type"),
    ("diagnoses",),
    ("lines",),
    ("lines", 0),
    ("lines", 0, "code"),
    ("lines", 0, "units"),
    ("lines", 0, "minutes"),
    ("lines", 0, "date"),
    ("lines", 0, "modifiers"),
    ("lines", 0, "charge"),
    ("lines", 0, "periods"),
    ("lines", 0, "diagnosis_pointers"),
    ("frequency",),
    ("place_of_service",),
    ("payer",),
]


@st.composite
def claim_value(draw):
    """A claim: the good one with a few fields replaced by any JSON value, or any JSON value at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_value)
    claim = json.loads(json.dumps(GOOD))
    claim["id"] = f"C-{draw(st.integers(0, 99))}"
    claim["patient"]["id"] = f"P-{draw(st.integers(0, 3))}"
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(FIELDS))
        target = claim
        for key in path[:-1]:
            target = (
                target[key]
                if isinstance(target, (dict, list))
                and (key in target if isinstance(target, dict) else key < len(target))
                else None
            )
            if not isinstance(target, (dict, list)):
                break
        if isinstance(target, dict):
            target[path[-1]] = draw(json_value)
        elif isinstance(target, list) and isinstance(path[-1], int) and path[-1] < len(target):
            target[path[-1]] = draw(json_value)
    return claim


def _claim_json(medicare, tmp_path, claims, broken):
    lines = [json.dumps(GOOD)] + [json.dumps(c) for c in claims]  # a claim first: JSON Lines, not an array
    if broken is not None:  # one line that is not JSON at all
        lines.insert(1 + broken % len(lines), '{"id": "X", "lines": [')
    result = judged(medicare, ("\n".join(lines) + "\n").encode(), tmp_path, f"c{next(_NAMES)}.jsonl")
    assert len(result["claims"]) == len(lines)  # one result per line
    array = judged(
        medicare, ("[" + ",".join(json.dumps(c) for c in claims) + "]").encode(), tmp_path, f"a{next(_NAMES)}.json"
    )
    assert len(array["claims"]) == len(claims)  # one per item


@QUICK
@given(claims=st.lists(claim_value(), min_size=1, max_size=8), broken=st.none() | st.integers(0, 8))
def test_claim_json_never_fails_inside(medicare, tmp_path, claims, broken):
    _claim_json(medicare, tmp_path, claims, broken)


@LONG
@given(claims=st.lists(claim_value(), min_size=1, max_size=8), broken=st.none() | st.integers(0, 8))
@pytest.mark.slow
def test_claim_json_never_fails_inside_long(medicare, tmp_path, claims, broken):
    _claim_json(medicare, tmp_path, claims, broken)


# ------------------------------------------------------------------------------------------ X12 837P

X12_FILES = sorted(p for p in (SAMPLES / "x12").iterdir() if p.suffix in (".837", ".txt"))
X12_BITS = [
    "*",
    "~",
    ":",
    "^",
    "\n",
    "HL*",
    "CLM*",
    "SV1*",
    "NM1*IL",
    "LX*",
    "DTP*472*D8*",
    "9" * 5000,
    "HI*ABK:",
    "SE*",
    "ST*837*",
    "\x00",
    "é",
]


def _x12(medicare, tmp_path, sample, text):
    result = judged(medicare, text.encode("utf-8", "surrogatepass"), tmp_path, f"x{next(_NAMES)}.837", "x12")
    assert result["claims"]  # at least one record: a claim, or where the file stops
    # Every CLM has its record, or one record says where the file stops being readable.
    assert len(result["claims"]) >= careful_clm_count(text) or any(
        r["status"] == "error" and r["id"] is None for r in result["claims"]
    )


def careful_clm_count(text: str) -> int:
    """The CLM segments a careful reader finds: at the start of a segment, or of a line inside one (a line
    break where a segment terminator was lost: the reader starts a new segment there). The terminator is the
    character after ISA16, found by counting separators as the reader does, not at ISA's fixed width: a
    mutated header may have lost or gained padding (the reader accepts an ISA without its widths)."""
    element, terminator = "*", "~"
    if text.startswith("ISA") and len(text) > 3:
        element = text[3]
        separators = [i for i, char in enumerate(text[:2000]) if char == element][:16]
        if len(separators) == 16 and separators[15] + 2 < len(text):
            terminator = text[separators[15] + 2]
    return sum(
        1
        for segment in text.split(terminator)
        for line in re.split(r"\r\n|\r|\n", segment)
        if line.strip().startswith("CLM" + element)
    )


@st.composite
def x12_text(draw):
    sample = draw(st.sampled_from(X12_FILES))
    text = sample.read_text(encoding="utf-8", errors="replace")
    return sample.name, draw(mutated(text, X12_BITS))


@QUICK
@given(case=x12_text())
def test_the_x12_reader_never_fails_inside(medicare, tmp_path, case):
    _x12(medicare, tmp_path, *case)


def test_an_isa_header_off_its_widths_still_reads_each_claim(medicare, tmp_path):
    """Found by the long run: ISA01 with 12 characters in place of 2 moves the terminator off position 106;
    the reader finds it after ISA16 by its separators, and a `CLM*` inside another segment is not a claim."""
    text = (SAMPLES / "x12" / "moov-io_837p_sample_97530.txt").read_text(encoding="utf-8")
    assert text.startswith("ISA*00*")
    text = "ISA*000000000000*" + text[len("ISA*00*") :]
    text = text.replace("*212550*CH~", "*2CLM*12550*CH~", 1)  # BHT04-05, as the mutation left them
    result = judged(medicare, text.encode(), tmp_path, "widths.837", "x12")
    assert careful_clm_count(text) == 8
    assert [r["id"] for r in result["claims"]].count("1029353-03") == 4
    assert len(result["claims"]) == 8 and all(r["status"] != "error" for r in result["claims"])


@LONG
@given(case=x12_text())
@pytest.mark.slow
def test_the_x12_reader_never_fails_inside_long(medicare, tmp_path, case):
    _x12(medicare, tmp_path, *case)


# ------------------------------------------------------------------------------------------ FHIR R4

FHIR_FILES = sorted(p for p in (SAMPLES / "fhir").glob("*.json"))


@st.composite
def fhir_document(draw):
    """A FHIR sample with a few values anywhere in it replaced by any JSON value."""
    document = json.loads(draw(st.sampled_from(FHIR_FILES)).read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(1, 4))):
        places = []
        stack = [document]
        while stack:
            node = stack.pop()
            keys = (
                list(node.items())
                if isinstance(node, dict)
                else list(enumerate(node))
                if isinstance(node, list)
                else []
            )
            for key, value in keys:
                places.append((node, key))
                stack.append(value)
        if not places:
            break
        node, key = places[draw(st.integers(0, len(places) - 1))]
        node[key] = draw(json_value)
    return document


def _count_claims(document) -> int:
    if isinstance(document, dict) and document.get("resourceType") == "Claim":
        return 1
    if (
        isinstance(document, dict)
        and document.get("resourceType") == "Bundle"
        and isinstance(document.get("entry"), list)
    ):
        return sum(
            1
            for e in document["entry"]
            if isinstance(e, dict)
            and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") == "Claim"
        )
    return 0


def _fhir(medicare, tmp_path, document):
    result = judged(medicare, json.dumps(document).encode(), tmp_path, f"f{next(_NAMES)}.json", "fhir")
    assert len(result["claims"]) >= max(_count_claims(document), 1)


@QUICK
@given(document=fhir_document())
def test_the_fhir_reader_never_fails_inside(medicare, tmp_path, document):
    _fhir(medicare, tmp_path, document)


@LONG
@given(document=fhir_document())
@pytest.mark.slow
def test_the_fhir_reader_never_fails_inside_long(medicare, tmp_path, document):
    _fhir(medicare, tmp_path, document)
