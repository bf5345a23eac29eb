"""SIGTERM drains a real `roster serve` (docs/operations.md, "Stopping"): the calls it took are
answered and stored, a write call arriving during the drain gets 503 with Retry-After and nothing
of it is stored, /readyz says the server is stopping, and then the process exits cleanly."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.outages import own_database
from tests.server import RunningRoster

DRAIN_SECONDS = 3.0
BATCHES = 40  # Segment batches in flight when SIGTERM arrives
MESSAGES = 50


@pytest.fixture(params=["sqlite", "postgresql"])
def draining_roster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningRoster]:
    if request.param == "postgresql":
        request.getfixturevalue("postgres_url")  # skips (or, in CI, fails) without PostgreSQL
    with (
        own_database(request.param, tmp_path) as url,
        RunningRoster(
            url, tmp_path / "data", extra_env={"ROSTER_DRAIN_SECONDS": str(DRAIN_SECONDS)}
        ) as running,
    ):
        yield running


def _batch(tag: str, n: int) -> dict[str, object]:
    return {
        "batch": [
            {"type": "track", "userId": f"drain-{tag}-{n}", "event": "Drained",
             "messageId": f"{tag}-{n}-{m}", "properties": {"m": m}}
            for m in range(MESSAGES)
        ]
    }  # fmt: skip


@pytest.mark.server
def test_sigterm_finishes_the_calls_in_flight_and_refuses_new_writes_with_503_until_it_exits(
    draining_roster: RunningRoster,
):
    running = draining_roster
    tag = uuid.uuid4().hex[:8]
    answers: dict[int, int] = {}
    lock = threading.Lock()
    answered = threading.Event()

    def send(n: int) -> None:
        with httpx.Client(auth=(running.write_key, ""), timeout=30) as http:
            try:
                status = http.post(f"{running.base_url}/v1/batch", json=_batch(tag, n)).status_code
            except httpx.TransportError:
                status = 0  # not taken: the server had stopped listening
        with lock:
            answers[n] = status
        answered.set()

    with running.app_api() as app:
        senders = [threading.Thread(target=send, args=(n,)) for n in range(BATCHES)]
        for sender in senders:
            sender.start()
        # SIGTERM once the server has taken a batch, so that it comes while the others are in
        # flight, however slowly a busy machine starts 40 senders.
        assert answered.wait(30), "no batch was answered before SIGTERM"
        assert running.process is not None
        running.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)

        late = httpx.put(
            f"{running.base_url}/api/v1/customers/drain-{tag}-late",
            json={"plan": "late"},
            auth=(running.site_id, running.track_api_key),
            timeout=10,
        )
        ready = httpx.get(f"{running.base_url}/readyz", timeout=10)
        read = app.http.get(f"/v1/customers/drain-{tag}-0/attributes")
        for sender in senders:
            sender.join(30)

        assert late.status_code == 503, late.text
        assert late.headers["retry-after"] == "2"
        assert "stopping" in late.text
        assert ready.status_code == 503
        assert ready.json()["writer"]["draining"] is True
        assert read.status_code in (200, 404)  # reads are still answered during the drain

        exit_code = running.process.wait(DRAIN_SECONDS + 30)
        assert exit_code in (0, -signal.SIGTERM), running.output()[-2000:]

    accepted = [n for n, status in answers.items() if status == 200]
    refused = [n for n, status in answers.items() if status == 503]
    assert len(answers) == BATCHES
    assert set(answers.values()) <= {200, 503, 0}
    assert accepted, answers

    running.credentials = dict(running.credentials)  # the same workspace, served again
    running.start()
    with running.app_api() as app:
        for n in accepted:  # every acknowledged batch is stored, whole
            assert len(app.events(f"drain-{tag}-{n}")) == MESSAGES
        for n in refused:  # nothing of a refused one
            assert app.customer(f"drain-{tag}-{n}") is None
        assert app.customer(f"drain-{tag}-late") is None
