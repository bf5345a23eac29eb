"""Explain agrees with reality (docs/api.md §5): for random calls of Track v1, v2 and Segment
about a few people, what POST /api/explain says a call would do is what the call then does: its
answer, the people it creates, the activities it logs (with the changes' values), the events it
stores and the ingestion-log entries it adds. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.services.system import System
from tests.api.calls import basic, bearer, rows
from tests.api.test_explain import explain

IDS = ["ada", "bob"]
EMAILS = ["ada@example.com", "bob@example.com"]
ANONYMOUS = ["anon-1", "anon-2"]


@st.composite
def calls(draw: st.DrawFn) -> dict[str, Any]:
    """A call of one of the doors that names a few people by random identifiers."""
    kind = draw(
        st.sampled_from(["v1_identify", "v1_event", "v1_anonymous", "v2", "segment", "strict"])
    )
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
    if kind == "v2":
        kind_of_user = "email" if "@" in user else "id"
        attributes = {"plan": plan, "email": email if kind_of_user == "id" else None}
        return {
            "door": "track_v2",
            "method": "POST",
            "path": "/api/v2/entity",
            "body": {
                "type": "person",
                "action": "identify",
                "identifiers": {kind_of_user: user},
                "attributes": {k: v for k, v in attributes.items() if v is not None},
            },
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
        "track_v2": basic(workspace["site_id"], workspace["track_api_key"]),
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
