"""Rate limiting per workspace and door (docs/api.md §0, ROSTER_RATE_LIMIT and
ROSTER_RATE_LIMIT_BURST in docs/configuration.md): off by default; when on, a workspace's calls
through one door beyond the burst are answered 429 with Retry-After in that door's error shape,
nothing of them written, counted in /metrics; other workspaces and doors go on; the bucket
refills at the rate (a fake clock passed in at the limiter's seam)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from roster.api import rate_limit
from roster.app import create_app
from roster.services.system import System
from roster.settings import Settings
from tests.api.calls import basic, bearer
from tests.api.stored import footprint, logged

BURST = 3
# So slow that no token comes back while a test runs: the bucket holds what the burst left.
SLOW = 0.001


@dataclass(frozen=True)
class Door:
    """One call through a door for a workspace, and what a 200-like answer is there."""

    name: str
    send: Callable[[TestClient, dict[str, Any], str], Any]
    ok: int = 200


def _track_v1(client: TestClient, ws: dict[str, Any], ref: str) -> Any:
    headers = basic(ws["site_id"], ws["track_api_key"])
    return client.put(f"/api/v1/customers/{ref}", json={"plan": "pro"}, headers=headers)


def _track_v2(client: TestClient, ws: dict[str, Any], ref: str) -> Any:
    body = {"type": "person", "action": "identify", "identifiers": {"id": ref},
            "attributes": {"plan": "pro"}}  # fmt: skip
    return client.post(
        "/api/v2/entity", json=body, headers=basic(ws["site_id"], ws["track_api_key"])
    )


def _segment(client: TestClient, ws: dict[str, Any], ref: str) -> Any:
    body = {"userId": ref, "traits": {"plan": "pro"}}
    return client.post("/v1/identify", json=body, headers=basic(ws["write_key"]))


def _webhook(client: TestClient, ws: dict[str, Any], ref: str) -> Any:
    body = {"type": "identify", "userId": ref, "traits": {"plan": "pro"}}
    return client.post(
        f"/segment/webhook/{ws['webhook_id']}", json=body, headers=basic(ws["write_key"])
    )


def _app(client: TestClient, ws: dict[str, Any], ref: str) -> Any:
    return client.get(f"/v1/customers/{ref}/attributes", headers=bearer(ws["app_api_key"]))


def _api(client: TestClient, ws: dict[str, Any], ref: str) -> Any:
    return client.get("/api/ingestion-log", headers=bearer(ws["app_api_key"]))


DOORS = [
    Door("track_v1", _track_v1),
    Door("track_v2", _track_v2),
    Door("segment", _segment),
    Door("webhook", _webhook),
    Door("app", _app, ok=404),  # a look-up of nobody: authenticated, then not found
    Door("roster", _api),
]


def _shape(door: str, message: str) -> dict[str, Any]:
    """The 429's body as each protocol shapes its errors (src/roster/api/errors.py)."""
    body: dict[str, Any] = {"code": "rate_limited", "message": message}
    if door in ("track_v1", "app"):
        body["meta"] = {"error": message}
    if door == "track_v2":
        body["errors"] = [{"reason": "rate_limited", "field": None, "message": message}]
    return body


def _ref() -> str:
    return f"rl-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def limited(system: System) -> Iterator[TestClient]:
    """A server with the limit on, as ROSTER_RATE_LIMIT and ROSTER_RATE_LIMIT_BURST set it."""
    settings = Settings(public_url="http://roster.test", rate_limit=SLOW, rate_limit_burst=BURST)
    with TestClient(create_app(settings, system=system), raise_server_exceptions=False) as client:
        yield client


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _rate_limited_total(client: TestClient, door: str) -> float:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == "roster_rate_limited_total" and sample.labels == {"door": door}:
                return float(sample.value)
    return 0.0


