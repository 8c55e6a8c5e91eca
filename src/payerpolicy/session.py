"""The library's front door for judging runs: which policy judges each claim, and a session that judges a
stream of claims with history, dates, the window and worker processes, exactly as `payerpolicy check` does.

    import payerpolicy
    policies = payerpolicy.Policies(["my-payers"])           # the shipped payers plus the user's folders
    with payerpolicy.Session(policies, history="history.sqlite") as session:
        for decision in session.check_many(payerpolicy.read_claims("claims.jsonl")):
            print(decision.to_dict())

The command line is a client of this module: it adds only argument parsing and writing the decisions out.
"""

from __future__ import annotations

import datetime
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Literal, Mapping, TypeVar, Union, overload

from payerpolicy.claims.formats import read_claim_file
from payerpolicy.judge.history import RUN_BATCH, ClaimHistory
from payerpolicy.judge.history_cache import DEFAULT_HISTORY_MB, LINES_PER_MB, HistoryMemoryUse
from payerpolicy.judge.memory_history import MemoryHistory
from payerpolicy.claims.model import Claim, ClaimRecord, UnreadableClaim
from payerpolicy.decision import Decision
from payerpolicy.judge.judge import Judge
from payerpolicy.api import DEFAULT_WINDOW, Policy, load
from payerpolicy.diagnostics import Diagnostic, PolicyError, SourceFiles, render_all
from payerpolicy.parallel import PolicySource, policy_source
from payerpolicy.pipeline import load_program, looks_like_policy_folder, shipped_policies
from payerpolicy.run import ClaimLine, claim_lines, judge_claims

__all__ = ["Policies", "Session", "read_claims", "lint", "LintResult", "DEFAULT_PAYER"]

# The payer of a claim that names none.
DEFAULT_PAYER = "medicare"
# In a history given per payer, the key of the file for every payer not named.
EVERY_PAYER = "*"

T = TypeVar("T")
HistorySource = Union[str, "os.PathLike[str]", ClaimHistory, MemoryHistory]


@overload
def read_claims(
    source: str | os.PathLike[str] | IO[Any], format: str = "auto", *, unread_lines: Literal[False] = False
) -> Iterator[ClaimRecord]: ...


@overload
def read_claims(
    source: str | os.PathLike[str] | IO[Any], format: str = "auto", *, unread_lines: bool
) -> Iterator[ClaimRecord | ClaimLine]: ...


def read_claims(
    source: str | os.PathLike[str] | IO[Any], format: str = "auto", *, unread_lines: bool = False
) -> Iterator[ClaimRecord | ClaimLine]:
    """The claims of a file or stream, one record per claim in the order they stand in it, read lazily
    (JSON Lines and JSON arrays claim by claim). `format` is auto (told from the content), json, x12 or
    fhir. A claim that cannot be read is an `UnreadableClaim` naming its field, in its place: the n-th
    record is the n-th claim of the input whatever happened to it, so results can be reported in order.
    "-" reads standard input. A file that cannot be read at all raises `ClaimFileError`.

    `unread_lines=True`: a JSON Lines file (named by its path) gives its claims as unread lines of text
    (`payerpolicy.run.ClaimLine`), which a `Session` with `workers` reads on the workers' cores; it judges
    them exactly as the records they stand for. Other files are read as usual."""
    if unread_lines and isinstance(source, (str, os.PathLike)) and source != "-":
        lines = claim_lines(os.fspath(source), format)
        if lines is not None:
            return lines
    if isinstance(source, str) and source == "-":
        return read_claim_file(sys.stdin, name="stdin", input_format=format)
    return read_claim_file(source, input_format=format)


@dataclass(frozen=True)
class LintResult:
    """What `lint` found in one policy: `ok` when it loads (warnings allowed), its rule count, and every
    diagnostic placed at file:line:column. `render()` gives them as `payerpolicy lint` prints them, with the
    severity words coloured for a terminal when `colour` is true."""

    policy: str
    ok: bool
    rules: int | None  # the rules written (those in force on other dates included), as coverage counts them
    diagnostics: tuple[Diagnostic, ...]
    # The policy files' text, to quote the line each diagnostic points at.
    _sources: SourceFiles | None = field(default=None, compare=False, repr=False)
    rule_count_words: str = ""  # `66 rules (64 in force on 2026-12-03)`, as lint prints it

    def render(self, colour: bool = False) -> str:
        if not self.diagnostics:
            return ""
        return render_all(self.diagnostics, self._sources or SourceFiles(), colour)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"policy": self.policy, "ok": self.ok}
        if self.rules is not None:
            out["rules"] = self.rules
        out["diagnostics"] = [d.to_dict() for d in self.diagnostics]
        return out


