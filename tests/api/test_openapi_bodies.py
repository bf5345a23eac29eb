"""The OpenAPI document (`/openapi.json`, shown at `/docs`) describes every request body
(docs/api.md §5), and what it describes is what the doors accept: a call each door takes passes
its schema, and the schema is what tests/api/test_schemathesis.py generates calls from."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from roster.app import create_app
from roster.settings import Settings

WRITES = ("post", "put", "patch")

# Writes that read nothing from their body: the path names everything they need.
NO_BODY = {
    ("post", "/api/v1/customers/{ref}/suppress"),  # Track v1: suppress the person in the path
    ("post", "/api/v1/customers/{ref}/unsuppress"),  # Track v1: lift it
    ("post", "/v1/customers/{ref}/unmerge"),  # App API: undo the latest merge into that person
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    app = create_app(Settings(public_url="http://roster.test"))
    answer = TestClient(app).get("/openapi.json")  # no lifespan: the document needs no database
    assert answer.status_code == 200
    found: dict[str, Any] = answer.json()
    return found


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if method in WRITES
    }


def schema_of(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    content = operations(document)[(method, path)]["requestBody"]["content"]
    found: dict[str, Any] = content["application/json"]["schema"]
    return found


def test_every_write_describes_its_request_body(document):
    missing = [
        f"{method.upper()} {path}"
        for (method, path), operation in operations(document).items()
        if (method, path) not in NO_BODY
        and not any(
            media.get("schema")
            for media in operation.get("requestBody", {}).get("content", {}).values()
        )
    ]

    assert missing == []


def test_the_writes_without_a_body_still_exist(document):
    # An entry left in NO_BODY after its endpoint is gone would let a new one slip through.
    assert set(operations(document)) >= NO_BODY


def test_a_body_a_door_may_do_without_is_not_marked_required(document):
    identify = operations(document)[("put", "/api/v1/customers/{ref}")]["requestBody"]
    event = operations(document)[("post", "/api/v1/customers/{ref}/events")]["requestBody"]

    assert identify["required"] is False
    assert event["required"] is True


ACCEPTED = [
    ("put", "/api/v1/customers/{ref}", {"email": "a@example.com", "plan": "pro", "_update": True}),
    ("put", "/api/v1/customers/{ref}", {"id": None, "cio_relationships": []}),
    ("post", "/api/v1/customers/{ref}/events", {"name": "bought", "data": {"price": 5}}),
    ("post", "/api/v1/events", {"name": "viewed", "anonymous_id": "anon-1", "timestamp": 5}),
    ("put", "/api/v1/customers/{ref}/devices", {"device": {"id": "tok", "platform": "ios"}}),
    ("post", "/api/v1/merge_customers", {"primary": {"id": "a"}, "secondary": {"email": "b@x"}}),
    ("post", "/api/v1/metrics", {"delivery_id": "d1", "metric": "clicked", "href": "h"}),
    ("post", "/api/v1/push/events", {"delivery_id": "d1", "event": "opened"}),
    (
        "post",
        "/api/v2/entity",
        {"type": "person", "action": "identify", "identifiers": {"id": "a"}, "attributes": {}},
    ),
    (
        "post",
        "/api/v2/batch",
        {"batch": [{"type": "object", "action": "delete", "identifiers": {"object_id": "1"}}]},
    ),
    ("post", "/v1/identify", {"userId": "a", "traits": {"plan": "pro"}, "anything": 1}),
    ("post", "/v1/track", {"anonymousId": "x", "event": "Signed Up", "properties": {}}),
    ("post", "/v1/group", {"userId": "a", "groupId": 7, "traits": {}}),
    ("post", "/v1/alias", {"userId": "a", "previousId": "anon"}),
    ("post", "/v1/batch", {"batch": [{"type": "page", "userId": "a"}], "context": {}}),
    ("post", "/segment/webhook/{webhook_id}", [{"type": "identify", "userId": "a"}]),
    ("post", "/segment/webhook/{webhook_id}", {"batch": [{"type": "track", "event": "e"}]}),
    ("post", "/v1/customers/attributes", {"ids": ["a", 2]}),
    ("post", "/v1/customers/delete", {"ids": ["a"], "id_type": "email"}),
    ("post", "/v1/send/email", {"identifiers": {"id": "a"}, "transactional_message_id": 3}),
    ("post", "/v1/send/push", {"identifiers": {"email": "a@x"}, "transactional_message_id": "t"}),
    ("post", "/api/suppressions/unsuppress", {"email": "a@example.com"}),
    ("patch", "/api/workspace/settings", {"auto_merge": False, "identifier_mode": "id_only"}),
    (
        "post",
        "/v1/customers",
        {"filter": {"and": [{"attribute": {"field": "plan", "operator": "eq", "value": "pro"}}]}},
    ),
    ("post", "/v1/exports/customers", {"attributes": ["plan"]}),
    ("post", "/api/conflicts/resolve", {"conflict": "12", "preview": False}),
]


@pytest.mark.parametrize(("method", "path", "accepted"), ACCEPTED)
def test_a_call_the_door_accepts_fits_its_schema(document, method, path, accepted):
    assert jsonschema_rs.validator_for(schema_of(document, method, path)).is_valid(accepted)


REFUSED = [
    ("post", "/api/v1/customers/{ref}/events", {"data": {}}),  # no name
    ("post", "/api/v1/merge_customers", {"primary": {"id": "a", "email": "b"}, "secondary": {}}),
    ("post", "/api/v2/entity", {"type": "person"}),  # no action
    ("post", "/v1/track", {"userId": "a"}),  # no event
    ("post", "/v1/batch", {"context": {}}),  # no batch
    ("post", "/v1/customers/attributes", {"ids": []}),
    ("patch", "/api/workspace/settings", {"colour": "red"}),
    ("post", "/v1/customers", {"filter": {"attribute": {"field": "a", "operator": "gt"}}}),
]


@pytest.mark.parametrize(("method", "path", "refused"), REFUSED)
def test_a_call_the_door_refuses_for_its_shape_does_not_fit_its_schema(
    document, method, path, refused
):
    assert not jsonschema_rs.validator_for(schema_of(document, method, path)).is_valid(refused)
