"""Stage 3, parse: rule-language text to a Lark tree, with syntax errors as diagnostics.

One of the two modules that import Lark (the other is `rule_lower`). The grammar, `grammar/policy.lark`,
is read and turned into an LALR parser once per process. Lark stops at the first syntax error of an
expression; since each condition, message and fix of a policy is parsed on its own, a policy with several
broken rules still gets one diagnostic per broken rule.
"""
from __future__ import annotations

import functools

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .diagnostics import Diagnostic, did_you_mean
from .policy_files import TextOrigin
from .resources import grammar_file

# What each kind of token is called in an error message.
_TOKEN_WORDS = {
    "CODE": "a code", "CODE_RANGE": "a code range", "DATE": "a date", "NUMBER": "a number",
    "INT": "a number", "NAME": "a name", "SET_NAME": "a code set such as `@timed`",
    "COMPARATOR": "a comparison (`=`, `!=`, `<`, `<=`, `>`, `>=`)", "STRING": "quoted text",
    "$END": "the end of the text",
}

START_SYMBOLS = {"condition": "start", "value": "value_start", "fix": "fix_start"}


@functools.lru_cache(maxsize=1)
def parser() -> Lark:
    return Lark(grammar_file().read_text(encoding="utf-8"), parser="lalr",
                start=list(START_SYMBOLS.values()), propagate_positions=True, maybe_placeholders=False)


@functools.lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    return frozenset(t.pattern.value for t in parser().terminals
                     if t.pattern.type == "str" and t.pattern.value.isalpha())


def parse(text: str, kind: str, origin: TextOrigin, diagnostics: list[Diagnostic]) -> Tree | None:
    """Parse `text` as a `condition`, `value` or `fix`; on a syntax error add a diagnostic, return None."""
    try:
        return parser().parse(text, start=START_SYMBOLS[kind])
    except UnexpectedInput as exc:
        diagnostics.append(_syntax_diagnostic(exc, text, kind, origin))
        return None


def _describe(terminal: str) -> str:
    if terminal in _TOKEN_WORDS:
        return _TOKEN_WORDS[terminal]
    try:
        pattern = parser().get_terminal(terminal).pattern
    except KeyError:
        return terminal.lower()
    return f"`{pattern.value}`" if pattern.type == "str" else terminal.lower()


def _expected(names) -> str:
    words = sorted({_describe(n) for n in names})
    if len(words) > 8:
        words = words[:8] + ["..."]
    return ", ".join(words)


def _syntax_diagnostic(exc: UnexpectedInput, text: str, kind: str, origin: TextOrigin) -> Diagnostic:
    what = {"condition": "condition", "value": "value", "fix": "fix"}[kind]
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        bad = text[pos]
        return Diagnostic("E301", f"this {what} cannot contain `{bad}` here", origin.span(pos, pos + 1),
                          "write `=` to compare, and put text in double quotes" if bad in "'=!" else None)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        end = len(text.rstrip())
        expected = exc.expected if isinstance(exc, UnexpectedEOF) else exc.expected
        return Diagnostic("E302", f"this {what} stops too soon", origin.span(max(end - 1, 0), end),
                          f"expected {_expected(expected)} after it")
    assert isinstance(exc, UnexpectedToken)
    token: Token = exc.token
    start = token.start_pos or 0
    span = origin.span(start, start + len(str(token)))
    hint = None
    if str(token).isalpha():
        if str(token).lower() in keywords() and str(token) != str(token).lower():
            hint = f"keywords are lower case: write `{str(token).lower()}`"
        else:
            # Suggest a keyword that could stand here, so `adn` becomes `and` rather than `any`.
            allowed = [w.strip("`") for w in map(_describe, exc.expected) if w.startswith("`")]
            hint = did_you_mean(str(token), [w for w in allowed if w.isalpha()])
    if hint is None:
        hint = f"expected {_expected(exc.expected)}"
    return Diagnostic("E303", f"unexpected `{token}` in this {what}", span, hint)
