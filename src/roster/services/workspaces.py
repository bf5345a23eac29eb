"""Workspaces: create, list, authenticate (with a small cache), change settings, and replace or
revoke their keys."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from roster.domain.errors import InvalidInput, NotFound, SettingRefused, Unauthorized
from roster.domain.identifiers import IdentifierMode, looks_like_email
from roster.storage import workspaces as rows
from roster.storage.database import Database
from roster.storage.switch import drop_email_identifiers, emails_blocking_switch
from roster.storage.vault import Vault, key_hash
from roster.storage.writer import Transaction, Writer

_CACHE_SECONDS = 10.0
KEY_KINDS = rows.KEY_KINDS  # a workspace's keys, one of each kind at most
SETTINGS = (
    "identifier_mode",
    "allow_email_update_by_id",
    "auto_merge",
    "strict_conflicts",
    "anonymous_retention_days",
)
# A new key is shown once, on the page the browser is sent to after the form that made it; the
# sealed note that carries it there is good for this long.
SHOWN_ONCE_SECONDS = 60
# A century: longer is "keep forever" in practice, and stays far inside a 32-bit column.
MAX_RETENTION_DAYS = 36_500


class Workspaces:
    def __init__(self, database: Database, writer: Writer, vault: Vault) -> None:
        self._database = database
        self._writer = writer
        self._vault = vault
        # (kind, scope, SHA-256 of the key) -> (workspace, until): the scope is the site id of
        # a Track API key, "" for the others.
        self._keys: dict[tuple[str, str, str], tuple[int, float]] = {}
        # When this process last replaced or revoked a workspace's key (monotonic seconds): a
        # look-up that began before then is not cached, so an old key cannot slip back in.
        self._keys_changed: dict[int, float] = {}
        self._modes: dict[int, tuple[IdentifierMode, float]] = {}
        self._webhooks: dict[str, tuple[int, bytes, float]] = {}

    # -- create and list --------------------------------------------------------------------------

    def create(
        self,
        name: str,
        identifier_mode: IdentifierMode = IdentifierMode.EMAIL_OR_ID,
        allow_email_update_by_id: bool = False,
    ) -> dict[str, Any]:
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput("a workspace name needs 1 to 200 characters", field="name")

        def work(tx: Transaction) -> dict[str, Any]:
            if rows.by_name(tx.connection, name) is not None:
                raise InvalidInput(f"a workspace named '{name}' already exists", field="name")
            return rows.create(
                tx.connection, self._vault, name, identifier_mode, allow_email_update_by_id
            )

        created: dict[str, Any] = self._writer.run_sync(work)
        return created

    def list(self) -> list[dict[str, Any]]:
        with self._database.reader.connect() as connection:
            return [asdict(row) for row in rows.all_rows(connection)]

    def get(self, workspace_id: int) -> dict[str, Any]:
        with self._database.reader.connect() as connection:
            row = rows.by_id(connection, workspace_id)
        if row is None:
            raise NotFound(f"no workspace {workspace_id}")
        return asdict(row)

    # -- credentials ------------------------------------------------------------------------------

    def cached(self, kind: str, scope: str, secret: str) -> int | None:
        """The workspace `secret` (a key of `kind`; for a Track API key, `scope` is the site id,
        else "") was found for within the last _CACHE_SECONDS, without the database: None when
        it was not, and `authenticate` must look."""
        hit = self._keys.get((kind, scope, key_hash(secret)))
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    def authenticate(self, kind: str, scope: str, secret: str) -> int:
        """The workspace of a key (as `cached` names it), from the cache or the database;
        Unauthorized when no workspace holds it."""
        hit = self.cached(kind, scope, secret)
        if hit is not None:
            return hit
        now = time.monotonic()
        with self._database.reader.connect() as connection:
            if kind == "track_api_key":
                workspace_id = rows.workspace_for_site(connection, scope, secret)
            else:
                workspace_id = rows.workspace_for_key(connection, kind, secret)
        if workspace_id is None:
            raise Unauthorized()
        if len(self._keys) > 10_000:
            self._keys.clear()
        if self._keys_changed.get(int(workspace_id), float("-inf")) < now:
            self._keys[(kind, scope, key_hash(secret))] = (int(workspace_id), now + _CACHE_SECONDS)
        return int(workspace_id)

    def for_track(self, site_id: str, api_key: str) -> int:
        return self.authenticate("track_api_key", site_id, api_key)

    def for_app_key(self, key: str) -> int:
        return self.authenticate("app_api_key", "", key)

    def for_write_key(self, key: str) -> int:
        return self.authenticate("write_key", "", key)

    def mode(self, workspace_id: int) -> IdentifierMode:
        """The workspace's identifier mode, which decides how a path reference reads (I2).
        Cached like credentials; a change made in this process is seen at once, one made by
        another process within _CACHE_SECONDS."""
        hit = self._modes.get(workspace_id)
        now = time.monotonic()
        if hit is not None and hit[1] > now:
            return hit[0]
        mode = IdentifierMode(self.get(workspace_id)["identifier_mode"])
        self._modes[workspace_id] = (mode, now + _CACHE_SECONDS)
        return mode

    def for_webhook(self, webhook_id: str) -> tuple[int, bytes]:
        """The workspace a webhook URL names, and its webhook secret (cached like keys)."""
        hit = self._webhooks.get(webhook_id)
        now = time.monotonic()
        if hit is not None and hit[2] > now:
            return hit[0], hit[1]
        with self._database.reader.connect() as connection:
            found = rows.webhook(connection, webhook_id)
        if found is None:
            raise Unauthorized("unknown webhook")
        workspace_id, sealed = found
        secret = self._vault.open(sealed)
        self._webhooks[webhook_id] = (workspace_id, secret, now + _CACHE_SECONDS)
        return workspace_id, secret

    # -- keys -------------------------------------------------------------------------------------

    def keys(self, workspace_id: int) -> dict[str, float | None]:
        """When each kind of key (KEY_KINDS) was made; None for a kind revoked and not made
        again. The keys themselves are not known: only their SHA-256 is stored."""
        self.get(workspace_id)
        with self._database.reader.connect() as connection:
            made = rows.key_dates(connection, workspace_id)
        return {kind: made.get(kind) for kind in KEY_KINDS}

    def new_key(self, workspace_id: int, kind: str) -> str:
        """A new key of that kind, in place of the workspace's current one, which stops working
        at once in this process and within _CACHE_SECONDS in the others. The answer is the only
        place the new key is ever shown."""
        kind = _key_kind(kind)

        def work(tx: Transaction) -> str:
            if rows.by_id(tx.connection, workspace_id) is None:
                raise NotFound(f"no workspace {workspace_id}")
            return rows.replace_key(tx.connection, workspace_id, kind, tx.now)

        key: str = self._writer.run_sync(work)
        self._forget_keys(workspace_id, kind)
        return key

    def revoke_key(self, workspace_id: int, kind: str) -> None:
        """Remove the workspace's key of that kind: calls with it are refused (401) at once in
        this process and within _CACHE_SECONDS in the others. NotFound when there is none."""
        kind = _key_kind(kind)

        def work(tx: Transaction) -> bool:
            return rows.remove_key(tx.connection, workspace_id, kind)

        removed: bool = self._writer.run_sync(work)
        self._forget_keys(workspace_id, kind)
        if not removed:
            raise NotFound(f"the workspace has no {kind} to revoke")

    def _forget_keys(self, workspace_id: int, kind: str) -> None:
        """Drop this process's cached look-ups of the workspace's keys of that kind."""
        self._keys_changed[workspace_id] = time.monotonic()
        for cache_key, (owner, _) in list(self._keys.items()):
            if owner == workspace_id and cache_key[0] == kind:
                self._keys.pop(cache_key, None)

    def webhook_secret(self, workspace_id: int) -> str:
        """The secret Segment signs webhook calls with (stored encrypted, opened here)."""
        with self._database.reader.connect() as connection:
            sealed = rows.sealed_webhook_secret(connection, workspace_id)
        if sealed is None:
            raise NotFound(f"no workspace {workspace_id}")
        return self._vault.open(sealed).decode()

    def seal_shown_once(self, values: dict[str, str]) -> str:
        """Text to hand the browser once (a new key on its way to the page that shows it),
        encrypted with ROSTER_SECRET_KEY so that it is never in clear outside the page."""
        return self._vault.seal(json.dumps(values).encode())

    def open_shown_once(self, sealed: str) -> dict[str, str] | None:
        """What seal_shown_once sealed, if it was sealed here within SHOWN_ONCE_SECONDS."""
        opened = self._vault.open_recent(sealed, SHOWN_ONCE_SECONDS)
        if opened is None:
            return None
        values = json.loads(opened)
        return values if isinstance(values, dict) else None

    # -- settings ---------------------------------------------------------------------------------

    def settings(self, workspace_id: int) -> dict[str, Any]:
        """The workspace's identity settings (docs/identity.md I1.5), and nothing else."""
        row = self.get(workspace_id)
        return {name: row[name] for name in SETTINGS}

    def change_settings(self, workspace_id: int, /, **settings: Any) -> dict[str, Any]:
        """Change any of SETTINGS; every value is checked before anything is written, so a
        refused change leaves the workspace as it was. (Positional-only: a request body's keys
        arrive as **settings, and one named "workspace_id" must be an unknown setting.)"""
        for name in sorted(settings):
            settings[name] = _checked_setting(name, settings[name])

        def work(tx: Transaction) -> None:
            current = rows.by_id(tx.connection, workspace_id)
            if current is None:
                raise NotFound(f"no workspace {workspace_id}")
            wanted = settings.get("identifier_mode")
            if (
                wanted is IdentifierMode.EMAIL_OR_ID
                and current.identifier_mode == IdentifierMode.ID_ONLY.value
            ):
                self._check_emails_unique(tx, workspace_id)
            if (
                wanted is IdentifierMode.ID_ONLY
                and current.identifier_mode == IdentifierMode.EMAIL_OR_ID.value
            ):
                drop_email_identifiers(tx.connection, workspace_id)
            if settings:
                rows.update_settings(tx.connection, workspace_id, **settings)

        self._writer.run_sync(work)
        # Path references are read with the cached mode: this process sees the change at once;
        # other server processes within _CACHE_SECONDS (docs/decisions.md).
        self._modes.pop(workspace_id, None)
        return self.get(workspace_id)

    @staticmethod
    def _check_emails_unique(tx: Transaction, workspace_id: int) -> None:
        """I1.4: an id_only workspace becomes email_or_id only when its emails can identify."""
        holders = emails_blocking_switch(tx.connection, workspace_id, looks_like_email)
        if holders:
            raise SettingRefused(
                "this workspace cannot switch to email_or_id while several people share an "
                f"email or an email is invalid: {len(holders)} people (see holders) need a "
                "merge or a new email first",
                holders=holders,
            )


def _key_kind(kind: str) -> str:
    if kind not in KEY_KINDS:
        raise InvalidInput(f"a key is one of {', '.join(KEY_KINDS)}", field="kind")
    return kind


def _checked_setting(name: str, value: Any) -> Any:
    """One setting's value as stored, or InvalidInput naming it. Booleans must be booleans: a
    string "false" is truthy, and reading it as on would be the opposite of what was meant."""
    if name == "identifier_mode":
        if isinstance(value, str):
            try:
                return IdentifierMode(value)
            except ValueError:
                pass
        raise InvalidInput("identifier_mode must be email_or_id or id_only", field=name)
    if name in ("allow_email_update_by_id", "auto_merge", "strict_conflicts"):
        if not isinstance(value, bool):
            raise InvalidInput(f"{name} must be true or false", field=name)
        return value
    if name == "anonymous_retention_days":
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not 1 <= value <= MAX_RETENTION_DAYS
        ):
            raise InvalidInput(
                f"anonymous_retention_days must be a whole number of days from 1 to "
                f"{MAX_RETENTION_DAYS}",
                field=name,
            )
        return value
    raise InvalidInput(f"unknown setting '{name}'", field=name)
