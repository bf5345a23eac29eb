"""POST /v1/customers/{ref}/unmerge (docs/api.md §4, docs/identity.md I6.4) through the wire, on
SQLite and PostgreSQL: state is checked through the App API, as a client sees it."""

from __future__ import annotations

from typing import Any

from tests.api.calls import activities, assert_error, customer
from tests.api.stored import footprint
from tests.domain.personas import ADA, GRACE


def _people(client: Any, track: dict[str, str]) -> None:
    """Ada with an id, an email and a plan; Grace with everything an unmerge gives back."""
    client.put(
        f"/api/v1/customers/{ADA.id}", json={"email": ADA.email, "plan": "pro"}, headers=track
    )
    grace = {
        "email": GRACE.email,
        "anonymous_id": GRACE.anonymous_id,
        "plan": "free",
        "country": "UK",
        "unsubscribed": True,
        "cio_relationships": [
            {
                "identifiers": {"object_type_id": "1", "object_id": "acme"},
                "relationship_attributes": {"role": "admin"},
            }
        ],
    }
    assert client.put(f"/api/v1/customers/{GRACE.id}", json=grace, headers=track).status_code == 200
    client.post(f"/api/v1/customers/{GRACE.id}/events", json={"name": "signed_up"}, headers=track)
    device = {"device": {"id": GRACE.device, "platform": "android", "attributes": {"app": "v2"}}}
    client.put(f"/api/v1/customers/{GRACE.id}/devices", json=device, headers=track)


def _merge(client: Any, app_key: dict[str, str]) -> None:
    body = {"primary": {"id": ADA.id}, "secondary": {"id": GRACE.id}}
    answer = client.post("/v1/merge_customers", json=body, headers=app_key)
    assert answer.status_code == 200, answer.text


def _unmerge(client: Any, app_key: dict[str, str], ref: str, id_type: str = "id") -> Any:
    return client.post(f"/v1/customers/{ref}/unmerge?id_type={id_type}", headers=app_key)


def _seen(client: Any, app_key: dict[str, str], ref: str) -> dict[str, Any]:
    """What the App API shows of a person, but for the volatile parts (activity log, times)."""
    found = customer(client, app_key, ref)
    assert found is not None, ref
    events = [a["name"] for a in activities(client, app_key, ref, "event")]
    return {**found, "events": events}


def test_i6_4_unmerge_gives_back_both_people_as_the_app_api_showed_them(client, track, app_key):
    _people(client, track)
    ada_before, grace_before = _seen(client, app_key, ADA.id), _seen(client, app_key, GRACE.id)
    _merge(client, app_key)
    assert customer(client, app_key, GRACE.id) is None

    answer = _unmerge(client, app_key, ADA.id)

    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "primary": {
            "id": ADA.id,
            "email": ADA.email,
            "cio_id": ada_before["identifiers"]["cio_id"],
        },
        "secondary": {
            "id": GRACE.id,
            "email": GRACE.email,
            "cio_id": grace_before["identifiers"]["cio_id"],
        },
    }
    assert _seen(client, app_key, ADA.id) == ada_before
    assert _seen(client, app_key, GRACE.id) == grace_before
    for ref in (ADA.id, GRACE.id):
        assert [a["type"] for a in activities(client, app_key, ref, "profile_unmerge")] == [
            "profile_unmerge"
        ]
        assert [a["type"] for a in activities(client, app_key, ref, "profile_merge")] == [
            "profile_merge"
        ]


def test_i6_4_unmerge_names_the_person_by_email_or_cio_id_with_id_type(client, track, app_key):
    _people(client, track)
    grace_cio = customer(client, app_key, GRACE.id)["identifiers"]["cio_id"]
    _merge(client, app_key)
    ada_cio = customer(client, app_key, ADA.id)["identifiers"]["cio_id"]

    assert _unmerge(client, app_key, ADA.email, "email").status_code == 200
    _merge(client, app_key)
    answer = _unmerge(client, app_key, ada_cio, "cio_id")

    assert answer.status_code == 200, answer.text
    assert answer.json()["secondary"]["cio_id"] == grace_cio


def test_i6_4_an_unknown_person_is_404(client, app_key):
    body = assert_error(_unmerge(client, app_key, "nobody-1"), 404, "nobody-1", meta="error")
    assert body["code"] == "not_found"


def test_i6_4_with_no_merge_to_undo_the_answer_is_409_and_nothing_is_written(
    client, system, workspace, track, app_key
):
    _people(client, track)
    before = footprint(system, workspace["workspace_id"])

    body = assert_error(_unmerge(client, app_key, ADA.id), 409, "no merge to undo", meta="error")

    assert body["code"] == "unmerge_refused"
    assert footprint(system, workspace["workspace_id"]) == before


def test_i6_4_an_identifier_taken_since_is_a_409_naming_it(
    client, system, workspace, track, app_key
):
    _people(client, track)
    _merge(client, app_key)  # Ada keeps her own id and email: Grace's are freed
    client.put(f"/api/v1/customers/{GRACE.id}", json={"plan": "new"}, headers=track)
    newcomer = customer(client, app_key, GRACE.id)
    before = footprint(system, workspace["workspace_id"])

    body = assert_error(_unmerge(client, app_key, ADA.id), 409, f"id '{GRACE.id}'", meta="error")

    assert f"cio_{newcomer['identifiers']['cio_id']}" in body["message"]
    assert footprint(system, workspace["workspace_id"]) == before
    assert customer(client, app_key, GRACE.id) == newcomer


def test_i6_4_a_bad_id_type_is_400(client, track, app_key):
    _people(client, track)
    assert_error(_unmerge(client, app_key, ADA.id, "phone"), 400, "id_type", meta="error")


def test_i6_4_unmerge_needs_the_app_key(client, track):
    answer = client.post(f"/v1/customers/{ADA.id}/unmerge", headers=track)
    assert answer.status_code == 401
