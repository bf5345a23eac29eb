"""ui logins: users, the workspaces each may see, and their sessions (docs/web.md)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("pk", Key, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "user_workspaces",
        sa.Column("workspace_id", Key, nullable=False),
        sa.Column("user_pk", Key, nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "user_pk", name="pk_user_workspaces"),
    )
    op.create_index("ix_user_workspaces_user_pk", "user_workspaces", ["user_pk"])
    op.create_table(
        "ui_sessions",
        sa.Column("workspace_id", Key),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_pk", Key, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_ui_sessions"),
    )
    op.create_index("ix_ui_sessions_user_pk", "ui_sessions", ["user_pk"])


def downgrade() -> None:
    op.drop_table("ui_sessions")
    op.drop_table("user_workspaces")
    op.drop_table("users")
