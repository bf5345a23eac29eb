"""Segment's Webhooks destinations posting to /segment/webhook/{id}: signatures, shapes, limits."""

from __future__ import annotations

import gzip
import hashlib
import hmac
from typing import Any

import orjson

from tests.api.calls import customer


def _url(workspace: dict[str, Any]) -> str:
    return f"/segment/webhook/{workspace['webhook_id']}"


def _sign(workspace: dict[str, Any], data: bytes) -> dict[str, str]:
    secret = workspace["webhook_secret"].encode()
    return {
        "X-Signature": hmac.new(secret, data, hashlib.sha1).hexdigest(),
        "Content-Type": "application/json",
    }


def test_one_signed_message_is_applied(client, workspace, app_key):
    body = orjson.dumps({"type": "identify", "userId": "w1", "traits": {"plan": "pro"}})
    answer = client.post(_url(workspace), content=body, headers=_sign(workspace, body))
    assert answer.status_code == 200
    assert answer.json() == {"success": True}
    assert customer(client, app_key, "w1")["attributes"]["plan"] == "pro"


def test_an_array_is_signed_by_the_exact_bytes_of_its_first_element(client, workspace, app_key):
    first = b'{ "type": "identify",  "userId": "w2" }'
    body = b"[ " + first + b' ,\n {"type": "track", "userId": "w2", "event": "Signed Up"} ]'
    answer = client.post(_url(workspace), content=body, headers=_sign(workspace, first))
    assert answer.status_code == 200
    events = client.get("/v1/customers/w2/activities?type=event", headers=app_key).json()
    assert [a["name"] for a in events["activities"]] == ["Signed Up"]


def test_a_batch_object_with_a_write_key_header_is_applied(client, workspace, app_key):
    body = {"batch": [{"type": "identify", "userId": "w3", "traits": {"email": "w3@example.com"}}]}
    answer = client.post(
        _url(workspace), json=body, headers={"Authorization": f"Bearer {workspace['write_key']}"}
    )
    assert answer.status_code == 200
    assert customer(client, app_key, "w3")["identifiers"]["email"] == "w3@example.com"


def test_gzip_bodies_are_signed_over_the_decompressed_bytes(client, workspace, app_key):
    body = orjson.dumps({"type": "identify", "userId": "w4"})
    headers = {**_sign(workspace, body), "Content-Encoding": "gzip"}
    answer = client.post(_url(workspace), content=gzip.compress(body), headers=headers)
    assert answer.status_code == 200
    assert customer(client, app_key, "w4") is not None


def test_a_deletion_notice_deletes_the_person(client, workspace, app_key, track):
    client.put("/api/v1/customers/w5", json={"plan": "x"}, headers=track)
    body = orjson.dumps({"type": "delete", "userId": "w5"})
    assert (
        client.post(_url(workspace), content=body, headers=_sign(workspace, body)).status_code
        == 200
    )
    assert customer(client, app_key, "w5") is None


def test_a_wrong_signature_is_401_and_writes_nothing(client, workspace, app_key):
    body = orjson.dumps({"type": "identify", "userId": "w6"})
    bad = {"X-Signature": "0" * 40}
    answer = client.post(_url(workspace), content=body, headers=bad)
    assert answer.status_code == 401
    assert set(answer.json()) == {"code", "message"}
    assert customer(client, app_key, "w6") is None


def test_no_signature_and_no_key_is_401(client, workspace):
    answer = client.post(_url(workspace), json={"type": "identify", "userId": "w7"})
    assert answer.status_code == 401


def test_another_workspaces_write_key_is_refused(client, system, workspace):
    other = system.workspaces.create(f"other-{workspace['webhook_id'][:8]}")
    answer = client.post(
        _url(workspace),
        json={"type": "identify", "userId": "w8"},
        headers={"Authorization": f"Bearer {other['write_key']}"},
    )
    assert answer.status_code == 401


def test_an_unknown_webhook_is_401(client):
    answer = client.post("/segment/webhook/nope", json={"type": "identify", "userId": "x"})
    assert answer.status_code == 401


def test_more_than_4000_messages_is_400(client, workspace):
    body = orjson.dumps([{"type": "track", "userId": "u", "event": "e"}] * 4001)
    first = orjson.dumps({"type": "track", "userId": "u", "event": "e"})
    answer = client.post(_url(workspace), content=body, headers=_sign(workspace, first))
    assert answer.status_code == 400
    assert "4000" in answer.json()["message"]


def test_unusable_messages_are_logged_with_the_webhook_door(client, workspace, app_key):
    body = orjson.dumps({"type": "track", "userId": "w9", "messageId": "m-9"})
    assert (
        client.post(_url(workspace), content=body, headers=_sign(workspace, body)).status_code
        == 200
    )
    log = client.get("/api/ingestion-log", headers=app_key).json()["entries"]
    assert log[0]["door"] == "webhook"
    assert log[0]["message_id"] == "m-9"
    assert "event name" in log[0]["reason"]
