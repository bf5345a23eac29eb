"""`POST /api/explain` (docs/api.md §5): what a call would do, without writing anything.

The call is run through the app's own routes of its door (the same handlers, parsers, exception
handlers and raw-path routing a client's call goes through) against a rehearsal of the system
(services/explain.py): every door credential means the workspace of the App API key the explain
call came with, and the writer rolls the call's work back instead of keeping it."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
from starlette.datastructures import State
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import BaseRoute, Match, Route, Router

from roster.api import (
    app_api,
    deletion,
    doors,
    exports,
    outbox,
    people_search,
    schemas,
    segment,
    suppressions,
    track_v1,
    track_v2,
    webhooks,
)
from roster.api.answers import JsonAnswer
from roster.api.auth import app_workspace, system_of
from roster.api.bodies import json_object
from roster.api.paths import RawPathRouting
from roster.domain.errors import InvalidInput
from roster.services.system import System

router = doors.router("roster", tags=["roster"])

# The doors a call can be explained for, by the name the ingestion log gives them, and the
# routers that serve each. `app` is everything the App API key calls about people: the App
# API (§4: merge, unmerge, delete by list, the outbox's sends, exports and the reads) and the
# suppression list (§5).
DOORS: dict[str, tuple[APIRouter, ...]] = {
    "track_v1": (track_v1.router,),
    "track_v2": (track_v2.router,),
    "segment": (segment.router,),
    "webhook": (webhooks.router,),
    "app": (
        app_api.router,
        people_search.router,
        deletion.router,
        outbox.router,
        exports.router,
        suppressions.router,
    ),
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Any credentials do: the rehearsal's workspaces service answers every key with the workspace
# (a webhook call is authenticated by its write key, so it needs no signature).
_AUTHORIZATION = {
    "track_v1": b"Basic " + base64.b64encode(b"explain:explain"),
    "track_v2": b"Basic " + base64.b64encode(b"explain:explain"),
    "segment": b"Bearer explain",
    "webhook": b"Bearer explain",
    "app": b"Bearer explain",
}
_KEYS = {"door", "method", "path", "body", "raw_body", "headers"}
# Room for the largest call of any door (500 KB), even sent as an escaped raw_body.
EXPLAIN_MAX_BYTES = 2_000_000


@dataclass(frozen=True)
class Call:
    """A call as a client would send it."""

    door: str
    method: str
    path: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def read_call(spec: dict[str, Any]) -> Call:
    """The explain request's body: {door, method, path, body?, raw_body?, headers?}."""
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise InvalidInput(f"unknown field '{unknown[0]}'", field=unknown[0])
    door = spec.get("door")
    if not isinstance(door, str) or door not in DOORS:  # an object or array is no key of DOORS
        raise InvalidInput(f"door must be one of {', '.join(DOORS)}", field="door")
    method = spec.get("method")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)}", field="method")
    path = spec.get("path")
    if not isinstance(path, str) or not path.startswith("/") or not path.isascii():
        raise InvalidInput(
            "path must be the call's path as sent, starting with / (percent-encoded)", field="path"
        )
    if "body" in spec and "raw_body" in spec:
        raise InvalidInput("give body or raw_body, not both", field="raw_body")
    raw = spec.get("raw_body")
    if raw is not None and not isinstance(raw, str):
        raise InvalidInput("raw_body must be a string: the body exactly as sent", field="raw_body")
    body = raw.encode() if raw is not None else b""
    if "body" in spec:
        body = orjson.dumps(spec["body"])
    headers = spec.get("headers")
    if headers is None:
        headers = {}
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k.isascii() and v.isascii()
        for k, v in headers.items()
    ):
        raise InvalidInput("headers must be an object of ASCII strings", field="headers")
    kept = tuple(
        (k.lower(), v)
        for k, v in headers.items()
        if k.lower() not in ("authorization", "content-length", "host")
    )
    return Call(door, method.upper(), path, body, kept)


def _routes(app: FastAPI, door: str) -> list[BaseRoute]:
    """The app's own routes of one door, as it serves them."""
    wanted = DOORS[door]
    endpoints = {getattr(route, "endpoint", None) for router in wanted for route in router.routes}
    return [
        route
        for route in app.router.routes
        # FastAPI keeps an included router as one route that holds it, or (older) copies its
        # routes with the same endpoints.
        if getattr(route, "original_router", None) in wanted
        or getattr(route, "endpoint", None) in endpoints
    ]


