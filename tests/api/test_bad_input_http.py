"""Bad input through a real `roster serve` (SQLite, plain HTTP, httpx): every malformed, mistyped,
over-limit or odd call gets a clear 4xx in Customer.io's shape (docs/api.md §1: "code", "message"
and "meta") or the documented silent 200 with nothing written, and never a 5xx (customerio-python
and customerio-node retry a 5xx). What was or was not written is checked through the App API and,
where the App API cannot see it (nobody was created), by reading the database file."""

from __future__ import annotations

import base64
import secrets
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.api.calls import assert_error, basic
from tests.server import AppApi, RunningRoster, create_workspace, path_ref

pytestmark = pytest.mark.server

TRACK = "/api/v1/customers"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bad-input")


@pytest.fixture(scope="module")
def roster(folder: Path) -> Iterator[RunningRoster]:
    with RunningRoster(f"sqlite:///{folder / 'roster.db'}", folder / "data") as running:
        yield running


@pytest.fixture
def http(roster: RunningRoster) -> Iterator[httpx.Client]:
    """A fresh client per test: a server error closes the connection it came on."""
    with roster.track_http() as client:
        yield client


@pytest.fixture(scope="module")
def database(roster: RunningRoster) -> Iterator[sa.Engine]:
    """The server's SQLite file, read directly (WAL: reading beside the server is safe)."""
    engine = sa.create_engine(roster.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def count(database: sa.Engine, table: str) -> int:
    with database.connect() as connection:
        found: int = connection.execute(sa.text(f"select count(*) from {table}")).scalar_one()
        return found


def assert_silent_ok(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == {}


def raw_request(
    roster: RunningRoster, method: str, target: bytes, body: bytes = b"{}"
) -> tuple[int, bytes]:
    """One request with the request line exactly as given (httpx would percent-encode it)."""
    credentials = basic(roster.site_id, roster.track_api_key)["Authorization"].encode()
    request = b"".join(
        [
            method.encode(), b" ", target, b" HTTP/1.1\r\n",
            b"Host: 127.0.0.1\r\n",
            b"Authorization: ", credentials, b"\r\n",
            b"Content-Type: application/json\r\n",
            b"Content-Length: ", str(len(body)).encode(), b"\r\n",
            b"Connection: close\r\n\r\n", body,
        ]
    )  # fmt: skip
    with socket.create_connection(("127.0.0.1", roster.port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, payload


# -- malformed bodies -----------------------------------------------------------------------------

MALFORMED = {
    "truncated": b'{"plan": ',
    "trailing comma": b'{"plan": "pro",}',
    "single quotes": b"{'plan': 'pro'}",
    "NaN": b'{"plan": NaN}',
    "a number beyond a double": b'{"n": 1e400}',
    "a byte order mark": b'\xef\xbb\xbf{"plan": "pro"}',
    "invalid UTF-8": b'{"plan": "\xff"}',
    "a lone surrogate": b'{"plan": "\\ud800"}',
    "nesting too deep": b'{"a": ' + b"[" * 2000 + b"]" * 2000 + b"}",
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_json_is_a_400_in_customerio_shape_and_creates_nobody(
    http: httpx.Client, app: AppApi, uid: str, body: bytes
) -> None:
    response = http.put(f"{TRACK}/{uid}", content=body)

    assert_error(response, 400, says="not valid JSON", meta="errors")
    assert app.customer(uid) is None


@pytest.mark.parametrize("body", [b"[]", b'[{"plan": "pro"}]', b'"pro"', b"42", b"null", b"true"])
def test_a_body_that_is_json_but_not_an_object_is_a_400_and_creates_nobody(
    http: httpx.Client, app: AppApi, uid: str, body: bytes
) -> None:
    response = http.put(f"{TRACK}/{uid}", content=body)

    assert_error(response, 400, says="request body must be a JSON object", meta="errors")
    assert app.customer(uid) is None


def test_a_body_over_one_megabyte_is_a_400_and_creates_nobody(
    http: httpx.Client, app: AppApi, uid: str
) -> None:
    response = http.put(f"{TRACK}/{uid}", content=b'{"a": "' + b"x" * 1_000_001 + b'"}')

    assert_error(response, 400, says="larger than", meta="errors")
    assert app.customer(uid) is None


# -- wrong types ----------------------------------------------------------------------------------

WRONG_IDENTIFY = {
    "id as an object": ({"id": {"a": 1}}, "id must be a string"),
    "id as a boolean": ({"id": True}, "id must be a string"),
    "email as an object": ({"email": {"a": 1}}, "email must be a string"),
    "email as a list": ({"email": ["x@example.com"]}, "email must be a string"),
    "email that is no email": ({"email": "not an email"}, "is not a valid email address"),
    "anonymous_id as a list": ({"anonymous_id": [1]}, "anonymous_id must be a string"),
    "_update as a string": ({"_update": "yes"}, "_update must be true or false"),
    "_timestamp as words": ({"_timestamp": "yesterday"}, "_timestamp must be unix seconds"),
    "relationships as an object": ({"cio_relationships": {"a": 1}}, "must be an array"),
    "relationship without identifiers": ({"cio_relationships": [1]}, "identifiers"),
    "a reserved attribute": ({"_cio_internal": 1}, "reserved"),
}


@pytest.mark.parametrize(("body", "says"), WRONG_IDENTIFY.values(), ids=WRONG_IDENTIFY.keys())
def test_an_identify_with_a_wrongly_typed_field_is_a_400_naming_it_and_writes_nothing(
    http: httpx.Client, app: AppApi, uid: str, body: dict[str, Any], says: str
) -> None:
    http.put(f"{TRACK}/{uid}", json={"plan": "before"})

    response = http.put(f"{TRACK}/{uid}", json={**body, "plan": "after", "city": "Oslo"})

    assert_error(response, 400, says=says, meta="errors")
    attributes = app.must(uid)["attributes"]
    assert attributes["plan"] == "before"
    assert "city" not in attributes


WRONG_EVENTS = {
    "name missing": ({"data": {"k": 1}}, "event name is required"),
    "name empty": ({"name": ""}, "event name is required"),
    "name a number": ({"name": 5}, "event name is required"),
    "data a string": ({"name": "n", "data": "string"}, "data must be a JSON object"),
    "data a list": ({"name": "n", "data": [1]}, "data must be a JSON object"),
    "type unknown": ({"name": "n", "type": "click"}, "type must be one of"),
    "id a float": ({"name": "n", "id": 1.5}, "id must be a string"),
    "id an object": ({"name": "n", "id": {"a": 1}}, "id must be a string"),
    "name over 100 bytes": ({"name": "n" * 101}, "cannot be longer than 100 bytes"),
    "data over 100000 bytes": (
        {"name": "n", "data": {"k": "x" * 100_001}},
        "cannot be longer than 100000 bytes",
    ),
}


@pytest.mark.parametrize(("body", "says"), WRONG_EVENTS.values(), ids=WRONG_EVENTS.keys())
def test_an_event_with_a_missing_or_wrongly_typed_field_is_a_400_and_stores_no_event(
    http: httpx.Client, app: AppApi, uid: str, body: dict[str, Any], says: str
) -> None:
    http.put(f"{TRACK}/{uid}", json={})

    response = http.post(f"{TRACK}/{uid}/events", json=body)

    assert_error(response, 400, says=says, meta="errors")
    assert app.events(uid) == []


def test_an_event_for_an_unknown_person_with_a_bad_body_creates_nobody(
    http: httpx.Client, app: AppApi, uid: str
) -> None:
    response = http.post(f"{TRACK}/{uid}/events", json={"name": "n", "data": "string"})

    assert_error(response, 400, meta="errors")
    assert app.customer(uid) is None


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"name": "n"}, "needs anonymous_id, or data.recipient"),
        ({"name": "n", "anonymous_id": {"a": 1}}, "anonymous_id must be a string"),
        ({"anonymous_id": "a-1"}, "event name is required"),
    ],
    ids=["no anonymous id and no recipient", "anonymous id an object", "name missing"],
)
def test_an_anonymous_event_with_a_bad_body_is_a_400_and_stores_nothing(
    http: httpx.Client, database: sa.Engine, body: dict[str, Any], says: str
) -> None:
    events, activities = count(database, "events"), count(database, "activities")

    response = http.post("/api/v1/events", json=body)

    assert_error(response, 400, says=says, meta="errors")
    assert count(database, "events") == events
    assert count(database, "activities") == activities


WRONG_DEVICES = {
    "no device": ({}, "device must be an object"),
    "device a string": ({"device": "token"}, "device must be an object"),
    "id a number": ({"device": {"id": 5, "platform": "ios"}}, "device.id is required"),
    "platform missing": ({"device": {"id": "t"}}, "device.platform is required"),
    "last_used as words": (
        {"device": {"id": "t", "platform": "ios", "last_used": "yesterday"}},
        "device.last_used must be unix seconds",
    ),
    "attributes a list": (
        {"device": {"id": "t", "platform": "ios", "attributes": [1]}},
        "device.attributes must be an object",
    ),
    "token over 255 bytes": (
        {"device": {"id": "t" * 256, "platform": "ios"}},
        "cannot be longer than 255 bytes",
    ),
}


@pytest.mark.parametrize(("body", "says"), WRONG_DEVICES.values(), ids=WRONG_DEVICES.keys())
def test_a_device_call_with_a_bad_body_is_a_400_and_adds_no_device(
    http: httpx.Client, app: AppApi, uid: str, body: dict[str, Any], says: str
) -> None:
    http.put(f"{TRACK}/{uid}", json={})

    response = http.put(f"{TRACK}/{uid}/devices", json=body)

    assert_error(response, 400, says=says, meta="errors")
    assert app.must(uid)["devices"] == []


WRONG_MERGES: dict[str, Callable[[str, str], dict[str, Any]]] = {
    "empty body": lambda a, b: {},
    "secondary missing": lambda a, b: {"primary": {"id": a}},
    "two keys a side": lambda a, b: {
        "primary": {"id": a, "email": f"{a}@example.com"},
        "secondary": {"id": b},
    },
    "unknown kind": lambda a, b: {"primary": {"phone": a}, "secondary": {"id": b}},
    "side a string": lambda a, b: {"primary": a, "secondary": {"id": b}},
    "empty value": lambda a, b: {"primary": {"id": ""}, "secondary": {"id": b}},
}


@pytest.mark.parametrize("body_of", WRONG_MERGES.values(), ids=WRONG_MERGES.keys())
def test_a_malformed_merge_is_a_400_with_a_meta_error_and_merges_nothing(
    http: httpx.Client, app: AppApi, uid: str, body_of: Callable[[str, str], dict[str, Any]]
) -> None:
    a, b = f"{uid}-a", f"{uid}-b"
    http.put(f"{TRACK}/{a}", json={"plan": "a"})
    http.put(f"{TRACK}/{b}", json={"city": "b"})

    response = http.post("/api/v1/merge_customers", json=body_of(a, b))

    assert_error(response, 400, meta="error")
    assert app.must(a)["attributes"].get("city") is None
    assert app.must(b)["attributes"]["city"] == "b"


def test_a_merge_side_whose_value_is_not_a_string_is_a_400_with_a_meta_error(
    http: httpx.Client,
) -> None:
    response = http.post(
        "/api/v1/merge_customers", json={"primary": {"id": {"a": 1}}, "secondary": {"id": "b"}}
    )

    assert_error(response, 400, meta="error")


# -- limits ---------------------------------------------------------------------------------------

OVER_LIMIT = {
    "value over 1000 bytes": (
        {"plan": "x" * 1001},
        "value for attribute 'plan' cannot be longer than 1000 bytes",
    ),
    "multibyte value over 1000 bytes": (
        {"plan": "é" * 501},
        "value for attribute 'plan' cannot be longer than 1000 bytes",
    ),
    "nested value over 1000 bytes": (
        {"nested": {"k": "x" * 1000}},
        "value for attribute 'nested' cannot be longer than 1000 bytes",
    ),
    "name over 150 bytes": ({"n" * 151: 1}, "cannot be longer than 150 bytes"),
    "301 attributes": (
        {f"a{i}": i for i in range(301)},
        "a call cannot carry more than 300 attributes",
    ),
}


@pytest.mark.parametrize(("body", "says"), OVER_LIMIT.values(), ids=OVER_LIMIT.keys())
def test_an_identify_over_a_limit_is_a_400_with_customerios_message_and_writes_nothing(
    http: httpx.Client, app: AppApi, uid: str, body: dict[str, Any], says: str
) -> None:
    http.put(f"{TRACK}/{uid}", json={"plan": "before"})
    before = app.must(uid)

    response = http.put(f"{TRACK}/{uid}", json={"city": "Oslo", **body})

    assert_error(response, 400, says=says, meta="errors")
    after = app.must(uid)
    assert after["attributes"] == before["attributes"]
    assert after["timestamps"] == before["timestamps"]


def test_an_identify_over_a_limit_for_a_new_id_creates_nobody(
    http: httpx.Client, app: AppApi, uid: str
) -> None:
    response = http.put(f"{TRACK}/{uid}", json={f"a{i}": i for i in range(301)})

    assert_error(response, 400, meta="errors")
    assert app.customer(uid) is None


def test_values_exactly_at_the_limits_are_accepted_and_stored(
    http: httpx.Client, app: AppApi, uid: str
) -> None:
    body = {f"a{i}": i for i in range(297)}
    body["plan"] = "x" * 1000
    body["n" * 150] = "name of 150 bytes"
    body["multibyte"] = "é" * 500

    response = http.put(f"{TRACK}/{uid}", json=body)

    assert_silent_ok(response)
    attributes = app.must(uid)["attributes"]
    assert attributes["plan"] == "x" * 1000
    assert attributes["n" * 150] == "name of 150 bytes"
    assert attributes["multibyte"] == "é" * 500
    assert attributes["a296"] == "296"


def test_a_call_that_would_give_a_person_more_than_300_attributes_is_a_400_and_writes_nothing(
    http: httpx.Client, app: AppApi, uid: str
) -> None:
    http.put(f"{TRACK}/{uid}", json={f"a{i}": i for i in range(290)})
    before = app.must(uid)["attributes"]

    response = http.put(f"{TRACK}/{uid}", json={f"b{i}": i for i in range(20)})

    assert_error(response, 400, says="a person cannot have more than 300 attributes", meta="errors")
    assert app.must(uid)["attributes"] == before


# -- path references ------------------------------------------------------------------------------

DECODED_ONCE = {
    "encoded slash": ("a%2Fb", "a/b"),
    "encoded percent sign twice": ("%2525", "%25"),
    "encoded percent sign": ("%25", "%"),
    "raw plus": ("a+b", "a+b"),
    "encoded plus": ("a%2Bb", "a+b"),
    "encoded space": ("a%20b", "a b"),
    "encoded u umlaut": ("%C3%BC", "ü"),
    "encoded emoji": ("%F0%9F%98%80", "😀"),
    "encoded mixed unicode": ("caf%C3%A9-%E2%82%AC", "café-€"),
}


@pytest.mark.parametrize(("encoded", "decoded"), DECODED_ONCE.values(), ids=DECODED_ONCE.keys())
def test_a_path_reference_is_percent_decoded_exactly_once(
    http: httpx.Client,
    app: AppApi,
    database: sa.Engine,
    uid: str,
    encoded: str,
    decoded: str,
) -> None:
    people = count(database, "people")

    response = http.put(f"{TRACK}/{uid}-{encoded}", json={"plan": "pro"})

    assert_silent_ok(response)
    assert response.request.url.raw_path.decode().endswith(f"{uid}-{encoded}")
    person = app.must(f"{uid}-{decoded}")
    assert person["identifiers"]["id"] == f"{uid}-{decoded}"
    assert person["attributes"]["plan"] == "pro"
    assert count(database, "people") == people + 1


def test_every_track_call_reads_an_encoded_slash_as_the_same_person(
    http: httpx.Client, app: AppApi, uid: str
) -> None:
    ref = f"{uid}%2Fteam%2525"
    plain = f"{uid}/team%25"

    assert_silent_ok(http.put(f"{TRACK}/{ref}", json={"plan": "pro"}))
    assert_silent_ok(http.post(f"{TRACK}/{ref}/events", json={"name": "clicked"}))
    assert_silent_ok(
        http.put(f"{TRACK}/{ref}/devices", json={"device": {"id": "t/1", "platform": "ios"}})
    )
    person = app.must(plain)
    assert [d["id"] for d in person["devices"]] == ["t/1"]
    assert [e["name"] for e in app.events(plain)] == ["clicked"]

    assert_silent_ok(http.delete(f"{TRACK}/{ref}/devices/{path_ref('t/1')}"))
    assert app.must(plain)["devices"] == []
    assert_silent_ok(http.delete(f"{TRACK}/{ref}"))
    assert app.customer(plain) is None


def test_a_raw_at_sign_in_the_path_is_an_email_reference_like_an_encoded_one(
    http: httpx.Client, app: AppApi, uid: str
) -> None:
    email = f"{uid}@example.com"

    first = http.put(f"{TRACK}/{email}", json={"plan": "pro"})
    second = http.put(f"{TRACK}/{uid}%40example.com", json={"city": "Oslo"})

    assert_silent_ok(first)
    assert_silent_ok(second)
    assert b"@" in first.request.url.raw_path
    assert b"%40" in second.request.url.raw_path
    (found,) = app.with_email(email)
    assert found["id"] is None
    person = app.must(email, "email")
    assert person["attributes"]["plan"] == "pro"
    assert person["attributes"]["city"] == "Oslo"


@pytest.mark.parametrize("raw", ["ü", "😀", "café"], ids=["u umlaut", "emoji", "accented"])
def test_raw_unicode_in_the_request_line_is_refused_with_a_400_and_creates_nobody(
    roster: RunningRoster, app: AppApi, database: sa.Engine, uid: str, raw: str
) -> None:
    """HTTP/1.1 request targets are ASCII: uvicorn's parser answers 400 before roster sees the
    call (its body is uvicorn's plain text, not roster's JSON)."""
    people = count(database, "people")

    status, _ = raw_request(roster, "PUT", f"{TRACK}/{uid}-{raw}".encode(), b'{"plan": "pro"}')

    assert status == 400
    assert app.customer(f"{uid}-{raw}") is None
    assert count(database, "people") == people


def test_a_raw_at_sign_sent_byte_for_byte_is_an_email_reference(
    roster: RunningRoster, app: AppApi, uid: str
) -> None:
    status, body = raw_request(roster, "PUT", f"{TRACK}/{uid}@example.com".encode())

    assert (status, body) == (200, b"{}")
    assert app.must(f"{uid}@example.com", "email")["identifiers"]["id"] is None


@pytest.mark.parametrize("ref", ["%FF", "a%C3", "%ED%A0%80"], ids=["ff", "truncated", "surrogate"])
def test_a_path_reference_that_is_not_utf8_once_decoded_is_a_400(
    http: httpx.Client, database: sa.Engine, ref: str
) -> None:
    people = count(database, "people")

    response = http.put(f"{TRACK}/{ref}", json={"plan": "pro"})

    assert_error(response, 400, says="not valid UTF-8", meta="errors")
    assert count(database, "people") == people


BLOCKED = {
    "undefined": "undefined",
    "null": "null",
    "NULL": "NULL",
    "None": "None",
    "zero": "0",
    "minus one": "-1",
    "nan": "nan",
    "anonymous": "anonymous",
    "Guest": "Guest",
    "padded null": "%20null%20",
    "object Object": "%5Bobject%20Object%5D",
    "user_id": "user_id",
}


@pytest.mark.parametrize("ref", BLOCKED.values(), ids=BLOCKED.keys())
def test_a_blocked_path_reference_is_answered_200_and_writes_nothing(
    http: httpx.Client, database: sa.Engine, ref: str
) -> None:
    people, events = count(database, "people"), count(database, "events")

    identify = http.put(f"{TRACK}/{ref}", json={"plan": "pro"})
    event = http.post(f"{TRACK}/{ref}/events", json={"name": "clicked"})
    device = http.put(f"{TRACK}/{ref}/devices", json={"device": {"id": "t", "platform": "ios"}})

    for response in (identify, event, device):
        assert_silent_ok(response)
    assert count(database, "people") == people
    assert count(database, "events") == events


def test_a_blocked_path_reference_with_an_email_in_the_body_identifies_by_the_email(
    http: httpx.Client, app: AppApi, database: sa.Engine, uid: str
) -> None:
    email = f"{uid}@example.com"

    assert_silent_ok(http.put(f"{TRACK}/undefined", json={"email": email, "plan": "pro"}))

    person = app.must(email, "email")
    assert person["identifiers"]["id"] is None
    assert person["attributes"]["plan"] == "pro"
    with database.connect() as connection:
        taken = connection.execute(
            sa.text("select count(*) from identifiers where kind = 'id' and value = 'undefined'")
        ).scalar_one()
    assert taken == 0


def test_an_unknown_cio_reference_is_answered_200_and_creates_nobody(
    http: httpx.Client, database: sa.Engine
) -> None:
    people = count(database, "people")

    assert_silent_ok(http.put(f"{TRACK}/cio_ffffffffffff", json={"plan": "pro"}))
    assert_silent_ok(http.post(f"{TRACK}/cio_ffffffffffff/events", json={"name": "n"}))

    assert count(database, "people") == people


@pytest.mark.parametrize(
    "ref",
    ["a" * 151, "%C3%BC" * 76, "a" * 20_000],
    ids=["151 ascii bytes", "152 bytes of u umlauts", "20000 bytes"],
)
def test_an_id_longer_than_150_bytes_is_a_400_and_creates_nobody(
    http: httpx.Client, database: sa.Engine, ref: str
) -> None:
    people = count(database, "people")

    response = http.put(f"{TRACK}/{ref}", json={"plan": "pro"})

    assert_error(response, 400, says="cannot be longer than 150 bytes", meta="errors")
    assert count(database, "people") == people


def test_an_id_of_exactly_150_bytes_is_accepted_as_it_is(
    http: httpx.Client, app: AppApi, uid: str
) -> None:
    ref = uid + "ü" * ((150 - len(uid)) // 2)
    ref += "a" * (150 - len(ref.encode()))
    assert len(ref.encode()) == 150

    assert_silent_ok(http.put(f"{TRACK}/{path_ref(ref)}", json={}))

    assert app.must(ref)["identifiers"]["id"] == ref


# -- credentials ----------------------------------------------------------------------------------


def bad_track_headers(roster: RunningRoster) -> dict[str, dict[str, str]]:
    return {
        "no header": {},
        "wrong key": basic(roster.site_id, "wrong"),
        "wrong site id": basic("wrong", roster.track_api_key),
        "empty key": basic(roster.site_id, ""),
        "the app api key as bearer": {"Authorization": f"Bearer {roster.app_api_key}"},
        "the app api key as password": basic(roster.site_id, roster.app_api_key),
        "not base64": {"Authorization": "Basic !!!"},
        "no colon": {"Authorization": "Basic " + base64.b64encode(b"nocolon").decode()},
        "scheme alone": {"Authorization": "Basic"},
    }


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/api/v1/customers/{uid}", {"plan": "pro"}),
        ("POST", "/api/v1/customers/{uid}/events", {"name": "n"}),
        ("PUT", "/api/v1/customers/{uid}/devices", {"device": {"id": "t", "platform": "ios"}}),
        ("GET", "/auth", None),
        ("GET", "/api/v1/accounts/region", None),
    ],
    ids=["identify", "event", "device", "auth", "region"],
)
def test_track_calls_without_valid_credentials_get_a_401_in_customerio_shape_and_write_nothing(
    roster: RunningRoster, app: AppApi, uid: str, method: str, path: str, body: Any
) -> None:
    with httpx.Client(base_url=roster.base_url) as anonymous:
        for label, headers in bad_track_headers(roster).items():
            response = anonymous.request(method, path.format(uid=uid), json=body, headers=headers)
            assert response.status_code == 401, (label, response.text)
            assert response.json() == {
                "code": "unauthorized",
                "message": "Unauthorized request",
                "meta": {"error": "Unauthorized request"},
            }, label
            assert response.headers["www-authenticate"] == "Basic", label
    assert app.customer(uid) is None


