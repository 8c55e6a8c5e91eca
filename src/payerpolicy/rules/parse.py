"""Stage 3, parse: rule-language text to a Lark tree, with syntax errors as diagnostics.

One of the two modules that import Lark (the other is `rules.lower`). The grammar, `grammar/policy.lark`,
is read and turned into an LALR parser once per process. Lark stops at the first syntax error of an
expression; since each condition, message and fix of a policy is parsed on its own, a policy with several
broken rules still gets one diagnostic per broken rule.
"""

from __future__ import annotations

import functools
from collections import OrderedDict

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from payerpolicy.diagnostics import Diagnostic, did_you_mean
from payerpolicy.diagnostics import TextOrigin
from payerpolicy._resources import grammar_file

# What each kind of token is called in an error message.
_TOKEN_WORDS = {
    "CODE": "a code",
    "CODE_RANGE": "a code range",
    "DATE": "a date",
    "NUMBER": "a number",
    "INT": "a number",
    "NAME": "a name",
    "SET_NAME": "a code set such as `@timed`",
    "COMPARATOR": "a comparison (`=`, `!=`, `<`, `<=`, `>`, `>=`)",
    "STRING": "quoted text",
    "$END": "the end of the text",
}

START_SYMBOLS = {"condition": "start", "value": "value_start", "fix": "fix_start"}

# How deeply a condition, value or fix may nest (`not not ...`, `a + b + c ...`, `another line with (another
# line with ...)`, parentheses). Each level becomes nested Python in the generated program, which CPython
# refuses past about 200 parentheses, and lowering, checking and writing walk it recursively. The shipped
# policies nest at most 16 deep. A chain of one `and` or one `or` (`a and b and c ...`) is one level however
# long: it is lowered and written flat.
MAX_DEPTH = 50
_CHAINS = ("and_", "or_")


# Trees of texts parsed before, for a process that loads the same policy again and again: the language server
# reloads a policy folder (and its base) after each edit, and all but the edited conditions are the same text
# as last time. Off unless `remember` is called; only trees that parsed are kept (a syntax error's diagnostic
# names its file and line, which a remembered answer would not). Lark trees are never changed after parsing.
_remembered: OrderedDict[tuple[str, str], Tree] = OrderedDict()
_limit = 0


def remember(limit: int) -> None:
    """Keep the trees of up to `limit` texts parsed, the least recently used dropped first (0: keep none)."""
    global _limit
    _limit = limit
    while len(_remembered) > limit:
        _remembered.popitem(last=False)


@functools.lru_cache(maxsize=1)
def parser() -> Lark:
    # The basic lexer reads a whole word before deciding it is a keyword, so `andd` is one unknown word
    # (and gets "did you mean `and`?") instead of the keyword `and` followed by a stray `d`.
    return Lark(
        grammar_file().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="basic",
        start=list(START_SYMBOLS.values()),
        propagate_positions=True,
        maybe_placeholders=False,
    )


@functools.lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    return frozenset(
        t.pattern.value for t in parser().terminals if t.pattern.type == "str" and t.pattern.value.isalpha()
    )


def parse(text: str, kind: str, origin: TextOrigin, diagnostics: list[Diagnostic]) -> Tree | None:
    """Parse `text` as a `condition`, `value` or `fix`; on a syntax error add a diagnostic, return None."""
    if _limit:
        known = _remembered.get((text, kind))
        if known is not None:
            _remembered.move_to_end((text, kind))
            return known
    try:
        tree = parser().parse(text, start=START_SYMBOLS[kind])
    except UnexpectedInput as exc:
        diagnostics.append(_syntax_diagnostic(exc, text, kind, origin))
        return None
    deepest = too_deep(tree)
    if deepest is not None:
        start = deepest.meta.start_pos if not getattr(deepest.meta, "empty", True) else 0
        end = deepest.meta.end_pos if not getattr(deepest.meta, "empty", True) else len(text)
        diagnostics.append(
            Diagnostic(
                "E306",
                f"this {kind} is nested more than {MAX_DEPTH} levels deep",
                origin.span(start, end),
                "write it as several rules, or name the codes in a code set; a chain of `and` (or of `or`) is "
                "fine at any length",
            )
        )
        return None
    if _limit:
        _remembered[(text, kind)] = tree
        if len(_remembered) > _limit:
            _remembered.popitem(last=False)
    return tree


def too_deep(tree: Tree) -> Tree | None:
    """The first subtree found more than `MAX_DEPTH` levels down (chains of one `and` or `or` counting as one
    level), or None. Walked with a stack of its own: the tree may be far deeper than Python's recursion."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return node
        for kid in node.children:
            if isinstance(kid, Tree):
                same_chain = kid.data == node.data and kid.data in _CHAINS
                stack.append((kid, depth if same_chain else depth + 1))
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
    if len(words) > 12:
        words = words[:12] + ["..."]
    return ", ".join(words) if len(words) < 2 else ", ".join(words[:-1]) + " or " + words[-1]


_SYMBOL_HINTS = {
    "&": "write `and` to join conditions",
    "|": "write `or` for either condition",
    "'": "put text in double quotes",
    "!": "write `!=` for not equal, or `not` before a condition",
    "=": "write `=` once to compare",
}


def _accepted(exc: UnexpectedInput) -> set[str]:
    """The tokens that could really stand where the error is (Lark's `expected` set is wider under LALR)."""
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is not None:
        try:
            return set(interactive.accepts()) - {"$END"} or set(getattr(exc, "expected", ()))
        except Exception:  # accepts() replays the parser; fall back to the wider set if it cannot
            pass
    return set(getattr(exc, "expected", ()) or ())


def _syntax_diagnostic(exc: UnexpectedInput, text: str, kind: str, origin: TextOrigin) -> Diagnostic:
    what = {"condition": "condition", "value": "value", "fix": "fix"}[kind]
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0  # Lark types it optional; the lexer always sets it
        bad = text[pos]
        return Diagnostic(
            "E301", f"this {what} cannot contain `{bad}` here", origin.span(pos, pos + 1), _SYMBOL_HINTS.get(bad)
        )
    accepted = _accepted(exc)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        body = text.rstrip()
        word_start = len(body) - len(body.split()[-1]) if body.split() else 0
        return Diagnostic(
            "E302",
            f"this {what} stops too soon",
            origin.span(word_start, len(body)),
            f"expected {_expected(accepted)} after it",
        )
    assert isinstance(exc, UnexpectedToken)
    token: Token = exc.token
    start = token.start_pos or 0
    span = origin.span(start, start + len(str(token)))
    word = str(token)
    hint = None
    if word.isalpha():
        if word.lower() in keywords() and word != word.lower():
            hint = f"keywords are lower case: write `{word.lower()}`"
        else:
            # Suggest a keyword that could stand here, so `adn` becomes `and` rather than `any`.
            allowed = [w.strip("`") for w in map(_describe, accepted) if w.startswith("`")]
            hint = did_you_mean(word, [w for w in allowed if w.isalpha()])
    elif word in _SYMBOL_HINTS and token.type == "COMPARATOR" and text[start - 1 : start] in "=<>!":
        hint = _SYMBOL_HINTS["="]
    if hint is None:
        hint = f"expected {_expected(accepted)}"
    return Diagnostic("E303", f"unexpected `{token}` in this {what}", span, hint)
