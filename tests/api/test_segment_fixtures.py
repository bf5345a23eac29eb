"""Conformance with Segment's Customer.io (Actions) destination (docs/api.md §2, §3), in process, on
SQLite and PostgreSQL.

Every line of the fixtures file (`tests/fixtures/segment-actions/requests.jsonl`) holds a
Segment message and the Track API request the destination builds from it. For each line, one
fresh workspace is sent the request (as the destination would send it) and another fresh
workspace is sent the Segment message (to roster's Segment-spec API, as a Segment library would).
The same preparatory calls (Track API v1; objects, which v1 cannot make, by a v2 object identify)
run in both first, so that a delete, suppress, merge … has something to act on, and the same
follow-up calls after, where the result is only visible through one (an anonymous event becomes
readable once a person claims its anonymous id). Both workspaces must then hold the same people,
events, devices and objects, read through the App API, and that state must be the one the
line's note and docs/api.md describe."""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from roster.services.system import System
from roster.storage.tables import activities
from tests.api.calls import basic, bearer, ingestion_log

FIXTURES = Path(__file__).parents[1] / "fixtures" / "segment-actions" / "requests.jsonl"
PREPARED_AT = 1700000000  # the _timestamp of every preparatory call: both workspaces agree
FIXTURE_AT = 1710504000  # 2024-03-15T12:00:00Z, the fixtures' timestamp
CREATED_AT = 1685608200  # 2023-06-01T08:30:00Z


def _fixtures_file() -> Path:
    """ROSTER_SEGMENT_FIXTURES (to try another recording), else the copy kept beside the tests."""
    return Path(os.environ.get("ROSTER_SEGMENT_FIXTURES") or FIXTURES)


FIXTURES_FILE = _fixtures_file()
LINES: list[dict[str, Any]] = [
    json.loads(line) for line in FIXTURES_FILE.read_text().splitlines() if line.strip()
]


# -- the two doors --------------------------------------------------------------------------------


def track_headers(workspace: dict[str, Any]) -> dict[str, str]:
    return basic(workspace["site_id"], workspace["track_api_key"])


def write_key_headers(workspace: dict[str, Any]) -> dict[str, str]:
    return bearer(workspace["write_key"])


def app_headers(workspace: dict[str, Any]) -> dict[str, str]:
    return bearer(workspace["app_api_key"])


def send_destination_request(client: TestClient, workspace: dict[str, Any], line: dict[str, Any]):
    """The request Segment's Actions destination sends, as it sends it."""
    headers = {**track_headers(workspace), "User-Agent": "Segment (Actions)"}
    if line["body"] is None:
        return client.request(line["method"], line["path"], headers=headers)
    return client.request(line["method"], line["path"], json=line["body"], headers=headers)


def send_segment_batch(client: TestClient, workspace: dict[str, Any], line: dict[str, Any]):
    """The line's Segment message(s), to /v1/batch with the write key."""
    messages = line["segment_event"]
    batch = messages if isinstance(messages, list) else [messages]
    return client.post("/v1/batch", json={"batch": batch}, headers=write_key_headers(workspace))


# -- preparatory and follow-up calls (Track API v1, the same in both workspaces) ------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict[str, Any] | None = None


def identify(ref: str, **attributes: Any) -> Call:
    return Call(
        "PUT",
        f"/api/v1/customers/{quote(ref, safe='@')}",
        {**attributes, "_timestamp": PREPARED_AT},
    )


def relationship(type_id: str, object_id: str, **attributes: Any) -> dict[str, Any]:
    """One entry of an identify's cio_relationships."""
    return {
        "identifiers": {"object_type_id": type_id, "object_id": object_id},
        "relationship_attributes": attributes,
    }


def object_identify(type_id: str, object_id: str, **attributes: Any) -> Call:
    """Creates an object (Track API v1 has no object call of its own)."""
    return Call(
        "POST",
        "/api/v2/entity",
        {
            "type": "object",
            "action": "identify",
            "identifiers": {"object_type_id": type_id, "object_id": object_id},
            "attributes": attributes,
        },
    )