def test_the_right_credentials_pass_auth_and_region(http: httpx.Client) -> None:
    assert http.get("/auth").status_code == 200
    region = http.get("/api/v1/accounts/region").json()
    assert region["region"] == "us"
    assert region["url"] == str(http.base_url).rstrip("/")


def test_app_api_calls_without_a_valid_bearer_key_get_a_401(
    roster: RunningRoster, http: httpx.Client, uid: str
) -> None:
    http.put(f"{TRACK}/{uid}", json={"plan": "pro"})
    headers: dict[str, dict[str, str]] = {
        "no header": {},
        "wrong key": {"Authorization": "Bearer wrong"},
        "the track key": {"Authorization": f"Bearer {roster.track_api_key}"},
        "track basic credentials": basic(roster.site_id, roster.track_api_key),
        "scheme alone": {"Authorization": "Bearer"},
    }
    with httpx.Client(base_url=roster.base_url) as anonymous:
        for label, header in headers.items():
            response = anonymous.get(f"/v1/customers/{uid}/attributes", headers=header)
            assert response.status_code == 401, (label, response.text)
            assert response.json() == {
                "code": "unauthorized",
                "message": "Unauthorized request",
                "meta": {"error": "Unauthorized request"},
            }, label


def test_one_workspaces_credentials_never_reach_another_workspaces_people(
    roster: RunningRoster, http: httpx.Client, app: AppApi, uid: str
) -> None:
    other = create_workspace(roster.database_url, roster.data_dir)
    http.put(f"{TRACK}/{uid}", json={"plan": "pro"})

    mixed = httpx.put(
        f"{roster.base_url}{TRACK}/{uid}",
        json={"plan": "stolen"},
        auth=(other["site_id"], roster.track_api_key),
    )
    with AppApi(roster.base_url, other["app_api_key"], True) as other_app:
        seen_by_other = other_app.customer(uid)
    with httpx.Client(
        base_url=roster.base_url, auth=(other["site_id"], other["track_api_key"])
    ) as h:
        own = h.put(f"{TRACK}/{uid}", json={"plan": "other"})

    assert_error(mixed, 401, meta="error")
    assert seen_by_other is None
    assert_silent_ok(own)
    assert app.must(uid)["attributes"]["plan"] == "pro"


