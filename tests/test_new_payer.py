"""`payerpolicy new payer`: a new payer's folder lints with no diagnostic and its cases pass at full coverage."""

from __future__ import annotations

import pytest

import payerpolicy
from payerpolicy.cli.main import main


@pytest.mark.parametrize("extends", [[], ["--extends", "medicare"]])
def test_a_new_payer_lints_and_tests_clean_at_once(tmp_path, monkeypatch, capsys, extends):
    monkeypatch.chdir(tmp_path)
    assert main(["new", "payer", "acme-health", *extends]) == 0
    [result] = payerpolicy.lint("policies/acme-health")
    assert result.ok and result.diagnostics == ()
    capsys.readouterr()
    assert main(["test", "policies/acme-health"]) == 0
    out = capsys.readouterr().out
    assert "2 cases: 2 passed, 0 failed" in out and "rule coverage: 100.0%" in out


def test_a_payer_built_on_a_new_payer_gets_a_cap_of_its_own(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["new", "payer", "acme-health", "--extends", "medicare"]) == 0
    assert main(["new", "payer", "acme-gold", "--extends", "acme-health"]) == 0
    [result] = payerpolicy.lint("policies/acme-gold")
    assert result.ok and result.diagnostics == ()  # no second cap on the base's code (W504)
    assert main(["test", "policies/acme-gold"]) == 0


@pytest.mark.parametrize(
    "args, words",
    [
        (["Acme_Health"], "cannot be a payer's name"),
        (["acme", "--extends", "nobody"], "no payer `nobody` to extend"),
    ],
)
def test_bad_requests_are_refused_in_words(tmp_path, monkeypatch, capsys, args, words):
    monkeypatch.chdir(tmp_path)
    assert main(["new", "payer", *args]) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "policies" / args[0]).exists()


def test_an_existing_folder_is_left_alone(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policies" / "acme").mkdir(parents=True)
    assert main(["new", "payer", "acme"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert list((tmp_path / "policies" / "acme").iterdir()) == []
