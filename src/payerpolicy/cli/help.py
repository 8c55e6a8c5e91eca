"""`--help` with examples: the description wrapped to the terminal as usual, the examples kept line by line."""

from __future__ import annotations

import argparse


class WithExamples(argparse.HelpFormatter):
    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" if line else "" for line in lines)


def add_command(
    commands: argparse._SubParsersAction, name: str, help: str, shown: tuple[str, ...], **options
) -> argparse.ArgumentParser:
    """A command's parser, its `--help` ending with the examples `shown` (every command has some)."""
    options.setdefault("formatter_class", WithExamples)
    return commands.add_parser(name, help=help, epilog=examples(*shown), **options)