# -- strict mode ----------------------------------------------------------------------------------


def two_people(http: httpx.Client, app: AppApi, uid: str) -> tuple[dict[str, Any], ...]:
    assert_silent_ok(http.put(f"{TRACK}/{uid}-a", json={"email": f"{uid}-a@example.com"}))
    assert_silent_ok(http.put(f"{TRACK}/{uid}-b", json={"email": f"{uid}-b@example.com"}))
    return app.must(f"{uid}-a"), app.must(f"{uid}-b")


def test_strict_mode_answers_409_naming_both_people_and_applies_nothing_of_the_call(
    http: httpx.Client, app: AppApi, uid: str
) -> None:
    a, b = two_people(http, app, uid)
    a_cio, b_cio = a["identifiers"]["cio_id"], b["identifiers"]["cio_id"]
    a_activities = app.activities(f"{uid}-a")

    response = http.put(
        f"{TRACK}/cio_{a_cio}",
        json={"email": f"{uid}-b@example.com", "plan": "new", "city": "Oslo"},
        headers={"X-Strict-Mode": "1"},
    )

    body = assert_error(response, 409, meta="error")
    assert body["code"] == "conflict"
    assert f"cio_{a_cio}" in body["message"] and f"cio_{b_cio}" in body["message"]
    assert body["conflicts"] == [
        {
            "identifier": "email",
            "value": f"{uid}-b@example.com",
            "held_by": f"cio_{b_cio}",
            "wanted_by": f"cio_{a_cio}",
        }
    ]
    assert app.must(f"{uid}-a") == a
    assert app.must(f"{uid}-b") == b
    assert app.activities(f"{uid}-a") == a_activities


