"""events, activities: the anonymous-id and merge indexes hold only the rows that have one

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 05:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# (table, column): each indexed as (workspace_id, column), named as 0001 and 0003 made them.
_INDEXES = (("events", "anonymous_id"), ("events", "merge_id"), ("activities", "merge_id"))


def _name(table: str, column: str) -> str:
    return f"ix_{table}_workspace_id_{column}"


def upgrade() -> None:
    # Most events carry no anonymous id and almost no row carries a merge, and every look-up
    # names a value (`= :value`, or `IS NOT NULL`): an index of only the rows that have one
    # answers each of them, and an ordinary event or activity writes two entries fewer
    # (docs/benchmarks.md, "Where the time goes").
    for table, column in _INDEXES:
        op.drop_index(_name(table, column), table_name=table)
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            _name(table, column),
            table,
            ["workspace_id", column],
            sqlite_where=where,
            postgresql_where=where,
        )


def downgrade() -> None:
    for table, column in _INDEXES:
        op.drop_index(_name(table, column), table_name=table)
        op.create_index(_name(table, column), table, ["workspace_id", column])
