"""Track API v2 in process, on SQLite and PostgreSQL: /entity, /batch, 207s and 400s."""

from __future__ import annotations

from tests.api.calls import customer, entity, v2_person


def test_identify_with_anonymous_id_attribute_links_and_stitches(client, track, app_key):
    entity(
        client,
        track,
        {
            "type": "person",
            "action": "event",
            "name": "visit",
            "identifiers": {"anonymous_id": "anon-1"},
        },
    )
    answer = entity(
        client,
        track,
        v2_person(
            "identify",
            "u1",
            attributes={"email": "u1@example.com", "anonymous_id": "anon-1", "plan": "pro"},
            timestamp=1710504000,
        ),
    )
    assert answer.status_code == 200
    assert answer.json() == {}
    found = customer(client, app_key, "u1")
    assert found["identifiers"]["email"] == "u1@example.com"
    assert found["attributes"]["plan"] == "pro"
    assert "anonymous_id" not in found["attributes"]
    assert found["anonymous_ids"] == ["anon-1"]
    events = client.get("/v1/customers/u1/activities?type=event", headers=app_key).json()
    assert [a["name"] for a in events["activities"]] == ["visit"]


def test_event_id_deduplicates_and_anonymous_id_is_not_event_data(client, track, app_key):
    op = {
        "type": "person",
        "action": "event",
        "name": "Order Completed",
        "id": "m-1",
        "identifiers": {"id": "u2"},
        "attributes": {"revenue": 19.99, "anonymous_id": "a-2"},
        "timestamp": "2024-03-15T12:00:00Z",
    }
    for _ in range(2):
        entity(client, track, op)
    events = client.get("/v1/customers/u2/activities?type=event", headers=app_key).json()
    (only,) = events["activities"]
    assert only["data"] == {"revenue": 19.99}
    assert only["timestamp"] == 1710504000


def test_an_unparseable_timestamp_is_ignored(client, track, app_key):
    answer = entity(
        client,
        track,
        {
            "type": "person",
            "action": "event",
            "name": "x",
            "identifiers": {"id": "u3"},
            "timestamp": "soon",
        },
    )
    assert answer.status_code == 200


def test_devices_objects_and_relationships(client, track, app_key):
    entity(
        client,
        track,
        {
            "type": "person",
            "action": "add_device",
            "identifiers": {"id": "u4"},
            "device": {
                "token": "tok",
                "platform": "ios",
                "last_used": 1710504000,
                "attributes": {"app_version": "1.2"},
            },
        },
    )
    found = customer(client, app_key, "u4")
    assert found["devices"] == [
        {
            "id": "tok",
            "platform": "ios",
            "last_used": 1710504000,
            "attributes": {"app_version": "1.2"},
        }
    ]
    entity(
        client,
        track,
        {
            "type": "object",
            "action": "identify",
            "identifiers": {"object_type_id": "1", "object_id": "acme"},
            "attributes": {"name": "Acme", "anonymous_id": "x"},
            "cio_relationships": [
                {"identifiers": {"id": "u4"}, "relationship_attributes": {"role": "admin"}}
            ],
        },
    )
    obj = client.get("/v1/objects/1/acme", headers=app_key).json()["object"]
    assert obj["attributes"] == {"name": "Acme"}
    assert obj["relationships"][0]["id"] == "u4"
    assert obj["relationships"][0]["relationship_attributes"] == {"role": "admin"}
    entity(
        client,
        track,
        v2_person(
            "delete_relationships",
            "u4",
            cio_relationships=[{"identifiers": {"object_type_id": "1", "object_id": "acme"}}],
        ),
    )
    obj = client.get("/v1/objects/1/acme", headers=app_key).json()["object"]
    assert obj["relationships"] == []
    entity(
        client,
        track,
        {
            "type": "object",
            "action": "delete",
            "identifiers": {"object_type_id": "1", "object_id": "acme"},
        },
    )
    assert client.get("/v1/objects/1/acme", headers=app_key).status_code == 404


def test_batch_applies_good_items_and_answers_207_for_bad_ones(client, track, app_key):
    answer = client.post(
        "/api/v2/batch",
        headers=track,
        json={
            "batch": [
                v2_person("identify", "b1", attributes={"plan": "a"}),
                v2_person("identify", "b2", attributes={"plan": "x" * 1001}),
                "not an object",
                v2_person("fly", "b3"),
                {
                    "type": "person",
                    "action": "identify",
                    "identifiers": {"id": "b4", "email": "x@y.co"},
                },
                v2_person("identify", "b5"),
            ]
        },
    )
    assert answer.status_code == 207
    errors = answer.json()["errors"]
    assert [e["batch_index"] for e in errors] == [1, 2, 3, 4]
    assert "1000 bytes" in errors[0]["message"]
    assert errors[0]["field"] == "plan"
    assert all({"batch_index", "reason", "field", "message"} <= set(e) for e in errors)
    assert customer(client, app_key, "b1")["attributes"]["plan"] == "a"
    assert customer(client, app_key, "b5") is not None
    assert customer(client, app_key, "b2") is None