def test_without_strict_mode_the_same_conflict_is_a_200_that_keeps_the_email_and_applies_the_rest(
    http: httpx.Client, app: AppApi, uid: str
) -> None:
    a, _ = two_people(http, app, uid)

    response = http.put(
        f"{TRACK}/cio_{a['identifiers']['cio_id']}",
        json={"email": f"{uid}-b@example.com", "plan": "new"},
    )

    assert_silent_ok(response)
    after = app.must(f"{uid}-a")
    assert after["identifiers"] == a["identifiers"]
    assert after["attributes"]["plan"] == "new"
    (failed,) = app.activities(f"{uid}-a", type="failed_attribute_change")
    assert failed["data"]["reason"] == (
        "The identifier is already associated with a different profile."
    )
    assert app.must(f"{uid}-b")["identifiers"]["email"] == f"{uid}-b@example.com"


# -- odd but acceptable input, and unknown routes -------------------------------------------------

ODD_BUT_ACCEPTED = {
    "an unparseable event timestamp": ("POST", "/{uid}/events", {"name": "n", "timestamp": "x"}),
    "an object as event timestamp": ("POST", "/{uid}/events", {"name": "n", "timestamp": {}}),
    "an integer event id": ("POST", "/{uid}/events", {"name": "n", "id": 7}),
    "an object as unsubscribed": ("PUT", "/{uid}", {"unsubscribed": {"a": 1}}),
    "an object as created_at": ("PUT", "/{uid}", {"created_at": {"a": 1}}),
    "an attribute and a dotted key into it": ("PUT", "/{uid}", {"a": 1, "a.b": 2}),
    "a numeric id in the body": ("PUT", "/{uid}", {"id": 12345}),
    "a huge integer attribute": ("PUT", "/{uid}", {"n": 123456789012345678901234567890}),
    "a far-future _timestamp": ("PUT", "/{uid}", {"_timestamp": 1e300, "plan": "x"}),
    "a null body": ("PUT", "/{uid}", None),
    "deleting an unknown person": ("DELETE", "/{uid}-nobody", None),
    "deleting an unknown device": ("DELETE", "/{uid}/devices/nothing", None),
    "suppressing an unknown cio_id": ("POST", "/cio_ffffffffffff/suppress", None),
    "unsuppressing an unknown id": ("POST", "/{uid}-nobody/unsuppress", None),
}


