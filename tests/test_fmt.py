"""`payerpolicy fmt`: one layout for policy YAML, comments kept, meaning kept, errors with file:line:column."""

from __future__ import annotations

import os
import stat
import string
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

import payerpolicy
from payerpolicy.cli.main import main
from payerpolicy.policy import layout
from payerpolicy.policy.layout import LayoutError, lay_out

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "policies").rglob("*.yaml"))


def _another_layout(text: str, monkeypatch) -> str:
    """The same file laid out with four spaces per level and a narrow width: valid YAML, far from the layout."""
    with monkeypatch.context() as m:
        m.setattr(layout, "INDENT", 4)
        m.setattr(layout, "WIDTH", 50)
        return lay_out(text)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT / "policies")))
def test_every_shipped_file_is_in_the_layout_and_comes_back_to_it(path, monkeypatch):
    text = path.read_text(encoding="utf-8")
    assert lay_out(text) == text  # `fmt --check policies` passes
    messy = _another_layout(text, monkeypatch)
    assert messy != text or len(text) < 200
    assert yaml.safe_load(messy) == yaml.safe_load(text)
    assert lay_out(messy) == text  # fmt of any layout of the file is the file: idempotent, canonical
    assert messy.count("#") == text.count("#")  # no comment lost on the way


def test_a_policy_in_another_layout_compiles_to_the_same_program_and_cases(tmp_path, monkeypatch, capsys):
    copy = tmp_path / "policies"
    for path in (ROOT / "policies").rglob("*"):
        target = copy / path.relative_to(ROOT / "policies")
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.suffix == ".yaml":
            target.write_text(_another_layout(path.read_text(encoding="utf-8"), monkeypatch), encoding="utf-8")
        else:
            target.write_bytes(path.read_bytes())
    for name in ("medicare", "example-commercial"):
        shipped = payerpolicy.load(ROOT / "policies" / name).program.source
        messy = payerpolicy.load(copy / name).program.source
        # The legend names table files by object (`<TableFile object at 0x...>`), which differs run to run.
        strip = lambda s: "\n".join(line for line in s.splitlines() if " object at 0x" not in line)  # noqa: E731
        assert strip(messy) == strip(shipped)
    capsys.readouterr()
    assert main(["fmt", str(copy)]) == 0
    for path in (ROOT / "policies").rglob("*.yaml"):
        assert (copy / path.relative_to(ROOT / "policies")).read_text(encoding="utf-8") == path.read_text(
            encoding="utf-8"
        )


def test_comments_stay_where_they_were():
    text = textwrap.dedent("""\
        # about the file

        policy:    # the header
            payer: acme      # trailing, aligned
            # above a key, indented wrongly
            name:   "Acme"
        unit_caps:
        # above an item, at the key's column
        - id: acme.cap      # after the id
          codes: [97110,97112]


          # after two blank lines
          max_units: 4
          message: >-   # why a folded message
                more than
                four units
        # at the end
        """)
    assert lay_out(text) == textwrap.dedent("""\
        # about the file

        policy:  # the header
          payer: acme  # trailing, aligned
          # above a key, indented wrongly
          name: "Acme"
        unit_caps:
          # above an item, at the key's column
          - id: acme.cap  # after the id
            codes: [97110, 97112]

            # after two blank lines
            max_units: 4
            message: >-  # why a folded message
              more than
              four units
        # at the end
        """)


def test_conditions_and_fixes_are_spaced_one_way_in_policies_only():
    policy = textwrap.dedent("""\
        rules:
          - id: acme.r
            when:   provider.type  in [PT,PTA] and not(code = 97110)
            fix: 'add modifier  GP'
            message: "keep   {line.code}  as written"
          - id: acme.s
            when: >-
              total units of lines with code = 97112 earlier that day
              +   units > value( "cap" )
        """)
    assert lay_out(policy) == textwrap.dedent("""\
        rules:
          - id: acme.r
            when: provider.type in [PT, PTA] and not (code = 97110)
            fix: 'add modifier GP'
            message: "keep   {line.code}  as written"
          - id: acme.s
            when: >-
              total units of lines with code = 97112 earlier that day
              + units > value("cap")
        """)
    # A test-case file has no rules: a `when` there is data, left as written.
    cases = "cases:\n  - name: x\n    when: provider.type  in [PT,PTA]\n"
    assert lay_out(cases) == cases
    # A condition that does not parse is left for lint to explain.
    broken = "rules:\n  - id: r\n    when: code  =  = 97110\n"
    assert lay_out(broken) == broken


