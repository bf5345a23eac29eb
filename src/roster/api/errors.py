"""The one place where errors become status codes and bodies, in each protocol's own shape.

Customer.io's Track API v1:  {"meta": {"errors": [msg]}} (merge: {"meta": {"error": msg}})
Customer.io's Track API v2:  {"errors": [{"reason", "field", "message"}]}
Customer.io's App API:       {"meta": {"error": msg}}
Segment-spec API, webhooks:  {"code", "message"}
roster's own /api:           {"code", "message"}
Every body also carries "code" and "message": customerio-cdp-analytics and
segment-analytics-python read them, and without them retry a 4xx ten times.
Unavailable (the database is away) answers 503 with Retry-After in every door: Customer.io's and
Segment's clients retry a 5xx, and nothing of the call was stored, so the retry is safe.
RateLimited (ROSTER_RATE_LIMIT) answers 429 with Retry-After in every door, before anything of
the call was stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from roster.api.answers import JsonAnswer
from roster.api.doors import door_of
from roster.domain.errors import (
    ConflictError,
    InvalidInput,
    LinkRefused,
    MergeRefused,
    NotFound,
    RateLimited,
    ResolveRefused,
    RosterError,
    SettingRefused,
    TooManyLogins,
    Unauthorized,
    Unavailable,
    UnmergeRefused,
)

log = logging.getLogger("roster.api")


def _status(error: RosterError, door: str) -> int:
    match error:
        case Unauthorized():
            return 401
        case LinkRefused():
            return 403
        case Unavailable():
            return 503
        case RateLimited() | TooManyLogins():
            return 429
        case ConflictError() | SettingRefused() | UnmergeRefused() | ResolveRefused():
            return 409
        case NotFound():
            return 404
        case MergeRefused():
            return 404 if door == "app" and error.missing else 400
        case _:
            return 400


def _code(error: RosterError) -> str:
    match error:
        case Unauthorized():
            return "unauthorized"
        case LinkRefused():
            return "forbidden"
        case ConflictError():
            return "conflict"
        case NotFound():
            return "not_found"
        case MergeRefused():
            return "merge_refused"
        case UnmergeRefused():
            return "unmerge_refused"
        case ResolveRefused():
            return "resolve_refused"
        case SettingRefused():
            return "setting_refused"
        case InvalidInput():
            return "invalid_request"
        case Unavailable():
            return "unavailable"
        case RateLimited() | TooManyLogins():
            return "rate_limited"
    return "error"


def body_for(error: RosterError, door: str) -> dict[str, Any]:
    message = error.message
    body: dict[str, Any] = {"code": _code(error), "message": message}
    if door == "track_v1":
        if isinstance(error, InvalidInput):
            body["meta"] = {"errors": [message]}
        else:
            body["meta"] = {"error": message}
    elif door == "track_v2":
        field = error.field if isinstance(error, InvalidInput) else None
        body["errors"] = [{"reason": _code(error), "field": field, "message": message}]
    elif door == "app":
        body["meta"] = {"error": message}
    if isinstance(error, ConflictError):
        body["conflicts"] = [
            {
                "identifier": c.kind,
                "value": c.value,
                "held_by": f"cio_{c.held_by}",
                "wanted_by": f"cio_{c.wanted_by}",
            }
            for c in error.conflicts
        ]
    if isinstance(error, SettingRefused):
        body["holders"] = error.holders
    return body


def render(error: RosterError, door: str) -> JsonAnswer:
    headers: dict[str, str] | None = None
    if isinstance(error, Unauthorized):
        headers = {"WWW-Authenticate": "Basic"}
    elif isinstance(error, Unavailable | RateLimited | TooManyLogins):
        headers = {"Retry-After": str(error.retry_after)}
    return JsonAnswer(body_for(error, door), status_code=_status(error, door), headers=headers)


# The UI's error pages (web/errors.py), handed in by app.py: api and web do not import each other.
PageRenderer = Callable[[Request, RosterError | None, int], Response]


def _wants_page(request: Request) -> bool:
    """An error of a UI route, or of a path no route serves asked for by a browser."""
    door = door_of(request.scope)
    if door == "web":
        return True
    return door == "other" and "text/html" in request.headers.get("accept", "")


def install(app: FastAPI, pages: PageRenderer | None = None) -> None:
    def answer(request: Request, error: RosterError, status: int | None = None) -> Response:
        door = door_of(request.scope)
        if pages is not None and _wants_page(request):
            return pages(request, error, status or _status(error, door))
        response = render(error, door)
        if status is not None:
            response.status_code = status
        return response

    @app.exception_handler(RosterError)
    async def _roster(request: Request, error: RosterError) -> Response:
        return answer(request, error)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else "invalid request"
        return answer(request, InvalidInput(message, field=where or None))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> Response:
        message = str(error.detail)
        if error.status_code == 404:
            wrapped: RosterError = NotFound(
                f"no such endpoint: {request.method} {request.url.path}"
            )
        elif error.status_code == 401:
            wrapped = Unauthorized()
        else:
            wrapped = InvalidInput(message)
        return answer(request, wrapped, error.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        if pages is not None and _wants_page(request):
            return pages(request, None, 500)
        return JsonAnswer(
            {
                "code": "internal",
                "message": "roster failed to handle this call; see its log",
                "meta": {"error": "internal error"},
            },
            status_code=500,
        )