@pytest.mark.parametrize(
    ("method", "path", "body"), ODD_BUT_ACCEPTED.values(), ids=ODD_BUT_ACCEPTED.keys()
)
def test_odd_but_acceptable_input_is_answered_200_and_the_person_stays_readable(
    http: httpx.Client, app: AppApi, uid: str, method: str, path: str, body: Any
) -> None:
    http.put(f"{TRACK}/{uid}", json={})

    response = http.request(method, TRACK + path.format(uid=uid), json=body)

    assert_silent_ok(response)
    assert app.must(uid)["identifiers"]["id"] == uid
    assert all(a["type"] for a in app.activities(uid))


def test_i4_3_dotted_names_are_paths_but_a_name_with_an_empty_segment_is_literal(
    http: httpx.Client, app: AppApi, uid: str
) -> None:
    # docs/identity.md I4.3: "a..b", ".c" and "d." name no nested key, so they are stored as sent
    body = {"a.b.c": 1, "a..b": 2, ".c": 3, "d.": 4}

    response = http.put(f"{TRACK}/{uid}", json=body)

    assert_silent_ok(response)
    attributes = app.must(uid)["attributes"]  # the App API shows values as strings
    stored = {name: attributes.get(name) for name in ("a", "a.b.c", "a..b", ".c", "d.")}
    assert stored == {"a": '{"b":{"c":1}}', "a.b.c": None, "a..b": "2", ".c": "3", "d.": "4"}


