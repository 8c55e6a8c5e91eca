"""Stage 5, check: the meaning of every rule, before any claim is judged.

Finds what the parser cannot: unknown fields and code sets, unknown functions, values of the wrong kind
(`units = GP`), malformed codes and modifiers in lists and code sets, and rules that can never fire (a rule
for 97112 whose condition asks for 97110, `units > 4 and units < 2`, an effective period that ends before it
starts). Each problem becomes a diagnostic; nothing is raised. A rule that checks clean is safe to compile.
"""

from __future__ import annotations

import datetime

from payerpolicy.rules import ast, fields
from payerpolicy.rules.builtins import BUILTINS
from payerpolicy.codes import CODE_RANGE, DIAGNOSIS, MODIFIER, PROCEDURE_CODE, PROVIDER_TYPES, entry_kinds, range_codes
from payerpolicy.diagnostics import Diagnostic, did_you_mean, known_names_help
from payerpolicy.policy.model import PolicySpec, RuleSpec

# The fields a rule may name (declared in rules.fields), by subject and path: their kinds.
LINE_FIELDS = {path: f.kind for path, f in fields.fields_of("line").items()}
CLAIM_FIELDS = {path: f.kind for path, f in fields.fields_of("claim").items()}
PATIENT_FIELDS = {path: f.kind for path, f in fields.fields_of("patient").items()}
_FIELDS = {"focus": LINE_FIELDS, "line": LINE_FIELDS, "claim": CLAIM_FIELDS, "patient": PATIENT_FIELDS}
_SUMMABLE = fields.SUMMABLE
# `earliest date of lines ...` / `latest date of lines ...`: a date, missing when no line is counted.
DATE_MEASURES = ("earliest date", "latest date")
_EARLIEST, _LATEST = datetime.date.min, datetime.date.max
_ORDERED = {"number", "date"}


def _dotted(path) -> str:
    return ".".join(path)


