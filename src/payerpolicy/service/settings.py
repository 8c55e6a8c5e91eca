"""What a running service is told at start: where its policies are, its limits, who may call it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSettings:
    policies: tuple[str, ...] = ()  # folders of the user's payers, searched before the shipped ones
    as_of: datetime.date | None = None  # pinned date the policies are known on; None follows today
    max_body: int = 64 * 1024 * 1024  # bytes; a larger body gets 413
    workers: int = 2  # requests judged or compiled at once (in threads); others wait their turn
    body_timeout: float = 60.0  # seconds to receive a whole body; a slower one gets 408
    token: str | None = None  # when set, every /v1 request needs `Authorization: Bearer <token>`
    allowed_hosts: tuple[str, ...] | None = ("127.0.0.1", "localhost", "[::1]", "::1")  # None: any Host header
    cors_origins: tuple[str, ...] = ()  # no CORS unless asked
    allow_edits: bool = False  # whether POST /v1/save may write policy files (`--allow-edits`)
    reload_interval: float = 1.0  # seconds between looks at the policy files; 0 turns reloading off
    # Claim history files, as (payer, path); payer "*" for every payer not named. A payer with none is
    # judged without history. Requests that use a history are judged one at a time.
    histories: tuple[tuple[str, str], ...] = ()
