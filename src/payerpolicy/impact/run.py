"""The impact diff: the same claims judged by two policies, side by side, and what changes.

    import payerpolicy
    impact = payerpolicy.diff("policies/medicare", "my-edit/medicare", payerpolicy.read_claims("q3.jsonl"))
    for change in impact:                 # streamed: one ClaimChange per claim with a changed line
        ...
    impact.summary                        # totals by kind and by rule, the money at stake (complete after)
    impact.to_dict()                      # the whole report, as `payerpolicy diff --format json` writes it

Each side is a `Session` of its own, exactly as `payerpolicy check --policy` would judge the claims: its own
window, its own run history, and (with `history=`) its own private copy of the claim history file, which
the diff never writes to (a diff asks "what if", it does not bill). The claims are read once and handed to
both sessions in step (`itertools.tee`), so at most about a window of claims is held, and only the changed
claims are passed on. A claim that names another payer than the two policies' is left out and counted.
"""
from __future__ import annotations

import datetime
import itertools
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from payerpolicy.api import DEFAULT_WINDOW, Policy, as_record, load
from payerpolicy.diagnostics import SourceFiles
from payerpolicy.impact.compare import ClaimChange, compare_claim
from payerpolicy.impact.git_base import PolicyAtRevision, read_at_revision
from payerpolicy.impact.policy_changes import changed_rule_ids, policy_changes
from payerpolicy.impact.tally import Tally
from payerpolicy.judge.history import ClaimHistory, HistoryError
from payerpolicy.pipeline import load_program, load_spec
from payerpolicy.policy.as_of import as_known_on
from payerpolicy.policy.check import check_policy
from payerpolicy.policy.model import PolicySpec
from payerpolicy.session import Session, read_claims

__all__ = ["ImpactError", "PolicySide", "PolicyDiff", "side", "diff"]


class ImpactError(ValueError):
    """Two policies that cannot be diffed as asked (different payers), or a claim history that cannot be read."""


@dataclass
class PolicySide:
    """One side of a diff: the policy that judges, its rules in full (for what changed), and how its files
    are named in the report (`place` rewrites a finding's `source`)."""

    policy: Policy
    spec: PolicySpec
    label: str
    place: Callable[[dict], dict] = dict

    def describe(self) -> dict:
        return {"payer": self.policy.payer, "version": self.policy.version, "source": self.label}


def side(source: Policy | PolicySide | PolicyAtRevision | str | os.PathLike,
         as_of: datetime.date | None = None) -> PolicySide:
    """Load one side: a `Policy`, a shipped payer's name, a policy folder or file, or a `PolicyAtRevision`.
    Raises `PolicyError` (every diagnostic) when it does not load, `RevisionError` when git cannot give it."""
    if isinstance(source, PolicySide):
        return source
    if isinstance(source, PolicyAtRevision):
        return _at_revision(source, as_of or datetime.date.today())
    policy = source if isinstance(source, Policy) else load(source, as_of=as_of)
    return PolicySide(policy, _full_spec(policy), policy.source or policy.payer)


def _full_spec(policy: Policy) -> PolicySpec:
    """The policy's rules with their conditions. A policy from the compiled-policy cache keeps only what
    judging needs (conditions live on as generated code), so its files are read again, without compiling."""
    spec = policy.program.policy
    if policy.source is None or all(rule.condition is not None for rule in spec.rules):
        return spec
    diagnostics: list = []
    full = load_spec(policy.source, diagnostics, SourceFiles(),
                     relative_to=Path(policy.cwd) if policy.cwd else None)
    if full is None:  # the files changed since the load: compare what was compiled
        return spec
    check_policy(full, diagnostics)
    return as_known_on(full, policy.as_of or datetime.date.today())


def _at_revision(target: PolicyAtRevision, as_of: datetime.date) -> PolicySide:
    scratch, folder, shown = read_at_revision(target)
    try:
        # Not through the compiled-policy cache: the scratch folder is gone after this run.
        program, warnings = load_program(str(folder), as_of, cache=False)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    prefix = str(scratch.resolve()) + os.sep

    def place(source: dict) -> dict:
        out = dict(source)
        for key in ("file", "table"):
            if isinstance(out.get(key), str) and out[key].startswith(prefix):
                out[key] = shown + out[key][len(prefix):].replace(os.sep, "/")
        return out

    policy = Policy(program, warnings.diagnostics if warnings else (), source=target.label, as_of=as_of,
                    cwd=os.getcwd())
    return PolicySide(policy, program.policy, target.label, place)


