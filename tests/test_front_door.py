"""The library does what `payerpolicy check` does: routing by payer over a search path, a judging session with
history and dates, reading any claim format, writing the decisions, and a `Policy` that pickles."""

from __future__ import annotations

import io
import multiprocessing
import pickle
import shutil
from pathlib import Path

import pytest

import payerpolicy
from payerpolicy.cli.main import main
from payerpolicy.pipeline import shipped_policies

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "claims.json"
X12_SAMPLE = ROOT / "tests" / "samples"


def cli_output(capsys, *args) -> tuple[int, str]:
    code = main(list(map(str, args)))
    return code, capsys.readouterr().out


@pytest.mark.parametrize("form", ["json", "text", "csv", "835"])
def test_the_readme_library_example_gives_the_command_lines_bytes(capsys, form):
    code, expected = cli_output(capsys, "check", "--format", form, "--received", "2026-12-01", EXAMPLES)
    # Only public names, as the README shows them.
    out = io.StringIO()
    with payerpolicy.Session(payerpolicy.Policies(), received=payerpolicy_date("2026-12-01")) as session:
        summary = payerpolicy.write_decisions(session.check_many(payerpolicy.read_claims(EXAMPLES)), out, form)
    assert out.getvalue() == expected
    assert summary["claims"] == 12 and summary["denied"] > 0 and code == 3


def payerpolicy_date(text):
    import datetime

    return datetime.date.fromisoformat(text)


def test_every_public_name_is_exported_and_the_package_is_typed():
    for name in payerpolicy.__all__:
        assert getattr(payerpolicy, name) is not None, name
    assert (Path(payerpolicy.__file__).parent / "py.typed").is_file()


def _own_payer(root: Path, name: str, payer: str) -> Path:
    """A user's payer built on medicare: one extra rule, so its findings show which policy judged."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "policy.yaml").write_text(f"""\
policy:
  payer: {payer}
  name: Acme Health plan
  version: "2026.4"
  extends: medicare
  fictional: true
rules:
  - id: {payer}.no-group-therapy
    family: provider_scope
    severity: deny
    reason: {{group: CO, carc: "96"}}
    codes: [97150]
    when: units > 0
    message: "Acme does not pay group therapy (97150)"
    fix: remove line
    source: "Acme provider manual (a test payer)"
