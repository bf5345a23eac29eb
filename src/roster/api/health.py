"""Health, readiness and metrics for whoever runs roster."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from roster.api.answers import JsonAnswer
from roster.api.auth import system_of

router = APIRouter(tags=["Operations"])

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
async def metrics(request: Request) -> PlainTextResponse:
    writer = system_of(request).writer
    status = writer.status()
    lines = [
        "# HELP roster_write_transactions_total Write transactions committed or failed.",
        "# TYPE roster_write_transactions_total counter",
        f"roster_write_transactions_total {writer.batches}",
        "# HELP roster_write_requests_total Requests applied by the writer.",
        "# TYPE roster_write_requests_total counter",
        f"roster_write_requests_total {writer.requests}",
        "# HELP roster_writer_writable 1 when the writer can write, 0 while the database is away.",
        "# TYPE roster_writer_writable gauge",
        f"roster_writer_writable {int(status.alive and status.writable)}",
        "# HELP roster_writer_queue_depth Requests waiting for the writer.",
        "# TYPE roster_writer_queue_depth gauge",
        f"roster_writer_queue_depth {status.queue_depth}",
    ]
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
