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
        with the policy's pair settings (`PairBypass`), the other line's part of the bypass goes in its filter:
               another line with code in A
                   and not (date >= F and any of modifiers in E)                  (E on either line, from F)
                   and not (any of modifiers in S and any of line.modifiers in S
                            and any of modifier_difference(modifiers, line.modifiers) in S)   (different sites)
               that day and has no modifier in P
        and with codes I on whose lines E does not count (E/M codes), `code not in I and` goes before
        `any of modifiers in E`, and `has no modifier in P` becomes
               (has no modifier in P or (code in I and has no modifier in K))            (K: P less E)
    evaluation pairing
        at most N per day:     number of lines with code in E earlier that day >= N
        with treatments T:     a code pair whose column-2 line is the one named by modifier_on (the line the
                               modifier goes on, and the one denied), column 1 the other, bypass M
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from payerpolicy.rules import ast
from payerpolicy.diagnostics import Span

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
    n = ast.Literal("number", limit, str(limit), span=span)
    earlier = ast.DayLines("units", code_in(codes), "earlier", span=span)
    # One node for the day's units in the condition and the message: the code writer writes it once.
    brought = ast.Arithmetic("+", earlier, _UNITS, span=span)
    condition = ast.Compare(">", brought, n, span=span)
    room = ast.Call(
        "max", (ast.Literal("number", 0, "0", span=span), ast.Arithmetic("-", n, earlier, span=span)), span=span
    )
    fix = ast.Fix("set_units", units=room, span=span)

    def message(code_sets: dict) -> tuple:
        several = not (
            isinstance(codes, ast.SetList) and len(codes.items) == 1 and isinstance(codes.items[0], ast.Literal)
        )
        together = f" ({set_text(codes, code_sets)} together)" if several else ""
        return _parts(
            _LINE_CODE,
            f" is limited to {limit} unit{'s' if limit != 1 else ''} per patient per day"
            f"{together}; this line brings the day to ",
            brought,
        )

    return condition, fix, message


def modifier_requirement(codes, required, when, span: Span) -> tuple:
    lacking = ast.HasModifier(required, negated=True, span=required.span)
    condition = ast.AllOf((when, lacking), span=span) if when is not None else lacking
    single = first_modifier(required) if isinstance(required, ast.SetList) and len(required.items) == 1 else None
    fix = (
        ast.Fix("add_modifier", modifier=single, span=span)
        if single
        else ast.Fix("review", note="add the modifier that fits the service", span=span)
    )

    def message(code_sets: dict) -> tuple:
        if single:
            return _parts(_LINE_CODE, f" needs modifier {single}")
        return _parts(_LINE_CODE, f" needs one of the modifiers {set_text(required, code_sets)}")

    return condition, fix, message


@dataclass(frozen=True)
class PairBypass:
    """How a code pair edit with modifier indicator 1 is lifted, beyond a bypass modifier on the column-2 line
    (policy settings, or a row's own keys):

    - `either`: modifiers that lift the edit on either line, column 1 or column 2 (CMS: a distinct-service
      modifier, for professional claims with dates of service from 2019-07-01), from the date `either_from`
      (None: always);
    - `sites`: site (anatomic) modifiers, which lift it only when both lines show a site and the sites differ
      (LT on one line and RT on the other; not LT on both, nor a site on one line only). They belong in this
      set and not in the column-2 bypass set, where one would lift the edit whatever the other line shows.
    """

    either: ast.SetExpr | None = None  # modifiers
    either_from: datetime.date | None = None
    sites: ast.SetExpr | None = None  # modifiers
    # Codes on whose lines the `either` modifiers do not count, on either line (MACs ignore 59/X on an E/M
    # code), and the column-2 bypass modifiers that still count there (the bypass set less `either`).
    ignored_on: ast.SetExpr | None = None  # codes
    bypass_kept: ast.SetExpr | None = None  # modifiers, given with ignored_on


