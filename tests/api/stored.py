"""What a workspace holds, counted cheaply, for tests that check a refused call wrote nothing."""

from __future__ import annotations

import sqlalchemy as sa

from roster.services.system import System

# Every table that holds a workspace's data; the ingestion log is counted on its own, since a
# message Segment's API drops is written there on purpose.
DATA_TABLES = (
    "people",
    "identifiers",
    "events",
    "devices",
    "relationships",
    "objects",
    "anonymous_relationships",
    "activities",
    "suppressions",
    "merges",
)


def count(system: System, table: str, workspace_id: int) -> int:
    with system.database.reader.connect() as connection:
        query = sa.text(f"select count(*) from {table} where workspace_id = :w")
        found: int = connection.execute(query, {"w": workspace_id}).scalar_one()
        return found


def footprint(system: System, workspace_id: int) -> dict[str, int]:
    """How many rows of each kind of data the workspace holds."""
    return {table: count(system, table, workspace_id) for table in DATA_TABLES}


def logged(system: System, workspace_id: int) -> int:
    """How many entries the workspace's ingestion log holds."""
    return count(system, "ingestion_log", workspace_id)
