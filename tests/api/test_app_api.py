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
    assert first["next"]
    second = client.get(
        "/v1/customers/u1/activities",
        params={"type": "event", "limit": 3, "start": first["next"]},
        headers=app_key,
    ).json()
    names = [a["name"] for a in first["activities"] + second["activities"]]
    assert sorted(names) == ["e0", "e1", "e2", "e3", "e4"]
    assert second["next"] == ""


def _every_page(client, app_key, ref, params, between=lambda: None):
    """Pages through a person's activities three at a time, calling `between` before each
    page after the first."""
    found, start = [], ""
    while True:
        query = {"limit": 3, **params, **({"start": start} if start else {})}
        answer = client.get(f"/v1/customers/{ref}/activities", params=query, headers=app_key)
        assert answer.status_code == 200, answer.text
        found.extend(answer.json()["activities"])
        start = answer.json()["next"]
        if not start:
            return found
        between()


def _event(client, track, ref, name, timestamp):
    answer = client.post(
        f"/api/v1/customers/{ref}/events",
        json={"name": name, "timestamp": timestamp},
        headers=track,
    )
    assert answer.status_code == 200, answer.text


def _assert_paged_once(paged, before):
    ids = [a["id"] for a in paged]
    assert len(ids) == len(set(ids)), "an entry was answered twice"
    assert [i for i in ids if i in {b["id"] for b in before}] == [b["id"] for b in before]
    times = [a["timestamp"] for a in paged]
    assert times == sorted(times, reverse=True)


def test_activity_pages_neither_shift_nor_repeat_while_entries_arrive(client, track, app_key):
    client.put("/api/v1/customers/k1", json={"plan": "a"}, headers=track)
    for n in range(4):
        _event(client, track, "k1", f"tie{n}", 1_700_000_000)  # same time: keys break the tie
        _event(client, track, "k1", f"old{n}", 1_600_000_000 + n)
    before = _every_page(client, app_key, "k1", {"limit": 1000})
    arrivals = iter(range(100))

    def arrive():
        n = next(arrivals)
        _event(client, track, "k1", f"newest{n}", 1_800_000_000 + n)
        _event(client, track, "k1", f"late-tie{n}", 1_700_000_000)
        client.put("/api/v1/customers/k1", json={"plan": f"p{n}"}, headers=track)

    paged = _every_page(client, app_key, "k1", {}, between=arrive)

    assert len(before) >= 9
    _assert_paged_once(paged, before)
    assert not {a["name"] for a in paged if a.get("name", "").startswith("newest")}


def test_the_type_filter_pages_by_cursor_while_entries_arrive(client, track, app_key):
    for n in range(7):
        _event(client, track, "k2", f"e{n}", 1_700_000_000 + n % 3)
    before = _every_page(client, app_key, "k2", {"type": "event"})
    added = iter(range(100))

    def arrive():
        _event(client, track, "k2", f"late{next(added)}", 1_700_000_001)

    paged = _every_page(client, app_key, "k2", {"type": "event"}, between=arrive)

    assert len(before) == 7
    assert {a["type"] for a in paged} == {"event"}
    _assert_paged_once(paged, before)


def test_what_is_left_of_a_deleted_person_pages_by_cursor(client, track, app_key):
    client.put("/api/v1/customers/k3", json={"plan": "a"}, headers=track)
    cio_id = client.get("/v1/customers/k3/attributes", headers=app_key).json()["customer"][
        "identifiers"
    ]["cio_id"]
    client.delete("/api/v1/customers/k3", headers=track)
    params = {"deleted": "true"}
    whole = _every_page(client, app_key, f"cio_{cio_id}", {**params, "limit": 1000})

    paged = _every_page(client, app_key, f"cio_{cio_id}", params)

    assert "profile_delete" in {a["type"] for a in whole}
    assert [a["id"] for a in paged] == [a["id"] for a in whole]


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
