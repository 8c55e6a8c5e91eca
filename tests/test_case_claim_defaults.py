"""`claim_defaults:` in a case file: fields every claim of the file has unless it gives its own."""

from __future__ import annotations

from payerpolicy.cli.main import main

POLICY = """\
policy: {payer: acme, name: Acme Health (test), version: "1"}
rules:
  - id: acme.certifying-npi
    family: documentation
    kind: compliance
    severity: deny
    codes: 97110
    when: claim.referring_npi is missing
    message: "name the certifying physician"
    source: test
"""

CASES = """\
claim_defaults: {referring_npi: "1234567893"}
cases:
  - name: the file's default names the physician
    claim: {id: D-1, patient: {id: P-1}, lines: [{code: 97110, units: 1, date: 2026-03-02}]}
    expect: {status: accepted, exact: true}
  - name: a claim's own null wins over the default
    claim: {id: D-2, patient: {id: P-1}, referring_npi: null, lines: [{code: 97110, units: 1, date: 2026-03-02}]}
    expect: {status: denied, findings: [{rule: acme.certifying-npi, line: 1}]}
"""


def test_claim_defaults_fill_what_a_claim_does_not_give(capsys, tmp_path):
    folder = tmp_path / "acme"
    (folder / "tests").mkdir(parents=True)
    (folder / "policy.yaml").write_text(POLICY)
    (folder / "tests" / "test_defaults.yaml").write_text(CASES)
    code = main(["test", str(folder)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 cases: 2 passed, 0 failed" in out


def test_claim_defaults_must_be_a_mapping(capsys, tmp_path):
    folder = tmp_path / "acme"
    (folder / "tests").mkdir(parents=True)
    (folder / "policy.yaml").write_text(POLICY)
    (folder / "tests" / "test_defaults.yaml").write_text(
        CASES.replace('claim_defaults: {referring_npi: "1234567893"}', "claim_defaults: [referring_npi]")
    )
    code = main(["test", str(folder)])
    captured = capsys.readouterr()
    assert code == 2
    assert "test_defaults.yaml:1:" in captured.out + captured.err
