"""Segment's Spec API in process, on SQLite and PostgreSQL (docs/api.md §0, §3;
docs/identity.md I6.6, I7):
write keys, every endpoint, the Customer.io Actions mapping, retries, bad input, suppressed
identifiers and the ingestion log; then the Track API v2 actions test_track_v2.py leaves out.
What was stored is read back through the App API and /api/ingestion-log; where neither can see
it (anonymous events, workspace activity, "nothing was written") the tables are counted."""

from __future__ import annotations

import functools
import gzip
import json
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from roster.services.system import System
from tests.api.calls import (
    activities,
    assert_error,
    basic,
    customer,
    entity,
    ingestion_log,
    rows,
    v2_person,
)
from tests.api.stored import footprint

SINGLE = ("identify", "track", "page", "screen", "group", "alias")
BATCH_PATHS = ("/v1/batch", "/v1/import")
EVERY_PATH = tuple(f"/v1/{kind}" for kind in SINGLE) + BATCH_PATHS
ISO = "2024-03-15T12:00:00Z"
ISO_SECONDS = 1710504000


# -- helpers --------------------------------------------------------------------------------------


@pytest.fixture
def wk(workspace: dict[str, Any]) -> dict[str, str]:
    """Segment's way: the write key as the Basic user, an empty password."""
    return basic(workspace["write_key"])


def send(client: TestClient, path: str, body: Any, headers: dict[str, str]) -> Any:
    answer = client.post(path, content=orjson.dumps(body), headers=headers)
    assert answer.status_code < 500, answer.text
    return answer


def ok(client: TestClient, path: str, body: Any, headers: dict[str, str]) -> None:
    answer = send(client, path, body, headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"success": True}


def batch(client: TestClient, wk: dict[str, str], *messages: Any, **top: Any) -> None:
    ok(client, "/v1/batch", {"batch": list(messages), **top}, wk)


def events(client: TestClient, app_key: dict[str, str], ref: str) -> list[dict[str, Any]]:
    """A person's events, pages and screens, oldest first."""
    found = [
        a for a in activities(client, app_key, ref) if a["type"] in ("event", "page", "screen")
    ]
    return sorted(found, key=lambda a: (a["timestamp"], int(a["id"][1:])))


def the_object(client: TestClient, app_key: dict[str, str], type_id: str, object_id: str) -> Any:
    answer = client.get(f"/v1/objects/{type_id}/{object_id}", headers=app_key)
    assert answer.status_code in (200, 404), answer.text
    return answer.json()["object"] if answer.status_code == 200 else None


def logged(
    client: TestClient, app_key: dict[str, str], message_id: str, says: str, type_: str | None
) -> dict[str, Any]:
    """The one ingestion-log entry about a Segment message, checked."""
    found = [e for e in ingestion_log(client, app_key) if e.get("message_id") == message_id]
    assert len(found) == 1, found
    (entry,) = found
    assert entry["door"] == "segment", entry
    assert entry.get("type") == type_, entry
    assert says in entry["reason"], entry
    return entry


def anonymous_events(system: System, workspace: dict[str, Any], anonymous_id: str) -> list[Any]:
    return rows(
        system,
        "select name, type, data, person_pk from events"
        " where workspace_id = :w and anonymous_id = :a and person_pk is null",
        w=workspace["workspace_id"],
        a=anonymous_id,
    )


def gz(body: bytes) -> bytes:
    return gzip.compress(body)


@functools.cache
def gzip_bomb() -> bytes:
    """50 MB of "0" characters, gzipped: about 50 KB on the wire."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"0" * 1_000_000
    return b"".join(packer.compress(block) for _ in range(50)) + packer.flush()


# -- credentials (docs/api.md §0) -----------------------------------------------------------------


def test_the_write_key_works_as_basic_user_with_empty_password_as_bearer_and_in_the_body(
    client, workspace, wk, app_key
):
    key = workspace["write_key"]
    ok(client, "/v1/identify", {"userId": "by-basic", "traits": {"door": "basic"}}, wk)
    ok(
        client,
        "/v1/identify",
        {"userId": "by-bearer", "traits": {"door": "bearer"}},
        {"Authorization": f"Bearer {key}"},
    )
    ok(
        client,
        "/v1/identify",
        {"userId": "by-body", "traits": {"door": "body"}, "writeKey": key},
        {},
    )
    ok(
        client,
        "/v1/batch",
        {"batch": [{"type": "identify", "userId": "by-batch"}], "writeKey": key},
        {},
    )
    assert customer(client, app_key, "by-basic")["attributes"]["door"] == "basic"
    assert customer(client, app_key, "by-bearer")["attributes"]["door"] == "bearer"
    found = customer(client, app_key, "by-body")
    assert found["attributes"]["door"] == "body"
    assert "writeKey" not in found["attributes"]
    assert customer(client, app_key, "by-batch") is not None


def wrong_credentials(
    workspace: dict[str, Any],
) -> dict[str, tuple[dict[str, str], dict[str, Any]]]:
    """Header and body extras that must not pass as this workspace's write key."""
    key = workspace["write_key"]
    return {
        "none": ({}, {}),
        "wrong basic user": (basic("not-the-key"), {}),
        "wrong bearer": ({"Authorization": "Bearer not-the-key"}, {}),
        "wrong writeKey in body": ({}, {"writeKey": "not-the-key"}),
        "writeKey not a string": ({}, {"writeKey": {"key": key}}),
        "basic that is not base64": ({"Authorization": "Basic %%%"}, {}),
        "key as basic password": (basic("", key), {}),
        "track api key as basic": (basic(workspace["site_id"], workspace["track_api_key"]), {}),
        "track api key as basic user": (basic(workspace["track_api_key"]), {}),
        "track api key as bearer": ({"Authorization": f"Bearer {workspace['track_api_key']}"}, {}),
        "app api key as bearer": ({"Authorization": f"Bearer {workspace['app_api_key']}"}, {}),
        "track api key in body": ({}, {"writeKey": workspace["track_api_key"]}),
    }


WRONG = [
    "none",
    "wrong basic user",
    "wrong bearer",
    "wrong writeKey in body",
    "writeKey not a string",
    "basic that is not base64",
    "key as basic password",
    "track api key as basic",
    "track api key as basic user",
    "track api key as bearer",
    "app api key as bearer",
    "track api key in body",
]


@pytest.mark.parametrize("how", WRONG)
def test_a_wrong_or_missing_write_key_is_a_401_with_code_and_message_and_writes_nothing(
    client, system, workspace, app_key, how
):
    headers, extra = wrong_credentials(workspace)[how]
    before = footprint(system, workspace["workspace_id"])
    for path in EVERY_PATH:
        if path in BATCH_PATHS:
            body = {"batch": [{"type": "identify", "userId": "intruder"}], **extra}
        else:
            body = {
                "userId": "intruder",
                "event": "e",
                "name": "n",
                "groupId": "g",
                "previousId": "p",
                **extra,
            }
        assert_error(send(client, path, body, headers), 401)
    assert footprint(system, workspace["workspace_id"]) == before
    assert customer(client, app_key, "intruder") is None


def test_one_workspaces_write_key_never_writes_into_another_workspace(
    client, system, workspace, app_key
):
    other = system.workspaces.create(f"other-{workspace['workspace_id']}")
    ok(client, "/v1/identify", {"userId": "theirs"}, basic(other["write_key"]))
    assert customer(client, app_key, "theirs") is None
    mine = {"Authorization": f"Bearer {other['app_api_key']}"}
    assert customer(client, mine, "theirs") is not None


# -- every endpoint -------------------------------------------------------------------------------


def test_identify_stores_traits_as_attributes_with_created_at_email_and_the_envelope_timestamp(
    client, wk, app_key
):
    ok(
        client,
        "/v1/identify",
        {
            "userId": "ada",
            "anonymousId": "anon-ada",
            "messageId": "m-identify",
            "timestamp": ISO,
            "traits": {"email": "ada@example.com", "plan": "pro", "createdAt": ISO},
        },
        wk,
    )
    found = customer(client, app_key, "ada")
    assert found["identifiers"]["email"] == "ada@example.com"
    assert found["anonymous_ids"] == ["anon-ada"]
    attributes = found["attributes"]
    assert attributes["plan"] == "pro"
    assert attributes["created_at"] == str(ISO_SECONDS)
    assert "createdAt" not in attributes
    assert "anonymousId" not in attributes and "anonymous_id" not in attributes
    assert found["timestamps"]["plan"] == ISO_SECONDS  # envelope timestamp → _timestamp (I4.8)
    assert "_timestamp" not in attributes


