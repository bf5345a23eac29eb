"""Health, readiness and metrics for whoever runs roster."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from roster.api import doors
from roster.api.answers import JsonAnswer
from roster.api.auth import system_of

router = doors.router("operations", tags=["Operations"])

# How soon a load balancer may ask again when the server is not ready (the writer tries to
# reconnect more often than this).
READY_RETRY_AFTER = "2"


@router.get("/healthz", summary="200 once the server takes calls")
async def healthz() -> JsonAnswer:
    return JsonAnswer({"status": "ok"})


@router.get(
    "/readyz",
    summary="200 when the database answers, its schema is current and the writer can write",
)
async def readyz(request: Request) -> JsonAnswer:
    readiness = await asyncio.to_thread(system_of(request).readiness)
    writer = readiness.writer
    body: dict[str, Any] = {
        "status": "ready" if readiness.ready else "not ready",
        "database": {"readable": readiness.readable, "schema_current": readiness.schema_current},
        "writer": {
            "alive": writer.alive,
            "writable": writer.writable,
            "queue_depth": writer.queue_depth,
            "last_commit": writer.last_commit,
            "down_since": writer.down_since,
            "draining": writer.draining,
        },
    }
    if readiness.ready:
        return JsonAnswer(body)
    if not readiness.readable:
        body["message"] = "the database is unreachable"
    elif not readiness.schema_current:
        body["message"] = "the database schema is not current: restart roster to migrate it"
    elif writer.draining:
        body["message"] = "roster is stopping: it finishes the calls it took and takes no more"
    elif not writer.alive:
        body["message"] = "the writer has stopped"
    else:
        body["message"] = "the database cannot be written to; the writer is reconnecting"
    return JsonAnswer(body, status_code=503, headers={"Retry-After": READY_RETRY_AFTER})


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(request: Request) -> Response:
    body = system_of(request).telemetry.text()
    return Response(body, media_type=CONTENT_TYPE_LATEST)
