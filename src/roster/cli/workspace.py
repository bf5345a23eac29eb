"""`--workspace NAME` for commands about one workspace: optional when there is only one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from roster.domain.errors import RosterError
from roster.services.system import System

WorkspaceName = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        envvar="ROSTER_WORKSPACE",
        help="The workspace's name (optional when the database holds only one).",
    ),
]


class NoWorkspace(Exception):
    """The command cannot tell which workspace it is about; the message says what to do."""


def choose(system: System, name: str | None) -> tuple[int, str]:
    """The workspace's id and name."""
    known = {row["name"]: int(row["workspace_id"]) for row in system.workspaces.list()}
    if name is not None:
        if name not in known:
            names = ", ".join(sorted(known)) or "none yet"
            raise NoWorkspace(f"no workspace named '{name}' (workspaces: {names})")
        return known[name], name
    if len(known) == 1:
        ((only, workspace_id),) = known.items()
        return workspace_id, only
    if not known:
        raise NoWorkspace(
            "the database holds no workspace: create one with `roster workspaces create`"
        )
    raise NoWorkspace(
        f"the database holds {len(known)} workspaces: name one with --workspace "
        f"({', '.join(sorted(known))})"
    )


@contextmanager
def opened_workspace(
    database_url: str | None, name: str | None
) -> Iterator[tuple[System, int, str]]:
    """The opened system and the workspace the command is about (its id and name); a missing
    workspace or a domain error ends the command with its message (exit code 2)."""
    from roster.cli import _fail, _open, _settings  # the command group imports this module

    system = _open(_settings(database_url))
    try:
        workspace_id, chosen = choose(system, name)
        yield system, workspace_id, chosen
    except NoWorkspace as error:
        _fail(str(error))
    except RosterError as error:
        _fail(error.message)
    finally:
        system.close()
