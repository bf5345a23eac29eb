"""people: SQLite never reuses a person's row number (AUTOINCREMENT)

An unmerge gives the secondary back under the row number it had (I6.4). Without AUTOINCREMENT,
SQLite gives a new row the highest row number plus one, which is the merged-away person's when
they were the newest. PostgreSQL's sequences never go back, so it needs nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 06:20:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # SQLite can only change this by copying the table into a new one.
    with op.batch_alter_table(
        "people", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
