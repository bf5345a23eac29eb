"""Every HTTP request gets a request id (in its logs and in its answer's `X-Request-Id`), is
counted by door and status and timed by door for `/metrics`, says in its answer's
`Server-Timing` how long the server took to its answer's headers, and, at the debug log level,
leaves one log line naming its route, never its path (a path can hold an id or an email)
(docs/operations.md, "Logs" and "Metrics")."""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
from typing import Any

from roster import logs
from roster.api.doors import door_of

log = logging.getLogger("roster.http")

# A request id is this process's random prefix and a counter: unique across the processes of a
# server, and cheap (a uuid4 per request, which reads the kernel's random source, was 6% of the
# server's samples under /v1/batch: docs/benchmarks.md, "Profile").
_PROCESS = os.urandom(4).hex()
_COUNTER = itertools.count(1)
_CLIENT_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


def _request_id(scope: dict[str, Any]) -> str:
    """The client's X-Request-Id when it is a plain token (so that its logs and roster's line
    up), else a new one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id" and _CLIENT_ID.fullmatch(value):
            return str(value.decode())
    return f"{_PROCESS}{next(_COUNTER):08x}"


class RequestTelemetry:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        # Also in the scope, for the 500 page that the outermost handler draws after this ends.
        scope[logs.REQUEST_ID_KEY] = request_id
        token = logs.request_id.set(request_id)
        header = (b"x-request-id", request_id.encode())
        started = time.perf_counter()
        status = 500  # what the client sees if nothing is answered

        async def answer(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                took = f"app;dur={(time.perf_counter() - started) * 1000:.2f}".encode()
                headers = [*message.get("headers", ()), header, (b"server-timing", took)]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:
            seconds = time.perf_counter() - started
            door = door_of(scope)
            system = getattr(getattr(scope.get("app"), "state", None), "system", None)
            if system is not None:
                system.telemetry.requests.labels(door, str(status)).inc()
                system.telemetry.latency.labels(door).observe(seconds)
            if log.isEnabledFor(logging.DEBUG):
                route = getattr(scope.get("route"), "path", None) or "(no route)"
                log.debug(
                    "%s %s %d",
                    scope.get("method"),
                    route,
                    status,
                    extra={"door": door, "method": scope.get("method"), "route": route,
                           "status": status, "ms": round(seconds * 1000, 2)},
                )  # fmt: skip
            logs.request_id.reset(token)