def run(client: TestClient, workspace: dict[str, Any], calls: tuple[Call, ...]) -> None:
    for call in calls:
        answer = client.request(
            call.method, call.path, json=call.body, headers=track_headers(workspace)
        )
        assert answer.status_code == 200, f"{call}: {answer.status_code} {answer.text}"


# -- reading the state through the App API --------------------------------------------------------


def person_state(
    client: TestClient, workspace: dict[str, Any], ref: str, id_type: str
) -> dict[str, Any] | None:
    """Everything the App API says about one person, less what differs by nature between two
    workspaces (cio_id, _created_in_roster_at, activity ids)."""
    headers = app_headers(workspace)
    answer = client.get(
        f"/v1/customers/{quote(ref, safe='')}/attributes",
        params={"id_type": id_type},
        headers=headers,
    )
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.text
    found = answer.json()["customer"]
    attributes = {
        name: value
        for name, value in found["attributes"].items()
        if name not in ("cio_id", "_created_in_roster_at")
    }
    log = client.get(
        f"/v1/customers/{quote(ref, safe='')}/activities",
        params={"id_type": id_type, "limit": 1000},
        headers=headers,
    )
    assert log.status_code == 200, log.text
    entries = log.json()["activities"]
    return {
        "id": found["id"],
        "identifiers": {k: v for k, v in found["identifiers"].items() if k != "cio_id"},
        "attributes": attributes,
        "timestamps": found["timestamps"],
        "unsubscribed": found["unsubscribed"],
        "devices": found["devices"],
        "anonymous_ids": sorted(found["anonymous_ids"]),
        "relationships": sorted(
            found["relationships"], key=lambda r: (r["object_type_id"], r["object_id"])
        ),
        "events": sorted(
            (
                {
                    "name": a.get("name"),
                    "type": a["type"],
                    "data": a.get("data"),
                    "timestamp": a["timestamp"],
                }
                for a in entries
                if a["type"] in ("event", "page", "screen")
            ),
            key=lambda e: (e["timestamp"], e["type"], e["name"] or ""),
        ),
        "activity_types": dict(Counter(a["type"] for a in entries)),
    }


def object_state(
    client: TestClient, workspace: dict[str, Any], type_id: str, object_id: str
) -> dict[str, Any] | None:
    answer = client.get(
        f"/v1/objects/{quote(type_id, safe='')}/{quote(object_id, safe='')}",
        headers=app_headers(workspace),
    )
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()["object"]
    found["relationships"] = [
        {k: v for k, v in related.items() if k != "cio_id"} for related in found["relationships"]
    ]
    return found


def workspace_activities(system: System, workspace: dict[str, Any]) -> list[dict[str, Any]]:
    """Activity that belongs to no person (delivery metrics): no API lists it, so it is read
    from the activities table."""
    with system.database.reader.connect() as connection:
        rows = connection.execute(
            sa.select(activities.c.type, activities.c.name, activities.c.data)
            .where(
                activities.c.workspace_id == workspace["workspace_id"],
                activities.c.person_pk.is_(None),
                activities.c.cio_id.is_(None),
            )
            .order_by(activities.c.pk)
        ).all()
    return [{"type": row.type, "name": row.name, "data": row.data} for row in rows]


@dataclass
class State:
    people: dict[tuple[str, str], dict[str, Any] | None]
    objects: dict[tuple[str, str], dict[str, Any] | None]
    log: list[dict[str, Any]]
    metrics: list[dict[str, Any]]
    # the state right after the call under test, when follow-up calls ran after it
    midway: State | None = None

    def person(self, ref: str, id_type: str = "id") -> dict[str, Any]:
        found = self.people[(ref, id_type)]
        assert found is not None, f"no person with {id_type} {ref!r}"
        return found

    def object(self, type_id: str, object_id: str) -> dict[str, Any]:
        found = self.objects[(type_id, object_id)]
        assert found is not None, f"no object {type_id}/{object_id}"
        return found


