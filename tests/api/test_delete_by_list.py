"""Delete by list, `POST /v1/customers/delete` (docs/api.md §4; docs/identity.md I9.1), through
the wire, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.services.system import System
from tests.api.calls import activities, assert_error, customer, rows
from tests.api.odd_input import ODD_JSON
from tests.api.stored import footprint

URL = "/v1/customers/delete"


def _person(client: Any, track: dict[str, str], app_key: dict[str, str], id_: str, **body: Any):
    answer = client.put(f"/api/v1/customers/{id_}", json=body, headers=track)
    assert answer.status_code == 200, answer.text
    event = client.post(f"/api/v1/customers/{id_}/events", json={"name": "seen"}, headers=track)
    assert event.status_code == 200, event.text
    found = customer(client, app_key, id_)
    assert found is not None
    return found


def _delete(client: Any, app_key: dict[str, str], ids: list[Any], id_type: str = "id") -> Any:
    answer = client.post(URL, json={"ids": ids, "id_type": id_type}, headers=app_key)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _deleted_entries(client: Any, app_key: dict[str, str], cio_id: str) -> list[dict[str, Any]]:
    answer = client.get(f"/v1/customers/cio_{cio_id}/activities?deleted=true", headers=app_key)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["activities"]
    return found


def test_i9_1_listed_people_are_deleted_with_everything_and_leave_a_profile_delete(
    client, track, app_key, system: System, workspace
):
    people = {name: _person(client, track, app_key, name, plan="x") for name in ("del-a", "del-b")}
    keeper = _person(client, track, app_key, "keeper")

    summary = _delete(client, app_key, ["del-a", "del-b", "nobody-here"])
    assert summary == {"deleted": 2, "not_found": 1, "refused": []}
    for name, person in people.items():
        assert customer(client, app_key, name) is None
        cio_id = person["identifiers"]["cio_id"]
        (entry,) = _deleted_entries(client, app_key, cio_id)
        assert entry["type"] == "profile_delete"
        held = rows(
            system,
            "select count(*) from events e join people p on p.pk = e.person_pk "
            "where p.workspace_id = :w and p.cio_id = :c",
            w=workspace["workspace_id"],
            c=cio_id,
        )
        assert held[0][0] == 0
    assert customer(client, app_key, "keeper") == keeper
    assert [a["name"] for a in activities(client, app_key, "keeper", "event")] == ["seen"]


def test_a_second_run_deletes_nothing_twice_and_reports_everyone_not_found(
    client, track, app_key, system: System, workspace
):
    for name in ("again-a", "again-b"):
        _person(client, track, app_key, name)
    assert _delete(client, app_key, ["again-a", "again-b"])["deleted"] == 2
    after_first = footprint(system, workspace["workspace_id"])

    second = _delete(client, app_key, ["again-a", "again-b"])
    assert second == {"deleted": 0, "not_found": 2, "refused": []}
    assert footprint(system, workspace["workspace_id"])["activities"] == after_first["activities"]


def test_a_person_listed_twice_is_deleted_once(client, track, app_key):
    _person(client, track, app_key, "twice")
    assert _delete(client, app_key, ["twice", "twice"]) == {
        "deleted": 1,
        "not_found": 1,
        "refused": [],
    }


def test_people_are_found_by_email_or_by_cio_id_as_id_type_says(client, track, app_key):
    by_email = _person(client, track, app_key, "mail-1", email="Mail.One@example.com")
    by_cio = _person(client, track, app_key, "cio-1")
    assert _delete(client, app_key, [" mail.one@EXAMPLE.com"], "email")["deleted"] == 1
    cio_id = by_cio["identifiers"]["cio_id"]
    assert _delete(client, app_key, [cio_id], "cio_id")["deleted"] == 1
    assert customer(client, app_key, "mail-1") is None
    assert customer(client, app_key, "cio-1") is None
    assert by_email["identifiers"]["cio_id"] != cio_id


def test_id_type_defaults_to_id_and_numbers_are_read_as_ids(client, track, app_key):
    _person(client, track, app_key, "42")
    answer = client.post(URL, json={"ids": [42]}, headers=app_key)
    assert answer.status_code == 200, answer.text
    assert answer.json()["deleted"] == 1


def test_unusable_and_suppressed_references_are_refused_with_why_and_the_rest_is_deleted(
    client, track, app_key
):
    _person(client, track, app_key, "fine")
    suppressed = client.post("/api/v1/customers/hushed/suppress", headers=track)
    assert suppressed.status_code == 200, suppressed.text

    summary = _delete(client, app_key, ["", "undefined", "x" * 151, "hushed", "fine", "Zoë ☃"])
    assert summary["deleted"] == 1
    assert summary["not_found"] == 1  # Zoë: a valid id that nobody has
    refused = {entry["ref"]: entry["reason"] for entry in summary["refused"]}
    assert set(refused) == {"", "undefined", "x" * 151, "hushed"}
    assert "empty" in refused[""]
    assert "placeholder" in refused["undefined"]
    assert "150" in refused["x" * 151]
    assert "suppressed" in refused["hushed"]


def test_in_an_id_only_workspace_emails_are_refused_one_by_one(client, track, app_key):
    changed = client.patch(
        "/api/workspace/settings", json={"identifier_mode": "id_only"}, headers=app_key
    )
    assert changed.status_code == 200, changed.text
    summary = _delete(client, app_key, ["a@example.com"], "email")
    assert summary["deleted"] == 0
    assert summary["refused"][0]["ref"] == "a@example.com"


def test_a_list_of_10000_is_taken_and_one_of_10001_is_a_400(client, app_key):
    ids = [f"bulk-{n}" for n in range(10_000)]
    summary = _delete(client, app_key, ids)
    assert summary == {"deleted": 0, "not_found": 10_000, "refused": []}
    assert_error(client.post(URL, json={"ids": [*ids, "one-more"]}, headers=app_key), 400, "ids")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"ids": ["a"], "id_type": "phone"}, "id_type"),
        ({"ids": ["a"], "id_type": 1}, "id_type"),
        ({"ids": ["a"], "id_type": "anonymous_id"}, "id_type"),
        ({"id_type": "id"}, "ids"),
        ({"ids": []}, "ids"),
        ({"ids": "a"}, "ids"),
        ({"ids": {"a": 1}}, "ids"),
        ({"ids": ["ok", None]}, "ids"),
        ({"ids": ["ok", True]}, "ids"),
        ({"ids": ["ok", ["nested"]]}, "ids"),
        ({"ids": ["ok", {"id": "x"}]}, "ids"),
    ],
)
def test_a_malformed_list_is_a_400_naming_it_and_deletes_nobody(
    client, track, app_key, system: System, workspace, body, says
):
    _person(client, track, app_key, "ok")
    before = footprint(system, workspace["workspace_id"])
    answer = client.post(URL, content=orjson.dumps(body), headers=app_key)
    assert_error(answer, 400, says=says)
    assert footprint(system, workspace["workspace_id"]) == before
    assert customer(client, app_key, "ok") is not None


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"[]",
        b"nope",
        b'{"ids": ["ok\\u0000"]}',
        b"\xff\xfe",
        b'{"ids": ["\xc3"]}',
        b'{"ids": [1.5e400]}',
    ],
)
def test_a_body_that_is_not_a_usable_json_object_is_a_400_and_deletes_nobody(
    client, track, app_key, raw
):
    _person(client, track, app_key, "ok")
    answer = client.post(URL, content=raw, headers={**app_key, "content-type": "application/json"})
    assert_error(answer, 400)
    assert customer(client, app_key, "ok") is not None


def test_a_body_past_the_size_cap_is_a_400(client, app_key):
    huge = b'{"ids": ["' + b"x" * 4_100_000 + b'"]}'
    answer = client.post(URL, content=huge, headers={**app_key, "content-type": "application/json"})
    assert_error(answer, 400, says="larger")


def test_delete_by_list_needs_the_app_key(client, track):
    assert_error(client.post(URL, json={"ids": ["a"]}), 401)
    assert_error(client.post(URL, json={"ids": ["a"]}, headers=track), 401)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ids=st.lists(ODD_JSON, max_size=20) | ODD_JSON,
    id_type=st.sampled_from(["id", "email", "cio_id"]) | ODD_JSON,
)
def test_odd_lists_are_never_a_5xx_and_delete_only_whom_they_name(
    client, track, app_key, ids, id_type
):
    _person(client, track, app_key, "bystander")
    answer = client.post(URL, json={"ids": ids, "id_type": id_type}, headers=app_key)
    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 400:
        assert_error(answer, 400)
    else:
        summary = answer.json()
        assert summary["deleted"] + summary["not_found"] + len(summary["refused"]) == len(ids)
    assert customer(client, app_key, "bystander") is not None
