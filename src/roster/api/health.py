"""Health, readiness and metrics for whoever runs roster."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from roster.api.answers import JsonAnswer
from roster.api.auth import system_of

router = APIRouter(tags=["Operations"])


@router.get("/healthz", summary="200 once the server takes calls")
async def healthz() -> JsonAnswer:
    return JsonAnswer({"status": "ok"})


@router.get("/readyz", summary="200 when the database answers and its schema is current")
async def readyz(request: Request) -> JsonAnswer:
    ready = await asyncio.to_thread(system_of(request).ready)
    if not ready:
        return JsonAnswer(
            {"status": "not ready", "message": "the database is unreachable or not migrated"},
            status_code=503,
        )
    return JsonAnswer({"status": "ready"})


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(request: Request) -> PlainTextResponse:
    writer = system_of(request).writer
    lines = [
        "# HELP roster_write_transactions_total Write transactions committed or failed.",
        "# TYPE roster_write_transactions_total counter",
        f"roster_write_transactions_total {writer.batches}",
        "# HELP roster_write_requests_total Requests applied by the writer.",
        "# TYPE roster_write_requests_total counter",
        f"roster_write_requests_total {writer.requests}",
    ]
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
