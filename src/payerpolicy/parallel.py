"""Judging on several cores: claims split by patient over worker processes, results exactly as with one.

Why by patient: every bit of context a rule may look at belongs to one patient (the day book is keyed by
patient and date of service, a replacement or void by patient and claim id, the claim history by patient).
So a worker that gets all of a patient's claims judges them exactly as one process would, provided it
also keeps the window of the whole input: a patient's group takes the claims read within `window` claims of
its first, counted in positions of the WHOLE input, not of the worker's share. `WindowedJudging` (judge.window) works
over (position, claim) pairs, so that a worker evicts and decides by global position.

How it runs:
- The parent reads the input lazily and routes each claim by `zlib.crc32` of its patient id (stable across
  processes, unlike `hash()`). Claims that need no context are decided in the parent: unreadable claims
  (they carry no usable patient) and, on the command line, claims whose payer has no policy.
- Claims go to persistent worker processes in chunks, each chunk with the input position read so far (the
  "frontier"), which tells a worker which of its claims the whole input order would have decided by now.
- A claim may go as the JSON text of a line of JSON Lines, routed by the keys read from the text
  (`keys_of_text`, exact or none) and read by the worker; a line that turns out unreadable is handed back, and
  the parent decides it as one process would (with the policy of the payer the reader found, if any).
- Workers send back (position, decision) pairs, or (position, rendered output) when the run renders (the
  command line: the output text is made on the workers' cores); the parent puts them back in input order.
  The parent reads at most `window + LOOKAHEAD` claims ahead of the first decision not yet given out, so memory stays bounded.
- Each policy goes to the workers once, pickled as its compiled plan (`Policy.__reduce__`): they compile only
  its function shapes, never read policy files, and judge with exactly what the parent loaded.
- A worker's error is raised in the parent after the decisions the one-process run would have given out
  before it; a worker that dies is reported at once; on any early stop the workers are terminated.
"""

from __future__ import annotations

import contextlib
import copyreg
import dataclasses
import datetime
import gc
import io
import multiprocessing
import operator
import pickle
import queue
import re
import signal
import threading
import traceback
import zlib
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Protocol

from payerpolicy.claims.json_claims import claim_from_dict
from payerpolicy.claims.json_files import read_claim_text
from payerpolicy.claims.model import Claim, ClaimProblem, Provider, ServiceLine, TreatmentPeriod, UnreadableClaim
from payerpolicy.decision import Finding, Fix
from payerpolicy._gc import paused as gc_paused
from payerpolicy.judge.history_cache import DEFAULT_CACHE_LINES
from payerpolicy.judge.judge import Judge
from payerpolicy.judge.side_by_side import SideBySide
from payerpolicy.judge.window import WindowedJudging
from payerpolicy.program.compile import RuleProgram

__all__ = [
    "WindowedJudging",
    "PolicySource",
    "Route",
    "worker_of",
    "judge_in_parallel",
    "patient_key_of",
    "keys_of_text",
]

# Input positions per chunk sent to the workers. Big enough that messages cost little next to judging,
# small enough that workers start early and the parent's buffers stay small.
CHUNK = 512
# How many positions beyond the window the parent may read ahead of the first decision not yet given out:
# the chunks in flight that keep every worker busy while the parent waits.
LOOKAHEAD = 4 * CHUNK
# spawn: a fresh interpreter per worker. Safe everywhere (no inherited threads, locks or file descriptors,
# and the same on Linux, macOS and Windows). Starting two workers and loading the policy in each took 0.9 s
# on the 2-core test machine, against 0.2 s with fork and 0.8 s with forkserver; once started, all judge at
# the same speed. Fork works too (start_method="fork"), but is unsafe when the caller runs threads.
START_METHOD = "spawn"
# The exit code of a worker that found itself started by a script with no main-module guard (see
# `_refuse_unguarded_main`): the parent turns it into a sentence instead of multiprocessing's traceback.
UNGUARDED_MAIN = 86
UNGUARDED_MAIN_MESSAGE = (
    "the worker processes could not start: payerpolicy starts them by running your script again (Python's "
    '"spawn" start method), and your script judges claims with workers=N as soon as it is imported. Put the code '
    'that judges claims under `if __name__ == "__main__":` (or in a function called from there), or judge '
    "in one process with workers=1"
)


def worker_of(patient_id: str, workers: int) -> int:
    """The worker that judges a patient's claims: the same in every process and every run."""
    return zlib.crc32(patient_id.encode("utf-8", "surrogatepass")) % workers