# -- what each line needs and must lead to --------------------------------------------------------


@dataclass(frozen=True)
class Case:
    people: tuple[tuple[str, str], ...] = ()  # (reference, id_type) of every person involved
    objects: tuple[tuple[str, str], ...] = ()  # (object_type_id, object_id)
    before: tuple[Call, ...] = ()
    after: tuple[Call, ...] = ()
    expect: Callable[[State], None] = field(default=lambda state: None)


def expect_identified_by_id(state: State) -> None:
    person = state.person("abc123")
    assert person["identifiers"] == {"id": "abc123", "email": "test@example.com"}
    attributes = dict(person["attributes"])
    # nested, not flattened (a JSON value, answered as a string); the nested ISO date became
    # unix seconds too
    assert json.loads(attributes.pop("person")) == {
        "over18": True,
        "identification": "valid",
        "birthdate": 631152000,
    }
    assert attributes == {
        "id": "abc123",
        "email": "test@example.com",
        "full_name": "Test User",
        "created_at": str(CREATED_AT),  # the ISO string became unix seconds
    }
    assert person["anonymous_ids"] == ["unknown_123"]  # linked, not an attribute
    assert set(person["timestamps"].values()) == {FIXTURE_AT}
    assert state.person("test@example.com", "email") == person


def expect_identified_by_email(state: State) -> None:
    lead = state.person("test@example.com", "email")
    assert lead["identifiers"] == {"id": None, "email": "test@example.com"}
    assert lead["attributes"] == {"email": "test@example.com", "plan": "pro"}
    assert lead["anonymous_ids"] == ["unknown_123"]
    assert set(lead["timestamps"].values()) == {FIXTURE_AT}


def expect_batch_of_two(state: State) -> None:
    a = state.person("user-a")
    assert a["identifiers"] == {"id": "user-a", "email": "a@example.com"}
    assert a["attributes"] == {"id": "user-a", "email": "a@example.com"}
    assert a["anonymous_ids"] == ["anon-a"]
    assert set(a["timestamps"].values()) <= {FIXTURE_AT}
    assert state.person("a@example.com", "email") == a
    b = state.person("b@example.com", "email")
    assert b["identifiers"] == {"id": None, "email": "b@example.com"}
    assert b["attributes"] == {"email": "b@example.com"}
    assert set(b["timestamps"].values()) <= {FIXTURE_AT - 2}


def expect_order_completed(state: State) -> None:
    person = state.person("user1234")
    assert person["events"] == [
        {
            "name": "Order Completed",
            "type": "event",
            "data": {"revenue": 19.99, "ordered_at": FIXTURE_AT},  # no anonymous_id
            "timestamp": FIXTURE_AT,
        }
    ]
    assert "anonymous_id" not in person["attributes"]
    assert person["anonymous_ids"] == ["anonId1234"]  # an event for a person links it (I7.2)


def expect_page(state: State) -> None:
    assert state.person("abc123")["events"] == [
        {
            "name": "https://example.com/page-one",  # the url, not the page name
            "type": "page",
            "data": {"url": "https://example.com/page-one", "title": "Page One"},
            "timestamp": FIXTURE_AT,
        }
    ]


def expect_screen(state: State) -> None:
    assert state.person("abc123")["events"] == [
        {
            "name": "Home",
            "type": "screen",
            "data": {"feed_type": "private"},
            "timestamp": FIXTURE_AT,
        }
    ]


def expect_device(state: State) -> None:
    person = state.person("019mr8mf4r")
    assert person["devices"] == [
        {
            "id": "ff15bc0c20c4aa6cd50854ff165fd265c838e5405bfeb9571066395b8c9da449",
            "platform": "ios",
            "last_used": FIXTURE_AT,
            "attributes": {"version": "1.2.3", "build": 1234, "app_version": "1.23"},
        }
    ]
    assert person["events"] == []  # a device call, not an event


