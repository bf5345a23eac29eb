"""The writer: one thread that applies requests in arrival order inside one transaction (group
commit), each request inside its own SAVEPOINT, and answers each only after the commit."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from roster.domain.workspace import WorkspaceRules
from roster.storage.database import Database
from roster.storage.sql_store import SqlStore
from roster.storage.statements import Cursor
from roster.storage.tables import ingestion_log
from roster.storage.vault import Vault
from roster.storage.workspaces import load_rules

log = logging.getLogger("roster.writer")

# PostgreSQL error codes after which a request is simply tried again in a transaction of its own.
_TRANSIENT = {"40P01", "40001", "55P03"}  # deadlock, serialization failure, lock not available
_RETRIES = 5
CHECKPOINT_SECONDS = 1.0
POSTGRES_GROUP_OPERATIONS = 100


def lock_key(workspace_id: int, kind: str, value: str) -> int:
    """A signed 64-bit advisory-lock key for one identifier of one workspace."""
    digest = hashlib.blake2b(f"{workspace_id}\x1f{kind}\x1f{value}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


class Transaction:
    """What a request's work sees: its connection, and the batch's shared look-ups."""

    def __init__(self, connection: sa.Connection, vault: Vault) -> None:
        self.connection = connection
        self.cursor = Cursor(
            connection.connection.dbapi_connection, connection.dialect.name == "postgresql"
        )
        self.now = time.time()
        self._vault = vault
        self._rules: dict[int, WorkspaceRules] = {}
        self._stores: dict[int, SqlStore] = {}
        self._savepoints = 0

    def rules(self, workspace_id: int) -> WorkspaceRules:
        if workspace_id not in self._rules:
            self._rules[workspace_id] = load_rules(self.connection, workspace_id, self._vault)
        return self._rules[workspace_id]

    def store(self, workspace_id: int) -> SqlStore:
        if workspace_id not in self._stores:
            self._stores[workspace_id] = SqlStore(self.cursor, workspace_id, self.now)
        return self._stores[workspace_id]

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Run a part of the request that may fail on its own (a request, one message of a
        batch). Sent on the driver's cursor: the writer opens one per message, and SQLAlchemy's
        own nested transactions cost more than the writes they guard."""
        self._savepoints += 1
        name = f"sp{self._savepoints}"
        self.cursor.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.cursor.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self.cursor.execute(f"RELEASE SAVEPOINT {name}")
            self._stores.clear()  # cached "no suppressions" and held-back rows are void now
            raise
        self.cursor.execute(f"RELEASE SAVEPOINT {name}")

    def log(
        self,
        workspace_id: int,
        door: str,
        reason: str,
        type_: str | None = None,
        message_id: str | None = None,
        identifier_hash: str | None = None,
    ) -> None:
        self.connection.execute(
            ingestion_log.insert().values(
                workspace_id=workspace_id,
                received_at=self.now,
                door=door,
                type=type_[:32] if type_ is not None else None,  # as sent, cut to the column
                message_id=message_id,
                reason=reason,
                identifier_hash=identifier_hash,
            )
        )


Work = Callable[[Transaction], Any]


@dataclass(eq=False)  # a job is itself, not its contents
class _Job:
    work: Work
    lock_keys: tuple[int, ...]
    weight: int = 1
    future: Future[Any] = field(default_factory=Future)
    attempts: int = 0


_STOP = object()


