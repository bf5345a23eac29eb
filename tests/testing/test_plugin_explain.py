"""The plugin's `roster.explain(...)` (docs/testing.md): why a call would update Ada instead of
creating Bob, by the rules of docs/identity.md, with nothing written."""

from __future__ import annotations

import pytest

from roster.testing.workspace import RosterWorkspace


def test_explain_says_a_call_for_a_new_id_with_a_known_email_updates_that_person(
    roster: RosterWorkspace,
) -> None:
    roster.customerio().identify("ada-1", email="ada@example.com")
    ada = roster.person("ada-1")

    why = roster.explain(
        "PUT", "/api/v1/customers/bob", {"email": "ada@example.com", "plan": "pro"}
    )

    assert why.status == 200
    assert why.cio_ids == [ada.cio_id] and not why.creates_person
    assert "I3.3" in why.rules
    assert [(c["attribute"], c["to"]) for c in why.changes] == [("plan", "pro")]
    assert [(r["attribute"], r["value"]) for r in why.refused] == [("id", "bob")]
    assert "I3.3: " in str(why)
    assert roster.find_person("bob") is None  # nothing was written
    roster.person("ada-1").expect(plan=None)


def test_explain_says_a_segment_identify_of_a_new_user_creates_a_person(
    roster: RosterWorkspace,
) -> None:
    why = roster.explain("POST", "/v1/identify", {"userId": "grace-1", "traits": {"plan": "team"}})

    assert why.creates_person and why.cio_ids == []
    assert roster.people() == []


def test_explain_refuses_a_path_no_door_takes(roster: RosterWorkspace) -> None:
    with pytest.raises(ValueError, match="give door="):
        roster.explain("GET", "/healthz")


def test_explain_finds_the_app_api_and_webhook_doors_from_the_path(
    roster: RosterWorkspace,
) -> None:
    roster.customerio().identify("ada-1", email="ada@example.com")
    merge = {"primary": {"id": "ada-1"}, "secondary": {"id": "nobody"}}

    refused = roster.explain("POST", "/v1/merge_customers", merge)
    hook = roster.explain("POST", "/segment/webhook/any", {"type": "identify", "userId": "grace-1"})

    assert refused.status == 404 and refused.rules == ["I6.1"], refused
    assert refused.not_applied == ["no secondary person with id 'nobody'"]
    assert "not applied: no secondary person" in str(refused)
    assert hook.status == 200 and hook.creates_person, hook
    assert roster.find_person("grace-1") is None


def test_explain_of_a_call_strict_conflicts_refuses_lists_the_rules_that_led_there(
    roster: RosterWorkspace,
) -> None:
    roster.customerio().identify("ada-1", email="ada@example.com")
    roster.customerio().identify("grace-1")
    roster.configure(strict_conflicts=True)

    why = roster.explain("PUT", "/api/v1/customers/grace-1", {"email": "ada@example.com"})

    assert why.status == 409, why
    assert why.rules == ["I3.2", "I5.2", "I5.2"]
    assert not why.creates_person and why.cio_ids == [] and why.changes == []
