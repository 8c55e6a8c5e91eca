"""The read stage for claim JSON files: how claims are laid out in a file, and where each one stood.

A claims file holds one claim (a JSON object), a JSON array of claims, or JSON Lines (one claim per line).
Which, is told from the content, not from the file name:
- a file whose first non-blank line starts with `[` is an array, read claim by claim (never held whole); a
  mistake in it spoils the claim it is in and those after it, which become one record saying where;
- a first line that is a complete claim by itself, with more lines after it, starts JSON Lines, which are
  read and yielded one line at a time, so that a large batch is never held in memory;
- otherwise the first `SAMPLE_CHARS` of the file decide: text that is valid JSON as a whole is one document
  (a claim written over several lines), and text whose lines mostly hold a claim each is JSON Lines whose
  first line is broken.

Each claim is placed for the reader as `claims.jsonl line 7`, `batch.json claim 3`, or the file's name. A
line or a file that is not valid JSON becomes an `UnreadableClaim` saying why, in plain words, and where; a
JSON Lines line that is not UTF-8 spoils only its own claim. The only exception is `ClaimFileError`, for a
file that cannot be read at all (no such file, a folder, not UTF-8 text), raised before any claim is yielded.

Turning one decoded claim into the model is `claims.json_claims.claim_from_dict`, which `claims.json_claims.read_claims`
hands to `read_json_claims` here.
"""

from __future__ import annotations

import itertools
import json
import os
from typing import IO, Callable, Iterable, Iterator, NamedTuple

from payerpolicy.claims.model import ClaimProblem, ClaimRecord, UnreadableClaim
from payerpolicy.claims.values import JSON_DECODER, read_json

__all__ = ["ClaimFileError", "SAMPLE_CHARS", "read_json_claims", "read_claim_text", "line_not_utf8"]

Decode = Callable[[object, str], ClaimRecord]  # a decoded claim and where it stood, to its record


class ClaimFileError(Exception):
    """A claims file that cannot be read at all: no such file, a folder, not UTF-8 text."""


class _Line(NamedTuple):
    number: int  # counting from 1, blank lines included, as an editor shows them
    text: str | None  # None when the line is not UTF-8
    error: UnicodeDecodeError | None = None


SAMPLE_CHARS = 1 << 20
"""The most text looked at to tell a pretty-printed claim from JSON Lines whose first line is broken. A file
whose first line is a complete claim never needs it."""


def read_json_claims(
    source: str | os.PathLike | IO, name: str | None, decode: Decode, sample_chars: int = SAMPLE_CHARS
) -> Iterator[ClaimRecord]:
    """Every claim in a claim JSON file or text stream, each decoded claim turned into a record by `decode`
    (`claims.json_claims.claim_from_dict`), in input order; `claims.json_claims.read_claims` says the rest. Raises
    `ClaimFileError` here, before any claim is yielded, when the file cannot be opened or is not UTF-8."""
    stream, label, owned = _open(source, name)
    streaming = False
    try:
        records, streaming = _records(_numbered_lines(stream, label), label, decode, sample_chars)
    finally:
        if owned and not streaming:
            stream.close()
    return _closing(records, stream) if owned and streaming else records


def _open(source: str | os.PathLike | IO, name: str | None) -> tuple[IO, str, bool]:
    """The stream to read, the name to show, and whether this module opened it (and so must close it)."""
    if not isinstance(source, (str, os.PathLike)):
        stream_name = getattr(source, "name", None)
        return source, name or (stream_name if isinstance(stream_name, str) else "<input>"), False
    path = os.fspath(source)
    # Binary, so that a JSON Lines line that is not UTF-8 spoils only its own claim.
    return open_claim_file(path), name or str(path), True


def open_claim_file(path) -> IO[bytes]:
    """A claim file opened for reading bytes, or `ClaimFileError` saying in plain words why it cannot be."""
    path = os.fspath(path)
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise ClaimFileError(f"cannot read claims from {path}: no such file") from None
    except IsADirectoryError:
        raise ClaimFileError(f"cannot read claims from {path}: it is a folder, not a file") from None
    except OSError as err:
        raise ClaimFileError(f"cannot read claims from {path}: {err.strerror or err}") from None


