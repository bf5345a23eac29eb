"""Periodic tidying: never-identified anonymous events leave after their retention (I7.2), in
small batches, by one server process at a time (docs/operations.md, "Background work")."""

from __future__ import annotations

from roster.domain.context import Clock
from roster.storage.database import Database
from roster.storage.upkeep import purge_anonymous_events, upkeep_lease
from roster.storage.writer import Transaction, Writer

BATCH = 1000  # events deleted by one writer transaction


class Upkeep:
    def __init__(
        self, writer: Writer, clock: Clock, database: Database, batch: int = BATCH
    ) -> None:
        self._writer = writer
        self._clock = clock
        self._database = database
        self._batch = batch

    def run(self) -> int | None:
        """Remove expired anonymous events in every workspace: how many went, or None when
        another server process is doing it right now."""
        now = self._clock()
        batch = self._batch

        def work(tx: Transaction) -> int:
            return purge_anonymous_events(tx.connection, now, batch)

        with upkeep_lease(self._database) as mine:
            if not mine:
                return None
            removed = 0
            while True:  # each batch its own transaction: calls queue between them
                done: int = self._writer.run_sync(work)
                removed += done
                if done < batch:
                    return removed
