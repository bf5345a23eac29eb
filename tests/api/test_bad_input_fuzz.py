"""Generated bad input at every door, on SQLite and PostgreSQL: never a 5xx, nothing written.

Each example starts from a call the door accepts, makes it odd (huge numbers, text beyond ASCII,
wrong types, arrays where objects belong, odd headers and query values), then poisons it in one
place the door must refuse: JSON nested past the limit (docs/api.md §0), a NUL character in a
body, path segment, query value or credential, a body over the size limit, credentials beyond
ASCII. The answer must be a 4xx (Segment's API: 200 with the message dropped into the ingestion
log, docs/api.md §3) and the workspace's data must be as it was."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.app import create_app
from roster.domain.limits import JSON_MAX_DEPTH
from roster.services.system import System
from roster.settings import Settings
from tests.api.stored import footprint, logged

# `make fuzz` sets ROSTER_FUZZ_EXAMPLES for a longer run (CONTRIBUTING.md, "Fuzzing").
EXAMPLES = settings(
    max_examples=int(os.environ.get("ROSTER_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DEEP = "\ue000deep"  # stands in the body where the over-deep value's JSON text goes


@dataclass(frozen=True)
class Door:
    """One door's credentials and the calls it accepts (bodies as templates)."""

    workspace_id: int
    client: TestClient
    track: dict[str, str]
    app: dict[str, str]
    write: dict[str, str]
    webhook_id: str


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture(scope="module")
def door(system: System) -> Iterator[Door]:
    """One app and one workspace per database for the whole module (Hypothesis runs many
    examples; a workspace per example would be slow and tell nothing more)."""
    created = system.workspaces.create(f"fuzz-{uuid.uuid4().hex[:10]}")
    app = create_app(Settings(public_url="http://roster.test"), system=system)
    with TestClient(app, raise_server_exceptions=False) as client:
        known = {"email": "known@example.com", "plan": "pro"}
        track = basic(created["site_id"], created["track_api_key"])
        assert client.put("/api/v1/customers/known", json=known, headers=track).status_code == 200
        yield Door(
            created["workspace_id"],
            client,
            track,
            {"Authorization": f"Bearer {created['app_api_key']}"},
            basic(created["write_key"], ""),
            created["webhook_id"],
        )


# -- generated values ---------------------------------------------------------------------------

ODD_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
ODD_SCALARS = st.one_of(
    st.sampled_from([2**63, 2**64 - 1, -(2**63) - 1, 10**30, -(10**30), 1e308, -1e308, 0.5, -1]),
    st.sampled_from(["²", "9" * 40, "1e400", "-0", "2024-13-45T99:99:99Z", "0000-01-01", "é☃"]),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    ODD_TEXT,
)
ODD_VALUES = st.recursive(
    ODD_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(ODD_TEXT, inner, max_size=3)
    ),
    max_leaves=8,
)
NUL_TEXT = st.tuples(ODD_TEXT, ODD_TEXT).map(lambda parts: parts[0] + "\x00" + parts[1])


def deep_json(depth: int, shape: str) -> str:
    """JSON text nesting `depth` containers, built as text: no encoder recurses through it."""
    opening = "".join('{"k":' if shape[i % len(shape)] == "o" else "[" for i in range(depth))
    closing = "".join("}" if shape[i % len(shape)] == "o" else "]" for i in reversed(range(depth)))
    return opening + "1" + closing


DEEP_TEXT = st.builds(
    deep_json, st.integers(JSON_MAX_DEPTH + 1, 900), st.sampled_from(["o", "a", "oa", "aao"])
)


