"""Deleting what has outlived its retention, a batch at a time, by one process at a time
(docs/operations.md, "Background work")."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa

from roster.storage.database import Database
from roster.storage.tables import events, workspaces

# PostgreSQL advisory locks of two 32-bit keys are a key space apart from the one-key locks
# that identifiers take (storage/writer.py lock_key), so these can never meet: ("rost", 1).
UPKEEP_LOCK = (0x726F7374, 1)


@contextlib.contextmanager
def upkeep_lease(database: Database) -> Iterator[bool]:
    """Whether this process may run the periodic work now. On PostgreSQL several server
    processes (or hosts) share the database: a session advisory lock, held on a connection of
    its own for the whole run, lets one of them through, and the lock goes with the session if
    the process dies. SQLite has one server process, so it always may."""
    if database.is_sqlite:
        yield True
        return
    with database.writer.connect() as connection:
        taken = bool(
            connection.execute(sa.select(sa.func.pg_try_advisory_lock(*UPKEEP_LOCK))).scalar_one()
        )
        connection.commit()
        try:
            yield taken
        finally:
            if taken:
                connection.execute(sa.select(sa.func.pg_advisory_unlock(*UPKEEP_LOCK)))
                connection.commit()


def purge_anonymous_events(connection: sa.Connection, now: float, limit: int) -> int:
    """Delete at most `limit` never-identified anonymous events past their workspace's
    retention (I7.2); how many went. A small batch keeps the writer's transaction short, so
    that calls waiting behind it wait little."""
    removed = 0
    for row in connection.execute(
        sa.select(workspaces.c.workspace_id, workspaces.c.anonymous_retention_days)
    ):
        expired = (
            sa.select(events.c.pk)
            .where(
                events.c.workspace_id == row.workspace_id,
                events.c.person_pk.is_(None),
                events.c.anonymous_id.is_not(None),
                events.c.received_at < now - row.anonymous_retention_days * 86400,
            )
            .limit(limit - removed)
        )
        pks: list[int] = list(connection.execute(expired).scalars())
        if pks:
            removed += connection.execute(events.delete().where(events.c.pk.in_(pks))).rowcount
        if removed >= limit:
            break
    return removed
