"""Migrations, applied at start, produce exactly the tables the code declares."""

from __future__ import annotations

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
