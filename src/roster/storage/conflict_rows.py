"""The `conflicts` table: identifier conflicts and refused identifier changes, counted.

What a row means (the duplicate finder reads these rows too, so this is a contract): a call
through `door` asked to give the person `person_pk` the identifier `kind`/`value` (value as
normalised for matching: emails case-folded) and did not get it, because `holder_pk` held it
(docs/identity.md I5.2, I7.3: a conflict) or because the rules refuse that change (I3.3, I5.3,
I5.4: `holder_pk` is then whoever held the value, or NULL). One row per (kind, value, door,
person): `count` is how many calls, `first_seen`/`last_seen` the first and the latest. A row with
a holder ties two people together: usually an id-only person and an email-only person that are
one. `resolved_at` is set when the conflict is resolved (docs/api.md §5); the same refusal seen
again reopens it. Rows are written in the transaction of the call they count, by the writer.
Rows outlive the people they name (a merge keeps row numbers, an unmerge brings them back); the
list shows each side as the identifier's current holder and the person as they are now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from roster.domain.context import Refusal
from roster.storage.database import Database
from roster.storage.tables import activities, conflicts, events, identifiers, people


@dataclass(frozen=True)
class Side:
    """A person a conflict names, as they are now."""

    pk: int
    cio_id: str
    id: str | None
    email: str | None


@dataclass(frozen=True)
class Row:
    pk: int
    kind: str
    value: str
    door: str
    reason: str
    count: int
    first_seen: float
    last_seen: float
    resolved_at: float | None
    person: Side | None  # the person the calls were about; None once deleted or merged away
    holder: Side | None  # who holds the identifier now; None when no one does


def record(
    connection: sa.Connection,
    workspace_id: int,
    door: str,
    refusals: Sequence[Refusal],
    now: float,
) -> None:
    """Count each refusal: a new row, or one more on its row (which reopens it if resolved)."""
    insert: Any = (postgresql if connection.dialect.name == "postgresql" else sqlite).insert
    for refusal in refusals:
        statement = insert(conflicts).values(
            workspace_id=workspace_id,
            kind=refusal.kind,
            value=refusal.value,
            door=door,
            person_pk=refusal.person_pk,
            holder_pk=refusal.holder_pk,
            reason=refusal.reason,
            count=1,
            first_seen=now,
            last_seen=now,
        )
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["workspace_id", "kind", "value", "door", "person_pk"],
                set_={
                    "count": conflicts.c.count + 1,
                    "last_seen": statement.excluded.last_seen,
                    "holder_pk": statement.excluded.holder_pk,
                    "reason": statement.excluded.reason,
                    "resolved_at": None,
                },
            )
        )


def mark_resolved(connection: sa.Connection, workspace_id: int, pk: int, now: float) -> bool:
    """Mark an unresolved conflict resolved; False when it was not unresolved (any more)."""
    done = connection.execute(
        conflicts.update()
        .where(
            conflicts.c.workspace_id == workspace_id,
            conflicts.c.pk == pk,
            conflicts.c.resolved_at.is_(None),
        )
        .values(resolved_at=now)
    )
    return done.rowcount == 1


_person = people.alias("person")
_holder = people.alias("holder")
_held = identifiers.alias("held")

_QUERY = sa.select(
    conflicts,
    _person.c.cio_id.label("person_cio_id"),
    _person.c.id.label("person_id"),
    _person.c.email.label("person_email"),
    _holder.c.pk.label("holder_now"),
    _holder.c.cio_id.label("holder_cio_id"),
    _holder.c.id.label("holder_id"),
    _holder.c.email.label("holder_email"),
).select_from(
    conflicts.outerjoin(
        _person,
        sa.and_(
            _person.c.workspace_id == conflicts.c.workspace_id,
            _person.c.pk == conflicts.c.person_pk,
        ),
    )
    .outerjoin(
        _held,
        sa.and_(
            _held.c.workspace_id == conflicts.c.workspace_id,
            _held.c.kind == conflicts.c.kind,
            _held.c.value == conflicts.c.value,
        ),
    )
    .outerjoin(
        _holder,
        sa.and_(
            _holder.c.workspace_id == conflicts.c.workspace_id,
            _holder.c.pk == _held.c.person_pk,
        ),
    )
)


def _row(row: sa.Row[Any]) -> Row:
    person = (
        Side(row.person_pk, row.person_cio_id, row.person_id, row.person_email)
        if row.person_cio_id is not None
        else None
    )
    holder = (
        Side(row.holder_now, row.holder_cio_id, row.holder_id, row.holder_email)
        if row.holder_cio_id is not None
        else None
    )
    return Row(
        pk=row.pk,
        kind=row.kind,
        value=row.value,
        door=row.door,
        reason=row.reason,
        count=row._mapping["count"],  # `row.count` is the tuple method
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        resolved_at=row.resolved_at,
        person=person,
        holder=holder,
    )


class ConflictRows:
    """The conflicts list as roster's API reads it, on the readers' engine."""

    def __init__(self, database: Database) -> None:
        self._engine = database.reader

    def page(
        self,
        workspace_id: int,
        after: tuple[float, int] | None,
        limit: int,
        resolved: bool | None,
    ) -> list[Row]:
        """Latest seen first; `after` is the (last_seen, pk) of the last row already given.
        `resolved`: only unresolved rows (False), only resolved (True), or all (None)."""
        query = _QUERY.where(conflicts.c.workspace_id == workspace_id)
        if resolved is not None:
            done = conflicts.c.resolved_at
            query = query.where(done.is_not(None) if resolved else done.is_(None))
        if after is not None:
            at, pk = after
            query = query.where(
                sa.or_(
                    conflicts.c.last_seen < at,
                    sa.and_(conflicts.c.last_seen == at, conflicts.c.pk < pk),
                )
            )
        query = query.order_by(conflicts.c.last_seen.desc(), conflicts.c.pk.desc()).limit(limit)
        with self._engine.connect() as connection:
            return [_row(row) for row in connection.execute(query)]

    def one(self, workspace_id: int, pk: int) -> Row | None:
        query = _QUERY.where(conflicts.c.workspace_id == workspace_id, conflicts.c.pk == pk)
        with self._engine.connect() as connection:
            found = connection.execute(query).first()
        return _row(found) if found is not None else None

    def active_since(self, workspace_id: int, person_pk: int, since: float) -> bool:
        """Whether the person received an event or had an activity after `since` (events by
        when roster received them: a client may date an event in the past)."""
        newer_event = sa.select(events.c.pk).where(
            events.c.workspace_id == workspace_id,
            events.c.person_pk == person_pk,
            events.c.received_at > since,
        )
        newer_activity = sa.select(activities.c.pk).where(
            activities.c.workspace_id == workspace_id,
            activities.c.person_pk == person_pk,
            activities.c.timestamp > since,
        )
        with self._engine.connect() as connection:
            for query in (newer_event, newer_activity):
                if connection.execute(query.limit(1)).first() is not None:
                    return True
        return False
