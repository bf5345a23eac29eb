"""The person page's destructive actions (docs/web.md, "Person page"): merge with another person
(found by the People page's search term, previewed side by side, then confirmed), undo a merge,
delete, and delete and suppress. Each is a page that says what will happen and a form that does
it (so each asks first without JavaScript); each applies the same operation as the API that
does it, through the ingestion service, under the door "web"."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from roster.domain.context import Outcome
from roster.domain.errors import ConflictError, InvalidInput, MergeRefused, UnmergeRefused
from roster.domain.filters import everyone
from roster.domain.identifiers import IdentifierMode, Reference
from roster.domain.operations import DeletePerson, Merge, Operation, Suppress
from roster.domain.people import Person
from roster.services.hygiene import Hygiene
from roster.services.ingestion import Message
from roster.services.logins import Login
from roster.services.lookups import PersonView
from roster.services.merge_preview import preview_merge
from roster.web.frame import (
    LoggedIn,
    checked_form,
    page_router,
    render,
    see_other,
    system_of,
    workspace_of,
)
from roster.web.people import by_term
from roster.web.person import DOOR, person_page, profiles_of

router = page_router()
SELF_MERGE = (
    "A person cannot be merged with themselves: nothing was changed. Search for the other person."
)


async def _view(request: Request, login: Login, cio_id: str) -> PersonView:
    """The person the address names; NotFound (the 404 page) for anyone else."""
    return await run_in_threadpool(profiles_of(request).view, workspace_of(login), cio_id)


def _name(person: Person) -> str:
    return person.email or person.id or f"cio_{person.cio_id}"


async def _apply(
    request: Request, workspace_id: int, op: Operation, type_: str, strict: bool
) -> Outcome:
    """Apply one operation as the APIs apply theirs: the ingestion service, its rules, its
    activity log."""
    ingestion = system_of(request).ingestion
    return await ingestion.one(workspace_id, Message(op, type_), DOOR, strict)


# -- merge -----------------------------------------------------------------------------------------


@router.get("/people/{cio_id}/merge", name="person_merge")
async def merge_search(
    request: Request, cio_id: str, q: str = "", login: Login = LoggedIn
) -> Response:
    """Find the other person by id, email or cio_id: the People page's term lookup."""
    view = await _view(request, login, cio_id)
    found: list[Person] = []
    term = q.strip()
    error = None
    if "\x00" in term:
        term, error = (
            "",
            "A search cannot contain NUL characters: search for an id, email or cio_id.",
        )
    if term:
        lookups = system_of(request).lookups
        found = await run_in_threadpool(by_term, lookups, workspace_of(login), term, everyone())
    context = {
        "person": view.person,
        "name": _name(view.person),
        "q": q.replace("\x00", ""),
        "found": found,
        "error": error,
    }
    return render(request, "person_merge.html", context, login, 400 if error else 200)


async def _preview(
    request: Request,
    login: Login,
    cio_id: str,
    other: str,
    error: str | None = None,
    status: int = 200,
) -> Response:
    keep = await _view(request, login, cio_id)
    gone = await _view(request, login, other)
    if keep.person.cio_id == gone.person.cio_id:
        refused = {
            "person": keep.person,
            "name": _name(keep.person),
            "q": "",
            "found": [],
            "error": SELF_MERGE,
        }
        return render(request, "person_merge.html", refused, login, 400)
    system = system_of(request)
    preview = await run_in_threadpool(
        preview_merge, system, workspace_of(login), keep.person.cio_id, gone.person.cio_id
    )
    context: dict[str, Any] = {
        "keep": keep,
        "gone": gone,
        "preview": preview,
        "keep_name": _name(keep.person),
        "gone_name": _name(gone.person),
        "error": error,
    }
    return render(request, "person_merge_preview.html", context, login, status)


@router.get("/people/{cio_id}/merge/{other}", name="person_merge_preview")
async def merge_preview(
    request: Request, cio_id: str, other: str, login: Login = LoggedIn
) -> Response:
    return await _preview(request, login, cio_id, other)


@router.post("/people/{cio_id}/merge/{other}")
async def merge(request: Request, cio_id: str, other: str, login: Login = LoggedIn) -> Response:
    await checked_form(request, login)
    workspace_id = workspace_of(login)
    keep = await _view(request, login, cio_id)
    gone = await _view(request, login, other)
    if keep.person.cio_id == gone.person.cio_id:
        return await _preview(request, login, cio_id, other)
    op = Merge(Reference("cio_id", keep.person.cio_id), Reference("cio_id", gone.person.cio_id))
    try:
        await _apply(request, workspace_id, op, "merge", strict=True)
    except (MergeRefused, ConflictError, InvalidInput) as refused:
        message = f"Nothing was merged: {refused.message}."
        return await _preview(request, login, cio_id, other, message, 409)
    return see_other(
        f"/people/{keep.person.cio_id}",
        f"Merged {_name(gone.person)} (cio_{gone.person.cio_id}) into this person. "
        "Undo merge, below, takes them apart again.",
    )


# -- undo merge ------------------------------------------------------------------------------------


