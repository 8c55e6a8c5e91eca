"""Tests of policy diagnostics: what `payerpolicy.load` reports for a policy with mistakes, and where.

The bad policies and the errors each must report are data: tests/cases/bad_policies/ holds the policies
and cases.yaml lists, for each, every error as (code, file, line, column, underlined text) with optional
fragments of its message and help. The tests below the data-driven one cover what a data file cannot
hold: files the test must spoil itself (not UTF-8, unreadable), the acceptance check of the issue (three
mistakes in two files, reported at once, nothing loaded), and the rendered text.
"""

from __future__ import annotations

import pathlib
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

import payerpolicy
from payerpolicy import PolicyError
from payerpolicy import pipeline as policy_load
from payerpolicy.diagnostics import Diagnostic, render

CASES_DIR = Path(__file__).parent / "cases" / "bad_policies"
CASES = yaml.safe_load((CASES_DIR / "cases.yaml").read_text(encoding="utf-8"))

# A small good policy to spoil: the tests below add one bad file to it.
GOOD_POLICY = """\
policy:
  payer: acme
  name: Acme Health
  version: "2026.1"

rules:
  - id: acme.timed.gp
    family: modifier
    severity: deny
    reason: {group: CO, carc: "4"}
    codes: "@timed"
    when: lacks modifier GP
    source: "acme bulletin 12"
"""
GOOD_SETS = """\
code_sets:
  timed: [97110, 97112, 97116]
"""


# ------------------------------------------------------------------------------------------- helpers


def load_errors(path) -> PolicyError:
    """Load a policy that must not load; the error it raised."""
    with pytest.raises(PolicyError) as info:
        payerpolicy.load(path)
    return info.value


def errors_of(error: PolicyError) -> list[Diagnostic]:
    return [d for d in error.diagnostics if d.severity == "error"]


def underlined(d: Diagnostic, error: PolicyError) -> str | None:
    """The text above the ^^^ of the rendered diagnostic; None when it shows no source line."""
    lines = render(d, error.sources).split("\n")
    if d.span is None or len(lines) < 3 or not lines[1].startswith(f" {d.span.line} | "):
        return None
    carets = lines[2]
    return lines[1][carets.index("^") : carets.rindex("^") + 1]


def key_of(d: Diagnostic, error: PolicyError) -> tuple:
    s = d.span
    if s is None:
        return (d.code, None, None, None, None)
    return (d.code, Path(s.file).name, s.line, s.column, underlined(d, error))


def describe(d: Diagnostic, error: PolicyError) -> str:
    return f"{key_of(d, error)}: {d.message} | help: {d.help}"


def assert_reports(error: PolicyError, expected: list[dict]) -> None:
    """`error` holds exactly the expected errors (a multiset), each with the message and help fragments asked."""
    actual = errors_of(error)
    want = Counter((e["code"], e["file"], e["line"], e["column"], e["underlined"]) for e in expected)
    got = Counter(key_of(d, error) for d in actual)
    report = "\n".join(describe(d, error) for d in actual)
    assert got == want, (
        f"\nmissing: {sorted((want - got).elements(), key=repr)}\n"
        f"extra:   {sorted((got - want).elements(), key=repr)}\nreported:\n{report}"
    )
    unused = list(actual)
    for e in expected:
        key = (e["code"], e["file"], e["line"], e["column"], e["underlined"])
        fits = [d for d in unused if key_of(d, error) == key and _fragments_fit(d, e)]
        assert fits, f"no error {key} with the message and help asked for {e}; reported:\n{report}"
        unused.remove(fits[0])


def _fragments_fit(d: Diagnostic, e: dict) -> bool:
    help_text, message = d.help or "", d.message
    return (
        (e.get("help_contains") is None or e["help_contains"] in help_text)
        and (e.get("help_excludes") is None or e["help_excludes"] not in help_text)
        and (e.get("message_contains") is None or e["message_contains"] in message)
        and (e.get("message_excludes") is None or e["message_excludes"] not in message)
    )


def _param(case: dict):
    marks = [pytest.mark.xfail(reason=case["xfail"], strict=True)] if case.get("xfail") else []
    return pytest.param(case, id=case["path"], marks=marks)


# ------------------------------------------------------------------------------------------- the cases


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_policy(case):
    assert case["errors"], "a bad policy case lists at least one error"
    error = load_errors(CASES_DIR / case["path"])
    assert_reports(error, case["errors"])


def test_every_bad_policy_is_a_case():
    roots = {Path(c["path"]).parts[0] for c in CASES}
    on_disk = {p.name for p in CASES_DIR.iterdir() if p.name != "cases.yaml"}
    assert on_disk - roots == set(), "policies in tests/cases/bad_policies that no case loads"
    assert roots - on_disk == set(), "cases whose policy is missing"


def test_case_names_are_unique():
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))


