"""Identifier conflicts seen and resolved (docs/api.md §5; docs/identity.md I5.2-I5.4, I6.4):
an orphan email-only lead blocks a customer's email change; roster counts it per door, lists it,
and resolves it in one transaction that an unmerge undoes. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.services.system import System
from tests.api.calls import activities, assert_error, basic, customer, ingestion_log, rows
from tests.api.odd_input import ODD_JSON, ODD_TEXT
from tests.api.stored import footprint

LIST = "/api/conflicts"
RESOLVE = "/api/conflicts/resolve"


def _settings(client: Any, app_key: dict[str, str], **values: Any) -> None:
    answer = client.patch("/api/workspace/settings", json=values, headers=app_key)
    assert answer.status_code == 200, answer.text


def _put(client: Any, track: dict[str, str], ref: str, **body: Any) -> None:
    answer = client.put(f"/api/v1/customers/{ref}", json=body, headers=track)
    assert answer.status_code == 200, answer.text


def _listed(client: Any, app_key: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    answer = client.get(LIST, params=params, headers=app_key)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["conflicts"]
    return found


def _resolve(client: Any, app_key: dict[str, str], status: int = 200, **body: Any) -> Any:
    answer = client.post(RESOLVE, json=body, headers=app_key)
    assert answer.status_code == status, answer.text
    return answer.json()


def _shown(found: dict[str, Any]) -> dict[str, Any]:
    """A person as the App API shows them, reduced to what the conflicts list shows."""
    return {key: found["identifiers"][key] for key in ("cio_id", "id", "email")}


def _events(system: System, cio_id: str) -> list[str]:
    found = rows(
        system,
        "select e.name from events e join people p on p.pk = e.person_pk where p.cio_id = :c",
        c=cio_id,
    )
    return sorted(row.name for row in found)


def _orphan_blocks_email_change(
    client: Any, workspace: dict[str, Any], track: dict[str, str], app_key: dict[str, str], uid: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A customer (id + old email) and an email-only lead from a Segment identify, with an
    event; the customer's email change to the lead's email is sent twice (I5.4)."""
    _settings(client, app_key, allow_email_update_by_id=True)
    _put(client, track, uid, email=f"old-{uid}@example.com")
    lead = client.post(
        "/v1/identify",
        json={"traits": {"email": f"new-{uid}@example.com", "plan": "trial"}},
        headers=basic(workspace["write_key"]),
    )
    assert lead.status_code == 200, lead.text
    answer = client.post(
        f"/api/v1/customers/new-{uid}@example.com/events",
        json={"name": "viewed_pricing"},
        headers=track,
    )
    assert answer.status_code == 200, answer.text
    for _ in range(2):
        _put(client, track, uid, email=f"New-{uid}@example.com")
    person = customer(client, app_key, uid)
    orphan = customer(client, app_key, f"new-{uid}@example.com", "email")
    assert person["identifiers"]["email"] == f"old-{uid}@example.com"
    return _shown(person), _shown(orphan)


