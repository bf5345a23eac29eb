"""suppressions: the door each came through, and an index for the list's keyset pages

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 05:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows suppressed before this revision keep door NULL: the list shows them as "unknown".
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("door", sa.String(length=16), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_suppressions_workspace_id_created_at_hash"),
            ["workspace_id", "created_at", "hash"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suppressions_workspace_id_created_at_hash"))
        batch_op.drop_column("door")