@router.get("/people/{cio_id}/unmerge", name="person_unmerge")
async def unmerge_confirm(request: Request, cio_id: str, login: Login = LoggedIn) -> Response:
    profile = await run_in_threadpool(profiles_of(request).read, workspace_of(login), cio_id, "", 1)
    person = profile.view.person
    if profile.merge is None:
        message = f"Nothing was changed: cio_{person.cio_id} has no merge to undo."
        return await person_page(request, login, cio_id, error=message, status=409)
    secondary = profile.merge.secondary
    context = {
        "title": f"Undo the merge into {_name(person)}?",
        "action": f"/people/{person.cio_id}/unmerge",
        "button": "Undo merge",
        "danger": False,
        "back": f"/people/{person.cio_id}",
        "what": [
            f"{_name(secondary)} (cio_{secondary.cio_id}), merged into {_name(person)}, becomes "
            "a person of their own again, with the identifiers, attributes, events, devices and "
            "relationships they had.",
            f"{_name(person)} gets back what they had before the merge; what changed since stays.",
        ],
        "people": [person, secondary],
        "merged_at": profile.merge.merged_at,
    }
    return render(request, "person_confirm.html", context, login)


@router.post("/people/{cio_id}/unmerge")
async def unmerge(request: Request, cio_id: str, login: Login = LoggedIn) -> Response:
    await checked_form(request, login)
    workspace_id = workspace_of(login)
    view = await _view(request, login, cio_id)
    system = system_of(request)
    hygiene = Hygiene(system.ingestion, system.lookups, system.database)
    mode = await run_in_threadpool(system.workspaces.mode, workspace_id)
    reference = Reference("cio_id", view.person.cio_id)
    try:
        both = await hygiene.unmerge(workspace_id, reference, mode, DOOR)
    except UnmergeRefused as refused:
        message = f"Nothing was changed: {refused.message}."
        return await person_page(request, login, cio_id, error=message, status=409)
    back = both.secondary
    return see_other(
        f"/people/{view.person.cio_id}",
        f"Undid the merge: {_name(back)} (cio_{back.cio_id}) is a person of their own again.",
    )


# -- delete, and delete and suppress ---------------------------------------------------------------


def _deletion(person: Person, suppress: bool, emails_identify: bool) -> dict[str, Any]:
    """What a way of deleting does: its confirmation's sentences and button. A suppression
    lists the identifiers it suppresses (an email only where emails identify, I9.2)."""
    name = _name(person)
    what = [
        f"{name} (cio_{person.cio_id}) is deleted: their attributes, events, devices, "
        "relationships and anonymous ids go, and cannot be brought back.",
        "The activity log keeps a profile_delete entry under their cio_id.",
    ]
    if suppress:
        held = ", ".join(
            f"{kind} {value}"
            for kind, value in (
                ("id", person.id),
                ("email", person.email if emails_identify else None),
                ("cio_id", person.cio_id),
            )
            if value is not None
        )
        what.append(
            f"Their identifiers ({held}) go on the suppression list: a later call that uses them "
            "is ignored, until they are unsuppressed on the Suppression list page."
        )
    else:
        what.append("A later identify call with their identifiers may create a new person.")
    return {
        "title": f"{'Delete and suppress' if suppress else 'Delete'} {name}?",
        "action": f"/people/{person.cio_id}/{'suppress' if suppress else 'delete'}",
        "button": "Delete and suppress" if suppress else "Delete",
        "danger": True,
        "back": f"/people/{person.cio_id}",
        "what": what,
        "people": [person],
    }


@router.get("/people/{cio_id}/delete", name="person_delete")
async def delete_confirm(request: Request, cio_id: str, login: Login = LoggedIn) -> Response:
    return await _confirm_deletion(request, cio_id, login, suppress=False)


@router.get("/people/{cio_id}/suppress", name="person_suppress")
async def suppress_confirm(request: Request, cio_id: str, login: Login = LoggedIn) -> Response:
    return await _confirm_deletion(request, cio_id, login, suppress=True)


async def _confirm_deletion(
    request: Request, cio_id: str, login: Login, suppress: bool
) -> Response:
    view = await _view(request, login, cio_id)
    mode = await run_in_threadpool(system_of(request).workspaces.mode, workspace_of(login))
    context = _deletion(view.person, suppress, mode is IdentifierMode.EMAIL_OR_ID)
    return render(request, "person_confirm.html", context, login)


async def _delete(request: Request, cio_id: str, login: Login, suppress: bool) -> Response:
    await checked_form(request, login)
    workspace_id = workspace_of(login)
    person = (await _view(request, login, cio_id)).person
    reference = Reference("cio_id", person.cio_id)
    op: Operation = Suppress(reference) if suppress else DeletePerson(reference)
    done = await _apply(request, workspace_id, op, "suppress" if suppress else "delete", False)
    # Gone meanwhile: a deletion found no one, a suppression noted that no one has the cio_id.
    if done.notes if suppress else done.cio_id is None:
        return see_other("/people", f"{_name(person)} was already gone: nothing was changed.")
    said = (
        f"Deleted and suppressed {_name(person)} (cio_{person.cio_id}): calls that use their "
        "identifiers are ignored."
        if suppress
        else f"Deleted {_name(person)} (cio_{person.cio_id})."
    )
    return see_other("/people", said)


@router.post("/people/{cio_id}/delete")
async def delete(request: Request, cio_id: str, login: Login = LoggedIn) -> Response:
    return await _delete(request, cio_id, login, suppress=False)


@router.post("/people/{cio_id}/suppress")
async def suppress(request: Request, cio_id: str, login: Login = LoggedIn) -> Response:
    return await _delete(request, cio_id, login, suppress=True)
