"""exports: CSV exports of people, streamed on download

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 07:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("workspace_id", Key, nullable=False),
        sa.Column("pk", Key, autoincrement=True, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("filter", Json),
        sa.Column("attributes", Json),
        sa.Column("total", sa.BigInteger),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("pk", name="pk_exports"),
    )


def downgrade() -> None:
    op.drop_table("exports")
