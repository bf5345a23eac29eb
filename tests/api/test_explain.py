"""POST /api/explain (docs/api.md §5): what a call would do, by the rule that decided it, with
nothing written; and what it says agrees with what the call then does. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.services.system import System
from tests.api.calls import basic, customer
from tests.api.odd_input import ODD_JSON
from tests.api.stored import count, footprint, logged

EXPLAIN = "/api/explain"
# What a path or a header may hold as a client sends it (ASCII: explain refuses the rest).
ODD_PATH = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
ODD_HEADER = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
# Ada signed up with both identifiers; Bob is who the caller thinks they are creating.
ADA_ID, ADA_EMAIL = "ada-1", "ada@example.com"
BOB_ID = "bob-1"
GRACE_ID, GRACE_EMAIL = "grace-1", "grace@example.com"


def explain(client: Any, app_key: dict[str, str], **spec: Any) -> dict[str, Any]:
    answer = client.post(EXPLAIN, json=spec, headers=app_key)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    assert found["written"] is False
    return found


def unchanged(system: System, workspace_id: int) -> tuple[Any, ...]:
    """Everything a call could write: the data, the ingestion log, the conflicts counted."""
    return (
        footprint(system, workspace_id),
        logged(system, workspace_id),
        count(system, "conflicts", workspace_id),
    )


def nothing_written(system: System, workspace_id: int) -> tuple[Any, ...]:
    """What any door could write, and what only the App API writes (messages, exports)."""
    return (
        unchanged(system, workspace_id),
        count(system, "outbox", workspace_id),
        count(system, "exports", workspace_id),
    )


def test_explain_says_why_a_call_for_bob_updates_ada_instead_of_creating_bob(
    client: Any, track: dict[str, str], app_key: dict[str, str], system: System, workspace: Any
) -> None:
    client.put(f"/api/v1/customers/{ADA_ID}", json={"email": ADA_EMAIL}, headers=track)
    ada = customer(client, app_key, ADA_ID)["identifiers"]["cio_id"]
    before = unchanged(system, workspace["workspace_id"])
    call = {"email": ADA_EMAIL, "plan": "pro"}

    said = explain(
        client,
        app_key,
        door="track_v1",
        method="PUT",
        path=f"/api/v1/customers/{BOB_ID}",
        body=call,
    )

    assert unchanged(system, workspace["workspace_id"]) == before
    assert customer(client, app_key, BOB_ID) is None
    assert said["answer"] == {"status": 200, "body": {}}
    [message] = said["messages"]
    assert message["person"] == {"cio_id": ada, "new": False}
    assert [rule["rule"] for rule in message["rules"]] == ["I3.3", "I3.3", "I4.1"]
    assert f"the person with email '{ADA_EMAIL}' is the target" in message["rules"][0]["why"]
    assert said["refused"] == [
        {
            "person": {"cio_id": ada, "new": False},
            "attribute": "id",
            "value": BOB_ID,
            "reason": "id cannot be changed without a cio_ reference",
        }
    ]
    assert said["changes"] == [
        {"person": {"cio_id": ada, "new": False}, "attribute": "plan", "from": None, "to": "pro"}
    ]

    # and that is what the call then does
    assert client.put(f"/api/v1/customers/{BOB_ID}", json=call, headers=track).status_code == 200
    assert customer(client, app_key, BOB_ID) is None
    assert customer(client, app_key, ADA_ID)["attributes"]["plan"] == "pro"


def test_explain_says_a_new_person_would_be_created_and_what_they_would_hold(
    client: Any, app_key: dict[str, str], system: System, workspace: Any
) -> None:
    before = unchanged(system, workspace["workspace_id"])

    said = explain(
        client,
        app_key,
        door="track_v1",
        method="PUT",
        path=f"/api/v1/customers/{GRACE_ID}",
        body={"email": GRACE_EMAIL},
    )

    assert unchanged(system, workspace["workspace_id"]) == before
    [message] = said["messages"]
    assert message["person"] == {"cio_id": None, "new": True}
    assert message["rules"][0]["rule"] == "I3.5"
    new = {"cio_id": None, "new": True}
    assert said["changes"] == [
        {"person": new, "attribute": "id", "from": None, "to": GRACE_ID},
        {"person": new, "attribute": "email", "from": None, "to": GRACE_EMAIL},
    ]
    assert [a["type"] for a in said["activities"]] == ["profile_create"] + ["attribute_change"] * 2


def test_explain_names_a_conflict_and_with_strict_mode_the_409_the_call_would_get(
    client: Any, track: dict[str, str], app_key: dict[str, str], system: System, workspace: Any
) -> None:
    client.put(f"/api/v1/customers/{ADA_ID}", json={"email": ADA_EMAIL}, headers=track)
    client.put(f"/api/v1/customers/{GRACE_ID}", json={}, headers=track)
    ada = customer(client, app_key, ADA_ID)["identifiers"]["cio_id"]
    grace = customer(client, app_key, GRACE_ID)["identifiers"]["cio_id"]
    before = unchanged(system, workspace["workspace_id"])
    call = {
        "door": "track_v1",
        "method": "PUT",
        "path": f"/api/v1/customers/{GRACE_ID}",
        "body": {"email": ADA_EMAIL},
    }

    lenient = explain(client, app_key, **call)
    strict = explain(client, app_key, **call, headers={"X-Strict-Mode": "1"})

    assert unchanged(system, workspace["workspace_id"]) == before
    [message] = lenient["messages"]
    assert [rule["rule"] for rule in message["rules"]] == ["I3.2", "I5.2"]
    assert message["conflicts"] == [
        {"kind": "email", "value": ADA_EMAIL, "cio_id": grace, "held_by": ada}
    ]
    assert lenient["refused"][0]["reason"] == (
        "The identifier is already associated with a different profile."
    )
    real = client.put(call["path"], json=call["body"], headers={**track, "X-Strict-Mode": "1"})
    assert strict["answer"] == {"status": 409, "body": real.json()}
    assert strict["messages"][0]["applied"] is False
    assert strict["activities"] == []


def test_with_strict_conflicts_set_explain_lists_the_rules_that_led_to_the_409_and_why(
    client: Any, track: dict[str, str], app_key: dict[str, str], system: System, workspace: Any
) -> None:
    """The workspace setting (docs/identity.md I1.5) makes the conflict a refusal: the call is
    refused whole, and its explanation still says how it got there (I3.3 chose Ada, I7.3 found
    the anonymous id held by Grace, I5.2 refused the call)."""
    client.put(f"/api/v1/customers/{ADA_ID}", json={"email": ADA_EMAIL}, headers=track)
    client.put(f"/api/v1/customers/{GRACE_ID}", json={"anonymous_id": "anon-g"}, headers=track)
    ada = customer(client, app_key, ADA_ID)["identifiers"]["cio_id"]
    grace = customer(client, app_key, GRACE_ID)["identifiers"]["cio_id"]
    settings = {"strict_conflicts": True}
    assert client.patch("/api/workspace/settings", json=settings, headers=app_key).is_success
    before = unchanged(system, workspace["workspace_id"])
    path, body = f"/api/v1/customers/{BOB_ID}", {"email": ADA_EMAIL, "anonymous_id": "anon-g"}

    said = explain(client, app_key, door="track_v1", method="PUT", path=path, body=body)

    assert unchanged(system, workspace["workspace_id"]) == before
    real = client.put(path, json=body, headers=track)
    assert said["answer"] == {"status": 409, "body": real.json()}
    [message] = said["messages"]
    assert message["applied"] is False
    assert message["reason"] == real.json()["message"]
    assert message["person"] == {"cio_id": ada, "new": False}
    assert [rule["rule"] for rule in message["rules"]] == ["I3.3", "I3.3", "I7.3", "I5.2"]
    assert message["rules"][-1]["why"] == "strict mode: a conflict rejects the whole call"
    assert message["conflicts"] == [
        {"kind": "anonymous_id", "value": "anon-g", "cio_id": ada, "held_by": grace}
    ]
    assert said["activities"] == [] and said["refused"] == [] and said["ingestion_log"] == []


def test_explain_of_a_body_the_door_refuses_answers_200_with_the_400_the_call_would_get(
    client: Any, track: dict[str, str], app_key: dict[str, str], system: System, workspace: Any
) -> None:
    before = unchanged(system, workspace["workspace_id"])
    path = f"/api/v1/customers/{ADA_ID}"

    said = explain(
        client, app_key, door="track_v1", method="PUT", path=path, body={"email": "not-an-email"}
    )
    raw = explain(
        client, app_key, door="track_v2", method="POST", path="/api/v2/entity", raw_body="{not json"
    )

    assert unchanged(system, workspace["workspace_id"]) == before
    real = client.put(path, json={"email": "not-an-email"}, headers=track)
    assert said["answer"] == {"status": 400, "body": real.json()}
    assert "not a valid email address" in said["answer"]["body"]["meta"]["errors"][0]
    assert said["messages"] == [] and said["activities"] == []
    assert raw["answer"]["status"] == 400


def test_explain_of_a_path_no_door_has_says_the_call_would_get_404(
    client: Any, app_key: dict[str, str]
) -> None:
    said = explain(client, app_key, door="track_v1", method="POST", path="/api/v1/nothing")

    assert said["answer"]["status"] == 404
    assert said["answer"]["body"]["meta"]["error"] == "no such endpoint: POST /api/v1/nothing"


def test_explain_of_a_segment_batch_says_which_message_is_dropped_and_why(
    client: Any, app_key: dict[str, str], system: System, workspace: Any
) -> None:
    before = unchanged(system, workspace["workspace_id"])
    batch = [
        {"type": "identify", "userId": ADA_ID, "messageId": "m-1", "traits": {"plan": "pro"}},
        {"type": "track", "messageId": "m-2", "userId": ADA_ID},  # no event name
    ]

    said = explain(
        client, app_key, door="segment", method="POST", path="/v1/batch", body={"batch": batch}
    )

    assert unchanged(system, workspace["workspace_id"]) == before
    assert said["answer"] == {"status": 200, "body": {"success": True}}
    by_id = {message["message_id"]: message for message in said["messages"]}
    assert by_id["m-1"]["applied"] is True
    assert by_id["m-1"]["person"] == {"cio_id": None, "new": True}
    assert by_id["m-2"]["applied"] is False
    assert [row["message_id"] for row in said["ingestion_log"]] == ["m-2"]
    assert said["ingestion_log"][0]["reason"] == by_id["m-2"]["reason"]


def test_explain_of_a_call_on_a_suppressed_identifier_cites_i9_2_and_the_log_entry(
    client: Any, track: dict[str, str], app_key: dict[str, str], system: System, workspace: Any
) -> None:
    client.put(f"/api/v1/customers/{ADA_ID}", json={}, headers=track)
    client.post(f"/api/v1/customers/{ADA_ID}/suppress", headers=track)
    before = unchanged(system, workspace["workspace_id"])

    said = explain(
        client,
        app_key,
        door="track_v1",
        method="PUT",
        path=f"/api/v1/customers/{ADA_ID}",
        body={"plan": "pro"},
    )

    assert unchanged(system, workspace["workspace_id"]) == before
    [message] = said["messages"]
    assert [rule["rule"] for rule in message["rules"]] == ["I9.2"]
    [entry] = said["ingestion_log"]
    assert len(entry["identifier_hash"]) == 64
    assert ADA_ID not in str(said["ingestion_log"])


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"door": "track_v9", "method": "PUT", "path": "/api/v1/customers/x"}, "door"),
        ({"method": "PUT", "path": "/api/v1/customers/x"}, "door"),
        ({"door": "track_v1", "method": "BREW", "path": "/api/v1/customers/x"}, "method"),
        ({"door": "track_v1", "method": 7, "path": "/api/v1/customers/x"}, "method"),
        ({"door": "track_v1", "method": "PUT", "path": "api/v1/customers/x"}, "path"),
        ({"door": "track_v1", "method": "PUT", "path": "/api/v1/customers/é"}, "path"),
        ({"door": "track_v1", "method": "PUT"}, "path"),
        ({"door": "track_v1", "method": "POST", "path": "/v1/identify"}, "door"),
        ({"door": "segment", "method": "POST", "path": "/v1/identify", "headers": []}, "headers"),
        ({"door": "segment", "method": "POST", "path": "/v1/x", "raw_body": 3}, "raw_body"),
        (
            {"door": "segment", "method": "POST", "path": "/v1/x", "body": {}, "raw_body": ""},
            "raw_body",
        ),
        ({"door": "segment", "method": "POST", "path": "/v1/x", "payload": {}}, "payload"),
    ],
)
def test_a_malformed_explain_request_is_400_naming_the_field(
    client: Any, app_key: dict[str, str], spec: dict[str, Any], field: str
) -> None:
    answer = client.post(EXPLAIN, json=spec, headers=app_key)

    assert answer.status_code == 400, answer.text
    assert field in answer.json()["message"]


@pytest.mark.parametrize("body", [b"", b"[]", b"{", b'"door"'])
def test_an_explain_body_that_is_no_json_object_is_400(
    client: Any, app_key: dict[str, str], body: bytes
) -> None:
    answer = client.post(EXPLAIN, content=body, headers=app_key)

    assert answer.status_code == 400, answer.text


def test_explain_needs_the_workspaces_app_api_key(client: Any, track: dict[str, str]) -> None:
    spec = {"door": "track_v1", "method": "PUT", "path": "/api/v1/customers/x"}

    assert client.post(EXPLAIN, json=spec).status_code == 401
    assert client.post(EXPLAIN, json=spec, headers=track).status_code == 401


def test_explain_of_a_batch_whose_second_message_the_rules_refuse_keeps_only_the_first(
    client: Any, app_key: dict[str, str], system: System, workspace: Any
) -> None:
    """The batch is applied together, then (once a message fails) each message alone: what the
    failed try noted is forgotten with its savepoint, as its rows are."""
    before = unchanged(system, workspace["workspace_id"])
    too_many = {f"a{n}": n for n in range(300)}  # with `plan`, one over the 300 a person holds
    batch = [
        {"type": "identify", "userId": ADA_ID, "messageId": "m-1", "traits": {"plan": "pro"}},
        {"type": "identify", "userId": ADA_ID, "messageId": "m-2", "traits": too_many},
    ]

    said = explain(
        client, app_key, door="segment", method="POST", path="/v1/batch", body={"batch": batch}
    )

    assert unchanged(system, workspace["workspace_id"]) == before
    first, second = said["messages"]
    assert (first["message_id"], first["applied"]) == ("m-1", True)
    assert (second["message_id"], second["applied"]) == ("m-2", False)
    assert "300" in second["reason"]
    assert [(a["type"], a["name"]) for a in said["activities"]] == [
        ("profile_create", None),
        ("attribute_change", "id"),
        ("attribute_change", "plan"),
    ]
    assert [entry["reason"] for entry in said["ingestion_log"]] == [second["reason"]]

    real = client.post("/v1/batch", json={"batch": batch}, headers=basic(workspace["write_key"]))
    assert real.status_code == 200
    attributes = customer(client, app_key, ADA_ID)["attributes"]
    assert attributes["plan"] == "pro" and "a0" not in attributes


def test_explain_of_a_track_v2_batch_gives_the_207_the_batch_would_get(
    client: Any, track: dict[str, str], app_key: dict[str, str], system: System, workspace: Any
) -> None:
    batch = [
        {"type": "person", "action": "identify", "identifiers": {"id": ADA_ID}},
        {"type": "person", "action": "identify", "identifiers": {}},
    ]
    before = unchanged(system, workspace["workspace_id"])

    said = explain(
        client, app_key, door="track_v2", method="POST", path="/api/v2/batch", body={"batch": batch}
    )

    assert unchanged(system, workspace["workspace_id"]) == before
    real = client.post("/api/v2/batch", json={"batch": batch}, headers=track)
    assert said["answer"] == {"status": real.status_code, "body": real.json()}
    assert real.status_code == 207
    [message] = said["messages"]
    assert message["person"] == {"cio_id": None, "new": True}


def test_the_example_of_docs_api_md_is_what_explain_answers(
    client: Any, track: dict[str, str], app_key: dict[str, str]
) -> None:
    text = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    example = re.search(r"POST /api/explain (\{.*?\})\n200 (\{.*?\})\n```", text, re.DOTALL)
    assert example is not None, "docs/api.md §5 shows an explain request and its answer"
    request, documented = (json.loads(part) for part in example.groups())
    client.put(
        f"/api/v1/customers/{ADA_ID}", json={"email": request["body"]["email"]}, headers=track
    )
    ada = customer(client, app_key, ADA_ID)["identifiers"]["cio_id"]

    said = explain(client, app_key, **request)

    shown = json.loads(json.dumps(documented).replace("3f1c0a9b2d4e", ada))
    assert said.keys() == shown.keys()
    for key in ("door", "call", "answer", "written", "changes", "events", "ingestion_log"):
        assert said[key] == shown[key], key
    assert said["messages"] == shown["messages"]
    assert said["refused"] == shown["refused"]
    assert [(a["type"], a["name"]) for a in said["activities"]] == [
        (a["type"], a["name"]) for a in shown["activities"]
    ]


def test_the_strict_mode_example_of_docs_api_md_is_what_explain_answers(
    client: Any, track: dict[str, str], app_key: dict[str, str]
) -> None:
    text = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    example = re.search(
        r"POST /api/explain (\{[^\n]*\n[^\n]*\})\n200 [^\n]*\"status\": 409.*?"
        r"\"messages\": (\[.*?\]),\n\s+\"changes\": \[\], \"refused\": \[\], \"activities\": \[\]",
        text,
        re.DOTALL,
    )
    assert example is not None, "docs/api.md §5 shows a refused call explained"
    request, documented = (json.loads(part) for part in example.groups())
    body = request["body"]
    client.put(f"/api/v1/customers/{ADA_ID}", json={"email": body["email"]}, headers=track)
    client.put(
        f"/api/v1/customers/{GRACE_ID}", json={"anonymous_id": body["anonymous_id"]}, headers=track
    )
    ada = customer(client, app_key, ADA_ID)["identifiers"]["cio_id"]
    grace = customer(client, app_key, GRACE_ID)["identifiers"]["cio_id"]
    client.patch("/api/workspace/settings", json={"strict_conflicts": True}, headers=app_key)

    said = explain(client, app_key, **request)

    shown = json.dumps(documented).replace("3f1c0a9b2d4e", ada).replace("77c2e9a0b1f3", grace)
    assert said["answer"]["status"] == 409
    assert said["messages"] == json.loads(shown)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    door=st.sampled_from(["track_v1", "track_v2", "segment", "webhook", "app"]),
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
    path=st.sampled_from(
        [
            "/api/v1/customers/",
            "/api/v1/events",
            "/api/v2/",
            "/v1/",
            "/api/v1/customers/%",
            "/segment/webhook/",
            "/v1/customers/",
            "/v1/send/",
            "/api/suppressions/",
        ]
    ).flatmap(lambda start: st.text(ODD_PATH, max_size=30).map(lambda rest: start + rest)),
    body=ODD_JSON,
    headers=st.dictionaries(st.sampled_from(["X-Strict-Mode", "Content-Type"]), ODD_HEADER),
)
def test_explain_answers_any_call_with_200_and_never_writes(
    client: Any,
    app_key: dict[str, str],
    system: System,
    workspace: Any,
    door: str,
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str],
) -> None:
    before = nothing_written(system, workspace["workspace_id"])
    spec = {"door": door, "method": method, "path": path, "body": body, "headers": headers}

    answer = client.post(EXPLAIN, json=spec, headers=app_key)

    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 200:
        assert answer.json()["answer"]["status"] < 500, answer.text
    assert nothing_written(system, workspace["workspace_id"]) == before
