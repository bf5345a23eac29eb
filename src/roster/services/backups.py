"""`roster backup` and `roster restore` (docs/operations.md "Backups"): SQLite databases are
copied by roster itself, online; PostgreSQL ones by PostgreSQL's own tools, whose commands
roster prints."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from roster.storage import backup as files
from roster.storage import migrate
from roster.storage.backup import BackupRefused, Progress
from roster.storage.database import connect, hide_password

__all__ = ["BackupRefused", "Progress", "Restored", "backup", "hide_password", "restore"]


@dataclass(frozen=True)
class Restored:
    """The schema revision the backup had, and the one the restored database has now."""

    revision: str
    migrated_to: str | None


def _sqlite(database_url: str, postgres_advice: str) -> Path:
    path = files.sqlite_path(database_url)
    if path is None:
        raise BackupRefused(postgres_advice)
    return path


def pg_dump_advice(database_url: str, output: Path) -> str:
    url = shlex.quote(files.postgres_command_url(database_url))
    return (
        "roster backup copies SQLite databases; back up PostgreSQL with its own pg_dump: "
        f"pg_dump --format=custom --file={shlex.quote(str(output))} {url} "
        '(the password comes from PGPASSWORD or ~/.pgpass; docs/operations.md "Backups")'
    )


def pg_restore_advice(database_url: str, backup: Path) -> str:
    url = shlex.quote(files.postgres_command_url(database_url))
    return (
        "roster restore copies SQLite databases; restore PostgreSQL with its own pg_restore: "
        f"pg_restore --clean --if-exists --no-owner --dbname={url} {shlex.quote(str(backup))} "
        'then start roster, which migrates at start (docs/operations.md "Backups")'
    )


def backup(
    database_url: str,
    output: Path,
    progress: Progress,
    pages_per_step: int = files.PAGES_PER_STEP,
) -> int:
    """Back up the SQLite database of `database_url` into the new file `output` while a server
    may be writing to it; the pages copied. BackupRefused says why not."""
    path = _sqlite(database_url, pg_dump_advice(database_url, output))
    return files.backup(path, output, progress, pages_per_step)


def restore(backup: Path, database_url: str, force: bool, progress: Progress) -> Restored:
    """Copy a backup into the SQLite database of `database_url` (no server may be using it; one
    holding data only with `force`), then migrate it to this roster's schema."""
    path = _sqlite(database_url, pg_restore_advice(database_url, backup))
    checked = files.inspect(backup)
    files.restore(checked, path, force, progress)
    database = connect(database_url)
    try:
        migrate.upgrade(database.writer)
        now = migrate.current(database.writer)
    finally:
        database.dispose()
    return Restored(checked.revision, now)
