"""Never-identified anonymous events leave after the workspace's retention (I7.2)."""

from __future__ import annotations

from roster.domain.identifiers import IdentifierMode, read_given, read_reference
from roster.domain.operations import TrackEvent
from roster.services.ingestion import Ingestion, Message
from roster.services.system import System
from roster.services.upkeep import Upkeep


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
    assert len(system.lookups.events(ws, None)) == 2
    assert Upkeep(system.writer, clock=lambda: 10**10).run() >= 2  # far future: all expired
    assert system.lookups.events(ws, None) == []
    assert [e.name for e in system.lookups.events(ws, outcome.cio_id)] == ["purchase"]


def test_fresh_anonymous_events_stay(system: System, workspace):
    ws = workspace["workspace_id"]
    op = TrackEvent(
        reference=read_given(None, "r"),
        name="visit",
        anonymous_id=read_given("anon-new", "anonymous_id"),
    )
    Ingestion(system.writer).apply_sync(ws, [Message(op)], "test")
    Upkeep(system.writer, clock=system.ingestion.clock).run()
    assert [e.anonymous_id for e in system.lookups.events(ws, None)] == ["anon-new"]
