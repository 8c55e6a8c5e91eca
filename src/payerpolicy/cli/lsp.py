"""`payerpolicy lsp`: start the language server for policy files on standard input and output."""

from __future__ import annotations

from payerpolicy.cli.help import Command

import sys

from payerpolicy.lsp import serve


def run(args) -> int:
    try:
        serve()  # imports pygls before it reads a byte: an ImportError here is the missing extra
    except ImportError as exc:
        print(
            f"payerpolicy: the language server needs the `lsp` extra (pip install 'payerpolicy[lsp]'): {exc}",
            file=sys.stderr,
        )
        return 2
    return 0


COMMAND = Command(
    "lsp",
    "the language server for policy files (editors start it; extra `lsp`)",
    ('payerpolicy lsp    (started by the editor: see the README, "Editing policies in an editor")',),
    run,
    settings=dict(
        description="Speak the Language Server Protocol on standard input and output: "
        "diagnostics as you type, hover, go to definition and completion in policy "
        "files. Needs the `lsp` extra: pip install 'payerpolicy[lsp]'.",
    ),
)
