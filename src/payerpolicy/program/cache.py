"""The compiled-policy cache: a policy loaded once is loaded next time without reading YAML or parsing rules.

A payer-scale policy (10,000 rules and a million code pairs) takes seconds to read, check and write out;
what that work produces (the checked policy and the plan of its generated functions, `ProgramPlan`) is kept
in a file, and the next load of the same policy, known on the same date, with no file of it changed, reads
that file and compiles only the few hundred function shapes.

Where: `$PAYERPOLICY_CACHE` if set (`off` turns the cache off), else `$XDG_CACHE_HOME/payerpolicy`, else
`~/.cache/payerpolicy`. An entry records every file the load read (policy files, pair tables) with its size
and a digest of its bytes (and, for a file that had not changed for a while, its status: `_settled`), and
every folder's list of policy files; any difference, a
new payerpolicy or Python version, or an entry that cannot be read means the policy is loaded from its files
again, and the entry rewritten. The cache is an optimisation only: when it cannot be written (a read-only
home, say) loading simply goes on without it.

Entries are pickles, and unpickling can run code, so an entry is read only when (1) the cache folder and the
entry belong to the user and no one else may write them (POSIX), and (2) the entry carries a valid HMAC-SHA256
made with the folder's own key (a file readable by the user only). A planted, damaged or foreign entry is
ignored with a warning (`CacheWarning`) and the policy compiled from its files; the folder is made 0700.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import io
import os
import pickle
import sys
import secrets
import stat
import tempfile
import time
import warnings
from pathlib import Path

from payerpolicy.policy.model import RuleSpec
from payerpolicy.rules.builtins import BUILTINS
from payerpolicy._version import __version__
from payerpolicy._resources import grammar_file


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
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".json") and path.is_file():
            digest.update(path.relative_to(package).as_posix().encode() + path.read_bytes())
    digest.update(grammar_file().read_bytes())
    return f"{__version__} py{sys.version_info[0]}.{sys.version_info[1]} {digest.hexdigest()}"


class CacheWarning(UserWarning):
    """A compiled-policy cache folder or entry that cannot be trusted was passed over."""


_MAGIC = b"payerpolicy-cache-1\n"
_warned: set = set()


def _warn(text: str) -> None:
    if text not in _warned:  # once per run and cause, not once per load
        _warned.add(text)
        warnings.warn(text, CacheWarning, stacklevel=3)


def _private(path: Path) -> bool:
    """Owned by this user and writable by no one else (always true where POSIX ownership does not exist)."""
    if not hasattr(os, "getuid"):
        return True
    info = path.stat()
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _key(folder: Path, create: bool) -> bytes | None:
    """The folder's HMAC key, made (0600) on first use when `create`."""
    path = folder / "key"
    try:
        if not path.exists():
            if not create:
                return None
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(secrets.token_bytes(32))
        if not _private(path) or (hasattr(os, "getuid") and path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH)):
            _warn(f"compiled-policy cache key {path} may be read or written by others; the cache is not used")
            return None
        key = path.read_bytes()
        return key if len(key) == 32 else None
    except FileExistsError:  # made meanwhile by another process
        return _key(folder, create=False)
    except OSError:
        return None


def _usable_folder(folder: Path, create: bool) -> bool:
    try:
        if not folder.exists():
            if not create:
                return False
            folder.mkdir(parents=True, mode=0o700, exist_ok=True)
        if not _private(folder):
            _warn(
                f"compiled-policy cache folder {folder} may be written by others; the cache is not used "
                "(make it yours with `chmod 700`, or set PAYERPOLICY_CACHE)"
            )
            return False
        return True
    except OSError:
        return False


def _entry_path(folder: Path, policy_path: Path, as_of) -> Path:
    # The working folder is part of the key: a policy's files are named relative to it in diagnostics,
    # findings and coverage, so a load from another folder must not get the names of the first.
    key = f"{policy_path.resolve()}|{Path.cwd()}|{as_of.isoformat()}|{_version()}"
    return folder / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".pickle")


def _fingerprint(paths, listed: dict, seen: dict) -> tuple:
    """Each file as the load read it (`SourceFiles.seen`: a file read some other way is read again here), and
    each folder's policy files."""
    files = []
    for path in sorted({Path(p).resolve() for p in paths}):
        if path in seen:
            (size, modified, _, _), digest = seen[path]
        else:
            stat = path.stat()
            size, modified, digest = stat.st_size, stat.st_mtime_ns, _digest(path)
        files.append((str(path), size, modified, digest))
    folders = tuple(sorted((str(Path(f).resolve()), tuple(names)) for f, names in listed.items()))
    return tuple(files), folders


def _digest(path: Path) -> str:
    return hashlib.blake2b(path.read_bytes()).hexdigest()


# How long before an entry is written a file must have last changed for its status to vouch for its bytes.
_SETTLED_NS = 2_000_000_000


def _settled(fingerprint: tuple, seen: dict) -> dict:
    """The status (size, modified, changed, inode) of each file of `fingerprint` that last changed well
    before now: while it shows the same status, its bytes are the same, and a load need not read them again
    (a payer's pair table is tens of megabytes). Any write to a file sets its change time to the clock's now,
    which no program can set back, so a later edit always shows, even one that keeps the size and puts the
    modification time back. A file changed within `_SETTLED_NS` of now might be changed again within the
    clock's resolution unseen: it is left out, and its bytes decide. So is a file whose status is not the one
    it had just before the load read it (`seen`): it changed while the policy loaded. Only where the change
    time is the time of the last change (POSIX; on Windows it is the time the file was made)."""
    if os.name != "posix":
        return {}
    now = time.time_ns()
    out = {}
    for name, *_ in fingerprint[0]:
        status = _status(Path(name))
        read = seen.get(Path(name))
        if read is not None and read[0] == status and status[2] < now - _SETTLED_NS:
            out[name] = status
    return out


