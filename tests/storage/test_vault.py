"""Secrets sealed at rest; API keys kept only as hashes."""

from __future__ import annotations

import stat
import time

import pytest
import sqlalchemy as sa

from roster.services.system import System
from roster.storage.tables import credentials, workspaces
from roster.storage.vault import Vault, key_hash, load_or_create_key


def test_sealed_values_open_only_with_the_same_key():
    sealed = Vault("one key").seal(b"webhook secret")
    assert Vault("one key").open(sealed) == b"webhook secret"
    with pytest.raises(RuntimeError, match="ROSTER_SECRET_KEY"):
        Vault("another key").open(sealed)


def test_a_recent_value_opens_only_while_it_is_recent_and_with_the_same_key():
    vault = Vault("one key")
    sealed = vault.seal(b"a new key")
    assert vault.open_recent(sealed, 60) == b"a new key"
    assert vault.open_recent(sealed, 60, now=time.time() + 120) is None
    assert Vault("another key").open_recent(sealed, 60) is None
    assert vault.open_recent("not a sealed value", 60) is None


def test_a_generated_key_is_saved_with_mode_0600_and_reused(tmp_path):
    key = load_or_create_key(None, tmp_path)
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    assert load_or_create_key(None, tmp_path) == key
    assert load_or_create_key("configured", tmp_path) == "configured"


def test_keys_and_secrets_never_stored_in_clear(system: System):
    created = system.workspaces.create("vault-check-" + str(id(system)))
    with system.database.reader.connect() as connection:
        hashes = set(
            connection.execute(
                sa.select(credentials.c.key_hash).where(
                    credentials.c.workspace_id == created["workspace_id"]
                )
            ).scalars()
        )
        row = connection.execute(
            sa.select(workspaces).where(workspaces.c.workspace_id == created["workspace_id"])
        ).one()
    for kind in ("track_api_key", "app_api_key", "write_key"):
        assert created[kind] not in hashes
        assert key_hash(created[kind]) in hashes
    assert created["webhook_secret"] not in row.webhook_secret


def test_a_new_key_is_stored_only_as_its_hash(system: System):
    created = system.workspaces.create("vault-new-key-" + str(id(system)))
    new = system.workspaces.new_key(created["workspace_id"], "write_key")
    with system.database.reader.connect() as connection:
        stored = connection.execute(
            sa.select(credentials.c.key_hash).where(
                credentials.c.workspace_id == created["workspace_id"],
                credentials.c.kind == "write_key",
            )
        ).scalar_one()
    assert stored == key_hash(new) != new
