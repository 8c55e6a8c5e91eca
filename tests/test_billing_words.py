"""Issue 20, points 9 and 10: messages in words a policy author or billing specialist knows."""

from __future__ import annotations

import pytest

import payerpolicy
from payerpolicy.diagnostics import PolicyError

_HEAD = 'policy:\n  payer: acme\n  name: Acme\n  version: "1"\n'


def _yaml_error(tmp_path, body: str):
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "policy.yaml").write_text(_HEAD + body)
    with pytest.raises(PolicyError) as caught:
        payerpolicy.load(tmp_path / "acme")
    [d] = caught.value.diagnostics
    assert d.code == "E103"
    return d


@pytest.mark.parametrize(
    "body, line, column, message, help_words",
    [
        # A key dedented by one space: PyYAML says "expected <block end>, but found '<block mapping start>'".
        ("settings:\n  a: 1\n b: 2\n", 7, 2, "this line is not lined up with the lines above it", "same column"),
        ("code_sets:\n  x:\n    - 97110\n   - 97112\n", 8, 4, "this list item is not lined up", "`-`"),
        ("a: 1\n---\nb: 2\n", 6, 1, "several YAML documents", "remove the `---`"),
        ("a: *nope\n", 5, 4, "refers to no `&name`", "write the value out"),
        ("a: 1\nb\nc: 2\n", 6, 1, "has no `:` after it", "`key: value`"),
        ('a: "\\q"\n', 5, 6, "a backslash in double quotes", "single quotes"),
        ("a: @x\n", 5, 4, "a value cannot start with this character", "quotes"),
        ("a: &\n", 5, 5, "must be followed by a name", "quotes"),
        # A quote left open is closed by the next line's first quote: the error is placed where it was opened.
        (
            'message: "not paid the same day: {line.code}\nsource: "acme 13"\n',
            5,
            10,
            "this quote is never closed",
            "same line",
        ),
    ],
)
def test_yaml_mistakes_are_said_without_parser_words(tmp_path, body, line, column, message, help_words):
    d = _yaml_error(tmp_path, body)
    assert message in d.message and help_words in (d.help or "")
    assert (d.span.line, d.span.column) == (line, column)
    assert "<" not in d.message and "found '" not in d.message and "scalar" not in d.message


def _claim(claim_id: str, *charges):
    """A PT claim: a 97161 evaluation with GP (paid), then 97110 lines without GP (each denied, CO-4)."""
    lines = [{"code": "97161", "modifiers": ["GP"], "units": 1, "date": "2026-03-04", "charge": 150.0}]
    for charge in charges:
        line = {"code": "97110", "units": 1, "minutes": 15, "date": "2026-03-04"}
        if charge is not None:
            line["charge"] = charge
        lines.append(line)
    return {
        "id": claim_id,
        "payer": "medicare",
        "patient": {"id": f"P-{claim_id}"},
        "provider": {"npi": "1234567893", "type": "PT"},
        "referring_npi": "1245319599",
        "diagnoses": ["M54.50"],
        "lines": lines,
    }


def test_text_output_says_the_dollars_at_risk_per_claim_and_for_the_run(tmp_path, capsys):
    import json

    from payerpolicy.cli.main import main

    claims = [_claim("C-1", 1200.0, 100.5), _claim("C-2", 45.0, None), _claim("C-3", None), _claim("C-4")]
    (tmp_path / "claims.json").write_text(json.dumps(claims))
    assert main(["check", "--format", "text", str(tmp_path / "claims.json")]) == 1
    out = capsys.readouterr().out
    heads = [line for line in out.splitlines() if line.startswith("Claim ")]
    # The paid evaluation's $150 is never at risk; a line without a charge makes the figure "at least".
    assert heads == [
        "Claim C-1  [medicare 2026.1]: DENIED  ($1,300.50 at risk on 2 denied lines)",
        "Claim C-2  [medicare 2026.1]: DENIED  (at least $45.00 at risk on 2 denied lines)",
        "Claim C-3  [medicare 2026.1]: DENIED  (1 denied line, no charges given)",
        "Claim C-4  [medicare 2026.1]: ACCEPTED",
    ]
    assert out.rstrip().splitlines()[-1] == (
        "4 claims: 1 accepted, 3 denied; at least $1,345.50 at risk on 5 denied lines"
    )
    # The JSON output keeps its contract: no new summary keys.
    assert main(["check", str(tmp_path / "claims.json")]) == 1
    assert set(json.loads(capsys.readouterr().out)["summary"]) == {
        "claims",
        "accepted",
        "denied",
        "needs_fix",
        "errors",
    }


