"""Workspaces and their credentials: keys stored as SHA-256 hashes, secrets sealed."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from roster.domain.identifiers import IdentifierMode
from roster.domain.workspace import WorkspaceRules
from roster.storage.tables import credentials, workspaces
from roster.storage.vault import Vault, key_hash, new_key

KEY_KINDS = ("track_api_key", "app_api_key", "write_key")

_RULE_COLUMNS = (
    workspaces.c.workspace_id,
    workspaces.c.identifier_mode,
    workspaces.c.allow_email_update_by_id,
    workspaces.c.auto_merge,
    workspaces.c.strict_conflicts,
    workspaces.c.anonymous_retention_days,
    workspaces.c.suppression_key,
)

# Sealed suppression keys never change, so opening each once per process is enough.
_opened_keys: dict[tuple[int, str], bytes] = {}


@dataclass(frozen=True)
class WorkspaceRow:
    workspace_id: int
    name: str
    site_id: str
    webhook_id: str
    identifier_mode: str
    allow_email_update_by_id: bool
    auto_merge: bool
    strict_conflicts: bool
    anonymous_retention_days: int
    created_at: float


def _rules_from_row(row: Any, vault: Vault) -> WorkspaceRules:
    cache_key = (row.workspace_id, row.suppression_key)
    if cache_key not in _opened_keys:
        _opened_keys[cache_key] = vault.open(row.suppression_key)
    return WorkspaceRules(
        workspace_id=row.workspace_id,
        identifier_mode=IdentifierMode(row.identifier_mode),
        allow_email_update_by_id=row.allow_email_update_by_id,
        auto_merge=row.auto_merge,
        strict_conflicts=row.strict_conflicts,
        anonymous_retention_days=row.anonymous_retention_days,
        suppression_secret=_opened_keys[cache_key],
    )


def load_rules(connection: sa.Connection, workspace_id: int, vault: Vault) -> WorkspaceRules:
    row = connection.execute(
        sa.select(*_RULE_COLUMNS).where(workspaces.c.workspace_id == workspace_id)
    ).one()
    return _rules_from_row(row, vault)


def create(
    connection: sa.Connection,
    vault: Vault,
    name: str,
    identifier_mode: IdentifierMode = IdentifierMode.EMAIL_OR_ID,
    allow_email_update_by_id: bool = False,
) -> dict[str, Any]:
    """Create a workspace; the answer is the only place its keys are ever shown."""
    now = time.time()
    webhook_secret = secrets.token_hex(32)
    site_id = secrets.token_hex(10)
    webhook_id = secrets.token_urlsafe(24)
    workspace_id = connection.execute(
        workspaces.insert().values(
            name=name,
            identifier_mode=identifier_mode.value,
            allow_email_update_by_id=allow_email_update_by_id,
            auto_merge=True,
            strict_conflicts=False,
            anonymous_retention_days=30,
            site_id=site_id,
            webhook_id=webhook_id,
            webhook_secret=vault.seal(webhook_secret.encode()),
            suppression_key=vault.seal(secrets.token_bytes(32)),
            created_at=now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    keys = {kind: new_key() for kind in KEY_KINDS}
    for kind, key in keys.items():
        connection.execute(
            credentials.insert().values(
                workspace_id=workspace_id, kind=kind, key_hash=key_hash(key), created_at=now
            )
        )
    return {
        "workspace_id": workspace_id,
        "name": name,
        "site_id": site_id,
        **keys,
        "webhook_id": webhook_id,
        "webhook_secret": webhook_secret,
    }


def _row(row: Any) -> WorkspaceRow:
    return WorkspaceRow(
        workspace_id=row.workspace_id,
        name=row.name,
        site_id=row.site_id,
        webhook_id=row.webhook_id,
        identifier_mode=row.identifier_mode,
        allow_email_update_by_id=row.allow_email_update_by_id,
        auto_merge=row.auto_merge,
        strict_conflicts=row.strict_conflicts,
        anonymous_retention_days=row.anonymous_retention_days,
        created_at=row.created_at,
    )


_ROW_COLUMNS = (
    workspaces.c.workspace_id,
    workspaces.c.name,
    workspaces.c.site_id,
    workspaces.c.webhook_id,
    workspaces.c.identifier_mode,
    workspaces.c.allow_email_update_by_id,
    workspaces.c.auto_merge,
    workspaces.c.strict_conflicts,
    workspaces.c.anonymous_retention_days,
    workspaces.c.created_at,
)


def all_rows(connection: sa.Connection) -> list[WorkspaceRow]:
    query = sa.select(*_ROW_COLUMNS).order_by(workspaces.c.workspace_id)
    return [_row(row) for row in connection.execute(query)]


def by_name(connection: sa.Connection, name: str) -> WorkspaceRow | None:
    row = connection.execute(sa.select(*_ROW_COLUMNS).where(workspaces.c.name == name)).first()
    return _row(row) if row else None


def by_id(connection: sa.Connection, workspace_id: int) -> WorkspaceRow | None:
    row = connection.execute(
        sa.select(*_ROW_COLUMNS).where(workspaces.c.workspace_id == workspace_id)
    ).first()
    return _row(row) if row else None


def workspace_for_key(connection: sa.Connection, kind: str, key: str) -> int | None:
    """The workspace whose key of that kind hashes to this key's hash."""
    return connection.execute(
        sa.select(credentials.c.workspace_id).where(
            credentials.c.kind == kind, credentials.c.key_hash == key_hash(key)
        )
    ).scalar_one_or_none()


