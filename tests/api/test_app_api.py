"""App API look-ups in process, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from roster.domain import cursors
from roster.domain.identifiers import IdentifierMode
from tests.api.calls import assert_error, entity


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


# -- GET /v1/objects pages whom an object is related to (docs/api.md §4) --------------------------


def _relate_people(client, track, object_id, ids):
    entity(
        client,
        track,
        {
            "type": "object",
            "action": "identify",
            "identifiers": {"object_type_id": "1", "object_id": object_id},
            "attributes": {"name": object_id},
            "cio_relationships": [
                {"identifiers": {"id": id_}, "relationship_attributes": {"n": n}}
                for n, id_ in enumerate(ids)
            ],
        },
    )


def _relate_anonymous(client, track, object_id, anonymous_ids):
    for anonymous_id in anonymous_ids:
        entity(
            client,
            track,
            {
                "type": "object",
                "action": "identify_anonymous",
                "identifiers": {"object_type_id": "1", "object_id": object_id},
                "attributes": {"anonymous_id": anonymous_id},
                "cio_relationships": [{"identifiers": {"anonymous_id": anonymous_id}}],
            },
        )


def _object_pages(client, app_key, object_id, limit, between=lambda: None):
    """Every page of the object, `limit` entries at a time; `between` runs between pages."""
    pages, start = [], ""
    while True:
        params = {"limit": limit, **({"start": start} if start else {})}
        answer = client.get(f"/v1/objects/1/{object_id}", params=params, headers=app_key)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        start = pages[-1]["next"]
        if not start:
            return pages
        assert len(start) <= cursors.MAX_CHARS
        between()


def test_an_objects_people_then_its_anonymous_ids_come_page_by_page(client, track, app_key):
    _relate_people(client, track, "acme", [f"p{n}" for n in range(5)])
    _relate_anonymous(client, track, "acme", ["anon-b", "anon-a", "anon-c"])
    added = []

    def a_sixth_person_arrives():
        if not added:
            added.append(True)
            _relate_people(client, track, "acme", ["p5"])

    pages = _object_pages(client, app_key, "acme", 2, a_sixth_person_arrives)

    assert [len(p["object"]["relationships"]) for p in pages] == [2, 2, 2, 0, 0]
    assert [len(p["object"]["anonymous_relationships"]) for p in pages] == [0, 0, 0, 2, 1]
    people = [r for p in pages for r in p["object"]["relationships"]]
    # In row-number order: the person related after the first page comes last, none twice.
    assert [r["id"] for r in people] == ["p0", "p1", "p2", "p3", "p4", "p5"]
    assert [r["relationship_attributes"] for r in people[:2]] == [{"n": 0}, {"n": 1}]
    waiting = [r["anonymous_id"] for p in pages for r in p["object"]["anonymous_relationships"]]
    assert waiting == ["anon-a", "anon-b", "anon-c"]
    for page in pages:
        assert (page["object"]["object_type_id"], page["object"]["object_id"]) == ("1", "acme")
        assert page["object"]["attributes"] == {"name": "acme"}

    whole = client.get("/v1/objects/1/acme", headers=app_key).json()  # 100 at most by default
    assert [r["id"] for r in whole["object"]["relationships"]] == [r["id"] for r in people]
    assert len(whole["object"]["anonymous_relationships"]) == 3
    assert whole["next"] == ""


def test_an_anonymous_id_too_long_for_a_cursor_is_paged_past(client, track, app_key):
    """Its cursor holds a prefix that fits: the next page begins after every anonymous id that
    starts with that prefix (docs/api.md §4)."""
    long = "m" + "x" * 149  # 150 bytes, as long as an anonymous id may be on Track v2
    _relate_anonymous(client, track, "long", ["n-after", long, "a-before"])

    pages = _object_pages(client, app_key, "long", 1)

    waiting = [r["anonymous_id"] for p in pages for r in p["object"]["anonymous_relationships"]]
    assert waiting == ["a-before", long, "n-after"]
    assert [(cursors.decode(p["next"]) or [None])[0] for p in pages] == ["a", "A", None]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 1001},
        {"limit": "ten"},
        {"start": "not-a-cursor"},
        {"start": cursors.encode(["p", -1])},
        {"start": cursors.encode(["p", True])},
        {"start": cursors.encode(["a", ""])},
        {"start": cursors.encode(["a", "x\x00"])},
        {"start": cursors.encode(["q", 1])},
        {"start": cursors.encode([1.5, "a", 3])},
    ],
)
def test_a_bad_object_page_is_a_400_naming_the_parameter(client, track, app_key, params):
    _relate_people(client, track, "acme", ["p0"])
    (name,) = params
    assert_error(client.get("/v1/objects/1/acme", params=params, headers=app_key), 400, name)