NO_PAIR_BYPASS = PairBypass()
# The fix of a pair whose column-2 line is of a code on which the either-line modifiers do not count.
IGNORED_CODE_FIX = (
    "59 and the X modifiers do not lift this pair on this code: add another bypass modifier if "
    "one fits the service (25 for a separately identifiable E/M service), or remove the line"
)


def _other_line_bypass(settings: PairBypass, span: Span) -> list:
    """Conditions on the column-1 line (the other line, in focus in a `with` filter) that keep it from
    making a pair with the judged line: each is negated in the filter."""
    other_modifiers = ast.Field("focus", ("modifiers",), span=span)
    kept = []
    if settings.either is not None:
        has_either: ast.Condition = ast.InSet(other_modifiers, settings.either, quantifier="any", span=span)
        if settings.ignored_on is not None:
            has_either = ast.AllOf(
                (ast.InSet(_CODE, settings.ignored_on, negated=True, span=span), has_either), span=span
            )
        if settings.either_from is not None:
            start = ast.Literal("date", settings.either_from, settings.either_from.isoformat(), span=span)
            has_either = ast.AllOf(
                (ast.Compare(">=", ast.Field("focus", ("date",), span=span), start, span=span), has_either), span=span
            )
        kept.append(ast.Not(has_either, span=span))
    if settings.sites is not None:
        judged_modifiers = ast.Field("line", ("modifiers",), span=span)
        difference = ast.Call("modifier_difference", (other_modifiers, judged_modifiers), span=span)
        different_sites = ast.AllOf(
            (
                ast.InSet(other_modifiers, settings.sites, quantifier="any", span=span),
                ast.InSet(judged_modifiers, settings.sites, quantifier="any", span=span),
                ast.InSet(difference, settings.sites, quantifier="any", span=span),
            ),
            span=span,
        )
        kept.append(ast.Not(different_sites, span=span))
    return kept


def _pair_condition(column1, indicator: int, bypass, settings: PairBypass, span: Span):
    """The condition of a code pair on its column-2 line (see the module's docstring)."""
    if indicator == 0:
        return ast.AnotherLine(code_in(column1), "day", span=span)
    other_line = _other_line_bypass(settings, span)
    pairing = ast.AllOf((code_in(column1), *other_line), span=span) if other_line else code_in(column1)
    not_lifted_here: ast.Condition = ast.HasModifier(bypass, negated=True, span=span)
    if settings.ignored_on is not None and settings.either is not None and settings.bypass_kept is not None:
        # On a line of an ignored code only the bypass modifiers outside `either` count.
        not_lifted_here = ast.AnyOf(
            (
                not_lifted_here,
                ast.AllOf(
                    (
                        ast.InSet(_CODE, settings.ignored_on, span=span),
                        ast.HasModifier(settings.bypass_kept, negated=True, span=span),
                    ),
                    span=span,
                ),
            ),
            span=span,
        )
    return ast.AllOf((ast.AnotherLine(pairing, "day", span=span), not_lifted_here), span=span)


def _modifier_entries(modifiers, code_sets: dict) -> list[str]:
    """A modifier set's entries in order (a @name's own), for messages."""
    return [entry.strip() for entry in set_text(modifiers, code_sets).split(",") if entry.strip()]


def bypass_words(bypass, settings: PairBypass, code_sets: dict) -> str:
    """Which modifiers lift an indicator-1 pair, and on which line, for a finding's message."""
    if settings.either is None and settings.sites is None:
        shown = set_text(bypass, code_sets)
        if shown.count(",") > 5:
            shown = "59 or an X modifier (XE, XS, XP, XU)"
        return f"a bypass modifier ({shown}) is accepted only when the services were truly separate"
    ways = []
    own = _modifier_entries(bypass, code_sets)
    if settings.either is not None:
        either = _modifier_entries(settings.either, code_sets)
        before = f" (before {settings.either_from.isoformat()}: on this line only)" if settings.either_from else ""
        never = f" (never on {set_text(settings.ignored_on, code_sets)})" if settings.ignored_on is not None else ""
        ways.append(f"{', '.join(either)} on either line{before}{never}")
        own = [m for m in own if m not in either]
    if own:
        ways.append(
            f"{'another ' if settings.either is not None else 'a '}bypass modifier ({', '.join(own)}) on this line"
        )
    if settings.sites is not None:
        ways.append("site modifiers showing different sites on the two lines (LT on one, RT on the other)")
    listed = ways[0] if len(ways) == 1 else ", ".join(ways[:-1]) + " or " + ways[-1]
    return f"{listed}, is accepted only when the services were truly separate"


