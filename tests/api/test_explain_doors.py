"""POST /api/explain (docs/api.md §5) for the App API's writes and Segment's webhook door: what
each would do, with nothing written, and that the call then does it. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson
import pytest

from roster.services.system import System
from tests.api.calls import customer
from tests.api.test_explain import (
    ADA_EMAIL,
    ADA_ID,
    GRACE_EMAIL,
    GRACE_ID,
    explain,
    nothing_written,
)

BOB = "bob-1"
MERGE = {"primary": {"id": ADA_ID}, "secondary": {"id": GRACE_ID}}


@pytest.fixture
def ada_and_grace(client: Any, track: dict[str, str], app_key: dict[str, str]) -> dict[str, str]:
    """Two people, each with an id and an email; their cio_ids by id."""
    cio_ids = {}
    for id_, email in ((ADA_ID, ADA_EMAIL), (GRACE_ID, GRACE_EMAIL)):
        client.put(f"/api/v1/customers/{id_}", json={"email": email}, headers=track)
        cio_ids[id_] = customer(client, app_key, id_)["identifiers"]["cio_id"]
    return cio_ids


def test_explain_of_a_merge_names_both_people_and_what_the_merge_logs(
    client: Any,
    app_key: dict[str, str],
    system: System,
    workspace: Any,
    ada_and_grace: dict[str, str],
) -> None:
    before = nothing_written(system, workspace["workspace_id"])

    said = explain(
        client, app_key, door="app", method="POST", path="/v1/merge_customers", body=MERGE
    )

    assert nothing_written(system, workspace["workspace_id"]) == before
    assert said["answer"] == {"status": 200, "body": {}}
    [message] = said["messages"]
    assert message["person"] == {"cio_id": ada_and_grace[ADA_ID], "new": False}
    assert [rule["rule"] for rule in message["rules"]] == ["I6.2"]
    assert [(a["person"]["cio_id"], a["type"]) for a in said["activities"]] == [
        (ada_and_grace[ADA_ID], "profile_merge"),
        (ada_and_grace[GRACE_ID], "profile_merge"),
    ]

    # and that is what the call then does
    assert client.post("/v1/merge_customers", json=MERGE, headers=app_key).status_code == 200
    assert customer(client, app_key, GRACE_ID) is None


def test_explain_of_a_merge_the_app_api_refuses_gives_the_404_and_rule_i6_1(
    client: Any, app_key: dict[str, str], ada_and_grace: dict[str, str]
) -> None:
    call = {"primary": {"id": ADA_ID}, "secondary": {"id": "nobody"}}

    said = explain(
        client, app_key, door="app", method="POST", path="/v1/merge_customers", body=call
    )

    real = client.post("/v1/merge_customers", json=call, headers=app_key)
    assert said["answer"] == {"status": 404, "body": real.json()}
    [message] = said["messages"]
    assert message["applied"] is False
    assert message["reason"] == "no secondary person with id 'nobody'"
    assert message["rules"] == [
        {"rule": "I6.1", "why": "merge refused: no secondary person with id 'nobody'"}
    ]
    assert said["activities"] == []


def test_explain_of_an_unmerge_answers_both_people_as_the_unmerge_would_leave_them(
    client: Any,
    app_key: dict[str, str],
    system: System,
    workspace: Any,
    ada_and_grace: dict[str, str],
) -> None:
    client.post("/v1/merge_customers", json=MERGE, headers=app_key)
    before = nothing_written(system, workspace["workspace_id"])
    path = f"/v1/customers/{ADA_ID}/unmerge"

    said = explain(client, app_key, door="app", method="POST", path=path)

    assert nothing_written(system, workspace["workspace_id"]) == before
    assert customer(client, app_key, GRACE_ID) is None
    [message] = said["messages"]
    assert [rule["rule"] for rule in message["rules"]] == ["I6.4"]
    assert [a["type"] for a in said["activities"]] == ["profile_unmerge"] * 2
    real = client.post(path, headers=app_key)
    assert said["answer"] == {"status": 200, "body": real.json()}
    assert real.json()["secondary"] == {
        "id": GRACE_ID,
        "email": GRACE_EMAIL,
        "cio_id": ada_and_grace[GRACE_ID],
    }


def test_explain_of_a_delete_by_list_counts_each_entry_and_logs_who_would_go(
    client: Any,
    app_key: dict[str, str],
    system: System,
    workspace: Any,
    ada_and_grace: dict[str, str],
) -> None:
    before = nothing_written(system, workspace["workspace_id"])
    # Ada twice: the second time, she is gone (the entries are applied in order).
    call = {"ids": [ADA_ID, ADA_ID, "nobody", "undefined"], "id_type": "id"}
    by_email = {"ids": [ADA_EMAIL], "id_type": "email"}

    said = explain(
        client, app_key, door="app", method="POST", path="/v1/customers/delete", body=call
    )
    again = explain(
        client, app_key, door="app", method="POST", path="/v1/customers/delete", body=by_email
    )

    assert nothing_written(system, workspace["workspace_id"]) == before
    assert [a["type"] for a in said["activities"]] == ["profile_delete"]
    assert said["activities"][0]["person"] == {"cio_id": ada_and_grace[ADA_ID], "new": False}
    assert [m["rules"][-1]["rule"] for m in said["messages"]] == ["I9.1", "I8.1", "I8.1"]
    assert [entry["reason"] for entry in said["ingestion_log"]] == [
        f"no person has id '{ADA_ID}': nothing was changed",
        "no person has id 'nobody': nothing was changed",
    ]
    real = client.post("/v1/customers/delete", json=call, headers=app_key)
    assert said["answer"] == {"status": 200, "body": real.json()}
    assert real.json()["deleted"] == 1 and real.json()["not_found"] == 2
    assert again["answer"]["body"]["deleted"] == 1  # before the first list was sent


def test_explain_of_a_send_to_an_unknown_id_creates_the_person_and_records_the_message(
    client: Any, app_key: dict[str, str], system: System, workspace: Any
) -> None:
    """The outbox's send is several writer requests (look for the person, create them, record
    the message): the rehearsal of each sees what the ones before would have written."""
    before = nothing_written(system, workspace["workspace_id"])
    call = {"transactional_message_id": 3, "identifiers": {"id": BOB}, "to": "bob@example.com"}

    said = explain(client, app_key, door="app", method="POST", path="/v1/send/email", body=call)

    assert nothing_written(system, workspace["workspace_id"]) == before
    assert said["answer"]["status"] == 200
    assert set(said["answer"]["body"]) == {"delivery_id", "queued_at"}
    new = {"cio_id": None, "new": True}
    [message] = said["messages"]
    assert message["person"] == new and message["rules"][0]["rule"] == "I3.5"
    assert [(a["person"], a["type"]) for a in said["activities"]] == [
        (new, "profile_create"),
        (new, "attribute_change"),
        (new, "sent_email"),
    ]

    real = client.post("/v1/send/email", json=call, headers=app_key)
    assert real.status_code == 200
    assert customer(client, app_key, BOB) is not None


def test_explain_of_an_unsuppress_lists_the_entries_it_would_free_by_hash(
    client: Any,
    track: dict[str, str],
    app_key: dict[str, str],
    system: System,
    workspace: Any,
    ada_and_grace: dict[str, str],
) -> None:
    client.post(f"/api/v1/customers/{ADA_ID}/suppress", headers=track)
    listed = client.get("/api/suppressions", headers=app_key).json()["suppressions"]
    before = nothing_written(system, workspace["workspace_id"])
    suppress = f"/api/v1/customers/{GRACE_ID}/suppress"

    said = explain(
        client,
        app_key,
        door="app",
        method="POST",
        path="/api/suppressions/unsuppress",
        body={"email": ADA_EMAIL},
    )
    grace = explain(client, app_key, door="track_v1", method="POST", path=suppress)

    assert nothing_written(system, workspace["workspace_id"]) == before
    assert said["answer"] == {"status": 200, "body": {"unsuppressed": 3}}
    assert {(s["change"], s["hash"], s["group"]) for s in said["suppressions"]} == {
        ("removed", entry["hash"], entry["group"]) for entry in listed
    }
    assert [s["change"] for s in grace["suppressions"]] == ["added"] * 3
    assert ADA_EMAIL not in str(said) and GRACE_EMAIL not in str(grace["suppressions"])
    real = client.post("/api/suppressions/unsuppress", json={"email": ADA_EMAIL}, headers=app_key)
    assert said["answer"]["body"] == real.json()
    assert client.get("/api/suppressions", headers=app_key).json()["suppressions"] == []


def test_explain_of_a_webhook_call_needs_no_signature_and_says_what_it_would_do(
    client: Any, app_key: dict[str, str], system: System, workspace: Any
) -> None:
    before = nothing_written(system, workspace["workspace_id"])
    body = [
        {"type": "identify", "userId": BOB, "messageId": "w-1", "traits": {"plan": "pro"}},
        {"type": "track", "userId": BOB, "messageId": "w-2"},  # no event name: dropped
    ]
    # Any webhook id: the call is explained for the workspace of the App API key.
    path = "/segment/webhook/not-this-workspaces"

    said = explain(client, app_key, door="webhook", method="POST", path=path, body=body)
    forged = explain(
        client, app_key, door="webhook", method="POST", path=path, body=body,
        headers={"X-Signature": "0" * 40},
    )  # fmt: skip

    assert nothing_written(system, workspace["workspace_id"]) == before
    assert said["answer"] == {"status": 200, "body": {"success": True}}
    by_id = {message["message_id"]: message for message in said["messages"]}
    assert by_id["w-1"]["person"] == {"cio_id": None, "new": True}
    assert by_id["w-2"]["applied"] is False
    assert [(c["attribute"], c["to"]) for c in said["changes"]] == [("id", BOB), ("plan", "pro")]
    assert forged["answer"]["status"] == 401
    assert "X-Signature" in forged["answer"]["body"]["message"]

    raw = orjson.dumps(body)
    secret = workspace["webhook_secret"].encode()
    signature = hmac.new(secret, orjson.dumps(body[0]), hashlib.sha1).hexdigest()
    real = client.post(
        f"/segment/webhook/{workspace['webhook_id']}",
        content=raw,
        headers={"X-Signature": signature, "Content-Type": "application/json"},
    )
    assert said["answer"] == {"status": real.status_code, "body": real.json()}
    assert customer(client, app_key, BOB)["attributes"]["plan"] == "pro"


@pytest.mark.parametrize(
    ("door", "method", "path", "other"),
    [
        ("app", "PUT", f"/api/v1/customers/{ADA_ID}", "track_v1"),
        ("app", "POST", "/v1/identify", "segment"),
        ("app", "POST", "/segment/webhook/x", "webhook"),
        ("webhook", "POST", "/v1/batch", "segment"),
        ("segment", "POST", "/v1/merge_customers", "app"),
        ("track_v1", "POST", "/api/suppressions/unsuppress", "app"),
        ("track_v2", "POST", "/v1/customers/delete?x=1", "app"),
    ],
)
def test_a_path_of_another_door_is_400_naming_that_door(
    client: Any, app_key: dict[str, str], door: str, method: str, path: str, other: str
) -> None:
    spec = {"door": door, "method": method, "path": path}

    answer = client.post("/api/explain", json=spec, headers=app_key)

    assert answer.status_code == 400, answer.text
    assert answer.json()["message"] == f"{path} is a call of the {other} door"


@pytest.mark.parametrize(
    ("method", "path"),
    [("PATCH", "/api/workspace/settings"), ("POST", "/api/explain"), ("GET", "/healthz")],
)
def test_a_call_of_roster_that_no_door_has_is_400_naming_the_path(
    client: Any, app_key: dict[str, str], method: str, path: str
) -> None:
    spec = {"door": "app", "method": method, "path": path}

    answer = client.post("/api/explain", json=spec, headers=app_key)

    assert answer.status_code == 400, answer.text
    assert answer.json()["message"].startswith(f"{path} is none of the doors' calls")


def test_explain_of_a_list_longer_than_a_batch_answers_as_the_batches_would(
    client: Any,
    app_key: dict[str, str],
    system: System,
    workspace: Any,
    ada_and_grace: dict[str, str],
) -> None:
    """A list is deleted 500 entries at a time, each batch committed before the next: Ada named
    again in the second batch is not found there. Explain, which commits nothing, says so."""
    before = nothing_written(system, workspace["workspace_id"])
    call = {"ids": [ADA_ID] + [f"nobody-{n}" for n in range(499)] + [ADA_ID, GRACE_ID]}

    said = explain(
        client, app_key, door="app", method="POST", path="/v1/customers/delete", body=call
    )

    assert nothing_written(system, workspace["workspace_id"]) == before
    real = client.post("/v1/customers/delete", json=call, headers=app_key)
    assert real.json() == {"deleted": 2, "not_found": 500, "refused": []}
    assert said["answer"] == {"status": 200, "body": real.json()}


def test_explain_of_an_export_records_nothing(
    client: Any,
    app_key: dict[str, str],
    system: System,
    workspace: Any,
    ada_and_grace: dict[str, str],
) -> None:
    before = nothing_written(system, workspace["workspace_id"])
    call = {"filters": {"attribute": {"field": "email", "operator": "exists"}}}

    said = explain(
        client, app_key, door="app", method="POST", path="/v1/exports/customers", body=call
    )

    assert nothing_written(system, workspace["workspace_id"]) == before
    assert said["answer"]["status"] == 200
    assert said["answer"]["body"]["export"]["total"] == 2
    real = client.post("/v1/exports/customers", json=call, headers=app_key).json()
    assert {**said["answer"]["body"]["export"], "id": None, "created_at": None} == {
        **real["export"],
        "id": None,
        "created_at": None,
    }
