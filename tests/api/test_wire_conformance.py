"""What the wire says, checked through the in-process client on SQLite and PostgreSQL: Segment's
`traits.objectId` (docs/api.md §3) and the fields a delivery metric needs (docs/api.md §1, §2)."""

from __future__ import annotations

import pytest

from tests.api.conftest import basic
from tests.api.stored import footprint


def attributes(client, app_key, ref):
    answer = client.get(f"/v1/customers/{ref}/attributes", headers=app_key)
    assert answer.status_code == 200, answer.text
    return answer.json()["customer"]


def test_segment_identify_keeps_traits_object_id_as_an_attribute_and_relates_the_object(
    client, workspace, app_key
):
    traits = {"plan": "pro", "objectId": "acme", "object_type_id": "3"}
    answer = client.post(
        "/v1/identify",
        json={"userId": "member", "traits": traits},
        headers=basic(workspace["write_key"], ""),
    )
    assert answer.status_code == 200

    found = attributes(client, app_key, "member")
    assert found["attributes"]["objectId"] == "acme"
    assert "object_type_id" not in found["attributes"]
    assert found["relationships"] == [
        {"object_type_id": "3", "object_id": "acme", "attributes": {}}
    ]


def test_segment_identify_and_the_destinations_v2_request_store_object_id_alike(
    client, workspace, track, app_key
):
    """The Actions destination sends the traits as attributes, objectId included, plus the
    relationship: the Segment message must come to the same person."""
    client.post(
        "/v1/identify",
        json={"userId": "via-segment", "traits": {"objectId": "club", "n": 1}},
        headers=basic(workspace["write_key"], ""),
    )
    client.post(
        "/api/v2/entity",
        json={
            "type": "person",
            "action": "identify",
            "identifiers": {"id": "via-v2"},
            "attributes": {"objectId": "club", "n": 1},
            "cio_relationships": [{"identifiers": {"object_type_id": "1", "object_id": "club"}}],
        },
        headers=track,
    )

    segment, v2 = attributes(client, app_key, "via-segment"), attributes(client, app_key, "via-v2")
    assert segment["relationships"] == v2["relationships"] != []
    for name in ("objectId", "n"):
        assert segment["attributes"][name] == v2["attributes"][name]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"event": "opened"}, "delivery_id"),
        ({"delivery_id": "d-1"}, "event"),
        ({"delivery_id": "d-1", "event": ""}, "event"),
        ({"delivery_id": 7, "event": "opened"}, "delivery_id"),
        ({"delivery_id": "d-1", "event": ["opened"]}, "event"),
    ],
)
def test_a_push_metric_needs_delivery_id_and_event_as_strings_else_400_naming_it(
    client, system, workspace, track, body, field
):
    before = footprint(system, workspace["workspace_id"])

    answer = client.post("/api/v1/push/events", json=body, headers=track)

    assert answer.status_code == 400
    assert answer.json()["meta"]["errors"][0].startswith(field)
    assert footprint(system, workspace["workspace_id"]) == before


def test_a_complete_push_metric_is_recorded_as_workspace_activity(client, system, workspace, track):
    before = footprint(system, workspace["workspace_id"])["activities"]

    answer = client.post(
        "/api/v1/push/events",
        json={"delivery_id": "d-1", "event": "opened", "device_id": "tok"},
        headers=track,
    )

    assert answer.status_code == 200
    assert footprint(system, workspace["workspace_id"])["activities"] == before + 1


def delivery(**changes):
    op = {"type": "delivery", "action": "event", "identifiers": {"id": "d-1"}, "name": "opened"}
    op.update(changes)
    return {key: value for key, value in op.items() if value is not None}


BAD_DELIVERIES = [
    (delivery(name=None), "name"),
    (delivery(name=""), "name"),
    (delivery(name=5), "name"),
    (delivery(action="identify"), "action"),
    (delivery(action="delete"), "action"),
    (delivery(identifiers={"email": "x@example.com"}), "identifiers.id"),
    (delivery(identifiers=None), "identifiers.id"),
]


@pytest.mark.parametrize("op, field", BAD_DELIVERIES)
def test_a_v2_delivery_without_its_metric_or_with_another_action_is_a_400_naming_the_field(
    client, system, workspace, track, op, field
):
    before = footprint(system, workspace["workspace_id"])

    answer = client.post("/api/v2/entity", json=op, headers=track)

    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"][0]["field"] == field
    assert footprint(system, workspace["workspace_id"]) == before


def test_bad_v2_deliveries_in_a_batch_are_207_naming_each_field_and_the_good_one_is_applied(
    client, system, workspace, track
):
    before = footprint(system, workspace["workspace_id"])["activities"]
    ops = [op for op, _ in BAD_DELIVERIES] + [delivery()]

    answer = client.post("/api/v2/batch", json={"batch": ops}, headers=track)

    assert answer.status_code == 207
    errors = answer.json()["errors"]
    assert [(e["batch_index"], e["field"]) for e in errors] == [
        (index, field) for index, (_, field) in enumerate(BAD_DELIVERIES)
    ]
    assert footprint(system, workspace["workspace_id"])["activities"] == before + 1