def test_cases_use_only_known_keys():
    """A misspelt `help_contain` would silently check nothing."""
    for case in CASES:
        assert set(case) <= {"name", "path", "errors", "xfail"}, case["name"]
        assert {"name", "path", "errors"} <= set(case), case
        for e in case["errors"]:
            assert {"code", "file", "line", "column", "underlined"} <= set(e), (case["name"], e)
            assert set(e) <= {
                "code",
                "file",
                "line",
                "column",
                "underlined",
                "help_contains",
                "help_excludes",
                "message_contains",
                "message_excludes",
            }, (case["name"], e)


# ------------------------------------------------------------------------------------------- E1: files


def test_no_such_policy(tmp_path):
    error = load_errors(tmp_path / "nowhere")
    [d] = errors_of(error)
    assert (d.code, d.span) == ("E100", None)
    assert "medicare" in d.help  # the shipped payers are named


def test_shipped_payer_misspelt():
    error = load_errors("medicar")
    [d] = errors_of(error)
    assert d.code == "E100"
    assert d.help == "did you mean `medicare`?"


def test_folder_without_policy_files(tmp_path):
    (tmp_path / "notes.txt").write_text("not a policy\n", encoding="utf-8")
    error = load_errors(tmp_path)
    [d] = errors_of(error)
    assert d.code == "E100"
    assert "no .yaml policy files" in d.message


def _acme(tmp_path: Path) -> Path:
    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "policy.yaml").write_text(GOOD_POLICY, encoding="utf-8")
    return folder


def test_file_not_utf8_is_reported_and_the_other_files_still_checked(tmp_path):
    folder = _acme(tmp_path)
    (folder / "rules.yaml").write_bytes("# Café rules\ncode_sets:\n  timed: [97110, 97112, 97116]\n".encode("latin-1"))
    (folder / "more.yaml").write_text(
        GOOD_SETS.replace("timed", "evals")
        + """
rules:
  - id: acme.neuro.cap
    family: unit_cap
    severity: deny
    reason: {group: CO, carc: "151"}
    when: code = 97112 adn units > 4
    source: "acme bulletin 12"
""",
        encoding="utf-8",
    )
    error = load_errors(folder)
    keys = {(d.code, Path(d.span.file).name) for d in errors_of(error) if d.code != "E402"}
    assert keys == {("E102", "rules.yaml"), ("E303", "more.yaml")}
    [e102] = [d for d in errors_of(error) if d.code == "E102"]
    assert "UTF-8" in e102.message
    assert "error[E102]: the file is not UTF-8 text" in error.render()


def test_file_not_utf8_does_not_make_its_code_sets_unknown(tmp_path):
    folder = _acme(tmp_path)
    (folder / "sets.yaml").write_bytes(("# Café\n" + GOOD_SETS).encode("latin-1"))
    error = load_errors(folder)
    e402 = [d for d in errors_of(error) if d.code == "E402"]
    assert all("sets.yaml" in (d.help or "") for d in e402), [describe(d, error) for d in e402]


def test_file_not_utf8_points_at_the_bad_byte(tmp_path):
    folder = _acme(tmp_path)
    (folder / "sets.yaml").write_bytes(b"code_sets:\n  timed: [97110, 97112]\n# Caf\xe9\n")
    error = load_errors(folder)
    [d] = [d for d in errors_of(error) if d.code == "E102"]
    assert (d.span.line, d.span.column) == (3, 6)


def test_file_that_cannot_be_read(tmp_path, monkeypatch):
    folder = _acme(tmp_path)
    secret = folder / "sets.yaml"
    secret.write_text(GOOD_SETS, encoding="utf-8")
    secret.chmod(0)
    try:
        open(secret, encoding="utf-8").close()
        readable = True  # running as root: permissions do not stop us, so refuse the read here instead
    except PermissionError:
        readable = False
    if readable:
        original = pathlib.Path.open  # read_text and read_bytes both open the file through it

        def refuse(self, *args, **kwargs):
            if self.name == "sets.yaml":
                raise PermissionError(13, "Permission denied", str(self))
            return original(self, *args, **kwargs)

        monkeypatch.setattr(pathlib.Path, "open", refuse)
    try:
        error = load_errors(folder)
    finally:
        secret.chmod(0o644)
    [d] = [d for d in errors_of(error) if d.code == "E101"]
    assert Path(d.span.file).name == "sets.yaml"
    assert (d.span.line, d.span.column) == (1, 1)
    assert "Permission denied" in d.message
    assert f"{d.span.file}:1:1: error[E101]: cannot read the file: Permission denied" in error.render()


# ------------------------------------------------------------------------------------------- acceptance


