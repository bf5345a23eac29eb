"""Wiring: settings, the system (database, writer, services) and the HTTP routers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from roster import __version__, logs, web
from roster.api import (
    app_api,
    conflicts,
    deletion,
    doors,
    drain,
    duplicates,
    errors,
    explain,
    exports,
    health,
    imports,
    noop,
    outbox,
    people_search,
    rate_limit,
    roster_api,
    segment,
    suppressions,
    track_v1,
    track_v2,
    webhooks,
)
from roster.api.paths import RawPathRouting
from roster.api.telemetry import RequestTelemetry
from roster.services.system import System
from roster.settings import Settings
from roster.web import errors as pages

log = logging.getLogger("roster")


async def _upkeep(system: System, every: int) -> None:
    while True:
        try:
            removed = await asyncio.to_thread(system.upkeep.run)
            if removed:
                log.info("upkeep removed %d expired anonymous events", removed)
        except Exception:  # upkeep must never take the server down
            log.exception("upkeep failed; trying again later")
        await asyncio.sleep(every)


def create_app(settings: Settings | None = None, system: System | None = None) -> FastAPI:
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = system or System.open(
            settings.database_url,
            settings.data_dir,
            settings.secret_key,
            settings.sqlite_synchronous,
            settings.writer_batch,
            settings.write_timeout,
        )
        app.state.system = opened
        # Everything loaded so far lives as long as the server: keep it out of the collector's
        # full passes, which otherwise stall every request for tens of milliseconds (the p99).
        gc.collect()
        gc.freeze()
        task = asyncio.create_task(_upkeep(opened, settings.upkeep_interval))
        restore = drain.install(opened, settings.drain_seconds)
        try:
            yield
        finally:
            restore()
            task.cancel()
            if system is None:  # a system handed in belongs to the caller
                await asyncio.to_thread(opened.close)

    app = FastAPI(
        title="roster",
        version=__version__,
        description="A self-hosted people & events store that speaks Customer.io's and "
        "Segment's APIs.",
        lifespan=lifespan,
    )
    app.state.public_url = settings.base_url()
    rate_limit.install(app, settings)
    errors.install(app, pages.page)
    doors.include(app, health.router)
    doors.include(app, track_v1.router)
    if settings.noop_endpoint:  # matched right after the call it stands beside
        doors.include(app, noop.router)
    doors.include(app, track_v2.router)
    doors.include(app, segment.router)
    doors.include(app, roster_api.router)
    doors.include(app, webhooks.router)
    doors.include(app, app_api.router)
    doors.include(app, people_search.router)
    doors.include(app, suppressions.router)
    doors.include(app, deletion.router)
    doors.include(app, duplicates.router)
    doors.include(app, conflicts.router)
    doors.include(app, outbox.router)
    doors.include(app, outbox.listing)
    doors.include(app, exports.router)
    doors.include(app, explain.router)
    doors.include(app, imports.router)
    web.install(app, doors.include)
    # Inside RawPathRouting (which hands on a copy of the scope), so it sees the route matched.
    app.add_middleware(RequestTelemetry)
    app.add_middleware(RawPathRouting)
    return app


def create_app_from_environment() -> FastAPI:
    """Factory for `uvicorn --factory` worker processes: settings come from ROSTER_*."""
    settings = Settings()
    logs.configure(settings.log_level, settings.log_format)  # each worker process logs too
    return create_app(settings)
