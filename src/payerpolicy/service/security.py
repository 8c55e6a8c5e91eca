"""Who may call the service, and what its access log keeps.

- Bound to the loopback address (the default), the service answers only requests whose `Host` is the
  loopback's, so that a web page elsewhere cannot reach it through a DNS name pointed at 127.0.0.1.
- Bound to any other address, it needs a token (`PAYERPOLICY_TOKEN`, or a file named by `--token-file`;
  never on the command line, where other users of the machine can read it), and every `/v1` request must
  carry it as `Authorization: Bearer <token>`. `/health`, `/ready`, the page and the OpenAPI document stay
  open: they hold no claims and no policy.
- The access log has the method, the path without its query, the status, the size and the time taken:
  never a body, a query string or a header, so no patient data.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
import time
import traceback
from pathlib import Path

access_log = logging.getLogger("payerpolicy.access")
service_log = logging.getLogger("payerpolicy.service")

TOKEN_VARIABLE = "PAYERPOLICY_TOKEN"
MIN_TOKEN_LENGTH = 16
OPEN_PATHS = ("/health", "/ready", "/openapi.json", "/", "/favicon.ico")
OPEN_PREFIXES = ("/page/",)


class StartError(Exception):
    """The service cannot start as asked (a message for the person starting it)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_token(token_file: str | None) -> str | None:
    """The token from `--token-file` or else `PAYERPOLICY_TOKEN`; None when neither is given."""
    token: str | None
    if token_file:
        path = Path(token_file)
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise StartError(f"cannot read the token file {token_file}: {exc.strerror or exc}") from None
        if os.name == "posix" and path.stat().st_mode & 0o077:
            raise StartError(f"the token file {token_file} may be read by other users; `chmod 600 {token_file}`")
    else:
        token = os.environ.get(TOKEN_VARIABLE, "").strip() or None
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise StartError(
            f"the token is too short to be safe: use at least {MIN_TOKEN_LENGTH} characters "
            "(`python -c 'import secrets; print(secrets.token_urlsafe())'` makes one)"
        )
    return token


def check_bind(host: str, token: str | None) -> None:
    if not is_loopback(host) and token is None:
        raise StartError(
            f"binding to {host} lets other machines call the service: set {TOKEN_VARIABLE} or give "
            "--token-file FILE, and callers send it as `Authorization: Bearer <token>`"
        )


class Guard:
    """ASGI middleware: the Host check, the token and the access log, before any route runs."""

    def __init__(self, app, *, token: str | None, allowed_hosts: tuple[str, ...] | None, direct: dict | None = None):
        self.app = app
        self.token = token.encode() if token else None
        self.allowed_hosts = {h.lower() for h in allowed_hosts} if allowed_hosts else None
        # (method, path) -> a plain ASGI app called straight from here, past the router and its exception
        # layers: for the route called once per claim, where those cost a large share of a request.
        self.direct = direct or {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        sent = {"status": 0, "bytes": 0}

        async def logged_send(message):
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
            elif message["type"] == "http.response.body":
                sent["bytes"] += len(message.get("body", b""))
            await send(message)

        refusal = self._refusal(scope)
        try:
            if refusal is not None:
                await _send_json(logged_send, *refusal)
            else:
                await self.direct.get((scope["method"], scope["path"]), self.app)(scope, receive, logged_send)
        except Exception as exc:  # the last line of defence: no traceback to a client or into the log
            _log_unexpected(scope, exc)
            if not sent["status"]:
                await _send_json(
                    logged_send,
                    500,
                    {"error": "internal error in payerpolicy; please report it with what you sent"},
                    {},
                )
        finally:
            access_log.info(
                "%s %s %d %d %.1fms",
                scope["method"],
                scope["path"],
                sent["status"],
                sent["bytes"],
                (time.perf_counter() - started) * 1000,
            )

    def _refusal(self, scope) -> tuple[int, dict, dict] | None:
        headers = {k.decode("latin-1").lower(): v for k, v in scope["headers"]}
        if self.allowed_hosts is not None:
            host = headers.get("host", b"").decode("latin-1").lower()
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in self.allowed_hosts:
                return 403, {"error": "this service answers only requests made to its loopback address"}, {}
        path = scope["path"]
        if self.token is None or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return None
        given = headers.get("authorization", b"")
        if not given.startswith(b"Bearer ") or not hmac.compare_digest(given[7:].strip(), self.token):
            return (
                401,
                {"error": "this service needs its token: send `Authorization: Bearer <token>`"},
                {"www-authenticate": "Bearer"},
            )
        return None


def _log_unexpected(scope, exc: Exception) -> None:
    # Only the type and the place: an exception's message may quote a claim.
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    service_log.error("internal error on %s %s: %s%s", scope["method"], scope["path"], type(exc).__name__, where)


async def _send_json(send, status: int, body: dict, headers: dict) -> None:
    data = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})
