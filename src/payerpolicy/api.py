"""`Policy`: a loaded, compiled policy, and the library's way to judge claims with it."""

from __future__ import annotations

import datetime
import functools
import os
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping

from payerpolicy.claims.json_claims import claim_field_by_field
from payerpolicy.claims.json_quick import quick_claim
from payerpolicy.claims.model import Claim, ClaimRecord
from payerpolicy.decision import Decision
from payerpolicy.diagnostics import Diagnostic, SourceFiles
from payerpolicy.judge.check_road import CheckRoad, check_road
from payerpolicy.judge.judge import Judge, today
from payerpolicy.judge import timed_units
from payerpolicy.parallel import PolicySource, policy_source
from payerpolicy.pipeline import load_program
from payerpolicy.program.compile import RuleProgram
from payerpolicy._gc import paused as gc_paused
from payerpolicy.run import as_record as as_record  # re-exported: the readers of later stages use it too
from payerpolicy.run import judge_claims

# How many claims after a claim are read before it is judged: claims of one visit sent a little apart in
# the input are still judged together.
DEFAULT_WINDOW = 10_000


class Policy:
    def __init__(
        self,
        program: RuleProgram,
        warnings: Iterable[Diagnostic] = (),
        *,
        source: str | None = None,
        as_of: datetime.date | None = None,
        cwd: str | None = None,
    ):
        self.program = program
        self.warnings = list(warnings)
        # What it was loaded from (set by `payerpolicy.load`). `as_of` is the date it was known on; `cwd` the working
        # folder, against which a relative source and the file names findings cite are read.
        self.source, self.cwd = source, cwd
        self.as_of = as_of or datetime.date.today()
        spec = program.policy
        self.payer, self.name, self.version = spec.payer, spec.name, spec.version
        self.fictional = spec.fictional
        # Judges for `check`, kept between calls: making one per claim cost as much as reading the claim.
        self._spare_judges: list[Judge] = []
        # `check`'s quick road for claim JSON on which no rule fires (judge.check_road), made at the first
        # claim JSON checked; False when the program has none.
        self._road: CheckRoad | Literal[False] | None = None

    def __reduce__(self) -> tuple[Callable[..., Policy], tuple[Any, ...]]:
        """A policy pickles as its compiled plan (the checked rules and their generated functions as text),
        not as its files: a worker process or a Spark task gets it without reading YAML or parsing rules,
        and compiles only the functions' shapes."""
        from payerpolicy.program import cache as program_cache

        made = program_cache.pack(self.program.policy, self.program.plan)
        return _unpickle_policy, (made, self.program.identity, self.warnings, self.source, self.as_of, self.cwd)

    def __repr__(self) -> str:
        return f"<Policy {self.payer} {self.version}: {self.program.rule_count_words(self.as_of)}>"

    def check(self, claim: dict[str, Any] | ClaimRecord, received: datetime.date | None = None) -> Decision:
        """Judge one claim on its own (its lines still form days together). `received`: the date the payer
        receives it (`claim.received` in rules; a claim does not carry it), by default today."""
        if claim.__class__ is dict:  # claim JSON, as `as_record` reads it, without its calls on the way
            road = self._road
            if road is None:
                road = self._road = check_road(self.program) or False
            read = road.decide(claim) if road else None
            if isinstance(read, Decision):  # every line accepted, decided on the quick road
                return read
            record: ClaimRecord | None = read if read is not None else quick_claim(claim)
            if record is None:
                record = claim_field_by_field(claim)
        else:
            record = as_record(claim)
        try:  # a judge of one claim alone, left clean by the last call; two threads never get the same one
            judge = self._spare_judges.pop()
        except IndexError:
            judge = Judge(self.program, remember=False)
        judge.received = received or today()
        decision = judge.decide_alone(record)
        self._spare_judges.append(judge)  # not reached after an error: that judge is dropped, whatever it holds
        return decision

    def check_many(
        self,
        claims: Iterable[dict[str, Any] | ClaimRecord],
        window: int = DEFAULT_WINDOW,
        workers: int = 1,
        received: datetime.date | None = None,
    ) -> Iterator[Decision]:
        """Judge a stream of claims, yielding one decision per claim in input order.

        A patient's claims are judged together, in date-of-service order, when read within `window` claims of
        the first of them (README "Which claims are judged together"): decisions do not depend on the order
        of the input within that reach. At most about `window` claims are held at once.

        `workers` > 1 judges on that many processes, each taking a share of the patients; the decisions are
        the same as with one. The workers get this policy pickled (its compiled plan), so
        a script that uses them must start from an `if __name__ == "__main__":` block (Python's rule for
        processes it starts).

        `received` is the date the payer receives the claims (`claim.received` in rules), by default today.
        """
        return judge_claims(claims, OnePolicy(self, received), window=window, workers=workers)


class OnePolicy:
    """The routing of `Policy.check_many` (payerpolicy.run): every claim to this policy's judge."""

    def __init__(self, policy: Policy, received: datetime.date | None = None):
        received = received or today()  # one date for the whole run, on every worker
        self.only_source: PolicySource = policy_source(policy, received)
        self._judge = Judge(policy.program, received=received)
        self._judge.history_ends_with_run = True  # a judge of this one run (`check_many` makes a new one)

    def judge_for(self, record: ClaimRecord) -> Judge:
        return self._judge

    def source_for(self, record: Claim) -> PolicySource:
        return self.only_source

    def source_of_payer(self, payer: str | None) -> PolicySource:
        return self.only_source