@pytest.mark.parametrize("door", DOORS, ids=lambda door: door.name)
def test_each_door_answers_429_with_retry_after_in_its_own_error_shape_after_the_burst(
    limited: TestClient, system: System, workspace: dict[str, Any], door: Door
):
    workspace_id = int(workspace["workspace_id"])
    empty = footprint(system, workspace_id)
    for _ in range(BURST):
        answer = door.send(limited, workspace, _ref())
        assert answer.status_code == door.ok, answer.text
    before = footprint(system, workspace_id), logged(system, workspace_id)
    counted = _rate_limited_total(limited, door.name)

    refused = door.send(limited, workspace, _ref())

    assert refused.status_code == 429, refused.text
    # At 0.001 calls a second, the next token is 1,000 seconds away (less the time the test
    # took since its first call, which refilled a little).
    assert 990 <= int(refused.headers["retry-after"]) <= 1000
    body = refused.json()
    assert "rate limit" in body["message"] and "nothing of this call was stored" in body["message"]
    assert body == _shape(door.name, body["message"])
    assert (footprint(system, workspace_id), logged(system, workspace_id)) == before
    if door.name not in ("app", "roster"):  # the writing doors wrote their allowed calls
        assert before[0] != empty
    assert _rate_limited_total(limited, door.name) == counted + 1


def test_other_workspaces_and_other_doors_are_not_held_back_by_a_limited_one(
    limited: TestClient, system: System, workspace: dict[str, Any]
):
    other = system.workspaces.create(f"ws-{uuid.uuid4().hex[:10]}")
    for _ in range(BURST):
        assert _track_v1(limited, workspace, _ref()).status_code == 200
    assert _track_v1(limited, workspace, _ref()).status_code == 429

    for _ in range(BURST):
        assert _track_v1(limited, other, _ref()).status_code == 200
    for door in DOORS[1:]:
        assert door.send(limited, workspace, _ref()).status_code == door.ok, door.name


def test_health_readiness_and_metrics_are_never_limited(
    limited: TestClient, workspace: dict[str, Any]
):
    for _ in range(BURST + 1):
        _track_v1(limited, workspace, _ref())
    for _ in range(20):
        for path in ("/healthz", "/readyz", "/metrics"):
            assert limited.get(path).status_code == 200, path


def test_a_call_with_wrong_credentials_is_answered_401_not_429(
    limited: TestClient, workspace: dict[str, Any]
):
    for _ in range(BURST + 1):
        _track_v1(limited, workspace, _ref())
    wrong = limited.put(
        f"/api/v1/customers/{_ref()}", json={}, headers=basic(workspace["site_id"], "wrong")
    )
    assert wrong.status_code == 401


def test_rate_limiting_is_off_by_default_and_a_burst_of_calls_all_succeed(
    client: TestClient, system: System, workspace: dict[str, Any]
):
    assert Settings().rate_limit == 0
    before = footprint(system, int(workspace["workspace_id"]))["people"]
    answers = [_track_v1(client, workspace, _ref()).status_code for _ in range(60)]
    assert answers == [200] * 60
    assert footprint(system, int(workspace["workspace_id"]))["people"] == before + 60


def test_the_bucket_refills_at_the_rate_and_retry_after_is_whole_seconds(
    system: System, workspace: dict[str, Any]
):
    clock = FakeClock()
    settings = Settings(rate_limit=0.5, rate_limit_burst=2)  # a call every 2 s, 2 at once
    app = create_app(settings, system=system)
    rate_limit.install(app, settings, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:

        def status() -> tuple[int, str | None]:
            answer = _track_v1(client, workspace, _ref())
            return answer.status_code, answer.headers.get("retry-after")

        assert [status(), status()] == [(200, None), (200, None)]
        assert status() == (429, "2")
        clock.now += 1.5  # three quarters of a token: still refused, half a second to go
        assert status() == (429, "1")
        clock.now += 0.5
        assert status() == (200, None)
        assert status() == (429, "2")
        clock.now += 60  # a long pause fills the bucket to the burst, no further
        assert [status(), status(), status()] == [(200, None), (200, None), (429, "2")]


def test_without_a_burst_setting_a_workspace_may_make_one_second_s_worth_of_calls_at_once(
    system: System, workspace: dict[str, Any]
):
    clock = FakeClock()
    settings = Settings(rate_limit=2.5)
    app = create_app(settings, system=system)
    rate_limit.install(app, settings, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        answers = [_track_v1(client, workspace, _ref()).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
