"""Diagnostics: every problem found in a policy, as data, and the one function that renders them.

Each stage (load, validate, parse, check) appends `Diagnostic`s to a list instead of raising, so a policy
author sees every mistake at once. Only the API boundary (`payerpolicy.load`, the command line) turns a
non-empty list into a `PolicyError`: a policy with errors never loads halfway.

Rendered form, the same for every stage:

    policies/acme/rules.yaml:14:22: error[E401]: unknown field `modifers`
       14 |     when: code in @timed and modifers = GP
          |                              ^^^^^^^^
       = help: did you mean `modifiers`?
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable


# Text from a file (claim ids, values quoted in messages) reaches a terminal: control characters, ANSI
# escapes and line separators are shown escaped, and a long echo is cut.
_UNPRINTABLE = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_UNPRINTABLE.update({0x2028: "\\u2028", 0x2029: "\\u2029"})
ECHO_LIMIT = 200
SOURCE_LINE_LIMIT = 240  # characters of a policy line shown under a diagnostic


def shown(text: object, limit: int = ECHO_LIMIT) -> str:
    """`text` safe to print: escaped where it is not printable, and at most `limit` characters long."""
    text = str(text).translate(_UNPRINTABLE)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit:,} more characters)"


@dataclass(frozen=True, slots=True)
class Span:
    """A place in a policy file. Lines and columns count from 1; `end_column` is exclusive."""

    file: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    # For the compiled-policy cache: see rules.ast._rebuild.
    def __reduce__(self) -> tuple[type[Span], tuple[str, int, int, int | None, int | None]]:
        return Span, (self.file, self.line, self.column, self.end_line, self.end_column)


@dataclass(frozen=True)
class TextOrigin:
    """Where each character of a text value stands in its file: `positions[i]` is (line, column) of char i."""

    file: str
    positions: tuple[tuple[int, int], ...]

    def span(self, start: int, end: int) -> Span:
        last = len(self.positions) - 1
        line, column = self.positions[min(max(start, 0), last)]
        end_line, end_column = self.positions[min(max(end, 0), last)]
        if end_line != line:  # a span over lines is shown on its first: no end column
            return Span(self.file, line, column, line, None)
        return Span(self.file, line, column, end_line, end_column)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str  # stable: E1xx load, E2xx schema, E3xx rule syntax, E4xx meaning; W for warnings
    message: str  # lower case, names in backticks
    span: Span | None
    help: str | None = None
    severity: str = "error"  # "error" or "warning"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "severity": self.severity, "message": self.message}
        if self.span is not None:
            out.update(file=self.span.file, line=self.span.line, column=self.span.column)
        if self.help:
            out["help"] = self.help
        return out


class PolicyError(Exception):
    """A policy could not be loaded. `diagnostics` holds every problem found, in file order."""

    def __init__(self, diagnostics: Iterable[Diagnostic], sources: "SourceFiles | None" = None):
        # The same mistake can be met twice (a code set named in a rule's condition and, through it, in the
        # codes the rule concerns); say it once.
        self.diagnostics = sorted(dict.fromkeys(diagnostics), key=_order)
        self.sources = sources or SourceFiles()
        errors = [d for d in self.diagnostics if d.severity == "error"]
        super().__init__(f"{len(errors)} error(s) in policy" if errors else "warnings only")

    def render(self, colour: bool = False) -> str:
        return render_all(self.diagnostics, self.sources, colour)

    def __str__(self) -> str:
        return self.render()


def _order(d: Diagnostic) -> tuple[bool, str, int, int, str]:
    s = d.span
    return (s is None, s.file if s else "", s.line if s else 0, s.column if s else 0, d.code)


@dataclass
class SourceFiles:
    """The text of each policy file read, so a diagnostic can quote the offending line."""

    texts: dict[str, str] = field(default_factory=dict)
    # Every file read and folder listed while loading, for the compiled-policy cache (`program.cache`) to
    # tell whether any has changed since.
    read: list[Path] = field(default_factory=list)
    listed: dict[Path, list[str]] = field(default_factory=dict)  # folder -> the names of the policy files found in it
    # Files being edited and not saved (an editor's buffers, by resolved path): read instead of the disk.
    unsaved: dict[Path, str] = field(default_factory=dict)
    # What each file held when this load read it (by resolved path): its status just before the read (size,
    # modified, changed, inode) and a digest of the bytes read. The cache keeps these, never a second reading
    # of the disk, so that a file edited while a policy loads cannot pass for the text that was compiled.
    seen: dict[Path, tuple[tuple[int, int, int, int], str]] = field(default_factory=dict)

    def read_bytes(self, path: Path) -> bytes:
        """A policy or table file's bytes, noting what they were (`seen`)."""
        status = path.stat()
        raw = path.read_bytes()
        digest = hashlib.blake2b(raw).hexdigest()
        self.seen[path.resolve()] = ((status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino), digest)
        return raw

    def line(self, file: str, number: int) -> str | None:
        text = self.texts.get(file)
        if text is None:
            return None
        lines = text.splitlines()
        return lines[number - 1] if 0 < number <= len(lines) else None