class Writer:
    def __init__(self, database: Database, vault: Vault, max_batch: int = 512) -> None:
        self._database = database
        self._vault = vault
        self._max_batch = max_batch
        # PostgreSQL: a transaction holds the advisory locks of everything it names until it
        # commits, so other server processes wait for all of it. Grouping stops at about one
        # Segment batch's worth of operations, which still groups many single Track calls.
        self._max_weight = POSTGRES_GROUP_OPERATIONS if not database.is_sqlite else 10**9
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._postgres = not database.is_sqlite
        self._checkpointer: threading.Thread | None = None
        self._checkpoints = threading.Event()
        self.batches = 0  # for /metrics
        self.requests = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="roster-writer", daemon=True)
            self._thread.start()
            if not self._postgres:
                self._checkpoints.clear()
                self._checkpointer = threading.Thread(
                    target=self._checkpoint, name="roster-checkpointer", daemon=True
                )
                self._checkpointer.start()

    def stop(self) -> None:
        """Finish every queued request, then stop."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None
        if self._checkpointer is not None:
            self._checkpoints.set()
            self._checkpointer.join()
            self._checkpointer = None

    def _checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the database file beside the writer, not in
        its commits. The writer's own automatic checkpoints are off; a commit that had to do
        one took several times as long as one that did not."""
        dbapi = self._database.reader.raw_connection()
        try:
            while not self._checkpoints.wait(CHECKPOINT_SECONDS):
                try:
                    dbapi.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
                except Exception:  # a busy database: the next round will do it
                    log.warning("a WAL checkpoint failed; retrying later", exc_info=True)
            dbapi.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            dbapi.close()

    @property
    def takes_locks(self) -> bool:
        """Whether requests must name their identifiers' lock keys (several writers)."""
        return self._postgres

    def submit(self, work: Work, lock_keys: tuple[int, ...] = (), weight: int = 1) -> Future[Any]:
        """Queue a request's work; `weight` is how many operations it holds."""
        if self._thread is None:
            raise RuntimeError("the writer is not running")
        job = _Job(work, lock_keys, weight)
        self._queue.put(job)
        return job.future

    async def run(self, work: Work, lock_keys: tuple[int, ...] = (), weight: int = 1) -> Any:
        return await asyncio.wrap_future(self.submit(work, lock_keys, weight))

    def run_sync(self, work: Work, lock_keys: tuple[int, ...] = ()) -> Any:
        return self.submit(work, lock_keys).result()

    # -- the writer thread ------------------------------------------------------------------------

    def _connect(self) -> sa.Connection:
        connection = self._database.writer.connect()
        if not self._postgres:  # the checkpointer thread does it (see _checkpoint)
            dbapi = connection.connection.dbapi_connection
            assert dbapi is not None
            dbapi.cursor().execute("PRAGMA wal_autocheckpoint=0")
        return connection

    def _run(self) -> None:
        connection = self._connect()
        try:
            stopping = False
            while not stopping:
                first = self._queue.get()
                if first is _STOP:
                    break
                jobs = [first]
                weight = first.weight
                while len(jobs) < self._max_batch and weight < self._max_weight:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        stopping = True
                        break
                    jobs.append(more)
                    weight += more.weight
                connection = self._apply(connection, jobs)
        finally:
            connection.close()

    def _apply(self, connection: sa.Connection, jobs: list[_Job]) -> sa.Connection:
        results: list[tuple[_Job, Any, BaseException | None]] = []
        retry: list[_Job] = []
        try:
            with connection.begin():
                unit = Transaction(connection, self._vault)
                if self._postgres:
                    self._lock(connection, jobs)
                try:
                    for job in jobs:
                        try:
                            with unit.savepoint():
                                value = job.work(unit)
                        except Exception as error:  # this request only
                            if self._transient(error) and job.attempts < _RETRIES:
                                retry.append(job)
                            else:
                                results.append((job, None, error))
                        else:
                            results.append((job, value, None))
                finally:
                    unit.cursor.close()
        except Exception as error:  # the commit itself failed: nothing of the batch is kept
            log.exception("a write transaction failed")
            connection.close()
            connection = self._connect()
            # Each request is tried again alone, so that the one at fault fails by itself.
            results = []
            retry = [job for job in jobs if len(jobs) > 1 and job.attempts < _RETRIES]
            for job in jobs:
                if job not in retry:
                    job.future.set_exception(error)
        self.batches += 1
        self.requests += len(results)
        for job, value, failure in results:
            if failure is None:
                job.future.set_result(value)
            else:
                job.future.set_exception(failure)
        for job in retry:  # alone, so that one busy identifier cannot hold up a whole batch
            job.attempts += 1
            connection = self._apply(connection, [job])
        return connection

    @staticmethod
    def _transient(error: Exception) -> bool:
        """A deadlock or serialization failure, raised by the driver or wrapped by SQLAlchemy."""
        cause = error.orig if isinstance(error, sa.exc.DBAPIError) else error
        return getattr(cause, "sqlstate", None) in _TRANSIENT

    @staticmethod
    def _lock(connection: sa.Connection, jobs: list[_Job]) -> None:
        """Advisory locks on every identifier the batch touches, in one fixed (sorted) order,
        so that two processes' batches cannot deadlock on them."""
        keys = sorted({key for job in jobs for key in job.lock_keys})
        if keys:
            connection.execute(
                sa.text(
                    "select count(pg_advisory_xact_lock(k)) from "
                    "(select unnest(cast(:keys as bigint[])) as k order by 1) as ordered"
                ),
                {"keys": keys},
            )
