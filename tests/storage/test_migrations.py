"""Migrations, applied at start, produce exactly the tables the code declares."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from roster.services.system import System
from roster.storage import migrate
from roster.storage.tables import metadata


def test_migrated_schema_matches_the_declared_tables(system: System):
    with system.database.reader.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_database_is_at_the_newest_revision(system: System):
    assert migrate.current(system.database.reader) == migrate.head()
    assert system.ready()


def test_applying_migrations_again_changes_nothing(system: System):
    migrate.upgrade(system.database.writer)
    assert migrate.is_current(system.database.reader)


def test_sqlite_runs_in_wal_mode(sqlite_url: str, tmp_path):
    opened = System.open(sqlite_url, tmp_path, "k")
    try:
        with opened.database.reader.connect() as connection:
            mode = connection.execute(sa.text("pragma journal_mode")).scalar_one()
        assert mode == "wal"
    finally:
        opened.close()


def _sqlite_schema(path: Path) -> dict[tuple[str, str], str]:
    """Every table, index and trigger SQLite holds, by type and name, with the SQL it keeps for
    each: that text is the schema (columns in order, types, NOT NULL, defaults, keys,
    constraints, partial indexes' WHERE). Only its layout is normalised: ALTER TABLE ADD COLUMN
    and a table rebuilt under a temporary name leave other line breaks and quotes."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        rows = connection.execute("select type, name, sql from sqlite_master").fetchall()
    schema = {}
    for kind, name, sql in rows:
        text = " ".join((sql or "").replace('"', "").split())
        schema[(kind, name)] = re.sub(r" ?([(),]) ?", r"\1", text)
    return schema


def test_a_new_database_created_at_head_has_the_migrated_schema(tmp_path: Path):
    migrated, created = tmp_path / "migrated.db", tmp_path / "created.db"
    for path, new_database in ((migrated, False), (created, True)):
        opened = System.open(f"sqlite:///{path}", tmp_path, "k", new_database=new_database)
        opened.close()

    expected = _sqlite_schema(migrated)
    assert ("table", "alembic_version") in expected and ("table", "people") in expected
    assert _sqlite_schema(created) == expected
    for path in (migrated, created):
        with contextlib.closing(sqlite3.connect(path)) as connection:
            assert connection.execute("pragma user_version").fetchone() == (0,)
            assert connection.execute("select * from alembic_version").fetchall() == [
                (migrate.HEAD,)
            ]


def test_the_head_a_new_database_is_stamped_with_is_alembics():
    assert migrate.head() == migrate.HEAD


def test_a_database_with_tables_is_not_created_again(sqlite_url: str, tmp_path: Path):
    System.open(sqlite_url, tmp_path, "k").close()

    with pytest.raises(migrate.NotEmpty):
        System.open(sqlite_url, tmp_path, "k", new_database=True)
