"""One road for judging a stream of claims, on this process or on worker processes.

`Policy.check_many` (one policy for every claim) and `Session.check_many` (each claim routed to its payer's
policy, a claim history) both take it: a claim is read, routed, ordered and judged the same way whichever
door it came in by, and a change to how runs work is made here once.

What differs between the two doors is the `Routing`: which judge a claim goes to, and which policy a worker
judges it with.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from typing import IO, Any, Callable, Iterable, Iterator, NamedTuple, Protocol

from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.claims.formats import sniff
from payerpolicy.claims.json_files import ClaimFileError, line_not_utf8, open_claim_file, read_claim_text
from payerpolicy.claims.values import read_json
from payerpolicy.claims.model import Claim, ClaimRecord, UnreadableClaim
from payerpolicy.decision import Decision
from payerpolicy.judge.history import ClaimHistory
from payerpolicy.judge.history_cache import DEFAULT_CACHE_LINES
from payerpolicy.judge.memory_history import MemoryHistory
from payerpolicy.judge.judge import Judge
from payerpolicy.judge.window import judge_in_order
from payerpolicy.parallel import PolicySource, Route, judge_in_parallel, keys_of_text, patient_key_of

__all__ = ["Routing", "ClaimLine", "as_record", "claim_lines", "judge_claims", "SERIAL_BELOW"]

# A run of fewer claims than this is judged on this process whatever `workers` says: starting worker
# processes and sending them the policy costs about a second, which a small batch does not win back.
# `python bench/jobs.py --sizes 4000,8000,16000` on the 2-core machine (loaded): two jobs at 0.90 of one at
# 8,000 claims, 1.35 at 16,000. For a stream, decided once this many claims are read. PAYERPOLICY_SERIAL_BELOW sets it for a machine whose break-even lies elsewhere.
_SET_BELOW = os.environ.get("PAYERPOLICY_SERIAL_BELOW", "").strip()
SERIAL_BELOW = int(_SET_BELOW) if _SET_BELOW.isdigit() else 10_000


class ClaimLine(NamedTuple):
    """A claim as a line of JSON Lines, not yet read: the text (without its line break) and where it stood
    (`claims.jsonl line 7`). With worker processes it is read on a worker's core; alone, as the reader would."""

    text: str
    where: str


class Routing(Protocol):
    """Where each claim of a run goes."""

    def judge_for(self, record: ClaimRecord) -> Judge | Decision:
        """The judge of the claim's policy, or an error decision when no policy serves its payer."""

    def source_for(self, record: Claim) -> PolicySource:
        """The policy a worker judges this claim with (called after `judge_for` gave a judge)."""

    @property
    def only_source(self) -> PolicySource | None:
        """The one policy of every claim, when there is one: a claim in JSON form then goes to a worker
        unread, and is read on the worker's core."""

    def source_of_payer(self, payer: str | None) -> PolicySource | None:
        """The policy a worker judges a claim of this payer with (None: the claim names none); None when no
        policy serves it (the claim is then read and decided here)."""


def as_record(claim: object) -> ClaimRecord:
    """A claim as the judge takes it: a claim JSON dict is read (an unreadable one becomes its error record)."""
    if isinstance(claim, (Claim, UnreadableClaim)):
        return claim
    if isinstance(claim, ClaimLine):
        return read_claim_text(claim.text, claim.where, claim_from_dict, "this line")
    if isinstance(claim, dict):
        return claim_from_dict(claim)
    raise TypeError(f"a claim is a dict in the claim JSON form or a payerpolicy Claim, not {type(claim).__name__}")


def judge_claims(
    claims: Iterable[dict[str, Any] | ClaimRecord],
    routing: Routing,
    *,
    window: int,
    workers: int = 1,
    history: ClaimHistory | MemoryHistory | None = None,
    start_method: str | None = None,
    render: Callable[[Decision], Any] | None = None,
    serial_below: int | None = None,
) -> Iterator[Any]:
    """One decision per claim, in input order, streamed: a patient's claims read within `window` claims of
    each other are judged together (judge.window). `workers` > 1 judges on that many processes, split by
    patient, with the same decisions, once the input holds `serial_below` claims (default `SERIAL_BELOW`):
    a smaller one is judged here. `history`: the run's claim history, if any (decisions are given out once
    written to it; each worker opens it itself). `render`: each decision is given out as `render(decision)`,
    made on the worker that judged it (a picklable callable; `render.stream.Renderer`)."""
    if workers < 1:
        raise ValueError("workers must be 1 or more")
    if workers > 1 and isinstance(history, MemoryHistory):
        raise ValueError("a history in memory is one process's: judge with workers=1, or give a history file")
    plan = _Plan(routing, window, workers, history, start_method, render)
    if workers == 1:
        return _judged_here(claims, plan)
    return _judged_on_workers_from(SERIAL_BELOW if serial_below is None else serial_below, claims, plan)


@dataclass(frozen=True)
class _Plan:
    """How a run judges, as `judge_claims` was asked."""

    routing: Routing
    window: int
    workers: int
    history: ClaimHistory | MemoryHistory | None
    start_method: str | None
    render: Callable[[Decision], Any] | None


