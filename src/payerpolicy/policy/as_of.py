"""Stage 5b, time: the policy as it stood on a date, before it is compiled.

Payers change rules often, sometimes retroactively. Two dates matter for a claim line:
- its date of service: a rule applies only to lines whose date falls in the rule's effective period
  (`effective_from` / `effective_to`, checked per line when judging);
- the date the question is asked, `as_of` (by default today): what was known then. A rule announced later
  does not exist yet; a deletion announced by then applies from its own effective date, which may lie in
  the past (a retroactive deletion), and one announced later has not happened yet.

So NCCI's 2020 edit of 97530 with an evaluation denies a February 2020 claim judged as of January 2020,
and does not deny the same claim judged today, after the edit was deleted back to its first day.
"""

from __future__ import annotations

import datetime
from dataclasses import replace

from payerpolicy.policy.model import PolicySpec, RuleSpec

_DAY = datetime.timedelta(days=1)


def as_known_on(policy: PolicySpec, as_of: datetime.date) -> PolicySpec:
    """The policy's rules as known on `as_of`, each with the effective period in force then. The policy's
    own effective period (from its `policy:` section) bounds every rule's: a plan's rules, inherited ones
    included, do not reach dates of service before the plan existed."""
    rules = [known for rule in policy.rules if (known := _within_policy(_as_known_on(rule, as_of), policy)) is not None]
    return replace(policy, rules=rules)


def _within_policy(rule: RuleSpec | None, policy: PolicySpec) -> RuleSpec | None:
    if rule is None or (policy.effective_from is None and policy.effective_to is None):
        return rule
    start = (
        max(d for d in (rule.effective_from, policy.effective_from) if d is not None)
        if (rule.effective_from or policy.effective_from)
        else None
    )
    end = (
        min(d for d in (rule.effective_to, policy.effective_to) if d is not None)
        if (rule.effective_to or policy.effective_to)
        else None
    )
    if start is not None and end is not None and end < start:
        return None
    return replace(rule, effective_from=start, effective_to=end)


def _as_known_on(rule: RuleSpec, as_of: datetime.date) -> RuleSpec | None:
    if rule.announced is not None and rule.announced > as_of:
        return None  # not published yet
    if rule.deleted is None:
        return rule
    announced, effective = rule.deleted
    if announced > as_of:
        return rule  # the deletion is still to come
    last_day = effective - _DAY
    if rule.effective_from is not None and last_day < rule.effective_from:
        return None  # deleted back to its first day: as if it had never been
    end = last_day if rule.effective_to is None else min(rule.effective_to, last_day)
    return replace(rule, effective_to=end)
