"""Stage 2c, inherit: a policy that `extends:` another starts from it and changes some of it.

Most payers start from the CMS rules and differ in a few places, so a payer's policy names its base and says
only what differs:
- `settings` and `code_sets` of the same name replace the base's;
- a rule or row with the id of a base rule replaces it where it stood; a new id is added after the base's rules;
- `remove: [id, ...]` drops base rules (an id the base does not have is an error: it is usually a typo).

Policies chain: a plan may extend a payer that extends the CMS base. Warnings point at what is likely a
slip: an override identical to the rule it replaces (W502), and a rule named like the base's own
(`medicare.` ...) that replaces nothing (W503), usually a misspelt id that adds a rule instead.
"""

from __future__ import annotations

from dataclasses import replace

from payerpolicy.diagnostics import Diagnostic, did_you_mean
from payerpolicy.policy.model import PolicySpec


def merge(base: PolicySpec, child: PolicySpec, diagnostics: list[Diagnostic]) -> PolicySpec:
    rules = {rule.id: rule for rule in base.rules}
    order = [rule.id for rule in base.rules]
    for rule_id, span in child.removals:
        if rule_id not in rules:
            diagnostics.append(
                Diagnostic(
                    "E410",
                    f"`{rule_id}` is not a rule of the base policy `{base.payer}`",
                    span,
                    did_you_mean(rule_id, order),
                )
            )
            continue
        del rules[rule_id]
        order.remove(rule_id)
    for rule in child.rules:
        if rule.id not in rules:
            order.append(rule.id)
            if rule.id.startswith(base.payer + "."):
                diagnostics.append(
                    Diagnostic(
                        "W503",
                        f"`{rule.id}` is named like a rule of the base policy `{base.payer}` but replaces "
                        "none: it adds a rule",
                        rule.span,
                        did_you_mean(rule.id, [i for i in order if i != rule.id])
                        or "to change a base rule, use its exact id; to add one, name it after this policy",
                        severity="warning",
                    )
                )
        elif _same_rule(rules[rule.id], rule):
            diagnostics.append(
                Diagnostic(
                    "W502",
                    f"`{rule.id}` overrides the base policy's rule with the very same rule",
                    rule.span,
                    "remove this copy: the base's rule applies anyway",
                    severity="warning",
                )
            )
        rules[rule.id] = rule
    return replace(
        child,
        settings={**base.settings, **child.settings},
        defaults={**base.defaults, **child.defaults},
        code_sets={**base.code_sets, **child.code_sets},
        values={**base.values, **child.values},
        # A payer's own fee schedule replaces its base's whole (its locality and periods are its own).
        fee_schedule=child.fee_schedule if child.fee_schedule is not None else base.fee_schedule,
        rules=[rules[rule_id] for rule_id in order],
        effective_from=child.effective_from,  # the payer's own period, not its base's
        effective_to=child.effective_to,
        removals=[],
    )


def _same_rule(base, child) -> bool:
    """Whether an override says exactly what the base's rule says (where it is written aside)."""
    keys = (
        "family",
        "severity",
        "condition",
        "reason",
        "codes",
        "message",
        "fix",
        "effective_from",
        "effective_to",
        "announced",
        "deleted",
        "limit",
    )
    if any(getattr(base, k) != getattr(child, k) for k in keys):
        return False
    if base.message is None and base.default_message is not None:  # generated messages: compare their parts
        return base.default_message({}) == child.default_message({})
    return True