def _closing(records: Iterator[ClaimRecord], stream: IO) -> Iterator[ClaimRecord]:
    try:
        yield from records
    finally:
        stream.close()


def _numbered_lines(stream: IO, label: str) -> Iterator[_Line]:
    try:
        for number, raw in enumerate(stream, 1):
            if isinstance(raw, bytes):
                try:
                    raw = raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    yield _Line(number, None, err)
                    continue
            if number == 1 and raw.startswith("\ufeff"):  # a byte order mark, as some Windows tools write
                raw = raw[1:]
            yield _Line(number, raw)
    except UnicodeDecodeError as err:  # a text stream opened by the caller
        raise ClaimFileError(f"{label} is not UTF-8 text ({err.reason}); save it as UTF-8") from None
    except OSError as err:
        raise ClaimFileError(f"cannot read claims from {label}: {err.strerror or err}") from None


def _records(
    lines: Iterator[_Line], label: str, decode: Decode, sample_chars: int
) -> tuple[Iterator[ClaimRecord], bool]:
    """Tell the layout from the first lines; return the records and whether they still read from the file."""
    head: list[_Line] = []
    for line in lines:
        head.append(line)
        if line.text is None or line.text.strip():
            break
    else:
        return iter(()), False  # empty, or only blank lines
    first = head[-1]
    if first.text is None:
        raise ClaimFileError(_not_utf8(label, first))
    if first.text.lstrip().startswith("["):
        return _array(itertools.chain(head, lines), label, decode), True
    if isinstance(_parse_alone(first.text), dict):
        # A complete claim on the first line: JSON Lines, unless nothing else follows.
        for line in lines:
            head.append(line)
            if line.text is None or line.text.strip():
                return _json_lines(itertools.chain(head, lines), label, decode), True
        return iter([decode(read_json(first.text), label)]), False
    return _unclear_layout(head, lines, label, decode, sample_chars)


def _unclear_layout(
    head: list[_Line], lines: Iterator[_Line], label: str, decode: Decode, sample_chars: int
) -> tuple[Iterator[ClaimRecord], bool]:
    """The first line is not a claim by itself: a claim written over several lines, or JSON Lines whose first
    line is broken. A sample of the file decides; a whole file that is valid JSON is always one document."""
    size = sum(len(line.text or "") for line in head)
    complete = True
    for line in lines:
        head.append(line)
        size += len(line.text or "")
        if size > sample_chars:
            complete = False
            break
    failure = None
    texts = [line.text for line in head]
    if complete and all(text is not None for text in texts):
        try:
            value = read_json("".join(text for text in texts if text is not None))
        except (ValueError, RecursionError) as err:
            # Kept without its traceback: that holds this frame, whose locals hold the error and every line
            # read so far, a cycle only the collector could free (and a frozen long run never would).
            failure = err.with_traceback(None)
        else:
            return _from_document(value, label, decode), False
    if _mostly_claim_lines(head):
        return _json_lines(itertools.chain(head, lines), label, decode), not complete
    if failure is not None:
        return iter([_unparsable_file(label, failure)]), False
    return _document(itertools.chain(head, lines), label, decode), False


def _mostly_claim_lines(head: list[_Line]) -> bool:
    """Whether at least half the non-blank lines after the first hold a complete JSON object each."""
    rest = [line for line in head if line.text is None or line.text.strip()][1:]
    alone = sum(1 for line in rest if line.text is not None and isinstance(_parse_alone(line.text), dict))
    return alone > 0 and 2 * alone >= len(rest)


def _parse_alone(text: str) -> object:
    try:
        return read_json(text)
    except (ValueError, RecursionError):
        return None


