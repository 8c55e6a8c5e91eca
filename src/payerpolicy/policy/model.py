"""What a policy says once its files are read: metadata, settings, code sets and rules, as plain objects.

Both hand-written rules and table rows end up as `RuleSpec`s holding syntax trees (`rules.ast`), so the
checker and the compiler handle one kind of rule. A `PolicySpec` may still name a base policy it extends;
`policy.inherit` merges the two.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, fields
from typing import Callable

from payerpolicy.rules import ast
from payerpolicy.diagnostics import Span

FAMILIES = (
    "timed_units",
    "unit_cap",
    "modifier",
    "code_pair",
    "evaluation",
    "provider_scope",
    "diagnosis",
    "threshold",
    "documentation",
    "claim_data",
    "custom",
    "fee_schedule",
)
SEVERITIES = ("deny", "warn", "info")
# What a finding is, for whoever reads it. A payer edit is what the payer's own system does to the line (it
# carries the group, CARC and RARC the payer sends). A compliance finding is one the payer cannot see on the
# claim (minutes, who furnished the service): the claim must not go out as it is, but no payer sends a code
# for it, so it carries none. An advisory is a guideline, a review risk or a note about payment.
KINDS = ("payer_edit", "compliance", "advisory")
FIX_ACTIONS = ("add_modifier", "remove_modifier", "set_units", "remove_line", "split_line", "merge_lines", "review")


@dataclass
class CodeSetSpec:
    name: str
    entries: tuple[str, ...]
    span: Span
    entry_spans: tuple[Span, ...] = ()


@dataclass
class RuleSpec:
    """One rule, written by hand or made from a table row."""

    id: str
    family: str
    severity: str
    condition: ast.Condition
    reason: dict  # {"group": "CO", "carc": "151", "rarc": "N362"}
    source: dict  # {"file": ..., "line": ..., "cite": ...}
    span: Span  # the rule's id, for diagnostics about the rule as a whole
    codes: ast.SetList | ast.SetRef | ast.CodeRange | None = None  # the codes it concerns; None: every code
    message: ast.Template | None = None
    default_message: Callable[[dict], tuple] | None = None  # template parts, for table rows without a message
    fix: ast.Fix | None = None
    effective_from: datetime.date | None = None
    effective_to: datetime.date | None = None
    announced: datetime.date | None = None  # when the rule became known; unknown to an earlier --as-of
    deleted: tuple | None = None  # (announced, effective): a deletion, retroactive when effective is earlier
    kind: str = "payer_edit"  # one of KINDS
    every_code: bool = False  # written `codes: any`: meant for every code
    section: str = "rules"  # where it was written: rules, unit_caps, modifier_requirements, ...
    limit: int | None = None  # a unit cap's max_units, so two caps on one code can be told apart

    def __reduce__(self) -> tuple:
        """Pickled as a call with its fields in order: a cached payer-scale policy unpickles ten thousand
        rules, and a dataclass's own way back from a pickle (a dict of fields set afterwards) is slower."""
        return RuleSpec, tuple(getattr(self, name) for name in _RULE_FIELDS)


@dataclass
class PolicySpec:
    payer: str
    name: str
    version: str
    folder: str
    effective_from: datetime.date | None = None
    effective_to: datetime.date | None = None
    extends: tuple[str, Span] | None = None
    fictional: bool = False
    description: str = ""
    tests: dict = field(default_factory=dict)  # `policy: tests:`: min_coverage, coverage_scope (for its cases)
    settings: dict = field(default_factory=dict)
    defaults: dict = field(default_factory=dict)  # per family: severity and reason for rows without their own
    code_sets: dict[str, CodeSetSpec] = field(default_factory=dict)
    values: dict[str, object] = field(default_factory=dict)  # name -> number, or {key: number}
    # `fee_schedule_tables:` (policy.fee_schedule.FeeTables, one per period); None when the policy names none
    fee_schedule: list | None = None
    rules: list[RuleSpec] = field(default_factory=list)
    removals: list[tuple[str, Span]] = field(default_factory=list)
    span: Span | None = None  # where the `policy:` section is
    incomplete: bool = False  # a file could not be read: what it defined is unknown, so do not call it missing


_RULE_FIELDS = tuple(f.name for f in fields(RuleSpec))
