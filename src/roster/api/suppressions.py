"""The suppression list on roster's own API (docs/api.md §5; docs/identity.md I9.2, I9.3):
entries are keyed hashes, never the identifiers themselves."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from roster.api import doors, schemas
from roster.api.answers import JsonAnswer
from roster.api.auth import app_workspace, system_of
from roster.api.bodies import json_object
from roster.api.paths import segment
from roster.domain.errors import InvalidInput
from roster.services.suppressions import KINDS, Entry

router = doors.router("roster", tags=["roster"])
Workspace = Depends(app_workspace)
MAX_LIMIT = 1000
UNKNOWN_DOOR = "unknown"  # suppressed before roster recorded doors


def entry_json(entry: Entry) -> dict[str, Any]:
    return {
        "hash": entry.hash,
        "group": entry.group_hash,
        "suppressed_at": entry.created_at,
        "door": entry.door or UNKNOWN_DOOR,
    }


def _one_identifier(given: dict[str, Any]) -> tuple[str, str]:
    """The one identifier a check or unsuppress names (`id`, `email` or `cio_id`)."""
    unknown = sorted(key for key in given if key not in KINDS)
    if unknown:
        raise InvalidInput(
            f"unknown parameter '{unknown[0]}': name one of id, email, cio_id", field=unknown[0]
        )
    named = [(kind, value) for kind, value in given.items() if value is not None]
    if len(named) != 1:
        raise InvalidInput("name exactly one of id, email, cio_id")
    kind, value = named[0]
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInput(f"{kind} must be a string", field=kind)
    return kind, str(value)


@router.get("/api/suppressions", summary="The suppression list, newest first (hashes only)")
def suppression_list(
    request: Request, limit: int = 100, start: str = "", workspace_id: int = Workspace
) -> JsonAnswer:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    entries, next_cursor = system_of(request).suppressions.page(workspace_id, start, limit)
    return JsonAnswer({"suppressions": [entry_json(e) for e in entries], "next": next_cursor})


@router.get("/api/suppressions/check", summary="Whether an id, email or cio_id is suppressed")
def suppression_check(request: Request, workspace_id: int = Workspace) -> JsonAnswer:
    kind, value = _one_identifier(dict(request.query_params))
    checked = system_of(request).suppressions.check(workspace_id, kind, value)
    answer: dict[str, Any] = {"suppressed": checked.entry is not None, "hash": checked.hash}
    if checked.entry is not None:
        answer["entry"] = entry_json(checked.entry)
    return JsonAnswer(answer)


@router.delete("/api/suppressions/{hash_}", summary="Unsuppress an entry and its whole group")
async def unsuppress_hash(
    request: Request, hash_: str, workspace_id: int = Workspace
) -> JsonAnswer:
    suppressions = system_of(request).suppressions
    value = segment(hash_)
    freed = await run_in_threadpool(lambda: suppressions.unsuppress_hash(workspace_id, value))
    return JsonAnswer({"unsuppressed": freed})


@router.post(
    "/api/suppressions/unsuppress",
    summary="Unsuppress an identifier and everything suppressed with it",
    openapi_extra=schemas.body(schemas.UNSUPPRESS),
)
async def unsuppress(request: Request, workspace_id: int = Workspace) -> JsonAnswer:
    kind, value = _one_identifier(await json_object(request))
    suppressions = system_of(request).suppressions
    freed = await run_in_threadpool(lambda: suppressions.unsuppress(workspace_id, kind, value))
    return JsonAnswer({"unsuppressed": freed})