def test_i5_4_an_orphan_lead_blocking_an_email_change_is_listed_resolved_and_undone(
    client, workspace, track, app_key, uid, system
):
    person, orphan = _orphan_blocks_email_change(client, workspace, track, app_key, uid)
    (listed,) = _listed(client, app_key)
    assert listed["identifier"] == "email"
    assert listed["value"] == f"new-{uid}@example.com"  # normalised: case-folded
    assert listed["door"] == "track_v1"
    assert listed["count"] == 2
    assert listed["first_seen"] <= listed["last_seen"]
    assert listed["resolved_at"] is None
    assert listed["person"] == {
        "cio_id": person["cio_id"],
        "id": uid,
        "email": f"old-{uid}@example.com",
    }
    assert listed["holder"] == {
        "cio_id": orphan["cio_id"],
        "id": None,
        "email": f"new-{uid}@example.com",
    }

    done = _resolve(client, app_key, conflict=listed["id"], preview=False)
    assert done["preview"] is False
    assert done["merge"]["primary"]["cio_id"] == person["cio_id"]
    assert done["merge"]["secondary"]["cio_id"] == orphan["cio_id"]
    assert done["person"]["email"] == f"new-{uid}@example.com"
    assert done["undo"] == f"POST /v1/customers/cio_{person['cio_id']}/unmerge"
    assert done["conflict"]["resolved_at"] is not None
    assert _listed(client, app_key) == []
    assert [c["id"] for c in _listed(client, app_key, status="resolved")] == [listed["id"]]

    merged = customer(client, app_key, uid)
    assert _shown(merged) == {**person, "email": f"new-{uid}@example.com"}
    assert merged["attributes"]["plan"] == "trial"  # taken from the lead (I6.2)
    assert customer(client, app_key, f"cio_{orphan['cio_id']}", "cio_id") is None
    assert customer(client, app_key, f"old-{uid}@example.com", "email") is None
    assert _events(system, person["cio_id"]) == ["viewed_pricing"]
    # One merge, and its entry says which of the customer's own values it replaced.
    (merge,) = activities(client, app_key, uid, "profile_merge")
    assert merge["data"]["taken"] == ["email"]
    assert merge["data"]["replaced"] == [{"kind": "email", "value": f"old-{uid}@example.com"}]

    undo = client.post(f"/v1/customers/{uid}/unmerge", headers=app_key)
    assert undo.status_code == 200, undo.text
    back = customer(client, app_key, f"new-{uid}@example.com", "email")
    assert _shown(back) == orphan
    assert back["attributes"]["plan"] == "trial"
    assert _events(system, orphan["cio_id"]) == ["viewed_pricing"]
    assert _events(system, person["cio_id"]) == []
    kept = customer(client, app_key, uid)
    assert "plan" not in kept["attributes"]
    # The lead's email goes back to the lead, and the customer's own old email to the customer.
    assert _shown(kept) == person
    found = customer(client, app_key, f"old-{uid}@example.com", "email")
    assert _shown(found) == person
    (unmerge,) = activities(client, app_key, uid, "profile_unmerge")
    assert unmerge["data"]["restored"] == [{"kind": "email", "value": f"old-{uid}@example.com"}]


def test_an_unmerge_after_a_resolve_is_refused_while_someone_else_has_the_old_email(
    client, workspace, track, app_key, uid, system
):
    """I6.4: the customer's old email, replaced in the resolve's merge, must come back to them;
    while another person holds it the unmerge is a 409 naming it, and nothing changes."""
    person, orphan = _orphan_blocks_email_change(client, workspace, track, app_key, uid)
    (listed,) = _listed(client, app_key)
    _resolve(client, app_key, conflict=listed["id"], preview=False)
    _put(client, track, f"{uid}-other", email=f"old-{uid}@example.com")
    other = customer(client, app_key, f"{uid}-other")["identifiers"]["cio_id"]

    before = footprint(system, workspace["workspace_id"])
    refused = client.post(f"/v1/customers/{uid}/unmerge", headers=app_key)
    body = assert_error(refused, 409, f"former email 'old-{uid}@example.com'")
    assert f"taken since by cio_{other}" in body["message"]
    assert footprint(system, workspace["workspace_id"]) == before
    assert _shown(customer(client, app_key, uid)) == {**person, "email": f"new-{uid}@example.com"}
    assert customer(client, app_key, f"cio_{orphan['cio_id']}", "cio_id") is None

    gone = client.delete(f"/api/v1/customers/{uid}-other", headers=track)
    assert gone.status_code == 200, gone.text
    undo = client.post(f"/v1/customers/{uid}/unmerge", headers=app_key)
    assert undo.status_code == 200, undo.text
    assert _shown(customer(client, app_key, uid)) == person
    assert _shown(customer(client, app_key, f"new-{uid}@example.com", "email")) == orphan
    assert _events(system, orphan["cio_id"]) == ["viewed_pricing"]


def test_a_conflict_is_counted_per_door_and_a_second_door_is_a_second_row(
    client, workspace, track, app_key, uid
):
    _orphan_blocks_email_change(client, workspace, track, app_key, uid)
    answer = client.post(
        "/api/v2/entity",
        json={
            "type": "person",
            "action": "identify",
            "identifiers": {"id": uid},
            "attributes": {"email": f"new-{uid}@example.com"},
        },
        headers=track,
    )
    assert answer.status_code == 200, answer.text
    listed = _listed(client, app_key)
    assert [(c["door"], c["count"]) for c in listed] == [("track_v2", 1), ("track_v1", 2)]


