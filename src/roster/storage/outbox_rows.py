"""The outbox's rows (docs/api.md §4, §5): transactional messages roster recorded instead of
sending. Written inside the writer's transaction; read newest first by the keyset pk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from roster.storage.database import Database
from roster.storage.tables import outbox, people
from roster.storage.writer import Transaction


@dataclass(frozen=True)
class OutboxEntry:
    """One recorded message, with the person it was for as they are now (the person's row when
    it is still there, else only the cio_id it was queued for)."""

    pk: int
    delivery_id: str
    kind: str
    queued_at: float
    cio_id: str | None
    id: str | None
    email: str | None
    message: dict[str, Any]


def add_delivery(
    tx: Transaction,
    workspace_id: int,
    delivery_id: str,
    kind: str,
    person_pk: int,
    cio_id: str,
    message: dict[str, Any],
) -> None:
    tx.connection.execute(
        outbox.insert().values(
            workspace_id=workspace_id,
            delivery_id=delivery_id,
            kind=kind,
            person_pk=person_pk,
            cio_id=cio_id,
            message=message,
            queued_at=tx.now,
        )
    )


class OutboxRows:
    def __init__(self, database: Database) -> None:
        self._engine = database.reader

    def page(self, workspace_id: int, before_pk: int | None, limit: int) -> list[OutboxEntry]:
        """Newest first; `before_pk` is the pk of the last entry already given."""
        query = (
            sa.select(
                outbox.c.pk,
                outbox.c.delivery_id,
                outbox.c.kind,
                outbox.c.queued_at,
                sa.func.coalesce(people.c.cio_id, outbox.c.cio_id).label("cio_id"),
                people.c.id,
                people.c.email,
                outbox.c.message,
            )
            .select_from(
                outbox.outerjoin(
                    people,
                    sa.and_(
                        people.c.workspace_id == outbox.c.workspace_id,
                        people.c.pk == outbox.c.person_pk,
                    ),
                )
            )
            .where(outbox.c.workspace_id == workspace_id)
        )
        if before_pk is not None:
            query = query.where(outbox.c.pk < before_pk)
        query = query.order_by(outbox.c.pk.desc()).limit(limit)
        with self._engine.connect() as connection:
            return [
                OutboxEntry(
                    row.pk,
                    row.delivery_id,
                    row.kind,
                    row.queued_at,
                    row.cio_id,
                    row.id,
                    row.email,
                    row.message,
                )
                for row in connection.execute(query)
            ]
