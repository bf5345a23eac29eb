"""Importing people, `POST /api/imports` (docs/api.md §5): every row an identify through the
identity rules (docs/identity.md I3-I5, I9.2), through the wire, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.domain.identifiers import IdentifierMode, Reference
from roster.domain.people import Person
from roster.services.system import System
from tests.api.calls import activities, assert_error, bearer, ingestion_log
from tests.api.stored import footprint

URL = "/api/imports"
CSV = {"Content-Type": "text/csv"}


def _import(
    client: Any, app_key: dict[str, str], text: str | bytes, **params: str
) -> dict[str, Any]:
    answer = client.post(URL, content=text, params=params, headers={**app_key, **CSV})
    assert answer.status_code == 200, answer.text
    summary: dict[str, Any] = answer.json()
    return summary


def _person(system: System, workspace: dict[str, Any], kind: str, value: str) -> Person:
    found = system.lookups.find(int(workspace["workspace_id"]), Reference(kind, value))  # type: ignore[arg-type]
    assert found is not None, value
    return found


def _put(client: Any, track: dict[str, str], id_: str, **body: Any) -> None:
    answer = client.put(f"/api/v1/customers/{id_}", json=body, headers=track)
    assert answer.status_code == 200, answer.text


def test_rows_in_the_export_format_become_people_with_their_attribute_types(
    client, app_key, system: System, workspace
):
    text = (
        "cio_id,id,email,created_at,_created_in_roster_at,unsubscribed,age,plan,tags,vip,zip\n"
        ',imp-ada,ada@example.com,1700000000,1.5,true,36,pro,"[""a"",1]",false,"""02134"""\n'
        ",imp-bob,,,,,4.5,,,,\n"
        ",,lead@example.com,,,,,free,,,\n"
    )
    summary = _import(client, app_key, text)
    assert summary == {
        "imported": 3,
        "created": 3,
        "updated": 0,
        "failed": [],
        "failed_count": 0,
        "refused": [],
        "refused_count": 0,
    }
    ada = _person(system, workspace, "id", "imp-ada")
    assert ada.email == "ada@example.com"
    assert ada.attributes == {
        "created_at": 1700000000,
        "unsubscribed": True,
        "age": 36,
        "plan": "pro",
        "tags": ["a", 1],
        "vip": False,
        "zip": "02134",
    }
    assert isinstance(ada.attributes["age"], int) and ada.attributes["vip"] is False
    assert ada.created_in_roster_at != 1.5  # I4.7: roster's own, never taken from the file
    assert _person(system, workspace, "id", "imp-bob").attributes == {"age": 4.5}
    lead = _person(system, workspace, "email", "lead@example.com")
    assert lead.id is None and lead.attributes == {"plan": "free"}


def test_a_second_import_updates_the_people_the_first_created(client, app_key):
    text = "id,plan\nimp-again,pro\n"
    assert _import(client, app_key, text)["created"] == 1
    second = _import(client, app_key, "id,plan\nimp-again,team\n")
    assert (second["created"], second["updated"]) == (0, 1)


def test_imported_changes_are_in_the_activity_log(client, app_key):
    _import(client, app_key, "id,plan\nimp-logged,pro\n")
    changes = activities(client, app_key, "imp-logged", "attribute_change")
    assert ("plan", "pro") in [(a["name"], a["data"]["to"]) for a in changes]
    assert activities(client, app_key, "imp-logged", "profile_create")


def test_i5_2_an_email_held_by_another_person_is_a_conflict_reported_and_logged(
    client, track, app_key, system: System, workspace
):
    _put(client, track, "imp-holder", email="held@example.com")
    _put(client, track, "imp-wants")
    summary = _import(client, app_key, "id,email,plan\nimp-wants,held@example.com,pro\n")
    assert summary["updated"] == 1
    assert summary["refused"] == [
        {
            "line": 2,
            "field": "email",
            "reason": "The identifier is already associated with a different profile.",
        }
    ]
    wants = _person(system, workspace, "id", "imp-wants")
    assert wants.email is None and wants.attributes == {"plan": "pro"}
    (failed,) = activities(client, app_key, "imp-wants", "failed_attribute_change")
    assert failed["name"] == "email"


def test_i5_3_an_id_reference_cannot_change_an_email_but_a_matching_cio_id_can(
    client, track, app_key, system: System, workspace
):
    _put(client, track, "imp-mover", email="old@example.com")
    cio_id = _person(system, workspace, "id", "imp-mover").cio_id
    by_id = _import(client, app_key, "id,email\nimp-mover,new@example.com\n")
    assert by_id["updated"] == 1 and by_id["refused"][0]["field"] == "email"
    assert _person(system, workspace, "id", "imp-mover").email == "old@example.com"

    by_cio = _import(client, app_key, f"cio_id,id,email\n{cio_id},imp-moved,new@example.com\n")
    assert (by_cio["updated"], by_cio["refused"]) == (1, [])
    moved = _person(system, workspace, "cio_id", cio_id)
    assert (moved.id, moved.email) == ("imp-moved", "new@example.com")


def test_a_cio_id_nobody_has_is_ignored_and_the_row_found_by_its_id(
    client, app_key, system: System, workspace
):
    summary = _import(client, app_key, "cio_id,id,plan\n0123456789ab,imp-fresh,pro\n,,\n")
    assert summary["created"] == 1
    assert _person(system, workspace, "id", "imp-fresh").cio_id != "0123456789ab"
    assert summary["failed"] == [{"line": 3, "reason": "the row has neither an id nor an email"}]


def test_i9_2_rows_naming_a_suppressed_identifier_are_skipped_and_reported(
    client, track, app_key, workspace, system: System
):
    _put(client, track, "imp-gone")
    answer = client.post("/api/v1/customers/imp-gone/suppress", headers=track)
    assert answer.status_code == 200, answer.text
    summary = _import(client, app_key, "id,plan\nimp-gone,pro\nimp-here,pro\n")
    assert summary["created"] == 1
    (failed,) = summary["failed"]
    assert failed["line"] == 2 and "suppressed" in failed["reason"]
    assert system.lookups.find(int(workspace["workspace_id"]), Reference("id", "imp-gone")) is None
    assert any(
        entry["door"] == "import" and entry.get("identifier_hash")
        for entry in ingestion_log(client, app_key)
    )


def test_empty_cells_are_kept_by_default_and_removed_with_clear(
    client, track, app_key, system: System, workspace
):
    _put(client, track, "imp-empty", plan="pro", age=3)
    _import(client, app_key, "id,plan,age\nimp-empty,,4\n")
    assert _person(system, workspace, "id", "imp-empty").attributes == {"plan": "pro", "age": 4}
    _import(client, app_key, "id,plan,age\nimp-empty,,5\n", empty_cells="clear")
    assert _person(system, workspace, "id", "imp-empty").attributes == {"age": 5}


def test_clear_removes_an_email_only_for_a_row_matched_by_its_cio_id(
    client, track, app_key, system: System, workspace
):
    _put(client, track, "imp-clear", email="clear@example.com")
    cio_id = _person(system, workspace, "id", "imp-clear").cio_id
    _import(client, app_key, "id,email\nimp-clear,\n", empty_cells="clear")
    assert _person(system, workspace, "id", "imp-clear").email == "clear@example.com"
    _import(client, app_key, f"cio_id,id,email\n{cio_id},imp-clear,\n", empty_cells="clear")
    assert _person(system, workspace, "id", "imp-clear").email is None


def test_rows_the_rules_refuse_are_reported_by_line_and_the_others_imported(
    client, app_key, system: System, workspace
):
    text = (
        "id,email,note,_roster_x\n"
        'imp-ok-1,,"two\nlines\nof text",\n'  # lines 2-4: the next row starts on line 5
        f"imp-long,,{'x' * 1001},\n"
        "imp-bad-email,not an email,,\n"
        "imp-reserved,,,1\n"
        f"{'i' * 151},,,\n"
        "imp-ok-2,,fine,\n"
    )
    summary = _import(client, app_key, text)
    assert summary["created"] == 2
    failed = {entry["line"]: entry["reason"] for entry in summary["failed"]}
    assert sorted(failed) == [5, 6, 7, 8]
    assert "1000 bytes" in failed[5]
    assert "not a valid email" in failed[6]
    assert "reserved" in failed[7]
    assert "150 bytes" in failed[8]
    assert summary["failed_count"] == 4
    note = _person(system, workspace, "id", "imp-ok-1").attributes["note"]
    assert note == "two\nlines\nof text"


def test_i4_3_a_person_over_300_attributes_fails_only_that_row(client, track, app_key):
    _put(client, track, "imp-full", **{f"a{n}": n for n in range(300)})
    summary = _import(client, app_key, "id,extra\nimp-full,1\nimp-roomy,1\n")
    assert summary["created"] == 1
    (failed,) = summary["failed"]
    assert failed["line"] == 2 and "300 attributes" in failed["reason"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "line 1"),
        (b"id,plan\nimp-x,\xff\n", "line 2 is not valid UTF-8"),
        (b"id,plan\nimp-x,a\x00b\n", "line 2 holds a NUL byte"),
        (b"name,plan\nimp-x,pro\n", "neither an 'id' nor an 'email' column"),
        (b"id,plan,plan\nimp-x,a,b\n", "names the 'plan' column more than once"),
        (b"id,,plan\nimp-x,a,b\n", "column 2 of the header has no name"),
        (b"id,plan\nimp-x,pro\nimp-y\n", "line 3: the row has 1 cells where the header has 2"),
        (b'id,plan\nimp-x,pro\nimp-y,"pro\n', "line 3: a quoted cell is never closed"),
        (b'id,plan\nimp-x,"pro"x\n', "line 2"),
    ],
)
def test_a_bad_file_is_a_400_naming_the_line_and_imports_nothing(
    client, app_key, system: System, workspace, body: bytes, says: str
):
    before = footprint(system, int(workspace["workspace_id"]))
    answer = client.post(URL, content=body, headers={**app_key, **CSV})
    assert_error(answer, 400, says)
    assert footprint(system, int(workspace["workspace_id"])) == before


def test_a_bad_row_after_good_ones_imports_nothing(client, app_key, system: System, workspace):
    before = footprint(system, int(workspace["workspace_id"]))
    body = "id,plan\n" + "imp-good,pro\n" * 600 + "imp-short\n"
    answer = client.post(URL, content=body, headers={**app_key, **CSV})
    assert_error(answer, 400, "line 602")
    assert footprint(system, int(workspace["workspace_id"])) == before


def test_a_body_that_is_not_csv_or_an_unknown_empty_cells_choice_is_a_400(client, app_key):
    answer = client.post(URL, json={"id": "x"}, headers=app_key)
    assert_error(answer, 400, "Content-Type must be text/csv")
    answer = client.post(
        URL, params={"empty_cells": "drop"}, content="id\nx\n", headers={**app_key, **CSV}
    )
    assert_error(answer, 400, "empty_cells must be keep or clear")


def test_an_import_needs_the_app_api_key(client, track):
    answer = client.post(URL, content="id\nimp-x\n", headers={**track, **CSV})
    assert answer.status_code == 401


def test_the_first_10000_failed_rows_are_listed_and_all_are_counted(client, app_key):
    summary = _import(client, app_key, "id,email\n" + ",\n" * 10_001)
    assert summary["failed_count"] == 10_001 and len(summary["failed"]) == 10_000
    assert summary["failed"][-1] == {
        "line": 10_001,
        "reason": "the row has neither an id nor an email",
    }


def test_a_body_over_20000000_bytes_is_a_400_and_imports_nothing(
    client, app_key, system: System, workspace
):
    before = footprint(system, int(workspace["workspace_id"]))
    body = b"id,note\n" + b"imp-big," + b"x" * 20_000_000 + b"\n"
    answer = client.post(URL, content=body, headers={**app_key, **CSV})
    assert_error(answer, 400, "larger than 20000000 bytes")
    assert footprint(system, int(workspace["workspace_id"])) == before


def test_i1_4_in_an_id_only_workspace_a_row_needs_an_id(client, system: System):
    workspace = system.workspaces.create(
        f"imp-id-only-{uuid.uuid4().hex[:8]}", IdentifierMode.ID_ONLY
    )
    key = bearer(workspace["app_api_key"])
    summary = _import(client, key, "id,email\nimp-io,same@example.com\n,only@example.com\n")
    assert summary["created"] == 1
    assert summary["failed"] == [
        {
            "line": 3,
            "reason": "the row has no id, and in an id_only workspace an email is no identifier",
        }
    ]


def test_i3_5_an_update_column_means_what_it_means_in_an_identify_body(
    client, app_key, system: System, workspace
):
    summary = _import(client, app_key, "id,_update,plan\nimp-not-made,true,pro\n")
    assert summary["created"] == 0
    (failed,) = summary["failed"]
    assert failed["line"] == 2 and "_update" in failed["reason"]
    assert (
        system.lookups.find(int(workspace["workspace_id"]), Reference("id", "imp-not-made")) is None
    )


def test_a_cell_nesting_json_past_32_levels_fails_its_row(client, app_key):
    deep = "[" * 33 + "]" * 33
    summary = _import(client, app_key, f"id,deep\nimp-deep,{deep}\nimp-flat,[[1]]\n")
    assert summary["created"] == 1
    assert summary["failed"] == [
        {
            "line": 2,
            "reason": "the value of 'deep' nests objects and arrays more than 32 levels deep",
        }
    ]


CSV_TEXT = st.text(st.sampled_from('id,email,plan"\n\r x@.y1é\x00\ufeff'), max_size=60)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=CSV_TEXT, empty_cells=st.sampled_from(["keep", "clear"]))
def test_any_text_sent_as_a_csv_file_is_imported_or_refused_with_a_400(
    client, app_key, text: str, empty_cells: str
):
    answer = client.post(
        URL, content=text.encode(), params={"empty_cells": empty_cells}, headers={**app_key, **CSV}
    )
    assert answer.status_code in (200, 400), answer.text
