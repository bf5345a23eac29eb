"""The suppression list as its own API reads it (docs/api.md §5): pages newest first by the keyset
(created_at, hash), one entry, one group. It holds keyed hashes only (docs/identity.md I9.2)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from roster.domain.workspace import WorkspaceRules
from roster.storage.database import Database
from roster.storage.tables import suppressions
from roster.storage.vault import Vault
from roster.storage.workspaces import load_rules


@dataclass(frozen=True)
class Entry:
    hash: str
    group_hash: str
    created_at: float
    door: str | None


_COLUMNS = (
    suppressions.c.hash,
    suppressions.c.group_hash,
    suppressions.c.created_at,
    suppressions.c.door,
)


def _entry(row: sa.Row[tuple[str, str, float, str | None]]) -> Entry:
    return Entry(row.hash, row.group_hash, row.created_at, row.door)


class SuppressionList:
    def __init__(self, database: Database, vault: Vault) -> None:
        self._engine = database.reader
        self._vault = vault

    def rules(self, workspace_id: int) -> WorkspaceRules:
        """The workspace's rules, its suppression secret among them (to hash what is checked)."""
        with self._engine.connect() as connection:
            return load_rules(connection, workspace_id, self._vault)

    def page(self, workspace_id: int, after: tuple[float, str] | None, limit: int) -> list[Entry]:
        """Newest first; `after` is the (created_at, hash) of the last entry already given."""
        query = sa.select(*_COLUMNS).where(suppressions.c.workspace_id == workspace_id)
        if after is not None:
            at, hash_ = after
            query = query.where(
                sa.or_(
                    suppressions.c.created_at < at,
                    sa.and_(suppressions.c.created_at == at, suppressions.c.hash < hash_),
                )
            )
        query = query.order_by(suppressions.c.created_at.desc(), suppressions.c.hash.desc())
        with self._engine.connect() as connection:
            return [_entry(row) for row in connection.execute(query.limit(limit))]

    def entry(self, workspace_id: int, hash_: str) -> Entry | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                sa.select(*_COLUMNS).where(
                    suppressions.c.workspace_id == workspace_id, suppressions.c.hash == hash_
                )
            ).first()
        return _entry(row) if row is not None else None