def lint(source: str | os.PathLike[str]) -> list[LintResult]:
    """Check policies without judging claims: a policy folder or file, a shipped payer's name, or a folder of
    policy folders (such as `policies/`), one result per policy. `FileNotFoundError` when there is nothing."""
    path = Path(source)
    if not path.exists():
        if os.fspath(source) in shipped_policies():
            path = shipped_policies()[os.fspath(source)]
        else:
            raise FileNotFoundError(f"no such policy file or folder: {os.fspath(source)}")
    targets = [path]
    if path.is_dir() and not looks_like_policy_folder(path):
        targets = [p for p in sorted(path.iterdir()) if looks_like_policy_folder(p)]
    results = []
    for target in targets:
        try:
            program, warnings = load_program(str(target))
        except PolicyError as exc:
            results.append(LintResult(os.fspath(target), False, None, tuple(exc.diagnostics), exc.sources))
            continue
        found = tuple(warnings.diagnostics) if warnings else ()
        sources = warnings.sources if warnings else None
        words = program.rule_count_words(datetime.date.today())
        results.append(LintResult(os.fspath(target), True, program.rules_written, found, sources, words))
    return results


class Policies:
    """The policies a run can judge with, found by payer name: folders of the search path first (each a
    folder of policy folders, like the package's `policies/`, or one policy folder), then the shipped ones.
    A user's payer is found exactly like a shipped one; a folder of the search path named like a shipped
    payer stands in for it. Each policy is loaded and compiled once, when a claim first needs it."""

    def __init__(
        self,
        search_path: Iterable[str | os.PathLike[str]] = (),
        *,
        as_of: datetime.date | None = None,
        shipped: bool = True,
    ):
        # Fixed now, so that every policy of the run (and every worker process) is known on one date.
        self.as_of = as_of or datetime.date.today()
        self._folders: dict[str, Path] = {}
        for entry in search_path:
            for name, folder in _policy_folders(Path(entry)).items():
                self._folders.setdefault(name, folder)
        if shipped:
            for name, folder in shipped_policies().items():
                self._folders.setdefault(name, folder)
        self._loaded: dict[str, Policy] = {}

    def names(self) -> list[str]:
        return sorted(self._folders)

    def __contains__(self, name: str) -> bool:
        return name in self._folders

    def folder(self, name: str) -> Path:
        """The folder payer `name` is loaded from (the first on the search path that serves it), without
        loading it; `KeyError` when no folder serves it."""
        return self._folders[name]

    def get(self, name: str) -> Policy:
        """The policy of payer `name`; `KeyError` when no folder serves it, `PolicyError` when its files
        have errors (every one of them)."""
        policy = self._loaded.get(name)
        if policy is None:
            policy = self._loaded[name] = load(self._folders[name], as_of=self.as_of)
        return policy

    def __repr__(self) -> str:
        return f"<Policies {', '.join(self.names())}>"


def _policy_folders(path: Path) -> dict[str, Path]:
    if looks_like_policy_folder(path):
        return {path.resolve().name: path}
    if not path.is_dir():
        raise FileNotFoundError(f"no such policy folder: {path}")
    return {p.name: p for p in sorted(path.iterdir()) if p.is_dir() and looks_like_policy_folder(p)}


