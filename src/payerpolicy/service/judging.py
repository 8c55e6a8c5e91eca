"""`POST /v1/check`: a request body of claims to the decisions `payerpolicy check` writes for it.

The body is read as the command line reads a file: claim JSON (one claim, an array, JSON Lines), X12 837P or
FHIR R4, told from the content unless the content type or `input_format` says which. The claims go through a
`payerpolicy.Session` over the service's policies and out through the same `DecisionWriter`, so the response
body is byte for byte what `payerpolicy check --format json` prints for the same input (a claim's `where`
names the input `body`, as the command line names the file).

The status says how far the body could be judged: 200 every claim judged (denials included), 422 some claims
are in error (each says its field) and the rest are judged, 400 nothing in the body could be read.
"""

from __future__ import annotations

import datetime
import io
import sqlite3
from dataclasses import dataclass

from payerpolicy import ClaimFileError, DecisionWriter, OUTPUT_FORMATS, Session, read_claims
from payerpolicy.claims.formats import sniff
from payerpolicy.claims.model import UnreadableClaim
from payerpolicy.judge.history import HistoryError

BODY_NAME = "body"  # how the input is named in `where` ("body line 7"), as a file's name is on the command line

# Content types that say the format; any other (text/plain, application/json, none) is told from the content,
# as FHIR is JSON too and clients send it as application/json.
_FORMAT_OF_TYPE = {
    "application/edi-x12": "x12",
    "application/x12": "x12",
    "application/x-x12": "x12",
    "application/fhir+json": "fhir",
    "application/x-ndjson": "json",
    "application/jsonl": "json",
    "application/x-jsonlines": "json",
}
_MEDIA_TYPES = {
    "json": "application/json",
    "text": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "835": "text/plain; charset=utf-8",
}


class RequestError(Exception):
    """A request that cannot be judged at all: its status and a message for the caller."""

    def __init__(self, status: int, message: str, **details):
        super().__init__(message)
        self.status, self.message, self.details = status, message, details

    def to_dict(self) -> dict:
        return {"error": self.message, **self.details}


@dataclass(frozen=True)
class CheckResult:
    status: int
    media_type: str
    body: str
    summary: dict


def input_format(content_type: str | None, asked: str | None, body: bytes) -> str:
    """json, x12 or fhir: the `input_format` asked for, else the content type's, else told from the content."""
    if asked and asked != "auto":
        if asked not in ("json", "x12", "fhir"):
            raise RequestError(400, f"input_format is auto, json, x12 or fhir, not `{asked}`")
        return asked
    media = (content_type or "").split(";")[0].strip().lower()
    return _FORMAT_OF_TYPE.get(media) or sniff(body[: 64 * 1024])


def claim_records(body: bytes, kind: str):
    """The body's claims as `payerpolicy.read_claims` reads a file of that format."""
    stream: io.BytesIO | io.StringIO
    if kind == "json":
        stream = io.BytesIO(body)  # bytes, so that a JSON Lines line that is not UTF-8 spoils only its claim
    else:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = body.decode("latin-1")  # X12 is ASCII by rule; a stray byte is reported where it stands
        stream = io.StringIO(text)
    stream.name = BODY_NAME
    return read_claims(stream, kind)


def check_body(
    body: bytes,
    policies,
    *,
    payer: str | None = None,
    as_of: datetime.date | None = None,
    content_type: str | None = None,
    asked_format: str | None = None,
    received: datetime.date | None = None,
    output: str = "json",
    history: dict[str, str] | None = None,
) -> CheckResult:
    """Judge a request body: the status and the rendered decisions. `policies` is what `Session` takes: a
    `ServedPolicies` (routed by each claim's payer, or by `payer` for every claim, as `--payer` does) or one
    `Policy` (a draft tried on claims); `as_of` is the date they are known on, by default theirs. `history`:
    the claim history files by payer ("*" for every other payer), read and added to as `payerpolicy check`
    does."""
    target = policies
    if payer:
        if payer not in policies:
            raise RequestError(400, f"no policy for payer `{payer}` (known: {', '.join(policies.names())})")
        target = policies.get(payer)
    as_of = as_of or policies.as_of
    if output not in OUTPUT_FORMATS:
        raise RequestError(400, f"format is one of {', '.join(OUTPUT_FORMATS)}, not `{output}`")
    if not body.strip():
        raise RequestError(400, "the body is empty: send claims as claim JSON, JSON Lines, X12 837P or FHIR")
    kind = input_format(content_type, asked_format, body)
    unreadable = 0

    def counted(records):
        nonlocal unreadable
        for record in records:
            unreadable += isinstance(record, UnreadableClaim)
            yield record

    out = io.StringIO()
    writer = DecisionWriter(out, output)
    try:
        records = claim_records(body, kind)
    except ClaimFileError as exc:
        raise RequestError(400, str(exc)) from None
    try:
        session = Session(target, as_of=as_of, received=received, history=history or None)
    except (HistoryError, OSError, sqlite3.Error) as exc:
        raise RequestError(503, f"the claim history cannot be used now: {exc}") from None
    with session:
        writer.start()
        try:
            for decision in session.check_many(counted(records)):
                writer.write(decision)
        except ClaimFileError as exc:
            raise RequestError(400, str(exc)) from None
    writer.finish()
    summary = dict(writer.summary)
    return CheckResult(_status(summary, unreadable), _MEDIA_TYPES[output], out.getvalue(), summary)


def _status(summary: dict, unreadable: int) -> int:
    """200 every claim judged, 400 not one claim of the body could be read, 422 the rest judged."""
    if summary["errors"] == 0:
        return 200
    return 400 if unreadable == summary["claims"] else 422
