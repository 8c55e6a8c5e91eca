"""Stage 2b, build: validated policy documents to a `PolicySpec`.

Reads the sections of every file of one policy folder (sections may be split across files), parses each
rule's `when`, `fix` and `message` with the rule language, and turns table rows into rules
(`policy.tables`). Problems are collected as diagnostics; a row with a problem is left out of the spec, and
the caller refuses to load a policy that has any error.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from pathlib import Path, PurePosixPath

from payerpolicy.rules import ast
from payerpolicy.policy import tables
from payerpolicy.codes import range_codes
from payerpolicy.diagnostics import Diagnostic, SourceFiles, Span
from payerpolicy.policy.files import PolicyDocument, WholeNumber
from payerpolicy.policy.pair_table import read_pair_table
from payerpolicy.policy import reference_table as reference
from payerpolicy.policy.fee_schedule import fee_tables
from payerpolicy.policy.model import CodeSetSpec, PolicySpec, RuleSpec
from payerpolicy.policy.schema import where
from payerpolicy.rules.lower import lower_condition, lower_fix, lower_template

_RANGE = re.compile(r"^([0-9]{4}[0-9A-Z]|[A-Z][0-9]{4})-([0-9]{4}[0-9A-Z]|[A-Z][0-9]{4})$")
_TABLE_FAMILY = {
    "unit_caps": "unit_cap",
    "modifier_requirements": "modifier",
    "code_pairs": "code_pair",
    "evaluations": "evaluation",
    "unit_cap_tables": "unit_cap",
    "fee_status": "fee_schedule",
}


# How an indicator-1 code pair is lifted besides a modifier on its column-2 line (policy.tables.PairBypass): a
# policy setting, or a row's own key of the same name.
_PAIR_SETTINGS = ("bypass_on_either_line", "bypass_on_either_line_from", "bypass_site_modifiers", "bypass_ignored_on")
_MISTAKE = object()  # a pair setting that was wrong (and has been reported)


def text_of(value) -> str:
    """A YAML scalar as written: 00100 stays 00100, 59 stays 59."""
    return value.text if isinstance(value, WholeNumber) else str(value)


def _date(value) -> datetime.date | None:
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


class _Builder:
    def __init__(self, folder: str, diagnostics: list[Diagnostic], base: PolicySpec | None, sources: SourceFiles):
        self.folder = folder
        self.diagnostics = diagnostics
        self.sources = sources  # texts of files with mistakes, to quote them
        self.meta: tuple[dict, PolicyDocument] | None = None
        self.meta_unusable = False
        # A payer built on another starts from its settings (its own replace them key by key), so that its
        # own table rows are lowered with the pair settings it inherits.
        self.settings: dict = dict(base.settings) if base else {}
        # The code pair settings, read once (settings are `@set` names and dates): a mistake is reported at
        # the setting, not at every row that uses it. A base policy's were checked when it was read.
        self.pair_settings: dict = {}
        for key, value in self.settings.items():
            if key in _PAIR_SETTINGS:
                self.pair_settings[key] = _date(value) if key.endswith("_from") else ast.SetRef(str(value)[1:])
        self.base_code_sets: dict = base.code_sets if base else {}
        # A payer's rows fall back on its base policy's defaults, family by family.
        self.defaults: dict = {f: dict(v) for f, v in base.defaults.items()} if base else {}
        self.code_sets: dict[str, CodeSetSpec] = {}
        self.values: dict[str, object] = {}
        self.rules: list[RuleSpec] = []
        self.removals: list = []
        self.ids: dict[str, Span] = {}
        self.fee_statuses: reference.FeeStatusTable | None = None  # `fee_status_table:`, for `fee_status:` rows
        self.fee_schedule: list | None = None  # `fee_schedule_tables:`, one FeeTables per entry

    # ------------------------------------------------------------------ sections
    def add_declarations(self, doc: PolicyDocument) -> None:
        """Metadata, settings, defaults and code sets: read from every file before any rule, since a rule
        in caps.yaml may rely on defaults written in policy.yaml."""
        data = doc.data or {}
        if "policy" in data:
            if data["policy"] is None:  # present, but it failed validation: already reported
                self.meta_unusable = True
            elif self.meta is not None:
                first = self.meta[1].span(("policy",), key=True)
                self.diagnostics.append(
                    Diagnostic(
                        "E205",
                        "a policy has one `policy:` section",
                        doc.span(("policy",), key=True),
                        f"the first is in {first.file} at line {first.line}",
                    )
                )
            else:
                self.meta = (data["policy"], doc)
        self.settings.update(data.get("settings") or {})
        for key, value in (data.get("settings") or {}).items():
            if key in _PAIR_SETTINGS:
                self.pair_settings[key] = self.pair_setting(doc, ("settings", key), key, value)
        for key in ("multiple_procedure_reduction", "assistant_payment"):  # dates program.allowed_amounts reads
            start = ((data.get("settings") or {}).get(key) or {}).get("from")
            if start is not None and _date(start) is None:
                self.diagnostics.append(
                    Diagnostic(
                        "E203",
                        f"`{start}` is not a real date",
                        doc.span(("settings", key, "from")),
                        "dates are written YYYY-MM-DD",
                    )
                )
                del self.settings[key]
        for family, values in (data.get("defaults") or {}).items():
            self.defaults.setdefault(family, {}).update(values)
        for name, entries in (data.get("code_sets") or {}).items():
            self.add_code_set(doc, name, entries)
        if data.get("fee_status_table"):
            self.add_fee_status_table(doc, data["fee_status_table"])
        if data.get("fee_schedule_tables"):
            self.add_fee_schedule(doc, data["fee_schedule_tables"])
        for name, value in (data.get("values") or {}).items():
            self.values[name] = {int(text_of(k)): v for k, v in value.items()} if isinstance(value, dict) else value

    def add_rules(self, doc: PolicyDocument) -> None:
        data = doc.data or {}
        for index, row in enumerate(data.get("rules") or []):
            self.add_rule(doc, ("rules", index), row)
        for section in (*_TABLE_FAMILY, "code_pair_tables"):
            if section == "fee_status" and data.get(section) and self.fee_statuses is None:
                self.diagnostics.append(
                    Diagnostic(
                        "E210",
                        "`fee_status:` rules need a `fee_status_table:`",
                        doc.span((section,), key=True),
                        "name an imported RVU table (`file:`) or write the statuses (`rows:`) under `fee_status_table:`",
                    )
                )
                continue
            for index, row in enumerate(data.get(section) or []):
                self.add_table_row(doc, section, (section, index), row)
        for index, rule_id in enumerate(data.get("remove") or []):
            self.removals.append((rule_id, doc.span(("remove", index))))

    def add_fee_status_table(self, doc: PolicyDocument, table: dict) -> None:
        """The fee schedule status of codes: an imported RVU table (`file:`) and rows written by hand."""
        if self.fee_statuses is not None:
            self.diagnostics.append(
                Diagnostic("E205", "a policy has one `fee_status_table:`", doc.span(("fee_status_table",), key=True))
            )
            return
        file = None
        if "file" in table:
            at = doc.span(("fee_status_table", "file"))
            file = reference.read_table_file(
                *self._table_path(doc, table["file"], at), "rvu", self.sources, self.diagnostics, at
            )
            if file is None:
                return
        rows = table.get("rows") or []
        lines = [doc.span(("fee_status_table", "rows", i)).line for i in range(len(rows))]
        self.fee_statuses = reference.fee_status_rows(file, rows, doc.file, lines, self.diagnostics, self.sources)

    def add_fee_schedule(self, doc: PolicyDocument, entries: list) -> None:
        """The fee schedule lines are priced by (policy.fee_schedule): fee and RVU tables per period."""
        if self.fee_schedule is not None:
            self.diagnostics.append(
                Diagnostic(
                    "E205", "a policy has one `fee_schedule_tables:`", doc.span(("fee_schedule_tables",), key=True)
                )
            )
            return
        found = []
        for index, entry in enumerate(entries):
            path = ("fee_schedule_tables", index)
            entry = {**entry, "carrier": text_of(entry["carrier"]), "locality": text_of(entry["locality"])}
            at = {key: doc.span(path + (key,)) for key in ("fees", "rvu", "locality")}
            paths = {key: self._table_path(doc, entry[key], at[key]) for key in ("fees", "rvu")}
            tables = fee_tables(entry, paths, at, self.diagnostics, self.sources)
            if tables is not None:
                found.append(tables)
        self.fee_schedule = found

    def _table_path(self, doc: PolicyDocument, name: str, at: Span) -> tuple[Path | None, str]:
        """A table file named in a policy file: read from that file's folder, shown as the policy shows it.
        A path that leaves the folder is refused (None, with E211): a policy may not show other files'
        lines through its diagnostics."""
        folder = doc.path.parent if doc.path is not None else Path(".")
        path, display = folder / name, str(PurePosixPath(doc.file).parent / name)
        try:
            inside = path.resolve().is_relative_to(folder.resolve())
        except (OSError, ValueError):
            inside = False
        if not inside:
            self.diagnostics.append(
                Diagnostic(
                    "E211",
                    f"`{name}` is outside the policy's folder",
                    at,
                    "keep table files in the policy's folder (or a folder inside it) and name them from there",
                )
            )
            return None, display
        return path, display

    def add_code_set(self, doc: PolicyDocument, name: str, entries: list) -> None:
        span = doc.span(("code_sets", name), key=True)
        if name in self.code_sets:
            first = self.code_sets[name].span
            self.diagnostics.append(
                Diagnostic(
                    "E206",
                    f"code set `{name}` is defined twice",
                    span,
                    f"the first is in {first.file} at line {first.line}",
                )
            )
            return
        texts = tuple(text_of(e).strip() for e in entries)
        spans = tuple(doc.span(("code_sets", name, i)) for i in range(len(entries)))
        self.code_sets[name] = CodeSetSpec(name, texts, span, spans)

    def _claim_id(self, doc: PolicyDocument, path: tuple, rule_id: str) -> bool:
        span = doc.span(path + ("id",))
        if rule_id in self.ids:
            first = self.ids[rule_id]
            self.diagnostics.append(
                Diagnostic(
                    "E207",
                    f"id `{rule_id}` is used twice",
                    span,
                    f"the first is in {first.file} at line {first.line}; ids must be unique",
                )
            )
            return False
        self.ids[rule_id] = span
        return True

    # ------------------------------------------------------------------ rules and rows
    def _common(self, doc: PolicyDocument, path: tuple, row: dict, family: str, section: str) -> dict | None:
        """The fields every rule and row has: severity, reason, message, fix, source, dates."""
        outcome = self._outcome(doc, path, row, family)
        ok = outcome is not None
        fix = None
        if "fix" in row:
            fix = lower_fix(row["fix"], doc.origin(path + ("fix",)), self.diagnostics)
            ok = ok and fix is not None
        message = None
        if "message" in row:
            message = lower_template(row["message"], doc.origin(path + ("message",)), self.diagnostics)
        dates = self._dates(doc, path, row)
        if outcome is None or dates is None or not ok:
            return None
        severity, kind, reason = outcome
        id_span = doc.span(path + ("id",))
        return dict(
            id=row["id"],
            family=family,
            severity=severity,
            kind=kind,
            section=section,
            reason={k: text_of(v) for k, v in reason.items()},
            source={"file": doc.file, "line": id_span.line, "cite": row["source"]},
            span=id_span,
            message=message,
            fix=fix,
            effective_from=dates["effective_from"],
            effective_to=dates["effective_to"],
            announced=dates["announced"],
            deleted=(dates["deleted_announced"], dates["deleted_effective"]) if row.get("deleted") else None,
        )

    def _outcome(self, doc: PolicyDocument, path: tuple, row: dict, family: str) -> tuple[str, str, dict] | None:
        """The rule's severity, kind and reason, each from the row or its family's defaults; None when one is
        missing or a finding that is not a payer edit gives a reason (each said)."""
        defaults = self.defaults.get(family, {})
        place = where(path, doc.data)
        ok = True
        severity = row.get("severity") or defaults.get("severity")
        kind = row.get("kind") or defaults.get("kind") or "payer_edit"
        reason = row.get("reason") or defaults.get("reason")
        if kind != "payer_edit":
            # Only a payer edit carries remittance codes: a finding the payer cannot see, or a guideline, must
            # not show codes as if a payer had sent them. A family default's reason is simply not used.
            if "reason" in row:
                self.diagnostics.append(
                    Diagnostic(
                        "E209",
                        f"{place} is a {kind} finding and gives a `reason`",
                        doc.span(path + ("reason",), key=True),
                        "only a payer edit carries the group, CARC and RARC a payer sends: remove `reason`, or make the "
                        "rule `kind: payer_edit`",
                    )
                )
                ok = False
            reason = {}
        for key, value in (("severity", severity), ("reason", reason)):
            if value is None:
                self.diagnostics.append(
                    Diagnostic(
                        "E202",
                        f"{place} is missing `{key}`",
                        doc.span(path, key=True),
                        f"give it here, or once for the family under `defaults: {family}:`",
                    )
                )
                ok = False
        return (severity, kind, reason) if ok else None

    def _dates(self, doc: PolicyDocument, path: tuple, row: dict) -> dict | None:
        """The row's dates (in force from and to, announced, deleted), or None when one is not a real date."""
        dates = {}
        deleted = row.get("deleted") or {}
        ok = True
        for key, value, at in (
            ("effective_from", row.get("effective_from"), ("effective_from",)),
            ("effective_to", row.get("effective_to"), ("effective_to",)),
            ("announced", row.get("announced"), ("announced",)),
            ("deleted_announced", deleted.get("announced"), ("deleted", "announced")),
            ("deleted_effective", deleted.get("effective"), ("deleted", "effective")),
        ):
            dates[key] = _date(value)
            if value is not None and dates[key] is None:
                self.diagnostics.append(
                    Diagnostic(
                        "E203", f"`{value}` is not a real date", doc.span(path + at), "dates are written YYYY-MM-DD"
                    )
                )
                ok = False
        return dates if ok else None

    def add_rule(self, doc: PolicyDocument, path: tuple, row: dict) -> None:
        if not self._claim_id(doc, path, row["id"]):
            return
        common = self._common(doc, path, row, row["family"], "rules")
        condition = lower_condition(row["when"], doc.origin(path + ("when",)), self.diagnostics)
        # `codes: any` says the rule is meant for every code (who billed it matters, not what), so the
        # checker does not warn that it is judged on every line.
        every_code = row.get("codes") == "any"
        given = "codes" in row and not every_code
        codes = self.codes(doc, path + ("codes",), row["codes"]) if given else None
        if common is None or condition is None or (given and codes is None):
            return
        self.rules.append(
            RuleSpec(
                condition=condition,
                codes=codes or (None if every_code else infer_codes(condition)),
                every_code=every_code,
                **common,
            )
        )

    def add_table_row(self, doc: PolicyDocument, section: str, path: tuple, row: dict) -> None:
        if not self._claim_id(doc, path, row["id"]):
            return
        family = _TABLE_FAMILY.get(section, "code_pair")
        common = self._common(doc, path, row, family, section)
        span = doc.span(path + ("id",))
        built = getattr(self, "_" + section)(doc, path, row, span)
        if common is None or built is None:
            return
        codes, condition, fix, message = built
        if common["fix"] is None:
            common["fix"] = fix
        limit = int(row["max_units"]) if section == "unit_caps" else None
        self.rules.append(RuleSpec(condition=condition, codes=codes, default_message=message, limit=limit, **common))

    def _unit_caps(self, doc, path, row, span):
        codes = self.codes(doc, path + ("codes",), row["codes"])
        if codes is None:
            return None
        return (codes, *tables.unit_cap(codes, int(row["max_units"]), doc.span(path + ("max_units",))))

    def _modifier_requirements(self, doc, path, row, span):
        codes = self.codes(doc, path + ("codes",), row["codes"])
        key = "require" if "require" in row else "require_any"
        required = self.modifiers(doc, path + (key,), row[key])
        when = lower_condition(row["when"], doc.origin(path + ("when",)), self.diagnostics) if "when" in row else None
        if codes is None or required is None or ("when" in row and when is None):
            return None
        return (codes, *tables.modifier_requirement(codes, required, when, span))

    def _code_pairs(self, doc, path, row, span):
        column1 = self.codes(doc, path + ("column1",), row["column1"])
        column2 = self.codes(doc, path + ("column2",), row["column2"])
        bypass_text = row.get("bypass", self.settings.get("bypass_modifiers", "@ncci_bypass"))
        bypass = self.modifiers(doc, path + ("bypass",), bypass_text)
        settings = self.pair_bypass(doc, path, row, bypass)
        if column1 is None or column2 is None or bypass is None or settings is None:
            return None
        ignored = (
            settings.ignored_on is not None
            and settings.either is not None
            and set(self.code_entries(column2)) <= set(self.code_entries(settings.ignored_on))
        )
        built = tables.code_pair(column1, column2, int(row["modifier_indicator"]), bypass, span, settings, ignored)
        if built is None:  # indicator 9: the edit does not apply; the row stays for the record only
            return None
        return (column2, *built)

    def _code_pair_tables(self, doc, path, row, span):
        """A whole table of pairs from a file: one rule, indexed by its column-2 codes."""
        bypass_text = row.get("bypass", self.settings.get("bypass_modifiers", "@ncci_bypass"))
        bypass = self.modifiers(doc, path + ("bypass",), bypass_text)
        settings = self.pair_bypass(doc, path, row, bypass)
        file, display = self._table_path(doc, row["file"], doc.span(path + ("file",)))
        table = (
            None
            if file is None
            else read_pair_table(file, display, self.sources, self.diagnostics, doc.span(path + ("file",)))
        )
        if table is None or bypass is None or settings is None:
            return None
        codes = ast.SetList(tuple(ast.Literal("code", c, c, span=span) for c in table.column2_codes()), span=span)
        return (
            codes,
            ast.PairEdit(
                table, bypass, settings.either, settings.either_from, settings.sites, settings.ignored_on, span=span
            ),
            None,
            None,
        )

    def _unit_cap_tables(self, doc, path, row, span):
        """An imported MUE table: one rule over all its codes, judged by the table (policy.reference_table)."""
        at = doc.span(path + ("file",))
        file = reference.read_table_file(
            *self._table_path(doc, row["file"], at), "mue", self.sources, self.diagnostics, at
        )
        table = reference.unit_limit_table(file, self.diagnostics, self.sources) if file is not None else None
        if table is None:
            return None
        codes = ast.SetList(tuple(ast.Literal("code", c, c, span=span) for c in table.codes()), span=span)
        return codes, ast.TableEdit(table, span=span), None, None

    def _fee_status(self, doc, path, row, span):
        """Deny the lines whose code has one fee schedule status. The rule concerns every code of the table
        (it looks each one's status up), so a line of another status meets it without firing."""
        status = str(row["status"]).upper()
        if not self.fee_statuses.codes_with(status):
            return None  # no code of the table has that status (yet): the rule has nothing to judge
        codes = sorted(self.fee_statuses.statuses)
        return (
            ast.SetList(tuple(ast.Literal("code", c, c, span=span) for c in codes), span=span),
            ast.TableEdit(reference.StatusEdit(self.fee_statuses, status), span=span),
            None,
            None,
        )

    def _evaluations(self, doc, path, row, span):
        evaluations = self.codes(doc, path + ("evaluations",), row["evaluations"])
        if evaluations is None:
            return None
        if "at_most_per_day" in row:
            return (evaluations, *tables.evaluation_limit(evaluations, int(row["at_most_per_day"]), span))
        treatments = self.codes(doc, path + ("with",), row["with"])
        modifiers = self.modifiers(doc, path + ("modifiers",), row.get("modifiers", "@distinct_service"))
        settings = self.pair_bypass(doc, path, row, modifiers)
        if treatments is None or modifiers is None or settings is None:
            return None
        return tables.evaluation_pairing(evaluations, treatments, row["modifier_on"], modifiers, span, settings)

    def pair_bypass(self, doc: PolicyDocument, path: tuple, row: dict, bypass) -> tables.PairBypass | None:
        """How an indicator-1 pair is lifted besides a modifier in `bypass` on its column-2 line: the row's own
        `bypass_on_either_line`, `bypass_on_either_line_from`, `bypass_site_modifiers` and `bypass_ignored_on`,
        else the policy's settings of those names. None after a mistake in the row (reported)."""
        values = []
        for key in _PAIR_SETTINGS:
            if key in row:
                value = self.pair_setting(doc, path + (key,), key, row[key])
                if value is _MISTAKE:
                    return None
            else:  # a wrong setting was reported where it is written: the rows go on without it
                value = self.pair_settings.get(key)
            values.append(None if value is _MISTAKE else value)
        either, start, sites, ignored_on = values
        kept = None
        if ignored_on is not None and either is not None and bypass is not None:
            lifting = set(self.entries(either))
            kept = ast.SetList(
                tuple(ast.Literal("symbol", m, m, span=None) for m in self.entries(bypass) if m not in lifting),
                span=None,
            )
        return tables.PairBypass(either, start, sites, ignored_on, kept)

    def entries(self, modifiers) -> list[str]:
        """The modifiers of a set expression, its @names looked up (in this policy, then its base)."""
        match modifiers:
            case ast.SetRef(name):
                spec = self.code_sets.get(name) or self.base_code_sets.get(name)
                if spec is None:
                    return []  # an unknown set: the checker reports it
                return [
                    m
                    for entry in spec.entries
                    for m in (self.entries(ast.SetRef(entry[1:])) if entry.startswith("@") else [entry.upper()])
                ]
            case ast.SetList(items):
                return [
                    m
                    for item in items
                    for m in (self.entries(item) if isinstance(item, ast.SetRef) else [str(item.value).upper()])
                ]
        return []

    def code_entries(self, codes) -> list[str]:
        """The codes of a set expression, ranges spelled out and @names looked up; [] for a mistake (which
        the checker reports)."""
        match codes:
            case ast.SetRef(name):
                spec = self.code_sets.get(name) or self.base_code_sets.get(name)
                if spec is None:
                    return []
                out = []
                for entry in spec.entries:
                    low, _, high = entry.upper().partition("-")
                    item = (
                        ast.SetRef(entry[1:])
                        if entry.startswith("@")
                        else (ast.CodeRange(low, high) if high else ast.Literal("code", low, low))
                    )
                    out += self.code_entries(item)
                return out
            case ast.CodeRange(low, high):
                spelled = range_codes(low, high)
                return [] if isinstance(spelled, str) else spelled
            case ast.SetList(items):
                return [code for item in items for code in self.code_entries(item)]
            case ast.Literal(value=value):
                return [str(value).upper()]
        return []

    def pair_setting(self, doc: PolicyDocument, path: tuple, key: str, value):
        """A pair setting or row key read: a date for `..._from`, codes for `bypass_ignored_on`, else a
        modifier set; _MISTAKE if wrong."""
        if key == "bypass_ignored_on":
            return self.codes(doc, path, value)
        if not key.endswith("_from"):
            return self.modifiers(doc, path, value)
        start = _date(value)
        if start is None:
            self.diagnostics.append(
                Diagnostic("E203", f"`{value}` is not a real date", doc.span(path), "dates are written YYYY-MM-DD")
            )
            return _MISTAKE
        return start

    # ------------------------------------------------------------------ code and modifier lists
    def codes(self, doc: PolicyDocument, path: tuple, value):
        """A `codes:`-like value (one entry, @set, or a list) as a set expression of the rule language."""
        entries = value if isinstance(value, list) else [value]
        items: list[ast.SetRef | ast.CodeRange | ast.Literal] = []
        for i, entry in enumerate(entries):
            entry_path = path + (i,) if isinstance(value, list) else path
            text = text_of(entry).strip()
            span = doc.span(entry_path)
            if text.startswith("@"):
                items.append(ast.SetRef(text[1:], span=span))
            elif _RANGE.match(text.upper()):
                low, high = text.upper().split("-")
                items.append(ast.CodeRange(low, high, span=span))
            else:
                items.append(ast.Literal("code", text.upper(), text, span=span))
        if not isinstance(value, list) and isinstance(items[0], (ast.SetRef, ast.CodeRange)):
            return items[0]
        return ast.SetList(tuple(items), span=doc.span(path))

    def modifiers(self, doc: PolicyDocument, path: tuple, value):
        expr = self.codes(doc, path, value)
        if isinstance(expr, ast.SetList):  # modifiers are symbols, not codes
            expr = ast.SetList(
                tuple(
                    ast.Literal("symbol", i.text.upper(), i.text, span=i.span) if isinstance(i, ast.Literal) else i
                    for i in expr.items
                ),
                span=expr.span,
            )
        return expr

    # ------------------------------------------------------------------ the policy
    def finish(self, some_files_unread: bool) -> PolicySpec:
        # What the files define, whatever their `policy:` section says; the section adds who and when below.
        spec = PolicySpec(
            payer="(unknown)",
            name="",
            version="",
            folder=self.folder,
            settings=dict(self.settings),
            defaults=self.defaults,
            code_sets=self.code_sets,
            values=self.values,
            rules=self.rules,
            removals=self.removals,
        )
        if self.meta is None:
            if not (some_files_unread or self.meta_unusable):
                self.diagnostics.append(
                    Diagnostic(
                        "E204",
                        f"no file of the policy in `{self.folder}` has a `policy:` section",
                        None,
                        "one file (policy.yaml, by habit) must say `policy: {payer: ..., name: ..., version: ...}`",
                    )
                )
            # An error is already reported, so this policy will not load; the stand-in lets its rules be
            # checked, so their mistakes are reported in the same run.
            return spec
        meta, doc = self.meta
        for key in ("effective_from", "effective_to"):  # the schema checks the shape; here, the calendar
            if meta.get(key) is not None and _date(meta[key]) is None:
                self.diagnostics.append(
                    Diagnostic(
                        "E203",
                        f"`{meta[key]}` is not a real date",
                        doc.span(("policy", key)),
                        "dates are written YYYY-MM-DD",
                    )
                )
        extends = (meta["extends"], doc.span(("policy", "extends"))) if "extends" in meta else None
        return dataclasses.replace(
            spec,
            payer=meta["payer"],
            name=meta["name"],
            version=text_of(meta["version"]),
            effective_from=_date(meta.get("effective_from")),
            effective_to=_date(meta.get("effective_to")),
            extends=extends,
            fictional=bool(meta.get("fictional", False)),
            description=meta.get("description", ""),
            tests=dict(meta.get("tests") or {}),
            fee_schedule=self.fee_schedule,
            span=doc.span(("policy",), key=True),
        )