# ANSI colours of the severity words, for a terminal (`colour=True`): red errors, yellow warnings. The words say
# it all without; the caller decides when colour is wanted (never in a pipe, with NO_COLOR or TERM=dumb).
_SEVERITY_COLOURS = {"error": "31;1", "warning": "33", "info": "36"}


def render(d: Diagnostic, sources: SourceFiles, colour: bool = False) -> str:
    where = f"{d.span}: " if d.span else ""
    severity = f"\033[{_SEVERITY_COLOURS[d.severity]}m{d.severity}\033[0m" if colour else d.severity
    out = [f"{where}{severity}[{d.code}]: {d.message}"]
    if d.span is not None:
        text = sources.line(d.span.file, d.span.line)
        if text is not None:
            gutter = str(d.span.line)
            pad = " " * len(gutter)
            start = max(d.span.column - 1, 0)
            if d.span.end_column is not None and (d.span.end_line in (None, d.span.line)):
                width = max(d.span.end_column - d.span.column, 1)
            else:
                width = max(len(text.rstrip()) - start, 1)
            text = text.rstrip()
            # A very long line is cut (keeping what is underlined in sight, within reason), and control
            # characters (but tabs) are shown as `?`, one for one, so the underline stays under its text.
            keep = max(SOURCE_LINE_LIMIT, start + 40)
            if len(text) > keep:
                text = text[:keep] + f" ... ({len(text) - keep:,} more characters)"
                width = min(width, keep - start)
            text = "".join(
                "?" if (ord(c) < 0x20 and c != "\t") or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029" else c
                for c in text
            )
            out.append(f" {gutter} | {text}")
            out.append(f" {pad} | {' ' * start}{'^' * width}")
    if d.help:
        out.append(f"   = help: {d.help}")
    return "\n".join(out)


def render_all(diagnostics: Iterable[Diagnostic], sources: SourceFiles, colour: bool = False) -> str:
    diagnostics = list(diagnostics)
    blocks = [render(d, sources, colour) for d in diagnostics]
    errors = sum(1 for d in diagnostics if d.severity == "error")
    warnings = len(diagnostics) - errors
    tally = f"{errors} error{'s' if errors != 1 else ''}"
    if warnings:
        tally += f", {warnings} warning{'s' if warnings != 1 else ''}"
    return "\n\n".join(blocks + [tally])


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A help line suggesting the closest known name, or None when nothing is close."""
    candidates = list(candidates)
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if not close:
        lower = {c.lower(): c for c in candidates}
        close = difflib.get_close_matches(word.lower(), list(lower), n=1, cutoff=0.6)
        close = [lower[c] for c in close]
    return f"did you mean `{close[0]}`?" if close else None


def known_names_help(kind: str, names: Iterable[str], limit: int = 12) -> str:
    names = sorted(names)
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"known {kind}: {shown}{more}" if names else f"this policy defines no {kind}"
