"""Where the grammar, the shipped policies and the schemas are, installed or in a source checkout.

A wheel carries `grammar/` and `policies/` inside the package (see pyproject.toml); in a source checkout
(or an editable install) they stand at the top of the repository, two levels above this file.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    inside = _PACKAGE / name
    if inside.is_dir():
        return inside
    checkout = _PACKAGE.parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"payerpolicy is installed without its `{name}` folder (looked in {inside})")


def grammar_file() -> Path:
    return _find("grammar") / "policy.lark"


def policies_dir() -> Path:
    return _find("policies")


def schema_file(name: str) -> Path:
    return _PACKAGE / "schemas" / name
