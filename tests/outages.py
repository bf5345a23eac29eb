"""Taking the database away from a running roster and giving it back, for the tests of what roster
answers meanwhile.

PostgreSQL: the database stops taking connections (`ALTER DATABASE ... ALLOW_CONNECTIONS false`)
and its server processes are ended (`pg_terminate_backend`), from an admin connection to another
database; then connections are allowed again.

SQLite: the disk is full for the roster process. Tests and CI run as root, and root ignores file
permission bits, so a `chmod` cannot make the file unwritable. Instead the process's RLIMIT_FSIZE
is set to 0 from outside (`prlimit(2)`, here through Python's `resource.prlimit`, which needs no
extra tool and works as root or as the process's own user): every write to a regular file then
fails with EFBIG (Python ignores the SIGXFSZ that comes with it), which SQLite reports as a disk
I/O error, exactly as it would a full disk; reads go on working. Setting the limit back gives the
disk back. The server's own log file is a regular file too, so what it logs during the outage is
lost."""

from __future__ import annotations

import os
import resource
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from roster.services.system import System
from tests.conftest import POSTGRES_ADMIN_URL


def _admin() -> sa.Engine:
    return sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")


@contextmanager
def own_database(backend: str, folder: Path) -> Iterator[str]:
    """A database for one test alone: an outage must not reach other tests' connections."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'own.db'}"
        return
    name = f"roster_outage_{uuid.uuid4().hex[:10]}"
    admin = _admin()
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'create database "{name}"'))
        yield sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


def end_connections(database_url: str) -> int:
    """End every server process connected to the database (how many there were)."""
    admin = _admin()
    try:
        with admin.connect() as connection:
            return len(
                connection.execute(
                    sa.text(
                        "select pg_terminate_backend(pid) from pg_stat_activity "
                        "where datname = :name and pid <> pg_backend_pid()"
                    ),
                    {"name": sa.make_url(database_url).database},
                ).all()
            )
    finally:
        admin.dispose()


@contextmanager
def postgres_away(database_url: str) -> Iterator[None]:
    """The database refuses connections and every connection to it is ended (call
    end_connections again to end the ones made meanwhile); it comes back on leaving."""
    name = sa.make_url(database_url).database
    admin = _admin()
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'alter database "{name}" allow_connections false'))
        end_connections(database_url)
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'alter database "{name}" allow_connections true'))
        admin.dispose()


@contextmanager
def disk_full(pid: int) -> Iterator[None]:
    """Every write of process `pid` to a regular file fails (EFBIG), until leaving."""
    if not hasattr(resource, "prlimit"):
        pytest.skip("filling the disk needs prlimit(2), which only Linux has")
    soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, hard))
    try:
        yield
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard))


@contextmanager
def database_away(system: System) -> Iterator[None]:
    """Take an in-process roster's database away: PostgreSQL refuses connections; SQLite's disk
    is full for this very process (in-process tests write no file meanwhile)."""
    if system.database.is_sqlite:
        with disk_full(os.getpid()):
            yield
    else:
        with postgres_away(system.database.url.render_as_string(False)):
            yield
