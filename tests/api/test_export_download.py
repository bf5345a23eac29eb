"""An export's download through a real `roster serve` (docs/api.md §4): past 8,000 people the
file is written with a helper process, and a download given up half-way ends it at once, the
server going on as before. SQLite only: the people are written straight into the database
(bench/dataset.py), which is how 60,000 of them take a second or two."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from bench.dataset import build
from bench.machine import children
from tests.server import RunningRoster, create_workspace

PEOPLE = 60_000


def _link(http: httpx.Client) -> str:
    made = http.post("/v1/exports/customers", json={})
    assert made.status_code == 200, made.text
    answer = http.get(f"/v1/exports/{made.json()['export']['id']}/download")
    assert answer.status_code == 200, answer.text
    link: str = answer.json()["link"]
    return link


def _helpers_end(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while children(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_download_given_up_half_way_ends_its_helper_and_the_next_is_whole(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'roster.db'}"
    credentials = create_workspace(url, tmp_path / "data")
    build(tmp_path / "roster.db", int(credentials["workspace_id"]), PEOPLE)
    with RunningRoster(url, tmp_path / "data", credentials=credentials) as server:
        key = {"Authorization": f"Bearer {server.app_api_key}"}
        with httpx.Client(base_url=server.base_url, headers=key, timeout=60) as http:
            with httpx.stream("GET", _link(http), timeout=60) as answer:
                assert answer.status_code == 200
                received = 0
                for chunk in answer.iter_raw():
                    received += len(chunk)
                    if received > 3_000_000:  # past the first 8,000 people (2 MB)
                        break
                assert len(children(server.pid)) == 1  # the helper, writing
            # The client has gone: the helper ends now, not when the garbage is collected.
            assert _helpers_end(server.pid)

            whole = httpx.get(_link(http), timeout=60)
            assert whole.status_code == 200
            assert whole.content.count(b"\r\n") == PEOPLE + 1
            assert _helpers_end(server.pid)