def test_identify_with_snake_case_created_at_sets_created_at(client, wk, app_key):
    ok(client, "/v1/identify", {"userId": "snake", "traits": {"created_at": 1700000000}}, wk)
    assert customer(client, app_key, "snake")["attributes"]["created_at"] == "1700000000"


def test_the_path_decides_the_message_type_whatever_the_body_says(client, wk, app_key):
    ok(client, "/v1/track", {"type": "identify", "userId": "typed", "event": "Clicked"}, wk)
    assert [e["name"] for e in events(client, app_key, "typed")] == ["Clicked"]
    assert customer(client, app_key, "typed")["attributes"].get("event") is None


def test_track_stores_an_event_named_by_event_with_properties_message_id_and_timestamp(
    client, wk, app_key
):
    ok(
        client,
        "/v1/track",
        {
            "userId": "buyer",
            "event": "Order Completed",
            "messageId": "m-order",
            "timestamp": ISO,
            "properties": {"revenue": 19.99, "items": 2},
        },
        wk,
    )
    (event,) = events(client, app_key, "buyer")
    assert event["type"] == "event"
    assert event["name"] == "Order Completed"
    assert event["data"] == {"revenue": 19.99, "items": 2}
    assert event["timestamp"] == ISO_SECONDS


def test_page_is_named_by_its_url_else_by_its_page_name(client, wk, app_key):
    ok(
        client,
        "/v1/page",
        {
            "userId": "reader",
            "name": "Pricing",
            "timestamp": "2024-03-15T12:00:00Z",
            "properties": {"url": "https://example.com/pricing", "title": "Pricing"},
        },
        wk,
    )
    ok(
        client,
        "/v1/page",
        {"userId": "reader", "name": "Home", "timestamp": "2024-03-15T12:00:01Z"},
        wk,
    )
    first, second = events(client, app_key, "reader")
    assert (first["type"], first["name"]) == ("page", "https://example.com/pricing")
    assert first["data"] == {"url": "https://example.com/pricing", "title": "Pricing"}
    assert (second["type"], second["name"]) == ("page", "Home")


def test_screen_is_a_screen_event_named_by_the_screen(client, wk, app_key):
    ok(
        client,
        "/v1/screen",
        {"userId": "mobile", "name": "Checkout", "properties": {"step": 2}},
        wk,
    )
    (screen,) = events(client, app_key, "mobile")
    assert (screen["type"], screen["name"], screen["data"]) == ("screen", "Checkout", {"step": 2})


def test_group_identifies_the_object_from_object_attributes_and_relates_the_user(
    client, wk, app_key
):
    ok(
        client,
        "/v1/group",
        {
            "userId": "member",
            "groupId": "acme",
            "traits": {
                "object_type_id": "2",
                "name": "ignored: objectAttributes wins",
                "objectAttributes": {"name": "Acme", "founded": "2001-02-03"},
                "relationshipAttributes": {"role": "admin"},
            },
        },
        wk,
    )
    found = the_object(client, app_key, "2", "acme")
    assert found["attributes"] == {"name": "Acme", "founded": 981158400}
    (related,) = found["relationships"]
    assert related["id"] == "member"
    assert related["relationship_attributes"] == {"role": "admin"}
    assert the_object(client, app_key, "1", "acme") is None
    assert customer(client, app_key, "member")["relationships"] == [
        {"object_type_id": "2", "object_id": "acme", "attributes": {"role": "admin"}}
    ]


def test_group_without_object_attributes_uses_the_group_traits_on_object_type_1(
    client, wk, app_key
):
    ok(
        client,
        "/v1/group",
        {"userId": "m2", "groupId": "beta", "traits": {"name": "Beta", "plan": "team"}},
        wk,
    )
    found = the_object(client, app_key, "1", "beta")
    assert found["attributes"] == {"name": "Beta", "plan": "team"}
    assert [r["id"] for r in found["relationships"]] == ["m2"]


def test_a_group_with_only_an_anonymous_id_relates_it_and_the_person_joins_when_identified(
    client, system, workspace, wk, app_key
):
    ok(
        client,
        "/v1/group",
        {"userId": None, "anonymousId": "anon-g", "groupId": "gamma", "traits": {"name": "G"}},
        wk,
    )
    found = the_object(client, app_key, "1", "gamma")
    assert found["relationships"] == []
    assert [r["anonymous_id"] for r in found["anonymous_relationships"]] == ["anon-g"]
    assert (
        rows(
            system,
            "select count(*) from people where workspace_id = :w",
            w=workspace["workspace_id"],
        )[0][0]
        == 0
    )

    ok(client, "/v1/identify", {"userId": "later", "anonymousId": "anon-g"}, wk)

    found = the_object(client, app_key, "1", "gamma")
    assert [r["id"] for r in found["relationships"]] == ["later"]
    assert found["anonymous_relationships"] == []
    assert [r["object_id"] for r in customer(client, app_key, "later")["relationships"]] == [
        "gamma"
    ]


def test_alias_merges_the_previous_person_into_the_user(client, wk, app_key):
    ok(client, "/v1/identify", {"userId": "primary", "traits": {"plan": "pro"}}, wk)
    ok(
        client,
        "/v1/identify",
        {"userId": "old-login", "traits": {"plan": "free", "city": "Oslo"}},
        wk,
    )
    ok(client, "/v1/track", {"userId": "old-login", "event": "Before", "messageId": "m-b"}, wk)

    ok(client, "/v1/alias", {"userId": "primary", "previousId": "old-login"}, wk)

    assert customer(client, app_key, "old-login") is None
    found = customer(client, app_key, "primary")
    assert found["attributes"]["plan"] == "pro"
    assert found["attributes"]["city"] == "Oslo"
    assert [e["name"] for e in events(client, app_key, "primary")] == ["Before"]
    assert activities(client, app_key, "primary", "profile_merge")


def test_alias_with_an_unknown_previous_id_links_it_as_an_anonymous_id_and_stitches_its_events(
    client, system, workspace, wk, app_key
):
    ok(client, "/v1/track", {"anonymousId": "anon-al", "event": "Browsed", "messageId": "m-al"}, wk)
    assert len(anonymous_events(system, workspace, "anon-al")) == 1

    ok(client, "/v1/alias", {"userId": "signed-up", "previousId": "anon-al"}, wk)

    found = customer(client, app_key, "signed-up")
    assert found["anonymous_ids"] == ["anon-al"]
    assert [e["name"] for e in events(client, app_key, "signed-up")] == ["Browsed"]
    assert anonymous_events(system, workspace, "anon-al") == []
    ok(client, "/v1/track", {"anonymousId": "anon-al", "event": "Afterwards"}, wk)
    assert [e["name"] for e in events(client, app_key, "signed-up")] == ["Browsed", "Afterwards"]


@pytest.mark.parametrize("path", BATCH_PATHS)
def test_a_batch_applies_every_kind_of_message_with_top_level_context_for_each(
    client, wk, app_key, path
):
    ok(
        client,
        path,
        {
            "batch": [
                {"type": "identify", "userId": "bat", "traits": {"plan": "pro"}},
                {"type": "track", "userId": "bat", "event": "Clicked", "messageId": "b-1"},
                {"type": "page", "userId": "bat", "name": "Home", "messageId": "b-2"},
                {"type": "screen", "userId": "bat", "name": "Feed", "messageId": "b-3"},
                {"type": "group", "userId": "bat", "groupId": "team", "traits": {"size": 3}},
                {"type": "alias", "userId": "bat", "previousId": "bat-anon"},
                {
                    "type": "track",
                    "userId": "bat",
                    "event": "Application Opened",
                    "messageId": "b-4",
                    "timestamp": ISO,
                    "properties": {"build": "77"},
                },
                {
                    "type": "track",
                    "userId": "bat",
                    "event": "Application Opened",
                    "context": None,
                    "messageId": "b-5",
                },
            ],
            "context": {
                "device": {"token": "top-token", "type": "android"},
                "app": {"version": "3.1.0"},
            },
            "integrations": {"All": True},
            "sentAt": ISO,
        },
        wk,
    )
    found = customer(client, app_key, "bat")
    assert found["attributes"]["plan"] == "pro"
    assert found["anonymous_ids"] == ["bat-anon"]
    assert [(e["type"], e["name"]) for e in events(client, app_key, "bat")] == [
        ("event", "Clicked"),
        ("page", "Home"),
        ("screen", "Feed"),
    ]
    assert the_object(client, app_key, "1", "team")["attributes"] == {"size": 3}
    (device,) = found["devices"]
    assert device["id"] == "top-token"
    assert device["platform"] == "android"
    assert device["attributes"] == {"build": "77", "app_version": "3.1.0"}