class RuleChecker:
    def __init__(self, policy: PolicySpec, diagnostics: list[Diagnostic]):
        self.policy = policy
        self.diagnostics = diagnostics
        self.set_kinds: dict[str, set[str] | None] = {}  # what each code set could hold

    def error(self, code: str, message: str, node, help: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, getattr(node, "span", None), help))

    # ------------------------------------------------------------------ code sets
    def check_code_sets(self) -> None:
        for spec in self.policy.code_sets.values():
            kinds: set[str] | None = None
            for entry, span in zip(spec.entries, spec.entry_spans or [spec.span] * len(spec.entries)):
                node = ast.Literal("text", entry, entry, span=span)
                possible = entry_kinds(entry)
                if not possible:
                    self.error(
                        "E407",
                        f"`{entry}` in code set `{spec.name}` is not a code, a code range, a "
                        "modifier, a diagnosis or a provider type",
                        node,
                        "codes have five characters (97112, G0283); ranges are written 97161-97163",
                    )
                    kinds = set()
                    continue
                if CODE_RANGE.match(entry):
                    expanded = range_codes(*entry.split("-"))
                    if isinstance(expanded, str):
                        self.error("E407", f"`{entry}` in code set `{spec.name}`: {expanded}", node)
                kinds = possible if kinds is None else kinds & possible
            if kinds is not None and not kinds and all(entry_kinds(e) for e in spec.entries):
                self.error(
                    "E407",
                    f"code set `{spec.name}` mixes kinds of entries (codes, modifiers, diagnoses)",
                    ast.Literal("text", spec.name, spec.name, span=spec.span),
                    "keep one kind of entry in each set",
                )
            self.set_kinds[spec.name] = kinds or None

    # ------------------------------------------------------------------ rules
    def check_rule(self, rule: RuleSpec) -> None:
        if rule.codes is not None:
            self.set_type(rule.codes, "code")
        elif not rule.every_code:
            self.diagnostics.append(
                Diagnostic(
                    "W501",
                    f"rule `{rule.id}` concerns every procedure code, so it is judged on every line",
                    rule.span,
                    "give it `codes:`, or start its `when` with `code in ...`, if it is about some codes",
                    severity="warning",
                )
            )
        self.condition(rule.condition, in_filter=False)
        if rule.message is not None:
            for part in rule.message.parts:
                if not isinstance(part, str):
                    self.value(part, in_filter=False)
        if rule.fix is not None:
            self.fix(rule.fix)
        self.never_fires(rule)

    def fix(self, fix: ast.Fix) -> None:
        if fix.modifier is not None and not MODIFIER.match(fix.modifier):
            where = ast.Literal("symbol", fix.modifier, fix.modifier, span=fix.modifier_span or fix.span)
            self.error("E406", f"`{fix.modifier}` is not a modifier", where, "modifiers are two characters: GP, 59, XU")
        if fix.units is not None:
            kind = self.value(fix.units, in_filter=False)
            if kind not in (None, "number"):
                self.error("E403", f"units must be set to a number, not {_kind_words(kind)}", fix.units)

    def condition(self, node, in_filter: bool) -> None:
        match node:
            case ast.AllOf(items) | ast.AnyOf(items):
                for item in items:
                    self.condition(item, in_filter)
            case ast.Not(item):
                self.condition(item, in_filter)
            case ast.Always() | ast.TableEdit():
                pass
            case ast.Compare(op, left, right):
                lk, rk = self.value(left, in_filter), self.value(right, in_filter)
                self.comparable(node, op, lk, rk, left, right)
            case ast.InSet(value, set_expr, _, quantifier):
                kind = self.value(value, in_filter)
                if kind is None:
                    return
                if quantifier is not None:
                    if not kind.startswith("list["):
                        self.error(
                            "E408",
                            f"`{quantifier} of` needs a list such as `line.diagnoses`, not {_kind_words(kind)}",
                            value,
                        )
                        return
                    kind = kind[5:-1]
                elif kind.startswith("list["):
                    self.error(
                        "E408",
                        f"`{_show(value)}` is a list; ask `any of {_show(value)} in ...` or "
                        f"`none of {_show(value)} in ...`",
                        value,
                    )
                    return
                self.set_type(set_expr, kind)
            case ast.IsMissing(value):
                self.value(value, in_filter)
            case ast.HasModifier(modifiers):
                self.set_type(modifiers, "modifier")
            case ast.PairEdit(bypass=bypass, either=either, sites=sites, ignored_on=ignored_on):
                for modifier_set in (bypass, either, sites):
                    if modifier_set is not None:
                        self.set_type(modifier_set, "modifier")
                if ignored_on is not None:
                    self.set_type(ignored_on, "code")
            case ast.AnotherLine(filt):
                if filt is not None:
                    self.condition(filt, in_filter=True)

    def comparable(self, node, op, lk, rk, left, right) -> None:
        if lk is None or rk is None:
            return
        for kind, other, lit in ((lk, rk, left), (rk, lk, right)):
            if kind == "symbol" and other in ("modifier", "provider_type", "text"):
                self.literal_fits(lit, other)
                return
        if lk != rk:
            self.error(
                "E403",
                f"`{_show(left)}` is {_kind_words(lk)} and `{_show(right)}` is "
                f"{_kind_words(rk)}: they cannot be compared",
                node,
                _compare_hint(lk, rk),
            )
        elif op not in ("=", "!=") and lk not in _ORDERED:
            self.error("E403", f"`{op}` compares numbers and dates, not {_kind_words(lk)}", node, "use `=` or `!=`")

    def value(self, node, in_filter: bool) -> str | None:
        """The kind of a value (code, number, date, ...), or None after an error already reported."""
        match node:
            case ast.Literal(kind="code", value=str() as code):
                if not PROCEDURE_CODE.match(code):
                    self.error("E406", f"`{code}` is not a procedure code", node)
                return "code"
            case ast.Literal(kind=kind, value=value):
                return None if kind == "date" and value is None else kind
            case ast.Field(subject, path):
                return self._field(node, subject, path)
            case ast.Call(function, args):
                return self._call(node, function, args, in_filter)
            case ast.Arithmetic(op, left, right):
                return self._arithmetic(op, left, right, in_filter)
            case ast.DayLines(measure, filt):
                return self._day_lines(node, measure, filt)
        return None

    def _field(self, node, subject: str, path: tuple) -> str | None:
        fields = _FIELDS[subject]
        if path in fields:
            return fields[path]
        prefix = "" if subject == "focus" else subject + "."
        names = [prefix + _dotted(p) for p in fields]
        written = prefix + _dotted(path)
        hint = did_you_mean(written, names)
        if (
            hint is None
            and subject == "focus"
            and len(path) == 1
            and (path[0].upper() in PROVIDER_TYPES or MODIFIER.match(path[0].upper()))
        ):
            hint = f"provider types and modifiers are written in capitals: `{path[0].upper()}`"
        self.error(
            "E401",
            f"unknown field `{written}`",
            node,
            hint or f"the fields are {', '.join(f'`{n}`' for n in names)}",
        )
        return None

    def _call(self, node, function: str, args, in_filter: bool) -> str | None:
        kinds = [self.value(a, in_filter) for a in args]
        builtin = BUILTINS.get(function)
        if builtin is None:
            self.error(
                "E404",
                f"unknown function `{function}`",
                node,
                did_you_mean(function, BUILTINS) or f"the functions are {', '.join(f'`{n}`' for n in BUILTINS)}",
            )
            return None
        if builtin.check is not None:  # a function with checks of its own (`value`)
            return builtin.check(self, node, args, kinds)
        return self.check_arguments(node, builtin, args, kinds)

    def _arithmetic(self, op: str, left, right, in_filter: bool) -> str:
        lk, rk = self.value(left, in_filter), self.value(right, in_filter)
        if lk == "date" and op in "+-" and rk in (None, "number"):
            return "date"  # a date moved by a number of days
        for side_kind, side in ((lk, left), (rk, right)):
            if side_kind is not None and side_kind != "number":
                self.error(
                    "E403",
                    f"`{op}` works on numbers, not {_kind_words(side_kind)}",
                    side,
                    "a date takes + or - a number of days: line.date - 30" if side_kind == "date" else None,
                )
        return "number"

    def _day_lines(self, node, measure: str, filt) -> str | None:
        if filt is not None:
            self.condition(filt, in_filter=True)
        if measure in DATE_MEASURES:
            return "date"
        if measure.startswith(("earliest ", "latest ")):
            self.error(
                "E401",
                f"`{measure.split()[0]}` takes the date of lines, not `{measure.split()[1]}`",
                node,
                f"{measure.split()[0]} date of lines ...",
            )
            return None
        if measure not in ("count", "days", "claims") and measure not in _SUMMABLE:
            self.error(
                "E401",
                f"cannot total `{measure}` over lines",
                node,
                did_you_mean(measure, _SUMMABLE) or "total units, minutes, charge or allowed",
            )
        return "number"

    def check_arguments(self, node, builtin, args, kinds) -> str:
        """A call's values: as many as the function takes, each of the kind it takes."""
        if len(args) != len(builtin.parameters):
            self.error(
                "E409", f"`{builtin.name}` takes {len(builtin.parameters)} value(s), not {len(args)}", node, builtin.doc
            )
            return builtin.result
        for arg, kind, wanted in zip(args, kinds, builtin.parameters):
            if kind == "symbol" and wanted in ("provider_type", "modifier"):
                self.literal_fits(arg, wanted)
            elif kind is not None and kind != wanted:
                self.error(
                    "E409",
                    f"`{builtin.name}` needs {_kind_words(wanted)} here, not {_kind_words(kind)}",
                    arg,
                    builtin.doc,
                )
        return builtin.result

    # ------------------------------------------------------------------ sets and literals
    def set_type(self, set_expr, kind: str) -> None:
        """Check that every member of a set is of `kind` (code, modifier, provider_type, ...)."""
        match set_expr:
            case ast.SetRef(name):
                if name not in self.policy.code_sets:
                    known = ["@" + n for n in self.policy.code_sets]
                    close = did_you_mean("@" + name, known)
                    if self.policy.incomplete and close is None:
                        return  # likely defined in the file that could not be read, which is reported
                    self.error(
                        "E402", f"unknown code set `@{name}`", set_expr, close or known_names_help("code sets", known)
                    )
                    return
                held = self.set_kinds.get(name)
                if held is not None and kind not in held:
                    self.error(
                        "E403",
                        f"code set `@{name}` holds {_kind_words(_pick_kind(held), plural=True)}, but "
                        f"{_kind_words(kind, plural=True)} are wanted here",
                        set_expr,
                    )
            case ast.CodeRange(low, high):
                if kind != "code":
                    self.error(
                        "E403", f"a code range stands where {_kind_words(kind, plural=True)} are wanted", set_expr
                    )
                elif isinstance(expanded := range_codes(low, high), str):
                    self.error("E407", expanded, set_expr)
            case ast.SetList(items):
                for item in items:
                    if isinstance(item, (ast.SetRef, ast.CodeRange)):
                        self.set_type(item, kind)
                    else:
                        self.literal_fits(item, kind)

    def literal_fits(self, lit, kind: str) -> None:
        if not isinstance(lit, ast.Literal):
            return
        text = lit.text.strip('"').upper()
        ok = {
            "code": PROCEDURE_CODE.match(text),
            "modifier": MODIFIER.match(text),
            "provider_type": text in PROVIDER_TYPES,
            "diagnosis": DIAGNOSIS.match(text),
            "number": lit.kind == "number",
            "date": lit.kind == "date",
            "text": lit.kind in ("text", "symbol"),
        }.get(kind, True)
        if not ok:
            hint = {
                "modifier": "modifiers are two characters: GP, 59, XU",
                "code": "codes have five characters: 97112, G0283",
                "provider_type": f"provider types are {', '.join(PROVIDER_TYPES)}",
            }.get(kind)
            if kind == "provider_type":
                hint = did_you_mean(text, PROVIDER_TYPES) or hint
            self.error("E406", f"`{lit.text}` is not {_kind_words(kind)}", lit, hint)

    # ------------------------------------------------------------------ rules that cannot fire
    def never_fires(self, rule: RuleSpec) -> None:
        def cannot(why: str, node) -> None:
            self.error("E405", f"rule `{rule.id}` can never fire: {why}", node, "fix the condition, or remove the rule")

        if rule.effective_from and rule.effective_to and rule.effective_to < rule.effective_from:
            cannot(f"its effective period ends ({rule.effective_to}) before it starts ({rule.effective_from})", rule)
        conjuncts = rule.condition.items if isinstance(rule.condition, ast.AllOf) else (rule.condition,)
        codes = self.expand(rule.codes)
        bounds: dict = {}
        has: dict[object, bool] = {}  # a modifier asked for: present (False) or absent (True)
        for item in conjuncts:
            if (
                isinstance(item, ast.Compare)
                and isinstance(item.left, ast.Literal)
                and isinstance(item.right, ast.Literal)
                and item.left.kind == item.right.kind == "number"
            ):
                if not _holds(item.operator, item.left.value, item.right.value):
                    cannot(f"`{item.left.text} {item.operator} {item.right.text}` is never true", item)
            asked = _asked_codes(item, self)
            if asked is not None and codes is not None and not (asked & codes):
                cannot(
                    "its condition asks for codes the rule does not concern "
                    f"({', '.join(sorted(asked)[:5])} vs {', '.join(sorted(codes)[:5])})",
                    item,
                )
            if (
                isinstance(item, ast.Compare)
                and isinstance(item.left, ast.Field)
                and isinstance(item.right, ast.Literal)
                and isinstance(item.right.value, (int, float))
            ):
                key = (item.left.subject if item.left.subject != "line" else "focus", item.left.path)
                low, high = bounds.get(key, (float("-inf"), float("inf")))
                v, op = item.right.value, item.operator
                if op in (">", ">="):
                    low = max(low, v + (0.5 if op == ">" else 0))
                elif op in ("<", "<="):
                    high = min(high, v - (0.5 if op == "<" else 0))
                elif op == "=":
                    low, high = max(low, v), min(high, v)
                bounds[key] = (low, high)
                if low > high:
                    cannot(f"no value of `{item.left.dotted}` meets all its limits", item)
            if (
                isinstance(item, ast.HasModifier)
                and isinstance(item.modifiers, ast.SetList)
                and len(item.modifiers.items) == 1
                and isinstance(item.modifiers.items[0], ast.Literal)
            ):
                mod = item.modifiers.items[0].value
                if has.get(mod, item.negated) != item.negated:
                    cannot(f"it asks for modifier {mod} both present and absent", item)
                has[mod] = item.negated

    def expand(self, set_expr) -> set[str] | None:
        """The codes of a set expression, or None when they cannot be known (a bad entry, a missing set)."""
        match set_expr:
            case None:
                return None
            case ast.SetRef(name):
                spec = self.policy.code_sets.get(name)
                if spec is None:
                    return None
                out: set[str] = set()
                for entry in spec.entries:
                    low, _, high = entry.partition("-")
                    got = self.expand(
                        ast.CodeRange(low, high) if CODE_RANGE.match(entry) else ast.Literal("code", entry, entry)
                    )
                    if got is None:
                        return None
                    out |= got
                return out
            case ast.CodeRange(low, high):
                codes = range_codes(low, high)
                return None if isinstance(codes, str) else set(codes)
            case ast.Literal(value=value):
                return {str(value).upper()}
            case ast.SetList(items):
                out = set()
                for item in items:
                    got = self.expand(item)
                    if got is None:
                        return None
                    out |= got
                return out
        return None


