"""Stage 2, validate: each policy file against the policy JSON Schema, errors placed on the file's lines.

Policy test case files are checked the same way against `schemas/cases.schema.json`.

The schema (`schemas/policy.schema.json`) ships with the package and says which keys each section takes;
an unknown key is an error because it is nearly always a typo (`max_unit`, `modifers`). jsonschema's own
messages are written for programmers, so each kind of failure is re-worded here for a policy author and
pointed at the key or value it concerns.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, Iterator

import jsonschema

from payerpolicy.diagnostics import Diagnostic, did_you_mean, shown
from payerpolicy.policy.files import PolicyDocument
from payerpolicy.policy.row_check import RowChecks, strict_pattern
from payerpolicy._resources import schema_file

_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of keys to values",
    "null": "empty",
}
_SECTION_ROWS = {
    "unit_caps",
    "modifier_requirements",
    "code_pairs",
    "code_pair_tables",
    "evaluations",
    "rules",
    "unit_cap_tables",
    "fee_status",
    "fee_schedule_tables",
}


def _strict_pattern(validator, pattern: str, instance, schema):
    """JSON Schema's `pattern`, with `$` meaning the end of the text: in Python's regular expressions it also
    matches before a final newline, so `payer: "acme\\n"` would pass `^[a-z0-9-]*$`."""
    if not validator.is_type(instance, "string"):
        return
    if not strict_pattern(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _strict_pattern})


@functools.lru_cache(maxsize=None)
def _validator(schema: str):
    return _Validator(json.loads(schema_file(schema).read_text(encoding="utf-8")))


def validate_document(doc: PolicyDocument, diagnostics: list[Diagnostic], schema: str = "policy.schema.json") -> bool:
    """Add a diagnostic for every schema violation in `doc`, then drop the parts that failed from `doc.data`
    (a row, a code set, a section), so later stages can still check everything else in the file.
    True when nothing failed."""
    if doc.data is None:
        return True
    bad: set[tuple] = set()
    for error in sorted(_errors(doc.data, schema), key=lambda e: list(map(str, e.absolute_path))):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            extras = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            bad.update(path + (key,) for key in extras)
        else:
            bad.add(path)
        if error.validator == "required" and path in doc.merged:
            continue  # the keys it lacks were to come from the refused `<<`, already reported
        diagnostics.extend(_explain(error, doc))
    if bad:
        before = doc.data
        doc.data = _without(doc.data, bad)
        _renumber_places(doc, before)
    return not bad


def _errors(data, schema: str) -> list:
    """jsonschema's errors in `data`, the rows that the compiled row checks (`policy.row_check`) pass left out
    of what jsonschema walks: such a row has none. The errors in the rows it does see are put back at their
    rows' places in `data`."""
    checks = _row_checks(schema)
    seen, places = data, {}
    if isinstance(data, dict):
        seen = dict(data)
        for section, rows in data.items():
            check = checks.for_section(section)
            if check is None or not isinstance(rows, list):
                continue
            failed = [index for index, row in enumerate(rows) if not check(row)]
            if len(failed) < len(rows):
                seen[section] = [rows[index] for index in failed]
                places[section] = failed
    errors = list(_validator(schema).iter_errors(seen))
    for error in errors:
        path = error.relative_path  # an error of a row kept: its index among the rows kept -> in `data`
        if len(path) >= 2 and path[0] in places and isinstance(path[1], int):
            path[1] = places[path[0]][path[1]]
    return errors


@functools.lru_cache(maxsize=None)
def _row_checks(schema: str) -> RowChecks:
    return RowChecks(json.loads(schema_file(schema).read_text(encoding="utf-8")))


def _renumber_places(doc: PolicyDocument, before) -> None:
    """After rows were dropped from a list section, the rows after them moved up: move the places of their
    values (`doc.nodes`, keyed by path) with them, so that every later diagnostic of a row still points at
    that row, whatever rows before it were dropped."""
    if not isinstance(before, dict) or not isinstance(doc.data, dict):
        return
    moved: dict[str, dict[int, int | None]] = {}
    for section, rows in before.items():
        kept = doc.data.get(section)
        if not isinstance(rows, list) or not isinstance(kept, list) or len(kept) == len(rows):
            continue
        survivors = iter(range(len(kept)))
        ids = {id(row) for row in kept}
        moved[section] = {index: (next(survivors) if id(row) in ids else None) for index, row in enumerate(rows)}
    if not moved:
        return
    for places in (doc.nodes, doc.key_nodes):
        renumbered = {}
        for path, node in places.items():
            renumber = moved.get(path[0]) if len(path) >= 2 and isinstance(path[1], int) else None
            if renumber is None:
                renumbered[path] = node
            elif renumber.get(path[1]) is not None:
                renumbered[(path[0], renumber[path[1]]) + path[2:]] = node
        places.clear()
        places.update(renumbered)


