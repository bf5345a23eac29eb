"""The session cookie's flags under TLS, and the APIs with a session (docs/web.md, "Logins"),
in process: no browser needed to read a Set-Cookie header."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from roster.app import create_app
from roster.services.system import System
from roster.settings import Settings

PASSWORD = "correct horse battery"


@pytest.fixture
def https(system: System) -> Iterator[TestClient]:
    app = create_app(Settings(public_url="https://roster.test"), system=system)
    with TestClient(
        app, base_url="https://roster.test", follow_redirects=False, raise_server_exceptions=False
    ) as client:
        yield client


def _log_in(client: TestClient, system: System) -> str:
    """A login for a workspace of its own (the database is shared with other tests)."""
    email = f"tls-{uuid.uuid4().hex[:8]}@example.com"
    workspace = system.workspaces.create(f"ws-{uuid.uuid4().hex[:10]}")
    system.logins.create_user(email, PASSWORD, (workspace["name"],))
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    answer = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token[1]}
    )
    assert answer.status_code == 303, answer.text
    cookie: str = answer.headers["set-cookie"]
    return cookie


def test_under_tls_the_session_cookie_is_secure_httponly_and_samesite_lax(
    https: TestClient, system: System
) -> None:
    cookie = _log_in(https, system).lower()
    assert cookie.startswith("roster_session=")
    assert "; secure" in cookie and "; httponly" in cookie and "samesite=lax" in cookie


def test_the_apis_take_the_session_reading_freely_but_changing_only_with_its_csrf_token(
    https: TestClient, system: System
) -> None:
    _log_in(https, system)
    assert https.get("/api/workspace/settings").status_code == 200
    refused = https.patch("/api/workspace/settings", json={"auto_merge": False})
    assert refused.status_code == 401
    assert "X-CSRF-Token" in refused.json()["message"]
    assert https.get("/api/workspace/settings").json()["auto_merge"] is True  # unchanged
    page = https.get("/people").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    done = https.patch(
        "/api/workspace/settings", json={"auto_merge": False}, headers={"X-CSRF-Token": csrf[1]}
    )
    assert done.status_code == 200, done.text
    assert https.get("/api/workspace/settings").json()["auto_merge"] is False


def test_a_failed_login_beyond_the_limit_is_a_429_page_with_retry_after(
    https: TestClient, system: System
) -> None:
    email = f"many-{uuid.uuid4().hex[:8]}@example.com"
    system.logins.create_user(email, PASSWORD)
    statuses = []
    for _ in range(6):
        form = https.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        answer = https.post(
            "/login", data={"email": email, "password": "wrong password", "csrf_token": token[1]}
        )
        statuses.append(answer.status_code)
    assert statuses == [401] * 5 + [429]
    assert int(answer.headers["retry-after"]) > 0
    assert "too many failed logins" in answer.text
