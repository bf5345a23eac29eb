"""Rate limiting per workspace and door (docs/api.md §0, ROSTER_RATE_LIMIT): a token bucket for
each (workspace, door) in this process, checked right after a call is authenticated and before
anything of it is parsed or stored. Off by default.

Each bucket holds at most `burst` tokens and gains `rate` tokens a second; a call takes one, and
a call that finds less than one is refused with RateLimited, told to wait until a whole token
will be there (in whole seconds, at least 1, as Retry-After takes). The buckets live in the
server process: with several processes (--workers, several machines) each counts on its own, so
a workspace may get up to that many times the rate in all."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request

from roster.api.doors import door_of
from roster.domain.errors import RateLimited
from roster.settings import Settings

Clock = Callable[[], float]  # seconds, only ever compared with itself


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """The buckets of one server process. Calls take their tokens on the event loop
    (api/auth.py), and a lock (held for a few arithmetic operations) keeps a bucket right for
    any caller on another thread too."""

    def __init__(self, rate: float, burst: int | None = None, clock: Clock = time.monotonic):
        if rate <= 0:
            raise ValueError("a rate limiter needs a rate above 0")
        self.rate = rate
        self.burst = burst if burst is not None else max(1, math.ceil(rate))
        self.clock = clock
        self._buckets: dict[tuple[int, str], _Bucket] = {}
        self._lock = threading.Lock()

    def wait(self, workspace_id: int, door: str) -> float:
        """Take a token for one call: 0 if there was one, else the seconds until there is."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get((workspace_id, door))
            if bucket is None:
                bucket = self._buckets[(workspace_id, door)] = _Bucket(self.burst, now)
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate


def install(app: FastAPI, settings: Settings, clock: Clock = time.monotonic) -> None:
    """Give the app its limiter, or none when ROSTER_RATE_LIMIT is 0 (off)."""
    app.state.rate_limiter = (
        RateLimiter(settings.rate_limit, settings.rate_limit_burst, clock)
        if settings.rate_limit > 0
        else None
    )


def admit(request: Request, workspace_id: int) -> int:
    """The workspace, if it may make this call now through the door the path names; else
    RateLimited (429 with Retry-After), counted in /metrics by door."""
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        return workspace_id
    # The door's name as roster_http_requests_total labels it ("roster" for /api), so that the
    # two counters can be read together.
    door = door_of(request.scope)
    wait = limiter.wait(workspace_id, door)
    if wait <= 0:
        return workspace_id
    request.app.state.system.telemetry.rate_limited.labels(door).inc()
    # A hair off for float error, so that a wait of exactly 1 s is not told 2.
    raise RateLimited(door, max(1, math.ceil(wait - 1e-9)))
