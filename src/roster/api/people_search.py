"""People search on the App API (docs/api.md §4): `POST /v1/customers` with a filter, answered
in Customer.io's shape by keyset pages."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from roster.api import doors, schemas
from roster.api.answers import JsonAnswer
from roster.api.app_api import identifiers_of
from roster.api.auth import app_workspace, system_of
from roster.api.bodies import json_object
from roster.domain.errors import InvalidInput
from roster.domain.filters import parse

router = doors.router("app", tags=["App API"])
Workspace = Depends(app_workspace)
MAX_LIMIT = 1000
DEFAULT_LIMIT = 50


@router.post(
    "/v1/customers",
    summary="People matching a filter",
    openapi_extra=schemas.body(schemas.PEOPLE_SEARCH),
)
async def search(
    request: Request, start: str = "", limit: int = DEFAULT_LIMIT, workspace_id: int = Workspace
) -> JsonAnswer:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    body = await json_object(request)
    unknown = sorted(key for key in body if key != "filter")
    if unknown:
        raise InvalidInput(
            f"unknown key '{unknown[0][:40]}': the body is {{\"filter\": …}}", field=unknown[0]
        )
    if "filter" not in body:
        raise InvalidInput('the body must hold a "filter"', field="filter")
    f = parse(body["filter"])
    lookups = system_of(request).lookups
    found, next_cursor = await run_in_threadpool(lookups.search, workspace_id, f, start, limit)
    answer: dict[str, Any] = {
        "identifiers": [identifiers_of(person) for person in found],
        # Customer.io's older list of ids, one per entry of `identifiers`: "" for a person
        # without an id keeps the two lists aligned and the entries strings.
        "ids": [person.id or "" for person in found],
        "next": next_cursor,
    }
    return JsonAnswer(answer)
