"""Stage 2c, inherit: a policy that `extends:` another starts from it and changes some of it.

Most payers start from the CMS rules and differ in a few places, so a payer's policy names its base and says
only what differs:
- `settings` and `code_sets` of the same name replace the base's;
- a rule or row with the id of a base rule replaces it where it stood; a new id is added after the base's rules;
- `remove: [id, ...]` drops base rules (an id the base does not have is an error: it is usually a typo).
"""
from __future__ import annotations

from dataclasses import replace

from .diagnostics import Diagnostic, did_you_mean
from .policy_model import PolicySpec


def merge(base: PolicySpec, child: PolicySpec, diagnostics: list[Diagnostic]) -> PolicySpec:
    rules = {rule.id: rule for rule in base.rules}
    order = [rule.id for rule in base.rules]
    for rule_id, span in child.removals:
        if rule_id not in rules:
            diagnostics.append(Diagnostic("E410", f"`{rule_id}` is not a rule of the base policy `{base.payer}`",
                                          span, did_you_mean(rule_id, order)))
            continue
        del rules[rule_id]
        order.remove(rule_id)
    for rule in child.rules:
        if rule.id not in rules:
            order.append(rule.id)
        rules[rule.id] = rule
    return replace(
        child,
        settings={**base.settings, **child.settings},
        defaults={**base.defaults, **child.defaults},
        code_sets={**base.code_sets, **child.code_sets},
        rules=[rules[rule_id] for rule_id in order],
        effective_from=child.effective_from or base.effective_from,
        effective_to=child.effective_to or base.effective_to,
        removals=[],
    )
