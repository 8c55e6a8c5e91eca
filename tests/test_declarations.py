"""Things declared once, as data: the commands of the command line (cli.help.Command), the provider types
(codes.PROVIDERS) and the syntax tree's span (rules.ast.Node). What follows from each declaration is what the
code used to spell out by hand."""

from __future__ import annotations

import argparse
import pickle

import pytest

from payerpolicy import codes
from payerpolicy.claims import values
from payerpolicy.cli import main as cli_main
from payerpolicy.cli.help import Command, add_command, examples, option
from payerpolicy.diagnostics import Span
from payerpolicy.rules import ast


@pytest.mark.parametrize("command", cli_main._COMMANDS, ids=lambda command: command.name)
def test_each_command_runs_its_declared_run_and_its_help_ends_with_its_examples(command, capsys):
    assert cli_main._RUNS[command.name] is command.run
    with pytest.raises(SystemExit) as stopped:
        cli_main.main([command.name, "--help"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.rstrip("\n").endswith(examples(*command.examples))


def test_a_subcommand_is_chosen_as_declared_and_a_command_may_keep_its_parser():
    parser = argparse.ArgumentParser(prog="p")
    commands = parser.add_subparsers(dest="command", required=True)
    declared = Command(
        "tables",
        "reference tables",
        ("p tables import mue f.csv",),
        subcommands=(Command("import", "read files", ("p tables import mue f.csv",), options=(option("kind"),)),),
        chosen_as="tables_command",
        parser_as="own_parser",
    )
    built = add_command(commands, declared)
    args = parser.parse_args(["tables", "import", "mue"])
    assert (args.command, args.tables_command, args.kind) == ("tables", "import", "mue")
    assert args.own_parser is built


def test_provider_types_follow_from_their_one_declaration():
    assert codes.PROVIDER_TYPES == ("PT", "PTA", "OT", "OTA", "SLP", "DC", "MD", "DO", "NP", "PA")
    assert codes.DISCIPLINE_MODIFIER == {"PT": "GP", "PTA": "GP", "OT": "GO", "OTA": "GO", "SLP": "GN"}
    assert values.TAXONOMY_TYPES["2252"] == "PTA" and values.TAXONOMY_TYPES["111N"] == "DC"
    assert "MD" not in values.TAXONOMY_TYPES.values()  # a physician's taxonomy does not say MD or DO


def test_a_node_takes_its_span_by_keyword_and_leaves_it_out_of_equality():
    here, there = Span("a.yaml", 3, 7), Span("b.yaml", 9, 1)
    node = ast.Literal("code", "97110", "97110", span=here)
    assert node == ast.Literal("code", "97110", "97110", span=there)
    assert hash(node) == hash(ast.Literal("code", "97110", "97110"))
    assert "a.yaml" not in repr(node)
    with pytest.raises(TypeError):
        ast.Literal("code", "97110", "97110", here)  # type: ignore[call-arg]


def test_a_node_comes_back_from_a_pickle_with_its_span_and_fields():
    here = Span("a.yaml", 3, 7, 3, 12)
    pair = ast.PairEdit("table", ast.SetRef("bypass"), None, None, ast.SetRef("sites"), span=here)
    fix = ast.Fix("add_modifier", "59", modifier_span=Span("a.yaml", 4, 1), span=here)
    back_pair, back_fix = pickle.loads(pickle.dumps((pair, fix)))
    assert (back_pair.table, back_pair.bypass, back_pair.sites, back_pair.span) == (
        "table",
        pair.bypass,
        pair.sites,
        here,
    )
    assert (back_fix, back_fix.span, back_fix.modifier_span) == (fix, here, Span("a.yaml", 4, 1))
