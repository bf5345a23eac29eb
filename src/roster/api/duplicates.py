"""The duplicate finder on roster's own API (docs/api.md §5): groups of people who are probably
one human, each with the person a merge should keep."""

from __future__ import annotations

from fastapi import Depends, Request

from roster.api import doors
from roster.api.answers import JsonAnswer
from roster.api.auth import app_workspace, system_of
from roster.domain.errors import InvalidInput

router = doors.router("roster", tags=["roster"])
Workspace = Depends(app_workspace)
MAX_LIMIT = 1000


@router.get(
    "/api/duplicates",
    summary="Groups of people who are probably one human, with the person to keep",
)
def duplicates(
    request: Request, limit: int = 100, start: str = "", workspace_id: int = Workspace
) -> JsonAnswer:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    groups, next_cursor = system_of(request).duplicates.page(workspace_id, start, limit)
    return JsonAnswer({"duplicates": [g.as_json() for g in groups], "next": next_cursor})
