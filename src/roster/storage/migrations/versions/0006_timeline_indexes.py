"""activities and events: indexes for a person's timeline pages by (timestamp, pk)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 07:45:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# (table, index dropped, index created, columns created)
_CHANGES = (
    (
        "activities",
        "ix_activities_workspace_id_person_pk",
        "ix_activities_workspace_id_person_pk_timestamp_pk",
        ["workspace_id", "person_pk", "timestamp", "pk"],
    ),
    (
        "activities",
        "ix_activities_workspace_id_cio_id",
        "ix_activities_workspace_id_cio_id_timestamp_pk",
        ["workspace_id", "cio_id", "timestamp", "pk"],
    ),
    (
        "events",
        "ix_events_workspace_id_person_pk_timestamp",
        "ix_events_workspace_id_person_pk_timestamp_pk",
        ["workspace_id", "person_pk", "timestamp", "pk"],
    ),
)


def upgrade() -> None:
    for table, old, new, columns in _CHANGES:
        op.create_index(new, table, columns, unique=False)
        op.drop_index(old, table_name=table)


def downgrade() -> None:
    for table, old, new, columns in _CHANGES:
        op.create_index(old, table, columns[:-1] if table == "events" else columns[:2])
        op.drop_index(new, table_name=table)
