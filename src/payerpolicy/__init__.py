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
"""
from __future__ import annotations

import datetime
import os

from .decision import Decision, Finding
from .diagnostics import Diagnostic, PolicyError
from .policy import Policy
from .policy_load import load_program
from .claim_formats import INPUT_FORMATS
from .claim_history import HistoryError
from .claim_read import ClaimFileError
from .diagnostic_codes import explain as explain_code
from .judge_parallel import WorkerError
from .policy import DEFAULT_WINDOW
from .render_stream import FORMATS as OUTPUT_FORMATS
from .render_stream import DecisionWriter, write_decisions
from .session import LintResult, Policies, Session, lint, read_claims
from .timed_units import splits, units

__all__ = ["load", "lint", "units", "splits", "Policy", "Policies", "Session", "read_claims", "write_decisions",
           "DecisionWriter", "Decision", "Finding", "LintResult", "PolicyError", "Diagnostic", "explain_code",
           "ClaimFileError", "HistoryError", "WorkerError", "DEFAULT_WINDOW", "INPUT_FORMATS", "OUTPUT_FORMATS"]
__version__ = "0.1.0"


def load(source, as_of=None) -> Policy:
    """Load a policy by shipped payer name (`medicare`) or path; raises `PolicyError` listing every problem.

    `as_of` (a date, default today) loads the policy as it was known then: rules announced later are left
    out, and deletions announced by then apply (retroactively when they say so)."""
    as_of = as_of or datetime.date.today()  # fixed now, so that worker processes load the same rules
    program, warnings = load_program(source, as_of)
    return Policy(program, warnings=warnings.diagnostics if warnings else (), source=os.fspath(source),
                  as_of=as_of, cwd=os.getcwd())
