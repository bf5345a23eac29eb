"""The writer: group commit, a savepoint per request, answers only after commit."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
import sqlalchemy as sa

from roster.domain.errors import Unavailable
from roster.domain.people import Event
from roster.services.system import System
from roster.storage.tables import events, ingestion_log
from roster.storage.writer import Transaction
from tests.outages import database_away, end_connections, own_database


def _log(workspace_id: int, reason: str):
    def work(tx: Transaction) -> str:
        tx.log(workspace_id, "test", reason)
        return reason

    return work


def _reasons(system: System, workspace_id: int) -> list[str]:
    with system.database.reader.connect() as connection:
        return sorted(
            connection.execute(
                sa.select(ingestion_log.c.reason).where(
                    ingestion_log.c.workspace_id == workspace_id
                )
            ).scalars()
        )


def test_requests_queued_together_share_one_transaction(system: System, workspace):
    ws = workspace["workspace_id"]
    gate = threading.Event()

    def hold(tx: Transaction) -> None:
        gate.wait(5)

    blocker = system.writer.submit(hold)
    before = system.writer.batches
    futures: list[Future] = [system.writer.submit(_log(ws, f"r{n}")) for n in range(50)]
    gate.set()
    assert [f.result(10) for f in futures] == [f"r{n}" for n in range(50)]
    blocker.result(10)
    # 50 requests queued behind one busy transaction commit in very few transactions.
    assert system.writer.batches - before <= 3
    assert len(_reasons(system, ws)) == 50


def test_a_failing_request_leaves_no_trace_and_spoils_nothing_else(system: System, workspace):
    ws = workspace["workspace_id"]
    gate = threading.Event()
    system.writer.submit(lambda tx: gate.wait(5))

    def fails(tx: Transaction) -> None:
        tx.log(ws, "test", "half-written")
        raise ValueError("this request fails after writing")

    good_before = system.writer.submit(_log(ws, "before"))
    bad = system.writer.submit(fails)
    good_after = system.writer.submit(_log(ws, "after"))
    gate.set()
    assert good_before.result(10) == "before"
    assert good_after.result(10) == "after"
    with pytest.raises(ValueError, match="fails after writing"):
        bad.result(10)
    assert _reasons(system, ws) == ["after", "before"]


def test_an_answer_means_the_write_is_visible_to_readers(system: System, workspace):
    ws = workspace["workspace_id"]
    for n in range(20):
        system.writer.run_sync(_log(ws, f"v{n}"))
        assert f"v{n}" in _reasons(system, ws)


def test_postgresql_groups_about_one_batch_of_operations_per_transaction(system: System, workspace):
    ws = workspace["workspace_id"]
    gate = threading.Event()
    blocker = system.writer.submit(lambda tx: gate.wait(5))
    before = system.writer.batches
    futures = [system.writer.submit(_log(ws, f"w{n}"), weight=60) for n in range(4)]
    gate.set()
    for future in futures:
        future.result(10)
    blocker.result(10)
    transactions = system.writer.batches - before
    if system.writer.takes_locks:  # PostgreSQL: at most ~100 operations hold locks together
        assert transactions >= 2
    else:  # SQLite, one writer: every queued request shares the commit
        assert transactions <= 2


def test_a_failed_commit_retries_each_request_alone_so_only_the_culprit_fails(
    system: System, workspace
):
    if not system.writer.takes_locks:
        pytest.skip("SQLite checks every constraint at once: only PostgreSQL defers one to COMMIT")
    ws = workspace["workspace_id"]

    def breaks_the_commit(tx: Transaction) -> None:
        # A constraint checked only at COMMIT: the whole transaction fails there.
        tx.connection.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS once (x int UNIQUE DEFERRABLE INITIALLY DEFERRED)"
        )
        tx.connection.exec_driver_sql("INSERT INTO once VALUES (1), (1)")

    gate = threading.Event()
    system.writer.submit(lambda tx: gate.wait(5))
    good = system.writer.submit(_log(ws, "kept"))
    bad = system.writer.submit(breaks_the_commit)
    gate.set()
    assert good.result(10) == "kept"
    with pytest.raises(sa.exc.IntegrityError):
        bad.result(10)
    assert _reasons(system, ws) == ["kept"]
    system.writer.run_sync(_log(ws, "after"))  # the writer lives on
    assert _reasons(system, ws) == ["after", "kept"]


# -- a lost database ------------------------------------------------------------------------------


@pytest.fixture
def own_system(database_url: str, tmp_path: Path) -> Iterator[System]:
    """A roster core on a database of its own (the outage must not reach the session's), with
    a short write timeout."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with own_database(backend, tmp_path) as url:
        opened = System.open(url, tmp_path / "data", "test-secret", write_timeout=1.0)
        try:
            yield opened
        finally:
            opened.close()


def _until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.05)


