"""Periodic tidying: never-identified anonymous events leave after their retention (I7.2)."""

from __future__ import annotations

from roster.domain.context import Clock
from roster.storage.upkeep import purge_anonymous_events
from roster.storage.writer import Transaction, Writer


class Upkeep:
    def __init__(self, writer: Writer, clock: Clock) -> None:
        self._writer = writer
        self._clock = clock

    def run(self) -> int:
        """Remove expired anonymous events in every workspace; returns how many went."""
        now = self._clock()

        def work(tx: Transaction) -> int:
            return purge_anonymous_events(tx.connection, now)

        removed: int = self._writer.run_sync(work)
        return removed
