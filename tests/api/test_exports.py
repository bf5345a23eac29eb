"""CSV exports of people, `POST /v1/exports/customers`, `GET /v1/exports/{id}` and its signed
download link (docs/api.md §4), through the wire, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import dataclasses
import io
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.app import create_app
from roster.domain.csv_cells import decode_cell
from roster.services.exports import Exports, link_key
from roster.services.system import System
from roster.settings import Settings
from roster.storage.exports import ExportReads
from tests.api.calls import assert_error, bearer, customer
from tests.api.odd_input import ODD_JSON
from tests.api.stored import count
from tests.domain.conftest import FakeClock

URL = "/v1/exports/customers"
FIXED = ["cio_id", "id", "email", "created_at", "_created_in_roster_at", "unsubscribed"]


def _person(client: Any, track: dict[str, str], id_: str, **attributes: Any) -> None:
    answer = client.put(f"/api/v1/customers/{id_}", json=attributes, headers=track)
    assert answer.status_code == 200, answer.text


def _export(client: Any, app_key: dict[str, str], **body: Any) -> dict[str, Any]:
    answer = client.post(URL, json=body, headers=app_key)
    assert answer.status_code == 200, answer.text
    made: dict[str, Any] = answer.json()["export"]
    return made


def _link(client: Any, app_key: dict[str, str], export_id: int) -> str:
    answer = client.get(f"/v1/exports/{export_id}/download", headers=app_key)
    assert answer.status_code == 200, answer.text
    link: str = answer.json()["link"]
    return link


def _path(link: str) -> str:
    """The link as the test client asks for it: its path and query, with no credentials."""
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def _table(client: Any, link: str) -> list[list[str]]:
    answer = client.get(_path(link))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8"), newline="")))


def _download(client: Any, app_key: dict[str, str], **body: Any) -> list[list[str]]:
    made = _export(client, app_key, **body)
    return _table(client, _link(client, app_key, made["id"]))


def _by_id(table: list[list[str]]) -> dict[str, dict[str, str]]:
    header = table[0]
    return {row[1]: dict(zip(header, row, strict=True)) for row in table[1:]}


def test_export_csv_has_the_fixed_columns_then_every_attribute_in_name_order(
    client, track, app_key
):
    _person(client, track, "exp-ada", email="ada@example.com", plan="pro", age=36)
    _person(client, track, "exp-grace", zone="eu", tags=["a", "b"], created_at=1700000000)

    table = _download(client, app_key)
    assert table[0] == [*FIXED, "age", "plan", "tags", "zone"]
    people = _by_id(table)
    assert set(people) == {"exp-ada", "exp-grace"}
    ada, grace = people["exp-ada"], people["exp-grace"]
    assert ada["email"] == "ada@example.com"
    assert (ada["plan"], ada["age"], ada["tags"], ada["zone"]) == ("pro", "36", "", "")
    assert grace["tags"] == '["a","b"]' and grace["created_at"] == "1700000000"
    for ref, row in people.items():
        shown = customer(client, app_key, ref)
        assert row["cio_id"] == shown["identifiers"]["cio_id"]
        assert row["_created_in_roster_at"] == shown["attributes"]["_created_in_roster_at"]


def test_export_cells_give_back_every_stored_value_with_its_type(client, track, app_key):
    values = {
        "count": 3,
        "ratio": 0.5,
        "flag": False,
        "digits": "123",
        "word_true": "true",
        "quoted": '"hi"',
        "zip": "02134",
        "nested": {"a": {"b": [1, "x"]}},
        "list": [1, 2],
        "text": 'a, "comma"\nand a line',
        "unicode": "Zoë 🙂",
        "created_at": "not a date",
    }
    _person(client, track, "exp-types", **values)

    (row,) = _by_id(_download(client, app_key)).values()
    assert {name: decode_cell(row[name]) for name in values} == values
    assert row["digits"] == '"123"' and row["zip"] == "02134" and row["word_true"] == '"true"'


def test_created_at_and_unsubscribed_are_the_stored_values_and_empty_when_unset(
    client, track, app_key
):
    _person(client, track, "exp-iso", created_at="2024-01-02T03:04:05Z", unsubscribed="1")
    _person(client, track, "exp-sub", unsubscribed="no")
    _person(client, track, "exp-none", plan="free")

    people = _by_id(_download(client, app_key))
    assert people["exp-iso"]["created_at"] == "1704164645"  # stored as unix seconds (I4.4)
    assert people["exp-iso"]["unsubscribed"] == "true"  # stored as a boolean (I4.5)
    assert people["exp-sub"]["unsubscribed"] == "false"
    assert people["exp-none"]["created_at"] == "" and people["exp-none"]["unsubscribed"] == ""


def test_the_attributes_list_chooses_the_attribute_columns_in_name_order(client, track, app_key):
    _person(client, track, "exp-pick", plan="pro", age=36, zone="eu", unsubscribed=False)

    table = _download(client, app_key, attributes=["zone", "missing", "plan", "zone", "email"])
    assert table[0] == [*FIXED, "missing", "plan", "zone"]
    (row,) = _by_id(table).values()
    assert (row["missing"], row["plan"], row["zone"]) == ("", "pro", "eu")
    assert row["unsubscribed"] == "false"


def test_an_export_is_done_when_made_and_reads_the_same_afterwards(client, track, app_key):
    for n in range(3):
        _person(client, track, f"exp-count-{n}", n=n)

    made = _export(client, app_key)
    assert made["type"] == "customers" and made["status"] == "done" and made["total"] == 3
    assert isinstance(made["id"], int) and isinstance(made["created_at"], int)
    again = client.get(f"/v1/exports/{made['id']}", headers=app_key)
    assert again.status_code == 200, again.text
    assert again.json() == {"export": made}


def test_an_exported_file_imported_into_another_workspace_exports_the_same(
    client, track, app_key, system: System
):
    _person(client, track, "exp-round-1", email="r1@example.com", n=7, f=0.1, yes=True, s="12")
    _person(client, track, "exp-round-2", nested={"a": [1, "b"]}, s="plain", created_at=17)
    _person(client, track, "exp-round-3", unsubscribed="TRUE", s='"quoted", with a comma\n')
    first = _download(client, app_key)
    other = bearer(str(system.workspaces.create("exp-round-ws")["app_api_key"]))

    headers = {**other, "Content-Type": "text/csv"}
    csv_text = io.StringIO()
    csv.writer(csv_text).writerows(first)
    imported = client.post("/api/imports", content=csv_text.getvalue(), headers=headers)
    assert imported.status_code == 200, imported.text

    again = _download(client, other)
    assert again[0] == first[0]
    kept = [i for i, name in enumerate(first[0]) if name not in ("cio_id", "_created_in_roster_at")]
    assert sorted([row[i] for i in kept] for row in again[1:]) == sorted(
        [row[i] for i in kept] for row in first[1:]
    )


def test_an_empty_workspace_exports_a_header_line_only(client, app_key):
    made = _export(client, app_key)
    assert made["total"] == 0
    assert _table(client, _link(client, app_key, made["id"])) == [FIXED]


@pytest.mark.parametrize("export_id", ["999999999", "0", "abc", "1e3", "99999999999999999999999"])
def test_an_unknown_export_is_a_404_naming_it(client, app_key, export_id):
    for path in (f"/v1/exports/{export_id}", f"/v1/exports/{export_id}/download"):
        body = assert_error(client.get(path, headers=app_key), 404, meta="error")
        assert export_id in body["message"]


def test_another_workspaces_export_is_unknown(client, track, app_key, system: System):
    _person(client, track, "exp-private", secret="mine")
    made = _export(client, app_key)
    other = bearer(str(system.workspaces.create("exp-other-ws")["app_api_key"]))

    for path in (f"/v1/exports/{made['id']}", f"/v1/exports/{made['id']}/download"):
        assert_error(client.get(path, headers=other), 404, says="no export", meta="error")


def test_export_calls_need_the_app_api_key(client):
    assert client.post(URL, json={}).status_code == 401
    assert client.get("/v1/exports/1").status_code == 401
    assert client.get("/v1/exports/1/download").status_code == 401


def test_the_download_link_is_under_the_public_url_and_needs_no_key(client, track, app_key):
    _person(client, track, "exp-link", plan="x")
    link = _link(client, app_key, _export(client, app_key)["id"])
    assert link.startswith("http://roster.test/v1/exports/")
    answer = client.get(_path(link))  # no Authorization header
    assert answer.status_code == 200, answer.text
    assert "exp-link" in answer.text
    assert answer.headers["content-disposition"].startswith("attachment; filename=")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_800_000_000.0)


@pytest.fixture
def timed(system: System, clock: FakeClock) -> Iterator[TestClient]:
    """A client whose exports read the time from the test's clock."""
    exports = Exports(ExportReads(system.database), system.writer, link_key("test-secret"), clock)
    timed_system = dataclasses.replace(system, exports=exports)
    app = create_app(Settings(public_url="http://roster.test"), system=timed_system)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_export_link_expires_after_15_minutes(timed, app_key, clock):
    link = _link(timed, app_key, _export(timed, app_key)["id"])

    clock.now += 15 * 60 - 1
    assert timed.get(_path(link)).status_code == 200
    clock.now += 1
    body = assert_error(timed.get(_path(link)), 403, says="expired", meta="error")
    assert "GET /v1/exports/" in body["message"]  # says how to get a new one
    clock.now += 60
    fresh = _link(timed, app_key, _export(timed, app_key)["id"])
    assert timed.get(_path(fresh)).status_code == 200


