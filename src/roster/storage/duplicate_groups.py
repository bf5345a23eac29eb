"""The duplicate finder's reads (docs/api.md §5): people who share a case-folded email, and
id-only + email-only pairs that a conflict record ties together (docs/identity.md I5.2).

Every read looks through a bounded slice of an index (`scan` entries) and says how far it got,
so that a page costs the same whether duplicates are dense or one in a million: a GROUP BY over
the whole email index takes about a second on 1,000,000 people when duplicates are sparse
(docs/decisions.md)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from roster.storage.database import Database
from roster.storage.tables import conflicts, people


@dataclass(frozen=True)
class Member:
    pk: int
    cio_id: str
    id: str | None
    email: str | None
    created_in_roster_at: int


@dataclass(frozen=True)
class EmailGroup:
    """People whose emails fold to `email_folded`; `members` are the oldest first, at most
    as many as were asked for, `size` all of them."""

    email_folded: str
    size: int
    members: tuple[Member, ...]


@dataclass(frozen=True)
class ConflictPair:
    """Two people a conflict record ties: one with an id and no email, one with an email and
    no id; `members` the older first."""

    conflict_pk: int
    kind: str
    value: str
    members: tuple[Member, Member]


T = TypeVar("T")
K = TypeVar("K")


@dataclass(frozen=True)
class Slice(Generic[T, K]):
    """What one bounded read found: `found` in key order, `upto` the last key looked at (None
    when nothing was), `ended` when the index has nothing after `upto`."""

    found: list[T]
    upto: K | None
    ended: bool


_MEMBER = (
    people.c.pk,
    people.c.cio_id,
    people.c.id,
    people.c.email,
    people.c.created_in_roster_at,
)
_OLDEST_FIRST = (people.c.created_in_roster_at, people.c.pk)


def _member(row: Sequence[Any]) -> Member:
    return Member(row[0], row[1], row[2], row[3], int(row[4]))


def _oldest_first(a: Member, b: Member) -> tuple[Member, Member]:
    return (a, b) if (a.created_in_roster_at, a.pk) <= (b.created_in_roster_at, b.pk) else (b, a)


class DuplicateGroups:
    def __init__(self, database: Database) -> None:
        self._engine = database.reader

    def email_groups(
        self,
        workspace_id: int,
        after: str,
        inclusive: bool,
        limit: int,
        scan: int,
        shown: int,
    ) -> Slice[EmailGroup, str]:
        """Emails shared by two people or more, after `after` (or from it, `inclusive`), looked
        for among the next `scan` people in email order; each group with its `shown` oldest."""
        folded = people.c.email_folded
        start = folded >= after if inclusive else folded > after
        mine = sa.and_(people.c.workspace_id == workspace_id, start)
        window = sa.select(folded.label("e")).where(mine).order_by(folded).limit(scan).subquery()
        with self._engine.connect() as connection:
            edge = connection.execute(sa.select(sa.func.max(window.c.e), sa.func.count())).one()
            last, seen = edge[0], int(edge[1])
            if last is None:
                return Slice([], None, True)
            size = sa.func.count().label("size")
            rows = connection.execute(
                sa.select(folded, size)
                .where(mine, folded <= last)
                .group_by(folded)
                .having(sa.func.count() > 1)
                .order_by(folded)
                .limit(limit)
            ).all()
            found = [(str(row[0]), int(row[1])) for row in rows]
            members = self._members(connection, workspace_id, found, shown)
        groups = [EmailGroup(email, size, members[email]) for email, size in found]
        if len(groups) == limit:
            return Slice(groups, groups[-1].email_folded, False)
        return Slice(groups, str(last), seen < scan)

    def _members(
        self,
        connection: sa.Connection,
        workspace_id: int,
        found: list[tuple[str, int]],
        shown: int,
    ) -> dict[str, tuple[Member, ...]]:
        """The `shown` oldest of each group: one read for all the groups that small, one each
        for the few larger (a page costs the same however many people share one email)."""
        small = [email for email, size in found if size <= shown]
        listed: dict[str, list[Member]] = {email: [] for email, _ in found}
        mine = people.c.workspace_id == workspace_id
        if small:
            for row in connection.execute(
                sa.select(people.c.email_folded, *_MEMBER).where(
                    mine, people.c.email_folded.in_(small)
                )
            ):
                listed[row[0]].append(_member(row[1:]))
        for email, size in found:
            if size > shown:
                listed[email] = [
                    _member(row)
                    for row in connection.execute(
                        sa.select(*_MEMBER)
                        .where(mine, people.c.email_folded == email)
                        .order_by(*_OLDEST_FIRST)
                        .limit(shown)
                    )
                ]
        return {
            email: tuple(sorted(group, key=lambda m: (m.created_in_roster_at, m.pk)))
            for email, group in listed.items()
        }

    def members(self, workspace_id: int, email_folded: str) -> Iterator[Member]:
        """Everyone whose email folds to `email_folded`, oldest first, streamed."""
        query = (
            sa.select(*_MEMBER)
            .where(people.c.workspace_id == workspace_id, people.c.email_folded == email_folded)
            .order_by(*_OLDEST_FIRST)
        )
        with self._engine.connect() as connection:
            rows = connection.execution_options(stream_results=True, yield_per=500)
            for row in rows.execute(query):
                yield _member(row)

    def oldest_members(self, workspace_id: int, email_folded: str, limit: int) -> list[Member]:
        """The `limit` oldest people whose email folds to `email_folded`, oldest first."""
        query = (
            sa.select(*_MEMBER)
            .where(people.c.workspace_id == workspace_id, people.c.email_folded == email_folded)
            .order_by(*_OLDEST_FIRST)
            .limit(limit)
        )
        with self._engine.connect() as connection:
            return [_member(row) for row in connection.execute(query)]

    def with_cio_ids(self, workspace_id: int, cio_ids: Sequence[str]) -> list[Member]:
        """The live people among `cio_ids`, oldest first."""
        query = (
            sa.select(*_MEMBER)
            .where(people.c.workspace_id == workspace_id, people.c.cio_id.in_(list(cio_ids)))
            .order_by(*_OLDEST_FIRST)
        )
        with self._engine.connect() as connection:
            return [_member(row) for row in connection.execute(query)]

    def email_of(self, workspace_id: int, pk: int) -> str | None:
        """The case-folded email of the person with row number `pk`, if they are alive."""
        with self._engine.connect() as connection:
            found = connection.execute(
                sa.select(people.c.email_folded).where(
                    people.c.workspace_id == workspace_id, people.c.pk == pk
                )
            ).scalar()
        return None if found is None else str(found)

    def oldest_with(self, workspace_id: int, email_folded: str) -> int | None:
        """The row number of someone whose email folds to `email_folded`."""
        with self._engine.connect() as connection:
            found = connection.execute(
                sa.select(sa.func.min(people.c.pk)).where(
                    people.c.workspace_id == workspace_id, people.c.email_folded == email_folded
                )
            ).scalar()
        return None if found is None else int(found)

    def conflict_pairs(
        self, workspace_id: int, after: int, limit: int, scan: int
    ) -> Slice[ConflictPair, int]:
        """Unresolved conflict records after row `after` that tie an id-only person to an
        email-only one, both alive, each pair once (under its first record), among the next
        `scan` records of the workspace."""
        mine = sa.and_(conflicts.c.workspace_id == workspace_id, conflicts.c.pk > after)
        window = (
            sa.select(conflicts.c.pk.label("k"))
            .where(mine)
            .order_by(conflicts.c.pk)
            .limit(scan)
            .subquery()
        )
        person, holder = people.alias("person"), people.alias("holder")
        earlier = conflicts.alias("earlier")
        same_pair = sa.or_(
            sa.and_(
                earlier.c.person_pk == conflicts.c.person_pk,
                earlier.c.holder_pk == conflicts.c.holder_pk,
            ),
            sa.and_(
                earlier.c.person_pk == conflicts.c.holder_pk,
                earlier.c.holder_pk == conflicts.c.person_pk,
            ),
        )
        first_record = ~sa.exists().where(
            earlier.c.workspace_id == workspace_id,
            earlier.c.pk < conflicts.c.pk,
            earlier.c.resolved_at.is_(None),
            same_pair,
        )

        def only_id(who: sa.FromClause) -> sa.ColumnElement[bool]:
            return sa.and_(who.c.id.is_not(None), who.c.email.is_(None))

        def only_email(who: sa.FromClause) -> sa.ColumnElement[bool]:
            return sa.and_(who.c.email.is_not(None), who.c.id.is_(None))

        columns = [
            *(person.c[c.name] for c in _MEMBER),
            *(holder.c[c.name] for c in _MEMBER),
        ]
        with self._engine.connect() as connection:
            edge = connection.execute(sa.select(sa.func.max(window.c.k), sa.func.count())).one()
            last, seen = edge[0], int(edge[1])
            if last is None:
                return Slice([], None, True)
            rows = connection.execute(
                sa.select(conflicts.c.pk, conflicts.c.kind, conflicts.c.value, *columns)
                .join(
                    person,
                    sa.and_(
                        person.c.pk == conflicts.c.person_pk,
                        person.c.workspace_id == workspace_id,
                    ),
                )
                .join(
                    holder,
                    sa.and_(
                        holder.c.pk == conflicts.c.holder_pk,
                        holder.c.workspace_id == workspace_id,
                    ),
                )
                .where(
                    mine,
                    conflicts.c.pk <= last,
                    conflicts.c.resolved_at.is_(None),
                    sa.or_(
                        sa.and_(only_id(person), only_email(holder)),
                        sa.and_(only_email(person), only_id(holder)),
                    ),
                    first_record,
                )
                .order_by(conflicts.c.pk)
                .limit(limit)
            ).all()
        pairs = [
            ConflictPair(
                int(row[0]),
                str(row[1]),
                str(row[2]),
                _oldest_first(
                    Member(row[3], row[4], row[5], row[6], int(row[7])),
                    Member(row[8], row[9], row[10], row[11], int(row[12])),
                ),
            )
            for row in rows
        ]
        if len(pairs) == limit:
            return Slice(pairs, pairs[-1].conflict_pk, False)
        return Slice(pairs, int(last), seen < scan)