def test_the_writer_lives_through_a_failed_reconnect_and_writes_again_once_the_database_is_back(
    own_system: System,
):
    system = own_system
    ws = system.workspaces.create("outage")["workspace_id"]
    assert system.writer.run_sync(_log(ws, "before")) == "before"
    with database_away(system):
        started = time.monotonic()
        with pytest.raises(Unavailable) as refused:
            system.writer.run_sync(_log(ws, "during"))  # fails, and so does the reconnect
        assert time.monotonic() - started < 5
        assert refused.value.retry_after > 0
        status = system.writer.status()
        assert status.alive and not status.writable and status.down_since is not None
        # Now refused at once, without queueing.
        with pytest.raises(Unavailable):
            system.writer.submit(_log(ws, "refused")).result(timeout=0)
        assert not system.ready()
    _until(lambda: system.writer.status().writable)
    assert system.writer.run_sync(_log(ws, "after")) == "after"
    assert system.writer.status().alive
    assert system.ready()
    assert _reasons(system, ws) == ["after", "before"]


def test_a_request_still_queued_at_the_write_timeout_is_answered_unavailable_and_never_applied(
    own_system: System,
):
    system = own_system
    ws = system.workspaces.create("slow")["workspace_id"]
    gate, busy = threading.Event(), threading.Event()

    def hold(tx: Transaction) -> None:
        busy.set()
        gate.wait(10)

    blocker = system.writer.submit(hold)
    assert busy.wait(10)  # the writer is inside that batch: what comes now waits in the queue
    started = time.monotonic()
    with pytest.raises(Unavailable, match="within 1 s"):
        system.writer.run_sync(_log(ws, "too late"))  # the write timeout is 1 s
    assert 0.9 < time.monotonic() - started < 3
    gate.set()
    blocker.result(10)
    assert system.writer.run_sync(_log(ws, "in time")) == "in time"
    assert _reasons(system, ws) == ["in time"]


def test_postgresql_a_killed_writer_connection_is_replaced_and_the_batch_applied_once(
    own_system: System,
):
    if own_system.database.is_sqlite:
        pytest.skip("SQLite has no connection to kill: the file is opened in the process")
    system = own_system
    ws = system.workspaces.create("killed")["workspace_id"]
    system.writer.run_sync(_log(ws, "first"))
    assert end_connections(system.database.url.render_as_string(False)) >= 1
    assert system.writer.run_sync(_log(ws, "second")) == "second"  # no 503: it reconnected
    assert system.writer.status().writable
    assert _reasons(system, ws) == ["first", "second"]


def test_postgresql_a_commit_whose_connection_dies_is_asked_about_and_applied_exactly_once(
    own_system: System,
):
    if own_system.database.is_sqlite:
        pytest.skip("SQLite has no connection to lose during a COMMIT")
    system = own_system
    ws = system.workspaces.create("trapped")["workspace_id"]
    with system.database.reader.begin() as connection:
        # A deferred trigger runs inside COMMIT: the first time, it ends its own connection there.
        connection.exec_driver_sql("create sequence commits_seen")
        connection.exec_driver_sql(
            "create function end_first_commit() returns trigger language plpgsql as $$ begin "
            "if nextval('commits_seen') = 1 then perform pg_terminate_backend(pg_backend_pid()); "
            "perform pg_sleep(1); end if; return null; end $$"
        )
        connection.exec_driver_sql("create table commit_trap (x int)")
        connection.exec_driver_sql(
            "create constraint trigger trap after insert on commit_trap deferrable initially "
            "deferred for each row execute function end_first_commit()"
        )

    def trapped(tx: Transaction) -> str:
        tx.connection.exec_driver_sql("insert into commit_trap values (1)")
        tx.log(ws, "test", "trapped")
        return "trapped"

    assert system.writer.run_sync(trapped) == "trapped"  # lost, found aborted, applied again
    assert _reasons(system, ws) == ["trapped"]
    with system.database.reader.connect() as connection:
        assert connection.exec_driver_sql("select count(*) from commit_trap").scalar() == 1
        assert connection.exec_driver_sql("select last_value from commits_seen").scalar() == 2


def test_an_event_id_stored_meanwhile_by_another_connection_is_dropped_as_a_repeat(
    system: System, workspace
):
    """I10.2 with the events of a request written together at its end: on PostgreSQL another
    server process may store one of their event ids after the request looked them up (for
    another person, under other advisory locks); the request is tried again and drops it."""
    ws = workspace["workspace_id"]
    event_id = f"evt-{uuid.uuid4().hex}"
    attempts: list[int] = []

    def other_process_stores_it() -> None:
        with system.database.writer.begin() as connection:
            connection.execute(
                events.insert().values(
                    workspace_id=ws, event_id=event_id, type="event", name="Other",
                    data={}, timestamp=1.0, received_at=1.0,
                )
            )  # fmt: skip

    def work(tx: Transaction) -> bool:
        store = tx.store(ws, "test")
        store.prefetch("event_id", [event_id])  # not stored yet
        if not attempts and system.writer.takes_locks:  # SQLite has one writer: no one can
            other_process_stores_it()
        attempts.append(1)
        kept = store.add_event(Event("Order Completed", "event", 2.0, {}, event_id))
        store.flush()
        return kept

    kept = system.writer.submit(work).result(10)

    with system.database.reader.connect() as connection:
        names = (
            connection.execute(
                sa.select(events.c.name).where(
                    events.c.workspace_id == ws, events.c.event_id == event_id
                )
            )
            .scalars()
            .all()
        )
    if system.writer.takes_locks:  # not kept, whether the insert or a retry found it
        assert (kept, names) == (False, ["Other"])
        assert len(attempts) <= 2
    else:
        assert (kept, len(attempts), names) == (True, 1, ["Order Completed"])
