"""An in-process client on each database (the real-server tests use tests/server.py)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from roster.app import create_app
from roster.services.system import System
from roster.settings import Settings


@pytest.fixture
def client(system: System) -> Iterator[TestClient]:
    app = create_app(Settings(public_url="http://roster.test", noop_endpoint=True), system=system)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def basic(site_id: str, key: str) -> dict[str, str]:
    token = base64.b64encode(f"{site_id}:{key}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def track(workspace: dict[str, Any]) -> dict[str, str]:
    """Track API headers for the test's workspace."""
    return basic(workspace["site_id"], workspace["track_api_key"])


@pytest.fixture
def app_key(workspace: dict[str, Any]) -> dict[str, str]:
    """App API headers for the test's workspace."""
    return {"Authorization": f"Bearer {workspace['app_api_key']}"}
