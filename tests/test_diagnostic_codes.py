"""Every diagnostic code the package gives is registered once, with its meaning, and documented in the README."""

from __future__ import annotations

import re
from pathlib import Path

import payerpolicy
from payerpolicy.cli.main import main
from payerpolicy.diagnostic_codes import CODES, markdown_table

PACKAGE = Path(payerpolicy.__file__).resolve().parent
README = Path(__file__).resolve().parent.parent / "README.md"
CODE = re.compile(r"""["']([EW]\d{3})["']""")


def emitted() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "diagnostic_codes.py":
            continue
        for code in CODE.findall(path.read_text(encoding="utf-8")):
            found.setdefault(code, []).append(path.name)
    return found


def test_every_code_the_package_gives_is_registered():
    unregistered = {code: where for code, where in emitted().items() if code not in CODES}
    assert unregistered == {}, "add these to payerpolicy/diagnostic_codes.py"


def test_every_registered_code_is_given_somewhere():
    assert sorted(set(CODES) - set(emitted())) == []


def test_the_readme_table_is_the_registry():
    assert markdown_table() in README.read_text(encoding="utf-8"), (
        "rewrite the README's table with `python -m payerpolicy.diagnostic_codes README.md`"
    )


def test_lint_explains_a_code(capsys):
    assert main(["lint", "--explain", "e401"]) == 0
    assert capsys.readouterr().out == f"E401: {CODES['E401']}\n"
    assert main(["lint", "--explain", "E999"]) == 2
    assert "no diagnostic code E999" in capsys.readouterr().err
    assert main(["lint"]) == 2