def test_unknown_endpoints_and_methods_are_4xx_with_code_and_message(http: httpx.Client) -> None:
    missing = http.get("/api/v1/nothing")
    wrong_method = http.patch(f"{TRACK}/someone", json={})

    assert_error(missing, 404, meta="error", says="no such endpoint")
    assert_error(wrong_method, 405, meta="errors")


# -- known bugs: 5xx answers for bad input --------------------------------------------------------


@pytest.mark.parametrize(
    "created_at",
    [1e300, -1e30, 99999999999999999999999, "99999999999999999999999"],
    ids=["1e300", "-1e30", "big integer", "big digit string"],
)
def test_a_created_at_beyond_64_bits_is_a_400_not_a_500(
    http: httpx.Client, app: AppApi, uid: str, created_at: Any
) -> None:
    response = http.put(f"{TRACK}/{uid}", json={"created_at": created_at})

    assert response.status_code < 500, response.text
    assert_error(response, 400, meta="errors")
    assert app.customer(uid) is None


@pytest.mark.parametrize("last_used", [1e300, 99999999999999999999], ids=["1e300", "big integer"])
def test_a_device_last_used_beyond_64_bits_is_a_400_not_a_500(
    http: httpx.Client, app: AppApi, uid: str, last_used: Any
) -> None:
    http.put(f"{TRACK}/{uid}", json={})

    response = http.put(
        f"{TRACK}/{uid}/devices",
        json={"device": {"id": "t", "platform": "ios", "last_used": last_used}},
    )

    assert response.status_code < 500, response.text
    assert_error(response, 400, meta="errors")
    assert app.must(uid)["devices"] == []