def test_flow_lists_go_on_one_line_or_wrap_inside_the_bracket():
    short = "codes:\n  x: [97110,\n      97112]\n"
    assert lay_out(short) == "codes:\n  x: [97110, 97112]\n"
    items = ", ".join(f'"{n:02d}"' for n in range(40))
    out = lay_out(f"settings:\n  places: [{items}]\n")
    lines = out.splitlines()
    assert all(len(line) <= layout.WIDTH for line in lines) and len(lines) > 2
    assert lines[1].startswith('  places: ["00", "01"') and lines[2].startswith(" " * 11 + '"')
    nested = (
        "cases:\n  - {name: a long case name that fills the line, claims: [{id: C-1, lines: "
        "[{code: 97110, units: 1, date: 2026-03-02}, {code: 97112, units: 2, date: 2026-03-02}]}]}\n"
    )
    out = lay_out(nested)
    assert yaml.safe_load(out) == yaml.safe_load(nested)
    assert all(len(line) <= layout.WIDTH for line in out.splitlines())
    assert lay_out(out) == out


def test_anchors_aliases_and_block_text_are_kept():
    text = "claims:\n  - &first\n    id: C-1\n    note: |\n        line one\n          indented\n  - *first\n"
    assert (
        lay_out(text) == "claims:\n  - &first\n    id: C-1\n    note: |\n      line one\n        indented\n  - *first\n"
    )


@pytest.mark.parametrize(
    "text, line, column, words",
    [
        ("a: [1, 2\nb: 3\n", 1, 4, "this `[` is never closed"),
        ("x:\n  y: 1\n z: 2\n", 3, 2, "not valid YAML"),
        ("a: [1,  # one\n    2]\n", 1, 9, "a comment inside `[...]`"),
        ("a: 1\n---\nb: 2\n", 2, 1, "several YAML documents"),
    ],
)
def test_what_fmt_cannot_lay_out_is_said_with_its_place(text, line, column, words):
    with pytest.raises(LayoutError) as caught:
        lay_out(text, "bad.yaml")
    d = caught.value.diagnostic
    assert (d.span.file, d.span.line, d.span.column) == ("bad.yaml", line, column)
    assert words in d.message


def test_fmt_rewrites_checks_and_diffs_like_ruff_format(tmp_path, capsys):
    messy = tmp_path / "p" / "policy.yaml"
    messy.parent.mkdir()
    messy.write_text("policy:\n    payer: acme   # who\n")
    os.chmod(messy, 0o640)
    tidy = tmp_path / "p" / "tests.yaml"
    tidy.write_text("cases: []\n")
    (tmp_path / "p" / ".hidden.yaml").write_text("not:   touched\n")

    assert main(["fmt", "--check", str(tmp_path / "p")]) == 1
    err = capsys.readouterr().err
    assert f"would reformat {messy}" in err and "1 file would be reformatted, 1 file already formatted" in err
    assert messy.read_text() == "policy:\n    payer: acme   # who\n"

    assert main(["fmt", "--diff", str(messy)]) == 1
    out = capsys.readouterr().out
    assert "-    payer: acme   # who\n+  payer: acme  # who\n" in out

    assert main(["fmt", str(tmp_path / "p")]) == 0
    assert messy.read_text() == "policy:\n  payer: acme  # who\n"
    assert stat.S_IMODE(messy.stat().st_mode) == 0o640
    assert (tmp_path / "p" / ".hidden.yaml").read_text() == "not:   touched\n"
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == [".hidden.yaml", "policy.yaml", "tests.yaml"]
    assert main(["fmt", "--check", str(tmp_path / "p")]) == 0


