"""`roster merge PRIMARY SECONDARY` and `roster unmerge REF` (docs/api.md §6; docs/identity.md
I6, I6.4). References read like Track API path references: `cio_…`, an email, or an id."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from roster.cli import DatabaseUrl, _fail, _open, _settings, out
from roster.cli.workspace import NoWorkspace, WorkspaceName, choose
from roster.domain.errors import RosterError
from roster.domain.identifiers import IdentifierMode, Reference, read_reference
from roster.domain.people import Person
from roster.services.hygiene import Hygiene

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
T = TypeVar("T")


def _with_hygiene(
    database_url: str | None,
    workspace: str | None,
    work: Callable[[Hygiene, int, IdentifierMode], T],
) -> T:
    """Run `work` on the workspace; a refusal ends the command with its reason (exit code 2)."""
    system = _open(_settings(database_url))
    try:
        workspace_id, _ = choose(system, workspace)
        hygiene = Hygiene(system.ingestion, system.lookups, system.database)
        return work(hygiene, workspace_id, system.workspaces.mode(workspace_id))
    except NoWorkspace as error:
        _fail(str(error))
        raise
    except RosterError as error:
        _fail(error.message)
        raise
    finally:
        system.close()


def _reference(raw: str, mode: IdentifierMode, what: str) -> Reference:
    ref = read_reference(raw, mode)
    if not isinstance(ref, Reference) or ref.kind == "anonymous_id":
        _fail(f"{what} '{raw}' is not usable: give a cio_… reference, an email or an id")
    assert isinstance(ref, Reference)
    return ref


def _shown(person: Person) -> dict[str, Any]:
    return {"cio_id": person.cio_id, "id": person.id, "email": person.email}


def _line(person: Person) -> str:
    named = ", ".join(f"{k} {v}" for k, v in (("id", person.id), ("email", person.email)) if v)
    return f"cio_{person.cio_id}" + (f" ({named})" if named else "")


def merge(
    primary: Annotated[str, typer.Argument(help="The person who stays.")],
    secondary: Annotated[str, typer.Argument(help="The person merged into the primary.")],
    database_url: DatabaseUrl = None,
    workspace: WorkspaceName = None,
    as_json: JsonOption = False,
) -> None:
    """Merge SECONDARY into PRIMARY (docs/identity.md I6); `roster unmerge PRIMARY` undoes it."""

    def work(hygiene: Hygiene, workspace_id: int, mode: IdentifierMode) -> Person:
        sides = _reference(primary, mode, "PRIMARY"), _reference(secondary, mode, "SECONDARY")
        cio_id = hygiene.merge_sync(workspace_id, *sides)
        return hygiene.lookups.get(workspace_id, Reference("cio_id", cio_id))

    kept = _with_hygiene(database_url, workspace, work)
    if as_json:
        print(json.dumps({"primary": _shown(kept)}))
        return
    out.print(f"Merged {secondary} into {_line(kept)}.")
    out.print(f"Undo it with: roster unmerge cio_{kept.cio_id}")


def unmerge(
    ref: Annotated[str, typer.Argument(help="The person the latest merge went into.")],
    database_url: DatabaseUrl = None,
    workspace: WorkspaceName = None,
    as_json: JsonOption = False,
) -> None:
    """Undo the latest merge into REF (docs/identity.md I6.4): the merged person comes back."""

    def work(hygiene: Hygiene, workspace_id: int, mode: IdentifierMode) -> tuple[Person, Person]:
        both = hygiene.unmerge_sync(workspace_id, _reference(ref, mode, "REF"), mode)
        return both.primary, both.secondary

    primary, secondary = _with_hygiene(database_url, workspace, work)
    if as_json:
        print(json.dumps({"primary": _shown(primary), "secondary": _shown(secondary)}))
        return
    out.print(f"Unmerged {_line(secondary)} from {_line(primary)}.")
