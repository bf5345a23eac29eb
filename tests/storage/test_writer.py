"""The writer: group commit, a savepoint per request, answers only after commit."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest
import sqlalchemy as sa

from roster.services.system import System
from roster.storage.tables import ingestion_log
from roster.storage.writer import Transaction


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
