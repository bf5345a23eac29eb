"""Identifier conflicts and refused identifier changes on roster's own API (docs/api.md §5):
listed with their counts and the door that causes them, and resolved one at a time."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from roster.api import doors, schemas
from roster.api.answers import JsonAnswer
from roster.api.auth import app_workspace, system_of
from roster.api.bodies import json_object
from roster.domain.errors import InvalidInput
from roster.domain.people import Person
from roster.services.conflicts import Plan, Row, Side, conflict_id

router = doors.router("roster", tags=["roster"])
Workspace = Depends(app_workspace)
MAX_LIMIT = 1000
DOOR = "roster"  # what the ingestion log and the conflicts table say a resolve came through
_RESOLVE_KEYS = ("conflict", "preview", "force")


def side_json(side: Side | Person | None) -> dict[str, Any] | None:
    if side is None:
        return None
    return {"cio_id": side.cio_id, "id": side.id, "email": side.email}


def conflict_json(row: Row) -> dict[str, Any]:
    return {
        "id": str(row.pk),
        "identifier": row.kind,
        "value": row.value,
        "door": row.door,
        "reason": row.reason,
        "count": row.count,
        "first_seen": row.first_seen,
        "last_seen": row.last_seen,
        "resolved_at": row.resolved_at,
        "person": side_json(row.person),
        "holder": side_json(row.holder),
    }


def plan_json(plan: Plan) -> dict[str, Any]:
    merge = None
    if plan.holder is not None:
        merge = {"primary": side_json(plan.person), "secondary": side_json(plan.holder)}
    return {
        "conflict": conflict_json(plan.conflict),
        "merge": merge,
        "changes": [{"identifier": k, "from": old, "to": new} for k, old, new in plan.changes],
        "attributes": plan.attributes,
        "refused": plan.refused,
    }


def _flag(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false", field=name)
    return value


@router.get("/api/conflicts", summary="Identifier conflicts and refused changes, latest first")
def conflict_list(
    request: Request,
    limit: int = 100,
    start: str = "",
    status: str = "unresolved",
    workspace_id: int = Workspace,
) -> JsonAnswer:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    rows, next_cursor = system_of(request).conflicts.page(workspace_id, start, limit, status)
    return JsonAnswer({"conflicts": [conflict_json(row) for row in rows], "next": next_cursor})


@router.post(
    "/api/conflicts/resolve",
    summary="Merge a conflict's holder in and apply the change",
    openapi_extra=schemas.body(schemas.RESOLVE),
)
async def resolve(request: Request, workspace_id: int = Workspace) -> JsonAnswer:
    body = await json_object(request)
    unknown = sorted(key for key in body if key not in _RESOLVE_KEYS)
    if unknown:
        raise InvalidInput(
            f"unknown key '{unknown[0]}': give conflict, preview, force", field=unknown[0]
        )
    if "conflict" not in body:
        raise InvalidInput("conflict is required: the id of a conflict, as listed", "conflict")
    pk = conflict_id(body["conflict"])
    preview, force = _flag(body, "preview", True), _flag(body, "force", False)
    conflicts = system_of(request).conflicts
    if preview:
        plan = await run_in_threadpool(lambda: conflicts.plan(workspace_id, pk))
        return JsonAnswer({"preview": True, **plan_json(plan)})
    plan = await conflicts.resolve(workspace_id, pk, force, DOOR)
    after = await run_in_threadpool(lambda: conflicts.get(workspace_id, pk))
    person = await run_in_threadpool(lambda: conflicts.person_now(workspace_id, plan.person))
    answer = {"preview": False, **plan_json(plan), "conflict": conflict_json(after)}
    answer["person"] = side_json(person)
    if plan.holder is not None:
        answer["undo"] = f"POST /v1/customers/cio_{person.cio_id}/unmerge"
    return JsonAnswer(answer)
