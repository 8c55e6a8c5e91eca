"""The routes of `payerpolicy serve` (Starlette), each a thin client of the library.

Judging and compiling are CPU work, done in a worker thread so that `/health` and `/ready` answer while a
large body is judged. A body is read to its configured limit (413 past it) within a time limit (408), so a
client that sends slowly or stops mid-body does not hold the service. Any unexpected failure is answered
with a short JSON error and logged by its type and place only (`security.Guard`).
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.datastructures import Headers, QueryParams
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from payerpolicy import __version__
from payerpolicy.judge.history import ClaimHistory, HistoryError
from payerpolicy.session import EVERY_PAYER
from payerpolicy.service import drafts
from payerpolicy.service.bases import bases_of
from payerpolicy.impact import diff
from payerpolicy.service.judging import CheckResult, RequestError, check_body, claim_records, input_format
from payerpolicy.service.security import Guard, StartError
from payerpolicy.service.settings import ServiceSettings
from payerpolicy.service.store import DatedPolicies, PolicyNotServing, PolicyStore

log = logging.getLogger("payerpolicy.service")
HERE = Path(__file__).resolve().parent
PAGE = HERE / "page"
OPENAPI = HERE / "openapi.json"
HEAVY_BODY = 256 * 1024  # bytes: a larger body of claims waits for one of the few judging slots
# bytes: a body this small (a claim or a few, judged in about a millisecond) is judged on the event loop
# itself. Handing it to a worker thread and back costs more than judging it; and since Python runs one thread
# at a time, a thread would not let other requests go faster meanwhile.
INLINE_BODY = 8 * 1024


class Service:
    def __init__(self, settings: ServiceSettings, store: PolicyStore):
        self.settings, self.store = settings, store
        self._working: anyio.CapacityLimiter | None = None
        # Requests that read and add to a claim history are judged one at a time, so that each sees the
        # claims of the one before, as one `payerpolicy check` after another would.
        self._history_lock = threading.Lock()

    async def work(self, function, *args, heavy: bool = True, inline: bool = False, **kwargs):
        """Run judging or compiling in a worker thread, so the event loop stays free. Heavy work (a large body,
        a policy compiled) runs at most `settings.workers` at once: Python's lock lets only one run at a time
        anyway, and each holds its body's decisions until it answers, so more at once would add memory, not
        speed. Light work (a few claims) is not queued behind it, so that one claim never waits for a
        10,000-claim body to be judged. Inline work (a claim or two) runs here, on the event loop."""
        if inline:
            return function(*args, **kwargs)
        if self._working is None:  # made on the event loop that uses it
            self._working = anyio.CapacityLimiter(self.settings.workers)
        limiter = self._working if heavy else None
        return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs), limiter=limiter)

    # -- reading requests ----------------------------------------------------------------------------

    async def body(self, request: Request) -> bytes:
        return await self.read_body(request.headers.get("content-length", ""), request.receive)

    async def read_body(self, declared: str, receive) -> bytes:
        """The request body from ASGI `receive`, within the size limit (413) and the time limit (408)."""
        limit = self.settings.max_body
        if declared.isdigit() and int(declared) > limit:
            raise RequestError(
                413, f"the body is larger than this service takes ({limit:,} bytes); send the claims in smaller batches"
            )
        chunks, size = [], 0

        async def collect():
            nonlocal size
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientDisconnect()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise RequestError(
                        413,
                        f"the body is larger than this service takes ({limit:,} bytes); "
                        "send the claims in smaller batches",
                    )
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return

        try:
            # A cancel scope, not asyncio.wait_for, which would start a task for every request.
            with anyio.fail_after(self.settings.body_timeout):
                await collect()
        except TimeoutError:
            raise RequestError(408, f"the body did not arrive within {self.settings.body_timeout:g} seconds") from None
        return b"".join(chunks)

    async def json_body(self, request: Request) -> dict:
        # Only application/json: another web site's page can send a form or text/plain to the loopback
        # without asking, but not JSON (the browser asks first, and the service says no unless --cors-origin).
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise RequestError(415, "send this as Content-Type: application/json")
        raw = await self.body(request)
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RequestError(400, f"the body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise RequestError(400, "the body is a JSON object")
        return data

    def policies(self, as_of: datetime.date | None = None):
        if not self.store.ready:
            raise RequestError(503, "the policies are still being loaded; try again in a moment (see /ready)")
        return self.store.on(as_of)

    def histories(self, asked: str | None) -> dict[str, str] | None:
        """The claim history files a check request uses: the service's (`--history`), unless it asks for
        none (`history=off`)."""
        if asked not in (None, "", "on", "off"):
            raise RequestError(400, f"history is on (the default: the service's history files) or off, not `{asked}`")
        return dict(self.settings.histories) if self.settings.histories and asked != "off" else None

    def _check_in_turn(self, *args, **kwargs):
        with self._history_lock:
            return check_body(*args, **kwargs)

    # -- routes ----------------------------------------------------------------------------------------

    async def check(self, scope, receive, send) -> None:
        """POST /v1/check, as a plain ASGI app: the route most called, one claim at a time, is called straight
        from `security.Guard` (which still checks, logs and catches it), without Starlette's router, request
        and response objects and exception layers, which cost a large share of a one-claim request besides
        judging it. Its errors are answered here as the other routes' are (`_request_error`)."""
        headers = Headers(scope=scope)
        try:
            result = await self._check(QueryParams(scope["query_string"]), headers, receive)
            status, media_type, body = result.status, result.media_type, result.body.encode("utf-8")
        except RequestError as exc:
            status, media_type, body = exc.status, "application/json", json.dumps(exc.to_dict()).encode()
        except ClientDisconnect:
            return  # nobody is there to read an answer
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", media_type.encode("latin-1")),
                    (b"content-length", str(len(body)).encode("latin-1")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _check(self, params: QueryParams, headers: Headers, receive) -> CheckResult:
        received = _date(params.get("received"), "received")
        as_of = _date(params.get("as_of"), "as_of")
        histories = self.histories(params.get("history"))
        body = await self.read_body(headers.get("content-length", ""), receive)
        policies = self.policies(as_of)
        # Judged right here only when nothing can wait: no policy to compile for another date, no history
        # file to wait for its turn at.
        dated = isinstance(policies, DatedPolicies)
        inline = len(body) <= INLINE_BODY and not dated and not histories
        try:
            return await self.work(
                self._check_in_turn if histories else check_body,
                body,
                policies,
                heavy=len(body) > HEAVY_BODY or dated,
                inline=inline,
                content_type=headers.get("content-type"),
                asked_format=params.get("input_format"),
                payer=params.get("payer"),
                received=received,
                output=params.get("format", "json"),
                history=histories,
            )
        except PolicyNotServing as exc:
            raise _not_serving(exc) from None

    async def lint(self, request: Request) -> Response:
        data = await self.json_body(request)
        payer = data.get("payer")
        if not isinstance(payer, str):
            raise RequestError(400, 'name the policy to check: {"payer": "medicare", "files": {...}}')
        report = await self.work(self._lint, payer, data.get("files") or {})
        return JSONResponse({"policies": [report]})

    def _lint(self, payer: str, files: dict) -> dict:
        folder, unsaved = drafts.draft_edits(self.store.folders(), payer, files)
        report, _ = drafts.lint_draft(folder, unsaved, payer, self.store.as_of)
        return report

    async def with_draft(self, request: Request, answer) -> Response:
        """A draft's request (`{"payer", "files", "claims"}`) answered by `answer(policies, payer, files,
        claims)`, off the event loop."""
        data = await self.json_body(request)
        payer, claims = data.get("payer"), data.get("claims")
        if not isinstance(payer, str) or not isinstance(claims, str):
            raise RequestError(400, 'send {"payer": ..., "files": {...}, "claims": "<claims as text>"}')
        policies = self.policies()
        return JSONResponse(await self.work(answer, policies, payer, data.get("files") or {}, claims.encode("utf-8")))

    async def try_draft(self, request: Request) -> Response:
        return await self.with_draft(request, self._try)

    def _try(self, policies, payer: str, files: dict, claims: bytes) -> dict:
        try:
            saved = check_body(claims, policies, payer=payer)
        except PolicyNotServing as exc:
            raise _not_serving(exc) from None
        out = {"saved": json.loads(saved.body), "saved_status": saved.status}
        folder, unsaved = drafts.draft_edits(self.store.folders(), payer, files)
        report, policy = drafts.lint_draft(folder, unsaved, payer, policies.as_of)
        out["lint"] = report
        if policy is not None:
            tried = check_body(claims, policy, as_of=policies.as_of)
            out["draft"], out["draft_status"] = json.loads(tried.body), tried.status
        else:
            out["draft"], out["draft_status"] = None, None
        return out

    async def diff(self, request: Request) -> Response:
        """What an unsaved edit changes on some claims, as `payerpolicy diff` reports it (the impact JSON):
        the saved policy is OLD, the policy with the edit NEW."""
        return await self.with_draft(request, self._diff)

    def _diff(self, policies, payer: str, files: dict, claims: bytes) -> dict:
        try:
            saved = policies.get(payer)
        except KeyError:
            raise RequestError(404, f"no payer `{payer}`") from None
        except PolicyNotServing as exc:
            raise _not_serving(exc) from None
        folder, unsaved = drafts.draft_edits(self.store.folders(), payer, files)
        report, edited = drafts.lint_draft(folder, unsaved, payer, policies.as_of)
        if edited is None:  # the edit does not load: its diagnostics, and no diff
            return {"lint": report, "diff": None}
        records = claim_records(claims, input_format(None, None, claims))
        return {"lint": report, "diff": diff(saved, edited, records, as_of=policies.as_of).to_dict()}

    async def save(self, request: Request) -> Response:
        if not self.settings.allow_edits:
            raise RequestError(403, "this service was not started with --allow-edits: edits are tried, not saved")
        data = await self.json_body(request)
        payer, files = data.get("payer"), data.get("files")
        if not isinstance(payer, str) or not isinstance(files, dict) or not files:
            raise RequestError(400, 'send {"payer": ..., "files": {"caps.yaml": "..."}}')
        return JSONResponse(await self.work(self._save, payer, files))

    def _save(self, payer: str, files: dict) -> dict:
        with self.store.files_lock:  # no reload reads the files between the check and the writes
            folders = self.store.folders()
            folder, unsaved = drafts.draft_edits(folders, payer, files)
            report, policy = drafts.lint_draft(folder, unsaved, payer, self.store.as_of)
            if policy is None:
                raise RequestError(
                    422, "the edited policy does not load, so nothing was saved", diagnostics=report["diagnostics"]
                )
            written = drafts.save_files(folders[payer], files)
            self.store.refresh()
        return {"saved": written, "policy": self.store.snapshot().state(payer).to_dict()}

    async def list_policies(self, request: Request) -> Response:
        snapshot = self.store.snapshot()
        return JSONResponse(
            {
                "as_of": snapshot.as_of.isoformat(),
                "ready": self.store.ready,
                "policies": [snapshot.state(name).to_dict() for name in snapshot.names()],
            }
        )

    async def policy_files(self, request: Request) -> Response:
        payer = request.path_params["payer"]
        folders = self.store.folders()
        if payer not in folders:
            raise RequestError(404, f"no payer `{payer}` (known: {', '.join(sorted(folders))})")
        files = await self.work(drafts.policy_files, folders[payer])
        bases, overrides = [], []
        if self.store.ready and payer in self.store.snapshot():
            bases, overrides = await self.work(bases_of, self.store.snapshot(), payer, files)
        return JSONResponse(
            {
                "payer": payer,
                "editable": self.settings.allow_edits,
                "files": files,
                "bases": bases,
                "overrides": overrides,
            }
        )

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})

    async def ready(self, request: Request) -> Response:
        if not self.store.ready:
            return JSONResponse({"status": "loading"}, status_code=503)
        snapshot = self.store.snapshot()
        serving = [n for n in snapshot.names() if snapshot.state(n).policy is not None]
        if not serving:
            return JSONResponse({"status": "no policy loads", "serving": []}, status_code=503)
        return JSONResponse({"status": "ready", "serving": serving})

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(_openapi_document())

    async def page(self, request: Request) -> Response:
        return FileResponse(PAGE / "index.html", media_type="text/html; charset=utf-8")


