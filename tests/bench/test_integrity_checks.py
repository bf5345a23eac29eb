"""The identity checks the tests and `make bench` share (roster.testing.integrity), on SQLite and
PostgreSQL: a workspace roster wrote passes them all, and each kind of breakage planted by hand
is counted by the check that names it (docs/identity.md I10.1, I10.3)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from roster.domain.identifiers import IdentifierMode
from roster.services.system import System
from roster.storage.database import engine_url
from roster.testing.integrity import IDENTITY_CHECKS, count_violations, violations
from tests.domain.builders import event, identify
from tests.services.sql_world import SqlWorld

MODE = IdentifierMode.EMAIL_OR_ID
MISSING_PERSON = 2_000_000_000  # a person key no test database reaches


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    made = sa.create_engine(engine_url(database_url))
    try:
        yield made
    finally:
        made.dispose()


@pytest.fixture
def world(system: System) -> SqlWorld:
    """Two people, each with an id, an email and an event."""
    world = SqlWorld(system)
    for user in ("alice", "bob"):
        world.apply(identify(MODE, user, email=f"{user}@example.com"))
        world.apply(event(MODE, user, "signed_up"))
    return world


def test_i10_1_a_workspace_roster_wrote_passes_every_identity_check(
    world: SqlWorld, engine: sa.Engine
) -> None:
    with engine.connect() as connection:
        counts = count_violations(connection, world.ws)

    assert counts == {check.name: 0 for check in IDENTITY_CHECKS}


def test_i10_1_an_id_moved_to_another_person_is_counted_by_each_check_it_breaks(
    world: SqlWorld, engine: sa.Engine
) -> None:
    with engine.connect() as connection, connection.begin() as transaction:
        bob = connection.execute(
            sa.text("select pk from people where workspace_id = :w and id = 'bob'"),
            {"w": world.ws},
        ).scalar_one()
        connection.execute(
            sa.text(
                "update identifiers set person_pk = :bob "
                "where workspace_id = :w and kind = 'id' and value = 'alice'"
            ),
            {"w": world.ws, "bob": bob},
        )

        found = violations(connection, world.ws)
        transaction.rollback()

    assert found == {
        "person_with_several_ids": 1,  # bob holds both ids
        "id_row_not_the_person_id": 1,  # the id alice on bob
        "person_id_without_identifier": 1,  # alice's person lost her id
    }


def test_i10_3_identifiers_and_events_left_on_a_person_who_is_gone_are_counted(
    world: SqlWorld, engine: sa.Engine
) -> None:
    with engine.connect() as connection, connection.begin() as transaction:
        for table, where in (("identifiers", "kind = 'email'"), ("events", "name = 'signed_up'")):
            connection.execute(
                sa.text(
                    f"update {table} set person_pk = :gone where workspace_id = :w and {where}"
                ),
                {"w": world.ws, "gone": MISSING_PERSON},
            )

        found = violations(connection, world.ws)
        transaction.rollback()

    assert found == {"identifier_without_person": 2, "event_without_person": 2}
