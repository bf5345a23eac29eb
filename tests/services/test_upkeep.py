"""Never-identified anonymous events leave after the workspace's retention (I7.2)."""

from __future__ import annotations

from roster.domain.identifiers import IdentifierMode, read_given, read_reference
from roster.domain.operations import TrackEvent
from roster.services.ingestion import Ingestion, Message
from roster.services.system import System
from roster.services.upkeep import Upkeep
from roster.storage.upkeep import upkeep_lease


def test_i7_2_expired_anonymous_events_are_removed_and_identified_ones_kept(
    system: System, workspace
):
    ws = workspace["workspace_id"]
    system.workspaces.change_settings(ws, anonymous_retention_days=1)
    ingestion = Ingestion(system.writer)
    for anonymous_id in ("anon-old", "anon-kept"):
        op = TrackEvent(
            reference=read_given(None, "r"),
            name="visit",
            anonymous_id=read_given(anonymous_id, "anonymous_id"),
        )
        ingestion.apply_sync(ws, [Message(op)], "test")
    known = TrackEvent(
        reference=read_reference("known-1", IdentifierMode.EMAIL_OR_ID), name="purchase"
    )
    (outcome,) = ingestion.apply_sync(ws, [Message(known)], "test")
    assert len(list(system.lookups.events(ws, None))) == 2
    assert (
        Upkeep(system.writer, lambda: 10**10, system.database).run() >= 2
    )  # far future: all expired
    assert list(system.lookups.events(ws, None)) == []
    assert [e.name for e in system.lookups.events(ws, outcome.cio_id)] == ["purchase"]


def test_fresh_anonymous_events_stay(system: System, workspace):
    ws = workspace["workspace_id"]
    op = TrackEvent(
        reference=read_given(None, "r"),
        name="visit",
        anonymous_id=read_given("anon-new", "anonymous_id"),
    )
    Ingestion(system.writer).apply_sync(ws, [Message(op)], "test")
    Upkeep(system.writer, system.ingestion.clock, system.database).run()
    assert [e.anonymous_id for e in system.lookups.events(ws, None)] == ["anon-new"]


def _anonymous_events(system: System, ws: int, count: int) -> None:
    ops = [
        TrackEvent(
            reference=read_given(None, "r"),
            name="visit",
            anonymous_id=read_given(f"anon-batch-{n}", "anonymous_id"),
        )
        for n in range(count)
    ]
    Ingestion(system.writer).apply_sync(ws, [Message(op) for op in ops], "test")


def test_upkeep_deletes_in_small_transactions_so_calls_wait_little_behind_it(
    system: System, workspace
):
    ws = workspace["workspace_id"]
    _anonymous_events(system, ws, 5)
    transactions = system.writer.batches

    removed = Upkeep(system.writer, lambda: 10**10, system.database, batch=2).run()

    assert removed is not None and removed >= 5
    assert list(system.lookups.events(ws, None)) == []
    assert system.writer.batches - transactions >= 3  # 2 + 2 + 1 (and a last empty look)


def test_upkeep_runs_in_one_server_process_at_a_time(system: System, workspace):
    """PostgreSQL: while one process holds the upkeep lease, another's run does nothing. SQLite
    has one server process, which always holds it."""
    ws = workspace["workspace_id"]
    _anonymous_events(system, ws, 3)
    other_process = Upkeep(system.writer, lambda: 10**10, system.database)
    with upkeep_lease(system.database) as mine:
        assert mine
        during = other_process.run()
        if system.database.is_sqlite:
            assert during is not None and during >= 3
        else:
            assert during is None
            assert len(list(system.lookups.events(ws, None))) >= 3
    after = other_process.run()
    assert list(system.lookups.events(ws, None)) == []
    assert after is not None
