"""The schema. Every table leads with workspace_id, so a PostgreSQL deployment can be
distributed by workspace (docs/scaling.md). Identities are rows, not columns."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# INTEGER PRIMARY KEY is SQLite's rowid: the fastest key it has.
Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")


def _only_set(column: str) -> dict[str, Any]:
    """An index of only the rows where `column` is set, on both databases."""
    where = sa.text(f"{column} IS NOT NULL")
    return {"sqlite_where": where, "postgresql_where": where}


workspaces = sa.Table(
    "workspaces",
    metadata,
    sa.Column("workspace_id", Key, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("identifier_mode", sa.String(16), nullable=False),
    sa.Column("allow_email_update_by_id", sa.Boolean, nullable=False),
    sa.Column("auto_merge", sa.Boolean, nullable=False),
    sa.Column("strict_conflicts", sa.Boolean, nullable=False),
    sa.Column("anonymous_retention_days", sa.Integer, nullable=False),
    sa.Column("site_id", sa.String(64), nullable=False, unique=True),
    sa.Column("webhook_id", sa.String(64), nullable=False, unique=True),
    sa.Column("webhook_secret", sa.Text, nullable=False),  # encrypted with ROSTER_SECRET_KEY
    sa.Column("suppression_key", sa.Text, nullable=False),  # encrypted with ROSTER_SECRET_KEY
    sa.Column("created_at", sa.Float, nullable=False),
)

credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("workspace_id", Key, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # track_api_key | app_api_key | write_key
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),  # SHA-256 hex
    sa.Column("created_at", sa.Float, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "kind"),
)

people = sa.Table(
    "people",
    metadata,
    sa.Column("workspace_id", Key, nullable=False),
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("cio_id", sa.String(32), nullable=False),
    sa.Column("id", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("email_folded", sa.Text),  # lookups by email in both identifier modes
    sa.Column("attributes", Json, nullable=False),
    sa.Column("attribute_times", Json, nullable=False),
    sa.Column("created_in_roster_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("workspace_id", "cio_id"),
    # Look-ups by email, and each email's people oldest first for the duplicate finder (0011).
    sa.Index(None, "workspace_id", "email_folded", "created_in_roster_at", "pk"),
    # People search pages by row number; this walks only the people without an id ("email but
    # no id", docs/api.md §4) instead of scanning everyone for a sparse few (migration 0010).
    sa.Index(
        "ix_people_workspace_id_pk_without_id",
        "workspace_id",
        "pk",
        sqlite_where=sa.text("id IS NULL"),
        postgresql_where=sa.text("id IS NULL"),
    ),
    # A merged-away person's row number comes back with them on unmerge (I6.4): SQLite must
    # never hand it to someone new, which without AUTOINCREMENT it does for the highest one.
    sqlite_autoincrement=True,
)

identifiers = sa.Table(
    "identifiers",
    metadata,
    sa.Column("workspace_id", Key, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # id | email (case-folded) | anonymous_id
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("person_pk", Key, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "kind", "value"),
    sa.Index(None, "workspace_id", "person_pk"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("workspace_id", Key, nullable=False),
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.Text),
    sa.Column("person_pk", Key),  # NULL: an anonymous event not yet stitched (I7.1)
    sa.Column("anonymous_id", sa.Text),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("data", Json, nullable=False),
    sa.Column("timestamp", sa.Float, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("merge_id", Key),  # the merge that moved it here from another person (I6.4)
    sa.UniqueConstraint("workspace_id", "event_id"),
    # A person's timeline pages by (timestamp, pk) keyset cursors (docs/api.md §4).
    sa.Index(None, "workspace_id", "person_pk", "timestamp", "pk"),
    # Only the few rows that carry an anonymous id or a merge are in these two: every look-up
    # names a value, and each insert of an ordinary event writes two index entries fewer
    # (migration 0014, docs/benchmarks.md "Where the time goes").
    sa.Index(None, "workspace_id", "anonymous_id", **_only_set("anonymous_id")),
    sa.Index(None, "workspace_id", "merge_id", **_only_set("merge_id")),
)

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("workspace_id", Key, nullable=False),
    sa.Column("token", sa.Text, nullable=False),
    sa.Column("person_pk", Key, nullable=False),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("last_used", sa.BigInteger),
    sa.Column("attributes", Json, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "token"),
    sa.Index(None, "workspace_id", "person_pk"),
)

relationships = sa.Table(
    "relationships",
    metadata,
    sa.Column("workspace_id", Key, nullable=False),
    sa.Column("person_pk", Key, nullable=False),
    sa.Column("object_type_id", sa.String(64), nullable=False),
    sa.Column("object_id", sa.Text, nullable=False),
    sa.Column("attributes", Json, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "person_pk", "object_type_id", "object_id"),
    # An object's people in row-number order: its keyset pages (storage/reads.py).
    sa.Index(
        "ix_relationships_object_person", "workspace_id", "object_type_id", "object_id", "person_pk"
    ),
)

objects = sa.Table(
    "objects",
    metadata,
    sa.Column("workspace_id", Key, nullable=False),
    sa.Column("object_type_id", sa.String(64), nullable=False),
    sa.Column("object_id", sa.Text, nullable=False),
    sa.Column("attributes", Json, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "object_type_id", "object_id"),
)

# Relationships of an anonymous id that is no one's yet; they join the person with it (I7.2).
anonymous_relationships = sa.Table(
    "anonymous_relationships",
    metadata,
    sa.Column("workspace_id", Key, nullable=False),
    sa.Column("anonymous_id", sa.Text, nullable=False),
    sa.Column("object_type_id", sa.String(64), nullable=False),
    sa.Column("object_id", sa.Text, nullable=False),
    sa.Column("attributes", Json, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "anonymous_id", "object_type_id", "object_id"),
    sa.Index(
        "ix_anonymous_relationships_object_anonymous_id",
        "workspace_id",
        "object_type_id",
        "object_id",
        "anonymous_id",
    ),
)

activities = sa.Table(
    "activities",
    metadata,
    sa.Column("workspace_id", Key, nullable=False),
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("person_pk", Key),
    sa.Column("cio_id", sa.String(32)),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("data", Json),
    sa.Column("timestamp", sa.Float, nullable=False),
    sa.Column("merge_id", Key),  # the merge that moved it here from another person (I6.4)
    # A person's timeline pages by (timestamp, pk) keyset cursors (docs/api.md §4), by person or,
    # for a deleted person's remains, by cio_id.
    sa.Index(None, "workspace_id", "person_pk", "timestamp", "pk"),
    sa.Index(None, "workspace_id", "cio_id", "timestamp", "pk"),
    sa.Index(None, "workspace_id", "merge_id", **_only_set("merge_id")),
)

# One row per merge (I6): the secondary's whole before-image and the primary's values that the
# merge changed, so that the latest merge into a person can be undone (I6.4). Events and
# activities that a merge moved carry its pk in their merge_id column instead of being listed.
merges = sa.Table(
    "merges",
    metadata,
    sa.Column("workspace_id", Key, nullable=False),
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("primary_pk", Key, nullable=False),
    sa.Column("secondary_pk", Key, nullable=False),
    sa.Column("secondary_cio_id", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("merged_at", sa.Float, nullable=False),
    sa.Column("undone_at", sa.Float),
    sa.Column("secondary", Json, nullable=False),
    sa.Column("primary_before", Json, nullable=False),
    sa.Index(None, "workspace_id", "primary_pk", "pk"),
    sa.Index(None, "workspace_id", "secondary_cio_id"),
)

suppressions = sa.Table(
    "suppressions",
    metadata,
    sa.Column("workspace_id", Key, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),  # HMAC-SHA256, never the value (I9.2)
    sa.Column("group_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("door", sa.String(16)),  # where the suppression came from; NULL before 0004
    sa.PrimaryKeyConstraint("workspace_id", "hash"),
    sa.Index(None, "workspace_id", "group_hash"),
    sa.Index(None, "workspace_id", "created_at", "hash"),  # the list's keyset pages
)

ingestion_log = sa.Table(
    "ingestion_log",
    metadata,
    sa.Column("workspace_id", Key, nullable=False),
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("door", sa.String(16), nullable=False),
    sa.Column("type", sa.String(32)),
    sa.Column("message_id", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("identifier_hash", sa.String(64)),
    sa.Index(None, "workspace_id", "pk"),
)

# Identifier conflicts and refused identifier changes (I5.2), one row per identifier, door and
# person the call was about, counted: the conflicts list and its resolution (docs/api.md §5).
conflicts = sa.Table(
    "conflicts",
    metadata,
    sa.Column("workspace_id", Key, nullable=False),
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),  # id | email | anonymous_id
    sa.Column("value", sa.Text, nullable=False),  # as normalised for matching
    sa.Column("door", sa.String(16), nullable=False),
    sa.Column("person_pk", Key, nullable=False),  # the person the call was about
    sa.Column("holder_pk", Key),  # the person holding the identifier then; NULL: none
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("first_seen", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.Column("resolved_at", sa.Float),
    sa.UniqueConstraint("workspace_id", "kind", "value", "door", "person_pk"),
    sa.Index(None, "workspace_id", "person_pk"),
    sa.Index(None, "workspace_id", "holder_pk"),
)

# Transactional messages accepted by /v1/send/*: recorded, never sent (docs/api.md §4).
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("workspace_id", Key, nullable=False),
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # email | push | sms | inbox_message | in_app
    sa.Column("person_pk", Key),  # NULL once the person is deleted
    sa.Column("cio_id", sa.String(32)),
    sa.Column("message", Json, nullable=False),  # the validated request body
    sa.Column("queued_at", sa.Float, nullable=False),
    sa.UniqueConstraint("workspace_id", "delivery_id"),
    sa.Index(None, "workspace_id", "person_pk"),
)

# CSV exports of people (docs/api.md §4): what to export; the file is streamed on download.
exports = sa.Table(
    "exports",
    metadata,
    sa.Column("workspace_id", Key, nullable=False),
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("status", sa.String(16), nullable=False),  # pending | done | failed
    sa.Column("filter", Json),
    sa.Column("attributes", Json),
    sa.Column("total", sa.BigInteger),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float),
    sa.Column("error", sa.Text),
)

# Web UI logins (docs/web.md). A login is not a workspace's: one may see several workspaces, so
# `users` is, like `workspaces`, a table of the whole deployment. What a login may see leads with
# the workspace; a login with no rows there sees every workspace (an administrator).
users = sa.Table(
    "users",
    metadata,
    sa.Column("pk", Key, primary_key=True, autoincrement=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),  # folded to lower case
    sa.Column("password_hash", sa.Text, nullable=False),  # Argon2id, with its own salt
    sa.Column("created_at", sa.Float, nullable=False),
)

user_workspaces = sa.Table(
    "user_workspaces",
    metadata,
    sa.Column("workspace_id", Key, nullable=False),
    sa.Column("user_pk", Key, nullable=False),
    sa.PrimaryKeyConstraint("workspace_id", "user_pk"),
    sa.Index(None, "user_pk"),
)

# A session is known by the SHA-256 of its cookie's token; the token itself is never stored.
ui_sessions = sa.Table(
    "ui_sessions",
    metadata,
    sa.Column("workspace_id", Key),  # the workspace the login is looking at
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_pk", Key, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Index(None, "user_pk"),
)
