"""Alembic migrations, applied by roster itself at start (no alembic.ini to carry around).

Alembic is imported by the functions that use it: a brand-new throw-away database
(`roster serve --ephemeral`) is created at the newest revision directly (`create_at_head`), and
`roster serve --ephemeral` does not wait for Alembic and every revision to load."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from roster.storage.tables import metadata

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions, which a database created by create_at_head is
# stamped with. A new revision changes it too (tests/storage/test_migrations.py checks that it is
# Alembic's head).
HEAD = "0014"
# Alembic's table of the revision a database is at, as Alembic creates it.
VERSION = sa.Table(
    "alembic_version",
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


class NotEmpty(Exception):
    """create_at_head was given a database that already has tables."""


def _config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine) -> None:
    """Bring the schema to the newest revision. Concurrent starters on PostgreSQL wait on a lock."""
    from alembic import command

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several server processes may start at once; one migrates, the others wait.
            connection.execute(sa.text("select pg_advisory_xact_lock(7263101)"))
        command.upgrade(_config(connection), "head")


def create_at_head(engine: sa.Engine) -> None:
    """Create the schema of a database that has no table yet straight from the declared tables,
    stamped with HEAD: on SQLite, the same schema as migrating it from nothing
    (tests/storage/test_migrations.py compares the two), in a fraction of the time. NotEmpty if
    it has any table."""
    with engine.begin() as connection:
        if sa.inspect(connection).get_table_names():
            raise NotEmpty(f"{engine.url.render_as_string()} already has tables")
        metadata.create_all(connection)
        VERSION.create(connection)
        connection.execute(VERSION.insert().values(version_num=HEAD))


def head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current(engine: sa.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(engine: sa.Engine) -> bool:
    return current(engine) == head()


def revision(engine: sa.Engine, message: str) -> None:
    """Write a new migration by comparing the tables with the database (CONTRIBUTING.md)."""
    from alembic import command

    with engine.begin() as connection:
        command.revision(_config(connection), message=message, autogenerate=True)
