"""`payerpolicy serve`: the HTTP service and the page, on uvicorn (needs the extra `server`)."""

from __future__ import annotations

from payerpolicy.cli import arguments
from payerpolicy.cli.help import Command, option

import argparse
import logging
import os
import sys

DEFAULT_PORT = 8642


def _size(text: str) -> int:
    """A size in bytes, with an optional K, M or G (1024s): 64M."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    number, unit = (text[:-1], units[text[-1].upper()]) if text and text[-1].upper() in units else (text, 1)
    if not number.isdigit() or int(number) == 0:
        raise argparse.ArgumentTypeError(f"expected a size such as 64M or 1048576, not {text!r}")
    return int(number) * unit


def _history(text: str) -> tuple[str, str]:
    """`PAYER=FILE` (that payer's claim history) or `FILE` (every payer not named otherwise)."""
    payer, given, path = text.partition("=")
    if given and payer and path and "/" not in payer and os.sep not in payer:
        return payer, path
    if not text:
        raise argparse.ArgumentTypeError("expected FILE or PAYER=FILE")
    return "*", text


def run(args) -> int:
    try:
        import uvicorn

        from payerpolicy.service import ServiceSettings, StartError, check_bind, is_loopback, make_app, read_token
    except ImportError as exc:
        print(
            f"payerpolicy: serve needs the extra `server` ({exc.name or exc} is not installed): "
            "pip install 'payerpolicy[server]'",
            file=sys.stderr,
        )
        return 2
    try:
        token = read_token(args.token_file)
        check_bind(args.host, token)
        settings = ServiceSettings(
            policies=tuple(args.policies),
            as_of=args.as_of,
            max_body=args.max_body,
            body_timeout=args.body_timeout,
            token=token,
            allowed_hosts=("127.0.0.1", "localhost", "[::1]", "::1") if is_loopback(args.host) else None,
            cors_origins=tuple(args.cors_origin),
            allow_edits=args.allow_edits,
            reload_interval=args.reload_interval,
            histories=tuple(args.history),
        )
        app = make_app(settings)
    except (StartError, FileNotFoundError) as exc:
        print(f"payerpolicy: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if not args.access_log:
        logging.getLogger("payerpolicy.access").setLevel(logging.WARNING)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"payerpolicy {'(token required) ' if token else ''}serving on http://{shown}:{args.port}/", file=sys.stderr)
    # uvicorn's own access log prints query strings; ours (payerpolicy.access) prints the path only.
    # Forwarded headers are not read (proxy_headers): nothing here uses the caller's address, and reading
    # them is work on every request. uvicorn picks httptools and uvloop when installed (`uvicorn[standard]`).
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        access_log=False,
        log_level="warning",
        proxy_headers=False,
        timeout_keep_alive=5,
        server_header=False,
        limit_concurrency=args.max_connections,
    )
    return 0


COMMAND = Command(
    "serve",
    "judge claims over HTTP, and serve the page where policies are tried (extra `server`)",
    (
        "payerpolicy serve",
        "payerpolicy serve --policies my-payers --allow-edits",
        "PAYERPOLICY_TOKEN=... payerpolicy serve --host 0.0.0.0 --port 8642",
    ),
    run,
    options=(
        option("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)"),
        option("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}"),
        arguments.policies_option(),
        arguments.date_option(
            "--as-of", "judge with the policies as known on that date (default: today, following the date)"
        ),
        option(
            "--history",
            type=_history,
            action="append",
            default=[],
            metavar="[PAYER=]FILE",
            help="judge each payer's claims with its patients' earlier claims in a claim history file, "
            "and add them to it (as check --history): PAYER=FILE for one payer, FILE for every "
            "payer not named; may be given more than once. A payer with none is judged without "
            "history; a request may ask for none with ?history=off",
        ),
        # What one caller may ask of the service at once.
        option(
            "--max-body",
            type=_size,
            default="64M",
            metavar="SIZE",
            help="the largest request body taken (default 64M); a larger one gets 413",
        ),
        option(
            "--max-connections",
            type=int,
            default=64,
            metavar="N",
            help="connections served at once (default 64); past that a caller gets 503 and tries again",
        ),
        option(
            "--body-timeout",
            type=float,
            default=60.0,
            metavar="SECONDS",
            help="the longest a request body may take to arrive (default 60); a slower one gets 408",
        ),
        # Who may call the service, and what it may do and keep.
        option(
            "--token-file", metavar="FILE", help="a file (readable by you only) holding the token callers must send"
        ),
        option(
            "--cors-origin",
            action="append",
            default=[],
            metavar="ORIGIN",
            help="a web origin allowed to call the service from a browser (none by default)",
        ),
        option(
            "--allow-edits",
            action="store_true",
            help="let the page save edited policy files (only edits that load clean; the file replaced "
            "is kept as NAME.previous); without it, edits are tried and never saved",
        ),
        option(
            "--no-access-log",
            dest="access_log",
            action="store_false",
            help="do not log each request (method, path, status, size, time; never a body or a query)",
        ),
        option(
            "--reload-interval",
            type=float,
            default=1.0,
            metavar="SECONDS",
            help="how often to look for changed policy files (default 1; 0 turns reloading off)",
        ),
    ),
    settings=dict(
        description="Serve POST /v1/check (the decision JSON of `payerpolicy check`), POST /v1/lint, "
        "GET /v1/policies, /health, /ready, /openapi.json and the page at /. Policies are reloaded "
        "when their files change. Binds 127.0.0.1; another address needs a token, from the "
        "PAYERPOLICY_TOKEN environment variable or --token-file.",
    ),
)