class Session:
    """A judging run: claims routed to their payer's policy, judged with the claims around them (the window)
    and, when given, the patient's earlier claims in a history file, which the run adds to.

    `policies`: a `Policies` (route each claim by its `payer`), or one `Policy` or policy name or path for
    every claim. `as_of`: the date the policies are known on (default today). `received`: the date the payer
    receives the claims (`claim.received` in rules; default today). `history`: a path or `ClaimHistory` for
    every claim, a `MemoryHistory` holding earlier claims given as data (one process: `workers` must be 1), or
    a history per payer: a mapping of payer name (the judging policy's payer; "*" for every payer not named)
    to a path or history; a payer with none is judged without history. `history_memory`: megabytes of
    recent patients' claims a history opened from a path keeps in memory, in each process (default 100); a
    run whose patients' claims all fit judges each claim without reading the file (about 1 GB holds
    1,000,000 claims).
    `window`: a patient's claims are judged together, in date-of-service order, when read within this
    many claims of the first of them (judge.window). `workers` > 1 judges on that many processes (start from an `if __name__ == "__main__":` block)
    when a run holds at least `serial_below` claims (default `payerpolicy.run.SERIAL_BELOW`); a smaller run is
    judged on this process, where it is faster.
    """

    def __init__(
        self,
        policies: Policies | Policy | str | os.PathLike[str] | None = None,
        *,
        as_of: datetime.date | None = None,
        received: datetime.date | None = None,
        history: HistorySource | Mapping[str, HistorySource] | None = None,
        window: int = DEFAULT_WINDOW,
        workers: int = 1,
        serial_below: int | None = None,
        history_memory: int | None = None,
    ):
        if window < 0:
            raise ValueError("window must be 0 or more")
        if workers < 1:
            raise ValueError("workers must be 1 or more")
        if history_memory is not None and history_memory < 1:
            raise ValueError("history_memory must be 1 (megabyte) or more")
        self._cache_lines = (history_memory or DEFAULT_HISTORY_MB) * LINES_PER_MB
        self.as_of = as_of or (
            policies.as_of if isinstance(policies, (Policies, Policy)) and policies.as_of else datetime.date.today()
        )
        self.received = received or datetime.date.today()  # one date for the whole run
        self.window, self.workers, self.serial_below = window, workers, serial_below
        if policies is None:
            policies = Policies(as_of=self.as_of)
        elif not isinstance(policies, (Policies, Policy)):
            policies = load(policies, as_of=self.as_of)  # a bad policy is reported before any claim
        self.policies = policies
        self._per_payer: dict[str, ClaimHistory | MemoryHistory] = {}
        self._opened: list[ClaimHistory] = []  # the per-payer histories this session opened (and closes)
        if isinstance(history, MemoryHistory) and workers > 1:
            raise ValueError("a history in memory is one process's: judge with workers=1, or give a history file")
        if isinstance(history, Mapping):
            if workers > 1:
                raise ValueError("a history per payer is for workers=1: give one history file for every payer")
            self._open_per_payer(history)
            history = None
        # A history the session opens (given a path) writes in batches: `check_many` gives out decisions once
        # written. One given open belongs to the caller, who closes it.
        self.history: ClaimHistory | MemoryHistory | None
        self._owns_history = history is not None and not isinstance(history, (ClaimHistory, MemoryHistory))
        if history is None or isinstance(history, (ClaimHistory, MemoryHistory)):
            self.history = history
        else:
            self.history = ClaimHistory(history, batch=RUN_BATCH, cache_lines=self._cache_lines)
        self._judges: dict[str, Judge] = {}
        self._sources: dict[str, PolicySource] = {}  # the policies as workers get them, by name

    def _open_per_payer(self, histories: Mapping[str, HistorySource]) -> None:
        by_file: dict[str, ClaimHistory] = {}  # two payers named to one file share one connection to it
        try:
            for payer, source in histories.items():
                if not isinstance(source, (ClaimHistory, MemoryHistory)):
                    key = os.path.abspath(source)
                    if key not in by_file:
                        by_file[key] = ClaimHistory(source, batch=RUN_BATCH, cache_lines=self._cache_lines)
                        self._opened.append(by_file[key])
                    source = by_file[key]
                self._per_payer[payer] = source
        except BaseException:
            self.close()
            raise

    # -- routing -------------------------------------------------------------------------------------

    def policy_name(self, record: ClaimRecord) -> str:
        if isinstance(self.policies, Policy):
            return self.policies.source or self.policies.payer
        payer = record.payer if isinstance(record, (Claim, UnreadableClaim)) else None
        return payer or DEFAULT_PAYER

    def policy_for(self, record: ClaimRecord) -> Policy | None:
        if isinstance(self.policies, Policy):
            return self.policies
        name = self.policy_name(record)
        return self.policies.get(name) if name in self.policies else None

    def judge_for(self, record: ClaimRecord) -> Judge | Decision:
        """The judge of the claim's policy, or an error decision when no policy serves its payer."""
        name = self.policy_name(record)
        judge = self._judges.get(name)
        if judge is None:
            policy = self.policy_for(record)
            if policy is None:
                known = self.policies.names() if isinstance(self.policies, Policies) else []
                return _no_policy(record, name, known)
            program = policy.program
            history = self._history_of(policy.payer) if program.uses_history else None
            judge = self._judges[name] = Judge(program, history=history, received=self.received)
        return judge

    def _history_of(self, payer: str) -> ClaimHistory | MemoryHistory | None:
        if not self._per_payer:
            return self.history
        return self._per_payer.get(payer, self._per_payer.get(EVERY_PAYER))

    # -- judging -------------------------------------------------------------------------------------

    def check(self, claim: dict[str, Any] | ClaimRecord) -> Decision:
        """One claim, judged with the claims this session judged before it (through its history)."""
        return next(iter(self.check_many([claim])))

    def check_many(self, claims: Iterable[dict[str, Any] | ClaimRecord]) -> Iterator[Decision]:
        """One decision per claim, in input order, streamed (at most `window` claims held at once)."""
        return self._judged(claims, None)

    def render_many(
        self, claims: Iterable[dict[str, Any] | ClaimRecord | ClaimLine], render: Callable[[Decision], T]
    ) -> Iterator[T]:
        """`render(decision)` for each claim, in input order, as `check_many` judges them; with worker
        processes, each decision is rendered on the worker that made it (`render` must pickle: a
        `payerpolicy.render.stream.Renderer`, say). Claims may also be lines of JSON Lines (`run.ClaimLine`),
        read on the workers."""
        return self._judged(claims, render)

    def _judged(self, claims: Iterable[Any], render: Callable[[Decision], Any] | None) -> Iterator[Any]:
        decisions = judge_claims(
            claims,
            self,
            window=self.window,
            workers=self.workers,
            history=self.history,
            render=render if not self._per_payer else None,
            serial_below=self.serial_below,
        )
        # Each history per payer (one worker only) gives a decision out only once it has written the claims
        # recorded before it, so a decision that passes through every one of them is out once all have.
        for history in {id(h): h for h in self._per_payer.values()}.values():
            decisions = history.written_first(decisions)
        if self._per_payer and render is not None:
            decisions = map(render, decisions)
        return decisions

    # -- for worker processes (payerpolicy.run) -------------------------------------------------------

    def source_for(self, record: Claim) -> PolicySource:
        policy = self.policy_for(record)
        if policy is None:  # judge_for answered for this claim already: no policy, no worker
            raise LookupError(f"no policy for payer `{self.policy_name(record)}`")
        return self._source(self.policy_name(record), policy)

    @property
    def only_source(self) -> PolicySource | None:
        """One policy for every claim: claims in JSON form are read on the workers."""
        if not isinstance(self.policies, Policy):
            return None
        return self._source(self.policies.source or self.policies.payer, self.policies)

    def source_of_payer(self, payer: str | None) -> PolicySource | None:
        """The policy a worker judges a claim naming this payer with; None when no policy serves it."""
        if isinstance(self.policies, Policy):
            return self.only_source
        name = payer or DEFAULT_PAYER
        if name not in self.policies:
            return None
        return self._source(name, self.policies.get(name))

    def _source(self, name: str, policy: Policy) -> PolicySource:
        source = self._sources.get(name)
        if source is None:
            source = self._sources[name] = policy_source(policy, self.received)
        return source

    def history_memory_use(self) -> HistoryMemoryUse | None:
        """How the memory of recent patients (`history_memory`) of the history files this session judges with
        served it so far, in this process (worker processes keep their own, not counted here); None with no
        history file. A run whose `read_again` is a good share of its claims reads patients back from the file
        for its claims, and slows down: `wanted_mb` would have held them all."""
        files = {id(h): h for h in (self.history, *self._per_payer.values()) if isinstance(h, ClaimHistory)}
        uses = [history.memory_use() for history in files.values()]  # a file two payers share counts once
        if not uses:
            return None
        return HistoryMemoryUse(
            sum(use.read_again for use in uses),
            sum(use.lines_read_again for use in uses),
            sum(use.wanted_mb for use in uses),
            any(use.at_least for use in uses),
        )

    def close(self) -> None:
        if self._owns_history and self.history is not None:
            self.history.close()
        for history in self._opened:
            history.close()
        self._opened.clear()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _no_policy(record: ClaimRecord, name: str, names: list[str]) -> Decision:
    known = ", ".join(names)
    return Decision(
        getattr(record, "id", None),
        None,
        "error",
        errors=(
            {
                "field": "payer",
                "message": f"no policy for payer `{name}` (known: {known}); "
                "name one with --payer or --policy, or add its folder with --policies",
            },
        ),
    )
