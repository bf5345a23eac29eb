"""`roster import people F.csv [--empty-cells keep|clear] [--json]` (docs/api.md §6): people from a
CSV file in the export format, each row an identify through the identity rules.

The whole file is checked first, streaming, so that a bad file imports nothing; then it is read
again and imported in batches with a progress bar. Neither pass holds the file in memory."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from roster.api.imports import row_builder
from roster.cli import DatabaseUrl, _fail, _open, _settings, err, out
from roster.cli.workspace import NoWorkspace, WorkspaceName, choose
from roster.domain.errors import RosterError
from roster.services.csv_text import BadFile
from roster.services.imports import (
    EMPTY_CELLS,
    Imports,
    Summary,
    check_empty_cells,
    read_rows,
)

app: typer.Typer = typer.Typer(help="Import people from a CSV file.", no_args_is_help=True)
# Failed and refused rows printed as tables; --json lists up to services.imports.SHOWN of each.
TABLE_ROWS = 20


def _lines(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as handle:
            yield from handle
    except OSError as error:
        raise BadFile(f"cannot read {path}: {error.strerror or error}") from None


@app.command("people")
def people(
    file: Annotated[
        Path,
        typer.Argument(
            help="A UTF-8 CSV file in the export format: a header line naming id and/or email "
            "and any attributes, then one person per row.",
            dir_okay=False,
        ),
    ],
    empty_cells: Annotated[
        str,
        typer.Option(
            "--empty-cells",
            help="What an empty cell does: keep leaves the value as it is, clear removes it.",
        ),
    ] = "keep",
    database_url: DatabaseUrl = None,
    workspace: WorkspaceName = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import people: each row finds or creates a person by the identity rules and sets its
    attributes. The file is checked whole before anything is imported; rows the rules refuse
    are reported with their line and do not stop the others."""
    try:
        empty = check_empty_cells(empty_cells)
    except RosterError:
        _fail(f"--empty-cells must be one of {', '.join(EMPTY_CELLS)}, not '{empty_cells}'")
        return
    if not file.is_file():
        _fail(f"no such file: {file}", "Give the path of a CSV file.")
    try:
        total = Imports.check(_lines(file))
    except BadFile as error:
        _fail(f"{file}: {error.message}", "Nothing was imported.")
        return
    system = _open(_settings(database_url))
    try:
        workspace_id, name = choose(system, workspace)
        build = row_builder(system.workspaces.mode(workspace_id), empty)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
        ) as progress:
            task = progress.add_task(f"Importing into '{name}'", total=total)
            summary = system.imports.apply(
                workspace_id,
                read_rows(_lines(file)),
                build,
                lambda count: progress.advance(task, count),
            )
    except BadFile as error:  # the file changed since it was checked
        _fail(
            f"{file}: {error.message}",
            "The rows before it were imported; fix the file and run again.",
        )
        return
    except NoWorkspace as error:
        _fail(str(error), "Nothing was imported.")
        return
    except RosterError as error:
        _fail(error.message, "The batches before were imported; running again is safe.")
        return
    finally:
        system.close()
    _report(summary, as_json)


def _report(summary: Summary, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(summary.as_json()) + "\n")
        return
    table = Table(title="Imported")
    for column in ("created", "updated", "failed", "refused identifiers"):
        table.add_column(column, justify="right")
    table.add_row(
        str(summary.created),
        str(summary.updated),
        str(summary.failed_count),
        str(summary.refused_count),
    )
    out.print(table)
    for title, entries, count in (
        ("Failed rows (nothing imported)", summary.failed, summary.failed_count),
        (
            "Refused identifiers (the rest of the row was imported)",
            summary.refused,
            summary.refused_count,
        ),
    ):
        if not entries:
            continue
        listed = Table(title=title)
        listed.add_column("line", justify="right")
        if entries[0].get("field") is not None:
            listed.add_column("field")
        listed.add_column("why")
        for entry in entries[:TABLE_ROWS]:
            cells = [
                str(entry["line"]),
                *([entry["field"]] if "field" in entry else []),
                entry["reason"],
            ]
            listed.add_row(*cells)
        out.print(listed)
        if count > TABLE_ROWS:
            out.print(f"... and {count - TABLE_ROWS} more (--json lists them).")
