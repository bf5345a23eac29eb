"""`roster conflicts [--all] [--json]` and `roster conflicts resolve ID [--yes] [--force]`
(docs/api.md §5, §6): identifier conflicts and refused identifier changes, with their counts and
the door that causes them, and their resolution (a merge that `roster unmerge` undoes)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from roster.api.conflicts import conflict_json, plan_json, side_json
from roster.cli import DatabaseUrl, _fail, out
from roster.cli.workspace import WorkspaceName, opened_workspace
from roster.services.conflicts import conflict_id

app: typer.Typer = typer.Typer(
    help="Identifier conflicts and refused identifier changes: who, how often, through which door.",
    invoke_without_command=True,
)
PAGE = 1000
DOOR = "cli"

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _when(at: float | None) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M") if at is not None else ""


def _who(side: dict[str, Any] | None) -> str:
    if side is None:
        return "(gone)"
    named = ", ".join(f"{k} {side[k]}" for k in ("id", "email") if side[k] is not None)
    return f"cio_{side['cio_id']}" + (f" ({named})" if named else "")


@app.callback()
def list_(
    ctx: typer.Context,
    database_url: DatabaseUrl = None,
    workspace: WorkspaceName = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Resolved conflicts too, not only unresolved ones.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The workspace's unresolved identifier conflicts and refused identifier changes, latest
    seen first: identifier, door, count, first and last seen, and the people involved."""
    if ctx.invoked_subcommand is not None:
        return
    status = "all" if everything else "unresolved"
    found: list[dict[str, Any]] = []
    with opened_workspace(database_url, workspace) as (system, workspace_id, name):
        start = ""
        while True:
            rows, start = system.conflicts.page(workspace_id, start, PAGE, status)
            found.extend(conflict_json(row) for row in rows)
            if not start:
                break
    if as_json:
        sys.stdout.write(json.dumps({"conflicts": found}) + "\n")
        return
    if not found:
        out.print(f"No {'' if everything else 'unresolved '}conflicts in '{name}'.")
        return
    table = Table(title=f"Identifier conflicts in '{name}' ({len(found)})")
    for column in ("id", "identifier", "door", "count", "first seen", "last seen"):
        table.add_column(column, no_wrap=True)
    table.add_column("the call was about", overflow="fold")
    table.add_column("held by", overflow="fold")
    table.add_column("reason", overflow="fold")
    if everything:
        table.add_column("resolved", no_wrap=True)
    for c in found:
        cells = [
            c["id"],
            f"{c['identifier']} {c['value']}",
            c["door"],
            str(c["count"]),
            _when(c["first_seen"]),
            _when(c["last_seen"]),
            _who(c["person"]),
            _who(c["holder"]) if c["holder"] else "",
            c["reason"],
        ]
        table.add_row(*cells, *([_when(c["resolved_at"])] if everything else []))
    out.print(table)
    out.print("Resolve one with: roster conflicts resolve ID")


def _show(plan: dict[str, Any]) -> None:
    conflict = plan["conflict"]
    out.print(
        f"Conflict {conflict['id']}: {conflict['identifier']} '{conflict['value']}' "
        f"({conflict['count']} calls through {conflict['door']}): {conflict['reason']}",
        soft_wrap=True,
    )
    if plan["merge"] is not None:
        out.print(
            f"  merge {_who(plan['merge']['secondary'])} into {_who(plan['merge']['primary'])}",
            soft_wrap=True,
        )
    for change in plan["changes"]:
        out.print(f"  {change['identifier']}: {change['from']} -> {change['to']}", soft_wrap=True)
    if plan["attributes"]:
        out.print(f"  attributes taken: {', '.join(plan['attributes'])}", soft_wrap=True)
    if not plan["merge"] and not plan["changes"]:
        out.print("  nothing to change: it is only marked resolved")


@app.command()
def resolve(
    conflict: Annotated[str, typer.Argument(help="The conflict's id, as listed.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before resolving.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Merge the holder even if it is not an orphan.")
    ] = False,
    database_url: DatabaseUrl = None,
    workspace: WorkspaceName = None,
    as_json: JsonOption = False,
) -> None:
    """Merge the person holding the identifier into the person the calls were about and apply
    the refused change, in one transaction (`roster unmerge` undoes the merge). Shows what it
    will do and asks first, unless --yes."""
    with opened_workspace(database_url, workspace) as (system, workspace_id, _):
        pk = conflict_id(conflict)
        plan = system.conflicts.plan(workspace_id, pk)
        shown = plan_json(plan)
        if not as_json:
            _show(shown)
        if plan.refused is not None and not force:
            _fail(f"not resolved: {plan.refused}", "use --force to merge it anyway")
        if not yes and not typer.confirm("Resolve it?", default=False):
            out.print("Nothing was changed.")
            raise typer.Exit(1)
        done = system.conflicts.resolve_sync(workspace_id, pk, force, DOOR)
        person = system.conflicts.person_now(workspace_id, done.person)
    if as_json:
        sys.stdout.write(json.dumps({**shown, "person": side_json(person)}) + "\n")
        return
    out.print(f"[bold green]Resolved[/]: {_who(side_json(person))}.", soft_wrap=True)
    if plan.holder is not None:
        out.print(f"Undo it with: roster unmerge cio_{person.cio_id}")
