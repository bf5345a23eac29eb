"""Merge and unmerge as use cases (docs/identity.md I6, I6.4), for the App API and the command
line: both go through the writer like every other operation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from roster.domain.context import Outcome
from roster.domain.errors import RosterError
from roster.domain.identifiers import IdentifierMode, Reference
from roster.domain.merge_record import MergeRecord
from roster.domain.operations import Merge, Ref, Unmerge
from roster.domain.people import Person
from roster.services.ingestion import Ingestion, Message, Result, Then
from roster.services.lookups import Lookups
from roster.storage.database import Database
from roster.storage.merge_rows import read_merge
from roster.storage.writer import Transaction


@dataclass(frozen=True)
class Unmerged:
    primary: Person
    secondary: Person


class Hygiene:
    def __init__(self, ingestion: Ingestion, lookups: Lookups, database: Database) -> None:
        self.ingestion = ingestion
        self.lookups = lookups
        self.database = database

    def _prepare(
        self, workspace_id: int, ref: Reference, mode: IdentifierMode
    ) -> tuple[Unmerge, MergeRecord | None, Person]:
        # Read before the transaction so that the writer can lock the identifiers the unmerge
        # gives back too (PostgreSQL); the engine re-checks the record under those locks.
        person = self.lookups.get(workspace_id, ref)
        assert person.pk is not None
        record = read_merge(self.database.reader, workspace_id, primary_pk=person.pk)
        wanted = record.given_back(mode is IdentifierMode.EMAIL_OR_ID) if record else []
        return Unmerge(ref, tuple(wanted)), record, person

    @staticmethod
    def _both(workspace_id: int, primary: Person, found: list[Unmerged]) -> Then:
        """Both people as the unmerge leaves them, read in its own transaction: what is
        answered is what was committed (and a rehearsal, which commits nothing, answers the
        same, docs/api.md §5)."""

        def then(tx: Transaction, results: list[Result]) -> None:
            (outcome,) = results
            assert isinstance(outcome, Outcome) and outcome.cio_id is not None
            store = tx.store(workspace_id)
            primary_now = store.person_by_cio_id(primary.cio_id)
            secondary = store.person_by_cio_id(outcome.cio_id)
            assert primary_now is not None and secondary is not None
            found.append(Unmerged(primary_now, secondary))

        return then

    async def unmerge(
        self, workspace_id: int, ref: Reference, mode: IdentifierMode, door: str = "app"
    ) -> Unmerged:
        """Undo the latest merge into the person (I6.4); both people as it leaves them.
        `door`: what the ingestion log, the conflicts and the metrics record it under."""
        op, _, primary = self._prepare(workspace_id, ref, mode)
        found: list[Unmerged] = []
        await self.ingestion.apply(
            workspace_id,
            [Message(op, "unmerge")],
            door,
            strict=True,
            then=self._both(workspace_id, primary, found),
        )
        return found[0]

    def unmerge_sync(self, workspace_id: int, ref: Reference, mode: IdentifierMode) -> Unmerged:
        op, _, primary = self._prepare(workspace_id, ref, mode)
        found: list[Unmerged] = []
        (outcome,) = self.ingestion.apply_sync(
            workspace_id,
            [Message(op, "unmerge")],
            "cli",
            strict=True,
            then=self._both(workspace_id, primary, found),
        )
        assert not isinstance(outcome, RosterError)  # without isolate, errors are raised
        return found[0]

    def merge_sync(self, workspace_id: int, primary: Ref, secondary: Ref) -> str:
        """Merge through the writer, answering why when it cannot (I6.1); the primary's cio_id."""
        (outcome,) = self.ingestion.apply_sync(
            workspace_id, [Message(Merge(primary, secondary), "merge")], "cli", strict=True
        )
        assert not isinstance(outcome, Exception) and outcome.cio_id is not None
        return outcome.cio_id

    def merge_each_sync(
        self,
        workspace_id: int,
        primary: Ref,
        secondaries: Sequence[Ref],
        then: Then | None = None,
    ) -> list[Result]:
        """Merge each secondary into the primary in order, in one writer request, each merge on
        its own as `merge_sync` makes it (a refused one answers its error with the rules that
        led there, and the others go on); `then` runs after them in the same transaction."""
        return self.ingestion.apply_sync(
            workspace_id,
            [Message(Merge(primary, secondary), "merge") for secondary in secondaries],
            "cli",
            strict=True,
            isolate=True,
            then=then,
        )