def workspace_for_site(connection: sa.Connection, site_id: str, key: str) -> int | None:
    """Track API credentials: the site id names the workspace, the key must match its hash."""
    return connection.execute(
        sa.select(workspaces.c.workspace_id)
        .select_from(
            workspaces.join(credentials, credentials.c.workspace_id == workspaces.c.workspace_id)
        )
        .where(
            workspaces.c.site_id == site_id,
            credentials.c.kind == "track_api_key",
            credentials.c.key_hash == key_hash(key),
        )
    ).scalar_one_or_none()


def key_dates(connection: sa.Connection, workspace_id: int) -> dict[str, float]:
    """When each of the workspace's keys was made, by kind; a revoked kind is absent."""
    rows = connection.execute(
        sa.select(credentials.c.kind, credentials.c.created_at).where(
            credentials.c.workspace_id == workspace_id
        )
    )
    return {row.kind: row.created_at for row in rows}


def replace_key(connection: sa.Connection, workspace_id: int, kind: str, now: float) -> str:
    """A new key of that kind for the workspace, in place of the one it had (if any): the
    answer is the only place it is ever shown."""
    assert kind in KEY_KINDS
    remove_key(connection, workspace_id, kind)
    key = new_key()
    connection.execute(
        credentials.insert().values(
            workspace_id=workspace_id, kind=kind, key_hash=key_hash(key), created_at=now
        )
    )
    return key


def remove_key(connection: sa.Connection, workspace_id: int, kind: str) -> bool:
    """Revoke the workspace's key of that kind; whether it had one."""
    removed = connection.execute(
        credentials.delete().where(
            credentials.c.workspace_id == workspace_id, credentials.c.kind == kind
        )
    )
    return bool(removed.rowcount)


def sealed_webhook_secret(connection: sa.Connection, workspace_id: int) -> str | None:
    return connection.execute(
        sa.select(workspaces.c.webhook_secret).where(workspaces.c.workspace_id == workspace_id)
    ).scalar_one_or_none()


def webhook(connection: sa.Connection, webhook_id: str) -> tuple[int, str] | None:
    """The workspace behind a webhook URL and its sealed webhook secret."""
    row = connection.execute(
        sa.select(workspaces.c.workspace_id, workspaces.c.webhook_secret).where(
            workspaces.c.webhook_id == webhook_id
        )
    ).first()
    return (row.workspace_id, row.webhook_secret) if row is not None else None


def update_settings(connection: sa.Connection, workspace_id: int, **settings: Any) -> None:
    values = {
        key: value.value if isinstance(value, IdentifierMode) else value
        for key, value in settings.items()
    }
    connection.execute(
        workspaces.update().where(workspaces.c.workspace_id == workspace_id).values(**values)
    )
