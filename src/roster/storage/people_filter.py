"""People filters (roster.domain.filters) as SQL on the `people` table, with one meaning on SQLite
and PostgreSQL (docs/api.md §4, docs/decisions.md):

- `id`, `email` exist when the column is not NULL; `cio_id` always exists. `email` eq compares
  case-folded and trimmed addresses (`email_folded`), `id` and `cio_id` eq the stored string.
- An attribute exists when its key is in the person's attributes (even holding null).
- An attribute eq matches a stored string, number or boolean with the same string form as the
  value (domain.filters.equal_values); objects and arrays never match.
- Every condition is true or false, never SQL NULL, so `not` is the complement.

The attribute conditions are SQL elements compiled per dialect, so `where_clause` needs no
connection: the exports and the App API's search share it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from roster.domain.filters import (
    And,
    Attribute,
    Filter,
    Not,
    Or,
    Scalar,
    equal_values,
    identifier_value,
)
from roster.domain.people import Person
from roster.storage.tables import people

STREAM_BATCH = 1000  # rows fetched at a time by a streaming read


def where_clause(workspace_id: int, f: Filter) -> sa.ColumnElement[bool]:
    """The people of one workspace that match `f`."""
    return sa.and_(people.c.workspace_id == workspace_id, condition(f))


def condition(f: Filter) -> sa.ColumnElement[bool]:
    """`f` alone, on the `people` table's columns (no workspace)."""
    if isinstance(f, And):
        return sa.and_(sa.true(), *(condition(part) for part in f.parts))
    if isinstance(f, Or):
        return sa.or_(sa.false(), *(condition(part) for part in f.parts))
    if isinstance(f, Not):
        return sa.not_(condition(f.part))
    if f.is_identifier:
        return _identifier(f)
    if f.operator == "exists":
        return _HasAttribute(f.field)
    assert f.value is not None
    return _AttributeEquals(f.field, equal_values(f.value))


def _identifier(f: Attribute) -> sa.ColumnElement[bool]:
    column = {"id": people.c.id, "email": people.c.email, "cio_id": people.c.cio_id}[f.field]
    if f.operator == "exists":
        return column.is_not(None)
    assert f.value is not None
    stored = people.c.email_folded if f.field == "email" else column
    # NULL = 'x' is NULL, whose `not` would be NULL too: a person without an id is "not id eq x".
    return sa.func.coalesce(stored == identifier_value(f.field, f.value), sa.false())


def page_query(workspace_id: int, f: Filter, after: int | None, limit: int) -> sa.Select[Any]:
    """Up to `limit` matching people by row number after the row `after`: a keyset page that
    people added or changed meanwhile never shift."""
    query = sa.select(*PERSON_COLUMNS).where(where_clause(workspace_id, f))
    if after is not None:
        query = query.where(people.c.pk > after)
    return query.order_by(people.c.pk).limit(limit)


def page_people(
    connection: sa.Connection, workspace_id: int, f: Filter, after: int | None, limit: int
) -> list[Person]:
    return [
        person_from_row(row)
        for row in connection.execute(page_query(workspace_id, f, after, limit))
    ]


def stream_people(engine: sa.Engine, workspace_id: int, f: Filter) -> Iterator[Person]:
    """Every matching person by row number, fetched STREAM_BATCH rows at a time from a
    server-side cursor: memory stays flat whatever the workspace's size."""
    query = sa.select(*PERSON_COLUMNS).where(where_clause(workspace_id, f)).order_by(people.c.pk)
    with engine.connect() as connection:
        rows = connection.execution_options(yield_per=STREAM_BATCH).execute(query)
        for row in rows:
            yield person_from_row(row)


PERSON_COLUMNS = (
    people.c.pk,
    people.c.cio_id,
    people.c.id,
    people.c.email,
    people.c.attributes,
    people.c.attribute_times,
    people.c.created_in_roster_at,
    people.c.updated_at,
)