# ---------------------------------------------------------------------------------------------------------
# What the parent tells the workers


class CompiledPolicy(Protocol):
    """What a worker needs of a `payerpolicy.Policy` (a later stage, so named here by what it offers)."""

    @property
    def program(self) -> RuleProgram: ...


@dataclass(frozen=True, eq=False)
class PolicySource:
    """A policy for the workers: the `Policy` itself (it pickles as its compiled plan, so a worker neither
    reads policy files nor finds them changed since the parent loaded them), and the run's receipt date."""

    # a payerpolicy.Policy, or a pair (old, new) judged side by side (judge.side_by_side)
    policy: CompiledPolicy | tuple[CompiledPolicy, CompiledPolicy]
    received: datetime.date | None = None  # the date the payer receives the claims (`claim.received`)


class Route(NamedTuple):
    """A claim for a worker: its patient (routing), its policy, and the claim (a `Claim`, or a dict in the
    claim JSON form that the worker reads, so that reading is done on the workers' cores too)."""

    patient_id: str
    policy: PolicySource
    payload: object


def policy_source(policy, received: datetime.date | None = None) -> PolicySource:
    # The receipt date is fixed here, so that a run that passes midnight gives every worker the same one.
    return PolicySource(policy, received or datetime.date.today())


class WorkerError(RuntimeError):
    """A worker failed with an exception that could not be carried to the parent as it was."""


# ---------------------------------------------------------------------------------------------------------
# The worker


def _field_reducer(cls):
    """Pickle a frozen dataclass as its class and field values, rebuilt by its constructor. The default
    for a slotted frozen dataclass sets each field through Python code on the way in and out, which made
    moving claims and findings between processes cost about as much as reading them."""
    fields = dataclasses.fields(cls)
    assert all(f.init for f in fields), cls  # the constructor must take every field back
    get = operator.attrgetter(*(f.name for f in fields))
    return lambda obj: (cls, get(obj))


_PICKLE_TABLE = dict(copyreg.dispatch_table)
for _cls in (Claim, ServiceLine, Provider, TreatmentPeriod, UnreadableClaim, ClaimProblem, Finding, Fix):
    _PICKLE_TABLE[_cls] = _field_reducer(_cls)


def _dumps(value) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _PICKLE_TABLE  # this pickler's only: nothing changes for other code
    pickler.dump(value)
    return buffer.getvalue()


@dataclass(frozen=True)
class _RunSetup:
    """What the parent and every worker of one run are told alike."""

    workers: int
    window: int  # how many claims of a patient wait for the patient's later claims (`WindowedJudging`)
    history_path: str | tuple[str, ...] | None  # a history file, or one per policy of a pair side by side
    history_cache_lines: int  # lines of recent patients each history keeps in memory
    render: Callable | None  # what each decision is sent back as (the command line's text); None: itself


def _worker_main(index: int, setup: _RunSetup, inbox, outbox) -> None:
    """A worker: judges the claims of its patients, message by message, until the input ends."""
    # Ctrl-C reaches the whole process group; the parent decides what stops, and terminates workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    judging = WindowedJudging(setup.window)
    sending = _Sending(outbox, judging, setup.render)
    histories: list = []
    workers = setup.workers
    try:
        _open_histories(setup.history_path, setup.history_cache_lines, histories)
        judges: dict[int, Judge | SideBySide] = {}
        while True:
            try:
                message = _loads_at_once(inbox.recv_bytes())
            except EOFError:
                return  # the parent went away: nothing left to judge for
            kind = message[0]
            if kind == "policy":
                _, key, where = message
                judges[key] = _load_judge(where, histories)
                # The compiled policy lives as long as the worker: keep the collector from walking it again
                # and again while claims come and go.
                gc.freeze()
            elif kind == "claims":
                _, frontier, items = message
                _add_claims(items, judges, judging, sending, index, workers)
                judging.advance(frontier)
                for history in histories:
                    history.flush()
                sending.send()
                # What is still alive now (claims waiting in the window, the history's recent patients) lives
                # on: out of the collector's walks, as a long `check` does in one process (cli/collector.py).
                # A worker owns its process, and the per-claim road makes no cycles for the collector to find.
                gc.freeze()
            elif kind == "end":
                judging.finish()
                for history in histories:
                    history.flush()
                sending.send()
                outbox.send_bytes(_dumps(("done",)))
                return
    except BaseException as exc:  # told to the parent, which raises it where one process would have
        _tell_parent(exc, histories, judging, sending, outbox)
    finally:
        for history in histories:
            history.close()


