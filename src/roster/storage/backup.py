"""SQLite backups taken while roster serves, and restoring one (docs/operations.md "Backups").

A backup reads one snapshot: its connection opens a read transaction first and copies the
database's pages under it, a batch at a time. In WAL mode a reader never blocks the writer, and
since the snapshot stays the same from the first batch to the last, writes committed meanwhile
neither show up half-way nor make SQLite start the copy again (it would restart for every commit
of another connection if the copy read the live database between batches). What the backup
holds is the database as it was when the read transaction began: every call answered before.

A restore copies a backup into the target database through the same backup API, so SQLite's own
journal makes it all-or-nothing: a failed restore leaves the target as it was."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from roster.storage.database import engine_url
from roster.storage.migrate import MIGRATIONS

# Pages copied per step: 4 MiB with SQLite's default 4 KiB pages, so the progress bar moves
# often and a step is short.
PAGES_PER_STEP = 1024
# How long a restore waits for another connection to let go of the target before it concludes
# a server is using it.
IN_USE_WAIT = 0.5
MIGRATIONS_TABLE = "alembic_version"

Progress = Callable[[int, int], None]  # (pages copied, pages in all)


class BackupRefused(Exception):
    """Why a backup or restore cannot be done; nothing was written."""


@dataclass(frozen=True)
class BackupFile:
    """A file checked to be a roster database: its schema revision and size in pages."""

    path: Path
    revision: str
    pages: int


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite database URL; None for PostgreSQL (or an in-memory database)."""
    url = engine_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser()


def postgres_command_url(database_url: str) -> str:
    """The URL as pg_dump and pg_restore take it: libpq's scheme, and never the password."""
    url = engine_url(database_url)
    # Made anew: URL.set(password=None) keeps the password.
    bare = sa.URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return bare.render_as_string(hide_password=False)


def _copy(
    source: sqlite3.Connection,
    target: sqlite3.Connection,
    progress: Progress,
    pages_per_step: int = PAGES_PER_STEP,
) -> None:
    def step(_status: int, remaining: int, total: int) -> None:
        progress(total - remaining, total)

    source.backup(target, pages=pages_per_step, progress=step)


