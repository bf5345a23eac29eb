"""Each protocol's error body, pinned: clients parse these shapes (docs/api.md §1-§5)."""

from __future__ import annotations

import pytest

from roster.api.errors import body_for, door_for
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
    ("path", "door"),
    [
        ("/api/v1/customers/x", "track_v1"),
        ("/auth", "track_v1"),
        ("/api/v2/batch", "track_v2"),
        ("/v1/customers/x/attributes", "app"),
        ("/v1/objects/1/a", "app"),
        ("/v1/batch", "segment"),
        ("/v1/identify", "segment"),
        ("/segment/webhook/abc", "webhook"),
        ("/api/ingestion-log", "roster"),
    ],
)
def test_each_path_answers_errors_in_its_protocols_shape(path, door):
    assert door_for(path) == door


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
