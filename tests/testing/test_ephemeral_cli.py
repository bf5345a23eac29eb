"""`roster serve --ephemeral` (docs/testing.md, docs/api.md §6): a throw-away roster for any
language's test set-up, driven the way a foreign test runner drives it: a subprocess, one JSON
line on stdout, every credential used, and nothing left once it is told to go or its parent dies.
(A temporary SQLite database by design: these tests have no PostgreSQL variant.)"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from roster.testing.server import CREDENTIAL_KEYS
from tests.server import ROSTER, free_port, roster_environment

pytestmark = pytest.mark.server

KEYS = {"url", *CREDENTIAL_KEYS}
STOP_TIMEOUT = 20.0


def read_line(stream: IO[bytes], timeout: float = 30.0) -> bytes:
    """One line from a pipe, or an AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no line within {timeout:.0f} s (so far: {line!r})"
        chunk = os.read(stream.fileno(), 1)
        assert chunk, f"the stream ended before a whole line (so far: {line!r})"
        line += chunk
    return line


def environment(temporary: Path) -> dict[str, str]:
    """roster's test environment, with TMPDIR pointing at a folder the test watches."""
    env = roster_environment(temporary / "unused-data-dir")
    env["TMPDIR"] = str(temporary)
    return env


@contextlib.contextmanager
def ended(process: subprocess.Popen[bytes]) -> Iterator[None]:
    """Whatever happens in the block, the process does not outlive it."""
    try:
        yield
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def gone(pid: int, timeout: float = STOP_TIMEOUT) -> bool:
    """Whether process `pid` (not necessarily a child of this one) has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def use_every_credential(line: dict[str, Any], verify: Any = True) -> None:
    """A Track call, a Segment call with the write key and a signed webhook call, all read back
    through the App API."""
    url = line["url"]
    with httpx.Client(base_url=url, verify=verify, timeout=30.0) as http:
        track = http.put(
            "/api/v1/customers/ada-1",
            auth=(line["site_id"], line["track_api_key"]),
            json={"email": "ada@example.com"},
        )
        assert track.status_code == 200, track.text
        segment = http.post(
            "/v1/track",
            auth=(line["write_key"], ""),
            json={"userId": "ada-1", "event": "Signed Up", "messageId": "m-1"},
        )
        assert segment.status_code == 200, segment.text
        body = json.dumps(
            {"type": "track", "userId": "ada-1", "event": "Upgraded", "messageId": "m-2"}
        ).encode()
        signature = hmac.new(line["webhook_secret"].encode(), body, hashlib.sha1).hexdigest()
        webhook = http.post(
            f"/segment/webhook/{line['webhook_id']}",
            content=body,
            headers={"Content-Type": "application/json", "X-Signature": signature},
        )
        assert webhook.status_code == 200, webhook.text
        app = {"Authorization": f"Bearer {line['app_api_key']}"}
        person = http.get("/v1/customers/ada-1/attributes", headers=app)
        assert person.status_code == 200, person.text
        assert person.json()["customer"]["identifiers"]["email"] == "ada@example.com"
        activities = http.get("/v1/customers/ada-1/activities?type=event", headers=app)
        assert sorted(a["name"] for a in activities.json()["activities"]) == [
            "Signed Up",
            "Upgraded",
        ]


def test_it_prints_one_json_line_serves_every_credential_and_goes_when_its_parent_dies(
    tmp_path: Path,
) -> None:
    # The parent is a process of its own that holds roster's stdin and is then killed, as a
    # crashed test runner would be; roster's JSON line reaches this test through the parent's
    # inherited stdout, and the parent tells roster's pid on stderr.
    parent_code = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([{str(ROSTER)!r}, 'serve', '--ephemeral'],"
        " stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)\n"
        "sys.stderr.write(f'{child.pid}\\n'); sys.stderr.flush()\n"
        "time.sleep(600)\n"
    )
    with (
        subprocess.Popen(
            [sys.executable, "-c", parent_code],
            env=environment(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as parent,
        ended(parent),
    ):
        assert parent.stdout is not None and parent.stderr is not None
        roster_pid = int(read_line(parent.stderr))
        line = json.loads(read_line(parent.stdout))
        assert set(line) == KEYS  # no ca_bundle without TLS
        assert line["url"].startswith("http://127.0.0.1:")
        assert len(list(tmp_path.glob("roster-ephemeral-*"))) == 1

        use_every_credential(line)

        parent.kill()
        parent.wait(timeout=STOP_TIMEOUT)
        assert gone(roster_pid), "roster outlived its parent"
        assert list(tmp_path.glob("roster-ephemeral-*")) == []
        assert parent.stdout.read() == b""  # nothing but the JSON line, ever


def test_closing_its_stdin_stops_it_and_removes_its_files(tmp_path: Path) -> None:
    with (
        subprocess.Popen(
            [str(ROSTER), "serve", "--ephemeral", "--tls-self-signed"],
            env=environment(tmp_path),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        ) as process,
        ended(process),
    ):
        assert process.stdin is not None and process.stdout is not None
        line = json.loads(read_line(process.stdout))
        assert set(line) == {*KEYS, "ca_bundle"}
        assert line["url"].startswith("https://127.0.0.1:")
        ca_bundle = Path(line["ca_bundle"])
        assert ca_bundle.is_relative_to(tmp_path) and ca_bundle.exists()

        with httpx.Client(verify=False) as http:  # the certificate is used; trust is checked below
            assert http.get(f"{line['url']}/healthz").status_code == 200
        use_every_credential(line, verify=ssl.create_default_context(cafile=str(ca_bundle)))

        process.stdin.close()
        assert process.wait(timeout=STOP_TIMEOUT) == 0
        assert process.stdout.read() == b""
        assert list(tmp_path.iterdir()) == []


def test_sigterm_stops_it_and_stdin_from_dev_null_does_not(tmp_path: Path) -> None:
    # A shell script's `roster serve --ephemeral &` has /dev/null as stdin, at end of file at
    # once: that server keeps serving until SIGTERM.
    port = free_port()
    with (
        subprocess.Popen(
            [str(ROSTER), "serve", "--ephemeral", "--port", str(port)],
            env=environment(tmp_path),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        ) as process,
        ended(process),
    ):
        assert process.stdout is not None
        line = json.loads(read_line(process.stdout))
        assert line["url"] == f"http://127.0.0.1:{port}"
        time.sleep(0.5)  # time enough for a stdin watcher to have seen end of file
        assert process.poll() is None
        use_every_credential(line)

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=STOP_TIMEOUT) == 0
        assert list(tmp_path.iterdir()) == []


def test_a_port_in_use_is_refused_with_a_message_and_nothing_left(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [str(ROSTER), "serve", "--ephemeral", "--port", str(port)],
            env=environment(tmp_path),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert done.returncode == 2
    assert done.stdout == ""
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "--port" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_its_line_comes_before_the_app_loads_and_a_request_sent_then_waits_to_be_answered(
    tmp_path: Path,
) -> None:
    # What `serve --ephemeral` does before its line (EphemeralRoster.listen), in a process of its
    # own: no HTTP app, no Alembic; a request sent right then is answered once start() has run.
    heavy = ["roster.app", "fastapi", "uvicorn", "alembic", "httpx"]
    code = (
        "import json, socket, sys\n"
        "from roster.testing.ephemeral import EphemeralRoster\n"
        "server = EphemeralRoster()\n"
        "server.listen()\n"
        f"loaded = [name for name in {heavy!r} if name in sys.modules]\n"
        "client = socket.create_connection(('127.0.0.1', server.port), timeout=30)\n"
        "client.sendall(b'GET /healthz HTTP/1.1\\r\\nHost: roster\\r\\n'\n"
        "               b'Connection: close\\r\\n\\r\\n')\n"
        "server.start()\n"
        "answer = b''\n"
        "while chunk := client.recv(65536):\n"
        "    answer += chunk\n"
        "client.close()\n"
        "server.stop()\n"
        "print(json.dumps({'loaded': loaded, 'status': answer.split(b'\\r\\n')[0].decode()}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert json.loads(done.stdout) == {"loaded": [], "status": "HTTP/1.1 200 OK"}
    assert list(tmp_path.iterdir()) == []


def test_told_to_stop_while_its_app_loads_it_stops_cleanly(tmp_path: Path) -> None:
    with (
        subprocess.Popen(
            [str(ROSTER), "serve", "--ephemeral", "--tls-self-signed"],
            env=environment(tmp_path),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        ) as process,
        ended(process),
    ):
        assert process.stdin is not None and process.stdout is not None
        json.loads(read_line(process.stdout))
        process.stdin.close()  # at once: the app is still loading

        assert process.wait(timeout=STOP_TIMEOUT) == 0
        assert process.stdout.read() == b""
        assert list(tmp_path.iterdir()) == []