def _document(lines: Iterable[_Line], label: str, decode: Decode) -> Iterator[ClaimRecord]:
    """A whole file that is one JSON value: a claim or an array of claims."""
    parts = []
    for line in lines:
        if line.text is None:
            raise ClaimFileError(_not_utf8(label, line))
        parts.append(line.text)
    try:
        value = read_json("".join(parts))
    except (ValueError, RecursionError) as err:
        return iter([_unparsable_file(label, err)])
    return _from_document(value, label, decode)


class _ArrayText:
    """The text of a JSON array as it is read: a buffer taken line by line, and the place read up to."""

    def __init__(self, lines: Iterator[_Line], label: str):
        self.source, self.label = lines, label
        self.buffer, self.pos, self.first_line = "", 0, 1  # first_line: the file line where `buffer` starts
        self.ended = False
        self.claims = 0  # claims read so far

    def more(self) -> bool:
        """Take the next line into the buffer (dropping what was read); False at the end of the file."""
        line = next(self.source, None)
        if line is None:
            self.ended = True
            return False
        if line.text is None:
            raise ClaimFileError(_not_utf8(self.label, line))
        self.first_line += self.buffer.count("\n", 0, self.pos)
        self.buffer, self.pos = self.buffer[self.pos :] + line.text, 0
        return True

    def skip_space(self) -> bool:
        """Move past white space, reading on as needed; False at the end of the file."""
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buffer):
                return True
            if not self.more():
                return False

    def at(self, char: str) -> bool:
        """Whether the next character, after white space, is `char` (taken when it is)."""
        if self.skip_space() and self.buffer[self.pos] == char:
            self.pos += 1
            return True
        return False

    def value(self) -> object:
        """The next JSON value; raises `_Broken` where it is not one."""
        while True:
            try:
                value, self.pos = JSON_DECODER.raw_decode(self.buffer, self.pos)
                return value
            except json.JSONDecodeError as err:
                if err.pos >= len(self.buffer) - 1 and not self.ended and self.more():  # the value goes on below
                    continue
                raise _Broken(_json_reason(err, with_line=False).rsplit(" at ", 1)[0], err.pos) from None
            except RecursionError:
                raise _Broken("it is nested too deeply", self.pos) from None

    def broken(self, reason: str, at: int) -> UnreadableClaim:
        """The record of a mistake at buffer position `at`: it, and every claim after it, unread."""
        line = self.first_line + self.buffer.count("\n", 0, at)
        column = at - (self.buffer.rfind("\n", 0, at) + 1) + 1
        what = f"claim {self.claims + 1} and after" if self.claims else self.label
        problem = ClaimProblem(
            "json",
            f"{self.label} is not valid JSON: {reason} at line {line}, column {column}; {what} could not be read",
        )
        return UnreadableClaim(id=None, problems=(problem,), where=f"{self.label} claim {self.claims + 1}")


class _Broken(Exception):
    def __init__(self, reason: str, at: int):
        super().__init__(reason)
        self.reason, self.at = reason, at


def _array(lines: Iterator[_Line], label: str, decode: Decode) -> Iterator[ClaimRecord]:
    """A JSON array of claims, read one claim at a time, so that a large batch is never held in memory.

    Text is taken line by line into a buffer; each element is decoded when the buffer holds all of it (a
    decode that fails only because the text runs out reads on). Claims before a mistake are read as usual;
    the mistake, and everything after it, becomes one record saying where it is. A comma after the last
    claim (`[{...}, {...},]`, which strict JSON refuses) is let pass: nothing is lost by it."""
    text = _ArrayText(iter(lines), label)
    try:
        if not text.at("["):
            raise _Broken("expected `[` to open the array", text.pos)
        closed = text.at("]")  # an empty array
        while not closed:
            if not text.skip_space():
                raise _Broken("the array is not closed with `]`", len(text.buffer))
            value = text.value()
            text.claims += 1
            yield decode(value, f"{label} claim {text.claims}")
            if not text.skip_space():
                raise _Broken("the array is not closed with `]`", len(text.buffer))
            if text.at("]"):
                break
            if not text.at(","):
                raise _Broken("expected a comma between two claims, or `]` to close the array", text.pos)
            closed = text.at("]")  # a comma after the last claim, as people often leave: harmless
        if text.skip_space():
            raise _Broken("more text after the end of the JSON value", text.pos)
    except _Broken as broken:
        yield text.broken(broken.reason, broken.at)