def test_why_shows_the_rules_real_citation_without_the_projects_fact_file(capsys):
    from payerpolicy.cli.main import main

    main(["check", "--format", "text", "examples/claims.json"])
    whys = [line.strip() for line in capsys.readouterr().out.splitlines() if line.strip().startswith("why:")]
    assert len(whys) > 10 and not any("domain" in why for why in whys)
    assert (
        "why: medicare.modifier.gp-on-pt-services (CO-4); source: Pub 100-04 ch. 5 §20.1 [CMS] "
        "[policies/medicare/modifiers.yaml:10]"
    ) in whys
    # The decision JSON keeps the source as the policy wrote it.
    decision = payerpolicy.load("medicare").check(_claim("C-9", 40.0))
    assert decision.findings[0].source["cite"].endswith("domain §5")


@pytest.mark.parametrize(
    "cite, shown",
    [
        ("Pub 100-04 ch. 5 §20.2 [CMS]; domain §3.1, §12", "Pub 100-04 ch. 5 §20.2 [CMS]"),
        ("domain §12: MPFS status B [CMS: Palmetto]", "MPFS status B [CMS: Palmetto]"),
        ("CO-16 (domain §9); remark M76 not confirmed", "CO-16; remark M76 not confirmed"),
        (
            "every 10 days [CMS: Pub 100-02 ch.15 §220.1.2, as cited in domain §12]",
            "every 10 days [CMS: Pub 100-02 ch.15 §220.1.2]",
        ),
        ("domain §4", "domain §4"),  # nothing else to show: the reference stays rather than an empty source
        ("acme bulletin 12 §3", "acme bulletin 12 §3"),
    ],
)
def test_citations_lose_only_the_projects_references(cite, shown):
    from payerpolicy.render.text import citation

    assert citation(cite) == shown
    assert citation(cite) == shown  # again, as tidied for the rule's first finding


def test_a_source_cited_by_many_findings_is_tidied_once_and_shown_alike():
    from payerpolicy.render import text

    cite = "CQ modifier, PTA services since 2020 [CMS]; domain §5, §12"
    first = text.citation(cite)
    assert first == "CQ modifier, PTA services since 2020 [CMS]" and text.citation("".join(cite)) is first
    assert text.citation("") == text.citation(None) == ""


def test_a_warning_is_not_shown_with_a_denial_code():
    from payerpolicy.decision import Decision, Finding, LineDecision
    from payerpolicy.render.text import render_claim

    def finding(severity, reason, kind="payer_edit"):
        return Finding(
            "acme.kx",
            "threshold",
            severity,
            1,
            "past the KX threshold",
            reason,
            {"cite": "KX threshold [CMS]", "file": "p.yaml", "line": 3},
            kind=kind,
        )

    line = LineDecision(1, "97110", 1, 1, "accepted", charge=40.0)
    text = render_claim(
        Decision(
            "C-1",
            {"payer": "acme", "version": "1"},
            "accepted",
            (line,),
            (finding("warn", {"group": "PR", "carc": "119"}), finding("warn", {}, kind="advisory")),
        )
    )
    assert "why: acme.kx (a warning, no denial code now; PR-119 if the payer denies the line)" in text
    assert "why: acme.kx (no payer code)" in text
    assert "DENIED" not in text and "(PR-119)" not in text
    denied = LineDecision(1, "97110", 1, 0, "denied", charge=40.0)
    text = render_claim(
        Decision(
            "C-2",
            {"payer": "acme", "version": "1"},
            "denied",
            (denied,),
            (finding("deny", {"group": "PR", "carc": "119"}),),
        )
    )
    assert "why: acme.kx (PR-119); source: KX threshold [CMS] [p.yaml:3]" in text
    assert text.splitlines()[0] == "Claim C-2  [acme 1]: DENIED  ($40.00 at risk on 1 denied line)"


