"""Merge and unmerge as use cases (docs/identity.md I6, I6.4), for the App API and the command
line: both go through the writer like every other operation."""

from __future__ import annotations

from dataclasses import dataclass

from roster.domain.identifiers import IdentifierMode, Reference
from roster.domain.merge_record import MergeRecord
from roster.domain.operations import Merge, Ref, Unmerge
from roster.domain.people import Person
from roster.services.ingestion import Ingestion, Message
from roster.services.lookups import Lookups
from roster.storage.database import Database
from roster.storage.merge_rows import read_merge


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

    def _both(self, workspace_id: int, primary: Person, secondary_cio: str | None) -> Unmerged:
        assert secondary_cio is not None
        find = self.lookups.get
        return Unmerged(
            primary=find(workspace_id, Reference("cio_id", primary.cio_id)),
            secondary=find(workspace_id, Reference("cio_id", secondary_cio)),
        )

    async def unmerge(self, workspace_id: int, ref: Reference, mode: IdentifierMode) -> Unmerged:
        """Undo the latest merge into the person (I6.4); both people as they are now."""
        op, _, primary = self._prepare(workspace_id, ref, mode)
        outcome = await self.ingestion.one(workspace_id, Message(op, "unmerge"), "app", True)
        return self._both(workspace_id, primary, outcome.cio_id)

    def unmerge_sync(self, workspace_id: int, ref: Reference, mode: IdentifierMode) -> Unmerged:
        op, _, primary = self._prepare(workspace_id, ref, mode)
        (outcome,) = self.ingestion.apply_sync(
            workspace_id, [Message(op, "unmerge")], "cli", strict=True
        )
        assert not isinstance(outcome, Exception)
        return self._both(workspace_id, primary, outcome.cio_id)

    def merge_sync(self, workspace_id: int, primary: Ref, secondary: Ref) -> str:
        """Merge through the writer, answering why when it cannot (I6.1); the primary's cio_id."""
        (outcome,) = self.ingestion.apply_sync(
            workspace_id, [Message(Merge(primary, secondary), "merge")], "cli", strict=True
        )
        assert not isinstance(outcome, Exception) and outcome.cio_id is not None
        return outcome.cio_id