def _status(path: Path) -> tuple:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino


def _still_true(fingerprint: tuple, settled: dict) -> bool:
    files, folders = fingerprint
    for name, size, _, digest in files:
        path = Path(name)
        if name in settled and _status(path) == settled[name]:
            continue
        # Else the bytes, not the modification time, decide: an edit that keeps a file's size (a cap of 4
        # made 5) within the clock's resolution would otherwise go unseen.
        if path.stat().st_size != size or _digest(path) != digest:
            return False
    for folder, names in folders:
        if tuple(
            sorted(p.name for p in Path(folder).iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        ) != tuple(sorted(names)):
            return False
    return True


# Functions among a plan's constants (the rule language's functions) are kept by name, not pickled: some are
# lambdas. `reducer_override` rather than `persistent_id`, because pickle asks it only about objects of types
# other than str, int, tuple, dict and the like, where `persistent_id` was asked about every one of a payer-scale
# policy's millions of objects (a third of writing the cache).
class _Pickler(pickle.Pickler):
    _names = {id(b.implementation): name for name, b in BUILTINS.items() if b.implementation is not None}

    def reducer_override(self, obj):
        name = self._names.get(id(obj))
        return (builtin, (name,)) if name is not None else NotImplemented


def builtin(name: str):
    """A rule-language function from its name (how `_Pickler` keeps them)."""
    return BUILTINS[name].implementation


def identity(sources, as_of) -> tuple:
    """What a load was made from: every file it read (by digest), every folder's policy files, the date it was
    known on and the payerpolicy that made it. Two loads with the same identity made the same program."""
    return _fingerprint(sources.read, sources.listed, sources.seen), as_of.isoformat(), _version()


def identity_text(identity: tuple) -> str:
    return hashlib.sha256(repr(identity).encode()).hexdigest()


def load(policy_path: Path, as_of):
    """(spec, plan, warnings, sources, identity) from the cache, or None when there is no entry still true."""
    folder = cache_dir()
    if folder is None:
        return None
    entry = _entry_path(folder, policy_path, as_of)
    if not entry.exists() or not _usable_folder(folder, create=False):
        return None
    key = _key(folder, create=False)
    try:
        if key is None or not _private(entry):
            raise ValueError("not ours")
        data = entry.read_bytes()
        mac, payload = data[len(_MAGIC) : len(_MAGIC) + 32], data[len(_MAGIC) + 32 :]
        if not data.startswith(_MAGIC) or not hmac.compare_digest(mac, hmac.new(key, payload, "sha256").digest()):
            raise ValueError("not authentic")
    except (OSError, ValueError):
        _warn(
            f"compiled-policy cache entry {entry} is damaged or was not written by payerpolicy for this "
            "user; it is ignored and the policy compiled from its files"
        )
        return None
    try:
        stored = pickle.loads(payload)
        if stored["version"] != _version() or not _still_true(stored["identity"][0], stored["settled"]):
            return None
        return stored["spec"], stored["plan"], stored["warnings"], stored["sources"], stored["identity"]
    except Exception:  # stale, or from another version: load from the files instead
        return None


def _kept_spec(spec):
    """What a compiled program still reads of its rules: ids, reasons, sources, dates, fixes' actions. Their
    conditions, messages, code lists and fixes' units live on in the plan, and would cost most of a load to unpickle
    (and a table row's message maker is a closure, which does not pickle)."""

    def kept_fix(fix):  # its units expression lives on as the plan's `units_<i>` function
        return fix if fix is None or fix.units is None else dataclasses.replace(fix, units=None)

    if all(rule.condition is None and rule.codes is None and kept_fix(rule.fix) is rule.fix for rule in spec.rules):
        return spec  # kept already (a program assembled from the cache)
    # A copy of each rule without the parts the plan has, made in one call (`RuleSpec.__reduce__`'s order):
    # `dataclasses.replace` would take three times as long over ten thousand rules.
    kept = {"default_message": None, "condition": None, "message": None, "codes": None}
    rules = []
    for rule in spec.rules:
        values = vars(rule) | kept
        values["fix"] = kept_fix(rule.fix)
        rules.append(RuleSpec(**values))
    return dataclasses.replace(spec, rules=rules)


def pack(spec, plan) -> bytes:
    """A compiled program's makings as bytes, for another process (`Policy` pickles through this)."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump((_kept_spec(spec), plan))
    return buffer.getvalue()


def unpack(data: bytes):
    """(spec, plan) from `pack`."""
    return pickle.loads(data)


def save(policy_path: Path, as_of, spec, plan, warnings, sources, identity: tuple) -> None:
    """Keep a loaded policy for next time; any failure leaves the cache as it was."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        kept = _kept_spec(spec)
        quoted = {d.span.file for d in warnings if d.span is not None}
        stored = {
            "version": _version(),
            "identity": identity,
            "settled": _settled(identity[0], sources.seen),
            "spec": kept,
            "plan": plan,
            "warnings": list(warnings),
            "sources": {f: t for f, t in sources.texts.items() if f in quoted},
        }
        if not _usable_folder(folder, create=True):
            return
        key = _key(folder, create=True)
        if key is None:
            return
        buffer = io.BytesIO()
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(stored)
        payload = buffer.getvalue()
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")  # made 0600
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(_MAGIC + hmac.new(key, payload, "sha256").digest() + payload)
            os.replace(temporary, _entry_path(folder, policy_path, as_of))
        except BaseException:
            os.unlink(temporary)
            raise
    except Exception:  # an unwritable or full cache folder, an object that will not pickle: no cache
        return
