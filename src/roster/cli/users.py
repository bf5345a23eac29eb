"""`roster users create|list|password|delete`: logins of the web UI (docs/web.md, "Logins")."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from roster.cli import DatabaseUrl, _fail, _open, _settings, out
from roster.domain.errors import RosterError

app: typer.Typer = typer.Typer(help="Logins of the web UI.", no_args_is_help=True)

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from standard input (its first line), so that it is never "
        "on a command line or in a shell's history.",
    ),
]


def _password(from_stdin: bool) -> str:
    if not from_stdin:
        _fail(
            "give the password on standard input",
            "e.g. `printf '%s' \"$PASSWORD\" | roster users create EMAIL --password-stdin`",
        )
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@app.command("create")
def create(
    email: Annotated[str, typer.Argument(help="The login's email address.")],
    password_stdin: PasswordStdin = False,
    workspace: Annotated[
        list[str] | None,
        typer.Option(
            "--workspace",
            help="A workspace (by name) this login may see; repeat for several. "
            "Without it the login sees every workspace.",
        ),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Make a login for the web UI. Its password (at least 10 characters) is stored only as an
    Argon2id hash."""
    password = _password(password_stdin)
    system = _open(_settings(database_url))
    try:
        user = system.logins.create_user(email, password, tuple(workspace or ()))
    except RosterError as error:
        _fail(error.message)
        return
    finally:
        system.close()
    seen = ", ".join(user.workspaces) if user.workspaces else "every workspace"
    out.print(f"Created the login [bold]{user.email}[/] (sees {seen}).")


@app.command("password")
def password(
    email: Annotated[str, typer.Argument(help="The login's email address.")],
    password_stdin: PasswordStdin = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Set a login's password; its sessions end."""
    new = _password(password_stdin)
    system = _open(_settings(database_url))
    try:
        system.logins.set_password(email, new)
    except RosterError as error:
        _fail(error.message)
        return
    finally:
        system.close()
    out.print(f"Changed the password of {email.strip().lower()}; its sessions have ended.")


@app.command("delete")
def delete(
    email: Annotated[str, typer.Argument(help="The login's email address.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Remove a login and end its sessions."""
    system = _open(_settings(database_url))
    try:
        system.logins.delete_user(email)
    except RosterError as error:
        _fail(error.message)
        return
    finally:
        system.close()
    out.print(f"Removed the login {email.strip().lower()}.")


@app.command("list")
def list_(
    database_url: DatabaseUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """Every login, with the workspaces it sees (never a password hash)."""
    system = _open(_settings(database_url))
    try:
        users = system.logins.users()
    finally:
        system.close()
    if as_json:
        listed = [
            {"email": u.email, "workspaces": list(u.workspaces), "created_at": u.created_at}
            for u in users
        ]
        sys.stdout.write(json.dumps(listed) + "\n")
        return
    table = Table(title="Logins")
    for column in ("email", "workspaces", "created"):
        table.add_column(column)
    for u in users:
        when = datetime.fromtimestamp(u.created_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        table.add_row(u.email, ", ".join(u.workspaces) or "every workspace", when)
    out.print(table)
