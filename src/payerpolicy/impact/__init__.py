"""The impact diff: what replacing one policy with another changes on a body of claims, line by line, by
rule, with the money at stake (`payerpolicy diff`, `payerpolicy.diff`).

    run.py             both policies judging the same claims in step, through the library's front door
    compare.py         one claim's two decisions: which lines changed, and the kind of change
    tally.py           the totals, counted as the changes stream past
    policy_changes.py  the rules, table rows, code sets and settings that differ between the two policies
    git_base.py        a policy folder as it was at a git revision (`--base REV`)
    render.py          JSON, text, CSV and Markdown
"""

from __future__ import annotations

from payerpolicy.impact.compare import KINDS, ClaimChange, LineChange
from payerpolicy.impact.git_base import PolicyAtRevision, RevisionError
from payerpolicy.impact.render import IMPACT_FORMATS, ImpactWriter, write_impact
from payerpolicy.impact.run import ImpactError, PolicyDiff, PolicySide, diff, side

__all__ = [
    "diff",
    "side",
    "PolicyDiff",
    "PolicySide",
    "PolicyAtRevision",
    "ClaimChange",
    "LineChange",
    "KINDS",
    "ImpactError",
    "RevisionError",
    "ImpactWriter",
    "write_impact",
    "IMPACT_FORMATS",
]
