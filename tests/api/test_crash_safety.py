"""`kill -9` of a real `roster serve` under load, again and again (docs/operations.md, "Crash
safety"): every call it acknowledged is in the database, identifies acknowledged before a kill are
applied, and clients' retries of calls that carry an event id or a messageId create no duplicate.

Clients retry as Customer.io's and Segment's do: the same call (same event id, same messageId)
until it is answered 2xx, across the kills and restarts. `make soak` runs the same for longer
(`ROSTER_SOAK_ROUNDS`) and prints its figures."""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from roster.storage.database import engine_url
from roster.storage.tables import events
from roster.storage.tables import people as persons
from roster.testing.integrity import count_in_database
from tests.outages import own_database
from tests.server import RunningRoster

ROUNDS = int(os.environ.get("ROSTER_SOAK_ROUNDS", "10"))
PEOPLE = 6  # people the identifies go to, in turn: each gets many
CLIENTS = 3  # one per kind of call
GIVE_UP_S = 60.0  # a call not acknowledged by then fails the test


@dataclass
class Ledger:
    """What the clients had acknowledged."""

    events: set[str] = field(default_factory=set)  # Track v1 event ids
    messages: set[str] = field(default_factory=set)  # Segment messageIds
    seq: dict[str, int] = field(default_factory=dict)  # person -> last acknowledged `seq`
    identifies: int = 0
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Clients:
    """Threads that each send one kind of call, retrying each until it is acknowledged."""

    def __init__(self, running: RunningRoster, tag: str) -> None:
        self.running = running
        self.tag = tag
        self.ledger = Ledger()
        self.failures: list[str] = []
        self._stop = threading.Event()
        kinds = (self._event, self._identify, self._batch)
        self._threads = [threading.Thread(target=self._loop, args=(kind,)) for kind in kinds]

    def __enter__(self) -> Clients:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(GIVE_UP_S + 10)

    def _until_acknowledged(
        self, http: httpx.Client, send: Callable[[str], httpx.Response]
    ) -> bool:
        deadline = time.monotonic() + GIVE_UP_S
        while time.monotonic() < deadline:
            with self.ledger.lock:
                self.ledger.attempts += 1
            try:
                answer = send(self.running.base_url)
            except httpx.TransportError:  # killed, or not back yet
                time.sleep(0.05)
                continue
            if answer.status_code == 200:
                return True
            if answer.status_code != 503:
                self.failures.append(f"{answer.status_code}: {answer.text[:200]}")
                return False
            time.sleep(0.05)
        self.failures.append(f"not acknowledged within {GIVE_UP_S:.0f} s")
        return False

    def _loop(self, kind: Callable[[httpx.Client, int], None]) -> None:
        with httpx.Client(timeout=10) as http:
            n = 0
            while not self._stop.is_set() and not self.failures:
                n += 1
                kind(http, n)

    def _event(self, http: httpx.Client, n: int) -> None:
        event_id = f"{self.tag}-event-{n}"
        person = f"{self.tag}-p{n % PEOPLE}"
        auth = (self.running.site_id, self.running.track_api_key)
        body = {"name": "crash", "id": event_id, "data": {"n": n}}
        if self._until_acknowledged(
            http,
            lambda url: http.post(f"{url}/api/v1/customers/{person}/events", json=body, auth=auth),
        ):
            with self.ledger.lock:
                self.ledger.events.add(event_id)

    def _identify(self, http: httpx.Client, n: int) -> None:
        person = f"{self.tag}-p{n % PEOPLE}"
        auth = (self.running.site_id, self.running.track_api_key)
        if self._until_acknowledged(
            http,
            lambda url: http.put(f"{url}/api/v1/customers/{person}", json={"seq": n}, auth=auth),
        ):
            with self.ledger.lock:
                self.ledger.seq[person] = n
                self.ledger.identifies += 1

    def _batch(self, http: httpx.Client, n: int) -> None:
        ids = [f"{self.tag}-message-{n}-{m}" for m in range(10)]
        body = {
            "batch": [
                {"type": "track", "userId": f"{self.tag}-p{m % PEOPLE}", "event": "crash batch",
                 "messageId": message_id}
                for m, message_id in enumerate(ids)
            ]
        }  # fmt: skip
        auth = (self.running.write_key, "")
        if self._until_acknowledged(
            http, lambda url: http.post(f"{url}/v1/batch", json=body, auth=auth)
        ):
            with self.ledger.lock:
                self.ledger.messages.update(ids)


@pytest.fixture(params=["sqlite", "postgresql"])
def crashing_roster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningRoster]:
    if request.param == "postgresql":
        request.getfixturevalue("postgres_url")  # skips (or, in CI, fails) without PostgreSQL
    with (
        own_database(request.param, tmp_path) as url,
        RunningRoster(url, tmp_path / "data") as running,
    ):
        yield running


def _stored(running: RunningRoster, tag: str) -> tuple[Counter[str], dict[str, Any]]:
    """Event ids stored (Track event ids and Segment messageIds), counted, and each person's
    stored `seq`."""
    engine = sa.create_engine(engine_url(running.database_url))
    try:
        with engine.connect() as connection:
            ids = Counter(
                connection.execute(
                    sa.select(events.c.event_id).where(events.c.event_id.like(f"{tag}-%"))
                ).scalars()
            )
            people = {
                row.id: row.attributes
                for row in connection.execute(
                    sa.select(persons.c.id, persons.c.attributes).where(
                        persons.c.id.like(f"{tag}-%")
                    )
                )
            }
    finally:
        engine.dispose()
    return ids, people


@pytest.mark.server
def test_acknowledged_calls_survive_repeated_kill_9_and_retries_create_no_duplicates(
    crashing_roster: RunningRoster,
):
    running = crashing_roster
    tag = uuid.uuid4().hex[:8]
    rng = random.Random(tag)
    with Clients(running, tag) as clients:
        for _ in range(ROUNDS):
            time.sleep(rng.uniform(0.3, 0.9))
            running.kill()
            running.start()
        time.sleep(0.5)  # calls under way when the last server started get acknowledged
    assert clients.failures == []
    ledger = clients.ledger
    ids, people = _stored(running, tag)

    lost_events = ledger.events - set(ids)
    lost_messages = ledger.messages - set(ids)
    duplicated = {event_id: count for event_id, count in ids.items() if count > 1}
    stale = {
        person: (people.get(person) or {}).get("seq")
        for person, seq in ledger.seq.items()
        if person not in people or int(people[person].get("seq", -1)) < seq
    }
    print(
        f"\nsoak: {ROUNDS} kills, {ledger.attempts} attempts, "
        f"{len(ledger.events) + len(ledger.messages) + ledger.identifies} calls acknowledged "
        f"({len(ledger.events)} events, {len(ledger.messages)} batch messages, "
        f"{ledger.identifies} identifies), lost {len(lost_events) + len(lost_messages)}, "
        f"duplicated {len(duplicated)}, stale identifies {len(stale)}"
    )
    assert ledger.events and ledger.messages and ledger.seq
    assert lost_events == set()
    assert lost_messages == set()
    assert duplicated == {}
    assert stale == {}
    assert set(count_in_database(running.database_url, running.workspace_id).values()) == {0}
