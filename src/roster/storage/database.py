"""Engines for SQLite and PostgreSQL, set up the way the writer and the readers need them."""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event

from roster.domain.errors import InvalidInput, Unavailable

DATABASE_URLS = "sqlite:///PATH or postgresql://USER@HOST/DB"

# Seconds a client is told to wait (Retry-After) before sending again a call answered 503 because
# the database was away. The writer tries to reconnect at least this often, so a call sent again
# after this long finds it back if the database is.
RETRY_AFTER_SECONDS = 2
# SQLite primary result codes meaning "cannot read or write the file now": BUSY, LOCKED, READONLY,
# IOERR (a failed write: a full disk, RLIMIT_FSIZE), FULL, CANTOPEN, PROTOCOL.
_SQLITE_AWAY = {5, 6, 8, 10, 13, 14, 15}
# PostgreSQL SQLSTATEs of the same kind: connection exceptions (08), insufficient resources
# (53: disk full, out of memory, too many connections), the server shutting down or starting
# (57P01-57P03), a read-only transaction (25006: connected to a standby after a failover).
_POSTGRES_AWAY = {"57P01", "57P02", "57P03", "25006"}


def unreachable(error: BaseException) -> bool:
    """Whether an error means the database cannot be reached or written to right now (so a call
    that failed with it may be sent again), rather than that a statement was wrong."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 5:  # a failed rollback chains the error that caused it
        if isinstance(current, Unavailable):
            return True
        if isinstance(current, sa.exc.DBAPIError):
            if current.connection_invalidated:
                return True
            current = current.orig
            continue
        sqlite_code = getattr(current, "sqlite_errorcode", None)
        if sqlite_code is not None:
            return sqlite_code & 0xFF in _SQLITE_AWAY
        # An error of psycopg's means psycopg is loaded: SQLite-only servers never import it.
        psycopg: Any = sys.modules.get("psycopg")
        if psycopg is not None and isinstance(current, psycopg.Error):
            state = current.sqlstate
            if state is None:  # no SQLSTATE: the connection itself failed or closed
                return isinstance(current, psycopg.OperationalError | psycopg.InterfaceError)
            return state[:2] in ("08", "53") or state in _POSTGRES_AWAY
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def unavailable(
    what: str = "the database is unreachable or cannot be written to",
) -> Unavailable:
    """The error a call gets when the database is away; nothing of it was stored."""
    return Unavailable(
        f"{what}; nothing of this call was stored. Send it again in {RETRY_AFTER_SECONDS} seconds.",
        retry_after=RETRY_AFTER_SECONDS,
    )


def _answer_unavailable(engine: sa.Engine) -> None:
    """Reads that fail because the database is away raise Unavailable (503 with Retry-After)
    instead of a driver error (500). Only on the readers' engine: the writer tells a lost
    database from a failed statement itself, and must not have the error turned into a
    RosterError that a request's own error handling would take for its own failure."""

    @event.listens_for(engine, "handle_error")
    def _away(context: sa.engine.ExceptionContext) -> None:
        if context.is_pre_ping:  # a dead pooled connection: the pool replaces it by itself
            return
        if context.is_disconnect or unreachable(context.original_exception):
            raise unavailable() from context.original_exception


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def hide_password(url: str) -> str:
    """The URL as it may be shown in a message or a log: any password replaced by ***. A regular
    expression, not SQLAlchemy's parser, so that it works on URLs that parser refuses too."""
    return re.sub(r"^([^:/]+://[^:@/]*):[^/]*@", r"\1:***@", url)


def engine_url(url: str) -> sa.URL:
    """Accept the URLs people write (postgresql://, postgres://) and pick psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise InvalidInput(
            f"'{hide_password(url)}' is not a database URL: write it as {DATABASE_URLS}",
            field="database_url",
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InvalidInput(
            f"unsupported database '{parsed.get_backend_name()}': use {DATABASE_URLS}",
            field="database_url",
        )
    if parsed.get_backend_name() == "postgresql" and importlib.util.find_spec("psycopg") is None:
        raise InvalidInput(
            "PostgreSQL needs its driver, psycopg, which is not installed: "
            "pip install 'roster[postgres]' (or use sqlite:///PATH)",
            field="database_url",
        )
    return parsed


@dataclass
class Database:
    """The writer's engine and the readers' engine for one database URL."""

    url: sa.URL
    writer: sa.Engine
    reader: sa.Engine

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def dispose(self) -> None:
        self.writer.dispose()
        self.reader.dispose()


def _sqlite_engine(url: sa.URL, synchronous: str, immediate: bool) -> sa.Engine:
    engine = sa.create_engine(
        url,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=sa.pool.QueuePool,
        pool_size=8,
        max_overflow=8,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below, so that BEGIN
        # IMMEDIATE is really sent and savepoints work (pysqlite otherwise defers BEGIN).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("pragma journal_mode=wal")
        cursor.execute(f"pragma synchronous={synchronous}")
        cursor.execute("pragma busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        # The writer takes the write lock at BEGIN, so it never fails to upgrade a read lock.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _postgres_connect_args(url: sa.URL, **args: Any) -> dict[str, Any]:
    """libpq options that bound how long a lost server can hold a connection attempt or a
    statement (the writer must answer every call in bounded time), unless the URL sets them."""
    bounded: dict[str, Any] = {
        "connect_timeout": 5,
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
    }
    bounded.update(args)
    return {key: value for key, value in bounded.items() if key not in url.query}


def connect(url: str, synchronous: str = "FULL") -> Database:
    parsed = engine_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        reader = _sqlite_engine(parsed, synchronous, immediate=False)
        _answer_unavailable(reader)
        return Database(
            parsed, writer=_sqlite_engine(parsed, synchronous, immediate=True), reader=reader
        )
    common: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    reader = sa.create_engine(
        parsed,
        pool_size=8,
        max_overflow=8,
        # A pooled connection that died while idle (a restart, an administrator ending it) is
        # replaced at checkout instead of failing the read that gets it: reads are few (writes
        # authenticate from a cache), so the round trip this costs is cheap.
        pool_pre_ping=True,
        connect_args=_postgres_connect_args(parsed),
        **common,
    )
    _answer_unavailable(reader)
    return Database(
        parsed,
        writer=sa.create_engine(
            parsed,
            pool_size=2,
            max_overflow=2,
            # Prepared statements, but planned for each call's values: a plan kept from when a
            # table was new and empty (a sequential scan) would stay as the table grows.
            connect_args=_postgres_connect_args(
                parsed, options="-c plan_cache_mode=force_custom_plan"
            ),
            **common,
        ),
        reader=reader,
    )


def ping(engine: sa.Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
    except (sa.exc.SQLAlchemyError, Unavailable):
        return False
    return True
