"""Concurrent calls through real `roster serve` processes on one PostgreSQL database
(docs/identity.md I10.5: concurrent identifies of one new identifier create exactly one person, also
with several server processes). Many threads send identifies of the same new people, each carrying
both the id (in the path) and the email (in the body), mixed with events for those ids and attribute
updates addressed by email, split across two servers (and, separately, across the two uvicorn
workers of `roster serve --workers 2`). Afterwards the database and the App API must show exactly
one person per human, with both identifiers, and every event exactly once."""

from __future__ import annotations

import queue
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from roster.testing.integrity import violations
from tests.server import RunningRoster, create_workspace, free_port, path_ref, run_roster

pytestmark = pytest.mark.server

THREADS = 16
DEADLINE = 60.0  # seconds for all the calls of one test


@dataclass(frozen=True)
class Call:
    server: int
    method: str
    path: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Human:
    id: str
    email: str

    @property
    def event_ids(self) -> set[str]:
        return {f"{self.id}-event-{k}" for k in range(5)} | {
            f"{self.id}-email-event-{k}" for k in range(2)
        }


def humans(tag: str, count: int) -> list[Human]:
    return [Human(f"{tag}-user-{n}", f"{tag}-user-{n}@example.com") for n in range(count)]


def calls_for(human: Human, servers: int, rng: random.Random) -> list[Call]:
    """21 calls about one human, in a random order, spread over the servers."""
    by_id, by_email = path_ref(human.id), path_ref(human.email)
    calls = [
        Call(k % servers, "PUT", f"/api/v1/customers/{by_id}", {"email": human.email, "plan": k})
        for k in range(6)
    ]
    for k in range(5):  # each event id sent to every server: stored once
        body = {"name": f"event-{k}", "id": f"{human.id}-event-{k}", "data": {"k": k}}
        calls += [
            Call(server, "POST", f"/api/v1/customers/{by_id}/events", body)
            for server in (0, 1 % servers)
        ]
    for k in range(2):
        calls.append(
            Call(
                k % servers,
                "POST",
                f"/api/v1/customers/{by_email}/events",
                {"name": f"email-event-{k}", "id": f"{human.id}-email-event-{k}"},
            )
        )
        calls.append(
            Call((k + 1) % servers, "PUT", f"/api/v1/customers/{by_email}", {"last_seen": k})
        )
    calls.append(
        Call(rng.randrange(servers), "POST", f"/api/v1/customers/{by_id}/events", {"name": "plain"})
    )
    rng.shuffle(calls)
    return calls


def send_all(servers: list[RunningRoster], calls: list[Call]) -> list[tuple[Call, int, str]]:
    """Every call, from THREADS threads, in order of the list (so that the threads work on the
    same few people at once). Returns the calls that did not get 200, with the answer."""
    work: queue.SimpleQueue[Call] = queue.SimpleQueue()
    for call in calls:
        work.put(call)
    failures: list[tuple[Call, int, str]] = []
    done = Counter[str]()
    lock = threading.Lock()
    deadline = time.monotonic() + DEADLINE
    start = threading.Barrier(THREADS)

    def worker() -> None:
        clients = [server.track_http() for server in servers]
        try:
            start.wait()
            while time.monotonic() < deadline:
                try:
                    call = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    response = clients[call.server].request(call.method, call.path, json=call.body)
                    answer = (response.status_code, response.text)
                except httpx.HTTPError as error:
                    answer = (0, f"{type(error).__name__}: {error}")
                with lock:
                    done["calls"] += 1
                    if answer[0] != 200:
                        failures.append((call, *answer))
        finally:
            for client in clients:
                client.close()

    threads = [threading.Thread(target=worker, name=f"caller-{i}") for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE + 30)
    assert not any(thread.is_alive() for thread in threads), "callers still running"
    assert done["calls"] == len(calls), f"only {done['calls']} of {len(calls)} calls in time"
    return failures


def rows(engine: sa.Engine, query: str, workspace_id: int) -> list[sa.Row[Any]]:
    with engine.connect() as connection:
        return list(connection.execute(sa.text(query), {"w": workspace_id}))