def _asked_codes(item, checker: RuleChecker) -> set[str] | None:
    if (
        isinstance(item, ast.InSet)
        and not item.negated
        and item.quantifier is None
        and isinstance(item.value, ast.Field)
        and item.value.path == ("code",)
        and item.value.subject in ("focus", "line")
    ):
        return checker.expand(item.set)
    if (
        isinstance(item, ast.Compare)
        and item.operator == "="
        and isinstance(item.left, ast.Field)
        and item.left.path == ("code",)
        and item.left.subject in ("focus", "line")
        and isinstance(item.right, ast.Literal)
        and item.right.kind == "code"
    ):
        return {str(item.right.value)}
    return None


def _holds(op: str, a, b) -> bool:
    return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _pick_kind(kinds: set[str]) -> str:
    """The kind to name for a set that could hold several (a set's kinds come from `entry_kinds`)."""
    for kind in ("code", "provider_type", "modifier", "diagnosis"):
        if kind in kinds:
            return kind
    return min(kinds)


def _show(node) -> str:
    match node:
        case ast.Literal(text=text):
            return text
        case ast.Field():
            return node.dotted
        case ast.Call(function):
            return f"{function}(...)"
        case ast.DayLines(measure):
            if measure in DATE_MEASURES:
                return f"{measure} of lines"
            return "number of lines" if measure == "count" else f"total {measure}"
    return "this value"