def expect_device_deleted(state: State) -> None:
    person = state.person("abc123")
    assert person["devices"] == []
    assert person["attributes"]["plan"] == "pro"


def expect_gone(*people: tuple[str, str]) -> Callable[[State], None]:
    def expect(state: State) -> None:
        for moment in (state, state.midway):
            for ref, id_type in people if moment is not None else ():
                assert moment.people[(ref, id_type)] is None, f"{id_type} {ref!r} still exists"

    return expect


def expect_unsuppressed(state: State) -> None:
    assert state.midway is not None
    assert state.midway.people[("user_123", "id")] is None  # unsuppress restores nobody
    person = state.person("user_123")  # the identify after the unsuppress created it
    assert person["identifiers"] == {"id": "user_123", "email": None}
    assert person["attributes"] == {"id": "user_123", "plan": "back"}  # nothing restored


def expect_merged(state: State) -> None:
    person = state.person("abc123")
    assert person["identifiers"] == {"id": "abc123", "email": "foo@bar.com"}
    assert person["attributes"] == {
        "id": "abc123",
        "email": "foo@bar.com",
        "plan": "gold",  # the primary's value wins
        "city": "Oslo",  # copied from the secondary
    }
    assert [e["name"] for e in person["events"]] == ["primary_event", "secondary_event"]
    assert person["activity_types"].get("profile_merge") == 1
    assert state.person("foo@bar.com", "email") == person  # the secondary is gone


def expect_object_with_person(state: State) -> None:
    found = state.object("1", "grp123")
    assert found["attributes"] == {
        "name": "Sales",
        "industry": "Technology",
        "created_at": CREATED_AT,
    }  # no anonymous_id among the object's attributes
    assert found["relationships"] == [
        {"id": "abc123", "email": None, "relationship_attributes": {}}
    ]
    assert state.person("abc123")["relationships"] == [
        {"object_type_id": "1", "object_id": "grp123", "attributes": {}}
    ]


def expect_object_with_anonymous(state: State) -> None:
    assert state.midway is not None
    waiting = state.midway.object("1", "grp123")
    relationship = {"role": "admin", "createdAt": CREATED_AT}  # the ISO string was converted
    # kept with the anonymous id until a person claims it
    assert waiting["relationships"] == []
    assert waiting["anonymous_relationships"] == [
        {"anonymous_id": "unknown_123", "relationship_attributes": relationship}
    ]
    found = state.object("1", "grp123")
    assert found["anonymous_relationships"] == []
    assert found["attributes"] == {"name": "Sales", "createdAt": CREATED_AT}
    # the anonymous id was claimed by a person afterwards: the relationship is theirs
    assert state.person("claimer")["anonymous_ids"] == ["unknown_123"]
    assert state.person("claimer")["relationships"] == [
        {"object_type_id": "1", "object_id": "grp123", "attributes": relationship}
    ]
    assert found["relationships"] == [
        {"id": "claimer", "email": None, "relationship_attributes": relationship}
    ]


def expect_object_deleted(state: State) -> None:
    assert state.objects[("type_123", "group_123")] is None
    person = state.person("user1234")
    assert person["relationships"] == []
    assert person["identifiers"] == {"id": "user1234", "email": None}  # the person stays


def expect_relationship_deleted(state: State) -> None:
    found = state.object("object_type_id123", "object_id123")
    assert found["attributes"] == {"name": "Object"}  # the object stays
    assert found["relationships"] == []
    person = state.person("123")
    assert person["relationships"] == []
    assert person["anonymous_ids"] == []  # the stray anonymous_id of a delete links nothing