def _judged_here(claims: Iterable[object], plan: _Plan) -> Iterator[Any]:
    decisions = judge_in_order((as_record(c) for c in claims), plan.routing.judge_for, plan.window)
    if plan.history is not None:
        decisions = plan.history.written_first(decisions)
    return decisions if plan.render is None else map(plan.render, decisions)


def _judged_on_workers_from(threshold: int, claims: Iterable[object], plan: _Plan) -> Iterator[Any]:
    """On workers once the input holds `threshold` claims (read first, then judged with the rest); here when
    it ends before."""
    rest = iter(claims)
    head = list(itertools.islice(rest, threshold))
    if len(head) < threshold:
        yield from _judged_here(head, plan)
    else:
        yield from _judged_on_workers(itertools.chain(head, rest), plan)


def _judged_on_workers(claims: Iterable[object], plan: _Plan) -> Iterator[Any]:
    routing = plan.routing
    only = routing.only_source

    def prepare(claim: object) -> Decision | Route:
        if only is not None and isinstance(claim, dict):
            patient = patient_key_of(claim)
            if patient is not None:
                return Route(patient, only, claim)  # read on the worker's core
        if isinstance(claim, ClaimLine):
            keys = keys_of_text(claim.text)
            if keys is not None:
                source = only if only is not None else routing.source_of_payer(keys[1])
                if source is not None:
                    return Route(keys[0], source, (claim.text, claim.where))  # read on the worker's core
        record = as_record(claim)
        target = routing.judge_for(record)
        if isinstance(target, Decision):  # no policy for its payer
            return target
        if not isinstance(record, Claim):  # unreadable: decided without context, here
            return target.decide(record, None)
        return Route(record.patient_id, routing.source_for(record), record)

    # ":memory:" gives each worker its own history, which is the same for its own patients.
    shared = None
    history = plan.history
    if history is not None:
        shared = history.path if history.path == ":memory:" else os.path.abspath(history.path)
    return judge_in_parallel(
        claims,
        prepare,
        window=plan.window,
        workers=plan.workers,
        history_path=shared,
        history_cache_lines=history.cache_lines if isinstance(history, ClaimHistory) else DEFAULT_CACHE_LINES,
        start_method=plan.start_method,
        render=plan.render,
    )


def claim_lines(path: str, input_format: str = "auto") -> Iterator[ClaimRecord | ClaimLine] | None:
    """The claims of a JSON Lines file as unread lines (`ClaimLine`), for worker processes to read; None when
    the file is not plainly JSON Lines (then `session.read_claims` reads it, whatever its layout).

    Plainly JSON Lines is what `claims.json_files` reads line by line: the file is not X12 or FHIR, its first
    non-blank line is a claim (a JSON object) by itself, and another non-blank line follows. Each line gives
    exactly what that reader gives for it: blank lines are skipped, the first line loses a byte order mark, a
    line that is not UTF-8 is its unreadable claim, and `where` is `FILE line N`."""
    if input_format not in ("auto", "json"):
        return None
    stream = open_claim_file(path)
    try:
        if input_format == "auto" and sniff(stream.read(SNIFF_BYTES)) != "json":
            stream.close()
            return None
        stream.seek(0)
        lines = _decoded_lines(stream)
        head = []
        first = None
        for line in lines:
            head.append(line)
            text = line[1]
            if text is not None and not text.strip():
                continue  # blank
            if first is not None:
                break  # a claim line after the first: JSON Lines
            if text is None or text.lstrip().startswith("[") or not isinstance(_parsed_alone(text), dict):
                stream.close()
                return None  # an array, a claim over several lines, or a file the reader refuses
            first = text
        else:
            stream.close()
            return None  # one claim, or nothing: the reader says which
    except BaseException:
        stream.close()
        raise
    return _claim_lines(itertools.chain(head, lines), path, stream)


SNIFF_BYTES = 64 * 1024  # what `claims.formats` looks at to tell X12 and FHIR from claim JSON


def _decoded_lines(stream: IO[bytes]) -> Iterator[tuple[int, str | None, UnicodeDecodeError | None]]:
    for number, raw in enumerate(stream, 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            yield number, None, err
            continue
        if number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        yield number, text, None


def _parsed_alone(text: str) -> object:
    try:
        return read_json(text)
    except (ValueError, RecursionError):
        return None


def _claim_lines(
    lines: Iterable[tuple[int, str | None, UnicodeDecodeError | None]], label: str, stream: IO[bytes]
) -> Iterator[ClaimRecord | ClaimLine]:
    try:
        for number, text, error in lines:
            if text is None:  # not UTF-8: the reader's own record for such a line
                yield line_not_utf8(label, number, error)
            elif text.strip():
                yield ClaimLine(text.rstrip("\r\n"), f"{label} line {number}")
    except OSError as err:
        raise ClaimFileError(f"cannot read claims from {label}: {err.strerror or err}") from None
    finally:
        stream.close()