""")
    return folder


def group_claim(claim_id: str, payer: str) -> dict:
    return {
        "id": claim_id,
        "payer": payer,
        "patient": {"id": "P-" + claim_id},
        "referring_npi": "1245319599",
        "provider": {"type": "PT"},
        "diagnoses": ["M54.50"],
        "lines": [{"code": "97150", "modifiers": ["GP"], "units": 1, "date": "2026-03-02"}],
    }


def test_a_users_payer_is_found_by_name_like_a_shipped_one(tmp_path):
    _own_payer(tmp_path / "payers", "acme", "acme")
    policies = payerpolicy.Policies([tmp_path / "payers"])
    assert "acme" in policies and "medicare" in policies
    with payerpolicy.Session(policies) as session:
        acme, medicare, nobody = session.check_many(
            [group_claim("A-1", "acme"), group_claim("M-1", "medicare"), group_claim("N-1", "nobody")]
        )
    assert acme.policy["payer"] == "acme" and acme.status == "denied"
    assert [f.rule for f in acme.findings] == ["acme.no-group-therapy"]
    assert medicare.policy["payer"] == "medicare" and medicare.status == "accepted"
    assert nobody.status == "error" and "no policy for payer `nobody`" in nobody.errors[0]["message"]
    assert "acme" in nobody.errors[0]["message"]  # the known payers are listed


def test_policies_says_which_folder_serves_a_payer_without_loading_it(tmp_path):
    _own_payer(tmp_path / "payers", "acme", "acme")
    (tmp_path / "payers" / "acme" / "caps.yaml").write_text("not: [closed\n")  # would not load
    (tmp_path / "medicare").mkdir()
    shutil.copytree(shipped_policies()["medicare"], tmp_path / "medicare", dirs_exist_ok=True)
    policies = payerpolicy.Policies([tmp_path / "payers", tmp_path / "medicare"])
    assert policies.folder("acme") == tmp_path / "payers" / "acme"
    assert policies.folder("medicare") == tmp_path / "medicare"  # the search path stands in for the shipped one
    assert payerpolicy.Policies().folder("medicare") == shipped_policies()["medicare"]
    with pytest.raises(KeyError):
        policies.folder("nobody")


def test_the_command_line_searches_the_same_folders(capsys, tmp_path):
    _own_payer(tmp_path / "payers", "acme", "acme")
    claims = tmp_path / "claims.jsonl"
    claims.write_text(
        '{"id": "A-1", "payer": "acme", "patient": {"id": "P-1"}, "referring_npi": "1245319599", "provider": {"type": "PT"}, '
        '"lines": [{"code": "97150", "modifiers": ["GP"], "units": 1, "date": "2026-03-02"}]}\n'
    )
    code, out = cli_output(capsys, "check", "--policies", tmp_path / "payers", "--format", "text", claims)
    assert code == 1 and "Acme does not pay group therapy" in out
    code, out = cli_output(capsys, "check", "--policies", tmp_path / "payers", "--payer", "acme", claims)
    assert code == 1 and '"payer": "acme"' in out
    code = main(["check", "--policies", str(tmp_path / "nowhere"), str(claims)])
    assert code == 2 and "no such policy folder" in capsys.readouterr().err


def test_a_session_keeps_history_between_runs(tmp_path):
    history = tmp_path / "history.sqlite"

    def therapy(claim_id, date, charge):
        return {
            "id": claim_id,
            "patient": {"id": "P-9"},
            "referring_npi": "1245319599",
            "provider": {"type": "PT"},
            "diagnoses": ["M54.50"],
            "lines": [
                {"code": "97110", "modifiers": ["GP"], "units": 2, "minutes": 30, "date": date, "charge": charge}
            ],
        }

    with payerpolicy.Session("medicare", history=history) as session:
        [january] = session.check_many([therapy("H-1", "2026-01-12", 2000)])
    assert january.findings == ()
    with payerpolicy.Session("medicare", history=history) as session:
        march = session.check(therapy("H-2", "2026-03-09", 600))
    assert [f.rule for f in march.findings] == ["medicare.threshold.kx-pt-slp"]
    with payerpolicy.Session("medicare") as session:  # no history: March alone is under the threshold
        assert session.check(therapy("H-2", "2026-03-09", 600)).findings == ()


def test_read_claims_keeps_every_claim_in_its_place():
    records = list(payerpolicy.read_claims(EXAMPLES))
    assert [r.id for r in records][:3] == ["C-1001", "C-1002", "C-1003"]
    bad = io.StringIO(
        '{"id": "A", "patient": {"id": "P"}, "lines": []}\n'
        '{"id": "B", "patient": {"id": "P"}, "referring_npi": "1245319599", "provider": {"type": "PT"}, '
        '"lines": [{"code": "97110", "units": 1, "date": "2026-03-02"}]}\n'
    )
    first, second = payerpolicy.read_claims(bad)
    assert type(first).__name__ == "UnreadableClaim" and first.id == "A"
    assert second.id == "B"


def test_a_policy_pickles_without_its_files_and_judges_the_same(tmp_path):
    folder = _own_payer(tmp_path, "acme", "acme")
    policy = payerpolicy.load(folder)
    data = pickle.dumps(policy)
    shutil.rmtree(folder)  # the pickle carries the compiled plan, not a path to reload from
    again = pickle.loads(data)
    assert repr(again) == repr(policy) and again.program.identity == policy.program.identity
    claims = [group_claim("A-1", "acme"), group_claim("A-2", "acme")]
    assert [d.to_dict() for d in again.check_many(claims)] == [d.to_dict() for d in policy.check_many(claims)]


def _judge_in_child(policy, claim):
    return policy.check(claim).to_dict()


def test_a_policy_goes_to_a_worker_process_as_it_is():
    policy = payerpolicy.load("medicare")
    claim = group_claim("W-1", "medicare")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(_judge_in_child, (policy, claim)) == policy.check(claim).to_dict()


def test_lint_in_the_library_gives_what_the_command_line_prints(capsys):
    bad = ROOT / "tests" / "cases" / "bad_policies" / "list_where_one_value.yaml"
    [result] = payerpolicy.lint(bad)
    assert not result.ok and result.rules is None
    assert [d.code for d in result.diagnostics] == ["E408", "E408"]
    assert main(["lint", str(bad)]) == 1
    assert capsys.readouterr().out == result.render() + f"\n{bad}: cannot be loaded\n\n"
    shipped = payerpolicy.lint(ROOT / "policies")
    assert [r.ok for r in shipped] == [True] * len(shipped) and len(shipped) >= 2
    [medicare] = payerpolicy.lint("medicare")
    assert medicare.ok and medicare.rules == payerpolicy.load("medicare").program.rules_written
    with pytest.raises(FileNotFoundError):
        payerpolicy.lint("no/such/folder")


def test_the_command_line_imports_the_public_api_at_its_top():
    import ast

    import payerpolicy.cli.main as cli

    tree = ast.parse(Path(cli.__file__).read_text(encoding="utf-8"))
    imported = [
        (node.module, alias.name)
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("payerpolicy")
        for alias in node.names
    ]
    assert imported, "the command line imports nothing from the package?"
    for module, name in imported:
        assert (
            (module == "payerpolicy" and name in payerpolicy.__all__)
            or module == "payerpolicy.cli"
            or module.startswith("payerpolicy.cli.")
        ), (module, name)  # the public API, or its own modules


# The front doors of the library's other clients, which the command line starts (`diff`, `test`, `serve`,
# `lsp`): each package's `__all__` is its public API, as `payerpolicy.__all__` is the library's.
CLIENT_PACKAGES = ("payerpolicy.impact", "payerpolicy.cases", "payerpolicy.service", "payerpolicy.lsp")
# The command line's own rendering: diagnostics (lint, fmt, test) and decisions.
RENDERING = ("payerpolicy.diagnostics", "payerpolicy.render")


def _cli_imports():
    """Every `from payerpolicy... import name` and `import payerpolicy...` anywhere in cli/ (inside functions
    too), as (file, module, name)."""
    import ast

    import payerpolicy.cli

    for path in sorted(Path(payerpolicy.cli.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("payerpolicy"):
                yield from ((path.name, node.module, alias.name) for alias in node.names)
            elif isinstance(node, ast.Import):
                yield from (
                    (path.name, alias.name, None) for alias in node.names if alias.name.startswith("payerpolicy")
                )


def test_every_cli_module_imports_only_the_public_api_and_its_rendering():
    import importlib

    seen = set()
    for file, module, name in _cli_imports():
        seen.add(file)
        if module.startswith(("payerpolicy.cli", "payerpolicy.render.")) or module in RENDERING:
            continue
        public = payerpolicy.__all__ if module == "payerpolicy" else None
        if module in CLIENT_PACKAGES:
            public = importlib.import_module(module).__all__
        assert public is not None, f"cli/{file} imports {module}: not the public API (payerpolicy.__all__)"
        assert name in public, f"cli/{file} imports {name} from {module}, which is not in its __all__"
    assert {"main.py", "diff.py", "test.py", "units.py", "serve.py"} <= seen


def test_what_the_cli_test_allows_is_really_public():
    import importlib

    for module in CLIENT_PACKAGES:
        package = importlib.import_module(module)
        for name in package.__all__:
            assert getattr(package, name) is not None, (module, name)
