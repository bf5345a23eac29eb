"""`/metrics` in Prometheus's text format, parsed by Prometheus's own parser, with counters that
move as calls arrive; a request id on every answer and on every log line of its request; no
personal data in the logs of a real server's run (docs/operations.md, "Logs" and "Metrics")."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from roster.app import create_app
from roster.services.system import System
from roster.settings import Settings
from tests.api.calls import basic, bearer
from tests.server import RunningRoster


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def moved(before: dict[Any, float], after: dict[Any, float], name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_metrics_parse_and_count_requests_operations_conflicts_merges_and_drops(
    client: TestClient, track: dict[str, str], app_key: dict[str, str], workspace: dict[str, Any]
):
    ada, grace = f"ada-{uuid.uuid4().hex[:6]}", f"grace-{uuid.uuid4().hex[:6]}"
    before = samples(client)

    assert client.put(f"/api/v1/customers/{ada}", json={"email": f"{ada}@x.io"}, headers=track)
    client.put(f"/api/v1/customers/{grace}", json={"plan": "pro"}, headers=track)
    # Grace's call carries Ada's email: a conflict (I5.2), answered 200.
    conflict = client.put(
        f"/api/v1/customers/{grace}", json={"email": f"{ada}@x.io"}, headers=track
    )
    assert conflict.status_code == 200
    merged = client.post(
        "/api/v1/merge_customers",
        json={"primary": {"id": ada}, "secondary": {"id": grace}},
        headers=track,
    )
    assert merged.status_code == 200, merged.text
    segment = basic(str(workspace["write_key"]))
    dropped = client.post("/v1/batch", json={"batch": [{"type": "track", "userId": ada}]},
                          headers=segment)  # fmt: skip
    assert dropped.status_code == 200  # no event name: logged, not used
    after = samples(client)

    assert moved(before, after, "roster_http_requests_total", door="track_v1", status="200") >= 4
    assert moved(before, after, "roster_http_requests_total", door="segment", status="200") == 1
    assert moved(before, after, "roster_http_request_seconds_count", door="track_v1") >= 4
    assert moved(before, after, "roster_operations_total", kind="identify") >= 3
    assert moved(before, after, "roster_operations_total", kind="merge") == 1
    assert moved(before, after, "roster_identifier_conflicts_total") == 1
    assert moved(before, after, "roster_merges_total") == 1
    assert moved(before, after, "roster_ingestion_log_entries_total", door="segment") == 1
    assert moved(before, after, "roster_write_transactions_total") >= 4
    assert moved(before, after, "roster_writer_group_size_count") >= 4
    assert ("roster_writer_queue_depth", ()) in after


def test_a_call_the_database_cannot_take_is_counted_as_a_database_error(tmp_path: Path):
    system = System.open(f"sqlite:///{tmp_path / 'r.db'}", tmp_path, "k")
    try:
        keys = system.workspaces.create("metrics")
        app = create_app(Settings(), system=system)
        with TestClient(app, raise_server_exceptions=False) as client:
            before = samples(client)
            system.writer.drain()  # the writer takes no more work: what a lost database does
            answer = client.put(
                "/api/v1/customers/x",
                json={},
                headers=basic(keys["site_id"], keys["track_api_key"]),
            )
            after = samples(client)
        assert answer.status_code == 503
        assert moved(before, after, "roster_database_errors_total") == 1
        assert (
            moved(before, after, "roster_http_requests_total", door="track_v1", status="503") == 1
        )
        assert after[("roster_writer_draining", ())] == 1
    finally:
        system.close()


def test_every_answer_carries_a_request_id_and_a_client_s_own_is_kept(
    client: TestClient, app_key: dict[str, str]
):
    first = client.get("/healthz")
    second = client.get("/healthz")
    own = client.get(
        "/v1/customers/nobody/attributes", headers={**app_key, "X-Request-Id": "abc-123"}
    )
    odd = client.get("/healthz", headers={"X-Request-Id": b"not a token\xe9"})

    assert len(first.headers["x-request-id"]) == 16
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert own.status_code == 404 and own.headers["x-request-id"] == "abc-123"
    assert odd.headers["x-request-id"] != "not a token"
    assert len(odd.headers["x-request-id"]) == 16


def test_every_answer_says_how_long_the_server_took_to_answer_in_server_timing(
    client: TestClient, app_key: dict[str, str]
):
    answers = []
    for path, headers in (("/healthz", {}), ("/v1/customers/nobody/attributes", app_key),
                          ("/no/such/page", {})):  # fmt: skip
        started = time.perf_counter()
        answer = client.get(path, headers=headers)
        answers.append((answer, (time.perf_counter() - started) * 1000))

    for answer, client_ms in answers:
        timing = re.fullmatch(r"app;dur=(\d+\.\d{2})", answer.headers["server-timing"])
        assert timing is not None, answer.headers["server-timing"]
        assert 0 < float(timing[1]) <= client_ms  # the server's part of what the client waited
    assert [answer.status_code for answer, _ in answers] == [200, 404, 404]


@pytest.fixture
def talkative_roster(tmp_path: Path) -> Iterator[RunningRoster]:
    """A real server logging everything (debug) as JSON."""
    with RunningRoster(
        f"sqlite:///{tmp_path / 'roster.db'}",
        tmp_path / "data",
        extra_env={"ROSTER_LOG_LEVEL": "debug", "ROSTER_LOG_FORMAT": "json"},
    ) as running:
        yield running


@pytest.mark.server
def test_logs_of_a_run_carry_request_ids_and_no_email_or_id_that_was_sent(
    talkative_roster: RunningRoster,
):
    running = talkative_roster
    secret = uuid.uuid4().hex[:8]
    ids = [f"person-{secret}-{n}" for n in range(4)]
    emails = [f"{person}@private-{secret}.example" for person in ids]
    track = (running.site_id, running.track_api_key)
    with httpx.Client(base_url=running.base_url, timeout=10) as http:
        for person, email in zip(ids, emails, strict=True):
            assert http.put(f"/api/v1/customers/{person}", json={"email": email}, auth=track)
        # A conflict, a refused body naming an email, a suppression, Segment traits, a lookup.
        http.put(f"/api/v1/customers/{ids[1]}", json={"email": emails[0]}, auth=track)
        bad = http.put(f"/api/v1/customers/{ids[2]}", json={"email": f"not-an-email-{secret}"},
                       auth=track)  # fmt: skip
        assert bad.status_code == 400
        http.post(f"/api/v1/customers/{ids[3]}/suppress", auth=track)
        http.put(f"/api/v1/customers/{ids[3]}", json={"email": emails[3]}, auth=track)
        http.post("/v1/identify", json={"userId": ids[0], "traits": {"email": emails[0]}},
                  auth=(running.write_key, ""))  # fmt: skip
        http.get(f"/v1/customers?email={emails[0]}",
                 headers=bearer(running.app_api_key))  # fmt: skip
        request_ids = {http.get("/healthz").headers["x-request-id"] for _ in range(2)}
    running.stop()

    output = running.output()
    assert secret not in output  # no id, email or refused value of the run, anywhere
    lines = [orjson.loads(line) for line in output.splitlines() if line.startswith("{")]
    answered = [line for line in lines if line["logger"] == "roster.http"]
    assert len(answered) >= 12
    assert all(line.get("request_id") for line in answered)
    assert request_ids <= {line["request_id"] for line in answered}
    assert {line["route"] for line in answered} >= {"/api/v1/customers/{ref}", "/healthz"}