def test_a_bad_file_is_reported_and_the_others_still_formatted(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("policy:\n  payer: [acme\n")
    (tmp_path / "good.yaml").write_text("policy:\n      payer: acme\n")
    assert main(["fmt", str(tmp_path), str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'bad.yaml'}:2:10: error[E103]: this is not valid YAML: this `[` is never closed" in err
    assert "no such file or folder" in err and "Traceback" not in err
    assert "2 files could not be formatted" in err  # the bad one and the missing one
    assert (tmp_path / "good.yaml").read_text() == "policy:\n  payer: acme\n"
    assert (tmp_path / "bad.yaml").read_text() == "policy:\n  payer: [acme\n"


def test_a_new_payer_is_written_in_the_layout(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["new", "payer", "acme-health", "--extends", "medicare"]) == 0
    assert main(["fmt", "--check", "policies"]) == 0


def test_fmt_dash_reads_standard_input_for_an_editor(monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("policy:\n    payer: acme   # who\n"))
    assert main(["fmt", "-"]) == 0
    assert capsys.readouterr().out == "policy:\n  payer: acme  # who\n"
    monkeypatch.setattr("sys.stdin", io.StringIO("policy:\n    payer: acme\n"))
    assert main(["fmt", "--check", "-"]) == 1
    assert capsys.readouterr().out == ""
    monkeypatch.setattr("sys.stdin", io.StringIO("a: [1\n"))
    assert main(["fmt", "-"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "<stdin>:1:4: error[E103]" in captured.err


# Any YAML PyYAML writes, in block or flow style, at any width and indentation: fmt lays it out keeping what it
# says and is stable, or refuses it with a diagnostic; it never raises anything else and never loses data.
_SCALARS = st.one_of(
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.none(),
    st.dates(),
    st.text(alphabet=string.ascii_letters + string.digits + " :#-[]{},'\"@&*!|>%\\\n", max_size=30),
)
_KEYS = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(_KEYS, inner, max_size=5)),
    max_leaves=25,
)
_DUMPED = st.builds(
    lambda doc, flow, width, indent, style: yaml.safe_dump(
        doc,
        default_flow_style=flow,
        width=width,
        indent=indent,
        default_style=style,
        sort_keys=False,
        allow_unicode=True,
    ),
    st.dictionaries(_KEYS, _VALUES, min_size=1, max_size=6),
    st.sampled_from([None, False, True]),
    st.integers(20, 200),
    st.integers(2, 6),
    st.sampled_from([None, None, "'", '"']),
)


def _laid_out_or_refused(text: str) -> None:
    try:
        out = lay_out(text, "fuzz.yaml")
    except LayoutError as exc:
        assert exc.diagnostic.code == "E103" and exc.diagnostic.span.file == "fuzz.yaml"
        return
    assert yaml.safe_load(out) == yaml.safe_load(text)
    assert lay_out(out) == out


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(_DUMPED)
def test_any_yaml_is_laid_out_keeping_its_meaning_or_refused(text):
    _laid_out_or_refused(text)


@pytest.mark.slow
@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(_DUMPED)
def test_any_yaml_is_laid_out_keeping_its_meaning_or_refused_at_length(text):
    _laid_out_or_refused(text)


def test_text_whose_line_breaks_mean_something_inside_a_flow_list_keeps_its_meaning():
    text = 'notes: ["first\n\n  second", "joined\\\n  without a space", "one\n  line"]\n'
    out = lay_out(text)
    assert out == 'notes: ["first\\nsecond", "joinedwithout a space", "one line"]\n'
    assert (
        yaml.safe_load(out) == yaml.safe_load(text) == {"notes": ["first\nsecond", "joinedwithout a space", "one line"]}
    )


def test_aliases_of_aliases_are_compared_as_written_not_expanded():
    # Nine levels of ten aliases each: expanded, a billion values; fmt keeps and compares them as written.
    levels = ["a0: &a0 [x, y]"] + [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 10)]
    text = "\n".join(levels) + "\n"
    assert lay_out(text) == text


def test_a_date_no_calendar_has_is_laid_out_not_raised():
    text = "claims:\n  - {id: C-1, date:    2026-02-30}\n"
    assert lay_out(text) == "claims:\n  - {id: C-1, date: 2026-02-30}\n"
