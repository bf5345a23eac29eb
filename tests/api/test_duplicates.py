"""The duplicate finder on roster's own API (docs/api.md §5; docs/identity.md I1.4, I3.7, I5.2):
groups of people who are probably one human, through the wire, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.domain.identifiers import IdentifierMode
from roster.services.system import System
from tests.api.calls import assert_error, basic, bearer
from tests.api.odd_input import ODD_TEXT
from tests.domain.personas import ADA, GRACE, LINUS, MARGARET

LIST = "/api/duplicates"


def _workspace(system: System, mode: IdentifierMode) -> dict[str, Any]:
    return system.workspaces.create(f"dup-{uuid.uuid4().hex[:10]}", mode)


def _headers(ws: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    return basic(ws["site_id"], ws["track_api_key"]), bearer(ws["app_api_key"])


def _put(client: Any, track: dict[str, str], ref: str, **body: Any) -> None:
    answer = client.put(f"/api/v1/customers/{ref}", json=body, headers=track)
    assert answer.status_code == 200, answer.text


def _page(client: Any, app_key: dict[str, str], **params: Any) -> dict[str, Any]:
    answer = client.get(LIST, params=params, headers=app_key)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _all(client: Any, app_key: dict[str, str], limit: int = 100) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    start = ""
    while True:
        page = _page(client, app_key, limit=limit, start=start)
        assert len(page["duplicates"]) <= limit
        found += page["duplicates"]
        start = page["next"]
        if not start:
            return found


def _ids(group: dict[str, Any]) -> list[str | None]:
    return [person["id"] for person in group["people"]]


@pytest.fixture
def id_only(system: System) -> dict[str, Any]:
    return _workspace(system, IdentifierMode.ID_ONLY)


def test_i1_4_people_of_an_id_only_workspace_who_share_an_email_are_one_group_oldest_first(
    client, system, id_only
):
    track, app_key = _headers(id_only)
    _put(client, track, ADA.id, email=ADA.email)
    _put(client, track, GRACE.id, email=GRACE.email)
    _put(client, track, "ada-work", email=ADA.email)  # Ada signed up again with a new id
    _put(client, track, "ada-phone", email=ADA.email)

    body = _page(client, app_key)

    assert body["next"] == ""
    (group,) = body["duplicates"]
    assert group["reason"] == "same_email"
    assert group["email"] == ADA.email
    assert group["size"] == 3
    assert _ids(group) == [ADA.id, "ada-work", "ada-phone"]
    assert group["primary"] == group["people"][0]["cio_id"]
    assert set(group["people"][0]) == {"cio_id", "id", "email", "created_in_roster_at"}
    times = [person["created_in_roster_at"] for person in group["people"]]
    assert times == sorted(times)


def test_an_email_in_other_letter_case_or_with_spaces_is_an_email_case_group(
    client, system, id_only
):
    track, app_key = _headers(id_only)
    _put(client, track, MARGARET.id, email=MARGARET.email)
    _put(client, track, "mh-2", email="  Margaret@Example.COM ")

    (group,) = _all(client, app_key)

    assert group["reason"] == "email_case"
    assert group["email"] == MARGARET.email
    spellings = [p["email"] for p in group["people"]]
    assert spellings[0] == MARGARET.email != spellings[1]
    assert {email.strip().casefold() for email in spellings} == {MARGARET.email}
    assert _ids(group) == [MARGARET.id, "mh-2"]


def test_i5_2_an_id_only_person_and_an_email_only_lead_tied_by_a_conflict_are_a_pair(
    client, system, workspace, track, app_key
):
    system.workspaces.change_settings(int(workspace["workspace_id"]), auto_merge=False)
    _put(client, track, LINUS.id, plan="pro")  # known by id only
    _put(client, track, LINUS.email, source="newsletter")  # a lead, known by email only
    _put(client, track, LINUS.id, email=LINUS.email)  # the call that ties them: a conflict

    (group,) = _all(client, app_key)

    assert group["reason"] == "conflict_pair"
    assert group["conflict"] == {"kind": "email", "value": LINUS.email}
    assert [(p["id"], p["email"]) for p in group["people"]] == [
        (LINUS.id, None),
        (None, LINUS.email),
    ]
    assert group["primary"] == group["people"][0]["cio_id"]  # the older: the id-only person


def test_a_pair_is_listed_once_however_many_calls_and_doors_recorded_its_conflict(
    client, system, workspace, track, app_key
):
    system.workspaces.change_settings(int(workspace["workspace_id"]), auto_merge=False)
    _put(client, track, LINUS.email)
    _put(client, track, LINUS.id)
    _put(client, track, LINUS.id, email=LINUS.email)
    _put(client, track, LINUS.id, email=LINUS.email)
    _put(client, track, LINUS.email, id=LINUS.id)  # the reverse: the lead's call brings the id

    (group,) = _all(client, app_key)
    assert group["reason"] == "conflict_pair"
    assert [p["email"] for p in group["people"]] == [LINUS.email, None]  # the lead came first


def test_an_email_or_id_workspace_without_duplicates_lists_none(
    client, system, workspace, track, app_key
):
    _put(client, track, ADA.id, email=ADA.email)
    _put(client, track, GRACE.id, email=GRACE.email)
    _put(client, track, "ADA@example.com")  # the same person as Ada (I1.3), not a duplicate
    assert _page(client, app_key) == {"duplicates": [], "next": ""}


def test_another_workspaces_duplicates_are_invisible(client, system, id_only, app_key):
    track, own_key = _headers(id_only)
    _put(client, track, ADA.id, email=ADA.email)
    _put(client, track, "ada-work", email=ADA.email)
    assert len(_all(client, own_key)) == 1
    assert _all(client, app_key) == []


def test_pages_follow_the_email_groups_then_the_conflict_pairs_each_group_once(
    client, system, id_only
):
    track, app_key = _headers(id_only)
    for n in range(5):
        _put(client, track, f"p{n}-a", email=f"person{n}@example.com")
        _put(client, track, f"p{n}-b", email=f"Person{n}@example.com")
    whole = _page(client, app_key, limit=1000)["duplicates"]
    assert [g["email"] for g in whole] == [f"person{n}@example.com" for n in range(5)]
    for limit in (1, 2, 3, 5):
        assert _all(client, app_key, limit) == whole


def test_keyset_pages_stay_stable_while_people_are_added(client, system, id_only):
    track, app_key = _headers(id_only)
    for letter in "bdfh":
        _put(client, track, f"{letter}-1", email=f"{letter}@example.com")
        _put(client, track, f"{letter}-2", email=f"{letter}@example.com")
    first = _page(client, app_key, limit=2)
    assert [g["email"] for g in first["duplicates"]] == ["b@example.com", "d@example.com"]

    # New groups before the cursor and after it, and a third person in a group already given.
    for letter in "ag":
        _put(client, track, f"{letter}-1", email=f"{letter}@example.com")
        _put(client, track, f"{letter}-2", email=f"{letter}@example.com")
    _put(client, track, "b-3", email="b@example.com")

    rest: list[dict[str, Any]] = []
    start = first["next"]
    while start:
        page = _page(client, app_key, limit=2, start=start)
        rest += page["duplicates"]
        start = page["next"]
    assert [g["email"] for g in rest] == ["f@example.com", "g@example.com", "h@example.com"]


@pytest.mark.parametrize(
    "start",
    [
        "not-a-cursor",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'["x", "a@example.com"]').decode(),
        base64.urlsafe_b64encode(b'["c", -1]').decode(),
        base64.urlsafe_b64encode(b'["c", true]').decode(),
        base64.urlsafe_b64encode(b'{"e": 1}').decode(),
        base64.urlsafe_b64encode(b'["e", "a\\u0000"]').decode(),  # no database stores a NUL
        base64.urlsafe_b64encode(b'["e", "' + b"\\u0000" * 10 + b'", 5]').decode(),
        "W" * 500,
    ],
)
def test_a_start_that_is_not_a_returned_cursor_is_a_400_naming_start(client, app_key, start):
    answer = client.get(LIST, params={"start": start}, headers=app_key)
    assert_error(answer, 400, says="start")


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "ten", "9" * 30])
def test_a_limit_outside_1_to_1000_is_a_400_naming_limit(client, app_key, limit):
    assert_error(client.get(LIST, params={"limit": limit}, headers=app_key), 400, says="limit")


def test_the_list_needs_the_workspaces_app_api_key(client, track):
    assert client.get(LIST).status_code == 401
    assert client.get(LIST, headers=track).status_code == 401


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(start=ODD_TEXT, limit=st.one_of(st.integers(), ODD_TEXT))
def test_odd_cursors_and_limits_are_answered_never_with_a_5xx(client, app_key, start, limit):
    answer = client.get(LIST, params={"start": start, "limit": limit}, headers=app_key)
    assert answer.status_code in (200, 400), answer.text