@pytest.mark.parametrize("event", [["opened"], {"a": 1}], ids=["list", "object"])
def test_a_push_metric_whose_event_is_not_a_string_is_never_a_500(
    http: httpx.Client, database: sa.Engine, event: Any
) -> None:
    activities = count(database, "activities")

    response = http.post("/api/v1/push/events", json={"delivery_id": "d-1", "event": event})

    if response.status_code == 200:
        assert count(database, "activities") == activities + 1
    else:
        assert_error(response, 400, meta="errors")
        assert count(database, "activities") == activities


def test_a_delivery_metric_without_its_metric_field_is_a_400_and_records_nothing(
    http: httpx.Client, database: sa.Engine
) -> None:
    activities = count(database, "activities")

    response = http.post("/api/v1/metrics", json={"delivery_id": "d-1"})

    assert_error(response, 400, says="metric is required", meta="errors")
    assert count(database, "activities") == activities


@pytest.mark.parametrize(
    "timestamp", [1e300, -1e300, 99999999999999999999], ids=["1e300", "-1e300", "big integer"]
)
def test_an_event_timestamp_beyond_64_bits_leaves_the_activity_log_readable(
    http: httpx.Client, app: AppApi, uid: str, timestamp: Any
) -> None:
    response = http.post(f"{TRACK}/{uid}/events", json={"name": "n", "timestamp": timestamp})
    assert response.status_code < 500, response.text

    read = app.http.get(f"/v1/customers/{uid}/activities")

    assert read.status_code == 200, read.text