def test_a_refused_id_change_is_counted_and_resolving_it_applies_the_change(
    client, track, app_key, uid
):
    """I3.3: an id reference cannot change an id; resolving it changes it through cio_."""
    _put(client, track, uid, email=f"{uid}@example.com")
    _put(client, track, f"{uid}@example.com", id=f"{uid}-new")
    (listed,) = _listed(client, app_key)
    assert listed["identifier"] == "id"
    assert listed["value"] == f"{uid}-new"
    assert "cio_ reference" in listed["reason"]
    assert listed["holder"] is None
    plan = _resolve(client, app_key, conflict=listed["id"])
    assert plan["merge"] is None
    assert plan["changes"] == [{"identifier": "id", "from": uid, "to": f"{uid}-new"}]
    _resolve(client, app_key, conflict=listed["id"], preview=False)
    moved = customer(client, app_key, f"{uid}-new")
    assert moved["identifiers"]["email"] == f"{uid}@example.com"
    again = client.post(RESOLVE, json={"conflict": listed["id"], "preview": False}, headers=app_key)
    assert_error(again, 409, "resolved already")


def test_the_preview_writes_nothing_and_leaves_the_conflict_unresolved(
    client, workspace, track, app_key, uid, system
):
    _orphan_blocks_email_change(client, workspace, track, app_key, uid)
    (listed,) = _listed(client, app_key)
    before = footprint(system, workspace["workspace_id"])
    plan = _resolve(client, app_key, conflict=int(listed["id"]), preview=True)
    assert plan["preview"] is True
    assert plan["merge"] == {"primary": listed["person"], "secondary": listed["holder"]}
    assert plan["changes"] == [
        {
            "identifier": "email",
            "from": f"old-{uid}@example.com",
            "to": f"new-{uid}@example.com",
        }
    ]
    assert plan["attributes"] == ["plan"]
    assert plan["refused"] is None
    assert _resolve(client, app_key, conflict=listed["id"])["preview"] is True  # the default
    assert footprint(system, workspace["workspace_id"]) == before
    assert _listed(client, app_key) == [listed]


def test_a_holder_with_its_own_id_is_not_merged_away_unless_forced(
    client, workspace, track, app_key, uid, system
):
    _settings(client, app_key, allow_email_update_by_id=True)
    _put(client, track, uid, email=f"a-{uid}@example.com")
    _put(client, track, f"{uid}-b", email=f"b-{uid}@example.com")
    _put(client, track, uid, email=f"b-{uid}@example.com")
    (listed,) = _listed(client, app_key)
    plan = _resolve(client, app_key, conflict=listed["id"])
    assert f"has its own id '{uid}-b'" in plan["refused"]
    before = footprint(system, workspace["workspace_id"])
    body = assert_error(
        client.post(RESOLVE, json={"conflict": listed["id"], "preview": False}, headers=app_key),
        409,
        "not an orphan",
    )
    assert body["code"] == "resolve_refused"
    assert footprint(system, workspace["workspace_id"]) == before
    _resolve(client, app_key, conflict=listed["id"], preview=False, force=True)
    assert customer(client, app_key, uid)["identifiers"]["email"] == f"b-{uid}@example.com"
    assert customer(client, app_key, f"{uid}-b") is None


def test_a_holder_active_since_the_conflict_is_not_merged_away_unless_forced(
    client, workspace, track, app_key, uid
):
    _orphan_blocks_email_change(client, workspace, track, app_key, uid)
    answer = client.post(
        f"/api/v1/customers/new-{uid}@example.com/events", json={"name": "later"}, headers=track
    )
    assert answer.status_code == 200, answer.text
    (listed,) = _listed(client, app_key)
    assert_error(
        client.post(RESOLVE, json={"conflict": listed["id"], "preview": False}, headers=app_key),
        409,
        "activity newer than the conflict",
    )


def test_a_strict_mode_conflict_writes_nothing_so_it_is_not_counted(
    client, workspace, track, app_key, uid
):
    _settings(client, app_key, allow_email_update_by_id=True)
    _put(client, track, uid, email=f"a-{uid}@example.com")
    _put(client, track, f"b-{uid}@example.com")
    answer = client.put(
        f"/api/v1/customers/{uid}",
        json={"email": f"b-{uid}@example.com"},
        headers={**track, "X-Strict-Mode": "1"},
    )
    assert answer.status_code == 409, answer.text
    assert _listed(client, app_key) == []