def expect_content_event(state: State) -> None:
    assert state.midway is not None
    assert state.midway.people[("claimer", "id")] is None  # an anonymous event made nobody
    person = state.person("claimer")
    assert person["anonymous_ids"] == ["abc123"]
    assert person["events"] == [
        {
            "name": "clicked_content",
            "type": "event",
            "data": {
                "contentType": "ctype",
                "contentId": 1,
                "templateId": 1,
                "actionName": "aname",
                "actionValue": "avalue",
            },
            "timestamp": FIXTURE_AT,
        }
    ]


def expect_delivery_metric(state: State) -> None:
    assert state.metrics == [
        {
            "type": "metric",
            "name": "clicked",
            "data": {
                "delivery_id": "in-app-delivery",
                "metric": "clicked",
                "timestamp": FIXTURE_AT,
                "metadata": {"action_name": "score", "action_value": "3"},
            },
        }
    ]


def expect_nothing_stored(state: State) -> None:
    assert state.metrics == []
    assert state.log == []


CASES: dict[str, Case] = {
    "createUpdatePerson-0": Case(
        people=(("abc123", "id"), ("test@example.com", "email")), expect=expect_identified_by_id
    ),
    "createUpdatePerson-1": Case(
        people=(("test@example.com", "email"),), expect=expect_identified_by_email
    ),
    "createUpdatePerson-2": Case(
        people=(("user-a", "id"), ("a@example.com", "email"), ("b@example.com", "email")),
        expect=expect_batch_of_two,
    ),
    "trackEvent-3": Case(people=(("user1234", "id"),), expect=expect_order_completed),
    "trackPageView-4": Case(people=(("abc123", "id"),), expect=expect_page),
    "trackScreenView-5": Case(people=(("abc123", "id"),), expect=expect_screen),
    "createUpdateDevice-6": Case(people=(("019mr8mf4r", "id"),), expect=expect_device),
    "deleteDevice-7": Case(
        people=(("abc123", "id"),),
        before=(
            identify("abc123", plan="pro"),
            Call(
                "PUT",
                "/api/v1/customers/abc123/devices",
                {"device": {"id": "device_123", "platform": "ios", "last_used": PREPARED_AT}},
            ),
        ),
        expect=expect_device_deleted,
    ),
    "deletePerson-8": Case(
        people=(("user_123", "id"), ("user_123@example.com", "email")),
        before=(identify("user_123", email="user_123@example.com", plan="pro"),),
        expect=expect_gone(("user_123", "id"), ("user_123@example.com", "email")),
    ),
    "suppressPerson-9": Case(
        people=(("foo@bar.com", "email"), ("foo-id", "id")),
        before=(identify("foo-id", email="foo@bar.com", plan="pro"),),
        # a suppressed identifier is ignored from now on: these create nobody
        after=(identify("foo@bar.com", plan="again"), identify("foo-id", plan="again")),
        expect=expect_gone(("foo@bar.com", "email"), ("foo-id", "id")),
    ),
    "unsuppressPerson-10": Case(
        people=(("user_123", "id"),),
        before=(
            identify("user_123", plan="pro"),
            Call("POST", "/api/v1/customers/user_123/suppress", {}),
        ),
        after=(identify("user_123", plan="back"),),
        expect=expect_unsuppressed,
    ),
    "mergePeople-11": Case(
        people=(("abc123", "id"), ("foo@bar.com", "email")),
        before=(
            identify("abc123", plan="gold"),
            Call(
                "POST",
                "/api/v1/customers/abc123/events",
                {"name": "primary_event", "timestamp": PREPARED_AT},
            ),
            identify("foo@bar.com", plan="silver", city="Oslo"),
            Call(
                "POST",
                "/api/v1/customers/foo@bar.com/events",
                {"name": "secondary_event", "data": {"k": "v"}, "timestamp": PREPARED_AT + 1},
            ),
        ),
        expect=expect_merged,
    ),
    "createUpdateObject-12": Case(
        people=(("abc123", "id"),), objects=(("1", "grp123"),), expect=expect_object_with_person
    ),
    "createUpdateObject-13": Case(
        people=(("claimer", "id"),),
        objects=(("1", "grp123"),),
        after=(identify("claimer", anonymous_id="unknown_123"),),
        expect=expect_object_with_anonymous,
    ),
    "deleteObject-14": Case(
        people=(("user1234", "id"),),
        objects=(("type_123", "group_123"),),
        before=(
            object_identify("type_123", "group_123", name="Group"),
            identify("user1234", cio_relationships=[relationship("type_123", "group_123")]),
        ),
        expect=expect_object_deleted,
    ),
    "deleteRelationship-15": Case(
        people=(("123", "id"),),
        objects=(("object_type_id123", "object_id123"),),
        before=(
            object_identify("object_type_id123", "object_id123", name="Object"),
            identify(
                "123",
                cio_relationships=[
                    relationship("object_type_id123", "object_id123", role="member")
                ],
            ),
        ),
        expect=expect_relationship_deleted,
    ),
    "reportContentEvent-16": Case(
        people=(("claimer", "id"),),
        # an anonymous event is read once a person claims its anonymous id
        after=(identify("claimer", anonymous_id="abc123"),),
        expect=expect_content_event,
    ),
    "reportDeliveryEvent-17": Case(expect=expect_delivery_metric),
    "onDelete-18": Case(
        people=(("user_123", "id"),),
        before=(identify("user_123", plan="pro"),),
        expect=expect_gone(("user_123", "id")),
    ),
    "testAuthentication-19": Case(expect=expect_nothing_stored),
}