_INTACT = object()


def _without(data, bad: set[tuple]):
    """`data` less every top-level section, row or code set that holds a failed path."""
    if not isinstance(data, dict) or () in bad:
        return {}
    drop: dict[str, set] = {}
    for path in bad:
        section = path[0]
        if section == "policy" or len(path) < 2 or not isinstance(data.get(section), (list, dict)):
            drop[section] = {_INTACT}  # the whole section
        else:
            drop.setdefault(section, set()).add(path[1])
    kept = {}
    for section, value in data.items():
        parts = drop.get(section)
        if parts is None:
            kept[section] = value
        elif _INTACT in parts:
            if section == "policy":
                kept[section] = None  # there was a policy section, but it cannot be used
        elif isinstance(value, list):
            kept[section] = [row for i, row in enumerate(value) if i not in parts]
        else:
            kept[section] = {k: v for k, v in value.items() if k not in parts}
    return kept


def where(path: tuple, data) -> str:
    """A place in a policy file in words: "unit_caps row 2 (`medicare.unit-cap.97112`)"."""
    if not path:
        return "the top of the file"
    words = [str(path[0])]
    node = data.get(path[0]) if isinstance(data, dict) else None
    rest = path[1:]
    if rest and isinstance(rest[0], int) and isinstance(node, list):
        row = node[rest[0]] if rest[0] < len(node) else None
        name = row.get("id") or row.get("name") if isinstance(row, dict) else None
        label = f" (`{name}`)" if isinstance(name, str) else ""
        words = [f"{path[0]} row {rest[0] + 1}{label}"]
        rest = rest[1:]
    words += [str(p) if not isinstance(p, int) else f"item {p + 1}" for p in rest]
    return " > ".join(words)


def _show(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, (dict, list)):
        return _TYPE_WORDS["object" if isinstance(value, dict) else "array"]
    text = getattr(value, "text", None) or str(value)
    return f"`{shown(text, 60)}`"


@dataclass(frozen=True)
class _Found:
    """A schema error's parts as plain values (jsonschema types them loosely: a schema may be a bool, a value
    unset), with where it is in the policy in words."""

    error: jsonschema.ValidationError
    doc: PolicyDocument
    path: tuple
    place: str
    kind: str
    schema: dict[str, Any]
    value: Any
    instance: Any

    @classmethod
    def of(cls, error: jsonschema.ValidationError, doc: PolicyDocument) -> _Found:
        path = tuple(error.absolute_path)
        schema = error.schema if isinstance(error.schema, dict) else {}
        return cls(
            error, doc, path, where(path, doc.data), str(error.validator), schema, error.validator_value, error.instance
        )


def _explain(error: jsonschema.ValidationError, doc: PolicyDocument) -> Iterator[Diagnostic]:
    """A schema error in an author's words: a key that is not allowed (E201), one that is missing (E202), or a
    value of the wrong kind (E203). Each explainer answers None for an error that is not its kind."""
    found = _Found.of(error, doc)
    for explainer in (_unknown_key, _missing_key, _wrong_value):
        said = explainer(found)
        if said is not None:
            yield from said
            return
    yield Diagnostic("E203", f"{found.place}: {error.message}", doc.span(found.path))