def test_a_messages_own_context_replaces_the_batch_context(client, wk, app_key):
    batch(
        client,
        wk,
        {
            "type": "track",
            "userId": "own",
            "event": "Application Installed",
            "context": {"device": {"token": "own-token", "type": "ios"}},
        },
        context={"device": {"token": "batch-token", "type": "android"}},
    )
    assert [d["id"] for d in customer(client, app_key, "own")["devices"]] == ["own-token"]


# -- the mapping (docs/api.md §3) -----------------------------------------------------------------


def test_identify_without_user_id_but_with_an_email_trait_creates_a_lead(client, wk, app_key):
    ok(client, "/v1/identify", {"anonymousId": "anon-lead", "traits": {"email": "lead@x.io"}}, wk)
    found = customer(client, app_key, "lead@x.io", "email")
    assert found["identifiers"]["id"] is None
    assert found["identifiers"]["email"] == "lead@x.io"
    assert found["anonymous_ids"] == ["anon-lead"]


def test_identify_with_only_an_anonymous_id_is_dropped_and_logged_as_unusable(
    client, system, workspace, wk, app_key
):
    before = footprint(system, workspace["workspace_id"])
    ok(
        client,
        "/v1/identify",
        {"anonymousId": "anon-only", "messageId": "m-anon-only", "traits": {"plan": "x"}},
        wk,
    )
    assert footprint(system, workspace["workspace_id"]) == before
    logged(client, app_key, "m-anon-only", "no person was created", "identify")


def test_identify_without_user_id_in_an_id_only_workspace_is_logged_and_creates_nobody(
    client, system, workspace, wk, app_key
):
    system.workspaces.change_settings(workspace["workspace_id"], identifier_mode="id_only")
    before = footprint(system, workspace["workspace_id"])
    batch(
        client,
        wk,
        {"type": "identify", "messageId": "m-id-only", "traits": {"email": "classic@x.io"}},
    )
    assert footprint(system, workspace["workspace_id"]) == before
    entry = logged(client, app_key, "m-id-only", "no", "identify")
    assert "id" in entry["reason"]
    listed = client.get("/v1/customers?email=classic@x.io", headers=app_key).json()
    assert listed == {"results": []}


def test_identify_object_id_trait_relates_the_person_to_that_object(client, wk, app_key):
    ok(
        client,
        "/v1/identify",
        {
            "userId": "employee",
            "traits": {
                "plan": "pro",
                "objectId": "acme",
                "object_type_id": "3",
                "relationshipAttributes": {"role": "owner"},
            },
        },
        wk,
    )
    ok(client, "/v1/identify", {"userId": "employee2", "traits": {"objectId": 42}}, wk)
    found = customer(client, app_key, "employee")
    assert found["relationships"] == [
        {"object_type_id": "3", "object_id": "acme", "attributes": {"role": "owner"}}
    ]
    for left_out in ("object_type_id", "relationshipAttributes"):
        assert left_out not in found["attributes"]
    assert found["attributes"]["plan"] == "pro"
    assert found["attributes"]["objectId"] == "acme"  # an attribute too, as the destination sends
    assert customer(client, app_key, "employee2")["relationships"] == [
        {"object_type_id": "1", "object_id": "42", "attributes": {}}
    ]
    (added,) = activities(client, app_key, "employee", "add_relationship")
    assert added["data"] == {"object_type_id": "3", "object_id": "acme"}


def test_identify_object_id_trait_creates_the_object_it_relates_the_person_to(client, wk, app_key):
    ok(
        client,
        "/v1/identify",
        {
            "userId": "employee",
            "traits": {
                "objectId": "acme",
                "object_type_id": "3",
                "relationshipAttributes": {"role": "owner"},
            },
        },
        wk,
    )
    found = the_object(client, app_key, "3", "acme")
    assert found is not None, "GET /v1/objects/3/acme answered 404"
    assert [(r["id"], r["relationship_attributes"]) for r in found["relationships"]] == [
        ("employee", {"role": "owner"})
    ]


def test_an_anonymous_id_stitches_earlier_anonymous_events_and_is_not_event_data(
    client, system, workspace, wk, app_key
):
    batch(
        client,
        wk,
        {
            "type": "track",
            "anonymousId": "anon-s",
            "event": "Viewed",
            "messageId": "s-1",
            "properties": {"sku": "a"},
        },
        {"type": "page", "anonymousId": "anon-s", "name": "Landing", "messageId": "s-2"},
        {"type": "screen", "anonymousId": "anon-s", "name": "Intro", "messageId": "s-3"},
    )
    assert len(anonymous_events(system, workspace, "anon-s")) == 3
    assert customer(client, app_key, "stitched") is None

    ok(client, "/v1/identify", {"userId": "stitched", "anonymousId": "anon-s"}, wk)
    ok(
        client,
        "/v1/track",
        {
            "userId": "stitched",
            "anonymousId": "anon-s",
            "event": "Bought",
            "messageId": "s-4",
            "properties": {"sku": "b"},
        },
        wk,
    )
    ok(client, "/v1/track", {"anonymousId": "anon-s", "event": "Came back", "messageId": "s-5"}, wk)

    assert anonymous_events(system, workspace, "anon-s") == []
    stored = events(client, app_key, "stitched")
    assert sorted((e["type"], e["name"]) for e in stored) == [
        ("event", "Bought"),
        ("event", "Came back"),
        ("event", "Viewed"),
        ("page", "Landing"),
        ("screen", "Intro"),
    ]
    for event in stored:
        assert "anonymousId" not in (event.get("data") or {})
        assert "anonymous_id" not in (event.get("data") or {})
    (merge,) = activities(client, app_key, "stitched", "anon_merge")
    assert merge["data"]["anonymous_id"] == "anon-s"


def test_iso_timestamps_become_unix_seconds_in_nested_objects_but_not_in_arrays(
    client, wk, app_key
):
    values = {
        "at": ISO,
        "date": "2024-03-15",
        "minutes": "2024-03-15T12:00",
        "fraction": "2024-03-15T12:00:00.123456789Z",
        "offset": "2024-03-15T13:00:00+01:00",
        "compact_offset": "2024-03-15T13:00:00+0100",
        "nested": {"at": ISO, "deeper": {"at": ISO}},
        "in_array": [ISO, {"at": ISO}],
        "digits": "1710504000",
        "spaced": "2024-03-15 12:00:00",
        "words": "March 15, 2024",
        "number": 5,
    }
    expected = {
        "at": ISO_SECONDS,
        "date": 1710460800,
        "minutes": ISO_SECONDS,
        "fraction": ISO_SECONDS,
        "offset": ISO_SECONDS,
        "compact_offset": ISO_SECONDS,
        "nested": {"at": ISO_SECONDS, "deeper": {"at": ISO_SECONDS}},
        "in_array": [ISO, {"at": ISO}],
        "digits": "1710504000",
        "spaced": "2024-03-15 12:00:00",
        "words": "March 15, 2024",
        "number": 5,
    }
    ok(client, "/v1/track", {"userId": "times", "event": "Timed", "properties": values}, wk)
    ok(client, "/v1/identify", {"userId": "times", "traits": values}, wk)
    (event,) = events(client, app_key, "times")
    assert event["data"] == expected
    attributes = customer(client, app_key, "times")["attributes"]
    assert attributes["at"] == str(ISO_SECONDS)
    assert attributes["digits"] == "1710504000"
    assert attributes["spaced"] == "2024-03-15 12:00:00"
    assert json.loads(attributes["nested"]) == expected["nested"]
    assert json.loads(attributes["in_array"]) == expected["in_array"]


