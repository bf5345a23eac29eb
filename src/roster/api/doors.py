"""Which protocol ("door") a call came through, declared by the router that serves it.

Every router is made with `router(door)`: its routes carry their door, so the error shape, the
rate limit's bucket and the metrics' label come from the route that matched, not from the look
of the path. Only a path no route serves (a 404) is placed by its prefix (`unrouted_door`),
so that a client gets its own protocol's error shape even for a mistyped path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

Door = Literal[
    "track_v1", "track_v2", "segment", "app", "webhook", "roster", "operations", "web", "other"
]
DOORS: tuple[Door, ...] = get_args(Door)
# The Segment calls' first path segment under /v1/ (the rest of /v1/ is the App API).
SEGMENT_TYPES = frozenset(
    {"identify", "track", "page", "screen", "group", "alias", "batch", "import"}
)


class DoorRoute(APIRoute):
    """A route that knows its door; subclasses made by `route_class` set it."""

    door: Door = "other"


_CLASSES: dict[Door, type[DoorRoute]] = {}


def route_class(door: Door) -> type[DoorRoute]:
    if door not in _CLASSES:
        _CLASSES[door] = type(f"{door.title().replace('_', '')}Route", (DoorRoute,), {"door": door})
    return _CLASSES[door]


def router(door: Door, **options: Any) -> APIRouter:
    """An APIRouter whose every route declares `door` (FastAPI keeps a route's class when the
    router is included in the app)."""
    return APIRouter(route_class=route_class(door), **options)


def include(app: FastAPI, router: APIRouter) -> None:
    """Adds `router`'s routes to the app's own list, in order: the same routes, OpenAPI
    document and matching order as `app.include_router(router)` for routers made here (no
    prefix, no router-level dependencies; a route is built whole when it is declared).

    FastAPI (0.16x) keeps an included router as a nested router that is matched again on every
    request, twice, for each router before the one that serves it: with some twenty routers
    that took about a third of the server's time for a single Track API call
    (docs/benchmarks.md, "Where the time goes"). A flat list is Starlette's plain loop."""
    app.router.routes.extend(router.routes)


def door_of(scope: Mapping[str, Any]) -> Door:
    """The door of a request: its matched route's, else its path's (`unrouted_door`)."""
    door = getattr(scope.get("route"), "door", None)
    if door is not None:
        found: Door = door
        return found
    return unrouted_door(str(scope.get("path", "")))


def unrouted_door(path: str) -> Door:
    """The door a path would belong to, for a path no route serves: a label of few values,
    whatever the path holds."""
    if path.startswith("/api/v2/"):
        return "track_v2"
    if path.startswith(("/api/v1/", "/auth")):
        return "track_v1"
    if path.startswith("/api/"):
        return "roster"
    if path.startswith("/v1/"):
        first = path[4:].split("/", 1)[0]
        return "segment" if first in SEGMENT_TYPES else "app"
    if path.startswith("/segment/webhook"):
        return "webhook"
    return "other"
