"""The outbox (docs/api.md §4, §5): Customer.io's transactional API recorded and never sent,
listed at /api/outbox and shown on the person, through the wire, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import re
import time
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.services.system import System
from tests.api.calls import activities, assert_error, bearer, customer, ingestion_log, rows
from tests.api.odd_input import ODD_JSON
from tests.api.stored import count, footprint

LIST = "/api/outbox"
DELIVERY_ID = re.compile(r"[A-Za-z0-9_-]{24}")
KINDS = ("email", "push", "sms", "inbox_message", "in_app")
ACTIVITY = {
    "email": "sent_email",
    "push": "sent_action",
    "sms": "sent_action",
    "inbox_message": "sent_action",
    "in_app": "sent_action",
}


def _person(client: Any, track: dict[str, str], app_key: dict[str, str], id_: str, **body: Any):
    answer = client.put(f"/api/v1/customers/{id_}", json=body, headers=track)
    assert answer.status_code == 200, answer.text
    found = customer(client, app_key, id_)
    assert found is not None
    return found


def _send(client: Any, app_key: dict[str, str], kind: str, **body: Any) -> dict[str, Any]:
    answer = client.post(f"/v1/send/{kind}", json=body, headers=app_key)
    assert answer.status_code == 200, answer.text
    sent: dict[str, Any] = answer.json()
    return sent


def _page(client: Any, app_key: dict[str, str], **params: Any) -> dict[str, Any]:
    answer = client.get(LIST, params=params, headers=app_key)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _all(client: Any, app_key: dict[str, str], limit: int = 1000) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    start = ""
    while True:
        page = _page(client, app_key, limit=limit, start=start)
        assert len(page["messages"]) <= limit
        found.extend(page["messages"])
        start = page["next"]
        if not start:
            return found


def _stored(system: System, workspace: dict[str, Any]) -> dict[str, int]:
    """Everything the workspace holds, the outbox and the ingestion log included."""
    ws = int(workspace["workspace_id"])
    return {
        **footprint(system, ws),
        "outbox": count(system, "outbox", ws),
        "ingestion_log": count(system, "ingestion_log", ws),
    }


# -- accepted, answered, listed, on the person -----------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_answered_like_customerio_listed_and_on_the_person(
    client, track, app_key, kind
):
    person = _person(client, track, app_key, "ada", email="ada@example.com")
    before = time.time()

    sent = _send(
        client,
        app_key,
        kind,
        transactional_message_id=7,
        identifiers={"id": "ada"},
        message_data={"code": "1234"},
    )

    assert set(sent) == {"delivery_id", "queued_at"}
    assert DELIVERY_ID.fullmatch(sent["delivery_id"])
    assert isinstance(sent["queued_at"], int) and int(before) <= sent["queued_at"] <= time.time()
    (listed,) = _all(client, app_key)
    assert listed["delivery_id"] == sent["delivery_id"]
    assert listed["kind"] == kind
    assert int(listed["queued_at"]) == sent["queued_at"]
    assert listed["customer"] == {
        "cio_id": person["identifiers"]["cio_id"],
        "id": "ada",
        "email": "ada@example.com",
    }
    assert listed["message"]["transactional_message_id"] == 7
    assert listed["message"]["message_data"] == {"code": "1234"}
    (activity,) = activities(client, app_key, "ada", ACTIVITY[kind])
    assert activity["name"] == sent["delivery_id"]
    assert activity["data"] == {
        "delivery_id": sent["delivery_id"],
        "delivery_type": kind,
        "transactional_message_id": 7,
    }


def test_an_email_without_to_goes_to_the_persons_email(client, track, app_key):
    _person(client, track, app_key, "grace", email="grace@example.com")
    _send(client, app_key, "email", transactional_message_id="welcome", identifiers={"id": "grace"})
    (listed,) = _all(client, app_key)
    assert listed["message"]["to"] == "grace@example.com"
    assert listed["message"]["transactional_message_id"] == "welcome"


def test_an_email_without_a_template_needs_from_subject_and_body(client, track, app_key):
    _person(client, track, app_key, "tpl", email="tpl@example.com")
    answer = client.post(
        "/v1/send/email",
        json={"identifiers": {"id": "tpl"}, "from": "shop@example.com", "subject": "Hi"},
        headers=app_key,
    )
    assert_error(answer, 400, "body is required", meta="error")
    _send(
        client,
        app_key,
        "email",
        identifiers={"id": "tpl"},
        to="Tpl <tpl@example.com>",
        **{"from": "Shop <shop@example.com>", "subject": "Hi", "body": "<p>Hello</p>"},
    )
    (listed,) = _all(client, app_key)
    assert listed["message"]["subject"] == "Hi"


def test_a_queued_draft_is_a_drafted_activity(client, track, app_key):
    _person(client, track, app_key, "drafty", email="drafty@example.com")
    _send(
        client,
        app_key,
        "email",
        transactional_message_id=1,
        identifiers={"id": "drafty"},
        queue_draft=True,
    )
    _send(client, app_key, "push", transactional_message_id=2, identifiers={"id": "drafty"},
          queue_draft=True)  # fmt: skip
    assert len(activities(client, app_key, "drafty", "drafted_email")) == 1
    assert len(activities(client, app_key, "drafty", "drafted_action")) == 1
    assert activities(client, app_key, "drafty", "sent_email") == []


def test_attachments_are_kept_as_their_sizes_not_their_contents(client, track, app_key):
    _person(client, track, app_key, "att", email="att@example.com")
    content = base64.b64encode(b"x" * 1000).decode()
    _send(
        client,
        app_key,
        "email",
        transactional_message_id=3,
        identifiers={"id": "att"},
        attachments={"receipt.pdf": content},
    )
    (listed,) = _all(client, app_key)
    assert listed["message"]["attachments"] == {"receipt.pdf": {"bytes": 1000}}


# -- who the message is for ------------------------------------------------------------------------


def test_i8_1_an_unknown_id_or_email_creates_the_person(client, app_key):
    sent = _send(
        client,
        app_key,
        "email",
        transactional_message_id=1,
        identifiers={"email": "New.Person@example.com"},
    )
    created = client.get("/v1/customers", params={"email": "new.person@example.com"},
                         headers=app_key).json()["results"]  # fmt: skip
    assert len(created) == 1
    cio_id = created[0]["cio_id"]
    (listed,) = _all(client, app_key)
    assert listed["delivery_id"] == sent["delivery_id"]
    assert listed["customer"]["cio_id"] == cio_id
    assert listed["message"]["to"] == "New.Person@example.com"

    _send(client, app_key, "push", transactional_message_id=1, identifiers={"id": "pushed"})
    pushed = customer(client, app_key, "pushed")
    assert pushed is not None
    assert len(activities(client, app_key, "pushed", "sent_action")) == 1


def test_an_unknown_cio_id_is_a_404_and_nothing_is_written(client, app_key, system, workspace):
    before = _stored(system, workspace)
    answer = client.post(
        "/v1/send/push",
        json={"transactional_message_id": 1, "identifiers": {"cio_id": "0123456789ab"}},
        headers=app_key,
    )
    assert_error(answer, 404, "cio_id", meta="error")
    after = _stored(system, workspace)
    assert {k: v for k, v in after.items() if k != "ingestion_log"} == {
        k: v for k, v in before.items() if k != "ingestion_log"
    }


def test_a_cio_id_reaches_its_person(client, track, app_key):
    person = _person(client, track, app_key, "byref", email="byref@example.com")
    cio_id = person["identifiers"]["cio_id"]
    _send(client, app_key, "sms", transactional_message_id=4, identifiers={"cio_id": cio_id})
    (listed,) = _all(client, app_key)
    assert listed["customer"]["id"] == "byref"


def test_an_email_to_an_unknown_id_without_to_is_refused_and_nobody_is_created(
    client, app_key, system, workspace
):
    before = _stored(system, workspace)
    answer = client.post(
        "/v1/send/email",
        json={"transactional_message_id": 1, "identifiers": {"id": "no-address"}},
        headers=app_key,
    )
    assert_error(answer, 400, "to is required", meta="error")
    assert _stored(system, workspace) == before
    assert customer(client, app_key, "no-address") is None


def test_an_email_to_a_known_person_without_any_address_is_refused(
    client, track, app_key, system, workspace
):
    _person(client, track, app_key, "mute")
    before = _stored(system, workspace)
    answer = client.post(
        "/v1/send/email",
        json={"transactional_message_id": 1, "identifiers": {"id": "mute"}},
        headers=app_key,
    )
    assert_error(answer, 400, "to is required", meta="error")
    assert _stored(system, workspace) == before


def test_i9_2_a_suppressed_identifier_is_answered_and_nothing_personal_is_recorded(
    client, track, app_key, system, workspace
):
    _person(client, track, app_key, "gone", email="gone@example.com")
    suppressed = client.post("/api/v1/customers/gone/suppress", headers=track)
    assert suppressed.status_code == 200, suppressed.text
    before = _stored(system, workspace)

    for kind, identifiers in (("push", {"id": "gone"}), ("email", {"email": "gone@example.com"})):
        sent = _send(client, app_key, kind, transactional_message_id=1,
                     identifiers=identifiers, message_data={"secret": "x"})  # fmt: skip
        assert DELIVERY_ID.fullmatch(sent["delivery_id"])

    after = _stored(system, workspace)
    assert {k: v for k, v in after.items() if k != "ingestion_log"} == {
        k: v for k, v in before.items() if k != "ingestion_log"
    }
    assert _all(client, app_key) == []
    assert customer(client, app_key, "gone") is None
    logged = ingestion_log(client, app_key)[:2]
    assert all(entry["identifier_hash"] for entry in logged)
    assert "gone@example.com" not in str(logged)


# -- deletion (docs/identity.md I9.1) --------------------------------------------------------------


def test_i9_1_deleting_a_person_removes_their_messages(client, track, app_key, system, workspace):
    _person(client, track, app_key, "leaver", email="leaver@example.com")
    _person(client, track, app_key, "stayer", email="stayer@example.com")
    for kind in KINDS:
        _send(client, app_key, kind, transactional_message_id=1, identifiers={"id": "leaver"})
    _send(client, app_key, "email", transactional_message_id=1, identifiers={"id": "stayer"})

    deleted = client.post("/v1/customers/delete", json={"ids": ["leaver"]}, headers=app_key)
    assert deleted.status_code == 200, deleted.text

    (left,) = _all(client, app_key)
    assert left["customer"]["id"] == "stayer"
    held = rows(
        system,
        "select message from outbox where workspace_id = :w",
        w=workspace["workspace_id"],
    )
    assert "leaver" not in str(held)


def test_i9_1_deleting_a_primary_removes_the_messages_of_people_merged_into_it(
    client, track, app_key
):
    _person(client, track, app_key, "prim", email="prim@example.com")
    _person(client, track, app_key, "second", email="second@example.com")
    _send(client, app_key, "email", transactional_message_id=1, identifiers={"id": "second"})
    merged = client.post(
        "/v1/merge_customers",
        json={"primary": {"id": "prim"}, "secondary": {"id": "second"}},
        headers=app_key,
    )
    assert merged.status_code == 200, merged.text
    assert len(activities(client, app_key, "prim", "sent_email")) == 1

    deleted = client.post("/v1/customers/delete", json={"ids": ["prim"]}, headers=app_key)
    assert deleted.status_code == 200, deleted.text
    assert _all(client, app_key) == []


def test_a_track_api_delete_removes_the_messages_too(client, track, app_key):
    _person(client, track, app_key, "tracked-out", email="t@example.com")
    _send(client, app_key, "sms", transactional_message_id=1, identifiers={"id": "tracked-out"})
    answer = client.delete("/api/v1/customers/tracked-out", headers=track)
    assert answer.status_code == 200, answer.text
    assert _all(client, app_key) == []


def test_i9_2_suppressing_a_person_removes_their_messages(client, track, app_key):
    _person(client, track, app_key, "hush", email="hush@example.com")
    _send(client, app_key, "email", transactional_message_id=1, identifiers={"id": "hush"})
    answer = client.post("/api/v1/customers/hush/suppress", headers=track)
    assert answer.status_code == 200, answer.text
    assert _all(client, app_key) == []


def test_fields_roster_does_not_check_are_kept_as_sent(client, track, app_key):
    _person(client, track, app_key, "newer", email="newer@example.com")
    _send(client, app_key, "push", transactional_message_id=1, identifiers={"id": "newer"},
          future_field={"a": [1, 2]})  # fmt: skip
    (listed,) = _all(client, app_key)
    assert listed["message"]["future_field"] == {"a": [1, 2]}


# -- the list --------------------------------------------------------------------------------------


def test_the_list_pages_newest_first_and_pages_do_not_shift(client, track, app_key):
    _person(client, track, app_key, "pager", email="pager@example.com")
    ids = [
        _send(client, app_key, "push", transactional_message_id=n, identifiers={"id": "pager"})[
            "delivery_id"
        ]
        for n in range(1, 6)
    ]
    whole = _all(client, app_key)
    assert [m["delivery_id"] for m in whole] == list(reversed(ids))
    for limit in (1, 2, 5, 7):
        assert _all(client, app_key, limit) == whole

    first = _page(client, app_key, limit=2)
    newcomer = _send(client, app_key, "push", transactional_message_id=9,
                     identifiers={"id": "pager"})["delivery_id"]  # fmt: skip
    second = _page(client, app_key, limit=2, start=first["next"])
    assert [m["delivery_id"] for m in second["messages"]] == [ids[2], ids[1]]
    assert newcomer not in [m["delivery_id"] for m in second["messages"]]


def test_a_message_for_someone_merged_away_keeps_their_cio_id_until_an_unmerge(
    client, track, app_key
):
    _person(client, track, app_key, "keep", email="keep@example.com")
    second = _person(client, track, app_key, "away", email="away@example.com")
    _send(client, app_key, "push", transactional_message_id=1, identifiers={"id": "away"})
    merged = client.post(
        "/v1/merge_customers",
        json={"primary": {"id": "keep"}, "secondary": {"id": "away"}},
        headers=app_key,
    )
    assert merged.status_code == 200, merged.text
    cio_id = second["identifiers"]["cio_id"]
    (listed,) = _all(client, app_key)
    assert listed["customer"] == {"cio_id": cio_id, "id": None, "email": None}

    undone = client.post("/v1/customers/keep/unmerge", headers=app_key)
    assert undone.status_code == 200, undone.text
    (listed,) = _all(client, app_key)
    assert listed["customer"] == {"cio_id": cio_id, "id": "away", "email": "away@example.com"}


def test_a_cio_id_is_read_with_or_without_its_prefix(client, track, app_key):
    person = _person(client, track, app_key, "prefixed")
    cio_id = person["identifiers"]["cio_id"]
    for written in (cio_id, f"cio_{cio_id}"):
        _send(
            client, app_key, "in_app", transactional_message_id=1, identifiers={"cio_id": written}
        )
    assert [m["customer"]["id"] for m in _all(client, app_key)] == ["prefixed", "prefixed"]


def test_a_body_over_4000000_bytes_is_a_400(client, track, app_key, system, workspace):
    _person(client, track, app_key, "huge", email="huge@example.com")
    before = _stored(system, workspace)
    body = {**VALID, "identifiers": {"id": "huge"}, "message_data": {"x": "y" * 4_000_000}}
    answer = client.post("/v1/send/email", json=body, headers=app_key)
    assert_error(answer, 400, "4000000", meta="error")
    assert _stored(system, workspace) == before


def test_a_key_reaches_only_its_own_workspaces_outbox(client, track, app_key, system: System):
    _person(client, track, app_key, "mine", email="mine@example.com")
    _send(client, app_key, "email", transactional_message_id=1, identifiers={"id": "mine"})
    other = system.workspaces.create(f"other-{uuid.uuid4().hex[:10]}")
    assert _page(client, bearer(other["app_api_key"]))["messages"] == []
    answer = client.post(
        "/v1/send/email",
        json={"transactional_message_id": 1, "identifiers": {"cio_id": "0123456789ab"}},
        headers=bearer(other["app_api_key"]),
    )
    assert answer.status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"start": "nonsense!"}, "start"),
        ({"start": base64.urlsafe_b64encode(b'["x"]').decode()}, "start"),
        ({"start": base64.urlsafe_b64encode(b"[0]").decode()}, "start"),
    ],
)
def test_a_bad_limit_or_start_is_a_400_naming_it(client, app_key, params, field):
    answer = client.get(LIST, params=params, headers=app_key)
    assert_error(answer, 400, field)


def test_the_outbox_and_sending_need_the_app_api_key(client, track):
    assert client.get(LIST).status_code == 401
    assert client.get(LIST, headers=track).status_code == 401
    answer = client.post("/v1/send/email", json={}, headers=bearer("wrong"))
    assert_error(answer, 401, meta="error")


# -- refused calls: a 400 naming the field, nothing written ----------------------------------------

VALID = {"transactional_message_id": 1, "identifiers": {"id": "checked"}}
REFUSED = [
    ("email", {"identifiers": {"id": "checked"}, "to": "a@example.com"}, "from"),
    ("push", {"identifiers": {"id": "checked"}}, "transactional_message_id"),
    ("push", {**VALID, "transactional_message_id": True}, "transactional_message_id"),
    ("push", {**VALID, "transactional_message_id": -3}, "transactional_message_id"),
    ("push", {**VALID, "transactional_message_id": ""}, "transactional_message_id"),
    ("push", {**VALID, "transactional_message_id": {"a": 1}}, "transactional_message_id"),
    ("sms", {"transactional_message_id": 1}, "identifiers"),
    ("sms", {**VALID, "identifiers": "checked"}, "identifiers"),
    ("sms", {**VALID, "identifiers": {}}, "identifiers"),
    ("sms", {**VALID, "identifiers": {"id": "a", "email": "a@example.com"}}, "identifiers"),
    ("sms", {**VALID, "identifiers": {"phone": "1"}}, "identifiers.phone"),
    ("sms", {**VALID, "identifiers": {"id": ""}}, "identifiers.id"),
    ("sms", {**VALID, "identifiers": {"id": "undefined"}}, "identifiers.id"),
    ("sms", {**VALID, "identifiers": {"id": ["x"]}}, "identifiers.id"),
    ("sms", {**VALID, "identifiers": {"id": "x" * 151}}, "identifiers.id"),
    ("in_app", {**VALID, "message_data": "hi"}, "message_data"),
    ("inbox_message", {**VALID, "queue_draft": "yes"}, "queue_draft"),
    ("email", {**VALID, "send_to_unsubscribed": 1}, "send_to_unsubscribed"),
    ("email", {**VALID, "disable_message_retention": "true"}, "disable_message_retention"),
    ("email", {**VALID, "send_at": "tomorrow"}, "send_at"),
    ("email", {**VALID, "send_at": 1.5}, "send_at"),
    ("email", {**VALID, "send_at": time.time() + 91 * 86400}, "send_at"),
    ("email", {**VALID, "to": "not an address"}, "to"),
    ("email", {**VALID, "to": 42}, "to"),
    ("email", {**VALID, "to": ",".join(f"p{n}@example.com" for n in range(16))}, "to"),
    ("email", {**VALID, "bcc": "nobody"}, "bcc"),
    ("email", {**VALID, "from": "shop"}, "from"),
    ("email", {**VALID, "reply_to": "a@b.c, d@e.f"}, "reply_to"),
    ("email", {**VALID, "subject": 5}, "subject"),
    ("email", {**VALID, "headers": {"X-Tag": 1}}, "headers.X-Tag"),
    ("email", {**VALID, "headers": ["X"]}, "headers"),
    ("email", {**VALID, "attachments": ["a.pdf"]}, "attachments"),
    ("email", {**VALID, "attachments": {"a.pdf": "%%%"}}, "attachments.a.pdf"),
    ("email", {**VALID, "attachments": {"a.pdf": 7}}, "attachments.a.pdf"),
    (
        "email",
        {
            **VALID,
            "attachments": {"big.bin": base64.b64encode(b"\0" * (2 * 1024 * 1024 + 1)).decode()},
        },
        "attachments",
    ),
    ("push", {**VALID, "title": ["x"]}, "title"),
    ("push", {**VALID, "custom_data": "x"}, "custom_data"),
    ("sms", {**VALID, "to": 5551234}, "to"),
]


@pytest.mark.parametrize(("kind", "body", "field"), REFUSED)
def test_a_refused_send_is_a_400_naming_the_field_and_writes_nothing(
    client, track, app_key, system, workspace, kind, body, field
):
    _person(client, track, app_key, "checked", email="checked@example.com")
    before = _stored(system, workspace)
    answer = client.post(f"/v1/send/{kind}", json=body, headers=app_key)
    error = assert_error(answer, 400, field, meta="error")
    assert error["code"] == "invalid_request"
    assert _stored(system, workspace) == before


def test_an_email_identifier_in_an_id_only_workspace_is_a_400(client, app_key, system, workspace):
    changed = client.patch(
        "/api/workspace/settings", json={"identifier_mode": "id_only"}, headers=app_key
    )
    assert changed.status_code == 200, changed.text
    before = _stored(system, workspace)
    answer = client.post(
        "/v1/send/push",
        json={"transactional_message_id": 1, "identifiers": {"email": "a@example.com"}},
        headers=app_key,
    )
    assert_error(answer, 400, "identifiers.email", meta="error")
    assert _stored(system, workspace) == before


@pytest.mark.parametrize("kind", KINDS)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=ODD_JSON)
def test_any_json_is_answered_without_a_5xx(client, app_key, kind, body):
    answer = client.post(f"/v1/send/{kind}", json=body, headers=app_key)
    assert answer.status_code in (200, 400, 404), answer.text


@pytest.mark.parametrize("kind", KINDS)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    identifiers=st.dictionaries(
        st.sampled_from(["id", "email", "cio_id", "x"]), ODD_JSON, max_size=3
    ),
    extra=st.dictionaries(
        st.sampled_from(["to", "send_at", "queue_draft", "message_data", "title", "attachments"]),
        ODD_JSON,
        max_size=3,
    ),
)
def test_odd_identifiers_and_fields_are_answered_without_a_5xx(
    client, app_key, kind, identifiers, extra
):
    body = {"transactional_message_id": 1, "identifiers": identifiers, **extra}
    answer = client.post(f"/v1/send/{kind}", json=body, headers=app_key)
    assert answer.status_code in (200, 400, 404), answer.text
