"""The commands declared as data, and `--help` with examples.

Each command is one `Command`: its name, its line in `payerpolicy --help`, the examples its own `--help` ends
with, what runs it, and its options in the order `--help` lists them (`option(...)`: `add_argument`'s own
words). `add_command` turns a declaration into argparse: no command calls argparse itself.
The description is wrapped to the terminal as usual, the examples kept line by line.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any, Callable, Union


class WithExamples(argparse.HelpFormatter):
    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" if line else "" for line in lines)


@dataclass(frozen=True)
class Option:
    """One argument of a command: its flags (or a positional's name) and how argparse reads it."""

    flags: tuple[str, ...]
    settings: dict[str, Any]


def option(*flags: str, **settings: Any) -> Option:
    """An option as `add_argument` would take it: `option("--port", type=int, help="...")`."""
    return Option(flags, settings)


@dataclass(frozen=True)
class OneOf:
    """Options of which one at most may be given (`--payer` or `--policy`)."""

    options: tuple[Option, ...]


@dataclass(frozen=True)
class Headed:
    """Options listed under a heading of their own in `--help`."""

    title: str
    options: tuple[Option, ...]


Declared = Union[Option, OneOf, Headed]


@dataclass(frozen=True)
class Command:
    """A command (or a command's subcommand, in `subcommands`), declared once."""

    name: str
    help: str  # its line in the list of commands
    examples: tuple[str, ...]  # the end of its `--help` (every command has some)
    run: Callable[[argparse.Namespace], int] | None = None  # None for a command that only holds subcommands
    options: tuple[Declared, ...] = ()
    subcommands: tuple[Command, ...] = ()
    chosen_as: str = ""  # where the parsed arguments name the subcommand given
    parser_as: str = ""  # where they keep this command's own parser (`units`: `--help` among the codes)
    settings: dict[str, Any] = field(default_factory=dict)  # `add_parser`'s own: description, usage, formatter


def add_command(commands: argparse._SubParsersAction, command: Command) -> argparse.ArgumentParser:
    """A command's parser, with its options and subcommands, its `--help` ending with its examples."""
    settings = {"formatter_class": WithExamples, **command.settings}
    parser = commands.add_parser(command.name, help=command.help, epilog=examples(*command.examples), **settings)
    for declared in command.options:
        if isinstance(declared, Option):
            parser.add_argument(*declared.flags, **declared.settings)
            continue
        group = (
            parser.add_mutually_exclusive_group()
            if isinstance(declared, OneOf)
            else parser.add_argument_group(declared.title)
        )
        for each in declared.options:
            group.add_argument(*each.flags, **each.settings)
    if command.subcommands:
        chosen = parser.add_subparsers(dest=command.chosen_as, required=True)
        for subcommand in command.subcommands:
            add_command(chosen, subcommand)
    if command.parser_as:
        parser.set_defaults(**{command.parser_as: parser})
    return parser
