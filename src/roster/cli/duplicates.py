"""`roster duplicates [--merge] [--yes] [--json]` (docs/api.md §6): the duplicate finder's groups,
and merging each into its oldest person through the writer (docs/identity.md I6), each merge
undone by `roster unmerge` (I6.4).

The groups are read page by page, twice when merging: once to show the plan and count it, once
to merge what is still a group then. Neither pass holds every group in memory."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from itertools import islice
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from roster.cli import DatabaseUrl, _fail, _open, _settings, err, out
from roster.cli.workspace import NoWorkspace, WorkspaceName, choose
from roster.domain.errors import RosterError
from roster.services.duplicates import Group, Member, Merged
from roster.services.hygiene import Hygiene
from roster.services.system import System

SHOWN_GROUPS = 50  # rows of the table; --json lists every group
SHOWN_REFUSALS = 1000


def _who(member: Member) -> str:
    named = ", ".join(f"{k} {v}" for k, v in (("id", member.id), ("email", member.email)) if v)
    return f"cio_{member.cio_id}" + (f" ({named})" if named else "")


def _table(groups: Iterator[Group], title: str) -> tuple[Table, int, int]:
    """The first SHOWN_GROUPS groups as a table; how many groups and people there were in all
    (people: those a merge would merge away)."""
    table = Table(title=title)
    table.add_column("reason")
    table.add_column("keep (oldest)")
    table.add_column("merge into it")
    table.add_column("people", justify="right")
    count = people = 0
    for group in groups:
        count += 1
        people += group.size - 1
        if count <= SHOWN_GROUPS:
            others = [_who(m) for m in group.people[1:]]
            if group.size > len(group.people):
                others.append(f"... and {group.size - len(group.people)} more")
            table.add_row(group.reason, _who(group.primary), "\n".join(others), str(group.size))
    return table, count, people


def _print_json(groups: Iterator[Group]) -> None:
    """{"duplicates": [...as the API lists them...], "count": N}, written group by group."""
    write = sys.stdout.write
    write('{"duplicates": [')
    count = 0
    for group in groups:
        write((", " if count else "") + json.dumps(group.as_json()))
        count += 1
    write(f'], "count": {count}}}\n')


def duplicates(
    database_url: DatabaseUrl = None,
    workspace: WorkspaceName = None,
    merge: Annotated[
        bool,
        typer.Option("--merge", help="Merge each group into its oldest person (asks first)."),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="With --merge: do not ask.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List groups of people who are probably one human: one email in any letter case, and
    id-only + email-only pairs a conflict ties. --merge merges each group into its oldest
    person; `roster unmerge` undoes a merge."""
    if yes and not merge:
        _fail("--yes only goes with --merge")
    system = _open(_settings(database_url))
    try:
        workspace_id, name = choose(system, workspace)
        finder = system.duplicates
        if not merge:
            if as_json:
                _print_json(finder.walk(workspace_id))
                return
            table, count, _ = _table(finder.walk(workspace_id), f"Duplicates in '{name}'")
            if count == 0:
                out.print(f"No duplicates in '{name}'.")
                return
            out.print(table)
            if count > SHOWN_GROUPS:
                out.print(f"... and {count - SHOWN_GROUPS} more groups (--json lists them all).")
            out.print(f"{count} groups. Merge them with: roster duplicates --merge")
            return
        _merge(system, workspace_id, name, yes, as_json)
    except NoWorkspace as error:
        _fail(str(error), "Nothing was merged.")
    except RosterError as error:
        _fail(error.message, "The merges made before it stay; each is undone by roster unmerge.")
    finally:
        system.close()


def _merge(system: System, workspace_id: int, name: str, yes: bool, as_json: bool) -> None:
    finder = system.duplicates
    shown = err if as_json else out  # --json keeps stdout for the summary
    table, count, people = _table(finder.walk(workspace_id), f"Merge plan for '{name}'")
    if count == 0:
        _summary(Merged(), as_json, f"No duplicates in '{name}': nothing to merge.")
        return
    shown.print(table)
    if count > SHOWN_GROUPS:
        shown.print(f"... and {count - SHOWN_GROUPS} more groups.")
    question = f"Merge {people} people into the oldest of their {count} groups?"
    if not yes and not typer.confirm(question, default=False, err=True):
        shown.print("Nothing was merged.")
        raise typer.Exit(1)
    hygiene = Hygiene(system.ingestion, system.lookups, system.database)
    merged = Merged()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
    ) as progress:
        task = progress.add_task(f"Merging duplicates in '{name}'", total=count)
        # A group merged is gone from the pages still to come; one formed since the plan was
        # shown is merged too, within the plan's count.
        for group in islice(finder.walk(workspace_id), count):
            finder.merge(workspace_id, group, hygiene, merged)
            progress.advance(task)
    _summary(merged, as_json, None)


def _summary(merged: Merged, as_json: bool, said: str | None) -> None:
    refused = [{"cio_id": cio, "reason": why} for cio, why in merged.refused[:SHOWN_REFUSALS]]
    if as_json:
        answer: dict[str, Any] = {
            "groups_merged": merged.groups,
            "people_merged": merged.people,
            "refused": refused,
            "refused_count": len(merged.refused),
            "kept": [{"cio_id": cio, "merged": count} for cio, count in merged.kept],
        }
        sys.stdout.write(json.dumps(answer) + "\n")
        return
    if said is not None:
        out.print(said)
        return
    table = Table(title="Duplicates merged")
    table.add_column("groups merged", justify="right")
    table.add_column("people merged", justify="right")
    table.add_column("refused", justify="right")
    table.add_row(str(merged.groups), str(merged.people), str(len(merged.refused)))
    out.print(table)
    if refused:
        reasons = Table(title="Refused")
        reasons.add_column("person")
        reasons.add_column("why")
        for entry in refused[:20]:
            reasons.add_row(f"cio_{entry['cio_id']}", entry["reason"])
        out.print(reasons)
    if merged.kept:
        undo = Table(title="Undo (each command undoes the latest merge into that person)")
        undo.add_column("kept")
        undo.add_column("merged in", justify="right")
        undo.add_column("undo with")
        for cio, count in merged.kept[:20]:
            undo.add_row(f"cio_{cio}", str(count), f"roster unmerge cio_{cio}")
        out.print(undo)
        if merged.groups > 20:
            out.print(f"... and {merged.groups - 20} more (--json lists the first 1,000).")
