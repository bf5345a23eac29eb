"""POST /api/explain (docs/api.md §5): what a call would do, by the rule that decided it, with
nothing written; and what it says agrees with what the call then does. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.services.system import System
from tests.api.calls import basic, bearer, customer, rows
from tests.api.stored import count, footprint, logged

EXPLAIN = "/api/explain"
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


# -- explain agrees with reality -------------------------------------------------------------------

IDS = ["ada", "bob"]
EMAILS = ["ada@example.com", "bob@example.com"]
ANONYMOUS = ["anon-1", "anon-2"]


@st.composite
def calls(draw: st.DrawFn) -> dict[str, Any]:
    """A call of one of the doors that names a few people by random identifiers."""
    kind = draw(st.sampled_from(["v1_identify", "v1_event", "v1_anonymous", "segment", "strict"]))
    user = draw(st.sampled_from(IDS + EMAILS))
    email = draw(st.none() | st.sampled_from(EMAILS))
    id_ = draw(st.none() | st.sampled_from(IDS))
    anonymous = draw(st.none() | st.sampled_from(ANONYMOUS))
    plan = draw(st.sampled_from(["free", "pro"]))
    if kind in ("v1_identify", "strict"):
        body = {"plan": plan, "email": email, "id": id_, "anonymous_id": anonymous}
        return {
            "door": "track_v1",
            "method": "PUT",
            "path": f"/api/v1/customers/{user}",
            "body": {k: v for k, v in body.items() if v is not None},
            "headers": {"X-Strict-Mode": "1"} if kind == "strict" else {},
        }
    if kind == "v1_event":
        body = {"name": "viewed", "anonymous_id": anonymous}
        return {
            "door": "track_v1",
            "method": "POST",
            "path": f"/api/v1/customers/{user}/events",
            "body": {k: v for k, v in body.items() if v is not None},
        }
    if kind == "v1_anonymous":
        return {
            "door": "track_v1",
            "method": "POST",
            "path": "/api/v1/events",
            "body": {"name": "viewed", "anonymous_id": anonymous or ANONYMOUS[0]},
        }
    message_type = draw(st.sampled_from(["identify", "track"]))
    message: dict[str, Any] = {"type": message_type, "userId": id_, "anonymousId": anonymous}
    if message_type == "identify":
        message["traits"] = {"email": email, "plan": plan}
    else:
        message["event"] = "viewed"
    return {
        "door": "segment",
        "method": "POST",
        "path": "/v1/batch",
        "body": {"batch": [{k: v for k, v in message.items() if v is not None}]},
    }


def _people(system: System, workspace_id: int) -> set[str]:
    found = rows(system, "select cio_id from people where workspace_id = :w", w=workspace_id)
    return {row[0] for row in found}


def _last_pk(system: System, table: str, workspace_id: int) -> int:
    found = rows(system, f"select max(pk) from {table} where workspace_id = :w", w=workspace_id)
    return int(found[0][0] or 0)


LOGS = ("activities", "events", "ingestion_log")
ACTIVITIES = (
    "select cio_id, type, name, data from activities where workspace_id = :w and pk > :activities "
    "order by pk"
)
EVENTS = (
    "select p.cio_id, e.name, e.anonymous_id from events e left join people p on p.pk = "
    "e.person_pk where e.workspace_id = :w and e.pk > :events order by e.pk"
)
LOG = "select reason from ingestion_log where workspace_id = :w and pk > :ingestion_log order by pk"


def _since(system: System, sql: str, workspace_id: int, last: dict[str, int]) -> list[Any]:
    """The rows a call wrote after the `last` row keys of the logs."""
    wanted = {table: pk for table, pk in last.items() if f":{table}" in sql}
    return [tuple(row) for row in rows(system, sql, w=workspace_id, **wanted)]


def _masked(body: Any, known: set[str]) -> Any:
    """A real answer with the cio_id of a person that never came to be (the person a refused
    call created, then rolled back) read as `new`, as explain reads it."""
    text = re.sub(
        r"(?<![0-9a-f])[0-9a-f]{12}(?![0-9a-f])",
        lambda found: found.group(0) if found.group(0) in known else "new",
        json.dumps(body),
    )
    return json.loads(text)


def _decoded(data: Any) -> Any:
    return json.loads(data) if isinstance(data, str) else data


def _entry(person: str | None, type_: str, name: str | None, data: Any) -> tuple[Any, ...]:
    """An activity as compared: the values of a change, and for the rest only what it is (a
    merge's id is the database's to give)."""
    changed = type_ in ("attribute_change", "failed_attribute_change")
    return (person, type_, name, data if changed else None)


def _predicted_person(shown: dict[str, Any] | None) -> str | None:
    if shown is None:
        return None
    return "new" if shown["new"] else str(shown["cio_id"])


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=st.lists(calls(), min_size=1, max_size=5))
def test_explains_prediction_is_what_each_call_then_does(
    client: Any, system: System, history: list[dict[str, Any]]
) -> None:
    workspace = system.workspaces.create(f"ws-{uuid.uuid4().hex[:10]}")
    workspace_id = workspace["workspace_id"]
    key = bearer(workspace["app_api_key"])
    credentials = {
        "track_v1": basic(workspace["site_id"], workspace["track_api_key"]),
        "segment": basic(workspace["write_key"]),
    }
    for call in history:
        people = _people(system, workspace_id)
        last = {table: _last_pk(system, table, workspace_id) for table in LOGS}
        said = explain(client, key, **call)
        assert {table: _last_pk(system, table, workspace_id) for table in LOGS} == last

        answer = client.request(
            call["method"],
            call["path"],
            json=call.get("body"),
            headers={**credentials[call["door"]], **call.get("headers", {})},
        )

        after = _people(system, workspace_id)
        real = {"status": answer.status_code, "body": _masked(answer.json(), people | after)}
        assert said["answer"] == real
        new = after - people
        assert len(new) == sum(a["type"] == "profile_create" for a in said["activities"])
        for message in said["messages"]:
            person = message.get("person")
            if person is not None and not person["new"]:
                assert person["cio_id"] in after
        predicted = [
            _entry(_predicted_person(a["person"]), a["type"], a["name"], a["data"])
            for a in said["activities"]
        ]
        done = [
            _entry("new" if cio_id in new else cio_id, type_, name, _decoded(data))
            for cio_id, type_, name, data in _since(system, ACTIVITIES, workspace_id, last)
        ]
        assert predicted == done
        predicted_events = [
            (_predicted_person(e["person"]), e["name"], e["anonymous_id"]) for e in said["events"]
        ]
        done_events = [
            ("new" if cio_id in new else cio_id, name, anonymous_id)
            for cio_id, name, anonymous_id in _since(system, EVENTS, workspace_id, last)
        ]
        assert predicted_events == done_events
        reasons = [row[0] for row in _since(system, LOG, workspace_id, last)]
        assert [entry["reason"] for entry in said["ingestion_log"]] == reasons
