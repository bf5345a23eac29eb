"""Alembic migrations, applied by roster itself at start (no alembic.ini to carry around)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine) -> None:
    """Bring the schema to the newest revision. Concurrent starters on PostgreSQL wait on a lock."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several server processes may start at once; one migrates, the others wait.
            connection.execute(sa.text("select pg_advisory_xact_lock(7263101)"))
        command.upgrade(_config(connection), "head")


def head() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(engine: sa.Engine) -> bool:
    return current(engine) == head()


def revision(engine: sa.Engine, message: str) -> None:
    """Write a new migration by comparing the tables with the database (CONTRIBUTING.md)."""
    with engine.begin() as connection:
        command.revision(_config(connection), message=message, autogenerate=True)
