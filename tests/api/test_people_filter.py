"""People search by filter on the App API (docs/api.md §4): `POST /v1/customers`, on SQLite and
PostgreSQL: every operator, nesting, string-form equality, odd attribute names, keyset pages that
people added meanwhile never shift, refusals that name what is wrong, and never a 5xx."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.app import create_app
from roster.domain.filters import MAX_NODES, matches, parse
from roster.domain.identifiers import Reference
from roster.services.system import System
from roster.settings import Settings
from tests.api.calls import assert_error, basic, bearer
from tests.api.odd_input import ODD_JSON
from tests.api.stored import footprint

SEARCH = "/v1/customers"
EMAIL_BUT_NO_ID = {
    "and": [
        {"attribute": {"field": "email", "operator": "exists"}},
        {"not": {"attribute": {"field": "id", "operator": "exists"}}},
    ]
}
ODD_NAMES = ("dash-ed", 'q"x', "b\\s", "ü", "sp ace", "[0]", "$", "it's")

# Who the shared crowd holds: (reference, body). References by email make people without an id.
CROWD: tuple[tuple[str, dict[str, Any]], ...] = (
    ("ada", {"email": "Ada@Example.com", "plan": "pro", "seats": 5, "dash-ed": 1, "a.b": 2}),
    ("bob@example.com", {"plan": "free", "seats": "5", 'q"x': "yes", "tags": ["a"]}),
    ("cy", {"trial": True, "seats": 5.0, "ü": "ü", "b\\s": 2}),
    ("dee@example.com", {"trial": "true", "seats": 5.5, "sp ace": "x", "[0]": 0}),
    ("eve", {"seats": "5.0", "plan": "PRO", "$": "$", "it's": False, "nested": {"a": 1}}),
)


@dataclass(frozen=True)
class Crowd:
    client: TestClient
    app: dict[str, str]
    people: list[dict[str, Any]]  # {"identifiers": {...}, "attributes": {...}} as stored

    def search(self, f: Any, **params: Any) -> dict[str, Any]:
        return search(self.client, self.app, f, **params)


def search(client: Any, app_key: dict[str, str], f: Any, **params: Any) -> dict[str, Any]:
    answer = client.post(SEARCH, json={"filter": f}, params=params, headers=app_key)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert set(body) == {"identifiers", "ids", "next"}
    assert body["ids"] == [entry["id"] or "" for entry in body["identifiers"]]
    return body


def everyone_matching(client: Any, app_key: dict[str, str], f: Any, limit: int = 1000) -> list:
    found: list[dict[str, Any]] = []
    start = ""
    while True:
        page = search(client, app_key, f, limit=limit, start=start)
        assert len(page["identifiers"]) <= limit
        found.extend(page["identifiers"])
        start = page["next"]
        if not start:
            return found


def put(client: Any, track: dict[str, str], ref: str, body: dict[str, Any]) -> None:
    answer = client.put(f"/api/v1/customers/{ref}", json=body, headers=track)
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def crowd(system: System) -> Iterator[Crowd]:
    """One workspace of people for the module's read-only tests (Hypothesis runs many
    examples; a workspace each would tell nothing more)."""
    created = system.workspaces.create(f"filter-{uuid.uuid4().hex[:10]}")
    app = create_app(Settings(public_url="http://roster.test"), system=system)
    with TestClient(app, raise_server_exceptions=False) as client:
        track = basic(created["site_id"], created["track_api_key"])
        app_key = bearer(created["app_api_key"])
        for ref, body in CROWD:
            put(client, track, ref, body)
        stored = []
        for entry in everyone_matching(client, app_key, attribute("cio_id")):
            ref = Reference("cio_id", entry["cio_id"])
            person = system.lookups.get(created["workspace_id"], ref)
            stored.append({"identifiers": entry, "attributes": person.attributes})
        assert len(stored) == len(CROWD)
        yield Crowd(client, app_key, stored)


def ids(body: dict[str, Any]) -> list[str]:
    return [entry["id"] or entry["email"] for entry in body["identifiers"]]


def attribute(field: str, operator: str = "exists", **value: Any) -> dict[str, Any]:
    return {"attribute": {"field": field, "operator": operator, **value}}


# -- what each operator means --------------------------------------------------------------------


def test_people_with_an_email_but_no_id_are_found_with_an_empty_id_in_ids(crowd):
    body = crowd.search(EMAIL_BUT_NO_ID)
    assert ids(body) == ["bob@example.com", "dee@example.com"]
    assert body["ids"] == ["", ""]
    assert all(entry["cio_id"] for entry in body["identifiers"])
    assert body["next"] == ""


def test_identifier_exists_means_the_identifier_is_set(crowd):
    assert ids(crowd.search(attribute("id"))) == ["ada", "cy", "eve"]
    assert ids(crowd.search(attribute("email"))) == ["ada", "bob@example.com", "dee@example.com"]
    assert len(crowd.search(attribute("cio_id"))["identifiers"]) == len(CROWD)


def test_attribute_exists_holds_for_any_stored_value_json_ones_too(crowd):
    assert ids(crowd.search(attribute("tags"))) == ["bob@example.com"]
    assert ids(crowd.search(attribute("nested"))) == ["eve"]
    assert ids(crowd.search(attribute("plan"))) == ["ada", "bob@example.com", "eve"]
    assert ids(crowd.search(attribute("nobody_has_this"))) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", ["ada", "bob@example.com", "cy"]),
        (5, ["ada", "bob@example.com", "cy"]),
        (5.0, ["ada", "bob@example.com", "cy"]),
        ("5.0", ["eve"]),
        (5.5, ["dee@example.com"]),
        ("5.5", ["dee@example.com"]),
        ("6", []),
    ],
)
def test_attribute_eq_compares_string_forms(crowd, value, expected):
    assert ids(crowd.search(attribute("seats", "eq", value=value))) == expected


def test_booleans_equal_their_string_forms_and_never_numbers(crowd):
    assert ids(crowd.search(attribute("trial", "eq", value=True))) == ["cy", "dee@example.com"]
    assert ids(crowd.search(attribute("trial", "eq", value="true"))) == [
        "cy",
        "dee@example.com",
    ]
    assert ids(crowd.search(attribute("trial", "eq", value=1))) == []
    assert ids(crowd.search(attribute("[0]", "eq", value=False))) == []
    assert ids(crowd.search(attribute("it's", "eq", value="false"))) == ["eve"]


def test_attribute_eq_is_case_sensitive_and_never_matches_json_values(crowd):
    assert ids(crowd.search(attribute("plan", "eq", value="pro"))) == ["ada"]
    assert ids(crowd.search(attribute("tags", "eq", value='["a"]'))) == []
    assert ids(crowd.search(attribute("nested", "eq", value='{"a":1}'))) == []


def test_email_eq_is_case_insensitive_and_trimmed(crowd):
    for written in ("ada@example.com", "ADA@EXAMPLE.COM", "  Ada@Example.com "):
        assert ids(crowd.search(attribute("email", "eq", value=written))) == ["ada"]


def test_id_and_cio_id_eq_find_the_person(crowd):
    assert ids(crowd.search(attribute("id", "eq", value="cy"))) == ["cy"]
    assert ids(crowd.search(attribute("id", "eq", value="CY"))) == []
    cio_id = crowd.search(attribute("id", "eq", value="eve"))["identifiers"][0]["cio_id"]
    for written in (cio_id, f"cio_{cio_id}"):
        assert ids(crowd.search(attribute("cio_id", "eq", value=written))) == ["eve"]


def test_not_is_the_complement_and_keeps_people_without_the_attribute(crowd):
    assert ids(crowd.search({"not": attribute("plan", "eq", value="pro")})) == [
        "bob@example.com",
        "cy",
        "dee@example.com",
        "eve",
    ]
    assert ids(crowd.search({"not": attribute("id", "eq", value="ada")})) == [
        "bob@example.com",
        "cy",
        "dee@example.com",
        "eve",
    ]


def test_and_or_not_nest(crowd):
    f = {
        "or": [
            {"and": [attribute("plan"), {"not": attribute("email")}]},
            {"and": [attribute("trial", "eq", value=True), {"not": {"not": attribute("email")}}]},
        ]
    }
    assert ids(crowd.search(f)) == ["dee@example.com", "eve"]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_attribute_names_are_found_by_exists_and_eq(crowd, name):
    holder = next(person for person in crowd.people if name in person["attributes"])
    expected = [holder["identifiers"]["id"] or holder["identifiers"]["email"]]
    assert ids(crowd.search(attribute(name))) == expected
    value = holder["attributes"][name]
    assert ids(crowd.search(attribute(name, "eq", value=value))) == expected


def test_a_field_names_a_top_level_attribute_even_with_a_dot(crowd):
    # Identify calls store "a.b" as {"a": {"b": …}}; a field never reaches into a value.
    assert ids(crowd.search(attribute("a"))) == ["ada"]
    assert ids(crowd.search(attribute("a.b"))) == []


# The database's answer is domain.filters.matches' answer, for any filter over the crowd.
FIELDS = st.sampled_from(
    ["id", "email", "cio_id", "plan", "seats", "trial", "tags", "nested", "a", *ODD_NAMES]
)
VALUES = st.sampled_from(
    ["5", 5, 5.0, "5.0", 5.5, True, "true", False, "pro", "PRO", "ada", "bob@EXAMPLE.com", 0, "$"]
)
LEAVES = st.one_of(
    st.builds(lambda field: attribute(field), FIELDS),
    st.builds(lambda field, value: attribute(field, "eq", value=value), FIELDS, VALUES),
)
FILTERS = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.builds(lambda part: {"not": part}, inner),
        st.builds(lambda parts: {"and": parts}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda parts: {"or": parts}, st.lists(inner, min_size=1, max_size=3)),
    ),
    max_leaves=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FILTERS)
def test_the_database_matches_the_domain_s_meaning_of_any_filter(crowd, f):
    expected = [
        person["identifiers"]["cio_id"]
        for person in crowd.people
        if matches(parse(f), person["identifiers"], person["attributes"])
    ]
    found = [entry["cio_id"] for entry in crowd.search(f)["identifiers"]]
    assert found == expected


# -- paging --------------------------------------------------------------------------------------


def test_pages_follow_each_other_and_people_added_meanwhile_shift_nothing(client, track, app_key):
    for n in range(7):
        put(client, track, f"p{n}@example.com", {"n": n})
    first = search(client, app_key, EMAIL_BUT_NO_ID, limit=3)
    assert [e["email"] for e in first["identifiers"]] == [f"p{n}@example.com" for n in range(3)]
    put(client, track, "p0", {"email": "p0@example.com"})  # p0 gets an id: leaves the filter
    put(client, track, "late@example.com", {})
    put(client, track, "later@example.com", {})
    second = search(client, app_key, EMAIL_BUT_NO_ID, limit=3, start=first["next"])
    third = search(client, app_key, EMAIL_BUT_NO_ID, limit=3, start=second["next"])
    seen = [e["email"] for page in (second, third) for e in page["identifiers"]]
    assert seen == [f"p{n}@example.com" for n in range(3, 7)] + [
        "late@example.com",
        "later@example.com",
    ]
    assert third["next"] != ""  # a full page always offers the next one, which may be empty
    assert search(client, app_key, EMAIL_BUT_NO_ID, start=third["next"]) == {
        "identifiers": [],
        "ids": [],
        "next": "",
    }


def test_the_limit_defaults_to_50(client, track, app_key):
    for n in range(51):
        put(client, track, f"d{n}@example.com", {})
    page = search(client, app_key, attribute("email"))
    assert len(page["identifiers"]) == 50 and page["next"]
    assert len(search(client, app_key, attribute("email"), start=page["next"])["identifiers"]) == 1


def test_an_id_only_workspace_finds_everyone_sharing_an_email(client, track, app_key):
    answer = client.patch(
        "/api/workspace/settings", json={"identifier_mode": "id_only"}, headers=app_key
    )
    assert answer.status_code == 200, answer.text
    put(client, track, "one", {"email": "Shared@example.com"})
    put(client, track, "two", {"email": "shared@example.com"})
    put(client, track, "three", {})
    assert ids(search(client, app_key, attribute("email", "eq", value="SHARED@example.com"))) == [
        "one",
        "two",
    ]
    assert ids(search(client, app_key, EMAIL_BUT_NO_ID)) == []


# -- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "body", "field", "says"),
    [
        ({"limit": 0}, {"filter": EMAIL_BUT_NO_ID}, "limit", "limit must be between 1 and 1000"),
        ({"limit": 1001}, {"filter": EMAIL_BUT_NO_ID}, "limit", "limit"),
        ({"limit": "ten"}, {"filter": EMAIL_BUT_NO_ID}, "limit", "limit"),
        ({"start": "nonsense!"}, {"filter": EMAIL_BUT_NO_ID}, "start", "start must be a cursor"),
        ({"start": "WyJ4Il0"}, {"filter": EMAIL_BUT_NO_ID}, "start", "start"),  # ["x"]
        ({"start": "Wy0xXQ"}, {"filter": EMAIL_BUT_NO_ID}, "start", "start"),  # [-1]
        ({}, {}, "filter", 'must hold a "filter"'),
        ({}, {"filter": EMAIL_BUT_NO_ID, "limit": 3}, "limit", "unknown key 'limit'"),
        ({}, {"filter": {"and": []}}, "filter", "filter.and: must be a non-empty array"),
        (
            {},
            {"filter": {"or": [attribute("a"), attribute("a", "gt", value=1)]}},
            "filter",
            "filter.or[1].attribute.operator: unknown operator 'gt' (use eq or exists)",
        ),
        ({}, {"filter": attribute("a", "eq")}, "filter", "eq needs a value"),
        ({}, {"filter": attribute("a", value=1)}, "filter", "exists takes no value"),
        ({}, {"filter": {"and": [attribute("a")] * MAX_NODES}}, "filter", "at most 100"),
    ],
)
def test_bad_calls_are_400s_naming_the_problem_and_write_nothing(
    system, client, app_key, workspace, params, body, field, says
):
    before = footprint(system, workspace["workspace_id"])
    answer = client.post(SEARCH, json=body, params=params, headers=app_key)
    refused = assert_error(answer, 400, says=says, meta="error")
    assert field in refused["message"]
    assert footprint(system, workspace["workspace_id"]) == before


def test_a_body_that_is_not_a_json_object_is_a_400(client, app_key):
    for content in (b"", b"[]", b"{", b'"filter"'):
        answer = client.post(SEARCH, content=content, headers=app_key)
        assert_error(answer, 400, meta="error")


def test_searching_needs_the_app_api_key(client, track):
    assert client.post(SEARCH, json={"filter": EMAIL_BUT_NO_ID}, headers=track).status_code == 401


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(ODD_JSON, FILTERS, st.builds(lambda v: {"attribute": v}, ODD_JSON)),
    st.one_of(st.just(""), st.text(max_size=30)),
)
def test_no_filter_or_start_a_client_sends_is_answered_with_a_5xx(crowd, f, start):
    answer = crowd.client.post(
        SEARCH, json={"filter": f}, params={"start": start}, headers=crowd.app
    )
    assert answer.status_code in (200, 400), answer.text


def test_the_refusal_docs_api_md_shows_is_the_one_roster_answers(client, app_key):
    text = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    part = text[text.index("**People search by filter.**") :]
    shown = re.search(r'400 \{"meta": \{"error": "([^"]+)"\}', part)
    assert shown is not None
    bad = attribute("plan", "gt", value=1)
    answer = client.post(SEARCH, json={"filter": bad}, params={"start": "WzQ3XQ"}, headers=app_key)
    assert_error(answer, 400, meta="error")
    assert answer.json()["meta"]["error"] == shown.group(1)


# -- streamed reads ------------------------------------------------------------------------------


def test_everyone_matching_a_filter_is_streamed_oldest_first_not_listed(
    system, client, track, workspace
):
    for n in range(5):
        put(client, track, f"s{n}@example.com" if n % 2 else f"s{n}", {"n": n})
    found = system.lookups.people(workspace["workspace_id"], parse(EMAIL_BUT_NO_ID))
    assert not isinstance(found, list | tuple)
    assert next(found).email == "s1@example.com"
    assert [person.email for person in found] == ["s3@example.com"]
    everyone = system.lookups.people(workspace["workspace_id"])
    assert [person.attributes["n"] for person in everyone] == [0, 1, 2, 3, 4]


def test_a_person_s_events_are_streamed_oldest_first(system, client, track, workspace):
    put(client, track, "ev", {})
    for n in range(3):
        answer = client.post(
            "/api/v1/customers/ev/events",
            json={"name": f"e{n}", "timestamp": 1700000000 + n},
            headers=track,
        )
        assert answer.status_code == 200, answer.text
    person = system.lookups.get(workspace["workspace_id"], Reference("id", "ev"))
    found = system.lookups.events(workspace["workspace_id"], person.cio_id)
    assert not isinstance(found, list | tuple)
    assert [event.name for event in found] == ["e0", "e1", "e2"]
