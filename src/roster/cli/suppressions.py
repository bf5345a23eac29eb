"""`roster suppressions list|check|unsuppress` (docs/api.md §6; docs/identity.md I9.2, I9.3)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from roster.api.suppressions import entry_json
from roster.cli import DatabaseUrl, _fail, out
from roster.cli.workspace import WorkspaceName, opened_workspace
from roster.domain.errors import NotFound

app: typer.Typer = typer.Typer(
    help="The suppression list: hashed identifiers that calls may not bring back.",
    no_args_is_help=True,
)
PAGE = 1000

IdOption = Annotated[str | None, typer.Option("--id", help="An id.")]
EmailOption = Annotated[str | None, typer.Option("--email", help="An email address.")]
CioIdOption = Annotated[str | None, typer.Option("--cio-id", help="A cio_id.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _identifier(id_: str | None, email: str | None, cio_id: str | None) -> tuple[str, str]:
    given = [(kind, value) for kind, value in (("id", id_), ("email", email), ("cio_id", cio_id))]
    named = [(kind, value) for kind, value in given if value is not None]
    if len(named) != 1:
        _fail("name exactly one of --id, --email, --cio-id")
    return named[0]


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@app.command("list")
def list_(
    database_url: DatabaseUrl = None,
    workspace: WorkspaceName = None,
    limit: Annotated[
        int | None, typer.Option(help="Show at most this many entries (newest first).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Every suppressed identifier's hash, newest first, with when and through which door.
    Identifiers suppressed together (a person's id, email and cio_id) share a group."""
    if limit is not None and limit < 1:
        _fail("--limit must be at least 1")
    entries: list[dict[str, Any]] = []
    with opened_workspace(database_url, workspace) as (system, workspace_id, name):
        start = ""
        while limit is None or len(entries) < limit:
            size = PAGE if limit is None else min(PAGE, limit - len(entries))
            page, start = system.suppressions.page(workspace_id, start, size)
            entries.extend(entry_json(entry) for entry in page)
            if not start:
                break
    if as_json:
        sys.stdout.write(json.dumps({"suppressions": entries}) + "\n")
        return
    if not entries:
        out.print(f"The suppression list of '{name}' is empty.")
        return
    table = Table(title=f"Suppression list of '{name}' ({len(entries)} entries)")
    table.add_column("suppressed at", no_wrap=True)
    table.add_column("door", no_wrap=True)
    table.add_column("group", no_wrap=True)
    # Whole, folded on narrow terminals: `unsuppress --hash` needs every digit.
    table.add_column("hash", overflow="fold", min_width=16)
    for entry in entries:
        table.add_row(
            _when(entry["suppressed_at"]), entry["door"], entry["group"][:12], entry["hash"]
        )
    out.print(table)


@app.command()
def check(
    id_: IdOption = None,
    email: EmailOption = None,
    cio_id: CioIdOption = None,
    database_url: DatabaseUrl = None,
    workspace: WorkspaceName = None,
    as_json: JsonOption = False,
) -> None:
    """Whether an identifier is suppressed (exit code 0 if it is, 1 if not). The value is
    hashed with the workspace's secret, as the list holds it; it is never stored."""
    kind, value = _identifier(id_, email, cio_id)
    with opened_workspace(database_url, workspace) as (system, workspace_id, _):
        checked = system.suppressions.check(workspace_id, kind, value)
    entry = entry_json(checked.entry) if checked.entry is not None else None
    if as_json:
        answer: dict[str, Any] = {"suppressed": entry is not None, "hash": checked.hash}
        if entry is not None:
            answer["entry"] = entry
        sys.stdout.write(json.dumps(answer) + "\n")
    elif entry is not None:
        out.print(
            f"[bold]{kind} is suppressed[/] since {_when(entry['suppressed_at'])}, through "
            f"{entry['door']} (hash {checked.hash}, group {entry['group'][:12]})",
            soft_wrap=True,
        )
    else:
        out.print(f"{kind} is not suppressed (hash {checked.hash})", soft_wrap=True)
    raise typer.Exit(0 if entry is not None else 1)


@app.command()
def unsuppress(
    id_: IdOption = None,
    email: EmailOption = None,
    cio_id: CioIdOption = None,
    hash_: Annotated[
        str | None, typer.Option("--hash", help="An entry's hash, as the list shows it.")
    ] = None,
    database_url: DatabaseUrl = None,
    workspace: WorkspaceName = None,
) -> None:
    """Take an identifier off the list, with everything suppressed together with it (exit
    code 1 if it was not on the list). Nothing that was deleted comes back."""
    named = [value for value in (id_, email, cio_id, hash_) if value is not None]
    if len(named) != 1:
        _fail("name exactly one of --id, --email, --cio-id, --hash")
    with opened_workspace(database_url, workspace) as (system, workspace_id, _):
        try:
            if hash_ is not None:
                freed = system.suppressions.unsuppress_hash(workspace_id, hash_)
            else:
                kind, value = _identifier(id_, email, cio_id)
                freed = system.suppressions.unsuppress(workspace_id, kind, value)
        except NotFound as error:
            out.print(f"Nothing was changed: {error.message}.")
            raise typer.Exit(1) from None
    out.print(
        f"[bold green]Unsuppressed[/] {freed} {'entry' if freed == 1 else 'entries'} "
        "(everything suppressed together). Nothing that was deleted comes back."
    )