def test_a_conflict_seen_again_after_it_was_resolved_is_listed_again(
    client, workspace, track, app_key, uid
):
    _put(client, track, uid, email=f"{uid}@example.com")
    _put(client, track, f"{uid}@example.com", id=f"{uid}-2")
    (listed,) = _listed(client, app_key)
    _resolve(client, app_key, conflict=listed["id"], preview=False)
    _put(client, track, f"{uid}@example.com", id=f"{uid}-3")
    _put(client, track, f"{uid}@example.com", id=f"{uid}-2")  # now the current id: no refusal
    assert [c["value"] for c in _listed(client, app_key)] == [f"{uid}-3"]


def test_pages_follow_the_next_cursor_latest_seen_first(client, track, app_key, uid):
    _put(client, track, uid, email=f"{uid}@example.com")
    for n in range(5):
        _put(client, track, f"{uid}@example.com", id=f"{uid}-{n}")
    seen: list[str] = []
    start = ""
    while True:
        answer = client.get(LIST, params={"limit": 2, "start": start}, headers=app_key)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["conflicts"]) <= 2
        seen += [c["value"] for c in page["conflicts"]]
        start = page["next"]
        if not start:
            break
    assert seen == [f"{uid}-{n}" for n in reversed(range(5))]


def test_another_workspaces_conflicts_are_invisible_and_unknown(
    client, track, app_key, uid, system
):
    _put(client, track, uid, email=f"{uid}@example.com")
    _put(client, track, f"{uid}@example.com", id=f"{uid}-2")
    (listed,) = _listed(client, app_key)
    other = system.workspaces.create(f"other-{uid}")
    theirs = {"Authorization": f"Bearer {other['app_api_key']}"}
    assert _listed(client, theirs) == []
    answer = client.post(RESOLVE, json={"conflict": listed["id"]}, headers=theirs)
    assert_error(answer, 404, f"no conflict {listed['id']}")


def test_an_unknown_conflict_is_a_404(client, app_key):
    assert_error(client.post(RESOLVE, json={"conflict": "999999999"}, headers=app_key), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "conflict"),
        ({"conflict": "x1"}, "conflict"),
        ({"conflict": "0"}, "conflict"),
        ({"conflict": -3}, "conflict"),
        ({"conflict": True}, "conflict"),
        ({"conflict": None}, "conflict"),
        ({"conflict": "99999999999999999999999"}, "conflict"),
        ({"conflict": "1", "preview": "no"}, "preview"),
        ({"conflict": "1", "force": 1}, "force"),
        ({"conflict": "1", "colour": "red"}, "colour"),
    ],
)
def test_bad_resolve_input_is_a_400_naming_the_field(client, app_key, body, field):
    assert_error(client.post(RESOLVE, json=body, headers=app_key), 400, field)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 1001},
        {"limit": "ten"},
        {"start": "not-a-cursor"},
        {"start": "WzEsMl0x"},
        {"status": "open"},
    ],
)
def test_bad_list_input_is_a_400_naming_the_parameter(client, app_key, params):
    (name,) = params
    assert_error(client.get(LIST, params=params, headers=app_key), 400, name)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.dictionaries(st.sampled_from(["start", "limit", "status", "x"]), ODD_TEXT),
    body=st.dictionaries(st.sampled_from(["conflict", "preview", "force"]), ODD_JSON) | ODD_JSON,
)
def test_odd_input_to_the_conflicts_api_is_never_a_5xx_and_resolves_nothing(
    client, app_key, params, body
):
    answers = [
        client.get(LIST, params=params, headers=app_key),
        client.post(RESOLVE, json=body, headers=app_key),
    ]
    for answer in answers:
        assert answer.status_code < 500, answer.text
        if answer.status_code >= 400:
            assert_error(answer, answer.status_code)
    assert answers[1].status_code != 200 or answers[1].json()["preview"] is True


def test_the_conflicts_api_needs_the_app_api_key(client, track):
    assert client.get(LIST).status_code == 401
    assert client.get(LIST, headers=track).status_code == 401
    assert client.post(RESOLVE, json={"conflict": "1"}).status_code == 401