def test_application_installed_and_opened_add_a_device_and_uninstalled_removes_it(
    client, wk, app_key
):
    ok(
        client,
        "/v1/track",
        {
            "userId": "phone",
            "event": "Application Installed",
            "timestamp": ISO,
            "properties": {"build": "100"},
            "context": {"device": {"token": "tok-1", "type": "ios"}, "app": {"version": "1.0"}},
        },
        wk,
    )
    found = customer(client, app_key, "phone")
    assert found["devices"] == [
        {
            "id": "tok-1",
            "platform": "ios",
            "last_used": ISO_SECONDS,
            "attributes": {"build": "100", "app_version": "1.0"},
        }
    ]
    assert events(client, app_key, "phone") == []
    ok(
        client,
        "/v1/track",
        {
            "userId": "phone",
            "event": "Application Opened",
            "context": {"device": {"token": "tok-2", "type": "android"}, "app": {"version": "2.0"}},
        },
        wk,
    )
    assert sorted(
        (d["id"], d["platform"]) for d in customer(client, app_key, "phone")["devices"]
    ) == [
        ("tok-1", "ios"),
        ("tok-2", "android"),
    ]
    ok(
        client,
        "/v1/track",
        {
            "userId": "phone",
            "event": "Application Uninstalled",
            "context": {"device": {"token": "tok-1", "type": "ios"}},
        },
        wk,
    )
    assert [d["id"] for d in customer(client, app_key, "phone")["devices"]] == ["tok-2"]
    changes = activities(client, app_key, "phone", "device_change")
    assert sorted((a["name"], a["data"]["action"]) for a in changes) == [
        ("tok-1", "added"),
        ("tok-1", "deleted"),
        ("tok-2", "added"),
    ]


def test_application_opened_without_a_device_token_is_an_ordinary_event(client, wk, app_key):
    ok(client, "/v1/track", {"userId": "no-token", "event": "Application Opened"}, wk)
    found = customer(client, app_key, "no-token")
    assert found["devices"] == []
    assert [e["name"] for e in events(client, app_key, "no-token")] == ["Application Opened"]


def test_user_deleted_deletes_the_person(client, wk, app_key):
    ok(client, "/v1/identify", {"userId": "gone", "traits": {"plan": "x"}}, wk)
    cio_id = customer(client, app_key, "gone")["identifiers"]["cio_id"]
    ok(client, "/v1/track", {"userId": "gone", "event": "User Deleted"}, wk)
    assert customer(client, app_key, "gone") is None
    left = client.get(f"/v1/customers/cio_{cio_id}/activities?deleted=true", headers=app_key)
    assert [a["type"] for a in left.json()["activities"]] == ["profile_delete"]


def test_user_suppressed_deletes_and_blocks_and_user_unsuppressed_frees_the_id(client, wk, app_key):
    ok(client, "/v1/identify", {"userId": "blocked", "traits": {"plan": "x"}}, wk)
    ok(client, "/v1/track", {"userId": "blocked", "event": "User Suppressed"}, wk)
    assert customer(client, app_key, "blocked") is None
    ok(client, "/v1/identify", {"userId": "blocked", "traits": {"plan": "y"}}, wk)
    assert customer(client, app_key, "blocked") is None

    ok(client, "/v1/track", {"userId": "blocked", "event": "User Unsuppressed"}, wk)
    ok(client, "/v1/identify", {"userId": "blocked", "traits": {"plan": "z"}}, wk)
    found = customer(client, app_key, "blocked")
    assert found["attributes"]["plan"] == "z"


def test_object_deleted_and_relationship_deleted(client, wk, app_key):
    batch(
        client,
        wk,
        {"type": "group", "userId": "rel", "groupId": "o1", "traits": {"object_type_id": "5"}},
        {"type": "group", "userId": "rel", "groupId": "o2", "traits": {"name": "two"}},
    )
    assert len(customer(client, app_key, "rel")["relationships"]) == 2
    batch(
        client,
        wk,
        {
            "type": "track",
            "userId": "rel",
            "event": "Relationship Deleted",
            "properties": {"objectId": "o1", "object_type_id": "5"},
        },
        {
            "type": "track",
            "userId": "rel",
            "event": "Object Deleted",
            "properties": {"objectId": "o2"},
        },
    )
    assert the_object(client, app_key, "5", "o1")["relationships"] == []
    assert the_object(client, app_key, "1", "o2") is None
    assert customer(client, app_key, "rel")["relationships"] == []
    assert events(client, app_key, "rel") == []


def test_object_deleted_reads_the_camel_case_object_type_id(client, wk, app_key):
    ok(client, "/v1/group", {"userId": "c", "groupId": "o3", "traits": {"objectTypeId": "7"}}, wk)
    assert the_object(client, app_key, "7", "o3") is not None
    ok(
        client,
        "/v1/track",
        {
            "userId": "c",
            "event": "Object Deleted",
            "properties": {"objectId": "o3", "objectTypeId": "7"},
        },
        wk,
    )
    assert the_object(client, app_key, "7", "o3") is None


def test_report_delivery_event_records_a_delivery_metric_for_the_workspace(
    client, system, workspace, wk, app_key
):
    ok(
        client,
        "/v1/track",
        {
            "userId": "recipient",
            "event": "Report Delivery Event",
            "timestamp": ISO,
            "properties": {"deliveryId": "dlv-1", "metric": "opened", "actionName": "cta"},
        },
        wk,
    )
    (metric,) = rows(
        system,
        "select name, data from activities where workspace_id = :w and type = 'metric'",
        w=workspace["workspace_id"],
    )
    data = metric.data if isinstance(metric.data, dict) else json.loads(metric.data)
    assert metric.name == "opened"
    assert data["delivery_id"] == "dlv-1"
    assert data["timestamp"] == ISO_SECONDS
    assert data["metadata"] == {"action_name": "cta"}
    assert customer(client, app_key, "recipient") is None  # a metric is no person's event


def test_report_content_event_is_an_event_named_by_its_action_type(client, wk, app_key):
    batch(
        client,
        wk,
        {
            "type": "track",
            "userId": "viewer",
            "event": "Report Content Event",
            "messageId": "c-1",
            "properties": {"actionType": "viewed_content", "contentId": 7},
        },
        {
            "type": "track",
            "userId": "viewer",
            "event": "Report Content Event",
            "messageId": "c-2",
            "timestamp": "2099-01-01T00:00:00Z",
            "properties": {"actionType": "clicked_content", "contentId": 7},
        },
    )
    stored = events(client, app_key, "viewer")
    assert [(e["name"], e["data"]) for e in stored] == [
        ("viewed_content", {"contentId": 7}),
        ("clicked_content", {"contentId": 7}),
    ]


def test_a_delete_notice_in_a_batch_deletes_the_person(client, wk, app_key):
    ok(client, "/v1/identify", {"userId": "doomed"}, wk)
    ok(client, "/v1/identify", {"userId": "spared"}, wk)
    batch(client, wk, {"type": "delete", "userId": "doomed", "messageId": "del-1"})
    assert customer(client, app_key, "doomed") is None
    assert customer(client, app_key, "spared") is not None


# -- retries --------------------------------------------------------------------------------------


def test_the_same_batch_sent_twice_leaves_one_copy_of_each_event(
    client, system, workspace, wk, app_key
):
    body = {
        "batch": [
            {"type": "identify", "userId": "twice", "messageId": "r-0", "traits": {"n": 1}},
            {"type": "track", "userId": "twice", "event": "A", "messageId": "r-1"},
            {"type": "track", "userId": "twice", "event": "A", "messageId": "r-2"},
            {"type": "page", "userId": "twice", "name": "P", "messageId": "r-3"},
            {"type": "screen", "userId": "twice", "name": "S", "messageId": "r-4"},
            {"type": "track", "anonymousId": "anon-r", "event": "Anon", "messageId": "r-5"},
        ]
    }
    ok(client, "/v1/batch", body, wk)
    ok(client, "/v1/import", body, wk)
    ok(client, "/v1/track", body["batch"][1], wk)
    stored = events(client, app_key, "twice")
    assert sorted((e["type"], e["name"]) for e in stored) == [
        ("event", "A"),
        ("event", "A"),
        ("page", "P"),
        ("screen", "S"),
    ]
    assert len(anonymous_events(system, workspace, "anon-r")) == 1
    assert (
        rows(
            system,
            "select count(*) from people where workspace_id = :w",
            w=workspace["workspace_id"],
        )[0][0]
        == 1
    )


