"""`roster export people [--filter JSON] [--attributes a,b] --output F` (docs/api.md §6): the
same CSV file as an App API export's download (§4), made by the same code, written to a file.

The file is written next to F under a temporary name and renamed at the end, so that F is
either the whole export or untouched."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from roster.cli import DatabaseUrl, _fail, _open, _settings, err, out
from roster.cli.workspace import NoWorkspace, WorkspaceName, choose
from roster.domain.errors import RosterError
from roster.services.export_lines import HelperFailed
from roster.services.exports import FIXED_COLUMNS

app: typer.Typer = typer.Typer(help="Export people to CSV files.", no_args_is_help=True)


def _filter(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        _fail(f"--filter is not valid JSON: {error}", "Quote the filter for your shell.")


def _attributes(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    return [name.strip() for name in raw.split(",")]


@app.command("people")
def people(
    output: Annotated[
        Path,
        typer.Option(
            "--output", help="The CSV file to write (replaced if it exists).", dir_okay=False
        ),
    ],
    filter_json: Annotated[
        str | None,
        typer.Option(
            "--filter",
            help="Only the people a filter chooses (JSON, as the App API takes it), e.g. "
            '\'{"attribute": {"field": "plan", "operator": "eq", "value": "pro"}}\'.',
        ),
    ] = None,
    attributes: Annotated[
        str | None,
        typer.Option(
            "--attributes",
            help="Attribute columns, comma-separated (default: every attribute the people hold).",
        ),
    ] = None,
    database_url: DatabaseUrl = None,
    workspace: WorkspaceName = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Write a workspace's people to a CSV file: cio_id, id, email, created_at,
    _created_in_roster_at, unsubscribed, then one column per attribute in name order."""
    given_filter = _filter(filter_json)
    if output.is_dir():
        _fail(f"--output {output} is a directory", "Give the path of the file to write.")
    if not output.parent.is_dir():
        _fail(f"--output: no such directory: {output.parent}")
    system = _open(_settings(database_url))
    partial = output.with_name(f".{output.name}.partial")
    exported = 0
    try:
        workspace_id, name = choose(system, workspace)
        exports = system.exports
        plan = exports.plan(given_filter, _attributes(attributes), "--filter")
        total = exports.count(workspace_id, plan)
        columns = exports.columns(workspace_id, plan)
        with (
            partial.open("wb") as handle,
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err,
            ) as progress,
        ):
            task = progress.add_task(f"Exporting '{name}'", total=total)
            for count, data in exports.pieces(workspace_id, plan, columns):
                handle.write(data)
                exported += count
                progress.advance(task, count)
        os.replace(partial, output)
    except NoWorkspace as error:
        _fail(str(error), "Nothing was exported.")
    except RosterError as error:
        _fail(error.message, "Nothing was exported.")
    except HelperFailed as error:
        _fail(str(error), "Nothing was exported: run the export again.")
    except OSError as error:
        _fail(f"cannot write {output}: {error.strerror or error}", "Nothing was exported.")
    finally:
        partial.unlink(missing_ok=True)
        system.close()
    if as_json:
        answer = {
            "exported": exported,
            "columns": [*FIXED_COLUMNS, *columns],
            "output": str(output),
        }
        sys.stdout.write(json.dumps(answer) + "\n")
        return
    out.print(
        f"Exported {exported:,} {'person' if exported == 1 else 'people'} "
        f"({len(columns)} attribute columns) to {output}",
        soft_wrap=True,  # one line, whatever the terminal's width
        markup=False,  # a file name is not Rich markup
    )
