"""What an import reads before it writes (docs/api.md §5, importing people): which of a batch's
cio_ids the workspace's people have, in one query for the batch."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa

from roster.storage.database import Database
from roster.storage.tables import people


def known_cio_ids(database: Database, workspace_id: int, values: Collection[str]) -> set[str]:
    """The values among `values` that are the cio_id of a person of the workspace."""
    if not values:
        return set()
    query = sa.select(people.c.cio_id).where(
        people.c.workspace_id == workspace_id, people.c.cio_id.in_(sorted(values))
    )
    with database.reader.connect() as connection:
        return {row[0] for row in connection.execute(query)}