def test_an_event_id_repeated_in_one_batch_is_stored_once_and_a_deleted_ones_is_free_again(
    client, system, workspace, wk, app_key
):
    batch(
        client,
        wk,
        {"type": "track", "userId": "rep", "event": "A", "messageId": "d-1"},
        {"type": "track", "userId": "rep", "event": "B", "messageId": "d-1"},
        {"type": "track", "anonymousId": "anon-d", "event": "C", "messageId": "d-2"},
        {"type": "track", "anonymousId": "anon-d", "event": "C2", "messageId": "d-2"},
        {"type": "identify", "userId": "rep", "anonymousId": "anon-d", "messageId": "d-3"},
        {"type": "track", "userId": "rep", "event": "D"},
        {"type": "track", "userId": "gone", "event": "E", "messageId": "d-4"},
        {"type": "delete", "userId": "gone", "messageId": "d-5"},
        {"type": "track", "userId": "gone", "event": "E again", "messageId": "d-4"},
        {"type": "track", "userId": "gone", "event": "E once more", "messageId": "d-4"},
    )
    # The anonymous event, held back or not, is the person's once the anonymous id joins them.
    assert [e["name"] for e in events(client, app_key, "rep")] == ["A", "C", "D"]
    assert anonymous_events(system, workspace, "anon-d") == []
    # The deleted person's events went with them: their event id names nothing stored.
    assert [e["name"] for e in events(client, app_key, "gone")] == ["E again"]
    batch(client, wk, {"type": "track", "userId": "rep", "event": "B", "messageId": "d-1"})
    assert [e["name"] for e in events(client, app_key, "rep")] == ["A", "C", "D"]


# -- bad input (docs/api.md §3) -------------------------------------------------------------------


@pytest.mark.parametrize("path", EVERY_PATH)
def test_invalid_json_is_a_400_with_code_and_message_and_writes_nothing(
    client, system, workspace, wk, path
):
    before = footprint(system, workspace["workspace_id"])
    for raw in (
        b"{",
        b'{"batch": [{"type": "identify", "userId": "cut"}',
        b"",
        b"nope",
        b'{"a": 1,}',
    ):
        assert_error(client.post(path, content=raw, headers=wk), 400, label=raw)
    assert footprint(system, workspace["workspace_id"]) == before


@pytest.mark.parametrize("path", ["/v1/identify", "/v1/batch"])
def test_a_gzip_body_is_read(client, wk, app_key, path):
    message = {"type": "identify", "userId": "zipped", "traits": {"plan": "gz"}}
    body = {"batch": [message]} if path == "/v1/batch" else message
    answer = client.post(
        path, content=gz(orjson.dumps(body)), headers={**wk, "Content-Encoding": "gzip"}
    )
    assert answer.status_code == 200, answer.text
    assert customer(client, app_key, "zipped")["attributes"]["plan"] == "gz"