def paths_in(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a body where a value can be put (keys of objects, items of arrays)."""
    found: list[tuple[Any, ...]] = []
    children = (
        value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list)
        else ()
    )  # fmt: skip
    for key, child in children:
        found.append((*prefix, key))
        found.extend(paths_in(child, (*prefix, key)))
    return found


def put(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of `body` with `value` at `path` (a fresh key when the path ends in a new key)."""
    copied = json.loads(json.dumps(body))
    node = copied
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copied


def encode(body: Any, deep: str | None, ascii_only: bool) -> bytes:
    text = json.dumps(body, ensure_ascii=ascii_only)
    if deep is not None:
        text = text.replace(json.dumps(DEEP, ensure_ascii=ascii_only), deep)
    return text.encode()


# -- the calls each door accepts ----------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # {ref} is a person reference, {webhook} the webhook id
    body: Any = None  # None: the call reads no body
    inside: tuple[Any, ...] = ()  # where a poison goes for the door to refuse it
    query: tuple[str, ...] = ()  # query parameters the call reads


TRACK_V1 = (
    Call("PUT", "/api/v1/customers/{ref}", {"email": "a@example.com", "plan": "x",
         "created_at": 1700000000, "_timestamp": 1700000000, "anonymous_id": "an-1",
         "cio_relationships": [{"identifiers": {"object_type_id": "1", "object_id": "o1"}}]}),
    Call("DELETE", "/api/v1/customers/{ref}"),
    Call("POST", "/api/v1/customers/{ref}/events", {"name": "ev", "type": "event", "id": "e1",
         "timestamp": 1700000000, "data": {"k": "v"}}),
    Call("POST", "/api/v1/events", {"name": "ev", "anonymous_id": "an-2", "data": {"a": 1}}),
    Call("PUT", "/api/v1/customers/{ref}/devices", {"device": {"id": "tok", "platform": "ios",
         "last_used": 1700000000, "attributes": {"a": 1}}}),
    Call("DELETE", "/api/v1/customers/known/devices/{ref}"),
    Call("POST", "/api/v1/customers/{ref}/suppress"),
    Call("POST", "/api/v1/customers/{ref}/unsuppress"),
    Call("POST", "/api/v1/merge_customers", {"primary": {"id": "known"},
         "secondary": {"email": "other@example.com"}}),
    Call("POST", "/api/v1/metrics", {"delivery_id": "d", "metric": "opened"}),
    Call("POST", "/api/v1/push/events", {"delivery_id": "d", "event": "opened"}),
)  # fmt: skip
TRACK_V2 = (
    Call("POST", "/api/v2/entity", {"type": "person", "action": "identify",
         "identifiers": {"id": "{ref}"}, "attributes": {"email": "b@example.com", "n": 1},
         "timestamp": 1700000000}),
    Call("POST", "/api/v2/entity", {"type": "person", "action": "event", "name": "n",
         "identifiers": {"id": "{ref}"}, "attributes": {"a": 1, "anonymous_id": "z"}}),
    Call("POST", "/api/v2/entity", {"type": "person", "action": "add_device",
         "identifiers": {"id": "known"}, "device": {"token": "t", "platform": "ios"}}),
    Call("POST", "/api/v2/entity", {"type": "object", "action": "identify",
         "identifiers": {"object_type_id": "1", "object_id": "g"}, "attributes": {"a": 1},
         "cio_relationships": [{"identifiers": {"id": "known"}}]}),
    Call("POST", "/api/v2/entity", {"type": "delivery", "action": "event",
         "identifiers": {"id": "d"}, "name": "opened"}),
    Call("POST", "/api/v2/batch", {"batch": [{"type": "person", "action": "identify",
         "identifiers": {"id": "{ref}"}, "attributes": {"a": 1}}]}),
)  # fmt: skip
SEGMENT = (
    Call("POST", "/v1/identify", {"userId": "{ref}", "anonymousId": "an",
         "traits": {"email": "s@example.com", "createdAt": "2024-01-01", "objectId": "o"},
         "timestamp": "2024-01-01T00:00:00Z"}),
    Call("POST", "/v1/track", {"userId": "{ref}", "event": "Application Opened",
         "properties": {"a": 1}, "context": {"device": {"token": "t", "type": "ios"}}}),
    Call("POST", "/v1/page", {"userId": "{ref}", "name": "p", "properties": {"url": "u"}}),
    Call("POST", "/v1/group", {"userId": "{ref}", "groupId": "g",
         "traits": {"objectAttributes": {"a": 1}}}),
    Call("POST", "/v1/alias", {"userId": "{ref}", "previousId": "known"}),
    Call("POST", "/v1/batch", {"batch": [{"type": "identify", "userId": "{ref}",
         "traits": {"a": 1}}], "context": {"ip": "1.2.3.4"}}, inside=("batch", 0)),
    Call("POST", "/v1/import", {"batch": [{"type": "track", "userId": "{ref}", "event": "e",
         "properties": {"a": [1, {"b": 2}]}}]}, inside=("batch", 0)),
)  # fmt: skip
WEBHOOK = (
    Call("POST", "/segment/webhook/{webhook}", {"type": "identify", "userId": "{ref}",
         "traits": {"a": 1}}),
    Call("POST", "/segment/webhook/{webhook}", [{"type": "track", "userId": "{ref}",
         "event": "e", "properties": {"a": 1}}], inside=(0,)),
    Call("POST", "/segment/webhook/{webhook}", {"batch": [{"type": "identify",
         "userId": "{ref}", "traits": {"a": 1}}]}, inside=("batch", 0)),
)  # fmt: skip
APP = (
    Call("GET", "/v1/customers", query=("email",)),
    Call("GET", "/v1/customers/{ref}/attributes", query=("id_type",)),
    Call("GET", "/v1/customers/known/activities", query=("type", "start", "limit", "id_type")),
    Call("GET", "/v1/customers/{ref}/activities", query=("deleted",)),
    Call("GET", "/v1/objects/1/{ref}", query=("start", "limit")),
    Call("POST", "/v1/customers/attributes", {"ids": ["known", "{ref}"]}),
    Call("POST", "/v1/customers", {"filter": {"and": [{"attribute": {"field": "email",
         "operator": "exists"}}, {"not": {"attribute": {"field": "id", "operator": "exists"}}}]}},
         query=("start", "limit")),
    Call("POST", "/v1/merge_customers", {"primary": {"id": "known"},
         "secondary": {"id": "{ref}"}}),
)  # fmt: skip
ROSTER = (
    Call("GET", "/api/ingestion-log", query=("start", "limit")),
    Call("GET", "/api/workspace/settings"),
    Call("PATCH", "/api/workspace/settings", {"anonymous_retention_days": 30}),
)


# -- one request: odd, then poisoned -------------------------------------------------------------


@dataclass
class Request:
    method: str
    url: str
    content: bytes | None
    headers: dict[str, str]


POISONS = ("body_deep", "body_nul", "path_nul", "query_nul", "query_cursor", "credential")


def draw_request(data: st.DataObject, door: Door, calls: tuple[Call, ...], auth: str) -> Request:
    call = data.draw(st.sampled_from(calls), label="call")
    ref = f"f{uuid.uuid4().hex[:10]}"
    body = (
        json.loads(json.dumps(call.body).replace("{ref}", ref)) if call.body is not None else None
    )
    if body is not None and data.draw(st.booleans(), label="odd body"):
        # Anywhere but on the way to where the poison goes, which must stay a container.
        places = [p for p in paths_in(body) if call.inside[: len(p)] != p]
        where = data.draw(st.sampled_from(places), label="odd at")
        body = put(body, where, data.draw(ODD_VALUES, label="odd value"))
    possible = [p for p in POISONS if p != "query_cursor" or "start" in call.query]
    possible = [p for p in possible if not p.startswith("body") or body is not None]
    possible = [p for p in possible if p != "path_nul" or "{ref}" in call.path]
    possible = [p for p in possible if not p.startswith("query") or call.query]
    poison = data.draw(st.sampled_from(possible), label="poison")
    deep = None
    if poison.startswith("body"):
        value = DEEP if poison == "body_deep" else data.draw(NUL_TEXT, label="nul text")
        inside = call.inside
        spots = [(*inside, *p) for p in paths_in(_get(body, inside))] + [(*inside, "poison")]
        body = put(body, data.draw(st.sampled_from(spots), label="poison at"), value)
        if poison == "body_deep":
            deep = data.draw(DEEP_TEXT, label="deep")
    path_ref = ref
    if poison == "path_nul":
        path_ref = quote(data.draw(NUL_TEXT, label="path text"), safe="")
    elif data.draw(st.booleans(), label="odd path"):
        path_ref = quote(data.draw(ODD_TEXT.filter(bool), label="path text"), safe="")
    url = call.path.replace("{ref}", path_ref).replace("{webhook}", door.webhook_id)
    query: dict[str, str] = {}
    for name in call.query:
        if data.draw(st.booleans(), label=f"query {name}"):
            query[name] = data.draw(st.one_of(ODD_TEXT, ODD_SCALARS.map(str)), label=name)
    if poison == "query_nul":
        name = data.draw(st.sampled_from(call.query), label="poisoned parameter")
        query[name] = data.draw(NUL_TEXT, label="query text")
    if poison == "query_cursor":
        query["start"] = data.draw(
            st.sampled_from(["²", "١٢", str(2**63), str(10**30), "-1", "1.5", " 1", "0x10"])
        )
    if query:
        url += "?" + urlencode(query)
    headers = dict(getattr(door, auth))
    if poison == "credential":
        user = data.draw(st.one_of(NUL_TEXT, st.just("é"), st.just("site\x00")), label="user")
        token = base64.b64encode(user.encode() + b":" + user.encode()).decode()
        headers["Authorization"] = data.draw(
            st.sampled_from([f"Basic {token}", f"Bearer {user}", f"Basic {user}", "Basic é"])
        )
        if "/segment/webhook/" in url:
            headers["X-Signature"] = data.draw(st.sampled_from(["é", "ÿ" * 40, "0" * 40, "\x7f"]))
    for name in ("X-Strict-Mode", "Content-Type", "X-Odd"):
        if data.draw(st.booleans(), label=f"header {name}"):
            headers[name] = data.draw(st.sampled_from(["é", "1", "true", "ÿþ", "application/json"]))
    content = None
    if body is not None:
        content = encode(body, deep, data.draw(st.booleans(), label="ascii"))
    return Request(call.method, url, content, {k: _latin1(v) for k, v in headers.items()})


def _get(body: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        body = body[key]
    return body


def _latin1(value: str) -> str:
    """Header values travel as bytes; text beyond Latin-1 goes as its UTF-8 bytes."""
    return value.encode().decode("latin-1")


def send(door: Door, request: Request) -> Any:
    headers = {k: v.encode("latin-1") for k, v in request.headers.items()}
    return door.client.request(request.method, request.url, content=request.content,
                               headers=headers)  # fmt: skip


def assert_refused_and_nothing_written(
    system: System, door: Door, request: Request, segment: bool = False
) -> None:
    before, log_before = footprint(system, door.workspace_id), logged(system, door.workspace_id)
    answer = send(door, request)
    assert answer.status_code < 500, (request, answer.text)
    if segment and answer.status_code == 200:  # dropped and logged, docs/api.md §3
        assert logged(system, door.workspace_id) > log_before, (request, answer.text)
    else:
        assert 400 <= answer.status_code < 500, (request, answer.text)
        body = answer.json()
        assert body["code"] and body["message"], body
    assert footprint(system, door.workspace_id) == before, (request, answer.text)


# -- one test per door --------------------------------------------------------------------------


@EXAMPLES
@given(data=st.data())
def test_odd_and_poisoned_track_v1_calls_are_4xx_and_write_nothing(system, door, data):
    assert_refused_and_nothing_written(system, door, draw_request(data, door, TRACK_V1, "track"))


@EXAMPLES
@given(data=st.data())
def test_odd_and_poisoned_track_v2_calls_are_4xx_and_write_nothing(system, door, data):
    assert_refused_and_nothing_written(system, door, draw_request(data, door, TRACK_V2, "track"))


@EXAMPLES
@given(data=st.data())
def test_odd_and_poisoned_segment_messages_are_refused_or_logged_and_write_nothing(
    system, door, data
):
    request = draw_request(data, door, SEGMENT, "write")
    assert_refused_and_nothing_written(system, door, request, segment=True)


@EXAMPLES
@given(data=st.data())
def test_odd_and_poisoned_webhook_calls_are_refused_or_logged_and_write_nothing(system, door, data):
    request = draw_request(data, door, WEBHOOK, "write")
    assert_refused_and_nothing_written(system, door, request, segment=True)


@EXAMPLES
@given(data=st.data())
def test_odd_and_poisoned_app_api_calls_are_4xx_and_write_nothing(system, door, data):
    assert_refused_and_nothing_written(system, door, draw_request(data, door, APP, "app"))


@EXAMPLES
@given(data=st.data())
def test_odd_and_poisoned_roster_api_calls_are_4xx_and_change_no_setting(system, door, data):
    settings_before = door.client.get("/api/workspace/settings", headers=door.app).json()
    assert_refused_and_nothing_written(system, door, draw_request(data, door, ROSTER, "app"))
    assert door.client.get("/api/workspace/settings", headers=door.app).json() == settings_before
