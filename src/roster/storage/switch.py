"""Switching a workspace from id_only to email_or_id: find what blocks it, then index emails."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from roster.storage.tables import identifiers, people


def emails_blocking_switch(
    connection: sa.Connection, workspace_id: int, valid: Callable[[str], bool]
) -> tuple[list[str], list[str]]:
    shared: list[str] = list(
        connection.execute(
            sa.select(people.c.email_folded)
            .where(people.c.workspace_id == workspace_id, people.c.email_folded.is_not(None))
            .group_by(people.c.email_folded)
            .having(sa.func.count() > 1)
            .order_by(people.c.email_folded)
            .limit(100)
        ).scalars()
    )
    emails: list[str] = list(
        connection.execute(
            sa.select(people.c.email).where(
                people.c.workspace_id == workspace_id, people.c.email.is_not(None)
            )
        ).scalars()
    )
    invalid = [email for email in emails if not valid(email)][:100]
    if not shared and not invalid:
        connection.execute(
            identifiers.insert().from_select(
                ["workspace_id", "kind", "value", "person_pk"],
                sa.select(
                    people.c.workspace_id, sa.literal("email"), people.c.email_folded, people.c.pk
                ).where(people.c.workspace_id == workspace_id, people.c.email_folded.is_not(None)),
            )
        )
    return shared, invalid


def drop_email_identifiers(connection: sa.Connection, workspace_id: int) -> None:
    """id_only: email stops identifying; it stays on each person as an attribute."""
    connection.execute(
        identifiers.delete().where(
            identifiers.c.workspace_id == workspace_id, identifiers.c.kind == "email"
        )
    )
