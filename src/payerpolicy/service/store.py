"""The policies a running service judges with, kept fresh while it runs.

A background thread looks at the policy files every `interval` seconds (their names, sizes and modification
times). When any file changed, every payer is compiled again in that thread (a payer may extend another, so
one change can change several), and the new set of policies replaces the old in one assignment: a request
sees either the old set or the new one, never a mix. A payer whose files no longer load keeps serving its
last good policy, and its diagnostics are shown by `GET /v1/policies` until the files are fixed.

When no date is pinned (`--as-of`), the policies are known on today's date and compiled again when the date
changes, as a fresh `payerpolicy check` would be.
"""

from __future__ import annotations

import datetime
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from payerpolicy import Policies, Policy, PolicyError, load

log = logging.getLogger("payerpolicy.service")
MAX_DATED = 16  # policies compiled for a request's own `as_of`, kept (least recently used dropped first)


@dataclass(frozen=True)
class PayerState:
    """One payer as the service holds it: the policy serving (None until one loads) and its last load."""

    payer: str
    folder: Path
    policy: Policy | None = None
    loaded_at: str | None = None  # when the serving policy was compiled (UTC, ISO 8601)
    failed: bool = False  # the files as they stand now do not load
    diagnostics: tuple[dict, ...] = ()  # of the last load: errors when it failed, else warnings
    rendered: str = ""  # the same, as `payerpolicy lint` prints them

    @property
    def state(self) -> str:
        if self.policy is None:
            return "failed" if self.failed else "loading"
        return "stale" if self.failed else "loaded"

    def to_dict(self) -> dict:
        out: dict = {"payer": self.payer, "state": self.state}
        if self.policy is not None:
            spec = self.policy.program.policy
            out.update(
                name=self.policy.name,
                version=self.policy.version,
                effective={"from": _iso(spec.effective_from), "to": _iso(spec.effective_to)},
                extends=spec.extends[0] if spec.extends else None,
                rules=self.policy.program.rules_written,
                as_of=self.policy.as_of.isoformat(),
                loaded_at=self.loaded_at,
            )
        out["diagnostics"] = list(self.diagnostics)
        return out


def _iso(value) -> str | None:
    return value.isoformat() if isinstance(value, datetime.date) else value


class PolicyNotServing(PolicyError):
    """A payer whose files have never loaded since the service started: claims for it cannot be judged."""

    def __init__(self, state: PayerState):
        super().__init__([])
        self.state = state


class ServedPolicies(Policies):
    """One unchanging set of the store's policies, routed by payer name as `Policies` routes them, for
    one `Session`. A payer that never loaded is known but raises its `PolicyError` when asked for."""

    def __init__(self, states: dict[str, PayerState], as_of: datetime.date):
        self.as_of = as_of
        self._states = states

    def names(self) -> list[str]:
        return sorted(self._states)

    def __contains__(self, name: str) -> bool:
        return name in self._states

    def get(self, name: str) -> Policy:
        state = self._states[name]
        if state.policy is None:
            raise PolicyNotServing(state)
        return state.policy

    def state(self, name: str) -> PayerState:
        return self._states[name]


class DatedPolicies(ServedPolicies):
    """The store's payers as known on another date than the one it serves (a request's `as_of`): each
    compiled from its files on first use and kept by the store until the files change."""

    def __init__(self, store: PolicyStore, states: dict[str, PayerState], as_of: datetime.date):
        super().__init__(states, as_of)
        self._store = store

    def get(self, name: str) -> Policy:
        return self._store.policy_on(self._states[name], self.as_of)


