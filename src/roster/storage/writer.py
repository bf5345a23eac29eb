"""The writer: one thread that applies requests in arrival order inside one transaction (group
commit), each request inside its own SAVEPOINT, and answers each only after the commit.

When the database goes away (a lost connection, a full disk, a file it cannot write) the thread
lives on: it answers the requests it holds with Unavailable (nothing of them was committed),
refuses new ones at once, and reconnects with backoff until a probe commit succeeds."""

from __future__ import annotations

import asyncio
import contextlib
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

from roster.domain.errors import Unavailable
from roster.domain.workspace import WorkspaceRules
from roster.storage.database import RETRY_AFTER_SECONDS, Database, unavailable, unreachable
from roster.storage.sql_store import SqlStore
from roster.storage.statements import Cursor, EventIdRace
from roster.storage.tables import ingestion_log
from roster.storage.vault import Vault
from roster.storage.workspaces import load_rules

log = logging.getLogger("roster.writer")

# PostgreSQL error codes after which a request is simply tried again in a transaction of its own.
_TRANSIENT = {"40P01", "40001", "55P03"}  # deadlock, serialization failure, lock not available
_RETRIES = 5
CHECKPOINT_SECONDS = 1.0
POSTGRES_GROUP_OPERATIONS = 100
# How long a call waits in the queue before it is answered 503 instead (nothing of it written):
# under Customer.io's clients' 10-second timeout, and far above any wait the benchmarks see.
WRITE_TIMEOUT = 5.0
# Reconnection attempts while the database is away: 50 ms, doubling, at most one a second, so a
# client told to come back after Retry-After seconds finds the writer back with the database.
RECONNECT_FIRST = 0.05
RECONNECT_MOST = min(1.0, RETRY_AFTER_SECONDS)
# How long the writer asks PostgreSQL about a commit whose answer it lost (the old server
# process may still be finishing it).
OUTCOME_WAIT = 2.0


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

    def store(self, workspace_id: int, door: str | None = None) -> SqlStore:
        """The workspace's store for one request; `door` is where that request came in (what it
        suppresses records it), set on each call since requests of several doors share a store."""
        if workspace_id not in self._stores:
            self._stores[workspace_id] = SqlStore(self.cursor, workspace_id, self.now)
        store = self._stores[workspace_id]
        store.door = door
        return store

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


@dataclass(frozen=True)
class WriterStatus:
    """What /readyz and /metrics say about the writer."""

    alive: bool  # the thread runs
    writable: bool  # its last commit or probe succeeded
    queue_depth: int  # requests waiting (approximate)
    last_commit: float | None  # unix time of the last committed batch
    down_since: float | None  # unix time the database went away, while it is
    draining: bool = False  # the server is stopping: queued work finishes, new work is refused


_STOP = object()
_Results = list[tuple[_Job, Any, BaseException | None]]


