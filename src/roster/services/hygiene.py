"""Merge and unmerge as use cases (docs/identity.md I6, I6.4), for the App API and the command
line: both go through the writer like every other operation."""

from __future__ import annotations

from roster.domain.errors import NotFound
from roster.domain.identifiers import IdentifierMode, Reference
from roster.domain.merge_record import MergeRecord
from roster.domain.operations import Merge, Ref, Unmerge
from roster.services.ingestion import Ingestion, Message
from roster.services.lookups import Lookups
from roster.storage.database import Database
from roster.storage.merge_rows import read_merge


class Hygiene:
    def __init__(self, ingestion: Ingestion, lookups: Lookups, database: Database) -> None:
        self.ingestion = ingestion
        self.lookups = lookups
        self.database = database

    def latest_merge(self, workspace_id: int, ref: Reference) -> MergeRecord | None:
        """The merge an unmerge of `ref` would undo now; NotFound for an unknown person."""
        person = self.lookups.get(workspace_id, ref)
        assert person.pk is not None
        return read_merge(self.database.reader, workspace_id, primary_pk=person.pk)

    def merge_record(self, workspace_id: int, merge_id: int) -> MergeRecord:
        found = read_merge(self.database.reader, workspace_id, merge_id=merge_id)
        if found is None:
            raise NotFound(f"no merge {merge_id}")
        return found

    def _unmerge_op(self, workspace_id: int, ref: Reference, mode: IdentifierMode) -> Unmerge:
        # Read before the transaction so that the writer can lock the secondary's identifiers
        # too (PostgreSQL); the engine re-checks the record under those locks.
        record = self.latest_merge(workspace_id, ref)
        wanted = record.identifiers(mode is IdentifierMode.EMAIL_OR_ID) if record else []
        return Unmerge(ref, tuple(wanted))

    async def unmerge(self, workspace_id: int, ref: Reference, mode: IdentifierMode) -> str:
        """Undo the latest merge into the person; returns the secondary's cio_id."""
        op = self._unmerge_op(workspace_id, ref, mode)
        outcome = await self.ingestion.one(workspace_id, Message(op, "unmerge"), "app", True)
        assert outcome.cio_id is not None
        return outcome.cio_id

    def unmerge_sync(self, workspace_id: int, ref: Reference, mode: IdentifierMode) -> str:
        op = self._unmerge_op(workspace_id, ref, mode)
        (outcome,) = self.ingestion.apply_sync(
            workspace_id, [Message(op, "unmerge")], "cli", strict=True
        )
        assert not isinstance(outcome, Exception) and outcome.cio_id is not None
        return outcome.cio_id

    def merge_sync(self, workspace_id: int, primary: Ref, secondary: Ref) -> str:
        """Merge through the writer, answering why when it cannot (I6.1); the primary's cio_id."""
        (outcome,) = self.ingestion.apply_sync(
            workspace_id, [Message(Merge(primary, secondary), "merge")], "cli", strict=True
        )
        assert not isinstance(outcome, Exception) and outcome.cio_id is not None
        return outcome.cio_id
