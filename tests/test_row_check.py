"""The compiled row checks (policy.row_check) say a row is well formed exactly when jsonschema does, and a
policy validated with them gets the same diagnostics, at the same places, as validated by jsonschema alone."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest
import yaml

from payerpolicy.diagnostics import SourceFiles
from payerpolicy.pipeline import load_spec
from payerpolicy.policy import row_check, schema
from payerpolicy._resources import schema_file

ROOT = Path(__file__).resolve().parent.parent
POLICY_SCHEMA = json.loads(schema_file("policy.schema.json").read_text(encoding="utf-8"))


def _shipped_rows() -> dict[str, list]:
    """Every row of every section in the shipped policies' files (and the test policies')."""
    rows: dict[str, list] = {}
    for path in sorted((ROOT / "policies").rglob("*.yaml")) + sorted((ROOT / "tests" / "policies").rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            continue
        for section, value in data.items():
            if isinstance(value, list):
                rows.setdefault(section, []).extend(value)
    return rows


# Values a row's key may be given by mistake (or on purpose): every JSON type, and text that breaks patterns.
ODD_VALUES = [None, True, False, 0, 1, 2.0, 2.5, -3, "", " ", "x", "GP", "97110", "a\n", "CO", [], ["97110"], [1], {}]


def _mutants(row, rng: random.Random, keys: list[str]) -> list:
    out = [row]
    if not isinstance(row, dict):  # a `remove:` entry: an id
        return out + [rng.choice(ODD_VALUES), row.upper(), row + "\n"]
    for _ in range(12):
        mutant = copy.deepcopy(row)
        roll = rng.random()
        if roll < 0.3 and mutant:
            mutant.pop(rng.choice(sorted(mutant)))
        elif roll < 0.4:
            mutant[rng.choice(["unknown", "max_unit", "modifers"])] = 1
        elif roll < 0.8:
            mutant[rng.choice(keys or ["id"])] = rng.choice(ODD_VALUES)
        elif mutant:
            key = rng.choice(sorted(mutant))
            if isinstance(mutant[key], dict) and mutant[key]:
                mutant[key][rng.choice(sorted(mutant[key]))] = rng.choice(ODD_VALUES)
            else:
                mutant[key] = rng.choice(ODD_VALUES)
        out.append(mutant)
    return out + [rng.choice(ODD_VALUES)]  # a row that is not a mapping at all


def test_the_compiled_check_of_each_section_agrees_with_jsonschema():
    checks = row_check.RowChecks(POLICY_SCHEMA)
    validator = schema._validator("policy.schema.json")
    rng = random.Random(4)
    compiled = [name for name, check in checks.sections.items() if check is not None]
    assert {"unit_caps", "modifier_requirements", "rules", "evaluations"} <= set(compiled)
    seen_good = seen_bad = 0
    for section, rows in _shipped_rows().items():
        check = checks.for_section(section)
        if check is None:
            continue
        items = POLICY_SCHEMA["properties"][section]["items"]
        keys = sorted(items.get("properties", {}))
        for row in rows:
            for candidate in _mutants(row, rng, keys):
                expected = not any(validator.evolve(schema=items).iter_errors(candidate))
                assert check(candidate) == expected, (section, candidate)
                seen_good += expected
                seen_bad += not expected
    assert seen_good > 100 and seen_bad > 100


@pytest.mark.parametrize(
    "value", [None, True, False, 0, 1, -1, 2.0, 2.5, float("nan"), "", "1", [], {}, (), b"x", 10**30]
)
def test_the_json_types_are_jsonschemas(value):
    checker = schema._Validator.TYPE_CHECKER
    for name, test in row_check.TYPES.items():
        assert test(value) == checker.is_type(value, name), (name, value)


def test_the_strict_pattern_ends_at_the_end_of_the_text():
    assert row_check.strict_pattern("^[a-z]+$").search("acme")
    assert not row_check.strict_pattern("^[a-z]+$").search("acme\n")


def _caps(numbers) -> str:
    return "".join(
        f"  - id: big.cap.{n}\n    codes: {20000 + n}\n    max_units: 2\n    source: test\n" for n in numbers
    )


BAD_ROWS = """\
  - id: big.bad-units
    codes: 20500
    max_units: two
    source: test
  - id: big.unknown-key
    codes: 20501
    max_unit: 2
    source: test
  - codes: 20502
    max_units: 2
    source: test
"""


def _diagnostics(folder: Path) -> list:
    diagnostics: list = []
    load_spec(folder, diagnostics, SourceFiles())
    return [d.to_dict() for d in diagnostics]


def test_a_policy_gets_the_same_diagnostics_as_from_jsonschema_alone(tmp_path, monkeypatch):
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "policy.yaml").write_text(
        "policy: {payer: big, name: Big, version: '1'}\n"
        "defaults:\n  unit_cap: {severity: deny, reason: {group: CO, carc: '119'}}\n"
        "unit_caps:\n" + _caps(range(20)) + BAD_ROWS + _caps(range(20, 40))
    )
    quick = _diagnostics(folder)
    monkeypatch.setattr(schema, "_row_checks", lambda name: row_check.RowChecks({}))  # no section compiled
    assert quick == _diagnostics(folder)
    lines = (folder / "policy.yaml").read_text().splitlines()
    assert {d["line"] for d in quick} >= {
        lines.index("  - id: big.bad-units") + 3,  # max_units: two
        lines.index("  - id: big.unknown-key") + 3,  # max_unit
    }
    assert len(quick) >= 3