def test_deleting_a_person_removes_the_conflicts_that_name_them(
    system: System, client, track, app_key, uid
):
    """I9.1: a conflict row holds an identifier the person wanted or held, personal data, so it
    goes with them: as the person the call was about, as the holder, and as someone merged into
    the person deleted."""
    _put(client, track, uid, email=f"{uid}@example.com")
    _put(client, track, f"{uid}@example.com", id=f"{uid}-2")  # refused: ids change by cio_ only
    _put(client, track, f"{uid}-holder", email=f"{uid}-held@example.com")
    _put(client, track, f"{uid}-wants", email=f"{uid}-held@example.com")  # held: a conflict
    _put(client, track, f"{uid}-kept", email=f"{uid}-kept@example.com")
    _put(client, track, f"{uid}-other", plan="pro")
    _put(client, track, f"{uid}-other", email=f"{uid}-kept@example.com")  # held by -kept
    _put(client, track, f"{uid}-last")
    merged = client.post(
        "/api/v1/merge_customers",
        json={"primary": {"id": f"{uid}-last"}, "secondary": {"id": f"{uid}-other"}},
        headers=track,
    )
    assert merged.status_code == 200, merged.text
    assert len(_listed(client, app_key)) == 3

    for gone in (uid, f"{uid}-holder", f"{uid}-last"):
        answer = client.delete(f"/api/v1/customers/{gone}", headers=track)
        assert answer.status_code == 200, answer.text

    assert _listed(client, app_key, status="all") == []
    assert rows(system, "select value from conflicts where value like :v", v=f"%{uid}%") == []


def test_an_anonymous_id_linked_to_a_second_person_is_counted_once_per_message_of_a_batch(
    client, workspace, app_key, uid
):
    """I7.3 through Segment's batch, where each message succeeds or fails alone: the one that
    fails is not counted, the two that conflict are."""
    write_key = basic(workspace["write_key"])
    first = {"type": "identify", "userId": f"{uid}-a", "anonymousId": f"anon-{uid}"}
    answer = client.post("/v1/identify", json=first, headers=write_key)
    assert answer.status_code == 200, answer.text
    second = {"type": "identify", "userId": f"{uid}-b", "anonymousId": f"anon-{uid}"}
    broken = {"type": "identify", "userId": f"{uid}-c", "traits": {"_created_in_roster_at": 1}}
    answer = client.post("/v1/batch", json={"batch": [second, broken, second]}, headers=write_key)
    assert answer.status_code == 200, answer.text
    assert any("_created_in_roster_at" in e["reason"] for e in ingestion_log(client, app_key))
    (listed,) = _listed(client, app_key)
    assert (listed["identifier"], listed["value"]) == ("anonymous_id", f"anon-{uid}")
    assert (listed["door"], listed["count"]) == ("segment", 2)
    assert listed["person"]["id"] == f"{uid}-b"
    assert listed["holder"]["id"] == f"{uid}-a"
    plan = _resolve(client, app_key, conflict=listed["id"])
    assert "has its own id" in plan["refused"]


def test_a_refused_removal_has_no_value_and_is_not_counted(client, track, app_key, uid):
    """I5.6: only a cio_ reference removes an identifier; the refusal is in the activity log."""
    _put(client, track, uid, email=f"{uid}@example.com")
    _put(client, track, uid, email=None)
    assert customer(client, app_key, uid)["identifiers"]["email"] == f"{uid}@example.com"
    assert activities(client, app_key, uid, "failed_attribute_change")
    assert _listed(client, app_key, status="all") == []


def test_an_email_change_through_a_cio_reference_on_track_v2_is_counted_under_its_door(
    client, workspace, track, app_key, uid
):
    """I5.4 with a cio_ reference, without allow_email_update_by_id."""
    _put(client, track, uid, email=f"old-{uid}@example.com")
    _put(client, track, f"new-{uid}@example.com")
    person = customer(client, app_key, uid)["identifiers"]
    answer = client.post(
        "/api/v2/entity",
        json={
            "type": "person",
            "action": "identify",
            "identifiers": {"cio_id": person["cio_id"]},
            "attributes": {"email": f"new-{uid}@example.com"},
        },
        headers=track,
    )
    assert answer.status_code == 200, answer.text
    (listed,) = _listed(client, app_key)
    assert (listed["door"], listed["count"], listed["value"]) == (
        "track_v2",
        1,
        f"new-{uid}@example.com",
    )
    done = _resolve(client, app_key, conflict=listed["id"], preview=False)
    assert done["person"] == {**person, "email": f"new-{uid}@example.com"}
