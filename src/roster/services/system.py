"""Everything a running roster holds, opened and closed in one place."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from roster.domain.context import Clock, IdMaker, new_cio_id
from roster.domain.errors import Unavailable
from roster.services.conflicts import Conflicts
from roster.services.deletion import Deletion
from roster.services.duplicates import Duplicates
from roster.services.explain import Explain
from roster.services.exports import Exports, link_key
from roster.services.imports import Imports
from roster.services.ingestion import Ingestion
from roster.services.logins import Logins, session_key
from roster.services.lookups import Lookups
from roster.services.outbox import Outbox
from roster.services.suppressions import Suppressions
from roster.services.telemetry import Telemetry
from roster.services.upkeep import Upkeep
from roster.services.workspaces import Workspaces
from roster.storage import migrate
from roster.storage.conflict_rows import ConflictRows
from roster.storage.database import Database, connect, ping
from roster.storage.duplicate_groups import DuplicateGroups
from roster.storage.exports import ExportReads
from roster.storage.outbox_rows import OutboxRows
from roster.storage.reads import Reader
from roster.storage.suppression_list import SuppressionList
from roster.storage.vault import Vault, load_or_create_key
from roster.storage.writer import WRITE_TIMEOUT, Writer, WriterStatus


@dataclass(frozen=True)
class Readiness:
    """Whether the server can take calls: the readers read a current schema, and the writer
    runs and can write."""

    readable: bool
    schema_current: bool
    writer: WriterStatus

    @property
    def ready(self) -> bool:
        writer = self.writer
        return (
            self.readable
            and self.schema_current
            and writer.alive
            and writer.writable
            and not writer.draining
        )


@dataclass
class System:
    database: Database
    writer: Writer
    telemetry: Telemetry
    ingestion: Ingestion
    lookups: Lookups
    workspaces: Workspaces
    upkeep: Upkeep
    suppressions: Suppressions
    deletion: Deletion
    duplicates: Duplicates
    outbox: Outbox
    conflicts: Conflicts
    exports: Exports
    imports: Imports
    explain: Explain
    logins: Logins

    @classmethod
    def open(
        cls,
        database_url: str,
        data_dir: Path,
        secret_key: str | None = None,
        sqlite_synchronous: str = "FULL",
        writer_batch: int = 512,
        write_timeout: float = WRITE_TIMEOUT,
        clock: Clock = time.time,
        make_cio_id: IdMaker = new_cio_id,
        new_database: bool = False,
    ) -> System:
        """`new_database`: the database has no table yet (a throw-away one, such as
        `roster serve --ephemeral`'s): its schema is created at the newest revision directly
        instead of migrated from nothing (migrate.create_at_head), and it is refused if it has
        tables."""
        database = connect(database_url, sqlite_synchronous)
        try:
            if new_database:
                migrate.create_at_head(database.writer)
            else:
                migrate.upgrade(database.writer)
        except BaseException:
            database.dispose()
            raise
        key = load_or_create_key(secret_key, data_dir)
        vault = Vault(key)
        writer = Writer(database, vault, max_batch=writer_batch, timeout=write_timeout)
        writer.start()
        telemetry = Telemetry(writer)
        ingestion = Ingestion(writer, clock, make_cio_id, telemetry)
        return cls(
            database=database,
            writer=writer,
            telemetry=telemetry,
            ingestion=ingestion,
            lookups=Lookups(Reader(database)),
            workspaces=Workspaces(database, writer, vault),
            upkeep=Upkeep(writer, clock, database),
            suppressions=Suppressions(SuppressionList(database, vault), writer),
            deletion=Deletion(ingestion),
            duplicates=Duplicates(DuplicateGroups(database)),
            outbox=Outbox(ingestion, OutboxRows(database), clock),
            conflicts=Conflicts(ConflictRows(database), ingestion, Lookups(Reader(database))),
            exports=Exports(ExportReads(database), writer, link_key(key), clock),
            imports=Imports(ingestion, database),
            explain=Explain(writer),
            logins=Logins(database, writer, session_key(key), clock),
        )

    def readiness(self) -> Readiness:
        readable = ping(self.database.reader)
        try:
            current = readable and migrate.is_current(self.database.reader)
        except Unavailable:  # gone between the two looks
            readable = current = False
        return Readiness(readable, current, self.writer.status())

    def ready(self) -> bool:
        return self.readiness().ready

    def close(self) -> None:
        self.writer.stop()
        self.database.dispose()
