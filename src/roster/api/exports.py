"""CSV exports of people on the App API (docs/api.md §4): make one, look at it, get a signed
link to its file, and the file itself, streamed from the database as it is sent."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import anyio
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from roster.api import doors, schemas
from roster.api.answers import JsonAnswer
from roster.api.auth import app_workspace, system_of
from roster.api.bodies import json_object
from roster.domain.errors import InvalidInput

router = doors.router("app", tags=["App API"])
Workspace = Depends(app_workspace)
FIELDS = ("filters", "attributes")


@router.post(
    "/v1/exports/customers",
    summary="Export people to a CSV file",
    openapi_extra=schemas.body(schemas.EXPORT, required=False),
)
async def create_export(request: Request, workspace_id: int = Workspace) -> JsonAnswer:
    body = await json_object(request, required=False)
    unknown = sorted(key for key in body if key not in FIELDS)
    if unknown:
        raise InvalidInput(
            f"unknown field '{unknown[0]}': an export takes filters and attributes",
            field=unknown[0],
        )
    exports = system_of(request).exports
    plan = exports.plan(body.get("filters"), body.get("attributes"))
    export = await exports.create(workspace_id, plan)
    return JsonAnswer({"export": export.as_json()})


@router.get("/v1/exports/{export_id}", summary="An export")
def export(request: Request, export_id: str, workspace_id: int = Workspace) -> JsonAnswer:
    return JsonAnswer({"export": system_of(request).exports.get(workspace_id, export_id).as_json()})


@router.get(
    "/v1/exports/{export_id}/download",
    summary="A link to the export's CSV file, valid for 15 minutes, that needs no key",
)
def download(request: Request, export_id: str, workspace_id: int = Workspace) -> JsonAnswer:
    base_url: str = request.app.state.public_url
    return JsonAnswer({"link": system_of(request).exports.link(workspace_id, export_id, base_url)})


@router.get("/v1/exports/{export_id}/file", summary="The CSV file a download link leads to")
async def export_file(
    request: Request,
    export_id: str,
    workspace: str = "",
    expires: str = "",
    signature: str = "",
) -> StreamingResponse:
    exports = system_of(request).exports
    # The link is the authorisation: checked, and the columns found, before the answer starts,
    # so that a refusal or an unreachable database is a proper error, not a broken file.
    workspace_id, plan = await run_in_threadpool(
        exports.open_link, export_id, workspace, expires, signature
    )
    columns = await run_in_threadpool(exports.columns, workspace_id, plan)
    return _FileResponse(
        exports.file(workspace_id, plan, columns),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="customers-{export_id}.csv"'},
    )


class _FileResponse(StreamingResponse):
    """A file made by a generator, each piece in the thread pool (iterate_in_threadpool), so the
    blocking reads of the database never hold up the event loop; the generator is closed however
    the sending ends, a client that goes away half-way included, so that the file's database
    connection and helper process end with it rather than whenever the garbage is collected."""

    def __init__(self, pieces: Generator[bytes, None, None], **options: Any) -> None:
        super().__init__(pieces, **options)
        self._pieces = pieces

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # No piece is being made now: the thread pool's step was waited for.
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(self._pieces.close)