_WORDS = {
    "code": "a procedure code",
    "number": "a number",
    "date": "a date",
    "text": "text",
    "modifier": "a modifier",
    "provider_type": "a provider type",
    "diagnosis": "a diagnosis",
    "symbol": "a name",
    "list[modifier]": "a list of modifiers",
    "list[diagnosis]": "a list of diagnoses",
}
_PLURAL = {
    "code": "procedure codes",
    "modifier": "modifiers",
    "provider_type": "provider types",
    "diagnosis": "diagnoses",
    "number": "numbers",
    "date": "dates",
    "text": "texts",
}


def _kind_words(kind: str, plural: bool = False) -> str:
    return (_PLURAL if plural else _WORDS).get(kind, kind)


def _compare_hint(lk: str, rk: str) -> str | None:
    if "list[modifier]" in (lk, rk):
        return "ask `has modifier GP` or `lacks modifier GP`"
    if {lk, rk} == {"code", "number"}:
        return "a five-digit number is read as a procedure code; write amounts with a decimal point (12000.00)"
    return None


def check_policy(policy: PolicySpec, diagnostics: list[Diagnostic]) -> None:
    checker = RuleChecker(policy, diagnostics)
    checker.check_code_sets()
    for rule in policy.rules:
        checker.check_rule(rule)
    _check_caps_agree(checker, policy, diagnostics)
    assistant = policy.settings.get("assistant_payment")
    if assistant and str(assistant["modifiers"])[1:] not in policy.code_sets:
        # Settings keep no position once merged with a base policy's: the policy's own section is shown.
        diagnostics.append(
            Diagnostic(
                "E402",
                f"unknown code set `{assistant['modifiers']}` in the setting `assistant_payment`",
                policy.span,
                did_you_mean(str(assistant["modifiers"])[1:], list(policy.code_sets))
                or "name a code set of the policy that lists the assistant modifiers (CQ, CO)",
            )
        )


