"""objects and anonymous relationships

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:03:22.873972
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "anonymous_relationships",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("anonymous_id", sa.Text(), nullable=False),
        sa.Column("object_type_id", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.Text(), nullable=False),
        sa.Column(
            "attributes", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id",
            "anonymous_id",
            "object_type_id",
            "object_id",
            name=op.f("pk_anonymous_relationships"),
        ),
    )
    with op.batch_alter_table("anonymous_relationships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_anonymous_relationships_workspace_id_object_type_id_object_id"),
            ["workspace_id", "object_type_id", "object_id"],
            unique=False,
        )

    op.create_table(
        "objects",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("object_type_id", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.Text(), nullable=False),
        sa.Column(
            "attributes", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "workspace_id", "object_type_id", "object_id", name=op.f("pk_objects")
        ),
    )
    with op.batch_alter_table("relationships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_relationships_workspace_id_object_type_id_object_id"),
            ["workspace_id", "object_type_id", "object_id"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("relationships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relationships_workspace_id_object_type_id_object_id"))

    op.drop_table("objects")
    with op.batch_alter_table("anonymous_relationships", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_anonymous_relationships_workspace_id_object_type_id_object_id")
        )

    op.drop_table("anonymous_relationships")
