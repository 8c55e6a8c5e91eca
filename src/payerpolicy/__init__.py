"""payerpolicy: payer billing policies for outpatient therapy claims, as code.

    import payerpolicy
    policy = payerpolicy.load("medicare")        # a shipped payer, or a path to policy files
    decision = policy.check(claim)               # a claim in the claim JSON form -> Decision
    decision.to_dict()                           # the decision JSON

A whole run, as `payerpolicy check` makes it (routing by payer, history, the window, any claim format):

    policies = payerpolicy.Policies(["my-payers"])   # your payers' folders, then the shipped ones
    with payerpolicy.Session(policies, history="history.sqlite") as session:
        decisions = session.check_many(payerpolicy.read_claims("claims.837"))
        payerpolicy.write_decisions(decisions, sys.stdout, "text")

What a policy change changes (`payerpolicy diff`):

    impact = payerpolicy.diff("medicare", "my-edit/medicare", payerpolicy.read_claims("q3.jsonl"))
    for change in impact: ...                      # the changed claims, streamed; impact.summary after
"""

from __future__ import annotations

from payerpolicy._version import __version__
from payerpolicy.decision import ClaimStatus, Decision, Finding, FindingKind, FixAction, LineStatus, Severity
from payerpolicy.diagnostics import Diagnostic, PolicyError
from payerpolicy.api import DEFAULT_WINDOW, Policy, load, load_text, splits, units
from payerpolicy.claims.formats import INPUT_FORMATS
from payerpolicy.judge.history import HistoryError
from payerpolicy.claims.json_claims import ClaimFileError
from payerpolicy.diagnostic_codes import explain as explain_code
from payerpolicy.parallel import WorkerError
from payerpolicy.render.stream import FORMATS as OUTPUT_FORMATS
from payerpolicy.render.stream import DecisionWriter, write_decisions
from payerpolicy.session import LintResult, Policies, Session, lint, read_claims
from payerpolicy.impact import ImpactError, PolicyAtRevision, diff
from payerpolicy.judge.timed_units import UnitsError
from payerpolicy.api import day_report
from payerpolicy.policy.layout import WIDTH as LAYOUT_WIDTH, LayoutError, lay_out
from payerpolicy.policy.table_import import KINDS as TABLE_KINDS, TableImportError, import_table

__all__ = [
    "load",
    "load_text",
    "lint",
    "units",
    "splits",
    "day_report",
    "UnitsError",
    "diff",
    "PolicyAtRevision",
    "ImpactError",
    "Policy",
    "Policies",
    "Session",
    "read_claims",
    "write_decisions",
    "DecisionWriter",
    "Decision",
    "Finding",
    "ClaimStatus",
    "LineStatus",
    "Severity",
    "FindingKind",
    "FixAction",
    "LintResult",
    "PolicyError",
    "Diagnostic",
    "explain_code",
    "ClaimFileError",
    "HistoryError",
    "WorkerError",
    "DEFAULT_WINDOW",
    "INPUT_FORMATS",
    "OUTPUT_FORMATS",
    "lay_out",
    "LayoutError",
    "LAYOUT_WIDTH",
    "import_table",
    "TableImportError",
    "TABLE_KINDS",
    "__version__",
]

# The claim history given as data (earlier claims' lines in memory), as the Spark job hands it to a Session.
from payerpolicy.judge.history import HistoryLine  # noqa: E402
from payerpolicy.judge.memory_history import MemoryHistory  # noqa: E402

# What a history file's memory of recent patients did for a run (Session.history_memory_use), and its default.
from payerpolicy.judge.history_cache import DEFAULT_HISTORY_MB as DEFAULT_HISTORY_MEMORY  # noqa: E402
from payerpolicy.judge.history_cache import HistoryMemoryUse  # noqa: E402

__all__ += ["MemoryHistory", "HistoryLine", "HistoryMemoryUse", "DEFAULT_HISTORY_MEMORY"]