def person_from_row(row: sa.Row[Any]) -> Person:
    return Person(
        pk=row.pk,
        cio_id=row.cio_id,
        id=row.id,
        email=row.email,
        attributes=dict(row.attributes),
        attribute_times=dict(row.attribute_times),
        created_in_roster_at=row.created_in_roster_at,
        updated_at=row.updated_at,
    )


# -- attribute conditions, compiled per dialect ---------------------------------------------------


class _HasAttribute(sa.ColumnElement[bool]):
    type = sa.Boolean()
    inherit_cache = False  # the name is part of the statement; filters are written per call

    def __init__(self, name: str) -> None:
        self.name = name


class _AttributeEquals(sa.ColumnElement[bool]):
    type = sa.Boolean()
    inherit_cache = False

    def __init__(self, name: str, values: tuple[Scalar, ...]) -> None:
        self.name = name
        self.values = values


def _bind(compiler: SQLCompiler, value: Any, **kw: Any) -> str:
    return compiler.process(sa.bindparam(None, value, unique=True), **kw)


def _attributes(compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(people.c.attributes, **kw)


def _sqlite_path(name: str) -> str | None:
    """`$."name"`, or None when SQLite's path syntax cannot name the key: it compares a quoted
    label with the key as written in the JSON text, and cannot hold a `"` at all."""
    written = orjson.dumps(name).decode()[1:-1]
    return None if written != name else f'$."{name}"'


@compiles(_HasAttribute, "sqlite")
def _has_attribute_sqlite(element: _HasAttribute, compiler: SQLCompiler, **kw: Any) -> str:
    column = _attributes(compiler, **kw)
    path = _sqlite_path(element.name)
    if path is None:
        name = _bind(compiler, element.name, **kw)
        return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE key = {name})"
    return f"(json_type({column}, {_bind(compiler, path, **kw)}) IS NOT NULL)"


@compiles(_AttributeEquals, "sqlite")
def _attribute_equals_sqlite(element: _AttributeEquals, compiler: SQLCompiler, **kw: Any) -> str:
    # json_extract gives true and false as 1 and 0, and objects or arrays as JSON text: the
    # type decides which of the candidate values a stored value may equal.
    plain = [value for value in element.values if not isinstance(value, bool)]
    flags = [value for value in element.values if isinstance(value, bool)]
    column = _attributes(compiler, **kw)
    path = _sqlite_path(element.name)
    if path is None:
        source = f"json_each({column})"
        value_of, type_of = "value", "type"
        key = f"key = {_bind(compiler, element.name, **kw)}"
    else:
        bound = _bind(compiler, path, **kw)
        value_of, type_of = f"json_extract({column}, {bound})", f"json_type({column}, {bound})"
        key = ""
    # The value first: AND stops there for most rows, so the type is read only for a match.
    tests = []
    if plain:
        listed = ", ".join(_bind(compiler, value, **kw) for value in plain)
        tests.append(f"({value_of} IN ({listed}) AND {type_of} IN ('text', 'integer', 'real'))")
    tests.extend(
        f"({value_of} = {int(flag)} AND {type_of} = '{'true' if flag else 'false'}')"
        for flag in flags
    )
    test = " OR ".join(tests)
    if path is None:
        return f"EXISTS (SELECT 1 FROM {source} WHERE {key} AND ({test}))"
    return f"COALESCE({test}, 0)"


@compiles(_HasAttribute, "postgresql")
def _has_attribute_postgresql(element: _HasAttribute, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({_attributes(compiler, **kw)} ? {_bind(compiler, element.name, **kw)})"


@compiles(_AttributeEquals, "postgresql")
def _attribute_equals_postgresql(
    element: _AttributeEquals, compiler: SQLCompiler, **kw: Any
) -> str:
    # jsonb equality keeps types apart (true is not 1, "5" is not 5) and compares numbers as
    # numbers (5 = 5.0), which is what equal_values' candidates expect.
    stored = f"({_attributes(compiler, **kw)} -> {_bind(compiler, element.name, **kw)})"
    listed = ", ".join(
        f"CAST({_bind(compiler, orjson.dumps(value).decode(), **kw)} AS JSONB)"
        for value in element.values
    )
    return f"COALESCE({stored} IN ({listed}), false)"