class PolicyDiff:
    """The impact of replacing policy `old` with `new` on a stream of claims. Iterate it once for the changed
    claims (streamed); `summary` is complete once the iteration ends; `to_dict()` gives the whole report."""

    def __init__(self, old: PolicySide, new: PolicySide, claims: Iterable | str | os.PathLike, *, as_of: datetime.date | None = None,
                 received: datetime.date | None = None, history: str | os.PathLike | None = None,
                 window: int = DEFAULT_WINDOW, different_payers: bool = False):
        if old.policy.payer != new.policy.payer and not different_payers:
            raise ImpactError(
                f"the old policy is for payer `{old.policy.payer}` and the new one for `{new.policy.payer}`: a diff "
                "compares two versions of one payer's policy (allow it with --different-payers, or "
                "different_payers=True, when comparing two payers is meant)")
        self.old, self.new = old, new
        self.claims = claims
        self.as_of, self.received, self.window = as_of, received or datetime.date.today(), window
        self.history = history
        if history is not None and not os.path.isfile(history):
            raise ImpactError(f"no claim history file {os.fspath(history)} (a diff reads a history, never makes one)")
        self.payers = {old.policy.payer, new.policy.payer}
        self.policy_changes = policy_changes(old.spec, new.spec, old.place)
        self.tally = Tally()
        self._started = False

    @property
    def summary(self) -> dict:
        return self.tally.to_dict(changed_rule_ids(self.policy_changes))

    def head(self) -> dict:
        """What is known before any claim: the two policies and what differs between them."""
        return {"old": self.old.describe(), "new": self.new.describe(), "policy_changes": self.policy_changes}

    def __iter__(self) -> Iterator[ClaimChange]:
        if self._started:
            raise RuntimeError("an impact diff streams its claims once; make another to run it again")
        self._started = True
        return self._changes()

    def _changes(self) -> Iterator[ClaimChange]:
        claims = self.claims
        if isinstance(claims, (str, os.PathLike)):
            claims = read_claims(claims)
        first, second = itertools.tee(self._ours(as_record(c) for c in claims))
        histories = [_private_copy(self.history) for _ in range(2)] if self.history is not None else [None, None]
        try:
            sessions = [Session(s.policy, as_of=self.as_of or s.policy.as_of, received=self.received,
                                history=h, window=self.window) for s, h in zip((self.old, self.new), histories)]
            tally, place = self.tally, self.old.place
            for before, after in zip(sessions[0].check_many(first), sessions[1].check_many(second)):
                tally.judged(after)
                change = compare_claim(before, after, place)
                if change is not None:
                    tally.add(change)
                    yield change
        finally:
            for history in histories:
                if history is not None:
                    history.close()

    def _ours(self, records) -> Iterator:
        """The claims of the policies' payer (or naming none, which the default policy judges)."""
        payers, tally = self.payers, self.tally
        for record in records:
            payer = getattr(record, "payer", None)
            if payer is None or payer in payers:
                yield record
            else:
                tally.other_payers += 1

    def to_dict(self) -> dict:
        """The whole report: the policies, what differs between them, every changed claim, the summary."""
        claims = [change.to_dict() for change in self]
        return {**self.head(), "claims": claims, "summary": self.summary}


def _private_copy(path) -> ClaimHistory:
    """Each side's own copy of a claim history, in a private scratch file removed at once (the open
    connection keeps it), so neither side sees the other's claims and the user's file is never written."""
    folder = tempfile.mkdtemp(prefix="payerpolicy-diff-")
    scratch = os.path.join(folder, "history.sqlite")
    try:
        source = sqlite3.connect(f"file:{Path(path).resolve().as_posix()}?mode=ro", uri=True)
        try:
            target = sqlite3.connect(scratch)
            source.backup(target)
            target.close()
        finally:
            source.close()
        history = ClaimHistory(scratch, durable=False)
    except sqlite3.Error as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise HistoryError(f"cannot read {os.fspath(path)} as a claim history: {exc}") from None
    try:
        os.unlink(scratch)
        os.rmdir(folder)
    except OSError:  # not POSIX: removed when the run closes
        import atexit
        atexit.register(shutil.rmtree, folder, True)
    return history


def diff(old, new, claims: Iterable | str | os.PathLike, *, as_of: datetime.date | None = None,
         received: datetime.date | None = None, history: str | os.PathLike | None = None,
         window: int = DEFAULT_WINDOW, different_payers: bool = False) -> PolicyDiff:
    """What replacing policy `old` with `new` changes on `claims` (dicts in the claim form, claim records, or a
    claim file's path). Each of `old` and `new` is a `Policy`, a shipped payer's name, a policy folder or
    file, or a `PolicyAtRevision` (a folder as it was at a git revision). The claims are judged by each
    exactly as `payerpolicy check --policy` judges them. Raises `PolicyError` when a policy does not load,
    `ImpactError` when the two are for different payers (unless `different_payers`)."""
    as_of = as_of or datetime.date.today()
    return PolicyDiff(side(old, as_of), side(new, as_of), claims, as_of=as_of, received=received,
                      history=history, window=window, different_payers=different_payers)
