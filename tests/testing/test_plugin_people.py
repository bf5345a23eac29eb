"""The plugin's `roster.people(filter=...)` (docs/testing.md): the workspace's people found
through the App API's people search (docs/api.md §4), oldest first."""

from __future__ import annotations

import pytest

from roster.testing.workspace import RosterWorkspace

EMAIL_BUT_NO_ID = {
    "and": [
        {"attribute": {"field": "email", "operator": "exists"}},
        {"not": {"attribute": {"field": "id", "operator": "exists"}}},
    ]
}


def test_people_with_an_email_but_no_id_are_found_with_their_attributes(
    roster: RosterWorkspace,
) -> None:
    cio = roster.customerio()
    cio.identify("ada-1", email="ada@example.com", plan="pro")
    cio.identify("lead@example.com", plan="free")
    cio.identify("ken-1", seats=3)
    cio.identify("other@example.com")

    leads = roster.people(filter=EMAIL_BUT_NO_ID)

    assert [(p.id, p.email) for p in leads] == [
        (None, "lead@example.com"),
        (None, "other@example.com"),
    ]
    leads[0].expect(plan="free")


def test_people_without_a_filter_is_everyone_oldest_first(roster: RosterWorkspace) -> None:
    cio = roster.customerio()
    for n in range(3):
        cio.identify(f"p-{n}", seats=n)

    assert [p.id for p in roster.people()] == ["p-0", "p-1", "p-2"]
    assert [
        p.id for p in roster.people({"attribute": {"field": "seats", "operator": "eq", "value": 1}})
    ] == ["p-1"]


def test_more_people_than_a_page_are_all_found(roster: RosterWorkspace) -> None:
    cio = roster.customerio()
    for n in range(105):  # past one attributes call of 100 references
        cio.identify(f"many-{n}")

    assert len(roster.people()) == 105


def test_a_malformed_filter_raises_valueerror_naming_where(roster: RosterWorkspace) -> None:
    with pytest.raises(ValueError) as refused:
        roster.people({"and": [{"attribute": {"field": "plan", "operator": "gt", "value": 1}}]})

    assert str(refused.value) == (
        "filter.and[0].attribute.operator: unknown operator 'gt' (use eq or exists)"
    )
