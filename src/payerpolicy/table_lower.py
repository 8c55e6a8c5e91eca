"""Tables to rules: each row of a table family becomes a `RuleSpec` with an ordinary condition.

The four table families (unit caps, modifier requirements, code pairs, evaluation pairing) are a compact
way to write rules a billing team keeps in rows. They have no evaluator of their own: each row is written
here as the condition a policy author could have typed in the rule language, so there is one way to run a
rule. The conditions, in the rule language:

    unit cap (codes C, max N)
        when:  total units of lines with code in C earlier that day + units > N
        fix:   set units to max(0, N - total units of lines with code in C earlier that day)
    modifier requirement (codes C, require M)
        when:  [the row's when, and] has no modifier in M
        fix:   add modifier M
    code pair (column 1 A, column 2 B, indicator 1, bypass P), on the column-2 line
        when:  another line with code in A that day and has no modifier in P     (indicator 0: no modifier clause;
                                                                                  indicator 9: the edit is off)
    evaluation pairing
        at most N per day:     number of lines with code in E earlier that day >= N
        with treatments T:     another line with code in T that day and has no modifier in M   (on the line named
                               by modifier_on)
"""
from __future__ import annotations

from . import rule_ast as ast
from .diagnostics import Span

_CODE = ast.Field("focus", ("code",))
_UNITS = ast.Field("focus", ("units",))
_LINE_CODE = ast.Field("line", ("code",))  # `{line.code}` in a message


def _parts(*pieces) -> tuple:
    """A message as template parts: text, and the values (syntax trees) shown in its holes. Written as parts
    rather than as text to lower, so that a table of thousands of rows costs no parsing."""
    out: list = []
    for piece in pieces:
        if isinstance(piece, str) and out and isinstance(out[-1], str):
            out[-1] += piece
        elif piece != "":
            out.append(piece)
    return tuple(out)


def code_in(codes) -> ast.InSet:
    return ast.InSet(_CODE, codes, span=codes.span)


def set_text(codes, code_sets: dict) -> str:
    """Codes for a message: a set's own entries ("97161-97163"), not its @name."""
    if isinstance(codes, ast.SetRef):
        spec = code_sets.get(codes.name)
        return ", ".join(spec.entries) if spec else "@" + codes.name
    if isinstance(codes, ast.CodeRange):
        return f"{codes.low}-{codes.high}"
    parts = []
    for item in codes.items:
        parts.append(set_text(item, code_sets) if isinstance(item, (ast.SetRef, ast.CodeRange)) else item.text)
    return ", ".join(parts)


def first_modifier(modifiers) -> str | None:
    if isinstance(modifiers, ast.SetList) and modifiers.items and isinstance(modifiers.items[0], ast.Literal):
        return modifiers.items[0].text.upper()
    return None


def unit_cap(codes, limit: int, span: Span) -> tuple:
    """(condition, fix, default message) of a daily unit cap."""
    n = ast.Literal("number", limit, str(limit), span)
    earlier = ast.DayLines("units", code_in(codes), "earlier", span)
    condition = ast.Compare(">", ast.Arithmetic("+", earlier, _UNITS, span), n, span)
    room = ast.Call("max", (ast.Literal("number", 0, "0", span), ast.Arithmetic("-", n, earlier, span)), span)
    fix = ast.Fix("set_units", units=room, span=span)

    def message(code_sets: dict) -> tuple:
        several = not (isinstance(codes, ast.SetList) and len(codes.items) == 1 and
                       isinstance(codes.items[0], ast.Literal))
        together = f" ({set_text(codes, code_sets)} together)" if several else ""
        return _parts(_LINE_CODE, f" is limited to {limit} unit{'s' if limit != 1 else ''} per patient per day"
                      f"{together}; this line brings the day to ", ast.Arithmetic("+", earlier, _UNITS, span))
    return condition, fix, message


def modifier_requirement(codes, required, when, span: Span) -> tuple:
    lacking = ast.HasModifier(required, negated=True, span=required.span)
    condition = ast.AllOf((when, lacking), span) if when is not None else lacking
    single = first_modifier(required) if isinstance(required, ast.SetList) and len(required.items) == 1 else None
    fix = ast.Fix("add_modifier", modifier=single, span=span) if single else ast.Fix(
        "review", note="add the modifier that fits the service", span=span)

    def message(code_sets: dict) -> tuple:
        if single:
            return _parts(_LINE_CODE, f" needs modifier {single}")
        return _parts(_LINE_CODE, f" needs one of the modifiers {set_text(required, code_sets)}")
    return condition, fix, message


def code_pair(column1, column2, indicator: int, bypass, span: Span) -> tuple | None:
    if indicator == 9:
        return None  # the edit is deleted: it never applies
    other = ast.AnotherLine(code_in(column1), "day", span)
    if indicator == 0:
        condition, fix = other, ast.Fix("remove_line", span=span)
    else:
        condition = ast.AllOf((other, ast.HasModifier(bypass, negated=True, span=span)), span)
        fix = ast.Fix("add_modifier", modifier="59", span=span)

    def message(code_sets: dict) -> tuple:
        if indicator == 1:
            shown = set_text(bypass, code_sets)
            if shown.count(",") > 5:
                shown = "59 or an X modifier (XE, XS, XP, XU)"
            tail = f"; a bypass modifier ({shown}) is accepted only when the services were truly separate"
        else:
            tail = "; no modifier overrides this pair"
        return _parts(_LINE_CODE, f" is not paid on the same day as {set_text(column1, code_sets)} "
                      "for the same patient (code pair edit, ", _LINE_CODE, " in column 2)" + tail)
    return condition, fix, message


def evaluation_limit(evaluations, limit: int, span: Span) -> tuple:
    n = ast.Literal("number", limit, str(limit), span)
    earlier = ast.DayLines("count", code_in(evaluations), "earlier", span)
    condition = ast.Compare(">=", earlier, n, span)
    fix = ast.Fix("remove_line", span=span)

    def message(code_sets: dict) -> tuple:
        return _parts(f"only {limit} evaluation{'s' if limit != 1 else ''} or re-evaluation"
                      f"{'s' if limit != 1 else ''} ({set_text(evaluations, code_sets)}) per patient per day; ",
                      _LINE_CODE, " is one too many")
    return condition, fix, message


def evaluation_pairing(evaluations, treatments, modifier_on: str, modifiers, span: Span) -> tuple:
    judged, other = (treatments, evaluations) if modifier_on == "treatment" else (evaluations, treatments)
    condition = ast.AllOf((ast.AnotherLine(code_in(other), "day", span),
                           ast.HasModifier(modifiers, negated=True, span=span)), span)
    fix = ast.Fix("add_modifier", modifier=first_modifier(modifiers) or "59", span=span)

    def message(code_sets: dict) -> tuple:
        return _parts(_LINE_CODE, f" billed on the same day as {set_text(other, code_sets)} needs a "
                      f"distinct-service modifier ({set_text(modifiers, code_sets)}) on ", _LINE_CODE)
    return judged, condition, fix, message
