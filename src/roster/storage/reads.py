"""The read side: look-ups for the App API, the UI and the tests, on the readers' engine
(SQLite WAL lets them run beside the writer)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from roster.domain.filters import Filter, everyone
from roster.domain.people import Activity, Device, Event, Person
from roster.storage.database import Database
from roster.storage.people_filter import PERSON_COLUMNS as _PERSON_COLUMNS
from roster.storage.people_filter import (
    STREAM_BATCH,
    page_query,
    person_from_row,
    stream_people,
)
from roster.storage.tables import (
    activities,
    anonymous_relationships,
    devices,
    events,
    identifiers,
    ingestion_log,
    objects,
    people,
    relationships,
    suppressions,
)

# Where a page of an object's related people and anonymous ids ended (Reader.object_view).
RelatedAfter = tuple[str, int | str]


class Reader:
    def __init__(self, database: Database) -> None:
        self._engine = database.reader

    def _all(self, query: sa.Executable, params: dict[str, Any] | None = None) -> list[Any]:
        with self._engine.connect() as connection:
            return list(connection.execute(query, params or {}))

    # -- people -----------------------------------------------------------------------------------

    def person(self, workspace_id: int, kind: str, value: str) -> Person | None:
        """A live person by cio_id or by identifier row (value already normalised)."""
        if kind == "cio_id":
            query = sa.select(*_PERSON_COLUMNS).where(
                people.c.workspace_id == workspace_id, people.c.cio_id == value
            )
        else:
            query = (
                sa.select(*_PERSON_COLUMNS)
                .select_from(identifiers.join(people, people.c.pk == identifiers.c.person_pk))
                .where(
                    identifiers.c.workspace_id == workspace_id,
                    identifiers.c.kind == kind,
                    identifiers.c.value == value,
                )
            )
        rows = self._all(query)
        return person_from_row(rows[0]) if rows else None

    def people_with_email(self, workspace_id: int, folded_email: str) -> list[Person]:
        rows = self._all(
            sa.select(*_PERSON_COLUMNS)
            .where(people.c.workspace_id == workspace_id, people.c.email_folded == folded_email)
            .order_by(people.c.pk)
        )
        return [person_from_row(row) for row in rows]

    def people(self, workspace_id: int, f: Filter | None = None) -> Iterator[Person]:
        """Every person of the workspace (matching `f`) by row number, streamed."""
        return stream_people(self._engine, workspace_id, f or everyone())

    def page_people(
        self, workspace_id: int, f: Filter, after: int | None, limit: int
    ) -> list[Person]:
        """Up to `limit` people matching `f` after the row number `after` (a keyset page)."""
        rows = self._all(page_query(workspace_id, f, after, limit))
        return [person_from_row(row) for row in rows]

    def devices(self, workspace_id: int, person_pk: int) -> list[Device]:
        rows = self._all(
            sa.select(devices)
            .where(devices.c.workspace_id == workspace_id, devices.c.person_pk == person_pk)
            .order_by(devices.c.token)
        )
        return [
            Device(
                token=row.token,
                person_pk=row.person_pk,
                platform=row.platform,
                last_used=row.last_used,
                attributes=dict(row.attributes),
            )
            for row in rows
        ]

    def anonymous_ids(self, workspace_id: int, person_pk: int) -> list[str]:
        rows = self._all(
            sa.select(identifiers.c.value)
            .where(
                identifiers.c.workspace_id == workspace_id,
                identifiers.c.person_pk == person_pk,
                identifiers.c.kind == "anonymous_id",
            )
            .order_by(identifiers.c.value)
        )
        return [row.value for row in rows]

    def relationships(self, workspace_id: int, person_pk: int) -> list[dict[str, Any]]:
        rows = self._all(
            sa.select(relationships).where(
                relationships.c.workspace_id == workspace_id,
                relationships.c.person_pk == person_pk,
            )
        )
        return [
            {
                "object_type_id": row.object_type_id,
                "object_id": row.object_id,
                "attributes": dict(row.attributes),
            }
            for row in rows
        ]

    # -- events and activities --------------------------------------------------------------------

    def events(self, workspace_id: int, person_pk: int | None) -> Iterator[Event]:
        """A person's events (or the anonymous ones with None) oldest first, streamed: a person
        may have millions."""
        owner = (
            events.c.person_pk.is_(None) if person_pk is None else events.c.person_pk == person_pk
        )
        query = (
            sa.select(events)
            .where(events.c.workspace_id == workspace_id, owner)
            .order_by(events.c.timestamp, events.c.pk)
        )
        with self._engine.connect() as connection:
            for row in connection.execution_options(yield_per=STREAM_BATCH).execute(query):
                yield Event(
                    name=row.name,
                    type=row.type,
                    timestamp=row.timestamp,
                    data=dict(row.data),
                    event_id=row.event_id,
                    person_pk=row.person_pk,
                    anonymous_id=row.anonymous_id,
                    pk=row.pk,
                )

    def activities(
        self,
        workspace_id: int,
        person_pk: int | None,
        cio_id: str,
        type_: str | None = None,
        after: tuple[float, str, int] | None = None,
        limit: int = 50,
    ) -> list[tuple[str, Activity]]:
        """A person's activity log newest first: log entries ("a") and their events ("e"),
        each tagged with its source. With person_pk None, the entries left of a deleted
        person (by its cio_id). `after` is the (timestamp, source, pk) of the last entry
        of the previous page: keyset pages, so entries arriving meanwhile never shift one.
        Reads at most limit + 1 rows of each source; the caller sees limit + 1 entries
        at most, the extra one telling that another page follows."""
        if person_pk is None:
            owner = sa.and_(activities.c.cio_id == cio_id, activities.c.person_pk.is_(None))
        else:
            owner = activities.c.person_pk == person_pk
        logged = sa.select(activities).where(activities.c.workspace_id == workspace_id, owner)
        if type_ is not None:
            logged = logged.where(activities.c.type == type_)
        queries = [("a", activities, logged)]
        if person_pk is not None and type_ in (None, "event", "page", "screen"):
            happened = sa.select(events).where(
                events.c.workspace_id == workspace_id, events.c.person_pk == person_pk
            )
            if type_ is not None:
                happened = happened.where(events.c.type == type_)
            queries.append(("e", events, happened))
        found: list[tuple[str, Activity]] = []
        for source, table, query in queries:
            if after is not None:
                query = query.where(*_older(table, source, after))
            rows = self._all(
                query.order_by(table.c.timestamp.desc(), table.c.pk.desc()).limit(limit + 1)
            )
            found.extend(
                (
                    source,
                    Activity(
                        type=row.type,
                        timestamp=row.timestamp,
                        person_pk=person_pk,
                        cio_id=cio_id,
                        name=row.name,
                        data=row.data,
                        pk=row.pk,
                    ),
                )
                for row in rows
            )
        found.sort(key=lambda entry: _log_order(entry[0], entry[1]), reverse=True)
        return found[: limit + 1]

    # -- logs and lists ---------------------------------------------------------------------------

    def is_suppressed(self, workspace_id: int, hash_: str) -> bool:
        return bool(
            self._all(
                sa.select(suppressions.c.hash).where(
                    suppressions.c.workspace_id == workspace_id, suppressions.c.hash == hash_
                )
            )
        )

    def ingestion_log(
        self, workspace_id: int, after_pk: int | None, limit: int
    ) -> list[dict[str, Any]]:
        query = sa.select(ingestion_log).where(ingestion_log.c.workspace_id == workspace_id)
        if after_pk is not None:
            query = query.where(ingestion_log.c.pk < after_pk)
        rows = self._all(query.order_by(ingestion_log.c.pk.desc()).limit(limit))
        return [dict(row._mapping) for row in rows]

    def log_entries(
        self, workspace_id: int, person_pk: int | None, cio_id: str
    ) -> Iterator[Activity]:
        """The activity-log rows of a person (or what is left of a deleted one), oldest first,
        streamed."""
        owner = (
            activities.c.person_pk == person_pk
            if person_pk is not None
            else sa.and_(activities.c.person_pk.is_(None), activities.c.cio_id == cio_id)
        )
        query = (
            sa.select(activities)
            .where(activities.c.workspace_id == workspace_id, owner)
            .order_by(activities.c.pk)
        )
        with self._engine.connect() as connection:
            for row in connection.execution_options(yield_per=STREAM_BATCH).execute(query):
                yield Activity(
                    type=row.type,
                    timestamp=row.timestamp,
                    person_pk=row.person_pk,
                    cio_id=row.cio_id,
                    name=row.name,
                    data=row.data,
                    pk=row.pk,
                )

    def object_view(
        self,
        workspace_id: int,
        object_type_id: str,
        object_id: str,
        after: RelatedAfter | None = None,
        limit: int = 100,
    ) -> tuple[dict[str, Any], RelatedAfter | None] | None:
        """An object's attributes and one keyset page of whom it is related to: its people by
        row number, then the anonymous ids waiting for a person (I7.2) by value. `after` is
        where the previous page ended: ("p", a person's row number), ("a", an anonymous id), or
        ("A", a prefix: after every anonymous id that starts with it, for an id too long to be
        held whole in a cursor). Reads at most limit + 1 relationship rows, however many the
        object has; returns the page and, when another follows, the key of its last entry.
        None: no such object."""
        key = (
            objects.c.workspace_id == workspace_id,
            objects.c.object_type_id == object_type_id,
            objects.c.object_id == object_id,
        )
        found = self._all(sa.select(objects.c.attributes).where(*key))
        if not found:
            return None
        entries: list[tuple[RelatedAfter, dict[str, Any]]] = []
        if after is None or after[0] == "p":
            related = sa.select(
                relationships.c.person_pk,
                people.c.cio_id,
                people.c.id,
                people.c.email,
                relationships.c.attributes,
            ).select_from(relationships.join(people, people.c.pk == relationships.c.person_pk))
            related = related.where(
                relationships.c.workspace_id == workspace_id,
                relationships.c.object_type_id == object_type_id,
                relationships.c.object_id == object_id,
            )
            if after is not None:
                related = related.where(relationships.c.person_pk > after[1])
            rows = self._all(related.order_by(relationships.c.person_pk).limit(limit + 1))
            entries.extend(
                (
                    ("p", row.person_pk),
                    {
                        "cio_id": row.cio_id,
                        "id": row.id,
                        "email": row.email,
                        "relationship_attributes": dict(row.attributes),
                    },
                )
                for row in rows
            )
        if len(entries) <= limit:
            waiting = sa.select(
                anonymous_relationships.c.anonymous_id, anonymous_relationships.c.attributes
            ).where(
                anonymous_relationships.c.workspace_id == workspace_id,
                anonymous_relationships.c.object_type_id == object_type_id,
                anonymous_relationships.c.object_id == object_id,
            )
            anonymous_id = anonymous_relationships.c.anonymous_id
            if after is not None and after[0] == "a":
                waiting = waiting.where(anonymous_id > after[1])
            if after is not None and after[0] == "A":
                prefix = str(after[1])
                waiting = waiting.where(
                    anonymous_id > prefix, sa.func.substr(anonymous_id, 1, len(prefix)) != prefix
                )
            rows = self._all(waiting.order_by(anonymous_id).limit(limit + 1 - len(entries)))
            entries.extend(
                (
                    ("a", row.anonymous_id),
                    {
                        "anonymous_id": row.anonymous_id,
                        "relationship_attributes": dict(row.attributes),
                    },
                )
                for row in rows
            )
        page = entries[:limit]
        view = {
            "object_type_id": object_type_id,
            "object_id": object_id,
            "attributes": dict(found[0].attributes),
            "relationships": [entry for (part, _), entry in page if part == "p"],
            "anonymous_relationships": [entry for (part, _), entry in page if part == "a"],
        }
        return view, page[-1][0] if len(entries) > limit else None


def _log_order(source: str, activity: Activity) -> tuple[float, int, int]:
    """Where an entry sits in the merged log: by time, log entries before events of the same
    time, then by row key."""
    return (activity.timestamp, 1 if source == "a" else 0, activity.pk or 0)


def _older(
    table: sa.Table, source: str, after: tuple[float, str, int]
) -> list[sa.ColumnElement[bool]]:
    """The rows of `table` that come after the cursor entry in the merged log. Written as
    `timestamp <= t AND (timestamp < t OR pk < p)` rather than a row-value comparison so that
    both SQLite and PostgreSQL range-scan an index leading with (workspace, person, timestamp)."""
    timestamp, cursor_source, pk = after
    before = _log_order(cursor_source, Activity(type="", timestamp=timestamp, pk=pk))
    rank = 1 if source == "a" else 0
    if rank < before[1]:  # every entry of this source at the cursor's time comes after it
        return [table.c.timestamp <= timestamp]
    if rank > before[1]:  # every entry of this source at the cursor's time came before it
        return [table.c.timestamp < timestamp]
    return [
        table.c.timestamp <= timestamp,
        sa.or_(table.c.timestamp < timestamp, table.c.pk < pk),
    ]
