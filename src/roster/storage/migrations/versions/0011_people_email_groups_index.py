"""people: the email index also orders each email's people oldest first, for the duplicate finder

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 08:15:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_OLD = "ix_people_workspace_id_email_folded"
_NEW = "ix_people_workspace_id_email_folded_created_in_roster_at_pk"


def upgrade() -> None:
    # The duplicate finder lists a shared email's oldest people first: with the creation time
    # and row number in the index that is a short walk, not a sort of everyone who has the email
    # (100,000 people sharing a placeholder email took a second on PostgreSQL). Look-ups by email
    # use the new index's first two columns, so the old one goes.
    op.create_index(_NEW, "people", ["workspace_id", "email_folded", "created_in_roster_at", "pk"])
    op.drop_index(_OLD, table_name="people")


def downgrade() -> None:
    op.create_index(_OLD, "people", ["workspace_id", "email_folded"])
    op.drop_index(_NEW, table_name="people")
