"""The rule language in one spelling, for `payerpolicy fmt`: the same tokens, spaced one way.

A condition or fix is read into tokens with the grammar's own lexer and written back with one space between
tokens, none inside a field path (`line.date`), a call (`value("kx_threshold")`) or brackets, and none
before a comma. Only spacing changes: the tokens, and so the Lark tree, stay the same, and `same_tree` proves
it for each expression `fmt` rewrites. Text that does not parse is left as the author wrote it (lint says what
is wrong with it).
"""

from __future__ import annotations

from lark import Token, Tree
from lark.exceptions import LarkError

from payerpolicy.rules.parse import START_SYMBOLS, parser

_NO_SPACE_BEFORE = {",", ")", "]", "."}
_NO_SPACE_AFTER = {"(", "[", "."}


def spaced(text: str) -> str | None:
    """`text` with its tokens spaced the one way, or None when it cannot be read into tokens."""
    try:
        tokens = list(parser().lex(text))
    except LarkError:
        return None
    out: list[str] = []
    before: Token | None = None
    for token in tokens:
        word = str(token)
        if before is not None and not _joined(before, token):
            out.append(" ")
        out.append(word)
        before = token
    return "".join(out)


def _joined(before: Token, token: Token) -> bool:
    if str(token) in _NO_SPACE_BEFORE or str(before) in _NO_SPACE_AFTER:
        return True
    # A name straight before `(` is a call (`year_of(line.date)`); a keyword before `(` opens a group (`not (`).
    return str(token) == "(" and before.type == "NAME"


def parsed(text: str, kind: str) -> Tree | None:
    """The Lark tree of `text` as a `condition` or `fix`, or None when it does not parse."""
    try:
        return parser().parse(text, start=START_SYMBOLS[kind])
    except LarkError:
        return None


def same_tree(a: str, b: str, kind: str) -> bool:
    """Whether two spellings read as the same expression (Lark trees compare tokens by type and text, not by
    position)."""
    tree_a = parsed(a, kind)
    return tree_a is not None and tree_a == parsed(b, kind)
