"""`roster users create|list|password|delete` (docs/web.md, "Logins"), on SQLite and
PostgreSQL: the password comes from standard input only, and is never printed or listed."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from roster.services.system import System
from tests.server import run_roster

PASSWORD = "correct horse battery"


def _users(database_url: str, data_dir: Path, *args: str, stdin: str | None = None):
    done = run_roster(
        "users", *args, "--database-url", database_url, data_dir=data_dir, input=stdin
    )
    return done


def test_a_login_made_listed_given_a_new_password_and_removed(
    database_url: str, system: System, workspace: dict, tmp_path: Path
) -> None:
    email = f"cli-{uuid.uuid4().hex[:8]}@example.com"
    data = tmp_path / "data"
    made = _users(
        database_url, data, "create", email, "--password-stdin", "--workspace", workspace["name"],
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert PASSWORD not in made.stdout + made.stderr
    system.logins.log_in(email, PASSWORD, "cli")  # the password is the one given on stdin

    listed = _users(database_url, data, "list", "--json")
    (mine,) = [u for u in json.loads(listed.stdout) if u["email"] == email]
    assert mine["workspaces"] == [workspace["name"]]
    assert "hash" not in listed.stdout and "argon2" not in listed.stdout

    changed = _users(
        database_url, data, "password", email, "--password-stdin", stdin="a newer password\n"
    )
    assert changed.returncode == 0, changed.stderr
    assert system.logins.session(system.logins.log_in(email, "a newer password", "cli"))

    removed = _users(database_url, data, "delete", email)
    assert removed.returncode == 0, removed.stderr
    assert email not in _users(database_url, data, "list", "--json").stdout


def test_without_password_stdin_or_with_a_short_password_it_exits_2_saying_what_to_do(
    database_url: str, tmp_path: Path
) -> None:
    email = f"cli-{uuid.uuid4().hex[:8]}@example.com"
    data = tmp_path / "data"
    bare = _users(database_url, data, "create", email)
    assert bare.returncode != 0
    assert "--password-stdin" in bare.stderr
    short = _users(database_url, data, "create", email, "--password-stdin", stdin="short\n")
    assert short.returncode != 0
    assert "at least 10 characters" in short.stderr
