"""The impact diff: the same claims judged by two policies, side by side, and what changes.

    import payerpolicy
    impact = payerpolicy.diff("policies/medicare", "my-edit/medicare", payerpolicy.read_claims("q3.jsonl"))
    for change in impact:                 # streamed: one ClaimChange per claim with a changed line
        ...
    impact.summary                        # totals by kind and by rule, the money at stake (complete after)
    impact.to_dict()                      # the whole report, as `payerpolicy diff --format json` writes it

Each side judges the claims exactly as `payerpolicy check --policy` would: the same window and judging
order, its own run history, and (with `history=`) its own private copy of the claim history file, which
the diff never writes to (a diff asks "what if", it does not bill). The claims are read, grouped and
ordered once, and both policies decide each in turn (`judge.side_by_side`), in one process or, with
`jobs=N`, on N worker processes split by patient (`parallel`), with the same result. At most about a window
of claims is held, and only the changed claims are passed on. A claim that names another payer than the two
policies' is left out and counted.
"""

from __future__ import annotations

import datetime
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, cast

from payerpolicy.api import DEFAULT_WINDOW, Policy, as_record, load
from payerpolicy.claims.model import Claim
from payerpolicy.diagnostics import SourceFiles
from payerpolicy.impact.compare import ClaimChange, compare_claim
from payerpolicy.impact.git_base import PolicyAtRevision, read_at_revision
from payerpolicy.impact.policy_changes import changed_rule_ids, policy_changes
from payerpolicy.impact.tally import Tally
from payerpolicy.judge.history import ClaimHistory, HistoryError
from payerpolicy.judge.side_by_side import SideBySide
from payerpolicy.judge.window import judge_in_order
from payerpolicy.parallel import PolicySource, Route, judge_in_parallel
from payerpolicy.pipeline import load_program, load_spec
from payerpolicy.policy.as_of import as_known_on
from payerpolicy.policy.check import check_policy
from payerpolicy.policy.model import PolicySpec
from payerpolicy.session import Policies, read_claims

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


def side(
    source: Policy | PolicySide | PolicyAtRevision | str | os.PathLike,
    as_of: datetime.date | None = None,
    policies: Policies | None = None,
) -> PolicySide:
    """Load one side: a `Policy`, a payer's name, a policy folder or file, or a `PolicyAtRevision`. A name is
    looked up in `policies` (the user's policy folders, then the shipped ones), else among the shipped payers.
    Raises `PolicyError` (every diagnostic) when it does not load, `RevisionError` when git cannot give it."""
    if isinstance(source, PolicySide):
        return source
    if isinstance(source, PolicyAtRevision):
        return _at_revision(source, as_of or datetime.date.today())
    if isinstance(source, Policy):
        policy = source
    elif policies is not None and isinstance(source, str) and source in policies:
        policy = policies.get(source)
    else:
        policy = load(source, as_of=as_of)
    return PolicySide(policy, _full_spec(policy), policy.source or policy.payer)


def _full_spec(policy: Policy) -> PolicySpec:
    """The policy's rules with their conditions. A policy from the compiled-policy cache keeps only what
    judging needs (conditions live on as generated code), so its files are read again, without compiling."""
    spec = policy.program.policy
    if policy.source is None or all(rule.condition is not None for rule in spec.rules):
        return spec
    diagnostics: list = []
    full = load_spec(policy.source, diagnostics, SourceFiles(), relative_to=Path(policy.cwd) if policy.cwd else None)
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
                out[key] = shown + out[key][len(prefix) :].replace(os.sep, "/")
        return out

    policy = Policy(
        program, warnings.diagnostics if warnings else (), source=target.label, as_of=as_of, cwd=os.getcwd()
    )
    return PolicySide(policy, program.policy, target.label, place)


