"""Each protocol's error body, pinned: clients parse these shapes (docs/api.md §1-§5)."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Match

from roster.api.doors import DOORS, door_of, unrouted_door
from roster.api.errors import body_for
from roster.app import create_app
from roster.domain.errors import (
    Conflict,
    ConflictError,
    InvalidInput,
    LimitExceeded,
    MergeRefused,
    NotFound,
    Unauthorized,
)

LIMIT = LimitExceeded(
    "value for attribute 'plan' cannot be longer than 1000 bytes", attribute="plan", limit=1000
)
MESSAGE = LIMIT.message


@pytest.mark.parametrize(
    ("method", "path", "door"),
    [
        ("PUT", "/api/v1/customers/x", "track_v1"),
        ("GET", "/auth", "track_v1"),
        ("POST", "/api/v2/batch", "track_v2"),
        ("GET", "/v1/customers/x/attributes", "app"),
        ("GET", "/v1/objects/1/a", "app"),
        ("POST", "/v1/send/email", "app"),
        ("POST", "/v1/batch", "segment"),
        ("POST", "/v1/identify", "segment"),
        ("POST", "/segment/webhook/abc", "webhook"),
        ("GET", "/api/ingestion-log", "roster"),
        ("GET", "/api/outbox", "roster"),
        ("GET", "/healthz", "operations"),
    ],
)
def test_each_route_declares_the_protocol_its_errors_answer_in(method, path, door):
    """api/doors.py: the door comes from the route that serves the call."""
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    matched = [r for r in _routes() if r.matches(scope)[0] is Match.FULL]
    assert matched, path
    assert door_of({**scope, "route": matched[0]}) == door


def _routes() -> list[APIRoute]:
    """The app's API routes, through FastAPI's included routers, whichever way it keeps them."""
    found: list[APIRoute] = []
    pending = list(create_app().routes)
    while pending:
        route = pending.pop(0)
        inner = getattr(route, "original_router", None)
        if inner is not None:
            pending.extend(inner.routes)
        elif isinstance(route, APIRoute):
            found.append(route)
    return found


def test_every_route_declares_a_door_and_an_unknown_path_answers_as_its_neighbours():
    """A path no route serves is placed by its prefix; that guess agrees with what the routes
    under the same prefix declare, so a mistyped path gets its protocol's error shape."""
    routes = _routes()
    assert len(routes) > 40
    for route in routes:
        # api routes are DoorRoutes; the UI's are web/frame.py's WebRoute (web and api are apart)
        assert getattr(route, "door", None) in DOORS, route.path
        if route.door not in ("operations", "web"):
            assert unrouted_door(route.path) == route.door, route.path
    assert unrouted_door("/api/v1/nothing-here") == "track_v1"
    assert unrouted_door("/v1/nothing-here") == "app"
    assert unrouted_door("/nothing-here") == "other"


def test_track_v1_invalid_input_lists_errors_under_meta():
    assert body_for(LIMIT, "track_v1") == {
        "code": "invalid_request",
        "message": MESSAGE,
        "meta": {"errors": [MESSAGE]},
    }


def test_track_v1_other_errors_carry_one_meta_error():
    assert body_for(MergeRefused("no primary person"), "track_v1") == {
        "code": "merge_refused",
        "message": "no primary person",
        "meta": {"error": "no primary person"},
    }
    assert body_for(Unauthorized(), "track_v1")["meta"] == {"error": "Unauthorized request"}


def test_track_v2_errors_name_reason_field_and_message():
    assert body_for(LIMIT, "track_v2") == {
        "code": "invalid_request",
        "message": MESSAGE,
        "errors": [{"reason": "invalid_request", "field": "plan", "message": MESSAGE}],
    }


def test_app_api_errors_carry_meta_error():
    assert body_for(NotFound("no person with id 'x'"), "app") == {
        "code": "not_found",
        "message": "no person with id 'x'",
        "meta": {"error": "no person with id 'x'"},
    }


@pytest.mark.parametrize("door", ["segment", "webhook", "roster"])
def test_segment_and_roster_errors_are_code_and_message(door):
    assert body_for(InvalidInput("bad"), door) == {"code": "invalid_request", "message": "bad"}


def test_a_conflict_names_the_identifier_and_both_people():
    error = ConflictError([Conflict("email", "b@example.com", wanted_by="aaa", held_by="bbb")])
    body = body_for(error, "track_v1")
    assert body["code"] == "conflict"
    assert body["conflicts"] == [
        {
            "identifier": "email",
            "value": "b@example.com",
            "held_by": "cio_bbb",
            "wanted_by": "cio_aaa",
        }
    ]
    assert "cio_bbb" in body["meta"]["error"]
