"""A real `roster serve` under Track API load loses its database and gets it back.

During the outage every call is answered at once, 503 with Retry-After (nothing of it stored, so
Customer.io's and Segment's clients may send it again), and /readyz answers 503; once the
database is back, /readyz answers 200 and calls succeed again. No call waits beyond the write
timeout, and every call answered 200 is in the database afterwards.

How the database is taken away is in tests/outages.py: PostgreSQL stops taking connections and
has its connections ended (again and again during the outage); SQLite's disk is "full" for the
server process (RLIMIT_FSIZE set to 0 from outside, because tests run as root and root ignores
file permissions)."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from roster.app import create_app
from roster.services.system import System
from roster.settings import Settings
from tests.api.calls import assert_error, basic, bearer, customer
from tests.api.stored import footprint
from tests.outages import database_away, disk_full, end_connections, own_database, postgres_away
from tests.server import RunningRoster

WRITE_TIMEOUT = 1.0  # the server's ROSTER_WRITE_TIMEOUT here: short, so the test stays fast
CLIENT_TIMEOUT = 10.0  # Customer.io's clients' own
LOAD_THREADS = 3
STEP_LIMIT = 20.0  # most seconds any one phase of the test may take


@dataclass(frozen=True)
class Answer:
    ref: str
    status: int
    retry_after: str | None
    seconds: float


class Load:
    """Threads sending identify calls, each for a new id, until stopped."""

    def __init__(self, running: RunningRoster) -> None:
        self.running = running
        self.answers: list[Answer] = []
        self.failures: list[str] = []  # transport errors and timeouts: there must be none
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._send, args=(n,), daemon=True) for n in range(LOAD_THREADS)
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(CLIENT_TIMEOUT + 5)

    def _send(self, n: int) -> None:
        prefix = f"load-{n}-{uuid.uuid4().hex[:6]}"
        with httpx.Client(
            base_url=self.running.base_url,
            auth=(self.running.site_id, self.running.track_api_key),
            timeout=CLIENT_TIMEOUT,
        ) as http:
            count = 0
            while not self._stop.is_set():
                count += 1
                ref = f"{prefix}-{count}"
                started = time.monotonic()
                try:
                    response = http.put(f"/api/v1/customers/{ref}", json={"plan": "outage"})
                except httpx.HTTPError as error:
                    with self._lock:
                        self.failures.append(f"{ref}: {type(error).__name__}: {error}")
                    continue
                answer = Answer(
                    ref,
                    response.status_code,
                    response.headers.get("retry-after"),
                    time.monotonic() - started,
                )
                with self._lock:
                    self.answers.append(answer)
                time.sleep(0.02)  # a steady load, light enough to read all of it back

    def count(self, status: int) -> int:
        with self._lock:
            return sum(1 for answer in self.answers if answer.status == status)


def _until(what: str, condition: Callable[[], bool], running: RunningRoster) -> None:
    deadline = time.monotonic() + STEP_LIMIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {STEP_LIMIT:.0f} s:\n"
                                 f"{running.output()[-3000:]}")  # fmt: skip
        time.sleep(0.05)


@pytest.fixture(params=["sqlite", "postgresql"])
def outage_roster(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[RunningRoster, Callable[[], AbstractContextManager[None]]]]:
    """A server on a database of its own, and how to take that database away from it."""
    if request.param == "postgresql":
        request.getfixturevalue("postgres_url")  # skips (or, in CI, fails) without PostgreSQL
    with (
        own_database(request.param, tmp_path) as url,
        RunningRoster(
            url, tmp_path / "data", extra_env={"ROSTER_WRITE_TIMEOUT": str(WRITE_TIMEOUT)}
        ) as running,
    ):
        assert running.process is not None
        pid = running.process.pid

        def away() -> AbstractContextManager[None]:
            return disk_full(pid) if request.param == "sqlite" else postgres_away(url)

        yield running, away


def _ready(http: httpx.Client) -> int:
    return http.get("/readyz").status_code


@pytest.mark.server
def test_during_a_database_outage_calls_get_503_with_retry_after_and_no_answered_call_is_lost(
    outage_roster: tuple[RunningRoster, Callable[[], AbstractContextManager[None]]],
):
    """PostgreSQL: connections refused and ended, again during the outage. SQLite: the server
    process's disk is full (RLIMIT_FSIZE 0, set from outside), since root, as which tests and CI
    run, ignores file permissions, so a chmod could not make the file unwritable."""
    running, away = outage_roster
    sqlite = running.database_url.startswith("sqlite")
    readiness: list[int] = []
    with (
        httpx.Client(base_url=running.base_url, timeout=CLIENT_TIMEOUT) as probe,
        running.app_api() as app,
        Load(running) as load,
    ):
        assert _ready(probe) == 200
        _until("30 calls answered", lambda: load.count(200) >= 30, running)
        with away():
            _until("/readyz answering 503", lambda: _ready(probe) == 503, running)
            readiness.append(503)
            body = probe.get("/readyz").json()
            assert body["writer"]["alive"] is True
            assert body["writer"]["writable"] is False or body["database"]["readable"] is False
            refused = load.count(503)
            if not sqlite:
                end_connections(running.database_url)  # what reconnected meanwhile, ended again
            _until("calls answered 503", lambda: load.count(503) >= refused + 10, running)
            lookup = app.http.get("/v1/customers/nobody/attributes")
            log = app.http.get("/api/ingestion-log")
            if sqlite:  # a full disk still lets roster read
                assert (lookup.status_code, log.status_code) == (404, 200)
            else:
                for answer in (lookup, log):
                    assert answer.status_code == 503, answer.text
                    assert int(answer.headers["retry-after"]) > 0
                    assert answer.json()["code"] == "unavailable"
            during = len(load.answers)
        _until("/readyz answering 200 again", lambda: _ready(probe) == 200, running)
        readiness.append(200)
        after = load.count(200)
        _until("30 calls answered after the outage", lambda: load.count(200) >= after + 30, running)
    assert readiness == [503, 200]
    assert load.failures == []
    statuses = {answer.status for answer in load.answers}
    assert statuses == {200, 503}, statuses
    refused_answers = [answer for answer in load.answers if answer.status == 503]
    assert all(int(answer.retry_after or 0) > 0 for answer in refused_answers)
    # Nobody waited beyond the write timeout (plus the time to answer).
    slowest = max(answer.seconds for answer in load.answers)
    assert slowest < WRITE_TIMEOUT + 3, slowest
    # The calls after the outage succeeded.
    assert all(answer.status == 200 for answer in load.answers[during:][-20:])
    # Every call answered 200 is stored; nothing of one answered 503 is.
    with running.app_api() as app:
        for answer in load.answers:
            stored = app.customer(answer.ref)
            if answer.status == 200:
                assert stored is not None and stored["attributes"]["plan"] == "outage", answer
            else:
                assert stored is None, answer


# -- each door's shape, in process ----------------------------------------------------------------


@pytest.fixture
def own_client(database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, System]]:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with own_database(backend, tmp_path) as url:
        system = System.open(url, tmp_path / "data", "test-secret", write_timeout=WRITE_TIMEOUT)
        try:
            app = create_app(Settings(public_url="http://roster.test"), system=system)
            with TestClient(app, raise_server_exceptions=False) as client:
                yield client, system
        finally:
            system.close()


def test_every_door_answers_503_with_retry_after_in_its_own_shape_while_the_database_is_away(
    own_client: tuple[TestClient, System],
):
    client, system = own_client
    ws = system.workspaces.create("doors")
    track, app_key = basic(ws["site_id"], ws["track_api_key"]), bearer(ws["app_api_key"])
    segment = basic(ws["write_key"])
    hook = orjson.dumps({"type": "identify", "userId": "hooked"})
    signed = {
        "X-Signature": hmac.new(ws["webhook_secret"].encode(), hook, hashlib.sha1).hexdigest(),
        "Content-Type": "application/json",
    }
    calls: dict[str, Callable[[], httpx.Response]] = {
        "track_v1": lambda: client.put("/api/v1/customers/refused", json={}, headers=track),
        "track_v2": lambda: client.post(
            "/api/v2/entity",
            json={"type": "person", "identifiers": {"id": "refused"}, "action": "identify"},
            headers=track,
        ),
        "segment": lambda: client.post(
            "/v1/identify", json={"userId": "refused"}, headers=segment
        ),
        "segment batch": lambda: client.post(
            "/v1/batch", json={"batch": [{"type": "identify", "userId": "refused"}]},
            headers=segment,
        ),
        "webhook": lambda: client.post(
            f"/segment/webhook/{ws['webhook_id']}", content=hook, headers=signed
        ),
        "app": lambda: client.post(
            "/v1/merge_customers",
            json={"primary": {"id": "refused"}, "secondary": {"id": "hooked"}},
            headers=app_key,
        ),
    }  # fmt: skip
    assert client.put("/api/v1/customers/before", json={}, headers=track).status_code == 200
    written = footprint(system, ws["workspace_id"])
    with database_away(system):
        answers = {door: call() for door, call in calls.items()}
        ready = client.get("/readyz")
    for door, answer in answers.items():
        meta = "error" if door in ("track_v1", "app") else None
        body = assert_error(answer, 503, "nothing of this call was stored", meta, door)
        assert body["code"] == "unavailable", door
        assert int(answer.headers["retry-after"]) > 0, door
        if door == "track_v2":
            assert body["errors"][0]["reason"] == "unavailable"
        elif meta is None:  # Segment's doors: the code and message alone
            assert set(body) == {"code", "message"}, door
    assert ready.status_code == 503 and ready.headers["retry-after"]
    deadline = time.monotonic() + STEP_LIMIT
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "roster did not become ready again"
        time.sleep(0.05)
    assert footprint(system, ws["workspace_id"]) == written  # nothing of the refused calls
    assert client.put("/api/v1/customers/after", json={}, headers=track).status_code == 200
    assert customer(client, app_key, "after") is not None
    assert customer(client, app_key, "refused") is None


def test_postgresql_calls_after_every_connection_was_ended_are_answered_as_usual(
    own_client: tuple[TestClient, System],
):
    client, system = own_client
    if system.database.is_sqlite:
        pytest.skip("SQLite has no connection to end: the file is opened in the process")
    ws = system.workspaces.create("ended")
    track, app_key = basic(ws["site_id"], ws["track_api_key"]), bearer(ws["app_api_key"])
    assert (
        client.put("/api/v1/customers/kept", json={"plan": "a"}, headers=track).status_code == 200
    )
    assert customer(client, app_key, "kept") is not None  # the readers hold connections now
    assert end_connections(system.database.url.render_as_string(False)) >= 2
    # Neither the read nor the write is answered 503: both get a new connection.
    assert customer(client, app_key, "kept")["attributes"]["plan"] == "a"
    assert (
        client.put("/api/v1/customers/kept", json={"plan": "b"}, headers=track).status_code == 200
    )
    assert customer(client, app_key, "kept")["attributes"]["plan"] == "b"
