"""Stage 4, lower: Lark's tree to our own syntax tree (`rules.ast`), with a span on every node.

After this stage nothing in the package sees Lark. Lowering also settles what the grammar leaves open:
an upper-case word is a constant (PT, GP), `claim.x` and `patient.x` are fields of the claim, any other
name is a field of the line in focus; dates are real calendar dates.
"""

from __future__ import annotations

import datetime
import re

from lark import Token, Tree

from payerpolicy.rules import ast
from payerpolicy.diagnostics import Diagnostic
from payerpolicy.diagnostics import TextOrigin
from payerpolicy.rules.parse import parse

_SYMBOL = re.compile(r"^[A-Z][A-Z0-9]*$")
_SUBJECTS = {"claim", "patient"}


class _Lowering:
    def __init__(self, origin: TextOrigin, diagnostics: list[Diagnostic], offset: int = 0):
        self.origin = origin
        self.diagnostics = diagnostics
        self.offset = offset  # where the parsed text starts inside the origin's text (message holes)

    # -------------------------------------------------------------- spans
    def span_of(self, item):
        if isinstance(item, Token):
            start, end = item.start_pos, item.end_pos
        else:
            if getattr(item.meta, "empty", True):
                return None
            start, end = item.meta.start_pos, item.meta.end_pos
        return self.origin.span(start + self.offset, end + self.offset)

    # -------------------------------------------------------------- conditions
    def condition(self, tree: Tree) -> ast.Condition:
        kind, kids, span = tree.data, tree.children, self.span_of(tree)
        match kind:
            case "start":
                return self.condition(kids[0])
            case "or_":
                return ast.AnyOf(self._flatten(tree, "or_"), span=span)
            case "and_":
                return ast.AllOf(self._flatten(tree, "and_"), span=span)
            case "not_":
                return ast.Not(self.condition(kids[0]), span=span)
            case "compare":
                return ast.Compare(str(kids[1]), self.value(kids[0]), self.value(kids[2]), span=span)
            case "in_set" | "not_in_set":
                return ast.InSet(self.value(kids[0]), self.set_expr(kids[1]), kind == "not_in_set", None, span=span)
            case "any_of_in" | "none_of_in":
                quantifier = "any" if kind == "any_of_in" else "none"
                return ast.InSet(self.value(kids[0]), self.set_expr(kids[1]), False, quantifier, span=span)
            case "is_missing" | "is_present":
                return ast.IsMissing(self.value(kids[0]), kind == "is_present", span=span)
            case "has_modifier" | "lacks_modifier":
                item = self.modifier(kids[0])
                return ast.HasModifier(ast.SetList((item,), span=item.span), kind == "lacks_modifier", span=span)
            case "has_any_modifier" | "has_no_modifier":
                return ast.HasModifier(_as_modifiers(self.set_expr(kids[0])), kind == "has_no_modifier", span=span)
            case "another_line":
                filt, scope = self._filter_and_scope(kids)
                return ast.AnotherLine(filt, scope, span=span)
        raise AssertionError(f"condition node {kind} has no lowering")

    def _flatten(self, tree: Tree, kind: str) -> tuple:
        """The items of a chain `a and b and c ...` (Lark nests it one level per `and`), in order, walked
        with a stack of its own: a chain of a thousand terms is as good as one of two."""
        items = []
        stack = [tree]
        while stack:
            node = stack.pop()
            if isinstance(node, Tree) and node.data == kind:
                stack.extend(reversed(node.children))
            else:
                items.append(self.condition(node))
        return tuple(items)

    def _filter_and_scope(self, kids):
        filt = None
        for kid in kids:
            if isinstance(kid, Tree) and kid.data == "line_filter":
                filt = self.condition(kid.children[0])
        scope = {
            "whole_day": "day",
            "earlier_that_day": "earlier",
            "whole_year": "year",
            "earlier_that_year": "earlier_year",
            "on_record": "record",
            "earlier_on_record": "earlier_record",
        }[kids[-1].data]
        return filt, scope

    # -------------------------------------------------------------- values
    def value(self, tree) -> ast.Value:
        if isinstance(tree, Token):
            return self.literal(tree)
        kind, kids, span = tree.data, tree.children, self.span_of(tree)
        match kind:
            case "value_start":
                return self.value(kids[0])
            case "add" | "subtract" | "multiply":
                op = {"add": "+", "subtract": "-", "multiply": "*"}[kind]
                return ast.Arithmetic(op, self.value(kids[0]), self.value(kids[1]), span=span)
            case "code" | "date" | "number" | "text":
                return self.literal(kids[0])
            case "judged_line_field":
                return ast.Field("line", tuple(str(k) for k in kids), span=span)
            case "name_path":
                names = [str(k) for k in kids]
                if len(names) == 1 and _SYMBOL.match(names[0]):
                    return ast.Literal("symbol", names[0], names[0], span=span)
                if names[0] in _SUBJECTS:
                    return ast.Field(names[0], tuple(names[1:]), span=span)
                return ast.Field("focus", tuple(names), span=span)
            case "call":
                name = kids[0]
                args = tuple(self.value(k) for k in kids[1:])
                return ast.Call(str(name), args, span=span)
            case "count_lines" | "count_days" | "count_claims":
                filt, scope = self._filter_and_scope(kids)
                measure = {"count_lines": "count", "count_days": "days", "count_claims": "claims"}[kind]
                return ast.DayLines(measure, filt, scope, span=span)
            case "total_of_lines":
                filt, scope = self._filter_and_scope(kids[1:])
                return ast.DayLines(str(kids[0]), filt, scope, span=span)
            case "earliest_of_lines" | "latest_of_lines":  # the checker makes sure the field is `date`
                filt, scope = self._filter_and_scope(kids[1:])
                return ast.DayLines(f"{kind.split('_')[0]} {kids[0]}", filt, scope, span=span)
        raise AssertionError(f"value node {kind} has no lowering")

    def literal(self, token: Token):
        text, span = str(token), self.span_of(token)
        match token.type:
            case "CODE":
                return ast.Literal("code", text, text, span=span)
            case "CODE_RANGE":
                low, high = text.split("-")
                return ast.CodeRange(low, high, span=span)
            case "DATE":
                try:
                    return ast.Literal("date", datetime.date.fromisoformat(text), text, span=span)
                except ValueError:
                    self.diagnostics.append(
                        Diagnostic("E304", f"`{text}` is not a real date", span, "dates are written YYYY-MM-DD")
                    )
                    return ast.Literal("date", None, text, span=span)
            case "NUMBER":
                return ast.Literal("number", float(text), text, span=span)
            case "INT":
                return ast.Literal("number", int(text), text, span=span)
            case "STRING":
                return ast.Literal("text", text[1:-1], text, span=span)
            case "NAME":
                return ast.Literal("symbol", text, text, span=span)
            case "SET_NAME":
                return ast.SetRef(text[1:], span=span)
        raise AssertionError(f"token {token.type} has no lowering")

    def modifier(self, tree: Tree) -> ast.Literal:
        token = tree.children[0]
        return ast.Literal("symbol", str(token).upper(), str(token), span=self.span_of(token))

    def set_expr(self, tree: Tree) -> ast.SetExpr:
        span = self.span_of(tree)
        match tree.data:
            case "set_ref":
                return ast.SetRef(str(tree.children[0])[1:], span=span)
            case "code_range":
                return self.literal(_token(tree.children[0]))
            case "set_list":
                return ast.SetList(tuple(self.literal(_token(item.children[0])) for item in tree.children), span=span)
        raise AssertionError(f"set node {tree.data} has no lowering")

    # -------------------------------------------------------------- fixes
    def fix(self, tree: Tree) -> ast.Fix:
        kind, kids, span = tree.data, tree.children, self.span_of(tree)
        if kind == "fix_start":
            return self.fix(kids[0])
        match kind:
            case "add_modifier" | "remove_modifier":
                token = _token(kids[0].children[0])
                return ast.Fix(kind, modifier=str(token).upper(), span=span, modifier_span=self.span_of(token))
            case "set_units":
                if str(kids[0]) != "units":
                    self.diagnostics.append(
                        Diagnostic(
                            "E303",
                            f"unexpected `{kids[0]}` in this fix",
                            self.span_of(kids[0]),
                            "write `set units to ...`",
                        )
                    )
                return ast.Fix("set_units", units=self.value(kids[1]), span=span)
            case "remove_line" | "split_line":
                return ast.Fix(kind, span=span)
            case "merge_line":
                return ast.Fix("merge_lines", span=span)
            case "review":
                note = str(kids[0])[1:-1] if kids else None
                return ast.Fix("review", note=note, span=span)
        raise AssertionError(f"fix node {kind} has no lowering")