@pytest.mark.parametrize("path", ["/v1/identify", "/v1/batch"])
def test_a_truncated_or_corrupt_gzip_body_is_a_400_and_writes_nothing(
    client, system, workspace, wk, path
):
    body = {"batch": [{"type": "identify", "userId": "cut"}], "userId": "cut"}
    packed = gz(orjson.dumps(body))
    before = footprint(system, workspace["workspace_id"])
    for broken in (packed[: len(packed) // 2], packed[:-4], b"not gzip at all", b"\x1f\x8b\x08"):
        answer = client.post(path, content=broken, headers={**wk, "Content-Encoding": "gzip"})
        assert_error(answer, 400)
    assert footprint(system, workspace["workspace_id"]) == before


@pytest.mark.parametrize("path", ["/v1/track", "/v1/batch"])
def test_a_gzip_bomb_is_a_quick_400_without_inflating_it_and_writes_nothing(
    client, system, workspace, wk, path
):
    bomb = gzip_bomb()
    assert len(bomb) < 100_000
    before = footprint(system, workspace["workspace_id"])
    tracemalloc.start()
    try:
        started = time.monotonic()
        answer = client.post(path, content=bomb, headers={**wk, "Content-Encoding": "gzip"})
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_error(answer, 400, says="larger than")
    assert elapsed < 5
    assert peak < 20_000_000, f"decompression was not capped: {peak} bytes at peak"
    assert footprint(system, workspace["workspace_id"]) == before


def test_a_gzip_body_over_500_kb_once_inflated_is_a_400(client, system, workspace, wk):
    messages = [
        {"type": "track", "userId": f"z{n}", "event": "e", "properties": {"pad": "x" * 900}}
        for n in range(600)
    ]
    raw = orjson.dumps({"batch": messages})
    assert len(raw) > 500 * 1024
    before = footprint(system, workspace["workspace_id"])
    answer = client.post("/v1/batch", content=gz(raw), headers={**wk, "Content-Encoding": "gzip"})
    assert_error(answer, 400, says="larger than")
    assert footprint(system, workspace["workspace_id"]) == before


WRONG_BATCHES = (
    {"batch": {"type": "identify", "userId": "shape"}},
    {"batch": "identify"},
    {"batch": None},
    {"messages": [{"type": "identify", "userId": "shape"}]},
    [{"type": "identify", "userId": "shape"}],
    "batch",
    7,
    None,
)


@pytest.mark.parametrize("path", BATCH_PATHS)
def test_a_batch_of_the_wrong_shape_is_a_400_and_writes_nothing(
    client, system, workspace, wk, app_key, path
):
    before = footprint(system, workspace["workspace_id"])
    for body in WRONG_BATCHES:
        assert_error(send(client, path, body, wk), 400, label=body)
    assert footprint(system, workspace["workspace_id"]) == before
    assert customer(client, app_key, "shape") is None


@pytest.mark.parametrize("path", [f"/v1/{kind}" for kind in SINGLE])
def test_a_single_message_endpoint_whose_body_is_not_an_object_is_a_400(
    client, system, workspace, wk, path
):
    before = footprint(system, workspace["workspace_id"])
    for body in ([{"userId": "shape", "event": "e"}], "text", 1, None):
        assert_error(send(client, path, body, wk), 400, label=body)
    assert footprint(system, workspace["workspace_id"]) == before


def test_a_non_object_message_in_a_batch_is_dropped_and_logged_and_the_others_applied(
    client, wk, app_key
):
    batch(
        client,
        wk,
        {"type": "identify", "userId": "kept-1"},
        "a string",
        ["a", "list"],
        None,
        42,
        {"type": "identify", "userId": "kept-2"},
    )
    assert customer(client, app_key, "kept-1") is not None
    assert customer(client, app_key, "kept-2") is not None
    about_shape = [
        e for e in ingestion_log(client, app_key) if "must be a JSON object" in e["reason"]
    ]
    assert len(about_shape) == 4
    assert all(e["door"] == "segment" for e in about_shape)


def test_a_33_kb_message_in_a_batch_is_dropped_and_logged_and_the_others_applied(
    client, wk, app_key
):
    big = {
        "type": "track",
        "userId": "big",
        "event": "Huge",
        "messageId": "m-huge",
        "properties": {f"p{n}": "x" * 900 for n in range(37)},
    }
    assert 32 * 1024 < len(orjson.dumps(big)) < 34 * 1024
    batch(
        client,
        wk,
        {"type": "identify", "userId": "small"},
        big,
        {"type": "track", "userId": "small", "event": "Tiny"},
    )
    assert [e["name"] for e in events(client, app_key, "small")] == ["Tiny"]
    assert customer(client, app_key, "big") is None
    logged(client, app_key, "m-huge", "32768 bytes", "track")


@pytest.mark.parametrize("path", [f"/v1/{kind}" for kind in SINGLE])
def test_a_single_message_endpoint_whose_body_is_over_32_kb_is_a_400_and_writes_nothing(
    client, system, workspace, wk, app_key, path
):
    body = {
        "userId": "over",
        "event": "e",
        "name": "n",
        "groupId": "g",
        "previousId": "p",
        "traits": {f"t{n}": "x" * 900 for n in range(37)},
        "properties": {"pad": "y"},
    }
    before = footprint(system, workspace["workspace_id"])
    assert_error(send(client, path, body, wk), 400, says="larger than")
    packed = gz(orjson.dumps(body))
    assert len(packed) < 32 * 1024
    zipped = client.post(path, content=packed, headers={**wk, "Content-Encoding": "gzip"})
    assert_error(zipped, 400, says="larger than")
    assert footprint(system, workspace["workspace_id"]) == before
    assert customer(client, app_key, "over") is None


def test_a_single_message_just_under_32_kb_is_accepted(client, wk, app_key):
    body = {"userId": "under", "event": "e", "properties": {f"p{n}": "x" * 900 for n in range(34)}}
    assert len(orjson.dumps(body)) < 32 * 1024
    ok(client, "/v1/track", body, wk)
    assert [e["name"] for e in events(client, app_key, "under")] == ["e"]


def test_a_batch_of_2501_messages_is_a_400_and_2500_are_accepted(
    client, system, workspace, wk, app_key
):
    def messages(count: int, prefix: str) -> list[dict[str, Any]]:
        return [
            {"type": "track", "anonymousId": f"{prefix}{n % 3}", "event": "e"} for n in range(count)
        ]

    before = footprint(system, workspace["workspace_id"])
    answer = send(client, "/v1/batch", {"batch": messages(2501, "too-many-")}, wk)
    assert_error(answer, 400, says="2500")
    assert footprint(system, workspace["workspace_id"]) == before
    ok(client, "/v1/batch", {"batch": messages(2500, "fine-")}, wk)
    assert footprint(system, workspace["workspace_id"])["events"] == before["events"] + 2500


@pytest.mark.parametrize("path", BATCH_PATHS)
def test_a_batch_body_over_500_kb_is_a_400_and_writes_nothing(
    client, system, workspace, wk, app_key, path
):
    messages = [
        {"type": "identify", "userId": f"heavy{n}", "traits": {"pad": "x" * 900}}
        for n in range(600)
    ]
    raw = orjson.dumps({"batch": messages})
    assert len(raw) > 500 * 1024
    before = footprint(system, workspace["workspace_id"])
    assert_error(client.post(path, content=raw, headers=wk), 400, says="larger than")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap must hold while streaming
        for start in range(0, len(raw), 65536):
            yield raw[start : start + 65536]

    assert_error(client.post(path, content=chunks(), headers=wk), 400, says="larger than")
    assert footprint(system, workspace["workspace_id"]) == before
    assert customer(client, app_key, "heavy0") is None


def test_an_unknown_message_type_is_dropped_and_logged_naming_the_type(client, wk, app_key):
    batch(
        client,
        wk,
        {"type": "teleport", "userId": "t", "messageId": "m-type"},
        {"userId": "t", "messageId": "m-no-type"},
        {"type": "identify", "userId": "typed-ok"},
    )
    logged(client, app_key, "m-type", "teleport", "teleport")
    logged(client, app_key, "m-no-type", "type", None)
    assert customer(client, app_key, "t") is None
    assert customer(client, app_key, "typed-ok") is not None


DROPPED = {
    "track without event": ({"type": "track", "userId": "d"}, "event"),
    "track with an empty event": ({"type": "track", "userId": "d", "event": " "}, "event"),
    "track with an event that is not a string": (
        {"type": "track", "userId": "d", "event": 5},
        "event",
    ),
    "track with no one": ({"type": "track", "event": "Lost"}, "no usable"),
    "page without url or name": ({"type": "page", "userId": "d", "properties": {}}, "page"),
    "screen without a name": ({"type": "screen", "userId": "d"}, "screen"),
    "group without groupId": ({"type": "group", "userId": "d"}, "groupId"),
    "alias without previousId": ({"type": "alias", "userId": "d"}, "previousId"),
    "alias without userId": ({"type": "alias", "previousId": "d"}, "userId"),
    "delete without userId": ({"type": "delete"}, "userId"),
    "userId an object": ({"type": "identify", "userId": {"id": "d"}}, "userId"),
    "anonymousId a list": ({"type": "track", "anonymousId": ["a"], "event": "e"}, "anonymousId"),
    "traits a list": ({"type": "identify", "userId": "d", "traits": ["a"]}, "traits"),
    "properties a string": (
        {"type": "track", "userId": "d", "event": "e", "properties": "p"},
        "properties",
    ),
    "context a string": (
        {"type": "track", "userId": "d", "event": "Application Opened", "context": "c"},
        "context",
    ),
    "context.device a string": (
        {
            "type": "track",
            "userId": "d",
            "event": "Application Opened",
            "context": {"device": "phone"},
        },
        "device",
    ),
    "an attribute over 1000 bytes": (
        {"type": "identify", "userId": "d", "traits": {"plan": "x" * 1001}},
        "plan",
    ),
    "a userId over 150 bytes": ({"type": "identify", "userId": "d" * 151}, "150"),
    "an invalid email trait": (
        {"type": "identify", "userId": "d", "traits": {"email": "not an email"}},
        "email",
    ),
    "an event name over 100 bytes": ({"type": "track", "userId": "d", "event": "e" * 101}, "100"),
    "a content event without actionType": (
        {"type": "track", "userId": "d", "event": "Report Content Event"},
        "actionType",
    ),
    "a delivery event without metric": (
        {
            "type": "track",
            "userId": "d",
            "event": "Report Delivery Event",
            "properties": {"deliveryId": "x"},
        },
        "metric",
    ),
    "object deleted without objectId": (
        {"type": "track", "userId": "d", "event": "Object Deleted"},
        "objectId",
    ),
    "a device type that is not a string": (
        {
            "type": "track",
            "userId": "d",
            "event": "Application Opened",
            "context": {"device": {"token": "t", "type": 5}},
        },
        "platform",
    ),
    "group traits.objectAttributes a list": (
        {"type": "group", "userId": "d", "groupId": "g", "traits": {"objectAttributes": [1]}},
        "objectAttributes",
    ),
    "messageId an object on an event": (
        {"type": "track", "userId": "d", "event": "e", "messageId": {"id": 1}},
        "id",
    ),
}


@pytest.mark.parametrize("case", list(DROPPED))
def test_an_unusable_message_is_dropped_and_logged_with_its_type_message_id_and_reason(
    client, system, workspace, wk, app_key, case
):
    message, says = DROPPED[case]
    message = {"messageId": f"m-{case}", **message}
    message_id = message["messageId"] if isinstance(message["messageId"], str) else None
    before = footprint(system, workspace["workspace_id"])
    batch(client, wk, message, {"type": "identify", "userId": "neighbour"})
    assert customer(client, app_key, "neighbour") is not None
    after = footprint(system, workspace["workspace_id"])
    # only the neighbour was written: one person, its id, its profile_create
    assert after["people"] == before["people"] + 1
    assert after["events"] == before["events"]
    assert after["objects"] == before["objects"]
    assert after["devices"] == before["devices"]
    assert customer(client, app_key, "d") is None
    entries = [e for e in ingestion_log(client, app_key) if e.get("message_id") == message_id]
    assert len(entries) == 1, ingestion_log(client, app_key)
    (entry,) = entries
    assert entry["door"] == "segment"
    assert entry.get("type") == message.get("type")
    assert says in entry["reason"], entry


def test_an_unknown_message_type_longer_than_32_characters_is_dropped_and_logged_not_a_500(
    request, client, system, wk, app_key
):
    long_type = "t" * 40
    answer = send(
        client,
        "/v1/batch",
        {
            "batch": [
                {"type": long_type, "userId": "lt", "messageId": "m-long-type"},
                {"type": "identify", "userId": "long-type-neighbour"},
            ]
        },
        wk,
    )
    assert answer.status_code == 200, answer.text
    assert customer(client, app_key, "long-type-neighbour") is not None
    (entry,) = [e for e in ingestion_log(client, app_key) if e.get("message_id") == "m-long-type"]
    assert entry["door"] == "segment"
    assert long_type in entry["reason"]


LONG_TYPE = "x" * 65
LONG_OBJECT_TYPES = {
    "group": {
        "type": "group",
        "userId": "lo",
        "groupId": "g",
        "traits": {"object_type_id": LONG_TYPE},
    },
    "group of an anonymous id": {
        "type": "group",
        "anonymousId": "anon-lo",
        "groupId": "g",
        "traits": {"objectTypeId": LONG_TYPE},
    },
    "identify objectId": {
        "type": "identify",
        "userId": "lo",
        "traits": {"objectId": "g", "object_type_id": LONG_TYPE},
    },
}


@pytest.mark.parametrize("case", list(LONG_OBJECT_TYPES))
def test_a_message_naming_an_object_type_id_over_64_bytes_is_dropped_and_logged_alone(
    request, client, system, workspace, wk, app_key, case
):
    message = {"messageId": f"m-lo-{case}", **LONG_OBJECT_TYPES[case]}
    answer = send(
        client,
        "/v1/batch",
        {"batch": [message, {"type": "identify", "userId": "lo-neighbour"}]},
        wk,
    )
    assert answer.status_code == 200, answer.text
    assert customer(client, app_key, "lo-neighbour") is not None
    stored = rows(
        system,
        "select count(*) from objects where workspace_id = :w and object_type_id = :t",
        w=workspace["workspace_id"],
        t=LONG_TYPE,
    )[0][0]
    related = rows(
        system,
        "select count(*) from relationships where workspace_id = :w and object_type_id = :t",
        w=workspace["workspace_id"],
        t=LONG_TYPE,
    )[0][0]
    (dropped,) = [
        e for e in ingestion_log(client, app_key) if e.get("message_id") == message["messageId"]
    ]
    # docs/decisions.md: object type ids are at most 64 bytes at every door
    assert (stored, related) == (0, 0)
    assert "cannot be longer than 64 bytes" in dropped["reason"], dropped


def test_a_v2_identify_relating_to_an_object_type_id_over_64_bytes_is_a_400_and_writes_nothing(
    request, client, system, workspace, track, app_key
):
    answer = client.post(
        "/api/v2/entity",
        json=v2_person(
            "identify",
            "v2-long-type",
            cio_relationships=[{"identifiers": {"object_type_id": LONG_TYPE, "object_id": "o"}}],
        ),
        headers=track,
    )
    # docs/decisions.md: object type ids are at most 64 bytes at every door
    assert answer.status_code == 400, answer.text
    assert "cannot be longer than 64 bytes" in answer.json()["message"]
    assert customer(client, app_key, "v2-long-type") is None


@pytest.mark.parametrize("object_id", [{"a": 1}, ["a"], True], ids=["object", "array", "bool"])
def test_an_object_id_trait_that_is_not_a_string_or_number_is_dropped_and_logged(
    client, wk, app_key, object_id
):
    ok(
        client,
        "/v1/identify",
        {"userId": "odd-object", "messageId": "m-odd-object", "traits": {"objectId": object_id}},
        wk,
    )
    assert customer(client, app_key, "odd-object") is None  # the whole message is dropped
    logged(client, app_key, "m-odd-object", "objectId", "identify")


@pytest.mark.parametrize("kind", SINGLE)
def test_an_unusable_message_on_a_single_endpoint_is_still_a_200_and_logged(
    client, wk, app_key, kind
):
    message = {
        "messageId": f"m-bad-{kind}",
        "userId": {"no": 1},
        "event": "e",
        "name": "n",
        "groupId": "g",
        "previousId": "p",
    }
    answer = send(client, f"/v1/{kind}", message, wk)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"success": True}
    logged(client, app_key, f"m-bad-{kind}", "userId", kind)


def test_explicit_nulls_everywhere_are_accepted_as_absent(client, system, workspace, wk, app_key):
    nulls = {"context": None, "integrations": None, "timestamp": None, "messageId": None}
    batch(
        client,
        wk,
        {"type": "identify", "userId": "nully", "anonymousId": None, "traits": None, **nulls},
        {
            "type": "track",
            "userId": None,
            "anonymousId": "anon-null",
            "event": "E",
            "properties": None,
            **nulls,
        },
        {
            "type": "track",
            "userId": "nully",
            "anonymousId": None,
            "event": "F",
            "properties": None,
            **nulls,
        },
        {"type": "page", "userId": "nully", "name": "P", "properties": None, **nulls},
        {"type": "screen", "userId": "nully", "name": "S", "properties": None, **nulls},
        {"type": "group", "userId": "nully", "groupId": "gn", "traits": None, **nulls},
        {"type": "alias", "userId": "nully", "previousId": "anon-null", **nulls},
        context=None,
        integrations=None,
        sentAt=None,
        writeKey=None,
    )
    ok(
        client,
        "/v1/identify",
        {
            "userId": "nully",
            "traits": {"plan": None, "city": "Rome"},
            "context": None,
            "anonymousId": None,
            "timestamp": None,
            "integrations": None,
        },
        wk,
    )
    found = customer(client, app_key, "nully")
    assert found["attributes"]["city"] == "Rome"
    assert "plan" not in found["attributes"]
    assert found["anonymous_ids"] == ["anon-null"]
    assert sorted(
        (e["type"], e["name"], e.get("data")) for e in events(client, app_key, "nully")
    ) == [
        ("event", "E", {}),
        ("event", "F", {}),
        ("page", "P", {}),
        ("screen", "S", {}),
    ]
    assert the_object(client, app_key, "1", "gn")["attributes"] == {}
    assert [e for e in ingestion_log(client, app_key) if "must be" in e["reason"]] == []


# -- suppressed identifiers (I9.2, docs/api.md §5) ------------------------------------------------


def test_an_identify_for_a_suppressed_user_id_is_dropped_and_logged_only_as_a_hash(
    client, wk, app_key, track
):
    secret = "suppressed-user-7f3a"
    secret_email = "hidden.person@example.com"
    ok(client, "/v1/identify", {"userId": secret, "traits": {"email": secret_email}}, wk)
    suppress = {"type": "person", "action": "suppress", "identifiers": {"id": secret}}
    assert client.post("/api/v2/entity", json=suppress, headers=track).status_code == 200
    assert customer(client, app_key, secret) is None

    ok(
        client,
        "/v1/identify",
        {"userId": secret, "messageId": "m-suppressed", "traits": {"plan": "back"}},
        wk,
    )
    ok(
        client,
        "/v1/identify",
        {
            "userId": "new-face",
            "messageId": "m-suppressed-email",
            "traits": {"email": secret_email.upper()},
        },
        wk,
    )
    ok(client, "/v1/track", {"userId": secret, "event": "Sneaky", "messageId": "m-sup-track"}, wk)

    assert customer(client, app_key, secret) is None
    assert client.get(f"/v1/customers?email={secret_email}", headers=app_key).json() == {
        "results": []
    }
    for message_id, type_ in (
        ("m-suppressed", "identify"),
        ("m-suppressed-email", "identify"),
        ("m-sup-track", "track"),
    ):
        entry = logged(client, app_key, message_id, "suppressed", type_)
        assert len(entry["identifier_hash"]) == 64
    whole_log = client.get("/api/ingestion-log?limit=1000", headers=app_key).text
    assert secret not in whole_log
    assert secret_email not in whole_log.lower()
    assert secret_email.upper() not in whole_log


# -- the ingestion log (docs/api.md §5) -----------------------------------------------------------


def test_the_ingestion_log_pages_newest_first_with_limit_and_next(client, wk, app_key):
    batch(
        client,
        wk,
        *[{"type": "nonsense", "messageId": f"page-{n}", "userId": "x"} for n in range(5)],
    )
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        answer = client.get(f"/api/ingestion-log?limit=2&start={cursor}", headers=app_key)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert len(body["entries"]) <= 2
        for entry in body["entries"]:
            assert {"id", "received_at", "door", "reason"} <= set(entry)
        seen += [e["message_id"] for e in body["entries"]]
        pages += 1
        if not body["next"]:
            break
        cursor = body["next"]
        assert pages < 10
    assert seen == [f"page-{n}" for n in reversed(range(5))]
    assert pages == 3
    whole = client.get("/api/ingestion-log", headers=app_key).json()
    assert [e["message_id"] for e in whole["entries"]] == seen
    assert whole["next"] == ""


def test_a_bad_ingestion_log_limit_or_start_is_a_400_with_code_and_message(client, app_key):
    for query in (
        "limit=0",
        "limit=-1",
        "limit=1001",
        "limit=abc",
        "limit=",
        "start=abc",
        "start=-5",
    ):
        assert_error(client.get(f"/api/ingestion-log?{query}", headers=app_key), 400, label=query)
    assert client.get("/api/ingestion-log?limit=1000", headers=app_key).status_code == 200
    assert client.get("/api/ingestion-log?limit=1", headers=app_key).status_code == 200


def test_the_ingestion_log_needs_the_app_api_key_and_shows_only_its_workspace(
    client, system, workspace, wk, app_key
):
    batch(client, wk, {"type": "nonsense", "messageId": "mine"})
    for headers in ({}, wk, {"Authorization": f"Bearer {workspace['write_key']}"}):
        assert_error(client.get("/api/ingestion-log", headers=headers), 401)
    other = system.workspaces.create(f"log-{workspace['workspace_id']}")
    theirs = client.get(
        "/api/ingestion-log", headers={"Authorization": f"Bearer {other['app_api_key']}"}
    )
    assert theirs.json() == {"entries": [], "next": ""}
    assert [e["message_id"] for e in ingestion_log(client, app_key)] == ["mine"]


# -- Track API v2: the actions test_track_v2.py leaves out (docs/api.md §2) -----------------------


def test_v2_page_screen_and_content_actions_are_stored_as_events(client, track, app_key):
    entity(
        client,
        track,
        v2_person(
            "page", name="https://example.com/a", attributes={"ref": "x"}, timestamp=ISO_SECONDS
        ),
    )
    entity(client, track, v2_person("screen", name="Settings", timestamp=ISO_SECONDS + 1))
    entity(
        client,
        track,
        v2_person("viewed_content", attributes={"contentId": 1}, timestamp=ISO_SECONDS + 2),
    )
    entity(
        client,
        track,
        v2_person("clicked_content", attributes={"contentId": 1}, timestamp=ISO_SECONDS + 3),
    )
    stored = events(client, app_key, "v2")
    assert [(e["type"], e["name"], e["data"]) for e in stored] == [
        ("page", "https://example.com/a", {"ref": "x"}),
        ("screen", "Settings", {}),
        ("event", "viewed_content", {"contentId": 1}),
        ("event", "clicked_content", {"contentId": 1}),
    ]


def test_v2_person_add_relationships_and_delete_device(client, track, app_key):
    entity(
        client,
        track,
        v2_person(
            "add_relationships",
            cio_relationships=[
                {
                    "identifiers": {"object_type_id": "1", "object_id": "co"},
                    "relationship_attributes": {"seat": "a"},
                },
                {"identifiers": {"object_type_id": "2", "object_id": "co"}},
            ],
        ),
    )
    assert sorted(
        (r["object_type_id"], r["attributes"])
        for r in customer(client, app_key, "v2")["relationships"]
    ) == [("1", {"seat": "a"}), ("2", {})]
    assert [r["id"] for r in the_object(client, app_key, "2", "co")["relationships"]] == ["v2"]

    entity(client, track, v2_person("add_device", device={"token": "dt", "platform": "ios"}))
    entity(client, track, v2_person("add_device", device={"token": "keep", "platform": "android"}))
    entity(client, track, v2_person("delete_device", device={"token": "dt"}))
    assert [d["id"] for d in customer(client, app_key, "v2")["devices"]] == ["keep"]


def test_v2_unsuppress_frees_a_suppressed_id(client, track, app_key):
    entity(client, track, v2_person("identify", "sup", attributes={"plan": "a"}))
    entity(client, track, v2_person("suppress", "sup"))
    entity(client, track, v2_person("identify", "sup", attributes={"plan": "b"}))
    assert customer(client, app_key, "sup") is None
    entity(client, track, v2_person("unsuppress", "sup"))
    entity(client, track, v2_person("identify", "sup", attributes={"plan": "c"}))
    assert customer(client, app_key, "sup")["attributes"]["plan"] == "c"


def test_v2_object_identify_anonymous_relates_an_anonymous_id_that_later_becomes_a_person(
    client, track, app_key
):
    entity(
        client,
        track,
        {
            "type": "object",
            "action": "identify_anonymous",
            "identifiers": {"object_type_id": "1", "object_id": "anon-co"},
            "attributes": {"name": "Anon Co", "anonymous_id": "a-v2"},
            "cio_relationships": [
                {"identifiers": {"anonymous_id": "a-v2"}, "relationship_attributes": {"r": 1}}
            ],
        },
    )
    found = the_object(client, app_key, "1", "anon-co")
    assert found["attributes"] == {"name": "Anon Co"}
    assert found["relationships"] == []
    assert found["anonymous_relationships"] == [
        {"anonymous_id": "a-v2", "relationship_attributes": {"r": 1}}
    ]
    entity(client, track, v2_person("identify", "became", attributes={"anonymous_id": "a-v2"}))
    found = the_object(client, app_key, "1", "anon-co")
    assert [(r["id"], r["relationship_attributes"]) for r in found["relationships"]] == [
        ("became", {"r": 1})
    ]
    assert found["anonymous_relationships"] == []


def test_v2_object_add_and_delete_relationships(client, track, app_key):
    key = {"object_type_id": "4", "object_id": "club"}
    entity(
        client,
        track,
        {
            "type": "object",
            "action": "add_relationships",
            "identifiers": key,
            "cio_relationships": [
                {"identifiers": {"id": "one"}, "relationship_attributes": {"rank": 1}},
                {"identifiers": {"email": "two@example.com"}},
            ],
        },
    )
    related = the_object(client, app_key, "4", "club")["relationships"]
    assert sorted(
        ((r["id"], r["email"], r["relationship_attributes"]) for r in related), key=str
    ) == [
        ("one", None, {"rank": 1}),
        (None, "two@example.com", {}),
    ]
    entity(
        client,
        track,
        {
            "type": "object",
            "action": "delete_relationships",
            "identifiers": key,
            "cio_relationships": [{"identifiers": {"id": "one"}}],
        },
    )
    related = the_object(client, app_key, "4", "club")["relationships"]
    assert [r["email"] for r in related] == ["two@example.com"]
    assert customer(client, app_key, "one")["relationships"] == []


def test_v2_delivery_event_is_stored_as_workspace_activity(client, system, workspace, track):
    entity(
        client,
        track,
        {
            "type": "delivery",
            "action": "event",
            "identifiers": {"id": "dlv-9"},
            "name": "opened",
            "timestamp": ISO_SECONDS,
            "attributes": {"recipient": "r@example.com"},
        },
    )
    (stored,) = rows(
        system,
        "select name, data from activities where workspace_id = :w and type = 'delivery_event'",
        w=workspace["workspace_id"],
    )
    data = stored.data if isinstance(stored.data, dict) else json.loads(stored.data)
    assert stored.name == "opened"
    assert data["identifiers"] == {"id": "dlv-9"}


def v2_over_limit(path: str) -> bytes:
    if path == "/api/v2/entity":
        op = v2_person("identify", "too-big", attributes={f"a{n}": "x" * 900 for n in range(37)})
        raw = orjson.dumps(op)
        assert 32 * 1024 < len(raw) < 64 * 1024
        return raw
    items = [
        v2_person("identify", f"too-big{n}" if n else "too-big", attributes={"pad": "x" * 900})
        for n in range(600)
    ]
    raw = orjson.dumps({"batch": items})
    assert 500 * 1024 < len(raw) < 1_000_000
    return raw


@pytest.mark.parametrize(
    ("path", "chunked"),
    [
        ("/api/v2/entity", False),
        ("/api/v2/batch", False),
        pytest.param("/api/v2/entity", True, id="/api/v2/entity-chunked"),
        pytest.param("/api/v2/batch", True, id="/api/v2/batch-chunked"),
    ],
)
def test_a_v2_body_over_its_limit_is_a_400_and_writes_nothing(
    client, system, workspace, track, app_key, path, chunked
):
    raw = v2_over_limit(path)
    before = footprint(system, workspace["workspace_id"])

    def chunks() -> Iterator[bytes]:  # no Content-Length header: sent chunked
        for start in range(0, len(raw), 8192):
            yield raw[start : start + 8192]

    content: Any = chunks() if chunked else raw
    answer = client.post(path, content=content, headers=track)
    body = assert_error(answer, 400, says="larger than")
    assert set(body["errors"][0]) == {"reason", "field", "message"}
    assert footprint(system, workspace["workspace_id"]) == before
    assert customer(client, app_key, "too-big") is None


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (ISO_SECONDS, ISO_SECONDS),
        (str(ISO_SECONDS), ISO_SECONDS),
        (ISO, ISO_SECONDS),
        ("2024-03-15T13:00:00+01:00", ISO_SECONDS),
        ("garbage", None),
        ("", None),
        (True, None),
        ({"at": 1}, None),
    ],
    ids=["integer", "digit string", "iso", "iso with offset", "garbage", "empty", "bool", "object"],
)
def test_a_v2_timestamp_is_used_when_it_parses_and_ignored_otherwise(
    client, track, app_key, timestamp, expected
):
    before = int(time.time())
    entity(client, track, v2_person("event", "stamped", name="Timed", timestamp=timestamp))
    entity(
        client,
        track,
        v2_person("identify", "stamped", attributes={"plan": "p"}, timestamp=timestamp),
    )
    after = int(time.time()) + 1
    (event,) = events(client, app_key, "stamped")
    found = customer(client, app_key, "stamped")
    assert found["attributes"]["plan"] == "p"
    if expected is None:
        assert before <= event["timestamp"] <= after
        assert before <= found["timestamps"]["plan"] <= after
    else:
        assert event["timestamp"] == expected
        assert found["timestamps"]["plan"] == expected
