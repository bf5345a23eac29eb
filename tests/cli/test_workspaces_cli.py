"""`roster workspaces …` and `roster serve` refusals, as docs/api.md §6 promises them."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from roster.cli import app
from roster.testing.server import CREDENTIAL_KEYS

runner = CliRunner()
KEYS = {"workspace_id", "name", *CREDENTIAL_KEYS}


def _env(tmp_path):
    return {"ROSTER_DATA_DIR": str(tmp_path / "data")}


def test_create_with_json_prints_one_object_with_every_credential(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    result = runner.invoke(
        app, ["workspaces", "create", "acme", "--json", "--database-url", url], env=_env(tmp_path)
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert set(created) == KEYS
    assert created["name"] == "acme"
    assert len(created["track_api_key"]) >= 32


def test_create_accepts_identifier_mode_and_list_shows_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    runner.invoke(
        app,
        [
            "workspaces",
            "create",
            "classic",
            "--identifiers",
            "id_only",
            "--allow-email-update-by-id",
            "--database-url",
            url,
        ],
        env=_env(tmp_path),
    )
    result = runner.invoke(
        app, ["workspaces", "list", "--json", "--database-url", url], env=_env(tmp_path)
    )
    (listed,) = json.loads(result.stdout)
    assert listed["identifier_mode"] == "id_only"
    assert listed["allow_email_update_by_id"] is True
    assert "track_api_key" not in listed


def test_a_duplicate_name_is_refused_with_a_clear_message(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    runner.invoke(app, ["workspaces", "create", "dup", "--database-url", url], env=_env(tmp_path))
    result = runner.invoke(
        app, ["workspaces", "create", "dup", "--database-url", url], env=_env(tmp_path)
    )
    assert result.exit_code == 2
    assert "already exists" in result.output


def test_serve_refuses_several_workers_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    result = runner.invoke(
        app, ["serve", "--workers", "2", "--database-url", url], env=_env(tmp_path)
    )
    assert result.exit_code == 2
    assert "PostgreSQL" in result.output


def test_an_unsupported_database_url_is_explained(tmp_path):
    result = runner.invoke(
        app, ["workspaces", "list", "--database-url", "mysql://x@y/z"], env=_env(tmp_path)
    )
    assert result.exit_code == 2
    assert "unsupported database" in result.output