def _open_histories(history_path: str | tuple[str, ...] | None, cache_lines: int, histories: list) -> None:
    """Open the run's histories into `histories`, one by one, so that those opened are closed if one fails;
    each keeps up to `cache_lines` lines of recent patients in memory, as the parent's does."""
    if history_path is not None:
        from payerpolicy.judge.history import ClaimHistory
        from payerpolicy.judge.history import RUN_BATCH

        for path in (history_path,) if isinstance(history_path, str) else history_path:
            histories.append(
                ClaimHistory(path, batch=RUN_BATCH, cache_lines=cache_lines)
            )  # written before decisions go out


def _add_claims(
    items: list,
    judges: dict[int, Judge | SideBySide],
    judging: WindowedJudging,
    sending: _Sending,
    index: int,
    workers: int,
) -> None:
    """Read one message's claims and add them to the judging, each with its payer's judge."""
    for position, key, payload in items:
        if type(payload) is tuple:  # a line of JSON Lines text, routed by the keys in its text
            record = read_claim_text(payload[0], payload[1], claim_from_dict, "this line")
            if isinstance(record, UnreadableClaim):
                # Its routing keys may not be its own (text that is not JSON): the parent decides
                # it, with the policy of the payer the reader found, as one process does.
                sending.bounced.append((position, record))
                continue
        elif isinstance(payload, (Claim, UnreadableClaim)):
            record = payload
        else:
            record = claim_from_dict(payload)
        if isinstance(record, Claim) and worker_of(record.patient_id, workers) != index:
            raise WorkerError(
                f"claim {record.id} was routed by another patient id than its own "
                f"({record.patient_id!r}); this is a bug in payerpolicy"
            )
        judging.add(position, record, judges[key])


def _tell_parent(exc: BaseException, histories: list, judging: WindowedJudging, sending: _Sending, outbox) -> None:
    """Send the parent the error that stopped this worker, after the decisions whose claims were written."""
    try:
        for history in histories:
            history.flush()
        sending.send(quiet=True)
    except Exception:
        pass  # decisions whose claims could not be written are not given out
    detail = "".join(traceback.format_exception(exc))
    try:
        payload = _dumps(("error", judging.limit_after_error(), exc, detail))
        pickle.loads(payload)  # an exception that pickles but does not unpickle would fail in the parent
    except Exception:
        payload = _dumps(("error", judging.limit_after_error(), None, detail))
    try:
        outbox.send_bytes(payload)
    except OSError:
        pass  # the parent is gone


def _load_judge(where: PolicySource, histories: list) -> Judge | SideBySide:
    if isinstance(where.policy, tuple):  # two policies side by side (the impact diff), each its own history
        return SideBySide([policy.program for policy in where.policy], histories or (None, None), where.received)
    program = where.policy.program
    history = histories[0] if histories else None
    return Judge(
        program, history=history if history is not None and program.uses_history else None, received=where.received
    )


class _Sending:
    """What a worker sends back: its decisions (rendered, when the run renders), and the unreadable lines of
    text it hands back to the parent to decide."""

    def __init__(self, outbox, judging: WindowedJudging, render: Callable | None):
        self.outbox, self.judging, self.render = outbox, judging, render
        self.bounced: list[tuple[int, UnreadableClaim]] = []

    def send(self, quiet: bool = False) -> None:
        decided, render = self.judging.decided, self.render
        if not decided and not self.bounced:
            return
        if render is not None:
            decided = [(position, render(decision)) for position, decision in decided]
        try:
            self.outbox.send_bytes(_dumps(("decided", decided, self.bounced)))
        except OSError:
            if not quiet:
                raise
        self.judging.decided = []
        self.bounced = []


def _loads_at_once(data: bytes):
    """Unpickle with the cycle collector paused for the few milliseconds it takes. A message holds
    hundreds of decisions, thousands of small objects that all stay alive; built with the collector on,
    each batch of them was traced over and over against the caller's whole heap, which made unpickling
    decisions cost four times as much as with the collector off. The collector runs again right after."""
    with gc_paused():
        return pickle.loads(data)


# ---------------------------------------------------------------------------------------------------------
# The parent


