"""CSV exports of people as storage sees them (docs/api.md §4): the export records, and the
people an export reads, streamed from the database.

The people are read in row-number order from one cursor (SQLite's, which steps through the
table as it is read, or PostgreSQL's server-side one) and handed on as raw rows (cio_id, id,
email, created_in_roster_at, attributes as JSON text): the caller decodes each row once and never
holds more than a batch. The attribute names of an export are gathered by the database (SQLite's
json_each, PostgreSQL's jsonb_object_keys) over the two halves of the workspace's row numbers at
once, not by loading people."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from roster.domain.filters import Filter
from roster.storage.database import Database
from roster.storage.people_filter import condition
from roster.storage.tables import exports, people

# A raw person row: cio_id, id, email, created_in_roster_at, attributes (JSON text).
PersonRow = tuple[str, str | None, str | None, int, str]

# Largest value a row number column holds: an id past it names no export.
MAX_ROW_NUMBER = 2**63 - 1


@dataclass(frozen=True)
class ExportRecord:
    id: int
    workspace_id: int
    status: str
    filter: Any
    attributes: list[str] | None
    total: int | None
    created_at: float


def _where(workspace_id: int, chosen: Filter | None, scan: bool = False) -> sa.ColumnElement[bool]:
    """The people of a workspace that the filter (roster.storage.people_filter) chooses.

    With `scan`, for reads of all of them in row-number order on SQLite: it has no index on
    (workspace_id, pk), and through the workspace's email index it would look up every row and
    sort them all before the first came out. `workspace_id + 0` keeps the index out, so it scans
    the table in row-number order and streams from the first row."""
    workspace = people.c.workspace_id + 0 if scan else people.c.workspace_id
    if chosen is None:
        return workspace == workspace_id
    return sa.and_(workspace == workspace_id, condition(chosen))


def insert_export(
    connection: sa.Connection,
    workspace_id: int,
    filter_json: Any,
    attributes: list[str] | None,
    total: int,
    now: float,
) -> int:
    """Record an export that is complete as it is made (docs/decisions.md, *Exports are done
    when made*): its row number is the export's id."""
    inserted = connection.execute(
        exports.insert()
        .values(
            workspace_id=workspace_id,
            status="done",
            filter=filter_json,
            attributes=attributes,
            total=total,
            created_at=now,
            finished_at=now,
        )
        .returning(exports.c.pk)
    )
    pk: int = inserted.scalar_one()
    return pk


class ExportReads:
    def __init__(self, database: Database) -> None:
        self._engine = database.reader
        self._sqlite = database.is_sqlite

    def record(self, workspace_id: int, export_id: int) -> ExportRecord | None:
        """The workspace's export with that id; another workspace's is none of its own."""
        if not 0 < export_id <= MAX_ROW_NUMBER:
            return None
        query = sa.select(
            exports.c.pk,
            exports.c.status,
            exports.c.filter,
            exports.c.attributes,
            exports.c.total,
            exports.c.created_at,
        ).where(exports.c.workspace_id == workspace_id, exports.c.pk == export_id)
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        return ExportRecord(
            row.pk,
            workspace_id,
            row.status,
            row.filter,
            row.attributes,
            row.total,
            row.created_at,
        )

    def count(self, workspace_id: int, chosen: Filter | None) -> int:
        where = _where(workspace_id, chosen)
        query = sa.select(sa.func.count()).select_from(people).where(where)
        with self._engine.connect() as connection:
            counted: int = connection.execute(query).scalar_one()
        return counted

    def attribute_names(self, workspace_id: int, chosen: Filter | None) -> list[str]:
        """Every attribute name the people hold, sorted, without loading a person. The rows are
        split in two halves by row number, each read by its own connection in its own thread:
        the database does the work (SQLite's json_each outside the GIL), on two cores."""
        # The workspace's first and last row numbers, each found by walking the row numbers
        # from its end (an index on the workspace's row numbers there is not, see _where).
        mine = sa.select(people.c.pk).where(_where(workspace_id, None, scan=self._sqlite))
        with self._engine.connect() as connection:
            low = connection.execute(mine.order_by(people.c.pk).limit(1)).scalar()
            high = connection.execute(mine.order_by(people.c.pk.desc()).limit(1)).scalar()
        if low is None or high is None:
            return []
        middle = (int(low) + int(high)) // 2
        halves = [people.c.pk <= middle, people.c.pk > middle]
        with ThreadPoolExecutor(max_workers=len(halves)) as pool:
            found = pool.map(lambda half: self._names(workspace_id, chosen, half), halves)
            names: set[str] = set().union(*found)
        return sorted(names)

    def _names(
        self, workspace_id: int, chosen: Filter | None, part: sa.ColumnElement[bool]
    ) -> set[str]:
        query: sa.Select[Any]
        if self._sqlite:
            keys = sa.func.json_each(people.c.attributes).table_valued("key")
            query = (
                sa.select(keys.c.key)
                .select_from(people)
                .join(keys, sa.true())
                .where(_where(workspace_id, chosen, scan=True), part)
                .distinct()
            )
        else:
            key = sa.func.jsonb_object_keys(people.c.attributes, type_=sa.Text)
            query = sa.select(key).where(_where(workspace_id, chosen), part).distinct()
        with self._engine.connect() as connection:
            return {str(name) for (name,) in connection.execute(query)}

    def people(
        self, workspace_id: int, chosen: Filter | None, batch: int
    ) -> Generator[Sequence[PersonRow], None, None]:
        """The people in row-number order, `batch` raw rows at a time, from a server-side
        cursor: memory holds one batch, however many people there are."""
        query = (
            sa.select(
                people.c.cio_id,
                people.c.id,
                people.c.email,
                people.c.created_in_roster_at,
                # The JSON as text: decoded once by the caller (orjson), not by the driver.
                sa.type_coerce(people.c.attributes, sa.Text)
                if self._sqlite
                else sa.cast(people.c.attributes, sa.Text),
            )
            .where(_where(workspace_id, chosen, scan=self._sqlite))
            .order_by(people.c.pk)
        )
        with self._engine.connect() as connection:
            if self._sqlite:
                # SQLite's cursor steps through the table as it is read: its rows are plain
                # tuples, handed on as they come with no object made per person. (Asking
                # SQLAlchemy to stream would have it read a row ahead of the cursor.)
                cursor = connection.execute(query).cursor
                while rows := cursor.fetchmany(batch):
                    yield rows
                return
            # PostgreSQL's rows come through a server-side cursor, a batch at a time.
            streamed = connection.execution_options(stream_results=True, yield_per=batch)
            yield from streamed.execute(query).partitions()
