"""The identity checks every stored workspace must pass, in SQL that SQLite and PostgreSQL both
run (docs/identity.md I10.1: one identifier, one person; I10.3: nothing of a merged person is
left behind). Each check counts violations, so a healthy workspace counts 0 everywhere.

The concurrency tests run them after many servers wrote at once, and `make bench` after every
load it drives, with checks of its own traffic added (`Check` is the shape both use):

    with engine.connect() as connection:
        assert violations(connection, workspace_id) == {}
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from roster.storage.database import engine_url


@dataclass(frozen=True)
class Check:
    """`sql` counts the rows of workspace `:w` that break the rule `meaning` describes."""

    name: str
    meaning: str
    sql: str


IDENTITY_CHECKS: tuple[Check, ...] = (
    Check(
        "identifier_on_two_people",
        "an identifier (workspace, kind, value) on two people",
        # The primary key forbids it; counted anyway, since the rule is what matters.
        "select count(*) from (select kind, value from identifiers where workspace_id = :w "
        "group by kind, value having count(distinct person_pk) > 1) as d",
    ),
    Check(
        "person_with_several_ids",
        "a person with several id identifiers",
        "select count(*) from (select person_pk from identifiers where workspace_id = :w "
        "and kind = 'id' group by person_pk having count(*) > 1) as d",
    ),
    Check(
        "id_row_not_the_person_id",
        "an id identifier that is not its person's id",
        "select count(*) from identifiers i left join people p on p.pk = i.person_pk "
        "where i.workspace_id = :w and i.kind = 'id' "
        "and (p.pk is null or p.id is null or p.id <> i.value)",
    ),
    Check(
        "person_id_without_identifier",
        "a person whose id is not an id identifier of theirs",
        "select count(*) from people p where p.workspace_id = :w and p.id is not null "
        "and not exists (select 1 from identifiers i where i.workspace_id = p.workspace_id "
        "and i.kind = 'id' and i.value = p.id and i.person_pk = p.pk)",
    ),
    Check(
        "identifier_without_person",
        "an identifier of no person",
        "select count(*) from identifiers i where i.workspace_id = :w and not exists "
        "(select 1 from people p where p.pk = i.person_pk)",
    ),
    Check(
        "event_without_person",
        "an event of a person who no longer exists",
        # An anonymous event has no person yet (person_pk is null); that is allowed.
        "select count(*) from events e where e.workspace_id = :w and e.person_pk is not null "
        "and not exists (select 1 from people p where p.pk = e.person_pk)",
    ),
)


def count_violations(
    connection: sa.Connection, workspace_id: int, checks: Iterable[Check] = IDENTITY_CHECKS
) -> dict[str, int]:
    """Every check's count, by name (all must be 0)."""
    return {
        check.name: int(
            connection.execute(sa.text(check.sql), {"w": int(workspace_id)}).scalar_one()
        )
        for check in checks
    }


def violations(
    connection: sa.Connection, workspace_id: int, checks: Iterable[Check] = IDENTITY_CHECKS
) -> dict[str, int]:
    """The checks that found something, by name: {} for a healthy workspace."""
    counts = count_violations(connection, workspace_id, checks)
    return {name: count for name, count in counts.items() if count}


def count_in_database(
    database_url: str, workspace_id: int, checks: Iterable[Check] = IDENTITY_CHECKS
) -> dict[str, int]:
    """count_violations on a database given by its URL (as `roster serve` takes it)."""
    engine = sa.create_engine(engine_url(database_url))
    try:
        with engine.connect() as connection:
            return count_violations(connection, workspace_id, checks)
    finally:
        engine.dispose()
