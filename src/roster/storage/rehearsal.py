"""A rehearsal: a request's work run by the writer exactly as it would run, in its own
SAVEPOINT of the writer's transaction, and then rolled back instead of kept (`roster explain`,
docs/api.md §5).

The work sees a transaction whose stores and ingestion log note what they would write (the
activities, events and log rows, as the domain handed them over) before writing it; the
rehearsal then raises `Rehearsed`, the writer rolls the request's savepoint back as it does for
any failed request, and `RehearsingWriter.run` hands the work's own result back as if committed.

A call may take several writer requests, each reading what the one before wrote (the outbox
creates a person, then records the message for them). So each rehearsed request first runs the
rehearsal's earlier requests again, in its own savepoint, noting nothing of them a second time:
it sees what the call's earlier requests would have left, as the call's would.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from roster.domain.people import Activity, Event, Person
from roster.storage.sql_store import SqlStore
from roster.storage.statements import Cursor, statement
from roster.storage.writer import Transaction, Work, Writer


@dataclass(frozen=True)
class LogRow:
    """An ingestion-log row the call would add (api.md §5)."""

    door: str
    reason: str
    type: str | None
    message_id: str | None
    identifier_hash: str | None


@dataclass(frozen=True)
class SuppressionChange:
    """An entry of the suppression list the call would add or free (hashes only, I9.2)."""

    change: str  # "added" or "removed"
    hash: str
    group: str


@dataclass
class Rows:
    """What a rehearsed request would have written, in the order it would have."""

    activities: list[Activity] = field(default_factory=list)
    events: list[tuple[Event, str | None]] = field(default_factory=list)  # with the cio_id
    log: list[LogRow] = field(default_factory=list)
    suppressions: list[SuppressionChange] = field(default_factory=list)
    # The cio_ids of the people the call created, kept even when the call failed: its answer
    # may name one (a 409's wanted_by) that no one will ever have.
    created: set[str] = field(default_factory=set)

    def size(self) -> tuple[int, int, int, int]:
        return len(self.activities), len(self.events), len(self.log), len(self.suppressions)

    def cut(self, size: tuple[int, int, int, int]) -> None:
        """Forget what was noted since `size`: a savepoint inside the request rolled it back."""
        del self.activities[size[0] :]
        del self.events[size[1] :]
        del self.log[size[2] :]
        del self.suppressions[size[3] :]


class _Quiet(Rows):
    """What an earlier request of the rehearsal, run again, notes: only the people it creates
    (a later request may name one), never its rows a second time."""

    def __init__(self, rows: Rows) -> None:
        super().__init__(created=rows.created)


class Rehearsed(Exception):  # not an error: how a rehearsal leaves its savepoint
    def __init__(self, value: Any) -> None:
        super().__init__("rehearsed: rolled back")
        self.value = value


_GROUP_OF = statement(
    "SELECT hash, group_hash FROM suppressions WHERE workspace_id = :ws AND group_hash = "
    "(SELECT group_hash FROM suppressions WHERE workspace_id = :ws AND hash = :hash) "
    "ORDER BY hash"
)


class _NotingStore(SqlStore):
    def __init__(self, cursor: Cursor, workspace_id: int, now: float, rows: Rows) -> None:
        super().__init__(cursor, workspace_id, now)
        self._rows = rows

    def add_person(self, person: Person) -> Person:
        self._rows.created.add(person.cio_id)
        return super().add_person(person)

    def add_activity(self, activity: Activity) -> None:
        self._rows.activities.append(activity)
        super().add_activity(activity)

    def add_event(self, event: Event) -> bool:
        stored = super().add_event(event)
        if stored:  # a repeated event id is not stored (I8.2)
            # The person is the one the call just found (read through the same cache).
            person = self.person_by_pk(event.person_pk) if event.person_pk is not None else None
            self._rows.events.append((event, person.cio_id if person is not None else None))
        return stored

    def add_suppressions(self, hashes: list[str]) -> None:
        self._rows.suppressions.extend(
            SuppressionChange("added", hash_, hashes[0]) for hash_ in dict.fromkeys(hashes)
        )
        super().add_suppressions(hashes)

    def remove_suppression_group(self, hash_: str) -> int:
        for entry, group in self.sql.all(_GROUP_OF, {"ws": self.ws, "hash": hash_}):
            self._rows.suppressions.append(SuppressionChange("removed", entry, group))
        return super().remove_suppression_group(hash_)


class _NotingTransaction(Transaction):
    """The writer's transaction as the rehearsed work sees it: the same connection, cursor,
    time and caches, with stores and a log that note what they write."""

    def __init__(self, tx: Transaction, rows: Rows) -> None:
        self.__dict__.update(tx.__dict__)  # shares the cursor, the caches and the batch's time
        self._rows = rows
        self._noting: set[int] = set()

    def store(self, workspace_id: int, door: str | None = None) -> SqlStore:
        if workspace_id not in self._noting or workspace_id not in self._stores:
            # A store of its own: one an earlier request of the batch made notes nothing.
            self._stores[workspace_id] = _NotingStore(
                self.cursor, workspace_id, self.now, self._rows
            )
            self._noting.add(workspace_id)
        return super().store(workspace_id, door)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        size = self._rows.size()
        try:
            with super().savepoint():
                yield
        except BaseException:
            self._rows.cut(size)
            raise

    def log(
        self,
        workspace_id: int,
        door: str,
        reason: str,
        type_: str | None = None,
        message_id: str | None = None,
        identifier_hash: str | None = None,
    ) -> None:
        self._rows.log.append(LogRow(door, reason, type_, message_id, identifier_hash))
        super().log(workspace_id, door, reason, type_, message_id, identifier_hash)


_EVENT_COUNT = statement("SELECT COUNT(*) FROM events WHERE workspace_id = :ws AND person_pk = :pk")


@dataclass(frozen=True)
class PersonSnapshot:
    """A person as a rehearsed request leaves them: what a merge preview shows of each side and
    of the result (services/merge_preview.py)."""

    person: Person
    devices: tuple[str, ...]  # tokens
    anonymous_ids: tuple[str, ...]
    relationships: tuple[tuple[str, str], ...]  # (object type id, object id)
    events: int


def read_snapshot(tx: Transaction, workspace_id: int, cio_id: str) -> PersonSnapshot | None:
    """The person with `cio_id` as the transaction sees them, inside a rehearsal before it is
    rolled back (a reader would see only what was committed); None when there is no such
    person. Devices, anonymous ids and relationships are sorted, events counted."""
    store = tx.store(workspace_id)
    person = store.person_by_cio_id(cio_id)
    if person is None or person.pk is None:
        return None
    row = store.sql.one(_EVENT_COUNT, {"ws": workspace_id, "pk": person.pk})
    return PersonSnapshot(
        person=copy.deepcopy(person),  # the store's own object changes with the request
        devices=tuple(sorted(d.token for d in store.devices_of(person.pk))),
        anonymous_ids=tuple(sorted(store.anonymous_ids_of(person.pk))),
        relationships=tuple(
            sorted((r.object_type_id, r.object_id) for r in store.relationships_of(person.pk))
        ),
        events=int(row[0]) if row is not None else 0,
    )


@dataclass(frozen=True)
class _Request:
    work: Work
    lock_keys: tuple[int, ...]


def rehearse(work: Work, rows: Rows, earlier: tuple[_Request, ...] = ()) -> Work:
    """`work`, after the `earlier` requests again (noting only whom they create), noting its
    rows into `rows`, and always rolled back (raises Rehearsed)."""

    def rehearsed(tx: Transaction) -> Any:
        for request in earlier:
            _run(request.work, tx, _Quiet(rows))
        raise Rehearsed(_run(work, tx, rows))

    return rehearsed


def _run(work: Work, tx: Transaction, rows: Rows) -> Any:
    noting = _NotingTransaction(tx, rows)
    try:
        return work(noting)
    finally:
        tx._savepoints = noting._savepoints  # its savepoint names stay unique


class RehearsingWriter:
    """What Ingestion and the services need of a writer (`takes_locks`, `run`, `run_sync`),
    rehearsing every request on the real writer: same queue, same locks, same transaction,
    nothing kept. The requests that succeeded are run again before each later one."""

    def __init__(self, writer: Writer, rows: Rows) -> None:
        self._writer = writer
        self.rows = rows
        self._done: list[_Request] = []

    @property
    def takes_locks(self) -> bool:
        return self._writer.takes_locks

    def _request(self, work: Work, lock_keys: tuple[int, ...]) -> tuple[Work, tuple[int, ...]]:
        earlier = tuple(self._done)
        keys = tuple(
            dict.fromkeys(k for r in (*earlier, _Request(work, lock_keys)) for k in r.lock_keys)
        )
        return rehearse(work, self.rows, earlier), keys

    async def run(self, work: Work, lock_keys: tuple[int, ...] = (), weight: int = 1) -> Any:
        rehearsed, keys = self._request(work, lock_keys)
        try:
            await self._writer.run(rehearsed, keys, weight)
        except Rehearsed as done:
            self._done.append(_Request(work, lock_keys))
            return done.value
        raise AssertionError("a rehearsal always ends rolled back")

    def run_sync(self, work: Work, lock_keys: tuple[int, ...] = ()) -> Any:
        rehearsed, keys = self._request(work, lock_keys)
        try:
            self._writer.run_sync(rehearsed, keys)
        except Rehearsed as done:
            self._done.append(_Request(work, lock_keys))
            return done.value
        raise AssertionError("a rehearsal always ends rolled back")
