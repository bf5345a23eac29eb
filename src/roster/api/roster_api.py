"""roster's own API (WIRE.md §5), reached with the workspace's App API key as Bearer."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from roster.api.answers import JsonAnswer
from roster.api.auth import app_workspace, system_of
from roster.domain.errors import InvalidInput

router = APIRouter(tags=["roster"])
MAX_LIMIT = 1000


@router.get("/api/ingestion-log", summary="Calls accepted but not used, and why (newest first)")
def ingestion_log(
    request: Request, limit: int = 100, start: str = "", workspace_id: int = Depends(app_workspace)
) -> JsonAnswer:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    if start and not start.isdigit():
        raise InvalidInput("start must be a cursor returned as next", field="start")
    rows = system_of(request).lookups.ingestion_log(
        workspace_id, int(start) if start else None, limit
    )
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
    next_cursor = str(rows[-1]["pk"]) if len(rows) == limit else ""
    return JsonAnswer({"entries": entries, "next": next_cursor})
