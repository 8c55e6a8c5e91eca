"""What the service adds to judging one claim, without the network or a load generator: the ASGI app of
`payerpolicy serve` called in this process with one-claim bodies, against the library judging the same bodies
as `payerpolicy check` does (Session + DecisionWriter, one per body), in interleaved rounds.

    python bench/serve_overhead.py [--rounds 15] [--requests 400]

Prints each side's CPU time per claim (best and median of the rounds) and the app's CPU as a multiple of the
library's, per round (median). The access log is on, as `payerpolicy serve` has it by default (to /dev/null
here). uvicorn's HTTP parsing and the socket are not in it: bench/serve_load.py measures those, with clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from serve_load import judged_by_library  # noqa: E402

import payerpolicy  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    try:
        from payerpolicy.service import ServiceSettings, make_app
        from payerpolicy.service.store import PolicyStore
    except ImportError as exc:
        raise SystemExit(f"needs the extra `server`: pip install '.[server]' ({exc})") from None
    logging.basicConfig(level=logging.INFO, stream=open(os.devnull, "w"), format="%(asctime)s %(name)s %(message)s")
    bodies = [json.dumps(c).encode() for c in generate.claims(args.requests, seed=11)]
    store = PolicyStore((), interval=0)
    store.refresh()
    app = make_app(ServiceSettings(reload_interval=0), store)
    policies = payerpolicy.Policies()

    async def request(body: bytes) -> None:
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/v1/check",
            "raw_path": b"/v1/check",
            "query_string": b"",
            "http_version": "1.1",
            "scheme": "http",
            "root_path": "",
            "app": app,
            "server": ("127.0.0.1", 8642),
            "client": ("127.0.0.1", 50000),
            "headers": [
                (b"host", b"127.0.0.1:8642"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        answered = []

        async def receive():
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message):
            answered.append(message)

        await app(scope, receive, send)
        assert answered[0]["status"] in (200, 422), answered[0]

    async def run() -> dict[str, list[float]]:
        for body in bodies[:100]:  # warm: the judges' compiled shapes, the app's first calls
            await request(body)
            judged_by_library(body, policies)
        spent: dict[str, list[float]] = {"service app": [], "library": []}
        for _ in range(args.rounds):
            started = time.process_time()
            for body in bodies:
                await request(body)
            spent["service app"].append((time.process_time() - started) / len(bodies))
            started = time.process_time()
            for body in bodies:
                judged_by_library(body, policies)
            spent["library"].append((time.process_time() - started) / len(bodies))
        return spent

    spent = asyncio.run(run())
    for name, values in spent.items():
        print(
            f"{name:12} CPU per claim: best {1e6 * min(values):,.0f} us, median {1e6 * statistics.median(values):,.0f} us"
        )
    ratios = [a / b for a, b in zip(spent["service app"], spent["library"])]
    print(
        f"service app / library, per round: median {statistics.median(ratios):.2f} "
        f"(from {min(ratios):.2f} to {max(ratios):.2f}, {args.rounds} rounds of {len(bodies)} one-claim requests)"
    )


if __name__ == "__main__":
    main()