def backup(
    database: Path, output: Path, progress: Progress, pages_per_step: int = PAGES_PER_STEP
) -> int:
    """Copy the database at `database` into a new file `output`, written beside it under a
    temporary name and renamed when complete (a failed backup leaves no file). The number of
    pages copied."""
    if not database.is_file():
        raise BackupRefused(f"no database at {database}: nothing to back up")
    if output.exists():
        raise BackupRefused(f"{output} exists already: give a new file to --output")
    if not output.parent.is_dir():
        raise BackupRefused(f"no folder {output.parent} to write {output.name} into")
    partial = output.with_name(f".{output.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with contextlib.closing(_open(database, timeout=30)) as source:
            _check_roster(source, database)
            # The snapshot: BEGIN is deferred, the first read starts the read transaction.
            source.execute("begin")
            source.execute("select count(*) from sqlite_master").fetchone()
            pages = int(source.execute("pragma page_count").fetchone()[0])
            with contextlib.closing(sqlite3.connect(partial, isolation_level=None)) as target:
                _copy(source, target, progress, pages_per_step)
                # One self-contained file: no write-ahead log beside it.
                target.execute("pragma journal_mode=delete")
                _check_integrity(target, output)
            source.execute("commit")
        os.replace(partial, output)
    except sqlite3.Error as error:
        raise BackupRefused(f"could not back up {database}: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return pages


def _open(path: Path, timeout: float, read_only: bool = False) -> sqlite3.Connection:
    uri = f"{path.resolve().as_uri()}?mode={'ro' if read_only else 'rw'}"
    return sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)


def _check_integrity(connection: sqlite3.Connection, path: Path) -> None:
    found = [row[0] for row in connection.execute("pragma integrity_check(5)")]
    if found != ["ok"]:
        raise BackupRefused(f"{path} fails SQLite's integrity check: {'; '.join(found)}")


def _check_roster(connection: sqlite3.Connection, path: Path) -> str:
    """The file's schema revision, if it is a roster database this roster can migrate."""
    try:
        tables = {
            row[0]
            for row in connection.execute("select name from sqlite_master where type='table'")
        }
    except sqlite3.DatabaseError:
        raise BackupRefused(f"{path} is not a SQLite database") from None
    if MIGRATIONS_TABLE not in tables or "workspaces" not in tables:
        raise BackupRefused(f"{path} is not a roster database (it has no roster tables)")
    row = connection.execute(f"select version_num from {MIGRATIONS_TABLE}").fetchone()
    if row is None:
        raise BackupRefused(f"{path} is not a roster database (its schema has no revision)")
    revision = str(row[0])
    try:
        known = ScriptDirectory(str(MIGRATIONS)).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise BackupRefused(
            f"{path} has schema revision {revision}, which this roster does not know: it was "
            "made by a newer roster"
        )
    return revision


def inspect(path: Path) -> BackupFile:
    """Check that `path` is a roster database whole enough to restore."""
    if not path.exists():
        raise BackupRefused(f"no such file: {path}")
    if not path.is_file():
        raise BackupRefused(f"{path} is not a file")
    try:
        with contextlib.closing(_open(path, timeout=5, read_only=True)) as connection:
            revision = _check_roster(connection, path)
            _check_integrity(connection, path)
            pages = int(connection.execute("pragma page_count").fetchone()[0])
    except sqlite3.DatabaseError as error:
        raise BackupRefused(f"{path} is not a SQLite database ({error})") from None
    return BackupFile(path, revision, pages)


@contextlib.contextmanager
def _alone(target: Path) -> Iterator[sqlite3.Connection]:
    """A connection to the target that no other connection shares, or BackupRefused.

    roster serves SQLite in WAL mode, and a database can leave WAL mode only when no other
    connection has it open: a server keeps connections open as long as it runs, even idle. So
    switching to rollback journal mode is the test, and the exclusive locking mode then keeps a
    server that starts meanwhile out until the restore is done."""
    try:
        connection = _open(target, timeout=IN_USE_WAIT)
    except sqlite3.Error as error:
        raise BackupRefused(f"cannot open {target}: {error}") from None
    was_wal = False
    try:
        try:
            was_wal = connection.execute("pragma journal_mode").fetchone()[0] == "wal"
            connection.execute("pragma journal_mode=delete").fetchone()
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise BackupRefused(
                    f"{target} is in use (is a roster server running on it?): stop the server first"
                ) from None
            raise BackupRefused(f"cannot open {target}: {error}") from None
        except sqlite3.DatabaseError as error:
            raise BackupRefused(f"{target} is not a SQLite database ({error})") from None
        connection.execute("pragma locking_mode=exclusive")
        yield connection
    finally:
        if was_wal:  # as it was (a refused restore changes nothing), or as roster serves it
            with contextlib.suppress(sqlite3.Error):
                connection.execute("pragma locking_mode=normal")
                connection.execute("pragma journal_mode=wal").fetchone()
        connection.close()


def _holds_data(connection: sqlite3.Connection) -> bool:
    """Whether any table holds a row (a database that was only migrated holds none)."""
    tables = [
        str(row[0])
        for row in connection.execute(
            "select name from sqlite_master where type='table' and name not like 'sqlite_%'"
        )
        if row[0] != MIGRATIONS_TABLE
    ]
    return any(
        connection.execute(f'select exists (select 1 from "{name}")').fetchone()[0]
        for name in tables
    )


def restore(source: BackupFile, target: Path, force: bool, progress: Progress) -> None:
    """Copy the checked backup `source` into the database at `target` (created if missing).
    Refused when a server uses the target, or when it holds data and `force` is not given."""
    if target.exists() and target.resolve() == source.path.resolve():
        raise BackupRefused(f"{source.path} is the target database itself")
    created = not target.exists()
    if created:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    try:
        with _alone(target) as connection:
            try:
                if _holds_data(connection) and not force:
                    raise BackupRefused(
                        f"{target} holds data already: give --force to replace it with the backup"
                    )
                with contextlib.closing(_open(source.path, timeout=5, read_only=True)) as backup:
                    _copy(backup, connection, progress)
            except sqlite3.DatabaseError as error:
                raise BackupRefused(f"could not restore into {target}: {error}") from None
    except BackupRefused:
        if created:  # leave no empty database behind where there was none
            target.unlink(missing_ok=True)
        raise
