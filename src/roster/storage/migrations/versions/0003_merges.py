"""merges: a table of merge records, and merge_id on moved events and activities

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 05:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "merges",
        sa.Column("workspace_id", _KEY, nullable=False),
        sa.Column("pk", _KEY, autoincrement=True, nullable=False),
        sa.Column("primary_pk", _KEY, nullable=False),
        sa.Column("secondary_pk", _KEY, nullable=False),
        sa.Column("secondary_cio_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("merged_at", sa.Float(), nullable=False),
        sa.Column("undone_at", sa.Float(), nullable=True),
        sa.Column("secondary", _JSON, nullable=False),
        sa.Column("primary_before", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_merges")),
    )
    with op.batch_alter_table("merges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merges_workspace_id_primary_pk_pk"),
            ["workspace_id", "primary_pk", "pk"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_merges_workspace_id_secondary_cio_id"),
            ["workspace_id", "secondary_cio_id"],
            unique=False,
        )
    for table in ("events", "activities"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("merge_id", _KEY, nullable=True))
            batch_op.create_index(
                batch_op.f(f"ix_{table}_workspace_id_merge_id"),
                ["workspace_id", "merge_id"],
                unique=False,
            )


def downgrade() -> None:
    for table in ("activities", "events"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_workspace_id_merge_id"))
            batch_op.drop_column("merge_id")
    with op.batch_alter_table("merges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merges_workspace_id_secondary_cio_id"))
        batch_op.drop_index(batch_op.f("ix_merges_workspace_id_primary_pk_pk"))
    op.drop_table("merges")