def test_email_identifier_in_an_id_only_workspace_is_a_207_item(
    client, system, track, app_key, workspace
):
    system.workspaces.change_settings(workspace["workspace_id"], identifier_mode="id_only")
    answer = client.post(
        "/api/v2/batch",
        headers=track,
        json={
            "batch": [
                {"type": "person", "action": "identify", "identifiers": {"email": "e@example.com"}},
            ]
        },
    )
    assert answer.status_code == 207
    assert answer.json()["errors"][0]["message"] == "email is not an identifier in this workspace"


def test_malformed_requests_get_400_in_v2_shape(client, track):
    for body in (b"{", b"[]", b'{"batch": {}}'):
        answer = client.post("/api/v2/batch", content=body, headers=track)
        assert answer.status_code == 400
        (error,) = answer.json()["errors"]
        assert set(error) == {"reason", "field", "message"}
    bad = entity(client, track, {"type": "person", "action": "identify"}, status=400)
    assert "identifiers" in bad.json()["errors"][0]["message"]


def test_an_operation_over_32_kb_is_refused(client, track):
    big = v2_person("identify", "big", attributes={f"a{n}": "x" * 900 for n in range(40)})
    entity(client, track, big, status=400)
    answer = client.post("/api/v2/batch", headers=track, json={"batch": [big]})
    assert answer.status_code == 207


def test_merge_and_suppress_through_v2(client, track, app_key):
    entity(client, track, v2_person("identify", "p"))
    entity(
        client,
        track,
        {
            "type": "person",
            "action": "identify",
            "identifiers": {"email": "s@example.com"},
            "attributes": {"city": "Oslo"},
        },
    )
    merged = entity(
        client,
        track,
        {
            "type": "person",
            "action": "merge",
            "primary": {"id": "p"},
            "secondary": {"email": "s@example.com"},
        },
    )
    assert merged.status_code == 200
    found = customer(client, app_key, "p")
    assert found["identifiers"]["email"] == "s@example.com"
    assert found["attributes"]["city"] == "Oslo"
    entity(client, track, v2_person("suppress", "p"))
    assert customer(client, app_key, "p") is None
    entity(client, track, v2_person("identify", "p"))
    assert customer(client, app_key, "p") is None


def test_a_failed_batch_item_leaves_no_trace_in_the_activity_log(client, track, app_key):
    many = {f"a{n}": n for n in range(200)}
    entity(
        client,
        track,
        {"type": "person", "action": "identify", "identifiers": {"id": "full"}, "attributes": many},
    )
    more = {f"b{n}": n for n in range(150)}  # 350 attributes: over the per-person limit
    answer = client.post(
        "/api/v2/batch",
        headers=track,
        json={
            "batch": [
                v2_person("identify", "full", attributes={"email": "full@example.com", **more}),
                v2_person("identify", "next"),
            ]
        },
    )
    assert answer.status_code == 207
    assert "300 attributes" in answer.json()["errors"][0]["message"]
    found = customer(client, app_key, "full")
    assert found["identifiers"]["email"] is None
    log = client.get(
        "/v1/customers/full/activities?type=attribute_change&limit=1000", headers=app_key
    ).json()["activities"]
    assert "email" not in [a.get("name") for a in log]
    assert customer(client, app_key, "next") is not None


def test_one_person_reached_by_id_and_by_email_in_one_batch_keeps_every_change(
    client, track, app_key
):
    entity(
        client,
        track,
        v2_person("identify", "both", attributes={"email": "both@example.com"}),
    )
    answer = client.post(
        "/api/v2/batch",
        headers=track,
        json={
            "batch": [
                v2_person("identify", "both", attributes={"first": 1}),
                {
                    "type": "person",
                    "action": "identify",
                    "identifiers": {"email": "both@example.com"},
                    "attributes": {"second": 2},
                },
                v2_person("identify", "both", attributes={"third": 3}),
            ]
        },
    )
    assert answer.status_code == 200
    attributes = customer(client, app_key, "both")["attributes"]
    assert (attributes["first"], attributes["second"], attributes["third"]) == ("1", "2", "3")


def test_a_batch_that_creates_then_updates_a_person_keeps_one_person(client, track, app_key):
    answer = client.post(
        "/api/v2/batch",
        headers=track,
        json={
            "batch": [
                v2_person("identify", "fresh", attributes={"email": "fresh@example.com", "a": 1}),
                {
                    "type": "person",
                    "action": "identify",
                    "identifiers": {"email": "fresh@example.com"},
                    "attributes": {"b": 2},
                },
                {"type": "person", "action": "event", "name": "e", "identifiers": {"id": "fresh"}},
            ]
        },
    )
    assert answer.status_code == 200
    found = client.get("/v1/customers?email=fresh@example.com", headers=app_key).json()
    assert len(found["results"]) == 1
    attributes = customer(client, app_key, "fresh")["attributes"]
    assert (attributes["a"], attributes["b"]) == ("1", "2")