class _Worker:
    """One worker process, the pipe to it (written by a thread of its own) and the pipe back."""

    def __init__(self, context, index: int, setup: _RunSetup):
        inbox_read, inbox_write = context.Pipe(duplex=False)
        outbox_read, outbox_write = context.Pipe(duplex=False)
        self.process = context.Process(
            target=_worker_main,
            args=(index, setup, inbox_read, outbox_write),
            name=f"payerpolicy-worker-{index}",
            daemon=True,
        )
        self.process.start()
        inbox_read.close()  # the worker's ends: closed here so that a dead worker is seen as end of file
        outbox_write.close()
        self.results = outbox_read
        self.inbox = inbox_write
        # The parent never blocks writing to a worker: a worker busy sending its results would otherwise
        # wait for a parent that waits for it. A thread per worker does the writing (started by
        # `start_sending`, once every process is started: a process forked while a thread runs may inherit
        # a lock that thread held).
        self.outgoing: queue.SimpleQueue = queue.SimpleQueue()
        self.sender = threading.Thread(target=self._send_all, name=f"payerpolicy-send-{index}", daemon=True)
        self.done = False

    def start_sending(self) -> None:
        self.sender.start()

    def send(self, message) -> None:
        self.outgoing.put(_dumps(message))

    def _send_all(self) -> None:
        while True:
            data = self.outgoing.get()
            if data is None:
                return
            try:
                self.inbox.send_bytes(data)
            except OSError:
                return  # the worker is gone; the parent sees it through the process's sentinel

    def stop(self, graceful: bool) -> None:
        self.outgoing.put(None)
        if graceful:  # it has been sent "end" and gave every decision: it is finishing on its own
            self.sender.join(timeout=10)
            self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        if self.sender.is_alive() or self.sender.ident is not None:
            self.sender.join(timeout=5)
        self.inbox.close()
        self.results.close()


