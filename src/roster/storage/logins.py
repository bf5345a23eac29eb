"""The rows of web UI logins and their sessions (docs/web.md, "Logins")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from roster.storage.tables import ui_sessions, user_workspaces, users, workspaces


@dataclass(frozen=True)
class UserRow:
    pk: int
    email: str
    password_hash: str
    created_at: float
    workspace_ids: tuple[int, ...]  # empty: every workspace


@dataclass(frozen=True)
class SessionRow:
    user: UserRow
    workspace_id: int | None
    expires_at: float


def _workspace_ids(connection: sa.Connection, user_pk: int) -> tuple[int, ...]:
    found = connection.execute(
        sa.select(user_workspaces.c.workspace_id)
        .where(user_workspaces.c.user_pk == user_pk)
        .order_by(user_workspaces.c.workspace_id)
    )
    return tuple(int(row[0]) for row in found)


def _user(connection: sa.Connection, row: sa.Row[Any]) -> UserRow:
    pk = int(row.pk)
    return UserRow(pk, row.email, row.password_hash, row.created_at, _workspace_ids(connection, pk))


_USER = (users.c.pk, users.c.email, users.c.password_hash, users.c.created_at)


def user_by_email(connection: sa.Connection, email: str) -> UserRow | None:
    row = connection.execute(sa.select(*_USER).where(users.c.email == email)).first()
    return None if row is None else _user(connection, row)


def all_users(connection: sa.Connection) -> list[UserRow]:
    """Every login, by email: a handful per deployment, not a list that grows with traffic."""
    rows = connection.execute(sa.select(*_USER).order_by(users.c.email)).all()
    return [_user(connection, row) for row in rows]


def add_user(
    connection: sa.Connection,
    email: str,
    password_hash: str,
    workspace_ids: tuple[int, ...],
    now: float,
) -> int:
    pk = int(
        connection.execute(
            users.insert().values(email=email, password_hash=password_hash, created_at=now)
        ).inserted_primary_key[0]  # type: ignore[index]
    )
    for workspace_id in workspace_ids:
        connection.execute(user_workspaces.insert().values(workspace_id=workspace_id, user_pk=pk))
    return pk


def set_password(connection: sa.Connection, user_pk: int, password_hash: str) -> None:
    connection.execute(
        users.update().where(users.c.pk == user_pk).values(password_hash=password_hash)
    )


def remove_user(connection: sa.Connection, user_pk: int) -> None:
    connection.execute(ui_sessions.delete().where(ui_sessions.c.user_pk == user_pk))
    connection.execute(user_workspaces.delete().where(user_workspaces.c.user_pk == user_pk))
    connection.execute(users.delete().where(users.c.pk == user_pk))


def workspace_names(connection: sa.Connection, ids: tuple[int, ...]) -> list[tuple[int, str]]:
    """(id, name) of the given workspaces, or of every workspace for none, by name."""
    query = sa.select(workspaces.c.workspace_id, workspaces.c.name).order_by(workspaces.c.name)
    if ids:
        query = query.where(workspaces.c.workspace_id.in_(ids))
    return [(int(row[0]), str(row[1])) for row in connection.execute(query)]


def add_session(
    connection: sa.Connection,
    token_hash: str,
    user_pk: int,
    workspace_id: int | None,
    now: float,
    expires_at: float,
) -> None:
    connection.execute(ui_sessions.delete().where(ui_sessions.c.expires_at < now))
    connection.execute(
        ui_sessions.insert().values(
            token_hash=token_hash,
            user_pk=user_pk,
            workspace_id=workspace_id,
            created_at=now,
            expires_at=expires_at,
        )
    )


def session(connection: sa.Connection, token_hash: str, now: float) -> SessionRow | None:
    row = connection.execute(
        sa.select(ui_sessions.c.user_pk, ui_sessions.c.workspace_id, ui_sessions.c.expires_at)
        .where(ui_sessions.c.token_hash == token_hash)
        .where(ui_sessions.c.expires_at > now)
    ).first()
    if row is None:
        return None
    found = connection.execute(sa.select(*_USER).where(users.c.pk == row[0])).first()
    if found is None:
        return None
    return SessionRow(_user(connection, found), row[1], row[2])


def switch_workspace(connection: sa.Connection, token_hash: str, workspace_id: int) -> None:
    connection.execute(
        ui_sessions.update()
        .where(ui_sessions.c.token_hash == token_hash)
        .values(workspace_id=workspace_id)
    )


def remove_session(connection: sa.Connection, token_hash: str) -> None:
    connection.execute(ui_sessions.delete().where(ui_sessions.c.token_hash == token_hash))


def end_sessions(connection: sa.Connection, user_pk: int) -> None:
    connection.execute(ui_sessions.delete().where(ui_sessions.c.user_pk == user_pk))
