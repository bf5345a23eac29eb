"""Delete by list on the App API (docs/api.md §4; docs/identity.md I9.1)."""

from __future__ import annotations

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from roster.api import doors, schemas
from roster.api.answers import JsonAnswer
from roster.api.auth import app_workspace, system_of
from roster.api.bodies import json_object
from roster.domain.errors import InvalidInput
from roster.services.deletion import Summary, check_id_type

router = doors.router("app", tags=["App API"])
MAX_IDS = 10_000
# 10,000 references of up to 150 bytes each, with room for JSON's quoting and escapes.
MAX_BODY_BYTES = 4_000_000


@router.post(
    "/v1/customers/delete",
    summary=f"Delete up to {MAX_IDS:,} people by reference",
    openapi_extra=schemas.body(schemas.DELETE_BY_LIST),
)
async def delete_by_list(
    request: Request, workspace_id: int = Depends(app_workspace)
) -> JsonAnswer:
    body = await json_object(request, limit=MAX_BODY_BYTES)
    id_type = check_id_type(body.get("id_type", "id"))
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or len(ids) > MAX_IDS:
        raise InvalidInput(f"ids must be an array of 1 to {MAX_IDS:,} references", field="ids")
    raws: list[str] = []
    for raw in ids:
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise InvalidInput("every entry of ids must be a string", field="ids")
        raws.append(str(raw))
    system = system_of(request)
    mode = system.workspaces.mode(workspace_id)
    verdicts = await run_in_threadpool(
        lambda: system.deletion.delete(workspace_id, raws, id_type, mode, "app")
    )
    summary = Summary()
    for raw, verdict in zip(raws, verdicts, strict=True):
        summary.count(raw, verdict)
    return JsonAnswer(summary.as_json())