def infer_codes(condition: ast.Condition):
    """The codes a hand-written rule concerns, read from its condition: `code = X` or `code in S` at the top.

    A rule whose condition does not pin the judged line's code concerns every line.
    """
    conjuncts = condition.items if isinstance(condition, ast.AllOf) else (condition,)
    for item in conjuncts:
        value = getattr(item, "value", None)
        judged = isinstance(value, ast.Field) and value.path == ("code",) and value.subject in ("focus", "line")
        if isinstance(item, ast.InSet) and judged and not item.negated and item.quantifier is None:
            return item.set
        if isinstance(item, ast.Compare) and item.operator == "=":
            for side, other in ((item.left, item.right), (item.right, item.left)):
                if (
                    isinstance(side, ast.Field)
                    and side.path == ("code",)
                    and side.subject in ("focus", "line")
                    and isinstance(other, ast.Literal)
                    and other.kind == "code"
                ):
                    return ast.SetList((other,), span=other.span)
    return None


def build_policy(
    folder: str,
    documents: list[PolicyDocument],
    diagnostics: list[Diagnostic],
    some_files_unread: bool = False,
    base: PolicySpec | None = None,
    sources: SourceFiles | None = None,
) -> PolicySpec | None:
    builder = _Builder(folder, diagnostics, base, sources or SourceFiles())
    if base is None:
        for doc in documents:
            for index, _ in enumerate((doc.data or {}).get("remove") or []):
                diagnostics.append(
                    Diagnostic(
                        "E412",
                        "`remove:` drops rules of a base policy, but this policy has no `extends:`",
                        doc.span(("remove", index)),
                        "add `extends: <base policy>` to the `policy:` section",
                    )
                )
    for doc in documents:
        builder.add_declarations(doc)
    for doc in documents:
        builder.add_rules(doc)
    spec = builder.finish(some_files_unread)
    spec.incomplete = some_files_unread
    return spec


__all__ = ["build_policy", "infer_codes", "text_of"]
