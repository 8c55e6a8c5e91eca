"""Stage read, the front door: a claim file of any supported format, told from its content.

- X12 837P (`claims.x12`): the file starts with an `ISA` interchange header;
- FHIR R4 (`claims.fhir`): JSON whose resources carry a `resourceType` (a Claim, or a Bundle of them);
- the claim JSON of the contract (`claims.json_claims`): one claim, a JSON array, or JSON Lines (streamed).

`--input-format` (or `input_format=`) skips the sniffing. Whatever the format, every claim read becomes one
record, and a file that cannot be read at all raises `ClaimFileError` before any record is yielded.
"""

from __future__ import annotations

import codecs
import io
import json
import os
from typing import IO, Iterator

from payerpolicy.claims.model import ClaimProblem, ClaimRecord, UnreadableClaim
from payerpolicy.claims.values import read_json
from payerpolicy.claims.json_claims import read_claims
from payerpolicy.claims.json_files import open_claim_file

INPUT_FORMATS = ("json", "x12", "fhir")
_SNIFF = 64 * 1024


def read_claim_file(
    source: str | os.PathLike | IO, name: str | None = None, input_format: str = "auto"
) -> Iterator[ClaimRecord]:
    if input_format == "json":
        return read_claims(source, name)
    if isinstance(source, (str, os.PathLike)):
        label = name or os.fspath(source)
        head = _head(source)
        kind = input_format if input_format != "auto" else sniff(head)
        if kind == "json":
            return read_claims(source, name)
        if kind == "x12":  # streamed: an 837P is read in the memory of a chunk, however large
            from payerpolicy.claims.x12 import read_x12

            stream = open(source, encoding=_encoding(source), newline="")
            return _closing(read_x12(stream, label), stream)
        return _read_whole(kind, _text(source), label)
    # A stream (standard input) cannot be rewound: read it whole to tell its format. An application may hand
    # over a binary stream (`open(path, "rb")`, a request body): its bytes are decoded as a file's are.
    text = source.read()
    label = name or str(getattr(source, "name", "<input>"))
    if isinstance(text, bytes):
        kind = input_format if input_format != "auto" else sniff(text[:_SNIFF])
        if kind == "json":  # read as bytes, so that a JSON Lines line that is not UTF-8 spoils only its claim
            return read_claims(io.BytesIO(text), label)
        return _read_whole(kind, _decoded(text), label)
    kind = input_format if input_format != "auto" else sniff(text[:_SNIFF].encode("utf-8", "replace"))
    if kind == "json":
        return read_claims(io.StringIO(text), label)
    return _read_whole(kind, text, label)


def sniff(head: bytes) -> str:
    """The format of a file from its first bytes: x12, fhir or json."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start[:3].upper() == b"ISA":
        return "x12"
    if start[:1] in (b"{", b"[") and b'"resourceType"' in head:
        return "fhir"
    return "json"


def _head(path) -> bytes:
    with open_claim_file(path) as file:
        return file.read(_SNIFF)


def _encoding(path) -> str:
    """UTF-8 (a byte order mark skipped) when the whole file is UTF-8, else Latin-1, as `_text` decides;
    checked a chunk at a time, so the file is never held whole."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open_claim_file(path) as file:
        try:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"  # X12 is ASCII by rule; a stray byte is reported where it stands
    return "utf-8-sig"


def _closing(records: Iterator[ClaimRecord], stream: IO) -> Iterator[ClaimRecord]:
    try:
        yield from records
    finally:
        stream.close()


def _text(path) -> str:
    with open_claim_file(path) as file:
        return _decoded(file.read())


def _decoded(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # X12 is ASCII by rule; a stray byte is reported where it stands


def _read_whole(kind: str, text: str, label: str) -> Iterator[ClaimRecord]:
    if kind == "x12":
        from payerpolicy.claims.x12 import read_x12

        return read_x12(text, label)
    try:
        document = read_json(text)
    except json.JSONDecodeError as err:
        problem = ClaimProblem("json", f"{label} is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}")
        return iter([UnreadableClaim(None, (problem,), where=label)])
    from payerpolicy.claims.fhir import read_fhir

    return read_fhir(document, label)