def code_pair(
    column1,
    column2,
    indicator: int,
    bypass,
    span: Span,
    settings: PairBypass = NO_PAIR_BYPASS,
    column2_ignored: bool = False,
) -> tuple | None:
    """`column2_ignored`: the column-2 codes are all codes on which the either-line modifiers do not count."""
    if indicator == 9:
        return None  # the edit is deleted: it never applies
    condition = _pair_condition(column1, indicator, bypass, settings, span)
    if indicator == 0:
        fix = ast.Fix("remove_line", span=span)
    elif column2_ignored:
        fix = ast.Fix("review", note=IGNORED_CODE_FIX, span=span)
    else:
        fix = ast.Fix("add_modifier", modifier="59", span=span)

    def message(code_sets: dict) -> tuple:
        if indicator == 1:
            tail = "; " + bypass_words(bypass, settings, code_sets)
        else:
            tail = "; no modifier overrides this pair"
        return _parts(
            _LINE_CODE,
            f" is not paid on the same day as {set_text(column1, code_sets)} for the same patient (code pair edit, ",
            _LINE_CODE,
            " in column 2)" + tail,
        )

    return condition, fix, message


def evaluation_limit(evaluations, limit: int, span: Span) -> tuple:
    n = ast.Literal("number", limit, str(limit), span=span)
    earlier = ast.DayLines("count", code_in(evaluations), "earlier", span=span)
    condition = ast.Compare(">=", earlier, n, span=span)
    fix = ast.Fix("remove_line", span=span)

    def message(code_sets: dict) -> tuple:
        return _parts(
            f"only {limit} evaluation{'s' if limit != 1 else ''} or re-evaluation"
            f"{'s' if limit != 1 else ''} ({set_text(evaluations, code_sets)}) per patient per day; ",
            _LINE_CODE,
            " is one too many",
        )

    return condition, fix, message


def evaluation_pairing(
    evaluations, treatments, modifier_on: str, modifiers, span: Span, settings: PairBypass = NO_PAIR_BYPASS
) -> tuple:
    """An evaluation billed with a treatment is a code pair: the line named by `modifier_on` is column 2 (the
    line the modifier goes on, and the only one denied), the other column 1."""
    judged, other = (treatments, evaluations) if modifier_on == "treatment" else (evaluations, treatments)
    condition = _pair_condition(other, 1, modifiers, settings, span)
    fix = ast.Fix("add_modifier", modifier=first_modifier(modifiers) or "59", span=span)

    def message(code_sets: dict) -> tuple:
        text = (
            f" billed on the same day as {set_text(other, code_sets)} needs a distinct-service modifier "
            f"({set_text(modifiers, code_sets)}) on "
        )
        if settings.either is None:
            return _parts(_LINE_CODE, text, _LINE_CODE)
        others = set_text(other, code_sets)
        if "," in others or "-" in others:  # several codes: any one of them billed that day makes the pair
            text = text.replace(f" as {others} ", f" as one of {others} ", 1)
        when = f", for dates of service from {settings.either_from.isoformat()}," if settings.either_from else ""
        either = set_text(settings.either, code_sets)
        which = "" if either == set_text(modifiers, code_sets) else f" ({either})"
        return _parts(_LINE_CODE, text, _LINE_CODE, f" or{when} on the other line{which}")

    return judged, condition, fix, message
