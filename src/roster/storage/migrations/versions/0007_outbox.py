"""outbox: transactional messages accepted by /v1/send/*, recorded and never sent

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 07:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("workspace_id", Key, nullable=False),
        sa.Column("pk", Key, autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("person_pk", Key),
        sa.Column("cio_id", sa.String(32)),
        sa.Column("message", Json, nullable=False),
        sa.Column("queued_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_outbox"),
        sa.UniqueConstraint(
            "workspace_id", "delivery_id", name="uq_outbox_workspace_id_delivery_id"
        ),
    )
    op.create_index("ix_outbox_workspace_id_person_pk", "outbox", ["workspace_id", "person_pk"])


def downgrade() -> None:
    op.drop_table("outbox")
