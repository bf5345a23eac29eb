"""An in-process client on each database (the real-server tests use tests/server.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from customerio import CustomerIO
from fastapi.testclient import TestClient

from roster.app import create_app
from roster.services.system import System
from roster.settings import Settings
from tests.api.calls import basic, bearer
from tests.server import AppApi, RunningRoster


@pytest.fixture
def client(system: System) -> Iterator[TestClient]:
    app = create_app(Settings(public_url="http://roster.test", noop_endpoint=True), system=system)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def track(workspace: dict[str, Any]) -> dict[str, str]:
    """Track API headers for the test's workspace."""
    return basic(workspace["site_id"], workspace["track_api_key"])


@pytest.fixture
def app_key(workspace: dict[str, Any]) -> dict[str, str]:
    """App API headers for the test's workspace."""
    return bearer(workspace["app_api_key"])


@pytest.fixture
def uid() -> str:
    """A person id no other test uses: the real-server tests share one workspace per module."""
    return f"u{uuid.uuid4().hex[:10]}"


# -- a real `roster serve`: each module that starts one names it `roster` --------------------------


@pytest.fixture
def app(roster: RunningRoster) -> Iterator[AppApi]:
    """The App API of the module's `roster`."""
    with roster.app_api() as api:
        yield api


# -- a real `roster serve` over HTTPS for customerio-python (tests/server.py) ----------------------


@pytest.fixture(scope="module")
def tls_roster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRoster]:
    folder = tmp_path_factory.mktemp("tls-roster")
    with RunningRoster(f"sqlite:///{folder / 'roster.db'}", folder / "data", tls=True) as running:
        yield running


@pytest.fixture
def trusted(tls_roster: RunningRoster, monkeypatch: pytest.MonkeyPatch) -> None:
    """requests trusts roster's self-signed certificate (read on every request)."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_roster.cert_path))


@pytest.fixture
def cio(tls_roster: RunningRoster, trusted: None) -> Iterator[CustomerIO]:
    """customerio-python pointed at that roster (HTTPS only, as the client insists)."""
    with CustomerIO(
        tls_roster.site_id,
        tls_roster.track_api_key,
        host="127.0.0.1",
        port=tls_roster.port,
        retries=0,
    ) as client:
        yield client