def _unknown_key(found: _Found) -> list[Diagnostic] | None:
    path, place, kind, schema, instance, doc = (
        found.path,
        found.place,
        found.kind,
        found.schema,
        found.instance,
        found.doc,
    )
    if kind == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        said = []
        for key in sorted(set(instance) - set(allowed)):
            hint: str | None = (
                did_you_mean(key, allowed) or f"the keys allowed here are {', '.join(f'`{k}`' for k in allowed)}"
            )
            said.append(Diagnostic("E201", f"unknown key `{key}` in {place}", doc.span(path + (key,), key=True), hint))
        return said
    if "propertyNames" in found.error.relative_schema_path and kind == "pattern":
        return [
            Diagnostic(
                "E201",
                f"`{instance}` cannot be the name of a code set",
                doc.span(path + (instance,), key=True),
                "names are one word of letters, digits, `_` and `-`: pt_evaluation",
            )
        ]
    if kind == "propertyNames":
        names = schema.get("enum") or []
        suggestion = did_you_mean(str(instance), names) if names else schema.get("pattern")
        span = doc.span(path + (instance,), key=True)
        return [Diagnostic("E201", f"`{instance}` is not allowed as a name in {place}", span, suggestion)]
    return None


def _missing_key(found: _Found) -> list[Diagnostic] | None:
    path, place, kind, instance, doc = found.path, found.place, found.kind, found.instance, found.doc
    if kind == "required":
        message = found.error.message
        missing = message.split("'")[1] if "'" in message else message
        known = found.schema.get("properties", {})
        if isinstance(instance, dict) and any(did_you_mean(k, [missing]) for k in instance if k not in known):
            return []  # a misspelt key is the cause, and it is reported as an unknown key with this very hint
        return [
            Diagnostic("E202", f"{place} is missing `{missing}`", doc.span(path, key=True), _REQUIRED_HELP.get(missing))
        ]
    if kind == "oneOf" and all("required" in s for s in found.value):
        keys = [s["required"][0] for s in found.value]
        names = " or ".join(f"`{k}`" for k in keys)
        given = [k for k in keys if isinstance(instance, dict) and k in instance]
        problem = "gives both" if len(given) > 1 else "needs one of"
        return [
            Diagnostic("E202", f"{place} {problem} {names}", doc.span(path, key=True), f"give exactly one of {names}")
        ]
    return None


def _wrong_value(found: _Found) -> list[Diagnostic] | None:
    place, kind, schema, value, instance = found.place, found.kind, found.schema, found.value, found.instance
    span = found.doc.span(found.path)
    if kind == "enum":
        options = [str(o) for o in value]
        hint = did_you_mean(str(instance), options) or f"write one of: {', '.join(options)}"
        return [Diagnostic("E203", f"{_show(instance)} is not allowed for {place}", span, hint)]
    if kind == "type":
        types = value if isinstance(value, list) else [value]
        wanted = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in types)
        return [Diagnostic("E203", f"{place} must be {wanted}; found {_show(instance)}", span)]
    if kind == "pattern":
        described = schema.get("description")
        hint = f"expected {described}" if described else f"it must match {value}"
        return [Diagnostic("E203", f"{_show(instance)} is not a valid value for {place}", span, hint)]
    if kind == "anyOf" and isinstance(instance, (dict, list)) and _within_branch(found.error):
        # A mapping or list of the right kind with a mistake inside (a misspelt key, say): say what is wrong
        # inside it, not only that the whole has the wrong form.
        return [d for inner in _within_branch(found.error) for d in _explain(inner, found.doc)]
    if kind == "anyOf":
        described = schema.get("description", "another kind of value")
        return [Diagnostic("E203", f"{place} has the wrong form: {_show(instance)}", span, f"expected {described}")]
    if kind in ("minItems", "minLength"):
        return [Diagnostic("E203", f"{place} is empty", span)]
    if kind == "maximum":
        return [Diagnostic("E203", f"{place} must be {value:,} or less; found {_show(instance)}", span)]
    if kind == "minimum":
        return [Diagnostic("E203", f"{place} must be {value} or more; found {_show(instance)}", span)]
    return None


def _within_branch(error: jsonschema.ValidationError) -> list:
    """The errors inside the one branch of an `anyOf` whose type the value has, if exactly one has it."""
    branches: dict[int, list] = {}
    for inner in error.context or ():
        branches.setdefault(int(inner.relative_schema_path[0]), []).append(inner)
    fitting = [
        errs for errs in branches.values() if not any(e.validator == "type" and not e.relative_path for e in errs)
    ]
    return fitting[0] if len(fitting) == 1 else []


_REQUIRED_HELP = {
    "source": "say where the rule comes from: a CMS manual section, a payer bulletin, a seed document",
    "id": "give the row a stable id such as `acme.unit-cap.97112`",
    "when": "write the condition under which the rule fires, in the rule language",
}
