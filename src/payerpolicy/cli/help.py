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