class PolicyDiff:
    """What replacing policy `old` with `new` changes on `claims` (dicts in the claim form, claim records, or a
    claim file's path). Each of `old` and `new` is a `Policy`, a payer's name (found in the `policies`
    folders first, as `Policies` finds it, then among the shipped payers), a policy folder or file, a
    `PolicyAtRevision` (a folder as it was at a git revision), or a loaded `PolicySide`. The claims are judged
    by each exactly as `payerpolicy check --policy` judges them; `jobs` > 1 judges them on that many processes
    (start from an `if __name__ == "__main__":` block), with the same result. Raises `PolicyError` when a
    policy does not load, `ImpactError` when the two are for different payers (unless `different_payers`).

    Iterate it once for the changed claims (streamed); `summary` is complete once the iteration ends;
    `to_dict()` gives the whole report. `payerpolicy.diff` is this class: calling it makes one."""

    def __init__(
        self,
        old: Policy | PolicySide | PolicyAtRevision | str | os.PathLike,
        new: Policy | PolicySide | PolicyAtRevision | str | os.PathLike,
        claims: Iterable | str | os.PathLike,
        *,
        as_of: datetime.date | None = None,
        received: datetime.date | None = None,
        history: str | os.PathLike | None = None,
        window: int = DEFAULT_WINDOW,
        different_payers: bool = False,
        jobs: int = 1,
        policies: Iterable[str | os.PathLike] = (),
    ):
        as_of = as_of or datetime.date.today()
        registry = Policies(policies, as_of=as_of) if policies else None
        self.old, self.new = side(old, as_of, registry), side(new, as_of, registry)
        if jobs < 1:
            raise ValueError("jobs must be 1 or more")
        payer, new_payer = self.old.policy.payer, self.new.policy.payer
        if payer != new_payer and not different_payers:
            raise ImpactError(
                f"the old policy is for payer `{payer}` and the new one for `{new_payer}`: a diff "
                "compares two versions of one payer's policy (allow it with --different-payers, or "
                "different_payers=True, when comparing two payers is meant)"
            )
        self.claims = claims
        self.as_of, self.received, self.window = as_of, received or datetime.date.today(), window
        self.history, self.jobs = history, jobs
        if history is not None and not os.path.isfile(history):
            raise ImpactError(f"no claim history file {os.fspath(history)} (a diff reads a history, never makes one)")
        self.payers = {payer, new_payer}
        self.policy_changes = policy_changes(self.old.spec, self.new.spec, self.old.place)
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
        records = self._ours(as_record(c) for c in claims)
        programs = (self.old.policy.program, self.new.policy.program)
        histories: list = []
        folders: list[str] = []
        decisions: Iterator[Any]  # pairs (old, new) of decisions, in input order (judge.side_by_side)
        try:
            if self.jobs == 1:
                if self.history is not None:
                    histories = [_private_copy(self.history) for _ in range(2)]
                pair = SideBySide(programs, histories or (None, None), self.received)
                decisions = cast(Iterator[Any], judge_in_order(records, lambda record: pair, self.window))
            else:
                paths = None
                if self.history is not None:  # each worker opens them: files in private folders, for the run
                    copies = [_scratch_copy(self.history) for _ in range(2)]
                    folders = [folder for folder, _ in copies]
                    paths = tuple(path for _, path in copies)
                decisions = self._in_parallel(records, programs, paths)
            tally, place = self.tally, self.old.place
            for before, after in decisions:
                tally.judged(after)
                change = compare_claim(before, after, place)
                if change is not None:
                    tally.add(change)
                    yield change
        finally:
            for history in histories:
                history.close()
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)

    def _in_parallel(self, records, programs, paths) -> Iterator[Any]:
        """Both policies' decisions, judged on `jobs` worker processes, each taking its patients' claims."""
        source = PolicySource((self.old.policy, self.new.policy), self.received)
        here = SideBySide(programs, received=self.received)  # unreadable claims: decided here, without context

        def prepare(record):
            if isinstance(record, Claim):
                return Route(record.patient_id, source, record)
            return here.decide(record, None)

        return judge_in_parallel(records, prepare, window=self.window, workers=self.jobs, history_path=paths)

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


def _scratch_copy(path) -> tuple[str, str]:
    """A copy of a claim history in a private folder (0700): (the folder, the file)."""
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
    except sqlite3.Error as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise HistoryError(f"cannot read {os.fspath(path)} as a claim history: {exc}") from None
    return folder, scratch


def _private_copy(path) -> ClaimHistory:
    """Each side's own copy of a claim history, in a private scratch file removed at once (the open
    connection keeps it), so neither side sees the other's claims and the user's file is never written."""
    folder, scratch = _scratch_copy(path)
    try:
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


diff = PolicyDiff
"""The impact diff of two policies on the same claims: `PolicyDiff` itself, called by the name users write."""