@contextlib.contextmanager
def _sigint_ignored():
    """Start workers with Ctrl-C ignored from their first instruction (a disposition survives fork and exec),
    so that one pressed while they start does not print their tracebacks: the parent stops them itself."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may change signal handling
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _refuse_unguarded_main() -> None:
    """Stop a worker that is being asked to start workers of its own.

    A spawned worker first runs the parent's main script again, as `__mp_main__`, to find its functions. A
    script that judges claims at its top level, not under `if __name__ == "__main__":`, then calls
    `check_many(workers=N)` inside the worker while it is still starting (`_inheriting`, the flag
    multiprocessing itself checks). multiprocessing would raise its own RuntimeError there and print its
    traceback from every worker; the worker leaves quietly instead, with an exit code the parent reads as
    `UNGUARDED_MAIN_MESSAGE`.
    """
    if getattr(multiprocessing.process.current_process(), "_inheriting", False):
        raise SystemExit(UNGUARDED_MAIN)


def judge_in_parallel(
    items: Iterable,
    prepare: Callable,
    *,
    window: int,
    workers: int,
    history_path: str | tuple[str, ...] | None = None,
    start_method: str | None = None,
    chunk: int = CHUNK,
    lookahead: int = LOOKAHEAD,
    render: Callable | None = None,
    history_cache_lines: int = DEFAULT_CACHE_LINES,
) -> Iterator[Any]:
    """Decisions for `items`, in input order, judged by `workers` processes split by patient.

    `prepare(item)` gives a `Decision` for a claim decided here without context (a pair of them for policies
    judged side by side), or a `Route` for a worker; what it raises is raised where one process would have
    raised it. A `Route` whose payload is a pair (JSON text, where it stood) is read by the worker; if that
    text is not a readable claim, the worker hands its `UnreadableClaim` back and `prepare` decides it here.
    `history_path`: a claim history file each worker opens, or one per policy of a pair judged side by side
    (None: each judge keeps the run's own history, as `Judge` does), keeping up to `history_cache_lines` lines
    of recent patients in memory. `render`: given, each decision is given out as `render(decision)`, made by
    the worker that judged it (a picklable callable).
    """
    if window < 0:
        raise ValueError("window must be 0 or more")
    if workers < 1:
        raise ValueError("workers must be 1 or more")
    _refuse_unguarded_main()
    setup = _RunSetup(workers, window, history_path, history_cache_lines, render)
    run = _ParallelRun(prepare, setup, start_method, chunk, lookahead)
    return run.decisions(iter(items))


class _ParallelRun:
    """The parent's side of one parallel run: it reads claims up to `window + lookahead` ahead of the next
    decision to give out, sends them in chunks to the worker of their patient, and files what comes back."""

    def __init__(self, prepare: Callable, setup: _RunSetup, start_method: str | None, chunk: int, lookahead: int):
        self.setup = setup
        self.render, self.window, self.workers = setup.render, setup.window, setup.workers
        self.prepare = prepare
        self.chunk, self.lookahead = chunk, lookahead
        self.context = multiprocessing.get_context(start_method or START_METHOD)
        self.pool: list[_Worker] = []
        self.policies: dict[PolicySource, int] = {}
        self.chunks: list[list] = [[] for _ in range(setup.workers)]
        self.ready: dict[int, Any] = {}  # decided (and rendered), waiting for the claims before them
        self.next_out = 0  # the position of the next decision to give out
        self.read = 0  # positions read so far
        self.unsent = 0  # positions read since the last chunks went out
        self.exhausted = False
        self.failure: tuple[int, BaseException] | None = None  # (decisions to give out first, what to raise)

    def decisions(self, source: Iterator) -> Iterator[Any]:
        graceful = False
        try:
            while True:
                while self.next_out in self.ready:
                    yield self.ready.pop(self.next_out)
                    self.next_out += 1
                if self.failure is not None and self.next_out >= self.failure[0]:
                    raise self.failure[1]
                if self.exhausted and self.next_out == self.read:
                    graceful = True
                    return
                if (
                    not self.exhausted
                    and self.failure is None
                    and self.read - self.next_out < self.window + self.lookahead
                ):
                    self.read_one(source)
                    continue
                # Nothing more to read now: make sure the workers have all that was read, then wait for them.
                if self.unsent:
                    self.flush()
                if not self.pool or all(w.done for w in self.pool):
                    if self.failure is not None:
                        raise self.failure[1]
                    raise WorkerError("the workers stopped before judging every claim; this is a bug in payerpolicy")
                self.receive()
        finally:
            for worker in self.pool:
                worker.stop(graceful)

    def read_one(self, source: Iterator) -> None:
        position = self.read
        try:
            target = self.prepare(next(source))
        except StopIteration:
            self.exhausted = True
        except Exception as exc:
            # One process meets this when it pulls the claim: by then it has given out the decisions of
            # every claim more than `window` before it (judge.window gives each out once the input is read
            # `window` past it).
            self.exhausted = True
            self.fail(max(position - self.window, 0), exc)
        else:
            self.read += 1
            self.unsent += 1
            if not isinstance(target, Route):  # decided here (a pair of decisions side by side)
                self.ready[position] = target if self.render is None else self.render(target)
            else:
                self.route(position, target)
            if self.unsent >= self.chunk:
                self.flush()
        if self.exhausted and self.pool:
            self.flush()
            if self.failure is None:
                for worker in self.pool:
                    worker.send(("end",))

    def route(self, position: int, target: Route) -> None:
        if not self.pool:
            self.start()
        key = self.policies.get(target.policy)
        if key is None:
            key = self.policies[target.policy] = len(self.policies)
            for worker in self.pool:
                worker.send(("policy", key, target.policy))
        self.chunks[worker_of(target.patient_id, self.workers)].append((position, key, target.payload))

    def start(self) -> None:
        with _sigint_ignored():
            for index in range(self.workers):
                self.pool.append(_Worker(self.context, index, self.setup))
        for worker in self.pool:
            worker.start_sending()

    def flush(self) -> None:
        if not self.pool:
            return  # nothing was ever routed to a worker
        for worker, items_for_worker in zip(self.pool, self.chunks):
            # Every worker hears the frontier, claims or not: it may hold claims that are now decidable.
            worker.send(("claims", self.read - 1, items_for_worker))
        self.chunks = [[] for _ in range(self.workers)]
        self.unsent = 0

    def fail(self, limit: int, exc: BaseException) -> None:
        if self.failure is None or limit < self.failure[0]:
            self.failure = (limit, exc)

    def receive(self) -> None:
        """Wait for what the workers send; file the decisions; note errors and deaths."""
        live = {w.results: w for w in self.pool if not w.done}
        sentinels = {w.process.sentinel: w for w in self.pool if not w.done}
        for ready_object in wait(list(live) + list(sentinels)):
            if ready_object in live:
                worker = live[ready_object]
                try:
                    message = _loads_at_once(worker.results.recv_bytes())
                except EOFError:
                    message = None
                if message is not None:
                    self.take(worker, message)
                    continue
            else:
                worker = sentinels[ready_object]
                if worker.results.poll():
                    continue  # its last words are still to be read; the next round reads them
            if not worker.done:
                worker.done = True
                worker.process.join(timeout=5)  # reaped, so that its exit code says why it stopped
                if worker.process.exitcode == UNGUARDED_MAIN:
                    self.fail(self.next_out, WorkerError(UNGUARDED_MAIN_MESSAGE))
                else:
                    self.fail(
                        self.next_out,
                        WorkerError(
                            f"a worker process stopped unexpectedly (exit code "
                            f"{worker.process.exitcode}); the run was not completed"
                        ),
                    )

    def decide_here(self, position: int, record: UnreadableClaim) -> None:
        try:
            decision = self.prepare(record)
        except Exception as exc:  # where one process meets it: see `read_one`
            self.fail(max(position - self.window, 0), exc)
            return
        self.ready[position] = decision if self.render is None else self.render(decision)

    def take(self, worker: _Worker, message: tuple) -> None:
        kind = message[0]
        if kind == "decided":
            _, decided, bounced = message
            for position, decision in decided:
                self.ready[position] = decision
            for position, record in bounced:
                self.decide_here(position, record)
        elif kind == "done":
            worker.done = True
        elif kind == "error":
            _, limit, exc, detail = message
            worker.done = True
            if exc is None:
                last = detail.strip().splitlines()[-1] if detail.strip() else "no detail"
                exc = WorkerError(f"a worker process failed: {last}")
            exc.add_note(f"(in a payerpolicy worker process)\n{detail}")
            self.fail(limit, exc)


# ---------------------------------------------------------------------------------------------------------
# A claim in JSON form sent to a worker unread (payerpolicy.run)


def patient_key_of(claim: dict[str, Any]) -> str | None:
    """The patient id `claims.json_claims.claim_from_dict` will give this claim, if it reads it; None when it
    cannot (then the claim is unreadable, whatever else it holds). Same rules as `claims.json_claims._read_id`."""
    patient = claim.get("patient")
    if not isinstance(patient, dict):
        return None
    value = patient.get("id")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value)
    return text if text.strip() else None


# ---------------------------------------------------------------------------------------------------------
# A claim as a line of JSON text sent to a worker unread (payerpolicy.run)

# The keys are found from the start of the text, past the members written before them at the top level of the
# claim: any text, number, true, false or null, or an object holding no object or array (the patient, the
# provider). A key placed after a list or a deeper object is not found: the claim is then read whole.
_TEXT = r'"(?:[^"\\]|\\.)*"'
_FLAT_OBJECT = r"\{[^{}\[\]\"]*(?:" + _TEXT + r"[^{}\[\]\"]*)*\}"
_MEMBER = r"\s*" + _TEXT + r"\s*:\s*(?:" + _TEXT + r"|[-+0-9.eE]+|true|false|null|" + _FLAT_OBJECT + r")\s*,"
_PATIENT_ID = re.compile(
    r"\s*\{(?:" + _MEMBER + r')*?\s*"patient"\s*:\s*\{\s*"id"\s*:\s*(?:"([^"\\]*)"|(-?(?:0|[1-9][0-9]{0,17})))\s*[,}]'
)
_PAYER = re.compile(r"\s*\{(?:" + _MEMBER + r')*?\s*"payer"\s*:\s*(?:"([^"\\]*)"|null)\s*[,}]')


def keys_of_text(text: str) -> tuple[str, str | None] | None:
    """The patient id and payer (None when the claim names none) that `claims.json_claims.claim_from_dict`
    will give a claim written as this JSON text, found in the text without decoding it; None when that cannot
    be told for certain this way (then the claim is read here and routed by its record).

    Certain means: each key written once, plainly (no \\u escape anywhere, which could spell a second
    `patient` key), at the top level of the object, with a value read as it is written (text that is not
    blank, or a whole number of at most 18 digits, which `str(int(...))` writes back the same)."""
    if "\\u" in text or text.count('"patient"') != 1:
        return None
    found = _PATIENT_ID.match(text)
    if found is None:
        return None
    patient = found.group(1) if found.group(1) is not None else found.group(2)
    if not patient.strip():
        return None
    payers = text.count('"payer"')
    if payers == 0:
        return patient, None
    paid = _PAYER.match(text) if payers == 1 else None
    if paid is None:
        return None
    payer = paid.group(1)
    if payer is not None and not payer.strip():
        return None
    return patient, payer
