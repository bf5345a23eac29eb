"""people: a partial index of the people without an id, for the people search's pages

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 08:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_NAME = "ix_people_workspace_id_pk_without_id"


def upgrade() -> None:
    # "People with an email but no id" pages by row number: walking this index reads only the
    # people without an id, however few they are among millions (docs/decisions.md).
    op.create_index(
        _NAME,
        "people",
        ["workspace_id", "pk"],
        unique=False,
        sqlite_where=sa.text("id IS NULL"),
        postgresql_where=sa.text("id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(_NAME, table_name="people")
