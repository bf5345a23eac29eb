"""roster's pytest plugin (roster.testing.plugin, docs/testing.md), through its own fixtures: what
the example suite in examples/signup_app does not show, such as its failure messages. (Its server
is an ephemeral roster on a temporary SQLite database by design: no PostgreSQL variant.)"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from importlib.metadata import entry_points

import httpx
import pytest

from roster.testing.ephemeral import EphemeralRoster
from roster.testing.workspace import RosterWorkspace


def test_the_plugin_is_registered_for_pytest_and_costs_nothing_until_used() -> None:
    plugins = {point.name: point.value for point in entry_points(group="pytest11")}
    assert plugins.get("roster") == "roster.testing.plugin"

    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, roster.testing.plugin; print(json.dumps(sorted("
            "name for name in ('fastapi', 'sqlalchemy', 'uvicorn', 'customerio', 'httpx')"
            " if name in sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(done.stdout) == []


def test_a_missing_person_fails_with_what_roster_set_aside(roster: RosterWorkspace) -> None:
    roster.segment().track("ada-1", "")  # no event name: answered 200, logged, not stored

    with pytest.raises(AssertionError) as failure:
        roster.person("ada-1")

    message = str(failure.value)
    assert "no person with id 'ada-1'" in message
    assert "a track call needs an event name" in message
    assert roster.find_person("ada-1") is None


def test_expect_names_every_mismatch_and_shows_the_whole_person(roster: RosterWorkspace) -> None:
    roster.customerio().identify("ada-1", email="ada@example.com", plan="free", seats=3)
    ada = roster.person("ada-1")

    assert ada.expect(plan="free", seats=3, trial=None) is ada
    with pytest.raises(AssertionError) as failure:
        ada.expect(plan="pro", seats=3, trial=True)

    message = str(failure.value)
    assert "plan: expected 'pro', found 'free'" in message
    assert "trial: expected 'true', found not set" in message
    assert "seats" not in message.split("person 'ada-1':")[0]  # a match is not a mismatch
    assert "'email': 'ada@example.com'" in message  # the state, after the mismatches


def test_state_reads_as_plain_objects_oldest_first(roster: RosterWorkspace) -> None:
    cio = roster.customerio()
    cio.identify("ada-1", email="ada@example.com")
    cio.track("ada-1", "first", {"n": 1})
    cio.track("ada-1", "second", {"n": 2})
    cio.add_device("ada-1", "token-1", "android")

    ada = roster.person("ada-1")
    assert ada.identifiers == {"id": "ada-1", "email": "ada@example.com", "cio_id": ada.cio_id}
    assert ada.device_ids == ["token-1"]
    assert [(e.name, e.data) for e in roster.events("ada-1")] == [
        ("first", {"n": 1}),
        ("second", {"n": 2}),
    ]
    types = [a.type for a in roster.activities("ada-1")]
    assert types[0] == "profile_create"
    assert types.count("event") == 2


def test_configure_changes_this_workspace_and_refuses_a_bad_value(
    roster: RosterWorkspace,
) -> None:
    assert roster.settings()["identifier_mode"] == "email_or_id"

    changed = roster.configure(identifier_mode="id_only")

    assert changed["identifier_mode"] == "id_only"
    assert roster.settings()["identifier_mode"] == "id_only"
    with pytest.raises(ValueError, match="identifier_mode"):
        roster.configure(identifier_mode="sometimes")


def test_the_workspace_answers_with_its_keys_over_https_and_plain_http(
    roster: RosterWorkspace,
) -> None:
    assert roster.base_url == f"https://127.0.0.1:{roster.port}"
    assert roster.http_url.startswith("http://127.0.0.1:")
    for url, verify in ((roster.base_url, roster.ssl_context()), (roster.http_url, False)):
        answer = httpx.put(
            f"{url}/api/v1/customers/ada-{len(url)}",
            auth=(roster.site_id, roster.track_api_key),
            json={},
            verify=verify,
        )
        assert answer.status_code == 200, answer.text
    other = roster.server.new_workspace()
    assert other["app_api_key"] != roster.app_api_key
    assert roster.find_person(f"ada-{len(roster.base_url)}") is not None


def test_every_connection_the_server_takes_has_nagle_off(roster_server: EphemeralRoster) -> None:
    # With Nagle's algorithm on, an answer written in two parts waits for the client's delayed
    # ACK: ~40 ms a request on a kept-alive connection, for every call a test suite makes.
    with (
        httpx.Client(verify=roster_server.ssl_context()) as https,
        httpx.Client() as http,
    ):
        for client, url in ((https, roster_server.base_url), (http, roster_server.http_url)):
            assert client.get(f"{url}/healthz").status_code == 200
        connections = [
            connection
            for server in roster_server._servers
            for connection in server.server_state.connections
        ]
        assert len(connections) >= 2
        for connection in connections:
            taken = connection.transport.get_extra_info("socket")
            assert taken.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
