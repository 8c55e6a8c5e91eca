"""Stage 2, validate (the quick part): the rows of a policy's sections checked by compiled tests.

A payer's tables are thousands of rows (8,000 unit caps, 1,500 modifier requirements) and jsonschema walks
each one through its general machinery: most of the time spent validating a large policy. The row schema of
each section is compiled here, once, into plain Python tests, exactly as JSON Schema means its keywords, for
the keywords the policy schema uses; `policy.schema` lets jsonschema see only the rows these tests fail, so a
mistake is still reported in jsonschema's terms, re-worded the same way, and a well-formed row costs a few
dict lookups. A row schema using a keyword not compiled here is left wholly to jsonschema.
"""

from __future__ import annotations

import numbers
import re
from typing import Any, Callable

Check = Callable[[Any], bool]

# Keywords that say nothing about validity.
_ANNOTATIONS = {"description", "title", "examples", "default", "$comment", "deprecated"}


class Unsupported(Exception):
    """A keyword (or a form of one) the compiled tests do not cover: jsonschema checks the section."""


# The JSON types as jsonschema's 2020-12 type checker has them: a bool is not a number, 2.0 is an integer.
def _is_integer(value) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


TYPES: dict[str, Check] = {
    "string": lambda value: isinstance(value, str),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "integer": _is_integer,
    "number": _is_number,
}


def strict_pattern(pattern: str) -> re.Pattern:
    """JSON Schema's `pattern`, with `$` meaning the end of the text (in Python it also matches before a final
    newline, so `payer: "acme\\n"` would pass `^[a-z0-9-]*$`)."""
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern)


class RowChecks:
    """The compiled test of each array section's rows in a schema (`for_section`), None where a keyword of
    the section is not covered."""

    def __init__(self, schema: dict):
        self.root = schema
        self._refs: dict[str, Check] = {}
        self._compiling: set[str] = set()
        self.sections: dict[str, Check | None] = {}
        for name, section in schema.get("properties", {}).items():
            if not (isinstance(section, dict) and section.get("type") == "array" and "items" in section):
                continue
            if set(section) - _ANNOTATIONS - {"type", "items"}:  # the list itself has constraints: not here
                continue
            try:
                self.sections[name] = self.compile(section["items"])
            except Unsupported:
                self.sections[name] = None

    def for_section(self, name: str) -> Check | None:
        return self.sections.get(name)

    def compile(self, schema) -> Check:
        if schema is True:
            return lambda value: True
        if schema is False:
            return lambda value: False
        if not isinstance(schema, dict):
            raise Unsupported(repr(schema))
        checks = [self._keyword(key, value, schema) for key, value in schema.items() if key not in _ANNOTATIONS]
        if len(checks) == 1:
            return checks[0]
        return lambda value: all(check(value) for check in checks)

    def _keyword(self, key: str, value, schema: dict) -> Check:
        method = getattr(self, "_" + key.lstrip("$"), None)
        if method is None:
            raise Unsupported(key)
        return method(value, schema)

    @staticmethod
    def _type(value, schema) -> Check:
        names = [value] if isinstance(value, str) else list(value)
        if not all(name in TYPES for name in names):
            raise Unsupported(f"type {value}")
        tests = [TYPES[name] for name in names]
        if len(tests) == 1:
            return tests[0]
        return lambda instance: any(test(instance) for test in tests)

    @staticmethod
    def _pattern(value, schema) -> Check:
        search = strict_pattern(value).search
        return lambda instance: not isinstance(instance, str) or search(instance) is not None

    @staticmethod
    def _minLength(value, schema) -> Check:
        return lambda instance: not isinstance(instance, str) or len(instance) >= value

    @staticmethod
    def _minItems(value, schema) -> Check:
        return lambda instance: not isinstance(instance, list) or len(instance) >= value

    @staticmethod
    def _minimum(value, schema) -> Check:
        return lambda instance: not _is_number(instance) or instance >= value

    @staticmethod
    def _maximum(value, schema) -> Check:
        return lambda instance: not _is_number(instance) or instance <= value

    @staticmethod
    def _enum(value, schema) -> Check:
        # Text only: jsonschema compares text by ==, and no other value equals text. Other members (numbers,
        # where True equals 1 in Python but not in JSON) are left to jsonschema.
        if not all(isinstance(member, str) for member in value):
            raise Unsupported("enum of other than text")
        members = frozenset(value)
        return lambda instance: isinstance(instance, str) and instance in members

    @staticmethod
    def _required(value, schema) -> Check:
        keys = tuple(value)
        return lambda instance: not isinstance(instance, dict) or all(key in instance for key in keys)

    def _items(self, value, schema) -> Check:
        item = self.compile(value)  # one schema for every item (2020-12: `prefixItems` would be another)
        return lambda instance: not isinstance(instance, list) or all(item(each) for each in instance)

    def _properties(self, value, schema) -> Check:
        tests = {name: self.compile(sub) for name, sub in value.items()}
        get = tests.get

        def check(instance) -> bool:
            if not isinstance(instance, dict):
                return True
            for key, item in instance.items():
                test = get(key)
                if test is not None and not test(item):
                    return False
            return True

        return check

    def _additionalProperties(self, value, schema) -> Check:
        if "patternProperties" in schema:
            raise Unsupported("patternProperties")
        named = frozenset(schema.get("properties", {}))
        if value is False:
            return lambda instance: not isinstance(instance, dict) or named.issuperset(instance)
        other = self.compile(value)
        return lambda instance: (
            not isinstance(instance, dict) or all(other(item) for key, item in instance.items() if key not in named)
        )

    def _anyOf(self, value, schema) -> Check:
        branches = [self.compile(sub) for sub in value]
        return lambda instance: any(branch(instance) for branch in branches)

    def _oneOf(self, value, schema) -> Check:
        branches = [self.compile(sub) for sub in value]
        return lambda instance: sum(1 for branch in branches if branch(instance)) == 1

    def _ref(self, value, schema) -> Check:
        if not value.startswith("#/$defs/") or set(schema) - _ANNOTATIONS != {"$ref"}:
            raise Unsupported(f"$ref {value}")
        name = value[len("#/$defs/") :]
        if name not in self._refs:
            if name in self._compiling:  # a definition naming itself: none in the policy schema
                raise Unsupported(f"$ref {value} within itself")
            self._compiling.add(name)
            self._refs[name] = self.compile(self.root.get("$defs", {})[name])
            self._compiling.discard(name)
        return self._refs[name]