def _token(node: Token | Tree) -> Token:
    """The token the grammar puts at this place (a set item, a modifier): a tree here is a grammar change."""
    if not isinstance(node, Token):
        raise AssertionError(f"expected a token, the grammar gave {node.data}")
    return node


def _as_modifiers(set_expr):
    """In a list of modifiers, 59 is the modifier `59`, not the number: make every item a modifier name."""
    if not isinstance(set_expr, ast.SetList):
        return set_expr
    items = tuple(
        ast.Literal("symbol", i.text.upper(), i.text, span=i.span) if isinstance(i, ast.Literal) else i
        for i in set_expr.items
    )
    return ast.SetList(items, span=set_expr.span)


def lower_condition(text: str, origin: TextOrigin, diagnostics: list[Diagnostic]) -> ast.Condition | None:
    tree = parse(text, "condition", origin, diagnostics)
    return _Lowering(origin, diagnostics).condition(tree) if tree is not None else None


def lower_fix(text: str, origin: TextOrigin, diagnostics: list[Diagnostic]) -> ast.Fix | None:
    tree = parse(text, "fix", origin, diagnostics)
    return _Lowering(origin, diagnostics).fix(tree) if tree is not None else None


def lower_value(text: str, origin: TextOrigin, diagnostics: list[Diagnostic], offset: int = 0):
    shifted = TextOrigin(origin.file, origin.positions[offset:]) if offset else origin
    tree = parse(text, "value", shifted, diagnostics)
    return _Lowering(shifted, diagnostics).value(tree) if tree is not None else None


def lower_template(text: str, origin: TextOrigin, diagnostics: list[Diagnostic]) -> ast.Template:
    """A message with `{value}` holes; `{{` and `}}` stand for plain braces."""
    parts: list = []
    plain: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "{}" and text[i : i + 2] in ("{{", "}}"):
            plain.append(ch)
            i += 2
            continue
        if ch == "}":
            diagnostics.append(
                Diagnostic("E305", "this `}` closes nothing", origin.span(i, i + 1), "write `}}` for a plain brace")
            )
            i += 1
            continue
        if ch != "{":
            plain.append(ch)
            i += 1
            continue
        close = text.find("}", i + 1)
        if close < 0:
            diagnostics.append(
                Diagnostic(
                    "E305",
                    "this `{` is never closed",
                    origin.span(i, i + 1),
                    "a message hole is written `{units}`; write `{{` for a plain brace",
                )
            )
            break
        if plain:
            parts.append("".join(plain))
            plain = []
        value = lower_value(text[i + 1 : close], origin, diagnostics, offset=i + 1)
        if value is not None:
            parts.append(value)
        i = close + 1
    if plain:
        parts.append("".join(plain))
    return ast.Template(tuple(parts), span=origin.span(0, len(text)))
