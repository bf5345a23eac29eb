"""Input that once reached a 500, now refused at the door on SQLite and PostgreSQL: JSON nested
past the limit (docs/api.md §0), paging cursors beyond 64 bits, odd signatures and credentials,
NUL characters in what the database would compare."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from roster.domain.limits import JSON_MAX_DEPTH
from tests.api.conftest import basic
from tests.api.stored import footprint, logged


def nested(depth: int) -> Any:
    """A value `depth` containers deep, objects and arrays in turn."""
    value: Any = "leaf"
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    return value


def identify_body(depth: int) -> dict[str, Any]:
    """An identify body whose own object is one level: the attribute takes the rest."""
    return {"plan": nested(depth - 1)}


def deep_identify_text(depth: int) -> bytes:
    """The same as JSON text, built as text: no encoder recurses through it."""
    inner = "[" * (depth - 1) + '"leaf"' + "]" * (depth - 1)
    return ('{"plan": ' + inner + "}").encode()


@pytest.fixture
def wk(workspace):
    return basic(workspace["write_key"], "")


def test_the_deepest_identify_accepted_can_still_be_merged_updated_and_read(client, track, app_key):
    deepest = identify_body(JSON_MAX_DEPTH)
    assert client.put("/api/v1/customers/deep", json=deepest, headers=track).status_code == 200
    # A dotted name adds as many levels as it has dots: the stored value is deeper still.
    dotted = {".".join(["d"] * 70): nested(JSON_MAX_DEPTH - 1)}
    assert client.put("/api/v1/customers/deep", json=dotted, headers=track).status_code == 200
    client.put("/api/v1/customers/keeper", json={"email": "k@example.com"}, headers=track)

    merged = client.post(
        "/api/v1/merge_customers",
        json={"primary": {"id": "keeper"}, "secondary": {"id": "deep"}},
        headers=track,
    )
    assert merged.status_code == 200, merged.text
    assert client.put("/api/v1/customers/keeper", json={"n": 1}, headers=track).status_code == 200
    read = client.get("/v1/customers/keeper/attributes", headers=app_key)
    assert read.status_code == 200
    assert json.loads(read.json()["customer"]["attributes"]["plan"]) == deepest["plan"]
    assert client.get("/v1/customers/keeper/activities", headers=app_key).status_code == 200


@pytest.mark.parametrize("depth", [JSON_MAX_DEPTH + 1, 252, 1000])
def test_a_track_v1_body_nested_past_the_limit_is_a_400_saying_so_and_writes_nothing(
    client, system, workspace, track, depth
):
    before = footprint(system, workspace["workspace_id"])

    answer = client.put("/api/v1/customers/deep", content=deep_identify_text(depth), headers=track)

    assert answer.status_code == 400
    assert f"more than {JSON_MAX_DEPTH} levels" in answer.json()["meta"]["errors"][0]
    assert footprint(system, workspace["workspace_id"]) == before


@pytest.mark.parametrize("path", ["/api/v2/entity", "/api/v2/batch"])
def test_a_track_v2_body_nested_past_the_limit_is_a_400_saying_so_and_writes_nothing(
    client, system, workspace, track, path
):
    op = {
        "type": "person",
        "action": "identify",
        "identifiers": {"id": "deep"},
        "attributes": {"a": nested(200)},
    }
    before = footprint(system, workspace["workspace_id"])

    answer = client.post(
        path, json={"batch": [op]} if path.endswith("batch") else op, headers=track
    )

    assert answer.status_code == 400
    assert f"more than {JSON_MAX_DEPTH} levels" in answer.json()["errors"][0]["message"]
    assert footprint(system, workspace["workspace_id"]) == before


def test_a_segment_message_nested_past_the_limit_is_dropped_and_logged_and_the_rest_applied(
    client, system, workspace, wk, app_key
):
    deep = {"type": "identify", "userId": "deep", "traits": {"a": nested(300)}}
    alias = {"type": "alias", "userId": "fine", "previousId": "deep"}
    fine = {"type": "identify", "userId": "fine", "traits": {"plan": "pro"}}
    log_before = logged(system, workspace["workspace_id"])

    answer = client.post("/v1/batch", json={"batch": [deep, alias, fine]}, headers=wk)

    assert answer.status_code == 200
    assert client.get("/v1/customers/deep/attributes", headers=app_key).status_code == 404
    fine_read = client.get("/v1/customers/fine/attributes", headers=app_key).json()
    assert fine_read["customer"]["attributes"]["plan"] == "pro"
    entries = client.get("/api/ingestion-log", headers=app_key).json()["entries"]
    assert logged(system, workspace["workspace_id"]) >= log_before + 1
    assert any(f"more than {JSON_MAX_DEPTH} levels" in e["reason"] for e in entries)


def test_a_segment_batch_whose_context_is_nested_past_the_limit_is_a_400(
    client, system, workspace, wk
):
    body = {"batch": [{"type": "identify", "userId": "u"}], "context": nested(200)}
    before = footprint(system, workspace["workspace_id"])

    answer = client.post("/v1/batch", json=body, headers=wk)

    assert answer.status_code == 400
    assert "context" in answer.json()["message"]
    assert footprint(system, workspace["workspace_id"]) == before


def test_a_single_segment_message_nested_past_the_limit_is_a_400(client, system, workspace, wk):
    before = footprint(system, workspace["workspace_id"])

    answer = client.post("/v1/identify", json={"userId": "u", "traits": nested(300)}, headers=wk)

    assert answer.status_code == 400
    assert f"more than {JSON_MAX_DEPTH} levels" in answer.json()["message"]
    assert footprint(system, workspace["workspace_id"]) == before


def sign(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha1).hexdigest()


def test_a_signed_webhook_array_whose_first_message_is_deep_is_checked_and_that_message_dropped(
    client, system, workspace, app_key
):
    deep = '{"type": "identify", "userId": "deep", "traits": {"a": %s}}' % ("[" * 900 + "]" * 900)
    raw = ("[ " + deep + ', {"type": "identify", "userId": "hooked"}]').encode()
    headers = {"X-Signature": sign(workspace["webhook_secret"], deep.encode())}

    answer = client.post(
        f"/segment/webhook/{workspace['webhook_id']}", content=raw, headers=headers
    )

    assert answer.status_code == 200, answer.text
    assert client.get("/v1/customers/hooked/attributes", headers=app_key).status_code == 200
    assert client.get("/v1/customers/deep/attributes", headers=app_key).status_code == 404


@pytest.mark.parametrize("signature", ["é" * 40, "ÿ", "\x7f" * 40])
def test_a_webhook_signature_beyond_ascii_is_a_401(client, system, workspace, signature):
    before = footprint(system, workspace["workspace_id"])

    answer = client.post(
        f"/segment/webhook/{workspace['webhook_id']}",
        json={"type": "identify", "userId": "u"},
        headers={"X-Signature": signature.encode().decode("latin-1").encode("latin-1")},
    )

    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthorized"
    assert footprint(system, workspace["workspace_id"]) == before


@pytest.mark.parametrize("start", ["²", "١٢", str(2**63), str(10**30), "-1", "1.5"])
@pytest.mark.parametrize(
    "path", ["/api/ingestion-log", "/v1/customers/someone/activities"], ids=["log", "activities"]
)
def test_a_paging_start_that_is_no_cursor_is_a_400_naming_start(
    client, track, app_key, path, start
):
    client.put("/api/v1/customers/someone", json={"a": 1}, headers=track)

    answer = client.get(path, params={"start": start}, headers=app_key)

    assert answer.status_code == 400, answer.text
    assert "start" in answer.json()["message"]


@pytest.mark.parametrize("limit", ["²", str(10**30), "0", "-5", "1e3"])
@pytest.mark.parametrize(
    "path", ["/api/ingestion-log", "/v1/customers/someone/activities"], ids=["log", "activities"]
)
def test_a_paging_limit_out_of_range_is_a_400_naming_limit(client, track, app_key, path, limit):
    client.put("/api/v1/customers/someone", json={"a": 1}, headers=track)

    answer = client.get(path, params={"limit": limit}, headers=app_key)

    assert answer.status_code == 400, answer.text
    assert "limit" in answer.json()["message"]


def test_the_largest_cursor_is_an_empty_page_not_an_error(client, track, app_key):
    client.put("/api/v1/customers/someone", json={"a": 1}, headers=track)
    largest = str(2**63 - 1)

    log = client.get("/api/ingestion-log", params={"start": largest}, headers=app_key)
    assert log.status_code == 200
    # An activities cursor is base64url of JSON [timestamp, source, pk] (docs/api.md §4).
    oldest_edge = base64.urlsafe_b64encode(b'[0, "e", 0]').decode().rstrip("=")
    activities = client.get(
        "/v1/customers/someone/activities", params={"start": oldest_edge}, headers=app_key
    )
    assert activities.status_code == 200
    assert activities.json()["activities"] == []


@pytest.mark.parametrize(
    "key",
    [b'[0, "e", 9223372036854775808]', b'[0, "x", 1]', b'["0", "e", 1]', b"[0, 1]", b"{}", b"\x00"],
)
def test_an_activities_cursor_roster_could_not_have_answered_is_a_400_naming_start(
    client, track, app_key, key
):
    client.put("/api/v1/customers/someone", json={"a": 1}, headers=track)
    start = base64.urlsafe_b64encode(key).decode().rstrip("=")

    answer = client.get(
        "/v1/customers/someone/activities", params={"start": start}, headers=app_key
    )

    assert answer.status_code == 400, answer.text
    assert "start" in answer.json()["message"]


def raw_basic(user: bytes, password: bytes) -> dict[str, bytes]:
    return {"Authorization": b"Basic " + base64.b64encode(user + b":" + password)}


def test_a_nul_in_track_credentials_is_a_401(client, system, workspace):
    before = footprint(system, workspace["workspace_id"])
    site, key = workspace["site_id"].encode(), workspace["track_api_key"].encode()

    for headers in (
        raw_basic(site + b"\x00", key),
        raw_basic(site, key + b"\x00"),
        raw_basic("é".encode(), key),
        {"Authorization": "Basic é".encode()},
    ):
        answer = client.put("/api/v1/customers/u", json={"a": 1}, headers=headers)
        assert answer.status_code == 401, answer.text
        assert client.get("/auth", headers=headers).status_code == 401
    assert footprint(system, workspace["workspace_id"]) == before


def test_a_nul_in_a_segment_write_key_is_a_401(client, system, workspace):
    before = footprint(system, workspace["workspace_id"])
    key = workspace["write_key"]
    message = {"type": "identify", "userId": "u"}

    for headers, body in (
        (raw_basic(key.encode() + b"\x00", b""), message),
        ({"Authorization": f"Bearer {key}\x00".encode()}, message),
        ({}, {"batch": [message], "writeKey": key + "\x00"}),
    ):
        path = "/v1/batch" if "batch" in body else "/v1/identify"
        answer = client.post(path, json=body, headers=headers)
        assert answer.status_code == 401, answer.text
    assert footprint(system, workspace["workspace_id"]) == before


def test_a_nul_in_the_activities_type_filter_is_a_400_naming_type(client, track, app_key):
    client.put("/api/v1/customers/someone", json={"a": 1}, headers=track)

    answer = client.get(
        "/v1/customers/someone/activities", params={"type": "event\x00"}, headers=app_key
    )

    assert answer.status_code == 400
    assert "type" in answer.json()["meta"]["error"]


@pytest.mark.parametrize("door", [{"track_v1": 1}, ["segment"], None, 1])
def test_an_explain_door_that_is_no_name_is_a_400_naming_door(client, app_key, door):
    # Found by tests/api/test_schemathesis.py: an object here was looked up as a key (a 500).
    call = {"door": door, "method": "POST", "path": "/v1/identify", "body": {}}

    answer = client.post("/api/explain", json=call, headers=app_key)

    assert answer.status_code == 400, answer.text
    assert answer.json()["message"].startswith("door must be one of")
