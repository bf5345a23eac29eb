"""The app's routes are one flat list (roster.api.doors.include): the same routes, OpenAPI
document and matching order as FastAPI's include_router, without its nested routers, which were
matched again on every request (docs/benchmarks.md, "Where the time goes")."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from roster.api import doors
from roster.app import create_app
from roster.settings import Settings

SETTINGS = Settings(public_url="http://roster.test", noop_endpoint=True)


def nested(app: FastAPI, router: APIRouter) -> None:
    app.include_router(router)


def signature(app: FastAPI) -> list[tuple[str, Any, Any]]:
    """Every route the app would match a request against, in order."""
    found = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            if hasattr(route, "original_router"):  # FastAPI's nested router
                walk(route.original_router.routes)
            else:
                methods = sorted(getattr(route, "methods", None) or [])
                found.append((type(route).__name__, getattr(route, "path", None), methods))

    walk(list(app.router.routes))
    return found


def test_the_flat_routes_are_those_include_router_gives_in_the_same_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flat = create_app(SETTINGS)
    monkeypatch.setattr(doors, "include", nested)
    included = create_app(SETTINGS)

    assert signature(flat) == signature(included)
    assert flat.openapi() == included.openapi()
    assert not any(hasattr(route, "original_router") for route in flat.router.routes)


def test_every_route_keeps_its_door() -> None:
    app = create_app(SETTINGS)
    routes = [route for route in app.router.routes if isinstance(route, APIRoute)]

    doors_by_path = {
        (route.path, frozenset(route.methods)): getattr(route, "door", None) for route in routes
    }
    assert doors_by_path[("/api/v1/customers/{ref}", frozenset({"PUT"}))] == "track_v1"
    assert doors_by_path[("/v1/batch", frozenset({"POST"}))] == "segment"
    assert doors_by_path[("/api/v2/batch", frozenset({"POST"}))] == "track_v2"
