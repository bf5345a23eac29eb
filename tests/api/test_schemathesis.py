"""Schemathesis over every operation of the OpenAPI document (/openapi.json), on SQLite and
PostgreSQL: calls that fit the documented schemas and calls that break them, each sent with the
credentials of its door (the webhook's signed like Segment signs it). However odd the call, roster
never answers 5xx; every 4xx names the problem in its protocol's error shape (docs/api.md §0); and
a refused call to a door that writes leaves the workspace's data as it was.

`make test` runs a few examples per operation (ROSTER_FUZZ_EXAMPLES, 25 by default); `make fuzz`
runs many more (CONTRIBUTING.md, "Fuzzing")."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet

from roster.api.doors import unrouted_door
from roster.app import create_app
from roster.services.system import System
from roster.settings import Settings
from tests.api.calls import basic, bearer
from tests.api.stored import footprint

EXAMPLES = int(os.environ.get("ROSTER_FUZZ_EXAMPLES", "25"))
FULL = "ROSTER_FUZZ_EXAMPLES" in os.environ
# The coverage phase's boundary cases (every missing field, every wrong type) are many and take
# no notice of max_examples: `make fuzz` sends them, `make test` samples with Hypothesis alone.
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": FULL}}})
# The document needs no database: an app that is never started serves it.
DOCUMENT = create_app(Settings(public_url="http://roster.test")).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
# Calls that fit the schemas and hold no NUL character, which no door takes (docs/api.md §0).
fitting = schemathesis.openapi.from_dict(
    DOCUMENT, config=schemathesis.Config.from_dict({"generation": {"allow-x00": False}})
)
SEGMENT_PATHS = tuple(
    f"/v1/{kind}"
    for kind in ("identify", "track", "page", "screen", "group", "alias", "batch", "import")
)
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Door:
    system: System
    client: TestClient
    workspace: dict[str, Any]

    def credentials(self, path: str) -> dict[str, str]:
        """What a client of the door `path` belongs to would send."""
        if path.startswith(("/api/v1/", "/api/v2/")) or path == "/auth":
            return basic(self.workspace["site_id"], self.workspace["track_api_key"])
        if path.startswith(SEGMENT_PATHS):
            return basic(self.workspace["write_key"])
        if path.startswith(("/v1/", "/api/")):
            return bearer(self.workspace["app_api_key"])
        return {}


@pytest.fixture(scope="module")
def door(system: System) -> Iterator[Door]:
    """One workspace and one running app per database for the whole module: many examples run,
    and a workspace each would be slow and tell nothing more."""
    created = system.workspaces.create(f"schemathesis-{uuid.uuid4().hex[:10]}")
    app = create_app(Settings(public_url="http://roster.test"), system=system)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Door(system, client, created)


def _json(value: Any) -> str:
    # Bytes stand for text a client could not have encoded: sent as its code points.
    return json.dumps(value, default=lambda raw: raw.decode("latin-1"))


def encoded(case: Any) -> tuple[bytes | None, str | None, bytes]:
    """The body as sent, its media type, and the part of it the webhook's signature covers: all
    of it, or the exact bytes of an array's first element (api/webhooks.py)."""
    if isinstance(case.body, NotSet):
        return None, None, b""
    if isinstance(case.body, bytes):  # a body that is no JSON at all
        return case.body, case.media_type, case.body
    if case.media_type != "application/json":
        text = case.body if isinstance(case.body, str) else _json(case.body)
        raw = text.encode("utf-8", "surrogatepass")
        return raw, case.media_type, raw
    if isinstance(case.body, list) and case.body:
        parts = [_json(item).encode("utf-8", "surrogatepass") for item in case.body]
        return b"[" + b",".join(parts) + b"]", case.media_type, parts[0]
    raw = _json(case.body).encode("utf-8", "surrogatepass")
    return raw, case.media_type, raw


def problem_named(response: Any, path: str) -> str:
    """The message of a refusal, read where the door's protocol puts it (api/errors.py)."""
    body = response.json()
    match unrouted_door(path):  # every route's door agrees (tests/api/test_error_bodies.py)
        case "track_v1":
            meta = body["meta"]
            found = meta["errors"][0] if "errors" in meta else meta["error"]
        case "track_v2":
            found = body["errors"][0]["message"]
        case "app":
            found = body["meta"]["error"]
        case _:
            found = body["message"]
    assert found == body["message"], body
    return str(found)


def names_the_problem(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx carries a non-empty message in its protocol's error shape."""
    if 400 <= response.status_code < 500:
        message = problem_named(response, case.path)
        assert message.strip(), f"{case.method} {case.path} answered {response.status_code} " + (
            "without naming the problem"
        )
    return None


def send(door: Door, case: Any) -> Any:
    """The case as its door's client would send it: credentials, and the webhook's signature."""
    if case.path.startswith("/segment/webhook/"):
        case.path_parameters["webhook_id"] = door.workspace["webhook_id"]
    content, media_type, signed = encoded(case)
    headers = {name: str(value) for name, value in (case.headers or {}).items()}
    if media_type is not None:
        headers["Content-Type"] = media_type
    headers.update(door.credentials(case.path))
    if case.path.startswith("/segment/webhook/"):
        secret = door.workspace["webhook_secret"].encode()
        headers["X-Signature"] = hmac.new(secret, signed, hashlib.sha1).hexdigest()
    return door.client.request(
        case.method,
        case.formatted_path,
        params=case.query or None,
        headers=headers,
        content=content,
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_no_call_is_a_server_error_and_every_refusal_names_its_problem(case, door):
    before = footprint(door.system, door.workspace["workspace_id"])

    response = send(door, case)

    case.validate_response(response, checks=[not_a_server_error, names_the_problem])
    if 400 <= response.status_code < 500 and case.method in WRITES:
        assert footprint(door.system, door.workspace["workspace_id"]) == before, (
            f"{case.method} {case.path} answered {response.status_code} and wrote"
        )


# Segment's doors answer 200 to every authenticated call that parses (docs/api.md §3): calls that
# fit their schemas all get one, which shows the schemas, the credentials and the signing right.
ALWAYS_ACCEPTED = [
    ("/v1/identify", "POST"),
    ("/v1/batch", "POST"),
    ("/segment/webhook/{webhook_id}", "POST"),
]


@pytest.mark.parametrize(("path", "method"), ALWAYS_ACCEPTED)
@settings(
    max_examples=min(EXAMPLES, 10),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_a_segment_call_that_fits_its_schema_is_accepted(door, path, method, data):
    case = data.draw(fitting[path][method].as_strategy(GenerationMode.POSITIVE))

    response = send(door, case)

    assert response.status_code == 200, response.text
