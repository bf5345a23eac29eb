"""Explain agrees with reality (docs/api.md §5): for random calls of every door (Track v1, v2,
Segment, its webhook, the App API's writes) about a few people, in a workspace with or without
`strict_conflicts`, what POST /api/explain says a call would do is what the call then does: its
answer, the people it creates, the activities it logs (with the changes' values), the events it
stores, the ingestion-log entries it adds and the suppression-list entries it adds or frees. On
SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from collections import Counter
from typing import Any

import orjson
from hypothesis import HealthCheck, given, note, settings
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
        st.sampled_from(
            [
                *("v1_identify", "v1_event", "v1_anonymous", "v2", "segment", "strict", "webhook"),
                *("merge", "unmerge", "delete", "send", "suppress", "unsuppress"),
            ]
        )
    )
    user = draw(st.sampled_from(IDS + EMAILS))
    if kind in APP_CALLS:
        return APP_CALLS[kind](draw, user)
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
    message = {k: v for k, v in message.items() if v is not None}
    if kind == "webhook":  # the path's webhook id is the workspace's own, set by the test
        return {"door": "webhook", "method": "POST", "path": WEBHOOK, "body": message}
    return {"door": "segment", "method": "POST", "path": "/v1/batch", "body": {"batch": [message]}}


WEBHOOK = "/segment/webhook/{webhook_id}"


def _named(ref: str) -> dict[str, str]:
    return {"email" if "@" in ref else "id": ref}


def _app(method: str, path: str, body: Any = None) -> dict[str, Any]:
    call = {"door": "app", "method": method, "path": path}
    return call if body is None else {**call, "body": body}


def _merge(draw: st.DrawFn, user: str) -> dict[str, Any]:
    other = draw(st.sampled_from(IDS + EMAILS))
    return _app(
        "POST", "/v1/merge_customers", {"primary": _named(user), "secondary": _named(other)}
    )


def _unmerge(draw: st.DrawFn, user: str) -> dict[str, Any]:
    kind = "email" if "@" in user else "id"
    return _app("POST", f"/v1/customers/{user}/unmerge?id_type={kind}")


def _delete(draw: st.DrawFn, user: str) -> dict[str, Any]:
    id_type = draw(st.sampled_from(["id", "email"]))
    refs = st.sampled_from((IDS if id_type == "id" else EMAILS) + ["undefined"])
    return _app(
        "POST",
        "/v1/customers/delete",
        {"ids": draw(st.lists(refs, min_size=1, max_size=3)), "id_type": id_type},
    )


def _send(draw: st.DrawFn, user: str) -> dict[str, Any]:
    body: dict[str, Any] = {"transactional_message_id": 1, "identifiers": _named(user)}
    if draw(st.booleans()):
        body["to"] = "someone@example.com"
    return _app("POST", "/v1/send/email", body)


def _suppress(draw: st.DrawFn, user: str) -> dict[str, Any]:
    return {"door": "track_v1", "method": "POST", "path": f"/api/v1/customers/{user}/suppress"}


def _unsuppress(draw: st.DrawFn, user: str) -> dict[str, Any]:
    return _app("POST", "/api/suppressions/unsuppress", _named(user))


APP_CALLS = {
    "merge": _merge,
    "unmerge": _unmerge,
    "delete": _delete,
    "send": _send,
    "suppress": _suppress,
    "unsuppress": _unsuppress,
}


def _people(system: System, workspace_id: int) -> set[str]:
    found = rows(system, "select cio_id from people where workspace_id = :w", w=workspace_id)
    return {row[0] for row in found}


def _last_pk(system: System, table: str, workspace_id: int) -> int:
    found = rows(system, f"select max(pk) from {table} where workspace_id = :w", w=workspace_id)
    return int(found[0][0] or 0)


LOGS = ("activities", "events", "ingestion_log")
# Every activity and event: what a call added is what is there after it and was not before (a
# deletion frees row numbers that SQLite may give again within the same call, so "after the last
# row number" would miss them). A merge moves events to another person, so an event is known by
# its own columns, and its person read beside them.
ACTIVITIES = "select pk, cio_id, type, name, data from activities where workspace_id = :w"
EVENTS = (
    "select e.pk, e.name, e.anonymous_id, p.cio_id from events e left join people p on p.pk = "
    "e.person_pk where e.workspace_id = :w"
)
LOG = "select reason from ingestion_log where workspace_id = :w and pk > :last order by pk"


def _activities(system: System, workspace_id: int) -> list[tuple[Any, ...]]:
    found = rows(system, ACTIVITIES, w=workspace_id)
    return sorted(
        (pk, cio_id, type_, name, _decoded(data)) for pk, cio_id, type_, name, data in found
    )


def _events(system: System, workspace_id: int) -> list[tuple[Any, ...]]:
    return sorted(tuple(row) for row in rows(system, EVENTS, w=workspace_id))


def _added(
    before: list[tuple[Any, ...]], after: list[tuple[Any, ...]], width: int
) -> list[tuple[Any, ...]]:
    """The rows of `after` (in row order) whose first `width` columns no row of `before` has."""
    known = Counter(json.dumps(row[:width], sort_keys=True) for row in before)
    added = []
    for row in after:
        key = json.dumps(row[:width], sort_keys=True)
        if known[key]:
            known[key] -= 1
        else:
            added.append(row)
    return added


def _masked(body: Any, known: set[str]) -> Any:
    """A real answer with the cio_id of a person that never came to be (the person a refused
    call created, then rolled back) read as `new`, as explain reads it."""
    text = re.sub(
        r"(?<![0-9a-f])[0-9a-f]{12}(?![0-9a-f])",
        lambda found: found.group(0) if found.group(0) in known else "new",
        json.dumps(body),
    )
    return json.loads(text)


def _unstamped(body: Any) -> Any:
    """An outbox answer without what each send draws anew (its delivery id and time)."""
    if isinstance(body, dict) and "delivery_id" in body:
        return {**body, "delivery_id": "drawn", "queued_at": "drawn"}
    return body


def _suppressed(system: System, workspace_id: int) -> set[str]:
    found = rows(system, "select hash from suppressions where workspace_id = :w", w=workspace_id)
    return {row[0] for row in found}


def _sent(
    client: Any,
    call: dict[str, Any],
    credentials: dict[str, dict[str, str]],
    workspace: dict[str, Any],
) -> Any:
    """The call, sent as a client sends it; a webhook's signed with the workspace's secret."""
    headers = {**credentials.get(call["door"], {}), **call.get("headers", {})}
    if call["door"] != "webhook":
        return client.request(call["method"], call["path"], json=call.get("body"), headers=headers)
    raw = orjson.dumps(call["body"])
    secret = workspace["webhook_secret"].encode()
    headers["X-Signature"] = hmac.new(secret, raw, hashlib.sha1).hexdigest()
    headers["Content-Type"] = "application/json"
    return client.request(call["method"], call["path"], content=raw, headers=headers)


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
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=st.lists(calls(), min_size=1, max_size=6), strict=st.booleans())
def test_explains_prediction_is_what_each_call_then_does(
    client: Any, system: System, history: list[dict[str, Any]], strict: bool
) -> None:
    workspace = system.workspaces.create(f"ws-{uuid.uuid4().hex[:10]}")
    workspace_id = workspace["workspace_id"]
    key = bearer(workspace["app_api_key"])
    credentials = {
        "track_v1": basic(workspace["site_id"], workspace["track_api_key"]),
        "track_v2": basic(workspace["site_id"], workspace["track_api_key"]),
        "segment": basic(workspace["write_key"]),
        "app": key,
    }
    settings = {"strict_conflicts": strict}
    assert client.patch("/api/workspace/settings", json=settings, headers=key).is_success
    for call in history:
        if call["path"] == WEBHOOK:
            call = {**call, "path": WEBHOOK.format(webhook_id=workspace["webhook_id"])}
        note(f"call: {call}")
        people = _people(system, workspace_id)
        suppressed = _suppressed(system, workspace_id)
        last = {table: _last_pk(system, table, workspace_id) for table in LOGS}
        activities, events = _activities(system, workspace_id), _events(system, workspace_id)
        said = explain(client, key, **call)
        assert {table: _last_pk(system, table, workspace_id) for table in LOGS} == last
        assert _activities(system, workspace_id) == activities
        assert _suppressed(system, workspace_id) == suppressed

        answer = _sent(client, call, credentials, workspace)

        after = _people(system, workspace_id)
        real = {
            "status": answer.status_code,
            "body": _masked(_unstamped(answer.json()), people | after),
        }
        assert {**said["answer"], "body": _unstamped(said["answer"]["body"])} == real
        done_rows = _added(activities, _activities(system, workspace_id), 5)
        created = {row[1] for row in done_rows if row[2] == "profile_create"}
        unmerged = sum(a["type"] == "profile_unmerge" for a in said["activities"]) // 2
        # New rows are the people created and the secondaries an unmerge brings back.
        assert len(after - people) == len(created) + unmerged
        assert len(created) == sum(a["type"] == "profile_create" for a in said["activities"])
        for message in said["messages"]:
            person = message.get("person")
            if person is not None and not person["new"]:  # someone who is, or was until now
                assert person["cio_id"] in people | after
        predicted = [
            _entry(_predicted_person(a["person"]), a["type"], a["name"], a["data"])
            for a in said["activities"]
        ]
        done = [
            _entry("new" if cio_id in created else cio_id, type_, name, data)
            for _, cio_id, type_, name, data in done_rows
        ]
        assert _without_delivery_ids(predicted) == _without_delivery_ids(done)
        predicted_events = [
            (_predicted_person(e["person"]), e["name"], e["anonymous_id"]) for e in said["events"]
        ]
        done_events = [
            ("new" if cio_id in created else cio_id, name, anonymous_id)
            for _, name, anonymous_id, cio_id in _added(events, _events(system, workspace_id), 3)
        ]
        assert predicted_events == done_events
        logged = rows(system, LOG, w=workspace_id, last=last["ingestion_log"])
        reasons = [row[0] for row in logged]
        assert [entry["reason"] for entry in said["ingestion_log"]] == reasons
        changes = {(s["change"], s["hash"]) for s in said["suppressions"]}
        freed = {h for change, h in changes if change == "removed"}
        added = {h for change, h in changes if change == "added"}
        assert _suppressed(system, workspace_id) == (suppressed - freed) | added


def _without_delivery_ids(entries: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """An outbox activity is named by its delivery id, which each send draws anew."""
    return [
        (person, type_, "drawn" if type_ in ("sent_email", "drafted_email") else name, data)
        for person, type_, name, data in entries
    ]