def _altered(link: str, **changes: str) -> str:
    parts = urlsplit(link)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    path = parts.path
    for key, value in changes.items():
        if key == "id":
            path = path.replace(f"/exports/{path.split('/')[3]}/", f"/exports/{value}/")
        elif value == "-":
            del query[key]
        else:
            query[key] = value
    return f"{path}?{urlencode(query)}"


def test_a_tampered_export_link_is_refused_with_403(timed, app_key, clock, system: System):
    first = _export(timed, app_key)["id"]
    second = _export(timed, app_key)["id"]
    link = _link(timed, app_key, first)
    query = parse_qs(urlsplit(link).query)
    signature, expires = query["signature"][0], int(query["expires"][0])
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]  # another first digit
    other_workspace = str(system.workspaces.create("exp-tamper-ws")["workspace_id"])

    for changes in (
        {"signature": flipped},
        {"signature": signature.upper()},
        {"signature": "-"},
        {"expires": str(expires + 3600)},
        {"expires": "-"},
        {"expires": "soon"},
        {"workspace": other_workspace},
        {"workspace": "-"},
        {"id": str(second)},
        {"signature": "é"},
    ):
        answer = timed.get(_altered(link, **changes))
        assert_error(answer, 403, says="not valid", meta="error", label=changes)
    assert timed.get(_path(link)).status_code == 200


