"""customerio-python's App API client, unmodified, sending transactional messages to a real
`roster serve --tls-self-signed` (docs/api.md §4): every send method is answered as Customer.io
answers, and the messages are recorded, listed and on the person, never sent."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from customerio import (
    APIClient,
    CustomerIOException,
    SendEmailRequest,
    SendInAppRequest,
    SendInboxMessageRequest,
    SendPushRequest,
    SendSMSRequest,
)

from tests.server import AppApi, RunningRoster

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def roster(tls_roster: RunningRoster) -> RunningRoster:
    """The HTTPS roster of tests/api/conftest.py (customerio-python speaks HTTPS only)."""
    return tls_roster


@pytest.fixture
def api(roster: RunningRoster, trusted: None) -> Iterator[APIClient]:
    with APIClient(roster.app_api_key, url=roster.base_url, retries=0) as client:
        yield client


def _outbox(roster: RunningRoster) -> list[dict[str, Any]]:
    with httpx.Client(
        base_url=roster.base_url,
        headers={"Authorization": f"Bearer {roster.app_api_key}"},
        verify=roster.verify,
    ) as http:
        answer = http.get("/api/outbox", params={"limit": 1000})
    assert answer.status_code == 200, answer.text
    messages: list[dict[str, Any]] = answer.json()["messages"]
    return messages


def test_every_send_method_of_the_client_is_recorded_and_on_the_person(
    roster: RunningRoster, api: APIClient, app: AppApi, uid: str
) -> None:
    email = f"{uid}@example.com"
    request = SendEmailRequest(
        transactional_message_id=3,
        identifiers={"email": email},
        message_data={"first_name": "Ada"},
        to=f"Ada <{email}>",
    )
    request.attach("receipt.txt", "paid")
    answers = {
        "email": api.send_email(request),
        "push": api.send_push(
            SendPushRequest(
                transactional_message_id="push-trigger",
                identifiers={"email": email},
                title="Hi",
                message="Hello",
            )
        ),
        "sms": api.send_sms(
            SendSMSRequest(transactional_message_id=5, identifiers={"email": email})
        ),
        "inbox_message": api.send_inbox_message(
            SendInboxMessageRequest(transactional_message_id=6, identifiers={"email": email})
        ),
        "in_app": api.send_in_app(
            SendInAppRequest(transactional_message_id=7, identifiers={"email": email})
        ),
    }

    for answer in answers.values():
        assert set(answer) == {"delivery_id", "queued_at"}
    person = app.with_email(email)
    assert len(person) == 1
    cio_id = person[0]["cio_id"]
    mine = {m["delivery_id"]: m for m in _outbox(roster) if m["customer"]["cio_id"] == cio_id}
    for kind, answer in answers.items():
        assert mine[answer["delivery_id"]]["kind"] == kind
    email_message = mine[answers["email"]["delivery_id"]]["message"]
    assert email_message["attachments"] == {"receipt.txt": {"bytes": len(b"paid")}}
    assert base64.b64encode(b"paid").decode() not in str(email_message)
    logged = app.activities(cio_id, id_type="cio_id")
    assert [a["name"] for a in logged if a["type"] == "sent_email"] == [
        answers["email"]["delivery_id"]
    ]
    assert len([a for a in logged if a["type"] == "sent_action"]) == 4


def test_the_client_raises_on_a_refused_send_naming_the_field(
    api: APIClient, roster: RunningRoster
) -> None:
    try:
        api.send_push(SendPushRequest(identifiers={"id": "nobody-at-all"}, title="Hi"))
    except CustomerIOException as error:
        message = str(error)
    else:
        raise AssertionError("the client did not raise CustomerIOException")
    assert message.startswith("400:")
    assert "transactional_message_id" in message
