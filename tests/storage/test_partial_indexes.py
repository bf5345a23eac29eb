"""The anonymous-id and merge indexes of events and activities hold only the rows that have one
(migration 0014), and the statements that look rows up by those columns still use them, on
both databases (docs/benchmarks.md, "Where the time goes")."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from roster.services.system import System

# (index, its column, a look-up the write path runs: the shape of storage's own statements)
LOOKUPS = (
    (
        "ix_events_workspace_id_anonymous_id",
        "anonymous_id",
        "UPDATE events SET person_pk = 1 WHERE workspace_id = 1 AND anonymous_id = 'a' "
        "AND person_pk IS NULL",
    ),
    (
        "ix_events_workspace_id_merge_id",
        "merge_id",
        "UPDATE events SET merge_id = NULL WHERE workspace_id = 1 AND merge_id = 7",
    ),
    (
        "ix_activities_workspace_id_merge_id",
        "merge_id",
        "UPDATE activities SET person_pk = 1 WHERE workspace_id = 1 AND person_pk IS NULL "
        "AND merge_id = 7",
    ),
)


@pytest.mark.parametrize(("index", "column", "lookup"), LOOKUPS, ids=[i for i, *_ in LOOKUPS])
def test_the_index_holds_only_rows_that_have_the_value_and_serves_its_lookup(
    system: System, index: str, column: str, lookup: str
):
    with system.database.writer.connect() as connection:
        if connection.dialect.name == "sqlite":
            (definition,) = connection.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": index}
            ).one()
            plan = connection.execute(sa.text(f"EXPLAIN QUERY PLAN {lookup}")).all()
            used = " ".join(str(row[-1]) for row in plan)
        else:
            (definition,) = connection.execute(
                sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": index}
            ).one()
            connection.execute(sa.text("SET LOCAL enable_seqscan = off"))
            plan = connection.execute(sa.text(f"EXPLAIN {lookup}")).all()
            used = " ".join(row[0] for row in plan)
            connection.rollback()
    assert f"{column} IS NOT NULL" in definition.replace("(", "").replace(")", "")
    assert index in used, f"{lookup!r} does not use {index}: {used}"
