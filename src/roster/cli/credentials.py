"""`roster credentials list|new|revoke` (docs/api.md §6; docs/web.md, "Workspace pages"): the
workspace's keys, as the web UI's Credentials page shows them. Only each key's SHA-256 is
stored, so a new key is printed once; running servers stop accepting a replaced or revoked key
within 10 seconds (the command runs in a process of its own)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from roster.cli import DatabaseUrl, err, out
from roster.cli.workspace import WorkspaceName, opened_workspace
from roster.domain.errors import NotFound
from roster.services.workspaces import KEY_KINDS

app: typer.Typer = typer.Typer(
    help="The workspace's keys: list them, make a new one, revoke one.", no_args_is_help=True
)
Kind = Annotated[str, typer.Argument(help=f"The kind of key: {', '.join(KEY_KINDS)}.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
LATER = "Running roster servers stop accepting the old key within 10 seconds."


@app.command("list")
def list_(
    database_url: DatabaseUrl = None, workspace: WorkspaceName = None, as_json: JsonOption = False
) -> None:
    """Each kind of key and when it was made (never the keys: only their hashes are kept)."""
    with opened_workspace(database_url, workspace) as (system, workspace_id, name):
        made = system.workspaces.keys(workspace_id)
    if as_json:
        sys.stdout.write(json.dumps({"keys": made}) + "\n")
        return
    table = Table(title=f"Keys of '{name}'")
    table.add_column("kind")
    table.add_column("made")
    for kind, at in made.items():
        when = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if at else None
        table.add_row(kind, when or "none (revoked)")
    out.print(table)


@app.command()
def new(
    kind: Kind,
    database_url: DatabaseUrl = None,
    workspace: WorkspaceName = None,
    as_json: JsonOption = False,
) -> None:
    """Make a new key of that kind in place of the current one, and print it (only this
    once)."""
    with opened_workspace(database_url, workspace) as (system, workspace_id, name):
        key = system.workspaces.new_key(workspace_id, kind)
    if as_json:
        sys.stdout.write(json.dumps({"kind": kind, "key": key}) + "\n")
    else:
        out.print(f"New {kind} of '{name}' (keep it: it is not shown again):")
        out.print(key, soft_wrap=True)
    err.print(LATER)


@app.command()
def revoke(
    kind: Kind,
    database_url: DatabaseUrl = None,
    workspace: WorkspaceName = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
) -> None:
    """Remove the workspace's key of that kind: calls with it are refused (401). Exit code 1
    when there was none."""
    with opened_workspace(database_url, workspace) as (system, workspace_id, name):
        question = f"Revoke the {kind} of '{name}'? Calls that use it will be refused."
        if kind in KEY_KINDS and not yes and not typer.confirm(question, default=False, err=True):
            out.print("Nothing was changed.")
            raise typer.Exit(1)
        try:
            system.workspaces.revoke_key(workspace_id, kind)
        except NotFound as error:
            out.print(f"Nothing was changed: {error.message}.")
            raise typer.Exit(1) from None
    out.print(f"Revoked the {kind} of '{name}'.")
    err.print(LATER)
