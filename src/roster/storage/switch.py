"""Switching a workspace from id_only to email_or_id: find what blocks it, then index emails."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from roster.storage.tables import identifiers, people


def emails_blocking_switch(
    connection: sa.Connection, workspace_id: int, valid: Callable[[str], bool]
) -> list[str]:
    """The cio_ids of people whose email is shared or invalid (none: emails now identify)."""
    rows = connection.execute(
        sa.select(people.c.cio_id, people.c.email, people.c.email_folded).where(
            people.c.workspace_id == workspace_id, people.c.email.is_not(None)
        )
    ).all()
    holders: dict[str, list[str]] = {}
    blocking: set[str] = set()
    for row in rows:
        cio_id, email, folded = str(row.cio_id), str(row.email), str(row.email_folded)
        holders.setdefault(folded, []).append(cio_id)
        if not valid(email.strip()):
            blocking.add(cio_id)
    blocking.update(cio for cios in holders.values() if len(cios) > 1 for cio in cios)
    if not blocking:
        connection.execute(
            identifiers.insert().from_select(
                ["workspace_id", "kind", "value", "person_pk"],
                sa.select(
                    people.c.workspace_id, sa.literal("email"), people.c.email_folded, people.c.pk
                ).where(people.c.workspace_id == workspace_id, people.c.email_folded.is_not(None)),
            )
        )
    return sorted(blocking)


def drop_email_identifiers(connection: sa.Connection, workspace_id: int) -> None:
    """id_only: email stops identifying; it stays on each person as an attribute."""
    connection.execute(
        identifiers.delete().where(
            identifiers.c.workspace_id == workspace_id, identifiers.c.kind == "email"
        )
    )
