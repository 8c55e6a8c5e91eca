"""The language server for policy files (`payerpolicy lsp`, the optional extra `lsp`).

index.py   what the open policy files define and where (rules, tables, code sets), for hover and definition
server.py  the server (pygls): diagnostics as the author types, hover, definition, completion, formatting
"""

from __future__ import annotations

__all__ = ["serve"]


def serve() -> None:
    """Speak the Language Server Protocol on standard input and output until the editor stops the server.
    Raises ImportError when the `lsp` extra (pygls) is not installed."""
    from payerpolicy.lsp.server import serve as _serve

    _serve()