@pytest.mark.parametrize("folder", ["three_mistakes_two_files", "three_mistakes_rules_file_first"])
def test_three_mistakes_in_two_files_are_reported_at_once_and_nothing_loads(folder, monkeypatch):
    """The issue's acceptance check: every mistake, each with file:line:column; the policy never half-loads."""
    compiled = []
    monkeypatch.setattr(policy_load, "plan_program", lambda spec: compiled.append(spec))
    result = "not assigned"
    with pytest.raises(PolicyError) as info:
        result = payerpolicy.load(CASES_DIR / folder)
    error = info.value
    assert result == "not assigned"  # load returned nothing
    assert compiled == []  # and got nowhere near compiling
    errors = errors_of(error)
    assert len(errors) == 3
    assert len({d.span.file for d in errors}) == 2
    assert {d.code[:2] for d in errors} == {"E2", "E3", "E4"}  # a schema, a syntax and a meaning error
    text = error.render()
    for d in errors:
        assert f"{d.span.file}:{d.span.line}:{d.span.column}: error[{d.code}]: {d.message}" in text
    assert text.endswith("\n\n3 errors")
    assert str(error) == text


def test_a_rule_a_table_row_and_the_yaml_of_another_file_at_once():
    error = load_errors(CASES_DIR / "rule_row_and_yaml")
    by_file: dict[str, set[str]] = {}
    for d in errors_of(error):
        by_file.setdefault(Path(d.span.file).name, set()).add(d.code)
    assert by_file == {
        "rules.yaml": {"E401"},  # a hand-written rule
        "caps.yaml": {"E402", "E406"},  # a unit-cap row and a modifier-requirement row
        "pairs.yaml": {"E103"},  # a file that is not YAML
    }
    assert "4 errors" in error.render()


def test_a_policy_with_an_error_and_a_base_does_not_load(monkeypatch):
    compiled = []
    monkeypatch.setattr(policy_load, "plan_program", lambda spec: compiled.append(spec))
    error = load_errors(CASES_DIR / "remove_unknown_base_rule")
    assert [d.code for d in errors_of(error)] == ["E410"]
    assert compiled == []


# ------------------------------------------------------------------------------------------- rendering


def test_render_quotes_the_line_and_underlines_the_mistake():
    error = load_errors(CASES_DIR / "when_modifers.yaml")
    [d] = error.diagnostics
    assert error.render() == (
        f"{d.span.file}:14:38: error[E401]: unknown field `modifers`\n"
        " 14 |     when: code in @timed and none of modifers in [GP, GO, GN]\n"
        "    |                                      ^^^^^^^^\n"
        "   = help: did you mean `modifiers`?\n"
        "\n"
        "1 error"
    )
    assert d.span.file.endswith("bad_policies/when_modifers.yaml")


def test_render_of_a_one_digit_line_and_a_yaml_value():
    error = load_errors(CASES_DIR / "severity_denny.yaml")
    [d] = error.diagnostics
    assert render(d, error.sources) == (
        f"{d.span.file}:9:15: error[E203]: `denny` is not allowed for rules row 1 (`acme.neuro.gp`) > severity\n"
        " 9 |     severity: denny\n"
        "   |               ^^^^^\n"
        "   = help: did you mean `deny`?"
    )


def test_render_of_an_error_without_a_place():
    error = load_errors(CASES_DIR / "no_policy_section")
    [d] = error.diagnostics
    block = render(d, error.sources)
    assert block.startswith("error[E204]: no file of the policy in ")
    assert "\n   = help: one file (policy.yaml, by habit)" in block
    assert "|" not in block


def test_render_of_several_errors_in_file_order():
    error = load_errors(CASES_DIR / "three_mistakes_two_files")
    blocks = error.render().split("\n\n")
    assert blocks[-1] == "3 errors"
    headers = [b.split("\n")[0] for b in blocks[:-1]]
    assert [re.sub(r"^.*/", "", h.split(": error")[0]) for h in headers] == [
        "policy.yaml:12:15",
        "rules.yaml:6:24",
        "rules.yaml:14:37",
    ]


def _rendered_cases():
    for case in CASES:
        if case.get("xfail"):
            continue
        yield pytest.param(case["path"], id=case["path"])


@pytest.mark.parametrize("path", list(_rendered_cases()))
def test_render_layout_of_every_case(path):
    """Header `file:line:col: error[CODE]: message`, the source line after its number, carets under the column."""
    error = load_errors(CASES_DIR / path)
    for d in error.diagnostics:
        lines = render(d, error.sources).split("\n")
        where = f"{d.span.file}:{d.span.line}:{d.span.column}: " if d.span else ""
        assert lines[0] == f"{where}{d.severity}[{d.code}]: {d.message}"
        rest = lines[1:]
        source = error.sources.line(d.span.file, d.span.line) if d.span else None
        if source is not None:
            gutter = f" {d.span.line} | "
            if len(source.rstrip()) > 240:  # a long line is cut, saying how much is left out
                assert rest[0].startswith(gutter + source[:240]) and rest[0].endswith("more characters)")
            else:
                assert rest[0] == gutter + source.rstrip()
            carets = rest[1]
            assert carets.startswith(" " * (len(gutter) - 2) + "| ")
            assert carets.index("^") == len(gutter) + d.span.column - 1
            assert set(carets[len(gutter) :].strip()) == {"^"}
            rest = rest[2:]
        if d.help:
            assert rest == [f"   = help: {d.help}"]
        else:
            assert rest == []