def line_id(index: int, line: dict[str, Any]) -> str:
    return f"{line['action']}-{index}"


def has_timestamp(line: dict[str, Any]) -> bool:
    """Whether the destination's request carries a timestamp (where it does not, the Segment
    side's envelope timestamp may give attribute and event times the request leaves to 'now')."""
    body = line["body"] or {}
    items = body["batch"] if isinstance(body.get("batch"), list) else [body]
    return all(item.get("timestamp") is not None for item in items)


def has_message_id(line: dict[str, Any]) -> bool:
    messages = line["segment_event"]
    messages = messages if isinstance(messages, list) else [messages]
    return any(isinstance(m, dict) and m.get("messageId") for m in messages)


def comparable(state: State, line: dict[str, Any]) -> State:
    """The state with times dropped where the destination's request carries none."""
    if has_timestamp(line):
        return state
    people: dict[tuple[str, str], dict[str, Any] | None] = {}
    for key, person in state.people.items():
        if person is not None:
            person = {
                **person,
                "timestamps": sorted(person["timestamps"]),
                "events": [{**e, "timestamp": None} for e in person["events"]],
            }
        people[key] = person
    return State(people, state.objects, state.log, state.metrics)


def read_state(client: TestClient, system: System, workspace: dict[str, Any], case: Case) -> State:
    return State(
        people={key: person_state(client, workspace, *key) for key in case.people},
        objects={key: object_state(client, workspace, *key) for key in case.objects},
        log=ingestion_log(client, app_headers(workspace)),
        metrics=workspace_activities(system, workspace),
    )


def new_workspace(system: System, label: str) -> dict[str, Any]:
    return system.workspaces.create(f"ws-{label}-{uuid.uuid4().hex[:10]}")


# -- the tests ------------------------------------------------------------------------------------


def test_every_line_of_the_fixtures_file_has_a_case() -> None:
    assert [line_id(i, line) for i, line in enumerate(LINES)] == list(CASES)