def _unpickle_policy(
    made: bytes,
    identity: str | None,
    warnings: list[Diagnostic],
    source: str | None,
    as_of: datetime.date | None,
    cwd: str | None,
) -> Policy:
    from payerpolicy.program import cache as program_cache
    from payerpolicy.program.compile import assemble

    with gc_paused():
        spec, plan = program_cache.unpack(made)
        program = assemble(spec, plan)
    program.identity = identity
    return Policy(program, warnings, source=source, as_of=as_of, cwd=cwd)


def load(source: str | os.PathLike[str], as_of: datetime.date | None = None) -> Policy:
    """Load a policy by shipped payer name (`medicare`) or path; raises `PolicyError` listing every problem.

    `as_of` (a date, default today) loads the policy as it was known then: rules announced later are left
    out, and deletions announced by then apply (retroactively when they say so)."""
    as_of = as_of or datetime.date.today()  # fixed now, so that worker processes load the same rules
    program, warnings = load_program(source, as_of)
    return Policy(
        program,
        warnings=warnings.diagnostics if warnings else (),
        source=os.fspath(source),
        as_of=as_of,
        cwd=os.getcwd(),
    )


# ------------------------------------------------------------------------------------- timed units alone


@functools.lru_cache(maxsize=1)
def medicare_untimed() -> frozenset[str]:
    """The untimed codes of the shipped Medicare policy (its `untimed` code set, ranges expanded)."""
    return frozenset(timed_units.expand_codes(load("medicare").program.policy.code_sets["untimed"].entries))


def _with_medicare_untimed(untimed: str | int | Iterable[str | int]) -> frozenset[str]:
    if isinstance(untimed, (str, int)):
        untimed = (untimed,)
    return medicare_untimed() | timed_units.expand_codes(untimed)


@functools.wraps(timed_units.units)
def units(
    minutes_by_code: Mapping[str, Any], method: str = "cms", untimed: str | int | Iterable[str | int] = ()
) -> dict[str, int]:
    return timed_units.units(minutes_by_code, method, _with_medicare_untimed(untimed))


@functools.wraps(timed_units.splits)
def splits(
    minutes_by_code: Mapping[str, Any], method: str = "cms", untimed: str | int | Iterable[str | int] = ()
) -> dict[str, Any]:
    return timed_units.splits(minutes_by_code, method, _with_medicare_untimed(untimed))


@functools.wraps(timed_units.day_report)
def day_report(
    minutes_by_code: Mapping[str, Any], method: str = "cms", untimed: str | int | Iterable[str | int] = ()
) -> dict[str, Any]:
    return timed_units.day_report(minutes_by_code, method, _with_medicare_untimed(untimed))


# ---------------------------------------------------------------------------------- policies not in files


def load_text(policy: str | Mapping[str, Any], as_of: datetime.date | None = None, name: str = "<policy>") -> Policy:
    """Load a one-file policy given as YAML text, or as the mapping that text holds (a `dict` with a
    `policy:` section, `rules:`, `unit_caps:` ...), as an application that keeps policies in a database does.
    `extends: medicare` finds a shipped payer; files a policy names by path (tables) are not reachable.
    Diagnostics and findings name the policy `name` (line and column count in the YAML text; for a mapping,
    in its YAML form). Raises `PolicyError` with every problem, as `load` does. Nothing is cached."""
    import tempfile
    from pathlib import Path

    import yaml

    from payerpolicy.diagnostics import PolicyError
    from payerpolicy.pipeline import display_name

    text = policy if isinstance(policy, str) else yaml.safe_dump(policy, sort_keys=False, allow_unicode=True)
    as_of = as_of or datetime.date.today()
    with tempfile.TemporaryDirectory(prefix="payerpolicy-text-") as scratch:  # private (0700), removed after
        file = Path(scratch) / "policy.yaml"
        file.write_text(text, encoding="utf-8")
        shown = display_name(file)
        try:
            program, warnings = load_program(Path(scratch), as_of, cache=False)
        except PolicyError as error:
            raise PolicyError(
                _renamed(error.diagnostics, shown, name),
                _renamed_texts(
                    error.sources,
                    shown,
                    name,
                ),
            ) from None
    for rule in program.policy.rules:  # findings cite the policy by its name, not a scratch file's
        if rule.source.get("file") == shown:
            rule.source["file"] = name
    kept = _renamed(warnings.diagnostics, shown, name) if warnings else ()
    return Policy(program, warnings=kept, source=name, as_of=as_of, cwd=os.getcwd())


def _renamed(diagnostics: Iterable[Diagnostic], shown: str, name: str) -> list[Diagnostic]:
    import dataclasses

    return [
        dataclasses.replace(d, span=dataclasses.replace(d.span, file=name))
        if d.span is not None and d.span.file == shown
        else d
        for d in diagnostics
    ]


def _renamed_texts(sources: SourceFiles, shown: str, name: str) -> SourceFiles:
    return SourceFiles(texts={(name if file == shown else file): text for file, text in sources.texts.items()})
