"""relationships: an object's people and waiting anonymous ids indexed in page order

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# (table, old index, new index, the column the object's entries are paged by)
_INDEXES = (
    (
        "relationships",
        "ix_relationships_workspace_id_object_type_id_object_id",
        "ix_relationships_object_person",
        "person_pk",
    ),
    (
        "anonymous_relationships",
        "ix_anonymous_relationships_workspace_id_object_type_id_object_id",
        "ix_anonymous_relationships_object_anonymous_id",
        "anonymous_id",
    ),
)
_OBJECT = ["workspace_id", "object_type_id", "object_id"]


def upgrade() -> None:
    # GET /v1/objects pages an object's people by row number and its anonymous ids by value:
    # with that column last in the index a page is a short walk, not a sort of everyone related
    # to the object. Look-ups by object use the new index's first three columns, so the old one
    # goes.
    for table, old, new, column in _INDEXES:
        op.create_index(new, table, [*_OBJECT, column])
        op.drop_index(op.f(old), table_name=table)  # named as 0002 made it (op.f shortens)


def downgrade() -> None:
    for table, old, new, _ in _INDEXES:
        op.create_index(op.f(old), table, _OBJECT)
        op.drop_index(new, table_name=table)
