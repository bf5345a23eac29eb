"""The write path's SQL, run on the driver's own cursor.

SQLAlchemy's per-statement overhead (building parameters, execution context, result proxy) is
several times what SQLite itself spends on a primary-key look-up or insert, and the writer runs
about ten such statements per identify. So the writer's statements are plain SQL, written once
with :named parameters and rendered here for each driver; everything else (schema, migrations,
reads) stays SQLAlchemy Core. JSON parameters are passed serialised, and marked `json` so that
PostgreSQL casts them to jsonb."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

_PARAM = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")


@dataclass(frozen=True)
class Statement:
    sqlite: str
    postgresql: str


def statement(sql: str, json: Iterable[str] = (), lock: str | None = None) -> Statement:
    """`lock` names a table alias whose rows PostgreSQL locks (FOR UPDATE OF) as it reads them;
    SQLite has a single writer and needs no row locks."""
    json_names = set(json)

    def pg(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"CAST(%({name})s AS jsonb)" if name in json_names else f"%({name})s"

    postgresql = _PARAM.sub(pg, sql.replace("%", "%%"))
    if lock is not None:
        postgresql += f" FOR UPDATE OF {lock}"
    return Statement(sqlite=sql, postgresql=postgresql)


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def loads(value: Any) -> Any:
    """A JSON column as read: text from SQLite, already decoded from PostgreSQL."""
    if value is None or isinstance(value, dict | list):
        return value
    return orjson.loads(value)


class EventIdRace(Exception):
    """Another server process stored some of a request's event ids after this transaction
    found them new (PostgreSQL; under other advisory locks, so for other people): nothing of
    the request stands, and the writer tries it again as it does a deadlock, when the look-up
    finds them stored and drops them as repeats (docs/identity.md I10.2)."""

    def __init__(self, lost: int) -> None:
        super().__init__(f"{lost} event id(s) stored meanwhile by another server process")


class Cursor:
    """Runs Statements on one DBAPI connection, inside the transaction SQLAlchemy opened."""

    def __init__(self, dbapi_connection: Any, postgresql: bool) -> None:
        self._cursor = dbapi_connection.cursor()
        self.postgresql = postgresql

    def _sql(self, stmt: Statement) -> str:
        return stmt.postgresql if self.postgresql else stmt.sqlite

    def run(self, stmt: Statement, params: dict[str, Any]) -> int:
        self._cursor.execute(self._sql(stmt), params)
        rowcount: int = self._cursor.rowcount
        return rowcount

    def many(self, stmt: Statement, rows: list[dict[str, Any]]) -> None:
        self._cursor.executemany(self._sql(stmt), rows)

    def many_returning(self, stmt: Statement, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """PostgreSQL: `stmt` (with RETURNING) for every row in one pipeline; what all of them
        returned."""
        assert self.postgresql, "the sqlite3 driver's executemany returns no rows"
        self._cursor.executemany(self._sql(stmt), rows, returning=True)
        found: list[tuple[Any, ...]] = []
        while True:
            found.extend(self._cursor.fetchall())
            if not self._cursor.nextset():
                return found

    def one(self, stmt: Statement, params: dict[str, Any]) -> tuple[Any, ...] | None:
        self._cursor.execute(self._sql(stmt), params)
        row: tuple[Any, ...] | None = self._cursor.fetchone()
        return row

    def all(self, stmt: Statement, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        self._cursor.execute(self._sql(stmt), params)
        rows: list[tuple[Any, ...]] = self._cursor.fetchall()
        return rows

    def execute(self, sql: str) -> None:
        """A statement without parameters, the same on both databases (SAVEPOINT …)."""
        self._cursor.execute(sql)

    def close(self) -> None:
        self._cursor.close()
