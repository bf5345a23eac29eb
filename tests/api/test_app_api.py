"""App API look-ups in process, on SQLite and PostgreSQL."""

from __future__ import annotations

from roster.domain.identifiers import IdentifierMode


def test_people_by_email_lists_identifiers(client, track, app_key):
    client.put("/api/v1/customers/u1", json={"email": "Ada@Example.com"}, headers=track)
    answer = client.get("/v1/customers?email=ada@example.com", headers=app_key)
    (only,) = answer.json()["results"]
    assert only["id"] == "u1"
    assert only["email"] == "Ada@Example.com"


def test_id_only_workspace_lists_every_person_sharing_an_email(
    client, system, track, app_key, workspace
):
    system.workspaces.change_settings(
        workspace["workspace_id"], identifier_mode=IdentifierMode.ID_ONLY.value
    )
    for ref in ("u1", "u2"):
        client.put(f"/api/v1/customers/{ref}", json={"email": "shared@example.com"}, headers=track)
    answer = client.get("/v1/customers?email=shared@example.com", headers=app_key)
    assert sorted(r["id"] for r in answer.json()["results"]) == ["u1", "u2"]
    refused = client.get(
        "/v1/customers/shared@example.com/attributes?id_type=email", headers=app_key
    )
    assert refused.status_code == 400
    assert refused.json()["meta"]["error"] == "email is not an identifier in this workspace"


def test_lookup_by_email_and_cio_id(client, track, app_key):
    client.put("/api/v1/customers/u1", json={"email": "a@example.com"}, headers=track)
    by_email = client.get("/v1/customers/a@example.com/attributes?id_type=email", headers=app_key)
    cio_id = by_email.json()["customer"]["identifiers"]["cio_id"]
    by_cio = client.get(f"/v1/customers/{cio_id}/attributes?id_type=cio_id", headers=app_key)
    assert by_cio.json()["customer"]["id"] == "u1"


def test_many_attributes_returns_known_people_only(client, track, app_key):
    client.put("/api/v1/customers/u1", json={"plan": "a"}, headers=track)
    client.put("/api/v1/customers/u2", json={"plan": "b"}, headers=track)
    answer = client.post(
        "/v1/customers/attributes", json={"ids": ["u1", "u2", "nobody"]}, headers=app_key
    )
    assert sorted(c["id"] for c in answer.json()["customers"]) == ["u1", "u2"]
    too_many = client.post("/v1/customers/attributes", json={"ids": ["x"] * 101}, headers=app_key)
    assert too_many.status_code == 400


def test_activities_page_with_next_cursor(client, track, app_key):
    for n in range(5):
        client.post("/api/v1/customers/u1/events", json={"name": f"e{n}"}, headers=track)
    first = client.get("/v1/customers/u1/activities?type=event&limit=3", headers=app_key).json()
    assert len(first["activities"]) == 3
    assert first["next"] == "3"
    second = client.get(
        f"/v1/customers/u1/activities?type=event&limit=3&start={first['next']}", headers=app_key
    ).json()
    names = [a["name"] for a in first["activities"] + second["activities"]]
    assert sorted(names) == ["e0", "e1", "e2", "e3", "e4"]
    assert second["next"] == ""


def test_unknown_person_is_404_in_app_api_shape(client, app_key):
    answer = client.get("/v1/customers/nobody/attributes", headers=app_key)
    assert answer.status_code == 404
    assert answer.json()["meta"]["error"] == "no person with id 'nobody'"


def test_app_api_needs_the_app_key(client, track):
    answer = client.get("/v1/customers?email=a@example.com", headers=track)
    assert answer.status_code == 401


def test_workspaces_are_isolated(client, system, track, app_key):
    client.put("/api/v1/customers/u1", json={"plan": "secret"}, headers=track)
    other = system.workspaces.create("isolated-other-" + app_key["Authorization"][-6:])
    answer = client.get(
        "/v1/customers/u1/attributes", headers={"Authorization": f"Bearer {other['app_api_key']}"}
    )
    assert answer.status_code == 404


def test_app_api_merge_answers_404_for_a_missing_person(client, track, app_key):
    client.put("/api/v1/customers/u1", json={}, headers=track)
    answer = client.post(
        "/v1/merge_customers",
        json={"primary": {"id": "u1"}, "secondary": {"id": "nobody"}},
        headers=app_key,
    )
    assert answer.status_code == 404
    assert "secondary" in answer.json()["meta"]["error"]
