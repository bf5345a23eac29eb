"""A rehearsal (storage/rehearsal.py): a request's work run by the real writer in its own
savepoint, noted and rolled back, while requests batched with it commit; on both databases."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future
from typing import Any

import pytest

from roster.domain.people import Activity
from roster.services.system import System
from roster.storage.rehearsal import RehearsingWriter, Rows
from roster.storage.writer import Transaction
from tests.api.stored import footprint, logged


def _work(workspace_id: int, reason: str) -> Any:
    def work(tx: Transaction) -> str:
        store = tx.store(workspace_id, "test")
        store.add_activity(Activity(type="workspace_note", timestamp=tx.now, name=reason))
        store.flush()
        tx.log(workspace_id, "test", reason)
        return reason

    return work


def test_a_rehearsed_request_answers_its_value_notes_its_rows_and_writes_nothing(
    system: System, workspace: dict[str, Any]
) -> None:
    workspace_id = workspace["workspace_id"]
    before = footprint(system, workspace_id), logged(system, workspace_id)
    rows = Rows()

    value = RehearsingWriter(system.writer, rows).run_sync(_work(workspace_id, "rehearsed"))

    assert value == "rehearsed"
    assert [activity.name for activity in rows.activities] == ["rehearsed"]
    assert [entry.reason for entry in rows.log] == ["rehearsed"]
    assert (footprint(system, workspace_id), logged(system, workspace_id)) == before


def test_a_rehearsal_batched_with_real_requests_leaves_theirs_committed(
    system: System, workspace: dict[str, Any]
) -> None:
    workspace_id = workspace["workspace_id"]
    rows = Rows()
    rehearsing = RehearsingWriter(system.writer, rows)

    gate = threading.Event()
    blocker = system.writer.submit(lambda tx: gate.wait(5))  # the writer waits: the rest queue
    while not blocker.running():
        time.sleep(0.001)
    before = system.writer.batches

    async def together() -> list[Any]:
        real: list[Future[Any]] = [
            system.writer.submit(_work(workspace_id, f"real-{n}")) for n in range(3)
        ]
        rehearsed = asyncio.ensure_future(rehearsing.run(_work(workspace_id, "rehearsed")))
        await asyncio.sleep(0.05)  # queued behind the blocker with the real ones
        gate.set()
        return [await rehearsed, *[future.result(5) for future in real]]

    assert asyncio.run(together()) == ["rehearsed", "real-0", "real-1", "real-2"]
    blocker.result(5)
    assert system.writer.batches - before == 2  # the blocker's batch, then all four together
    assert logged(system, workspace_id) == 3
    assert [entry.reason for entry in rows.log] == ["rehearsed"]


def test_a_rehearsed_request_that_fails_raises_as_the_real_one_would(
    system: System, workspace: dict[str, Any]
) -> None:
    workspace_id = workspace["workspace_id"]

    def failing(tx: Transaction) -> None:
        tx.log(workspace_id, "test", "half done")
        raise ValueError("the request's own failure")

    with pytest.raises(ValueError, match="own failure"):
        RehearsingWriter(system.writer, Rows()).run_sync(failing)
    assert logged(system, workspace_id) == 0
