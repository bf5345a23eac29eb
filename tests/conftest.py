"""Databases for the storage, services and API suites: SQLite always, PostgreSQL on
127.0.0.1:5432 (ROSTER_TEST_POSTGRES_URL). Outside CI a missing PostgreSQL skips those tests
loudly; with CI=true it fails them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from roster.services.system import System

POSTGRES_ADMIN_URL = os.environ.get(
    "ROSTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BACKENDS = ["sqlite", "postgresql"]


def _postgres_available() -> str | None:
    """None if PostgreSQL answers, else why not."""
    try:
        engine = sa.create_engine(POSTGRES_ADMIN_URL)
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as error:  # any failure to connect means "not available"
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"
    return None


@pytest.fixture(scope="session")
def postgres_url(worker_id: str) -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (one per xdist worker; worker_id
    comes from pytest-xdist)."""
    problem = _postgres_available()
    if problem is not None:
        message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({problem})"
        if IN_CI:
            pytest.fail(message + ": CI=true requires it", pytrace=False)
        pytest.skip(
            "SKIPPED LOUDLY: " + message + "; the PostgreSQL half of this suite did not run"
        )
    name = f"roster_test_{worker_id}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'create database "{name}"'))
    url = sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'roster.db'}"


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """Both databases: every test using this runs on SQLite and on PostgreSQL."""
    fixture = {"sqlite": "sqlite_url", "postgresql": "postgres_url"}[request.param]
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture(scope="session")
def system(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """A running roster core (writer thread, readers) on each database. Tests isolate
    themselves by creating a workspace of their own."""
    opened = System.open(database_url, Path(tmp_path_factory.mktemp("data")), "test-secret")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def workspace(system: System) -> dict[str, object]:
    """A new workspace with its credentials, isolated from every other test's."""
    return system.workspaces.create(f"ws-{uuid.uuid4().hex[:10]}")
