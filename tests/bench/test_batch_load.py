"""bench/batch.lua, the load of both batch benchmarks, run by wrk against a stand-in server that
keeps what it is sent: each API gets its own body shape, path and credentials for the same
traffic, and a Track v2 207 (some operations refused) is not counted as acknowledged."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bench.load import BATCH_LUA, SEGMENT, TRACK_V2, BatchApi

WRK = shutil.which("wrk")
pytestmark = pytest.mark.skipif(WRK is None, reason="wrk is not installed (apt-get install wrk)")
BATCH = 10


def numbered(message_id: str) -> tuple[int, int]:
    """A messageId's (request, message): `t-<thread>-<request>-<message>` of the wrk run "t".
    wrk builds one request of each thread before it starts, so the first one sent is not 1."""
    tag, thread, request, message = message_id.split("-")
    assert (tag, thread) == ("t", "0")
    return int(request), int(message)


@dataclass
class StandIn:
    """What the stand-in answers, and the requests it was sent."""

    status: int = 200
    seen: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    state = StandIn()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # wrk keeps its connections alive

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if len(state.seen) < 5:
                state.seen.append((self.path, self.headers["Authorization"], json.loads(body)))
            answer = b"{}"
            self.send_response(state.status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # wrk's hundreds of requests need no log

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def drive(stand_in: StandIn, api: BatchApi, authorization: str) -> dict[str, Any]:
    """One second of bench/batch.lua on one connection; its WRK_JSON summary."""
    done = subprocess.run(
        [str(WRK), "-t1", "-c1", "-d1s", "-s", str(BATCH_LUA), stand_in.url, "--",
         authorization, "50", str(BATCH), "t", "7", api.key],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(text for text in done.stdout.splitlines() if text.startswith("WRK_JSON "))
    summary: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    return summary


def test_the_segment_batch_sends_identify_and_track_messages_with_the_write_key(
    stand_in: StandIn,
) -> None:
    summary = drive(stand_in, SEGMENT, "Bearer wk")

    path, authorization, body = stand_in.seen[0]
    assert (path, authorization) == ("/v1/batch", "Bearer wk")
    identify, track = body["batch"][0], body["batch"][1]
    assert len(body["batch"]) == BATCH
    user, (request, first) = identify["userId"], numbered(identify["messageId"])
    seen = (request - 1) * BATCH + 1
    assert identify == {
        "type": "identify",
        "userId": user,
        "messageId": identify["messageId"],
        "traits": {
            "email": f"{user}@example.com",
            "plan": identify["traits"]["plan"],
            "seen": seen,
        },
    }
    assert first == 1 and identify["traits"]["plan"] in ("free", "pro", "team")
    assert track["type"] == "track" and track["event"] == "Order Completed"
    assert numbered(track["messageId"]) == (request, 2)
    assert track["properties"] == {"revenue": 9.99, "sku": "sku-1", "n": seen + 1}
    assert summary["non_2xx"] == 0 and summary["requests"] > 0
    assert summary["tracks_built"] == summary["requests_built"] * BATCH // 2


def test_the_track_v2_batch_sends_the_same_traffic_as_person_operations_with_basic_credentials(
    stand_in: StandIn,
) -> None:
    drive(stand_in, TRACK_V2, "Basic c2l0ZTprZXk=")

    path, authorization, body = stand_in.seen[0]
    assert (path, authorization) == ("/api/v2/batch", "Basic c2l0ZTprZXk=")
    identify, track = body["batch"][0], body["batch"][1]
    user, seen = identify["identifiers"]["id"], identify["attributes"]["seen"]
    assert identify == {
        "type": "person",
        "action": "identify",
        "identifiers": {"id": user},
        "attributes": {
            "email": f"{user}@example.com",
            "plan": identify["attributes"]["plan"],
            "seen": seen,
        },
    }
    request = (seen - 1) // BATCH + 1
    assert track == {
        "type": "person",
        "action": "event",
        "identifiers": {"id": track["identifiers"]["id"]},
        "name": "Order Completed",
        "id": f"t-0-{request}-2",
        "attributes": {"revenue": 9.99, "sku": "sku-1", "n": seen + 1},
    }


def test_a_track_v2_207_is_counted_as_not_acknowledged(stand_in: StandIn) -> None:
    stand_in.status = 207

    summary = drive(stand_in, TRACK_V2, "Basic c2l0ZTprZXk=")

    assert summary["requests"] > 0
    assert summary["non_2xx"] == summary["requests"]
    assert summary["first_non_2xx_status"] == "207"