# -- PostgreSQL: the same odd input must not be a 500 there either ---------------------------------


@pytest.fixture(scope="module")
def pg_roster(postgres_url: str, folder: Path) -> Iterator[RunningRoster]:
    with RunningRoster(postgres_url, folder / "pg-data") as running:
        yield running


PG_ODD = {
    "a NUL character in an attribute value": ("PUT", "/{uid}", {"plan": "a\u0000b"}),
    "a NUL character in the path id": ("PUT", "/{uid}%00x", {}),
    "a NUL character in an event name": ("POST", "/{uid}/events", {"name": "a\u0000b"}),
    "a device platform over 32 characters": (
        "PUT",
        "/{uid}/devices",
        {"device": {"id": "t", "platform": "p" * 33}},
    ),
}


@pytest.mark.parametrize(("method", "path", "body"), PG_ODD.values(), ids=PG_ODD.keys())
def test_on_postgresql_nul_characters_and_long_platforms_are_not_a_500(
    pg_roster: RunningRoster, uid: str, method: str, path: str, body: Any
) -> None:
    with pg_roster.track_http() as client:
        response = client.request(method, TRACK + path.format(uid=uid), json=body)

    assert response.status_code < 500, response.text


def test_on_postgresql_an_app_api_read_of_an_id_with_a_nul_character_is_a_400_naming_it(
    pg_roster: RunningRoster, uid: str
) -> None:
    with pg_roster.app_api() as api:
        response = api.http.get(f"/v1/customers/{uid}%00x/attributes")

    assert response.status_code == 400, response.text
    assert "NUL" in response.json()["meta"]["error"]


# An identifier longer than a database index holds (random text does not compress, so a few
# kilobytes are enough): a 400 naming the limit on the Track API, an ingestion-log entry on
# Segment's, never a 500 (docs/decisions.md, "How long an identifier may be").
LONG = secrets.token_urlsafe(6000)
PG_LONG_TRACK = {
    "an anonymous id": ("POST", "/api/v1/events", {"name": "x", "anonymous_id": LONG}),
    "an email": ("PUT", "/api/v1/customers/{uid}", {"email": LONG + "@example.com"}),
    "a v2 anonymous id": (
        "POST",
        "/api/v2/entity",
        {"type": "person", "action": "event", "name": "x", "identifiers": {"anonymous_id": LONG}},
    ),
}


@pytest.mark.parametrize(
    ("method", "path", "body"), PG_LONG_TRACK.values(), ids=PG_LONG_TRACK.keys()
)
def test_on_postgresql_an_identifier_too_long_to_index_is_a_400_naming_its_limit(
    pg_roster: RunningRoster, uid: str, method: str, path: str, body: Any
) -> None:
    with pg_roster.track_http() as client:
        response = client.request(method, path.format(uid=uid), json=body)

    assert response.status_code == 400, response.text
    assert "cannot be longer than" in response.json()["message"]


def test_on_postgresql_a_segment_call_with_too_long_an_anonymous_id_is_logged_not_a_500(
    pg_roster: RunningRoster,
) -> None:
    with httpx.Client(base_url=pg_roster.base_url, auth=(pg_roster.write_key, "")) as segment:
        for body in (
            {"type": "identify", "userId": "long-anon", "anonymousId": LONG},
            {"type": "alias", "userId": "long-alias", "previousId": LONG},
        ):
            answer = segment.post(f"/v1/{body['type']}", json=body)
            assert answer.status_code == 200, answer.text
    with pg_roster.app_api() as api:
        reasons = [e["reason"] for e in api.http.get("/api/ingestion-log").json()["entries"]]
    assert "anonymousId cannot be longer than 255 bytes" in reasons
    assert "previousId cannot be longer than 255 bytes" in reasons