def door_serving(path: str) -> str | None:
    """The door whose routes serve `path` (as sent, with or without its query), whatever the
    method; None when no door's does."""
    bare = path.split("?", 1)[0]
    for door, routers in DOORS.items():
        for router in routers:
            if any(isinstance(r, Route) and r.path_regex.match(bare) for r in router.routes):
                return door
    return None


def _check_door(app: FastAPI, call: Call, scope: dict[str, Any]) -> None:
    """A path another door serves, or one of roster's own calls that no door has (its
    settings, this very call), is a mistake in the explain request, not a call to explain. A
    path nothing serves is explained: the call would get a 404."""
    door = door_serving(call.path)
    if door == call.door:
        return
    if door is not None:
        raise InvalidInput(f"{call.path} is a call of the {door} door", field="door")
    scope = {**scope, "path": call.path.split("?", 1)[0]}
    if any(route.matches(scope)[0] is not Match.NONE for route in app.router.routes):
        raise InvalidInput(
            f"{call.path} is none of the doors' calls (explain takes {', '.join(DOORS)})",
            field="path",
        )


class _RehearsalApp:
    """What a handler reaches through `request.app`: the rehearsal's state."""

    def __init__(self, app: FastAPI, system: System) -> None:
        self.state = State({"system": system, "public_url": app.state.public_url})


async def explain_call(
    app: FastAPI, system: System, workspace_id: int, call: Call
) -> dict[str, Any]:
    """Run `call` through its door on a rehearsal of `system`; the report of what it did."""
    path, _, query = call.path.partition("?")
    headers = [(b"host", b"roster"), (b"authorization", _AUTHORIZATION[call.door])]
    headers += [(k.encode(), v.encode()) for k, v in call.headers]
    if call.body and not any(k == "content-type" for k, _ in call.headers):
        headers.append((b"content-type", b"application/json"))
    headers.append((b"content-length", str(len(call.body)).encode()))
    rehearsal = system.explain.rehearsal(system, workspace_id)
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": call.method,
        "scheme": "http",
        "path": unquote(path),
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": None,
        "server": ("roster", 80),
        "app": _RehearsalApp(app, rehearsal.system),
    }
    _check_door(app, call, scope)
    handlers = {
        key: handler
        for key, handler in app.exception_handlers.items()
        if key not in (500, Exception)  # an unexpected error stays the app's 500, below
    }
    door = Router(routes=_routes(app, call.door))
    # As FastAPI builds its own stack: its handlers expect the exit stack it opens.
    stack = RawPathRouting(ExceptionMiddleware(AsyncExitStackMiddleware(door), handlers=handlers))
    sent = [False]
    answer: dict[str, Any] = {"status": 500, "body": b""}

    async def receive() -> dict[str, Any]:
        if sent[0]:
            return {"type": "http.disconnect"}
        sent[0] = True
        return {"type": "http.request", "body": call.body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await stack(scope, receive, send)
    try:
        body: Any = orjson.loads(answer["body"]) if answer["body"] else None
    except orjson.JSONDecodeError:
        body = answer["body"].decode(errors="replace")
    return {
        "door": call.door,
        "call": {"method": call.method, "path": call.path},
        **rehearsal.report(answer["status"], body),
    }


SCHEMA = {
    "type": "object",
    "properties": {
        "door": {"enum": list(DOORS)},
        "method": {"type": "string", "description": f"one of {', '.join(METHODS)}"},
        "path": {"type": "string", "pattern": "^/", "description": "as sent, percent-encoded"},
        "body": {"description": "any JSON value, sent as JSON"},
        "raw_body": {"type": "string", "description": "a body sent as it is"},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["door", "method", "path"],
    "additionalProperties": False,
}


@router.post(
    "/api/explain",
    summary="What a call would do, without writing anything",
    openapi_extra=schemas.body(SCHEMA),
)
async def explain(request: Request, workspace_id: int = Depends(app_workspace)) -> JsonAnswer:
    call = read_call(await json_object(request, limit=EXPLAIN_MAX_BYTES))
    return JsonAnswer(await explain_call(request.app, system_of(request), workspace_id, call))