def test_a_link_signed_under_another_secret_key_is_refused(client, app_key, system: System):
    made = _export(client, app_key)["id"]
    elsewhere = Exports(ExportReads(system.database), system.writer, link_key("other"), time.time)
    workspace_id = system.workspaces.for_app_key(app_key["Authorization"].split()[1])
    link = elsewhere.link(workspace_id, made, "http://roster.test")
    assert_error(client.get(_path(link)), 403, says="not valid", meta="error")
    # The same link signed under the server's own secret key passes.
    here = Exports(ExportReads(system.database), system.writer, link_key("test-secret"), time.time)
    assert client.get(_path(here.link(workspace_id, made, ""))).status_code == 200


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    export_id=st.text(max_size=8),
    query=st.dictionaries(
        st.sampled_from(["workspace", "expires", "signature", "x"]), st.text(max_size=70)
    ),
)
def test_no_odd_download_link_makes_a_5xx(client, export_id, query):
    path = "/v1/exports/" + quote(export_id, safe="") + "/file?" + urlencode(query)
    answer = client.get(path)
    assert answer.status_code in (403, 404), answer.text


def test_the_file_is_streamed_in_pieces_without_a_length(system: System, workspace, track):
    exports = Exports(ExportReads(system.database), system.writer, link_key("x"), lambda: 0.0, 2)
    app = create_app(
        Settings(public_url="http://roster.test"),
        system=dataclasses.replace(system, exports=exports),
    )
    key = bearer(str(workspace["app_api_key"]))
    with TestClient(app) as streaming:
        for n in range(5):
            _person(streaming, track, f"exp-piece-{n}", n=n)
        link = _link(streaming, key, _export(streaming, key)["id"])
        with streaming.stream("GET", _path(link)) as answer:
            assert answer.status_code == 200
            assert "content-length" not in answer.headers
            pieces = [piece for piece in answer.iter_raw() if piece]
    assert len(pieces) == 4  # the header, then three pieces of at most two people
    assert b"".join(pieces).count(b"\r\n") == 6


