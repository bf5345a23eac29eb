"""Deleting what has outlived its retention."""

from __future__ import annotations

import sqlalchemy as sa

from roster.storage.tables import events, workspaces


def purge_anonymous_events(connection: sa.Connection, now: float) -> int:
    removed = 0
    for row in connection.execute(
        sa.select(workspaces.c.workspace_id, workspaces.c.anonymous_retention_days)
    ):
        removed += connection.execute(
            events.delete().where(
                events.c.workspace_id == row.workspace_id,
                events.c.person_pk.is_(None),
                events.c.anonymous_id.is_not(None),
                events.c.received_at < now - row.anonymous_retention_days * 86400,
            )
        ).rowcount
    return removed
