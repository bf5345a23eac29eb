"""`roster delete --from-csv F [--column id|email|cio_id]` (docs/api.md §6): delete by list.

The whole file is checked first (its encoding, its header, every row's cells), streaming, so
that a bad file deletes nobody; then it is read again in batches that go through the identity
rules' DeletePerson (docs/identity.md I9.1). Neither pass holds the file in memory."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from roster.cli import DatabaseUrl, _fail, _open, _settings, err, out
from roster.cli.workspace import NoWorkspace, WorkspaceName, choose
from roster.domain.errors import RosterError
from roster.services.csv_text import BadFile, decoded_lines
from roster.services.deletion import BATCH, ID_TYPES, Summary

# Refusals kept to show (and to print with --json); past this only their number is kept.
SHOWN_REFUSALS = 1000


def _lines(path: Path) -> Iterator[str]:
    with path.open("rb") as handle:
        yield from decoded_lines(handle)


def entries(path: Path, column: str) -> Iterator[tuple[int, str]]:
    """(line number, cell) for every row's `column`, or BadFile naming the line and column."""
    reader = csv.reader(_lines(path), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise BadFile(
                f"the file is empty: line 1 must be a header naming the '{column}' column"
            )
        names = [name.strip().casefold() for name in header]
        if names.count(column) > 1:
            raise BadFile(f"line 1: the header names the '{column}' column more than once")
        if column not in names:
            found = ", ".join(f"'{name.strip()}'" for name in header) or "nothing"
            raise BadFile(
                f"line 1: the header has no '{column}' column (it has {found}); "
                "name the column to read with --column id|email|cio_id"
            )
        index = names.index(column)
        for row in reader:
            if not row:
                continue  # a blank line
            if index >= len(row):
                raise BadFile(
                    f"line {reader.line_num}: the row has {len(row)} cells and no '{column}' "
                    f"column (column {index + 1} of the header)"
                )
            yield reader.line_num, row[index]
    except csv.Error as error:
        raise BadFile(f"line {reader.line_num}: {error}") from None
    except OSError as error:
        raise BadFile(f"cannot read {path}: {error.strerror or error}") from None


def delete(
    from_csv: Annotated[
        Path,
        typer.Option(
            "--from-csv",
            help="A UTF-8 CSV file with a header line; one person per row.",
            dir_okay=False,
        ),
    ],
    column: Annotated[
        str,
        typer.Option(
            "--column",
            help="The column to read, which also names the identifier: id, email, cio_id.",
        ),
    ] = "id",
    database_url: DatabaseUrl = None,
    workspace: WorkspaceName = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Delete the people a CSV file lists, with their events, devices and relationships. The
    file is checked whole before anyone is deleted; running it again deletes nobody twice."""
    column = column.strip().casefold()
    if column not in ID_TYPES:
        _fail(f"--column must be one of {', '.join(ID_TYPES)}, not '{column}'")
    if not from_csv.is_file():
        _fail(f"no such file: {from_csv}", "Give the path of a CSV file to --from-csv.")
    try:
        total = sum(1 for _ in entries(from_csv, column))
    except BadFile as error:
        _fail(f"{from_csv}: {error}", "Nothing was deleted.")
        return
    system = _open(_settings(database_url))
    summary = Summary()
    refused = 0
    lines: list[int] = []
    try:
        workspace_id, name = choose(system, workspace)
        mode = system.workspaces.mode(workspace_id)
        rows = entries(from_csv, column)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
        ) as progress:
            task = progress.add_task(f"Deleting from '{name}'", total=total)
            while batch := list(islice(rows, BATCH)):
                values = [value for _, value in batch]
                verdicts = system.deletion.delete(workspace_id, values, column, mode, "cli")
                for (line, value), verdict in zip(batch, verdicts, strict=True):
                    if verdict.status == "refused":
                        refused += 1
                        if len(summary.refused) >= SHOWN_REFUSALS:
                            continue
                        lines.append(line)
                    summary.count(value, verdict)
                progress.advance(task, len(batch))
    except NoWorkspace as error:
        _fail(str(error), "Nothing was deleted.")
    except BadFile as error:  # the file changed since it was checked
        _fail(
            f"{from_csv}: {error}", "The rows before it were deleted; fix the file and run again."
        )
    except RosterError as error:
        _fail(error.message, "What was deleted before stays deleted; running again resumes.")
    finally:
        system.close()
    _report(summary, refused, lines, as_json)


def _report(summary: Summary, refused: int, lines: list[int], as_json: bool) -> None:
    shown = summary.as_json()
    for entry, line in zip(shown["refused"], lines, strict=True):
        entry["line"] = line
    if as_json:
        answer: dict[str, Any] = {**shown, "refused_count": refused}
        sys.stdout.write(json.dumps(answer) + "\n")
        return
    table = Table(title="Deleted by list")
    table.add_column("deleted", justify="right")
    table.add_column("not found", justify="right")
    table.add_column("refused", justify="right")
    table.add_row(str(summary.deleted), str(summary.not_found), str(refused))
    out.print(table)
    if shown["refused"]:
        reasons = Table(title="Refused")
        reasons.add_column("line", justify="right")
        reasons.add_column("value")
        reasons.add_column("why")
        for entry in shown["refused"][:20]:
            reasons.add_row(str(entry["line"]), entry["ref"], entry["reason"])
        out.print(reasons)
        if refused > 20:
            out.print(f"... and {refused - 20} more (--json lists the first {SHOWN_REFUSALS}).")