class _Asgi:
    """A plain ASGI app for a `Route` (Starlette wraps a function or method given as the endpoint as a
    request handler instead)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


@functools.lru_cache(maxsize=1)
def _openapi_document() -> dict:
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    document["info"]["version"] = __version__  # the one version number, not a copy of it
    return document


def _date(text: str | None, name: str) -> datetime.date | None:
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise RequestError(400, f"{name} is a date written YYYY-MM-DD, not `{text}`") from None


def _not_serving(exc: PolicyNotServing) -> RequestError:
    state = exc.state
    return RequestError(
        503,
        f"the policy of payer `{state.payer}` does not load, so its claims cannot be judged; "
        "fix its files (see /v1/policies)",
        diagnostics=list(state.diagnostics),
    )


async def _request_error(request: Request, exc: RequestError) -> Response:
    return JSONResponse(exc.to_dict(), status_code=exc.status)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _disconnected(request: Request, exc: ClientDisconnect) -> Response:
    return Response(status_code=400)  # nobody is there to read it


def _lifespan(store: PolicyStore):
    @contextlib.asynccontextmanager
    async def lifespan(app):
        store.start()
        try:
            yield
        finally:
            store.stop()

    return lifespan


def _check_histories(settings: ServiceSettings, store: PolicyStore) -> None:
    """Each history file named at start opens, for a payer the service knows, once per payer."""
    known = store.folders()
    named = [payer for payer, _ in settings.histories]
    for payer, path in settings.histories:
        if payer != EVERY_PAYER and payer not in known:
            raise StartError(
                f"--history names payer `{payer}`, which no policy folder serves (known: {', '.join(sorted(known))})"
            )
        if named.count(payer) > 1:
            raise StartError(
                f"--history gives {'every payer' if payer == EVERY_PAYER else 'payer `' + payer + '`'} "
                "two files: give one"
            )
        try:
            ClaimHistory(path).close()  # made (readable by its owner only) or migrated now, not mid-request
        except (HistoryError, OSError, sqlite3.Error) as exc:
            raise StartError(f"the claim history {path} cannot be used: {exc}") from None


def make_app(settings: ServiceSettings, store: PolicyStore | None = None) -> Starlette:
    if store is None:
        store = PolicyStore(settings.policies, as_of=settings.as_of, interval=settings.reload_interval)
    _check_histories(settings, store)
    service = Service(settings, store)
    routes = [
        Route("/", service.page, methods=["GET"]),
        Mount("/page", app=StaticFiles(directory=PAGE), name="page"),
        Route("/health", service.health, methods=["GET"]),
        Route("/ready", service.ready, methods=["GET"]),
        Route("/openapi.json", service.openapi, methods=["GET"]),
        Route("/v1/check", _Asgi(service.check), methods=["POST"]),
        Route("/v1/lint", service.lint, methods=["POST"]),
        Route("/v1/try", service.try_draft, methods=["POST"]),
        Route("/v1/diff", service.diff, methods=["POST"]),
        Route("/v1/save", service.save, methods=["POST"]),
        Route("/v1/policies", service.list_policies, methods=["GET"]),
        Route("/v1/policies/{payer}/files", service.policy_files, methods=["GET"]),
    ]
    middleware = [
        Middleware(
            Guard,
            token=settings.token,
            allowed_hosts=settings.allowed_hosts,
            direct={("POST", "/v1/check"): service.check},
        )
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type"],
            )
        )
    # Starlette types a handler as taking any Exception; each of these takes the one it is registered for.
    handlers: dict[Any, Any] = {
        RequestError: _request_error,
        HTTPException: _http_error,
        ClientDisconnect: _disconnected,
    }
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=handlers, lifespan=_lifespan(store))
    app.state.store = store
    return app