class PolicyStore:
    def __init__(
        self, search_path=(), *, as_of: datetime.date | None = None, interval: float = 1.0, shipped: bool = True
    ):
        self.search_path = tuple(search_path)
        self.pinned = as_of
        self.as_of = as_of or datetime.date.today()
        self.interval = interval
        self.shipped = shipped
        self._states: dict[str, PayerState] = {}
        self._seen: tuple = ()
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Held while policy files are read for a reload and while saved edits are written, so that a reload
        # never reads a half-written set of files.
        self.files_lock = threading.RLock()
        # Policies compiled for other dates, by (payer, date); emptied whenever the files change. The
        # generation tells a compile that began before a change not to keep what it made.
        self._dated: OrderedDict[tuple[str, datetime.date], Policy] = OrderedDict()
        self._dated_lock = threading.Lock()
        self._generation = 0
        self.folders()  # a search path folder that does not exist is an error at start, not later

    # -- what is served --------------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True once every payer has been compiled once (whether or not it loaded)."""
        return self._ready.is_set()

    def snapshot(self) -> ServedPolicies:
        return ServedPolicies(self._states, self.as_of)

    def on(self, as_of: datetime.date | None) -> ServedPolicies:
        """The policies as known on `as_of` (None: the date served)."""
        states = self._states
        if as_of is None or as_of == self.as_of:
            return ServedPolicies(states, self.as_of)
        return DatedPolicies(self, states, as_of)

    def policy_on(self, state: PayerState, as_of: datetime.date) -> Policy:
        """`state`'s payer as known on `as_of`, compiled from its files as they are now; `PolicyNotServing`
        with the diagnostics when they do not load."""
        key = (state.payer, as_of)
        with self._dated_lock:
            generation = self._generation
            policy = self._dated.get(key)
            if policy is not None:
                self._dated.move_to_end(key)
                return policy
        try:
            policy = load(state.folder, as_of=as_of)
        except PolicyError as exc:
            raise PolicyNotServing(
                PayerState(
                    state.payer,
                    state.folder,
                    failed=True,
                    diagnostics=tuple(d.to_dict() for d in exc.diagnostics),
                    rendered=exc.render(),
                )
            ) from None
        with self._dated_lock:
            if generation == self._generation:
                self._dated[key] = policy
                while len(self._dated) > MAX_DATED:
                    self._dated.popitem(last=False)
        return policy

    def folders(self) -> dict[str, Path]:
        """Each payer's folder, found as `payerpolicy check --policies ...` finds them."""
        # Policies knows the search order (the user's folders first, then the shipped ones); it loads
        # nothing until asked, so building one is only a listing of folders.
        found = Policies(self.search_path, shipped=self.shipped)
        return {name: found.folder(name) for name in found.names()}

    # -- loading -----------------------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Compile every payer again if a policy file changed (or the date did); True when it did."""
        with self.files_lock:
            return self._refresh()

    def _refresh(self) -> bool:
        today = self.pinned or datetime.date.today()
        folders = self.folders()
        seen = _fingerprint(folders)
        if seen == self._seen and today == self.as_of and self._ready.is_set():
            return False
        states = {}
        for name, folder in folders.items():
            states[name] = self._load_one(name, folder, today, self._states.get(name))
        self._seen, self.as_of = seen, today
        self._states = states  # one assignment: requests see the old set or the new one
        with self._dated_lock:
            self._dated.clear()
            self._generation += 1
        self._ready.set()
        return True

    def _load_one(self, name: str, folder: Path, as_of, previous: PayerState | None) -> PayerState:
        try:
            policy = load(folder, as_of=as_of)
        except PolicyError as exc:
            log.warning(
                "policy %s does not load (%d problems); %s",
                name,
                len(exc.diagnostics),
                "the last good one is still serving" if previous and previous.policy else "not serving",
            )
            return PayerState(
                name,
                folder,
                previous.policy if previous else None,
                previous.loaded_at if previous else None,
                True,
                tuple(d.to_dict() for d in exc.diagnostics),
                exc.render(),
            )
        except OSError as exc:  # a file removed or unreadable while being read: try again next time
            log.warning("policy %s could not be read: %s", name, exc)
            return previous or PayerState(
                name, folder, failed=True, diagnostics=({"severity": "error", "message": str(exc)},)
            )
        if (
            previous is not None
            and previous.policy is not None
            and previous.policy.program.identity == policy.program.identity
            and not previous.failed
        ):
            return previous  # unchanged: keep the same object (and its judges' compiled shapes)
        stamp = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
        diagnostics = tuple(d.to_dict() for d in policy.warnings)
        return PayerState(name, folder, policy, stamp, False, diagnostics)

    # -- the background thread ---------------------------------------------------------------------------

    def start(self) -> None:
        """Load every payer in the background and keep watching; `ready` turns true after the first load."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._watch, name="payerpolicy-policy-reload", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except Exception as exc:  # a watcher that dies would leave stale policies serving unnoticed
                log.error("policy reload failed: %s: %s", type(exc).__name__, exc)
            if self.interval <= 0 and self._ready.is_set():
                return
            self._stop.wait(self.interval if self.interval > 0 else 0.1)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None


def _fingerprint(folders: dict[str, Path]) -> tuple:
    """Every policy file's name, size and modification time, under every payer's folder (tests left out)."""
    seen = []
    for name, folder in sorted(folders.items()):
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d != "tests" and not d.startswith("."))
            for file in sorted(files):
                path = os.path.join(root, file)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                seen.append((name, path, stat.st_size, stat.st_mtime_ns))
    return tuple(seen)
