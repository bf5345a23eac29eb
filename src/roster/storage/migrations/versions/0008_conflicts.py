"""conflicts: identifier conflicts and refused identifier changes, counted per door

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 07:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "conflicts",
        sa.Column("workspace_id", Key, nullable=False),
        sa.Column("pk", Key, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("door", sa.String(16), nullable=False),
        sa.Column("person_pk", Key, nullable=False),
        sa.Column("holder_pk", Key),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("first_seen", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
        sa.Column("resolved_at", sa.Float),
        sa.PrimaryKeyConstraint("pk", name="pk_conflicts"),
        sa.UniqueConstraint(
            "workspace_id",
            "kind",
            "value",
            "door",
            "person_pk",
            name="uq_conflicts_workspace_id_kind_value_door_person_pk",
        ),
    )
    op.create_index(
        "ix_conflicts_workspace_id_person_pk", "conflicts", ["workspace_id", "person_pk"]
    )
    op.create_index(
        "ix_conflicts_workspace_id_holder_pk", "conflicts", ["workspace_id", "holder_pk"]
    )


def downgrade() -> None:
    op.drop_table("conflicts")
