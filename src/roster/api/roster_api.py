"""roster's own API (docs/api.md §5), reached with the workspace's App API key as Bearer."""

from __future__ import annotations

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from roster.api import doors, schemas
from roster.api.answers import JsonAnswer
from roster.api.auth import app_workspace, system_of
from roster.api.bodies import json_object
from roster.domain.errors import InvalidInput
from roster.services.workspaces import SETTINGS

router = doors.router("roster", tags=["roster"])
MAX_LIMIT = 1000


@router.get("/api/ingestion-log", summary="Calls accepted but not used, and why (newest first)")
def ingestion_log(
    request: Request, limit: int = 100, start: str = "", workspace_id: int = Depends(app_workspace)
) -> JsonAnswer:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    rows, next_cursor = system_of(request).lookups.ingestion_log(workspace_id, start, limit)
    entries = []
    for row in rows:
        entry = {
            "id": str(row["pk"]),
            "received_at": row["received_at"],
            "door": row["door"],
            "reason": row["reason"],
        }
        for key in ("type", "message_id", "identifier_hash"):
            if row[key] is not None:
                entry[key] = row[key]
        entries.append(entry)
    return JsonAnswer({"entries": entries, "next": next_cursor})


@router.get("/api/workspace/settings", summary="The workspace's identity settings")
def workspace_settings(request: Request, workspace_id: int = Depends(app_workspace)) -> JsonAnswer:
    return JsonAnswer(system_of(request).workspaces.settings(workspace_id))


@router.patch(
    "/api/workspace/settings",
    summary="Change identity settings: any of the keys GET answers; the answer is the new object",
    openapi_extra=schemas.body(schemas.WORKSPACE_SETTINGS),
)
async def change_workspace_settings(
    request: Request, workspace_id: int = Depends(app_workspace)
) -> JsonAnswer:
    body = await json_object(request)
    workspaces = system_of(request).workspaces
    # change_settings waits for the writer thread: a thread of its own keeps the event loop free.
    changed = await run_in_threadpool(lambda: workspaces.change_settings(workspace_id, **body))
    return JsonAnswer({name: changed[name] for name in SETTINGS})