def assert_one_person_per_human(
    engine: sa.Engine, workspace_id: int, everyone: list[Human], servers: list[RunningRoster]
) -> None:
    people = rows(
        engine, "select pk, cio_id, id, email from people where workspace_id = :w", workspace_id
    )
    by_id = {row.id: row for row in people}
    assert len(people) == len(everyone), [(p.id, p.email) for p in people]
    assert set(by_id) == {human.id for human in everyone}
    for human in everyone:
        assert by_id[human.id].email == human.email, "an id and its email on different people"

    identifiers = rows(
        engine,
        "select kind, value, person_pk from identifiers where workspace_id = :w",
        workspace_id,
    )
    with engine.connect() as connection:  # I10.1, and nothing left on merged-away people
        assert violations(connection, workspace_id) == {}
    owner = {(row.kind, row.value): row.person_pk for row in identifiers}
    assert len(identifiers) == 2 * len(everyone)
    for human in everyone:
        person_pk = by_id[human.id].pk
        assert owner[("id", human.id)] == person_pk
        assert owner[("email", human.email.casefold())] == person_pk

    events = rows(
        engine, "select event_id, name, person_pk from events where workspace_id = :w", workspace_id
    )
    assert len(events) == len(everyone) * 8
    with_ids = Counter(event.event_id for event in events if event.event_id is not None)
    expected = {event_id for human in everyone for event_id in human.event_ids}
    assert set(with_ids) == expected
    assert all(times == 1 for times in with_ids.values())
    for human in everyone:
        mine = [event for event in events if event.person_pk == by_id[human.id].pk]
        assert {event.event_id for event in mine} == human.event_ids | {None}
        assert [event.name for event in mine].count("plain") == 1

    for server in servers:  # and every server answers the same through the App API
        with server.app_api() as app:
            for human in everyone:
                person = app.must(human.id)
                cio_id = by_id[human.id].cio_id
                assert person["identifiers"] == {
                    "id": human.id,
                    "email": human.email,
                    "cio_id": cio_id,
                }
                assert person["attributes"]["plan"] in {str(k) for k in range(6)}
                assert person["attributes"]["last_seen"] in ("0", "1")
                assert app.with_email(human.email) == [person["identifiers"]]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("postgres-concurrency")


@pytest.fixture(scope="module")
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(postgres_url)
    try:
        yield engine
    finally:
        engine.dispose()


def test_two_servers_on_one_postgresql_database_make_exactly_one_person_per_human(
    postgres_url: str, folder: Path, engine: sa.Engine
) -> None:
    data_dir = folder / "two-servers"
    credentials = create_workspace(postgres_url, data_dir)
    everyone = humans(f"two-{uuid.uuid4().hex[:6]}", 20)
    rng = random.Random(20240611)
    calls = [call for human in everyone for call in calls_for(human, 2, rng)]
    assert len(calls) == 420

    with (
        RunningRoster(postgres_url, data_dir, credentials=credentials) as first,
        RunningRoster(postgres_url, data_dir, credentials=credentials) as second,
    ):
        assert first.port != second.port
        failures = send_all([first, second], calls)
        assert failures == []
        assert_one_person_per_human(
            engine, int(credentials["workspace_id"]), everyone, [first, second]
        )
    for server in (first, second):  # SIGTERM stops each cleanly, without SIGKILL
        assert not server.killed
        assert "Application shutdown complete" in server.output()


def test_one_server_with_two_workers_on_postgresql_makes_exactly_one_person_per_human(
    postgres_url: str, folder: Path, engine: sa.Engine
) -> None:
    data_dir = folder / "two-workers"
    everyone = humans(f"workers-{uuid.uuid4().hex[:6]}", 8)
    rng = random.Random(7)
    calls = [call for human in everyone for call in calls_for(human, 1, rng)]

    with RunningRoster(postgres_url, data_dir, workers=2) as server:
        failures = send_all([server], calls)
        assert failures == []
        assert_one_person_per_human(
            engine, int(server.credentials["workspace_id"]), everyone, [server]
        )
    # uvicorn's supervisor names its worker processes as it stops them.
    output = server.output()
    assert "Started parent process" in output
    assert output.count("Terminated child process") == 2, output


def test_serve_with_two_workers_on_sqlite_is_refused_with_a_message_about_postgresql(
    folder: Path,
) -> None:
    database = folder / "refused.db"

    done = run_roster(
        "serve", "--database-url", f"sqlite:///{database}", "--workers", "2",
        "--port", str(free_port()),
        data_dir=folder / "refused", timeout=60,
    )  # fmt: skip

    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode != 0, output
    assert "PostgreSQL" in output
    assert "--workers" in output