class Writer:
    def __init__(
        self,
        database: Database,
        vault: Vault,
        max_batch: int = 512,
        timeout: float = WRITE_TIMEOUT,
    ) -> None:
        self._database = database
        self._vault = vault
        self._max_batch = max_batch
        self._timeout = timeout
        # PostgreSQL: a transaction holds the advisory locks of everything it names until it
        # commits, so other server processes wait for all of it. Grouping stops at about one
        # Segment batch's worth of operations, which still groups many single Track calls.
        self._max_weight = POSTGRES_GROUP_OPERATIONS if not database.is_sqlite else 10**9
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._postgres = not database.is_sqlite
        self._checkpointer: threading.Thread | None = None
        self._checkpoints = threading.Event()
        # Read by request threads, written by the writer thread only (plain assignments).
        self._writable = True
        self._draining = False
        self._down_since: float | None = None
        self.last_commit: float | None = None
        self.batches = 0  # for /metrics
        self.requests = 0
        self.on_commit: Callable[[int], None] | None = None  # told each group's size

    def start(self) -> None:
        if self._thread is None:
            self._writable = True
            self._thread = threading.Thread(target=self._run, name="roster-writer", daemon=True)
            self._thread.start()
            if not self._postgres:
                self._checkpoints.clear()
                self._checkpointer = threading.Thread(
                    target=self._checkpoint, name="roster-checkpointer", daemon=True
                )
                self._checkpointer.start()

    def stop(self) -> None:
        """Finish every queued request (or, with the database away, refuse it), then stop."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None
        if self._checkpointer is not None:
            self._checkpoints.set()
            self._checkpointer.join()
            self._checkpointer = None

    def drain(self) -> None:
        """The server is stopping (docs/operations.md): what is queued finishes, what comes
        after is refused as Unavailable, so that its client sends it to another server or
        again later."""
        self._draining = True

    def status(self) -> WriterStatus:
        thread = self._thread
        return WriterStatus(
            alive=thread is not None and thread.is_alive(),
            writable=self._writable,
            queue_depth=self._queue.qsize(),
            last_commit=self.last_commit,
            down_since=self._down_since,
            draining=self._draining,
        )

    def _checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the database file beside the writer, not in
        its commits. The writer's own automatic checkpoints are off; a commit that had to do
        one took several times as long as one that did not."""
        dbapi: Any = None
        failing = False
        try:
            while not self._checkpoints.wait(CHECKPOINT_SECONDS):
                try:
                    if dbapi is None:
                        dbapi = self._database.reader.raw_connection()
                    dbapi.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
                    failing = False
                except Exception:  # a busy database or a full disk: the next round will do it
                    if not failing:  # once, not every second of an outage
                        log.warning("a WAL checkpoint failed; retrying", exc_info=True)
                    failing = True
            if dbapi is None:
                dbapi = self._database.reader.raw_connection()
            dbapi.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception:  # SQLite replays the log when the database is next opened
            log.warning("the last WAL checkpoint failed", exc_info=True)
        finally:
            if dbapi is not None:
                dbapi.close()

    @property
    def takes_locks(self) -> bool:
        """Whether requests must name their identifiers' lock keys (several writers)."""
        return self._postgres

    def submit(self, work: Work, lock_keys: tuple[int, ...] = (), weight: int = 1) -> Future[Any]:
        """Queue a request's work; `weight` is how many operations it holds. With the database
        away the future fails at once with Unavailable."""
        if self._thread is None:
            raise RuntimeError("the writer is not running")
        if self._draining:
            raise unavailable("roster is stopping")
        job = _Job(work, lock_keys, weight)
        if self._writable:
            self._queue.put(job)
        else:
            self._refuse(job)
        return job.future

    async def run(self, work: Work, lock_keys: tuple[int, ...] = (), weight: int = 1) -> Any:
        """The work's result once committed. A request still queued after the write timeout is
        withdrawn and answered Unavailable; one the writer has begun is waited for, since its
        commit may be under way (every step of it is bounded: connect and keepalive timeouts,
        SQLite's busy timeout)."""
        future = self.submit(work, lock_keys, weight)
        waiting = asyncio.wrap_future(future)
        try:
            return await asyncio.wait_for(asyncio.shield(waiting), self._timeout)
        except TimeoutError:
            if future.cancel():
                raise self._late() from None
            return await waiting
        except asyncio.CancelledError:  # the caller is gone: apply it only if already begun
            future.cancel()
            raise

    def run_sync(self, work: Work, lock_keys: tuple[int, ...] = ()) -> Any:
        future = self.submit(work, lock_keys)
        try:
            return future.result(self._timeout)
        except TimeoutError:
            if future.cancel():
                raise self._late() from None
            return future.result()

    def _late(self) -> Unavailable:
        return unavailable(f"the writer could not take this call within {self._timeout:g} s")

    # -- the writer thread ------------------------------------------------------------------------

    def _connect(self) -> sa.Connection:
        connection = self._database.writer.connect()
        if not self._postgres:  # the checkpointer thread does it (see _checkpoint)
            dbapi = connection.connection.dbapi_connection
            assert dbapi is not None
            dbapi.cursor().execute("PRAGMA wal_autocheckpoint=0")
        return connection

    @staticmethod
    def _probe(connection: sa.Connection) -> None:
        """Commit a real write that changes nothing, to learn whether the database takes writes
        (a connection is not enough: a full disk or a read-only file still opens). The row is
        changed and changed back, so that SQLite cannot skip an unchanged page."""
        with connection.begin():
            connection.execute(
                sa.text("update alembic_version set version_num = version_num || '~'")
            )
            connection.execute(
                sa.text(
                    "update alembic_version "
                    "set version_num = substr(version_num, 1, length(version_num) - 1)"
                )
            )

    def _open(self) -> sa.Connection | None:
        """A connection that has just committed, or None while the database is away."""
        try:
            connection = self._connect()
        except Exception as error:
            log.debug("the writer cannot connect: %s", error)
            return None
        try:
            self._probe(connection)
        except Exception as error:
            log.debug("the writer's probe write failed: %s", error)
            self._discard(connection)
            return None
        return connection

    @staticmethod
    def _discard(connection: sa.Connection) -> None:
        """Close a connection that failed, so that the pool never hands it out again."""
        with contextlib.suppress(Exception):
            connection.invalidate()
        with contextlib.suppress(Exception):
            connection.close()

    def _run(self) -> None:
        connection = self._open()
        if connection is None:
            self._went_away("the database cannot be written to at start")
        while True:
            if connection is None:
                connection = self._recover()
                if connection is None:
                    return  # stopped while the database was away
            jobs, stopping = self._next_batch()
            try:
                if jobs:
                    connection = self._apply(connection, jobs)
            except Exception as error:  # never let the thread die with requests waiting on it
                log.exception("the writer failed a batch; reconnecting")
                for job in jobs:
                    self._fail(job, error)
                if connection is not None:
                    self._discard(connection)
                connection = None
                self._went_away("the writer failed")
            if stopping:
                break
        if connection is not None:
            connection.close()

    def _next_batch(self) -> tuple[list[_Job], bool]:
        """The requests waiting now (up to the batch limits), and whether to stop after them."""
        item = self._queue.get()
        jobs: list[_Job] = []
        weight = 0
        while item is not _STOP:
            if self._take(item):  # not withdrawn by its caller's timeout
                jobs.append(item)
                weight += item.weight
            if len(jobs) >= self._max_batch or weight >= self._max_weight:
                return jobs, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return jobs, False
        return jobs, True

    def _apply(self, connection: sa.Connection, jobs: list[_Job]) -> sa.Connection | None:
        """Apply and answer the jobs; the connection to go on with (None: the database is away,
        and every job was answered Unavailable)."""
        results: _Results = []
        retry: list[_Job] = []
        xid: int | None = None
        committing = False
        try:
            with connection.begin():
                unit = Transaction(connection, self._vault)
                if self._postgres:
                    xid = self._begin_postgres(connection, jobs)
                try:
                    for job in jobs:
                        try:
                            with unit.savepoint():
                                value = job.work(unit)
                        except Exception as error:  # this request only
                            if unreachable(error):
                                raise  # the database is away: nothing of the batch stands
                            if self._transient(error) and job.attempts < _RETRIES:
                                retry.append(job)
                            else:
                                results.append((job, None, error))
                        else:
                            results.append((job, value, None))
                finally:
                    unit.cursor.close()
                committing = True
        except Exception as error:
            if unreachable(error) or connection.invalidated:
                return self._lost(connection, jobs, error, xid if committing else None, results)
            # The commit itself failed: nothing of the batch is kept.
            log.exception("a write transaction failed")
            self._discard(connection)
            reopened = self._open()
            # Each request is tried again alone, so that the one at fault fails by itself.
            retry = [job for job in jobs if len(jobs) > 1 and job.attempts < _RETRIES]
            for job in jobs:
                if job not in retry:
                    self._fail(job, error)
            if reopened is None:
                self._give_up(retry, error)
                return None
            return self._answer(reopened, [], retry)
        self.last_commit = time.time()
        return self._answer(connection, results, retry)

    def _answer(
        self, connection: sa.Connection | None, results: _Results, retry: list[_Job]
    ) -> sa.Connection | None:
        """Answer a committed batch's requests, then try the ones to retry, each alone."""
        self.batches += 1
        self.requests += len(results)
        if self.on_commit is not None:
            self.on_commit(len(results))
        for job, value, failure in results:
            if failure is None:
                job.future.set_result(value)
            else:
                job.future.set_exception(failure)
        for job in retry:  # alone, so that one busy identifier cannot hold up a whole batch
            job.attempts += 1
            if connection is None:
                self._fail(job, unavailable())
            else:
                connection = self._apply(connection, [job])
        return connection

    def _lost(
        self,
        connection: sa.Connection,
        jobs: list[_Job],
        error: Exception,
        xid: int | None,
        results: _Results,
    ) -> sa.Connection | None:
        """The database went away during the batch. `xid` is the transaction whose COMMIT was
        sent when it did (PostgreSQL), whose outcome is then asked for once reconnected."""
        self._discard(connection)
        reopened = self._open()  # a killed connection to a database still there: go on at once
        if reopened is None:
            if xid is not None:
                log.error(
                    "the database went away during a COMMIT and cannot be asked whether it "
                    "happened; its %d requests are answered 503, and a retry may apply them twice",
                    len(jobs),
                )
            self._give_up(jobs, error)
            return None
        if xid is not None:
            outcome = self._outcome(reopened, xid)
            log.warning(
                "the connection to the database was lost during a COMMIT; reconnected, and "
                "PostgreSQL says transaction %d is %s",
                xid,
                outcome,
            )
            if outcome == "committed":
                self.last_commit = time.time()
                done = {id(job) for job, _value, _failure in results}
                return self._answer(reopened, results, [j for j in jobs if id(j) not in done])
            if outcome != "aborted":
                log.error(
                    "PostgreSQL does not say whether transaction %d committed (%s); its %d "
                    "requests are answered 503, and a retry may apply them twice",
                    xid,
                    outcome,
                    len(jobs),
                )
                for job in jobs:
                    self._fail(job, unavailable())
                return reopened
        # Nothing of the batch was kept: apply it again together (the lost connection was
        # nobody's fault), as often as a retry is allowed.
        log.warning(
            "the connection to the database was lost during a write transaction (%s); "
            "reconnected, applying its %d requests again",
            f"{type(error).__name__}: {error}".splitlines()[0],
            len(jobs),
        )
        again = [job for job in jobs if job.attempts < _RETRIES]
        for job in jobs:
            if job in again:
                job.attempts += 1
            else:
                self._fail(job, unavailable())
        return self._apply(reopened, again) if again else reopened

    def _give_up(self, jobs: list[_Job], error: BaseException) -> None:
        """The database is away: answer these requests and every queued one Unavailable."""
        self._went_away(f"{type(error).__name__}: {error}".splitlines()[0])
        for job in jobs:
            self._fail(job, unavailable())

    def _went_away(self, why: str) -> None:
        if self._writable:
            self._down_since = time.time()
            self._writable = False
            log.error(
                "the database cannot be written to (%s); calls are answered 503 until it can", why
            )

    def _recover(self) -> sa.Connection | None:
        """Refuse requests and reconnect with backoff until a probe commits; None if stopped
        meanwhile."""
        delay = RECONNECT_FIRST
        while True:
            if self._refuse_for(delay):
                return None
            connection = self._open()
            if connection is not None:
                away = time.time() - (self._down_since or time.time())
                self._down_since = None
                self._writable = True
                log.warning("the database can be written to again, after %.1f s", away)
                return connection
            delay = min(delay * 2, RECONNECT_MOST)

    def _refuse_for(self, seconds: float) -> bool:
        """Answer every request that arrives within `seconds` Unavailable; True on stop."""
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            try:
                item = self._queue.get(timeout=left)
            except queue.Empty:
                return False
            if item is _STOP:
                return True
            self._refuse(item)
        return False

    @staticmethod
    def _take(job: _Job) -> bool:
        """Mark a job as begun: from now on its caller waits for it. False if withdrawn."""
        return job.future.set_running_or_notify_cancel()

    def _refuse(self, job: _Job) -> None:
        if self._take(job):
            job.future.set_exception(unavailable())

    @staticmethod
    def _fail(job: _Job, error: BaseException) -> None:
        if not job.future.done():
            job.future.set_exception(error)

    @staticmethod
    def _transient(error: Exception) -> bool:
        """A deadlock or serialization failure, raised by the driver or wrapped by SQLAlchemy,
        or event ids another server process stored meanwhile."""
        if isinstance(error, EventIdRace):
            return True
        cause = error.orig if isinstance(error, sa.exc.DBAPIError) else error
        return getattr(cause, "sqlstate", None) in _TRANSIENT

    @staticmethod
    def _begin_postgres(connection: sa.Connection, jobs: list[_Job]) -> int:
        """The transaction's id (to ask about it if the answer to its COMMIT is lost), and
        advisory locks on every identifier the batch touches, in one fixed (sorted) order, so
        that two processes' batches cannot deadlock on them; one round trip for both."""
        keys = sorted({key for job in jobs for key in job.lock_keys})
        if not keys:
            return int(connection.execute(sa.text("select txid_current()")).scalar_one())
        xid = connection.execute(
            sa.text(
                "select txid_current(), (select count(pg_advisory_xact_lock(k)) from "
                "(select unnest(cast(:keys as bigint[])) as k order by 1) as ordered)"
            ),
            {"keys": keys},
        ).one()[0]
        return int(xid)

    @staticmethod
    def _outcome(connection: sa.Connection, xid: int) -> str | None:
        """'committed', 'aborted', or what PostgreSQL still says after OUTCOME_WAIT."""
        until = time.monotonic() + OUTCOME_WAIT
        while True:
            try:
                with connection.begin():
                    status: str | None = connection.execute(
                        sa.text("select txid_status(:xid)"), {"xid": xid}
                    ).scalar_one()
            except Exception as error:  # reconnected, yet gone again
                return f"unknown: {type(error).__name__}"
            if status in ("committed", "aborted") or time.monotonic() > until:
                return str(status) if status is not None else None
            time.sleep(0.05)  # "in progress": the old server process is still ending it
