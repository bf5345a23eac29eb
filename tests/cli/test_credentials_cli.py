"""`roster credentials list|new|revoke` (docs/api.md §6), on SQLite and PostgreSQL: a new key
is printed once and works, the old one and a revoked one are refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from roster.domain.errors import Unauthorized
from roster.services.system import System


def test_a_new_key_is_printed_once_and_replaces_the_old_one(
    roster_cli, system: System, workspace: dict[str, Any]
) -> None:
    made = roster_cli("credentials", "new", "app_api_key", "--json")
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["key"]
    assert "within 10 seconds" in made.stderr
    assert system.workspaces.for_app_key(key) == workspace["workspace_id"]
    with pytest.raises(Unauthorized):
        system.workspaces.for_app_key(workspace["app_api_key"])
    listed = json.loads(roster_cli("credentials", "list", "--json").stdout)["keys"]
    assert sorted(listed) == ["app_api_key", "track_api_key", "write_key"]
    assert all(isinstance(at, float) for at in listed.values())
    assert key not in roster_cli("credentials", "list").stdout


def test_revoke_asks_first_then_refuses_the_key_and_says_when_there_is_none(
    roster_cli, system: System, workspace: dict[str, Any]
) -> None:
    unasked = roster_cli("credentials", "revoke", "write_key")  # no one to answer: no
    assert unasked.returncode == 1
    assert system.workspaces.keys(workspace["workspace_id"])["write_key"] is not None

    revoked = roster_cli("credentials", "revoke", "write_key", "--yes")
    assert revoked.returncode == 0, revoked.stderr
    assert "Revoked the write_key" in revoked.stdout
    with pytest.raises(Unauthorized):
        system.workspaces.for_write_key(workspace["write_key"])
    listed = roster_cli("credentials", "list")
    assert "none (revoked)" in listed.stdout

    again = roster_cli("credentials", "revoke", "write_key", "--yes")
    assert again.returncode == 1
    assert "Nothing was changed: the workspace has no write_key to revoke." in again.stdout


def test_an_unknown_kind_of_key_exits_2_naming_the_kinds(roster_cli) -> None:
    refused = roster_cli("credentials", "new", "webhook_secret")
    assert refused.returncode == 2
    assert "a key is one of track_api_key, app_api_key, write_key" in refused.stderr