@pytest.mark.parametrize(
    ("name", "line"),
    [pytest.param(line_id(i, line), line, id=line_id(i, line)) for i, line in enumerate(LINES)],
)
def test_the_destination_request_and_the_segment_message_leave_the_same_state(
    client: TestClient, system: System, name: str, line: dict[str, Any]
) -> None:
    case = CASES[name]
    v2, segment = new_workspace(system, "v2"), new_workspace(system, "segment")
    run(client, v2, case.before)
    run(client, segment, case.before)

    answer = send_destination_request(client, v2, line)
    assert answer.status_code == 200, answer.text
    if line["segment_event"] is not None:
        for _ in range(2 if has_message_id(line) else 1):  # a retry: messageId de-duplicates
            sent = send_segment_batch(client, segment, line)
            assert sent.status_code == 200, sent.text
            assert sent.json() == {"success": True}

    def same_state() -> State:
        by_destination = read_state(client, system, v2, case)
        by_segment = read_state(client, system, segment, case)
        assert [e for e in by_segment.log if e["door"] == "segment"] == []  # nothing dropped
        assert [e for e in by_destination.log if e["door"] == "track_v2"] == []
        assert [e["reason"] for e in by_segment.log] == [e["reason"] for e in by_destination.log]
        by_segment.log = by_destination.log = []
        assert comparable(by_segment, line) == comparable(by_destination, line)
        return by_destination

    midway = same_state() if case.after else None
    run(client, v2, case.after)
    run(client, segment, case.after)
    final = same_state()
    final.midway = midway
    case.expect(final)


def test_the_destinations_test_connection_call_answers_401_for_a_wrong_key_and_stores_nothing(
    client: TestClient, workspace: dict[str, Any]
) -> None:
    (line,) = [line for line in LINES if line["action"] == "testAuthentication"] or [None]
    if line is None:
        pytest.skip("SKIPPED LOUDLY: the fixtures have no testAuthentication line")
    wrong = basic(workspace["site_id"], "not-the-key")

    answer = client.request(line["method"], line["path"], headers=wrong)

    assert answer.status_code == 401
    assert answer.json()["meta"] == {"error": "Unauthorized request"}
    assert ingestion_log(client, app_headers(workspace)) == []


RELATING_CALLS = {
    "track_v1_identify": Call(
        "PUT",
        "/api/v1/customers/u1",
        {"cio_relationships": [relationship("team", "t1", role="owner")]},
    ),
    "track_v2_identify": Call(
        "POST",
        "/api/v2/entity",
        {
            "type": "person",
            "action": "identify",
            "identifiers": {"id": "u1"},
            "cio_relationships": [relationship("team", "t1", role="owner")],
        },
    ),
    "track_v2_add_relationships": Call(
        "POST",
        "/api/v2/entity",
        {
            "type": "person",
            "action": "add_relationships",
            "identifiers": {"id": "u1"},
            "cio_relationships": [relationship("team", "t1", role="owner")],
        },
    ),
}


@pytest.mark.parametrize(
    "door",
    [
        "track_v1_identify",
        "track_v2_identify",
        "segment_identify_with_object_id",
        "track_v2_add_relationships",
    ],
)
def test_a_relationship_to_a_new_object_creates_the_object_whichever_call_adds_it(
    client: TestClient, workspace: dict[str, Any], door: str
) -> None:
    if door == "segment_identify_with_object_id":
        identify_with_object = {
            "type": "identify",
            "userId": "u1",
            "traits": {
                "objectId": "t1",
                "object_type_id": "team",
                "relationshipAttributes": {"role": "owner"},
            },
        }
        answer = client.post(
            "/v1/batch",
            json={"batch": [identify_with_object]},
            headers=write_key_headers(workspace),
        )
        assert answer.status_code == 200, answer.text
    else:
        run(client, workspace, (RELATING_CALLS[door],))

    person = person_state(client, workspace, "u1", "id")
    assert person is not None
    assert person["relationships"] == [
        {"object_type_id": "team", "object_id": "t1", "attributes": {"role": "owner"}}
    ]
    assert object_state(client, workspace, "team", "t1") == {
        "object_type_id": "team",
        "object_id": "t1",
        "attributes": {},
        "relationships": [
            {"id": "u1", "email": None, "relationship_attributes": {"role": "owner"}}
        ],
        "anonymous_relationships": [],
    }
