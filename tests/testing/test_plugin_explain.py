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
