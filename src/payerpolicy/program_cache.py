"""The compiled-policy cache: a policy loaded once is loaded next time without reading YAML or parsing rules.

A payer-scale policy (10,000 rules and a million code pairs) takes seconds to read, check and write out;
what that work produces (the checked policy and the plan of its generated functions, `ProgramPlan`) is kept
in a file, and the next load of the same policy, known on the same date, with no file of it changed, reads
that file and compiles only the few hundred function shapes.

Where: `$PAYERPOLICY_CACHE` if set (`off` turns the cache off), else `$XDG_CACHE_HOME/payerpolicy`, else
`~/.cache/payerpolicy`. An entry records every file the load read (policy files, pair tables) with its size
and a digest of its bytes, and every folder's list of policy files; any difference, a
new payerpolicy or Python version, or an entry that cannot be read means the policy is loaded from its files
again, and the entry rewritten. The cache is an optimisation only: when it cannot be written (a read-only
home, say) loading simply goes on without it.

Entries are pickles, read only from the user's own cache folder, as tools such as pip and mypy keep theirs.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import os
import pickle
import sys
import tempfile
from pathlib import Path

from .builtins import BUILTINS
from .resources import grammar_file

def cache_dir() -> Path | None:
    setting = os.environ.get("PAYERPOLICY_CACHE")
    if setting is not None:
        return None if setting.strip().lower() in ("", "0", "off", "no", "false") else Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "payerpolicy"


@functools.lru_cache(maxsize=None)
def _version() -> str:
    """The payerpolicy that wrote an entry: its version, Python's, and a digest of its own code and grammar,
    so that any change to how policies compile (a release, or a working copy being edited) starts afresh."""
    from . import __version__
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".json") and path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    digest.update(grammar_file().read_bytes())
    return f"{__version__} py{sys.version_info[0]}.{sys.version_info[1]} {digest.hexdigest()}"


def _entry_path(folder: Path, policy_path: Path, as_of) -> Path:
    key = f"{policy_path.resolve()}|{as_of.isoformat()}|{_version()}"
    return folder / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".pickle")


def _fingerprint(paths, listed: dict) -> tuple:
    files = []
    for path in sorted({Path(p).resolve() for p in paths}):
        stat = path.stat()
        files.append((str(path), stat.st_size, stat.st_mtime_ns, hashlib.blake2b(path.read_bytes()).hexdigest()))
    folders = tuple(sorted((str(Path(f).resolve()), tuple(names)) for f, names in listed.items()))
    return tuple(files), folders


def _still_true(fingerprint: tuple) -> bool:
    files, folders = fingerprint
    for name, size, _, digest in files:
        path = Path(name)
        # The bytes, not the modification time, decide: an edit that keeps a file's size (a cap of 4 made
        # 5) within the clock's resolution would otherwise go unseen. A million pairs hash in some 30 ms.
        if path.stat().st_size != size or hashlib.blake2b(path.read_bytes()).hexdigest() != digest:
            return False
    for folder, names in folders:
        if tuple(sorted(p.name for p in Path(folder).iterdir()
                        if p.suffix in (".yaml", ".yml") and p.is_file())) != tuple(sorted(names)):
            return False
    return True


# Functions among a plan's constants (the rule language's functions) are kept by name, not pickled.
class _Pickler(pickle.Pickler):
    _names = {id(b.implementation): name for name, b in BUILTINS.items() if b.implementation is not None}

    def persistent_id(self, obj):
        name = self._names.get(id(obj))
        return ("builtin", name) if name is not None else None


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        kind, name = pid
        if kind != "builtin":
            raise pickle.UnpicklingError(f"unknown reference {pid!r}")
        return BUILTINS[name].implementation


def identity(sources, as_of) -> tuple:
    """What a load was made from: every file it read (by digest), every folder's policy files, the date it was
    known on and the payerpolicy that made it. Two loads with the same identity made the same program."""
    return _fingerprint(sources.read, sources.listed), as_of.isoformat(), _version()


def identity_text(identity: tuple) -> str:
    return hashlib.sha256(repr(identity).encode()).hexdigest()


def load(policy_path: Path, as_of):
    """(spec, plan, warnings, sources, identity) from the cache, or None when there is no entry still true."""
    folder = cache_dir()
    if folder is None:
        return None
    entry = _entry_path(folder, policy_path, as_of)
    try:
        with entry.open("rb") as handle:
            stored = _Unpickler(handle).load()
        if stored["version"] != _version() or not _still_true(stored["identity"][0]):
            return None
        return stored["spec"], stored["plan"], stored["warnings"], stored["sources"], stored["identity"]
    except Exception:  # missing, stale, truncated or from elsewhere: load from the files instead
        return None


def _kept_spec(spec):
    """What a compiled program still reads of its rules: ids, reasons, sources, dates, fixes. Their
    conditions, messages and code lists live on in the plan, and would cost most of a load to unpickle
    (and a table row's message maker is a closure, which does not pickle)."""
    if all(rule.condition is None and rule.codes is None for rule in spec.rules):
        return spec  # kept already (a program assembled from the cache)
    rules = [dataclasses.replace(rule, default_message=None, condition=None, message=None, codes=None)
             for rule in spec.rules]
    return dataclasses.replace(spec, rules=rules)


def pack(spec, plan) -> bytes:
    """A compiled program's makings as bytes, for another process (`Policy` pickles through this)."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump((_kept_spec(spec), plan))
    return buffer.getvalue()


def unpack(data: bytes):
    """(spec, plan) from `pack`."""
    return _Unpickler(io.BytesIO(data)).load()


def save(policy_path: Path, as_of, spec, plan, warnings, sources, identity: tuple) -> None:
    """Keep a loaded policy for next time; any failure leaves the cache as it was."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        kept = _kept_spec(spec)
        quoted = {d.span.file for d in warnings if d.span is not None}
        stored = {"version": _version(), "identity": identity,
                  "spec": kept, "plan": plan, "warnings": list(warnings),
                  "sources": {f: t for f, t in sources.texts.items() if f in quoted}}
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(stored)
            os.replace(temporary, _entry_path(folder, policy_path, as_of))
        except BaseException:
            os.unlink(temporary)
            raise
    except Exception:  # an unwritable or full cache folder, an object that will not pickle: no cache
        return
