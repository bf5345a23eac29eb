"""Engines for SQLite and PostgreSQL, set up the way the writer and the readers need them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event

from roster.domain.errors import InvalidInput


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def engine_url(url: str) -> sa.URL:
    """Accept the URLs people write (postgresql://, postgres://) and pick psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    parsed = sa.make_url(url)
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InvalidInput(
            f"unsupported database '{parsed.get_backend_name()}': use sqlite:///PATH "
            "or postgresql://USER@HOST/DB",
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


def connect(url: str, synchronous: str = "NORMAL") -> Database:
    parsed = engine_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        return Database(
            parsed,
            writer=_sqlite_engine(parsed, synchronous, immediate=True),
            reader=_sqlite_engine(parsed, synchronous, immediate=False),
        )
    common: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    return Database(
        parsed,
        writer=sa.create_engine(
            parsed,
            pool_size=2,
            max_overflow=2,
            # Prepared statements, but planned for each call's values: a plan kept from when a
            # table was new and empty (a sequential scan) would stay as the table grows.
            connect_args={"options": "-c plan_cache_mode=force_custom_plan"},
            **common,
        ),
        reader=sa.create_engine(parsed, pool_size=8, max_overflow=8, **common),
    )


def ping(engine: sa.Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
    except sa.exc.SQLAlchemyError:
        return False
    return True
