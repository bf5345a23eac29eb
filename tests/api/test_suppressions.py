"""The suppression list on roster's own API (docs/api.md §5; docs/identity.md I9.2, I9.3): list,
check, unsuppress, through the wire, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.services.system import System
from tests.api.calls import assert_error, basic, bearer, customer, entity
from tests.api.odd_input import ODD_JSON, ODD_TEXT
from tests.api.stored import footprint

LIST = "/api/suppressions"
HEX64 = re.compile(r"[0-9a-f]{64}")


def _person(client: Any, track: dict[str, str], app_key: dict[str, str], id_: str, **body: Any):
    answer = client.put(f"/api/v1/customers/{id_}", json=body, headers=track)
    assert answer.status_code == 200, answer.text
    found = customer(client, app_key, id_)
    assert found is not None
    return found


def _suppress_v1(client: Any, track: dict[str, str], ref: str) -> None:
    answer = client.post(f"/api/v1/customers/{ref}/suppress", headers=track)
    assert answer.status_code == 200, answer.text


def _entries(client: Any, app_key: dict[str, str], **params: Any) -> dict[str, Any]:
    answer = client.get(LIST, params=params, headers=app_key)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _all_entries(client: Any, app_key: dict[str, str], limit: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    start = ""
    while True:
        page = _entries(client, app_key, limit=limit, start=start)
        assert len(page["suppressions"]) <= limit
        found.extend(page["suppressions"])
        start = page["next"]
        if not start:
            return found


def _check(client: Any, app_key: dict[str, str], **identifier: str) -> dict[str, Any]:
    answer = client.get(f"{LIST}/check", params=identifier, headers=app_key)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


# -- the list --------------------------------------------------------------------------------------


def test_i9_2_a_suppressed_person_is_listed_as_one_group_of_hashes_with_when_and_the_door(
    client, track, app_key
):
    person = _person(client, track, app_key, "ada-7", email="Ada.Lovelace@example.com")
    _suppress_v1(client, track, "ada-7")

    answer = client.get(LIST, headers=app_key)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["next"] == ""
    entries = body["suppressions"]
    assert len(entries) == 3  # cio_id, id and email, suppressed together
    assert {entry["door"] for entry in entries} == {"track_v1"}
    assert len({entry["group"] for entry in entries}) == 1
    assert all(HEX64.fullmatch(entry["hash"]) for entry in entries)
    assert all(isinstance(entry["suppressed_at"], float) for entry in entries)
    # The list holds keyed hashes only: no identifier appears in it, in any spelling.
    for value in (
        "ada-7",
        "Ada.Lovelace@example.com",
        "ada.lovelace@example.com",
        person["identifiers"]["cio_id"],
    ):
        assert value not in answer.text


def test_i9_2_each_door_is_recorded_on_what_it_suppressed(client, track, app_key, workspace):
    entity(client, track, {"type": "person", "action": "suppress", "identifiers": {"id": "by-v2"}})
    segment = basic(workspace["write_key"])
    sent = client.post(
        "/v1/track", json={"userId": "by-segment", "event": "User Suppressed"}, headers=segment
    )
    assert sent.status_code == 200, sent.text
    doors = {
        "by-v2": "track_v2",
        "by-segment": "segment",
    }
    for value, door in doors.items():
        checked = _check(client, app_key, id=value)
        assert checked["suppressed"] is True, value
        assert checked["entry"]["door"] == door


def test_i9_2_an_entry_suppressed_before_doors_were_recorded_shows_door_unknown(
    client, track, app_key, system: System, workspace
):
    _suppress_v1(client, track, "old-timer")
    with system.database.writer.begin() as connection:  # as rows written before doors were
        connection.execute(
            sa.text("update suppressions set door = null where workspace_id = :w"),
            {"w": workspace["workspace_id"]},
        )
    (entry,) = _entries(client, app_key)["suppressions"]
    assert entry["door"] == "unknown"


def test_the_list_pages_newest_first_by_keyset_without_repeating_or_skipping(
    client, track, app_key
):
    # One v2 batch suppresses many identifiers in one transaction: they share one time, so the
    # order within it comes from the hash.
    batch = [
        {"type": "person", "action": "suppress", "identifiers": {"id": f"batch-{n}"}}
        for n in range(7)
    ]
    answer = client.post("/api/v2/batch", json={"batch": batch}, headers=track)
    assert answer.status_code == 200, answer.text
    for n in range(3):
        _suppress_v1(client, track, f"later-{n}")

    whole = _entries(client, app_key, limit=1000)["suppressions"]
    assert len(whole) == 10
    keys = [(entry["suppressed_at"], entry["hash"]) for entry in whole]
    assert keys == sorted(keys, reverse=True)
    for limit in (1, 3, 4, 10):
        assert _all_entries(client, app_key, limit) == whole


def test_pages_do_not_shift_when_new_entries_arrive_between_them(client, track, app_key):
    for n in range(4):
        _suppress_v1(client, track, f"first-{n}")
    first = _entries(client, app_key, limit=2)
    _suppress_v1(client, track, "newcomer")
    second = _entries(client, app_key, limit=2, start=first["next"])
    third = _entries(client, app_key, limit=2, start=second["next"])
    seen = [
        e["hash"] for e in first["suppressions"] + second["suppressions"] + third["suppressions"]
    ]
    assert len(seen) == len(set(seen)) == 4  # the newcomer is before the cursor, not in page 2
    assert third["next"] == ""
    assert _check(client, app_key, id="newcomer")["entry"]["hash"] not in seen


def test_a_key_reaches_only_its_own_workspaces_list(client, track, app_key, system: System):
    _suppress_v1(client, track, "mine")
    other = system.workspaces.create(f"other-{uuid.uuid4().hex[:10]}")
    assert _entries(client, bearer(other["app_api_key"]))["suppressions"] == []
    assert _check(client, bearer(other["app_api_key"]), id="mine")["suppressed"] is False


@pytest.mark.parametrize(
    "start",
    [
        "abc",
        "12",
        "é",
        "\x00",
        "x" * 500,
        base64.urlsafe_b64encode(b'[1.5, "nothex"]').decode(),
        base64.urlsafe_b64encode(b'[true, "' + b"a" * 64 + b'"]').decode(),
        base64.urlsafe_b64encode(b'{"a": 1}').decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_start_that_is_not_a_returned_cursor_is_a_400_naming_start(client, app_key, start):
    answer = client.get(LIST, params={"start": start}, headers=app_key)
    assert_error(answer, 400, says="start")


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "ten", "9" * 30])
def test_a_limit_outside_1_to_1000_is_a_400_naming_limit(client, app_key, limit):
    assert_error(client.get(LIST, params={"limit": limit}, headers=app_key), 400, says="limit")


def test_every_suppression_call_needs_the_app_key(client, track):
    calls = [
        ("GET", LIST, None),
        ("GET", f"{LIST}/check?id=x", None),
        ("DELETE", f"{LIST}/{'a' * 64}", None),
        ("POST", f"{LIST}/unsuppress", {"id": "x"}),
    ]
    for method, url, body in calls:
        assert_error(client.request(method, url, json=body), 401, label=url)
        assert_error(client.request(method, url, json=body, headers=track), 401, label=url)


# -- check -----------------------------------------------------------------------------------------


def test_i9_2_check_finds_an_email_in_any_letter_case_or_spacing_by_its_hash(
    client, track, app_key
):
    _person(client, track, app_key, "grace-1", email="grace@example.com")
    _suppress_v1(client, track, "grace-1")
    listed = {entry["hash"] for entry in _entries(client, app_key)["suppressions"]}

    for spelling in ("grace@example.com", "  GRACE@Example.com "):
        checked = _check(client, app_key, email=spelling)
        assert checked["suppressed"] is True
        assert checked["hash"] in listed
        assert checked["entry"]["hash"] == checked["hash"]
    by_id = _check(client, app_key, id="grace-1")
    assert by_id["suppressed"] is True and by_id["hash"] in listed
    assert (
        by_id["entry"]["group"]
        == _check(client, app_key, email="grace@example.com")["entry"]["group"]
    )


def test_check_of_an_identifier_nobody_suppressed_says_no_and_stores_nothing(
    client, app_key, system: System, workspace
):
    before = footprint(system, workspace["workspace_id"])
    checked = _check(client, app_key, id="Zoë ☃ never-suppressed")
    assert checked == {"suppressed": False, "hash": checked["hash"]}
    assert HEX64.fullmatch(checked["hash"])
    assert footprint(system, workspace["workspace_id"]) == before


def test_check_reads_a_cio_id_with_or_without_its_prefix(client, track, app_key):
    cio_id = _person(client, track, app_key, "cio-check")["identifiers"]["cio_id"]
    _suppress_v1(client, track, "cio-check")
    assert _check(client, app_key, cio_id=cio_id)["suppressed"] is True
    assert _check(client, app_key, cio_id=f"cio_{cio_id}")["suppressed"] is True


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({}, "exactly one"),
        ({"id": "a", "email": "a@b.io"}, "exactly one"),
        ({"phone": "123"}, "phone"),
        ({"id": "a\x00b"}, "NUL"),
        ({"id": "x" * 151}, "id"),
        ({"id": ""}, "id"),
        ({"id": "undefined"}, "id"),
    ],
)
def test_a_check_that_names_no_usable_identifier_is_a_400_naming_it(client, app_key, params, says):
    answer = client.get(f"{LIST}/check", params=params, headers=app_key)
    assert_error(answer, 400, says=says)


def test_in_an_id_only_workspace_an_email_check_is_a_400(client, app_key):
    changed = client.patch(
        "/api/workspace/settings", json={"identifier_mode": "id_only"}, headers=app_key
    )
    assert changed.status_code == 200, changed.text
    assert_error(client.get(f"{LIST}/check", params={"email": "a@b.io"}, headers=app_key), 400)


# -- unsuppress ------------------------------------------------------------------------------------


def test_i9_3_unsuppressing_by_one_identifier_frees_its_whole_group_and_restores_nothing(
    client, track, app_key
):
    _person(client, track, app_key, "hopper", email="hopper@example.com", plan="pro")
    _suppress_v1(client, track, "hopper")
    _suppress_v1(client, track, "bystander")

    answer = client.post(
        f"{LIST}/unsuppress", json={"email": "HOPPER@example.com"}, headers=app_key
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"unsuppressed": 3}
    assert _check(client, app_key, id="hopper")["suppressed"] is False
    assert _check(client, app_key, email="hopper@example.com")["suppressed"] is False
    assert _check(client, app_key, id="bystander")["suppressed"] is True
    assert customer(client, app_key, "hopper") is None  # nothing deleted comes back
    # The id is free again: a call with it creates a new person from scratch.
    again = _person(client, track, app_key, "hopper")
    assert "plan" not in again["attributes"]


def test_i9_3_deleting_an_entry_by_hash_frees_its_group_and_a_second_time_is_a_404(
    client, track, app_key
):
    _person(client, track, app_key, "turing", email="turing@example.com")
    _suppress_v1(client, track, "turing")
    entries = _entries(client, app_key)["suppressions"]
    one = next(entry for entry in entries if entry["hash"] != entry["group"])

    answer = client.delete(f"{LIST}/{one['hash']}", headers=app_key)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"unsuppressed": 3}
    assert _entries(client, app_key)["suppressions"] == []
    assert_error(client.delete(f"{LIST}/{one['hash']}", headers=app_key), 404)


def test_unsuppressing_what_is_not_suppressed_is_a_404_and_changes_nothing(
    client, track, app_key, system: System, workspace
):
    _suppress_v1(client, track, "stays")
    before = footprint(system, workspace["workspace_id"])
    answer = client.post(f"{LIST}/unsuppress", json={"id": "never"}, headers=app_key)
    assert_error(answer, 404, says="not suppressed")
    assert footprint(system, workspace["workspace_id"]) == before


@pytest.mark.parametrize(
    "hash_", ["abc", "A" * 64, "g" * 64, "a" * 65, "%00" + "a" * 61, "%C3%A9" + "a" * 62]
)
def test_a_delete_whose_path_is_not_a_hash_is_a_400(client, app_key, hash_):
    assert_error(client.delete(f"{LIST}/{hash_}", headers=app_key), 400)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({}, "exactly one"),
        ({"id": "a", "cio_id": "b"}, "exactly one"),
        ({"name": "a"}, "name"),
        ({"id": ["a"]}, "id"),
        ({"id": True}, "id"),
        ({"email": {"a": 1}}, "email"),
        ({"id": "x" * 10_000}, "id"),
    ],
)
def test_an_unsuppress_body_that_names_no_usable_identifier_is_a_400(client, app_key, body, says):
    answer = client.post(f"{LIST}/unsuppress", json=body, headers=app_key)
    assert_error(answer, 400, says=says)


@pytest.mark.parametrize(
    "raw", [b"[]", b"not json", b'{"id": "a\\u0000b"}', b'"id"', b"\xff\xfe{}"]
)
def test_an_unsuppress_body_that_is_not_a_json_object_is_a_400(client, app_key, raw):
    answer = client.post(
        f"{LIST}/unsuppress",
        content=raw,
        headers={**app_key, "content-type": "application/json"},
    )
    assert_error(answer, 400)


# -- generated odd input ---------------------------------------------------------------------------

ODD = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@ODD
@given(
    params=st.dictionaries(
        st.sampled_from(["id", "email", "cio_id", "start", "limit", "x"]), ODD_TEXT
    ),
    body=st.dictionaries(st.sampled_from(["id", "email", "cio_id", "hash"]), ODD_JSON) | ODD_JSON,
    path=ODD_TEXT,
)
def test_odd_input_to_any_suppression_call_is_never_a_5xx_and_frees_nothing_it_should_not(
    client, track, app_key, params, body, path
):
    _suppress_v1(client, track, "kept-suppressed")
    answers = [
        client.get(LIST, params=params, headers=app_key),
        client.get(f"{LIST}/check", params=params, headers=app_key),
        client.post(f"{LIST}/unsuppress", json=body, headers=app_key),
        client.delete(f"{LIST}/{quote(path, safe='')}", headers=app_key),
    ]
    for answer in answers:
        assert answer.status_code < 500, answer.text
        if answer.status_code >= 400:
            assert_error(answer, answer.status_code)
    freed = answers[2].status_code == 200 and body == {"id": "kept-suppressed"}
    assert _check(client, app_key, id="kept-suppressed")["suppressed"] is not freed