def _from_document(value: object, label: str, decode: Decode) -> Iterator[ClaimRecord]:
    if isinstance(value, list):
        return (decode(item, f"{label} claim {number}") for number, item in enumerate(value, 1))
    return iter([decode(value, label)])


def _json_lines(lines: Iterable[_Line], label: str, decode: Decode) -> Iterator[ClaimRecord]:
    """One claim per non-blank line; a line that cannot be read becomes an unreadable claim of its own."""
    for line in lines:
        if line.text is None:
            yield line_not_utf8(label, line.number, line.error)
        elif line.text.strip():
            # Without the line break, an error at the end of the line is not reported on the next one.
            yield read_claim_text(line.text.rstrip("\r\n"), f"{label} line {line.number}", decode, "this line")


def line_not_utf8(label: str, number: int, error: UnicodeDecodeError | None) -> UnreadableClaim:
    """The unreadable claim of line `number` of a JSON Lines file whose bytes are not UTF-8 (`error`: what
    decoding it said, for the place of the first bad byte)."""
    byte = error.start + 1 if error else 1
    problem = ClaimProblem(
        "encoding", f"this line is not UTF-8 text (byte {byte} of the line cannot be read); save the file as UTF-8"
    )
    return UnreadableClaim(id=None, problems=(problem,), where=f"{label} line {number}")


def read_claim_text(text: str, where: str, decode: Decode, what: str = "this claim") -> ClaimRecord:
    """One claim written as JSON text (a line of JSON Lines, a cell of a table) to its record; text that is
    not JSON is an unreadable claim saying why, `what` naming the text in the message."""
    try:
        value = read_json(text)
    except (ValueError, RecursionError) as err:
        problem = ClaimProblem("json", f"{what} is not valid JSON: {_json_reason(err, with_line=False)}")
        return UnreadableClaim(id=None, problems=(problem,), where=where)
    return decode(value, where)


def _unparsable_file(label: str, err: Exception) -> UnreadableClaim:
    problem = ClaimProblem("json", f"{label} is not valid JSON: {_json_reason(err, with_line=True)}")
    return UnreadableClaim(id=None, problems=(problem,), where=label)


# json's messages, in words for people who do not write JSON by hand (matched by their start).
_JSON_REASONS = (
    ("Expecting value", "expected a value (a number, text in double quotes, true, false, null, [...] or {...})"),
    ("Expecting ',' delimiter", "expected a comma between two items, or a closing } or ]"),
    ("Expecting ':' delimiter", "expected a colon after a field name"),
    ("Expecting property name", "expected a field name in double quotes (a comma too many, or single quotes?)"),
    ("Unterminated string", "text in double quotes is not closed"),
    ("Invalid control character", "a line break or tab inside text in double quotes"),
    ("Invalid \\uXXXX", "a \\u escape that is not four hexadecimal digits"),
    ("Invalid \\escape", "a backslash that starts no valid escape (write \\\\ for a backslash)"),
    ("Extra data", "more text after the end of the JSON value"),
)


def _json_reason(err: Exception, with_line: bool) -> str:
    if isinstance(err, RecursionError):
        return "it is nested too deeply"
    if not isinstance(err, json.JSONDecodeError):
        return str(err)
    reason = next((plain for start, plain in _JSON_REASONS if err.msg.startswith(start)), err.msg)
    where = f"line {err.lineno}, column {err.colno}" if with_line else f"column {err.colno}"
    return f"{reason} at {where}"


def _not_utf8(label: str, line: _Line) -> str:
    utf16 = line.number == 1 and line.error is not None and line.error.object[:2] in (b"\xff\xfe", b"\xfe\xff")
    kind = "it looks like UTF-16" if utf16 else f"line {line.number} has bytes that are not UTF-8"
    return f"{label} is not UTF-8 text ({kind}); save it as UTF-8"
