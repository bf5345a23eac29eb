"""The plugin's `roster.customerio_api()` and `roster.outbox()` (docs/testing.md): an app's
transactional messages, sent through customerio-python's APIClient, are recorded by roster and
read back oldest first, each with the person it was for."""

from __future__ import annotations

from customerio import SendEmailRequest, SendPushRequest  # type: ignore[import-untyped]

from roster.testing.workspace import RosterWorkspace


def test_transactional_messages_sent_by_the_app_are_in_the_outbox_oldest_first(
    roster: RosterWorkspace,
) -> None:
    roster.customerio().identify("ada-1", email="ada@example.com")
    api = roster.customerio_api()

    api.send_email(
        SendEmailRequest(
            transactional_message_id=3,
            identifiers={"id": "ada-1"},
            message_data={"reset_url": "https://example.com/r/1"},
        )
    )
    api.send_push(SendPushRequest(transactional_message_id="welcome", identifiers={"id": "ada-1"}))

    first, second = roster.outbox()
    assert (first.kind, first.id, first.email, first.to) == (
        "email",
        "ada-1",
        "ada@example.com",
        "ada@example.com",  # no `to`: the person's email (docs/decisions.md)
    )
    assert first.transactional_message_id == 3
    assert first.message_data == {"reset_url": "https://example.com/r/1"}
    assert (second.kind, second.transactional_message_id) == ("push", "welcome")
    assert first.queued_at <= second.queued_at
    assert [a.type for a in roster.activities("ada-1", type="sent_email")] == ["sent_email"]


def test_an_empty_outbox_is_an_empty_list(roster: RosterWorkspace) -> None:
    assert roster.outbox() == []