def test_a_filtered_export_holds_the_chosen_people_and_only_their_attributes(
    client, track, app_key
):
    _person(client, track, "exp-pro", plan="pro", seats=5)
    _person(client, track, "exp-free", plan="free", coupon="X")
    _person(client, track, "exp-pro-2", plan="Pro")
    pro = {"attribute": {"field": "plan", "operator": "eq", "value": "pro"}}

    made = _export(client, app_key, filters=pro)
    assert made["total"] == 1
    table = _table(client, _link(client, app_key, made["id"]))
    assert table[0] == [*FIXED, "plan", "seats"]
    assert list(_by_id(table)) == ["exp-pro"]

    not_pro = _download(client, app_key, filters={"not": pro}, attributes=["coupon"])
    assert not_pro[0] == [*FIXED, "coupon"]
    assert sorted(_by_id(not_pro)) == ["exp-free", "exp-pro-2"]


def test_a_filter_on_identifiers_chooses_by_id_and_email(client, track, app_key):
    _person(client, track, "exp-who", email="Who@Example.com")
    _person(client, track, "exp-else", email="else@example.com")
    by_email = {"attribute": {"field": "email", "operator": "eq", "value": "who@example.com"}}
    by_id = {"attribute": {"field": "id", "operator": "eq", "value": "exp-else"}}

    assert list(_by_id(_download(client, app_key, filters=by_email))) == ["exp-who"]
    assert list(_by_id(_download(client, app_key, filters={"or": [by_email, by_id]}))) == [
        "exp-who",
        "exp-else",
    ]


BAD_BODIES = [
    ([], "JSON object"),
    ({"attributes": "plan"}, "attributes"),
    ({"attributes": []}, "attributes"),
    ({"attributes": [1]}, "attributes"),
    ({"attributes": [""]}, "attributes"),
    ({"attributes": ["a\x00b"]}, "NUL"),
    ({"attributes": ["x" * 151]}, "150 bytes"),
    ({"attributes": [f"a{n}" for n in range(1001)]}, "at most 1000"),
    ({"attribute": ["plan"]}, "unknown field 'attribute'"),
    ({"filters": {"attribute": {"field": "plan", "operator": "gt"}}}, "filters.attribute.operator"),
    ({"filters": {"and": {}}}, "filters.and"),
    ({"filters": "plan=pro"}, "filters"),
]


@pytest.mark.parametrize(("body", "says"), BAD_BODIES)
def test_a_bad_export_body_is_a_400_naming_the_problem_and_records_nothing(
    client, app_key, system: System, workspace, body, says
):
    before = count(system, "exports", int(workspace["workspace_id"]))
    answer = client.post(URL, json=body, headers=app_key)
    assert_error(answer, 400, says=says, meta="error")
    assert count(system, "exports", int(workspace["workspace_id"])) == before


def test_an_export_without_a_body_exports_everyone(client, track, app_key):
    _person(client, track, "exp-nobody", plan="x")
    answer = client.post(URL, headers=app_key)
    assert answer.status_code == 200, answer.text
    assert answer.json()["export"]["total"] == 1


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.dictionaries(st.sampled_from(["attributes", "filters", "other"]), ODD_JSON))
def test_no_export_body_makes_a_5xx(client, app_key, body):
    answer = client.post(URL, json=body, headers=app_key)
    assert answer.status_code in (200, 400), answer.text
