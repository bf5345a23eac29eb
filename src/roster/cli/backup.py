"""`roster backup --output F` and `roster restore F [--force]` (docs/api.md §6,
docs/operations.md "Backups")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from roster.cli import DatabaseUrl, _fail, _settings, err, out
from roster.domain.errors import RosterError
from roster.services import backups


@contextmanager
def _bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar that appears with the first pages copied, so that a refusal before any
    copying is one line on its own."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pages"),
        TimeRemainingColumn(),
        console=err,
    )
    task = progress.add_task(description, total=None)

    def advance(copied: int, total: int) -> None:
        if not progress.live.is_started:
            progress.start()
        progress.update(task, completed=copied, total=total)

    try:
        yield advance
    finally:
        if progress.live.is_started:
            progress.stop()


def backup(
    output: Annotated[
        Path,
        typer.Option(
            "--output", help="The backup file to write (it must not exist yet).", dir_okay=False
        ),
    ],
    database_url: DatabaseUrl = None,
) -> None:
    """Back up a SQLite database into one file, while roster serves it (a consistent copy of
    every call answered before the backup began). PostgreSQL: prints the pg_dump command."""
    settings = _settings(database_url)
    shown = backups.hide_password(settings.database_url)
    try:
        with _bar(f"Backing up {shown}") as advance:
            pages = backups.backup(settings.database_url, output, advance)
    except backups.BackupRefused as error:
        _fail(str(error))
        return
    except RosterError as error:
        _fail(error.message)
        return
    out.print(f"[bold green]Backed up[/] {shown} to {output} ({pages} pages).", soft_wrap=True)


def restore(
    backup_file: Annotated[
        Path, typer.Argument(metavar="FILE", help="A file `roster backup` wrote.", dir_okay=False)
    ],
    database_url: DatabaseUrl = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace the target database even if it holds data."),
    ] = False,
) -> None:
    """Restore a backup into a SQLite database no server is using, then migrate it to this
    roster's schema. A target that holds data is replaced only with --force."""
    settings = _settings(database_url)
    shown = backups.hide_password(settings.database_url)
    try:
        with _bar(f"Restoring {backup_file}") as advance:
            restored = backups.restore(backup_file, settings.database_url, force, advance)
    except backups.BackupRefused as error:
        _fail(str(error), "Nothing was changed.")
        return
    except RosterError as error:
        _fail(error.message)
        return
    migrated = (
        ""
        if restored.migrated_to == restored.revision
        else f", migrated from schema {restored.revision} to {restored.migrated_to}"
    )
    out.print(f"[bold green]Restored[/] {backup_file} into {shown}{migrated}.", soft_wrap=True)