def _on_a_terminal(env_extra: dict, *command: str) -> str:
    """A command (by default `check --format text` on the example) with its standard output on a
    pseudo-terminal, as a biller runs it."""
    import os
    import pty
    import subprocess
    import sys

    main_fd, terminal_fd = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    env.update({"TERM": "xterm", "PAYERPOLICY_CACHE": "off", **env_extra})
    process = subprocess.Popen(
        [sys.executable, "-m", "payerpolicy", *(command or ("check", "--format", "text", "examples/claims.json"))],
        stdout=terminal_fd,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(terminal_fd)
    chunks = []
    while True:
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:  # the terminal is closed once the process is gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(main_fd)
    return b"".join(chunks).decode()


def test_colours_on_a_terminal_and_none_with_no_color_or_in_a_pipe(capsys):
    from payerpolicy.cli.main import main

    coloured = _on_a_terminal({})
    assert "\033[31;1mDENIED\033[0m" in coloured and "\033[32mACCEPTED\033[0m" in coloured
    assert "\033[31mDENY\033[0m  [payer edit]" in coloured and "\033[33mWARN\033[0m  [advisory]" in coloured
    assert "\033[35;1mCOULD NOT BE READ\033[0m, nothing was judged" in coloured
    plain = _on_a_terminal({"NO_COLOR": "1"})
    assert "\033[" not in plain and "DENIED" in plain
    assert "\033[" not in _on_a_terminal({"TERM": "dumb"})
    main(["check", "--format", "text", "examples/claims.json"])  # a pipe (captured): never coloured
    assert "\033[" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "command",
    [
        ["check"],
        ["lint"],
        ["test"],
        ["units"],
        ["new"],
        ["new", "payer"],
        ["tables"],
        ["tables", "import"],
        ["lsp"],
        ["serve"],
        ["diff"],
        ["fmt"],
    ],
)
def test_every_commands_help_ends_with_examples(command, capsys):
    from payerpolicy.cli.main import main

    with pytest.raises(SystemExit):
        main([*command, "--help"])
    out = capsys.readouterr().out
    shown = out[out.index("\nexamples:\n") :].splitlines()[2:]
    assert shown and all(line.startswith("  ") or not line for line in shown)
    assert any(f"payerpolicy {' '.join(command)}" in line for line in shown)


def _policy_with_an_error(tmp_path):
    """A policy whose cap has a key no cap has (an error lint reports with its place)."""
    folder = tmp_path / "acme"
    folder.mkdir()
    (folder / "policy.yaml").write_text(
        "policy: {payer: acme, name: Acme, version: '1'}\n"
        "unit_caps:\n"
        "  - {id: acme.cap, codes: 97110, max_units: 4, source: test, colour: red}\n"
    )
    return folder


def test_lint_colours_severities_on_a_terminal_only(tmp_path, capsys):
    from payerpolicy.cli.main import main

    folder = _policy_with_an_error(tmp_path)
    coloured = _on_a_terminal({}, "lint", str(folder))
    assert "\033[31;1merror\033[0m[" in coloured
    assert "\033[31;1m" in coloured.split("error\033[0m[", 1)[1] and ": cannot be loaded\033[0m" in coloured
    assert "\033[" not in _on_a_terminal({"NO_COLOR": "1"}, "lint", str(folder))
    good = _on_a_terminal({}, "lint", "policies/example-commercial")
    assert "\033[32m" in good and ": ok, " in good
    main(["lint", str(folder)])  # a pipe (captured): never coloured
    out = capsys.readouterr().out
    assert "error[" in out and "\033[" not in out


def test_the_diagnostic_renderer_colours_the_severity_words_it_writes(tmp_path):
    import re

    from payerpolicy.diagnostics import Diagnostic, SourceFiles, Span, render, render_all

    sources = SourceFiles(texts={"p.yaml": "rules:\n  - id: error here\n"})
    found = [
        Diagnostic("E201", "an error here", Span("p.yaml", 2, 9, 2, 14), "fix it"),
        Diagnostic("W301", "a warning here", Span("p.yaml", 1, 1), severity="warning"),
    ]
    plain, coloured = render_all(found, sources), render_all(found, sources, colour=True)
    assert plain == render_all(found, sources, colour=False)
    assert re.sub(r"\033\[[0-9;]*m", "", coloured) == plain  # the same bytes but the colour
    assert coloured.startswith("p.yaml:2:9: \033[31;1merror\033[0m[E201]: an error here\n")
    assert "p.yaml:1:1: \033[33mwarning\033[0m[W301]" in coloured
    assert "  - id: error here" in coloured and coloured.count("\033[0m") == 2  # the quoted line is left alone
    assert render(found[0], sources, colour=True).count("\033[31;1m") == 1

    folder = _policy_with_an_error(tmp_path)
    [result] = payerpolicy.lint(str(folder))
    assert re.sub(r"\033\[[0-9;]*m", "", result.render(colour=True)) == result.render()
    assert "\033[31;1merror\033[0m[" in result.render(colour=True) and "\033[" not in result.render()