def _check_caps_agree(checker: RuleChecker, policy: PolicySpec, diagnostics: list[Diagnostic]) -> None:
    """Two daily caps on one code in force at once contradict each other (W504): only the lower counts,
    which is rarely what the author of the higher one meant (often a payer adding its own cap without
    removing the base's)."""
    caps = [(rule, checker.expand(rule.codes) or set()) for rule in policy.rules if rule.limit is not None]
    # Compare only caps that share a code: a payer's table of thousands of caps, one per code, costs one pass.
    by_code: dict[str, list[int]] = {}
    for i, (_, codes) in enumerate(caps):
        for code in codes:
            by_code.setdefault(code, []).append(i)
    pairs = sorted(
        {
            (a, b)
            for sharing in by_code.values()
            if len(sharing) > 1
            for n, a in enumerate(sharing)
            for b in sharing[n + 1 :]
        }
    )
    for i, j in pairs:
        (first, first_codes), (second, second_codes) = caps[i], caps[j]
        if not _periods_meet(first, second):
            continue
        code = sorted(first_codes & second_codes)[0]
        diagnostics.append(
            Diagnostic(
                "W504",
                f"two daily caps for {code}: `{first.id}` ({first.limit}) and `{second.id}` "
                f"({second.limit}); only the lower one ever counts",
                second.span,
                f"remove one (`remove: [{first.id}]` in a policy that extends it), or give them different "
                "effective dates",
                severity="warning",
            )
        )


def _periods_meet(a, b) -> bool:
    start = max(a.effective_from or _EARLIEST, b.effective_from or _EARLIEST)
    end = min(a.effective_to or _LATEST, b.effective_to or _LATEST)
    return start <= end


__all__ = ["check_policy", "RuleChecker", "LINE_FIELDS", "CLAIM_FIELDS", "PROVIDER_TYPES"]
