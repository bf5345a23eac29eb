"""The person page (docs/web.md, "Person page"): a person's identifiers, attributes (each with
when it was last set), subscription, timeline in keyset pages, devices, relationships and
anonymous ids; and the changes that are not destructive (an attribute, the subscription).
Merge, undo merge, delete and suppress ask first: web/person_actions.py.

Every change is an operation applied through the ingestion service, as the APIs apply theirs,
under the door "web": the identity rules and the activity log apply to it as to any call."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from roster.domain.attributes import SPECIAL_KEYS
from roster.domain.errors import InvalidInput
from roster.domain.identifiers import Reference
from roster.domain.limits import check_attributes
from roster.domain.operations import Identify
from roster.domain.people import Activity
from roster.services.ingestion import Message
from roster.services.logins import Login
from roster.services.profile import Profiles
from roster.web.frame import (
    LoggedIn,
    checked_form,
    page_router,
    render,
    see_other,
    system_of,
    templates,
    text,
    workspace_of,
)

router = page_router()
DOOR = "web"  # what the ingestion log, the suppression list and the metrics say UI writes are
# Identifiers are changed by identify calls under the workspace's rules, not as attributes.
NOT_ATTRIBUTES = SPECIAL_KEYS | {"cio_id"}


def profiles_of(request: Request) -> Profiles:
    system = system_of(request)
    return Profiles(system.lookups, system.database)


def shown(value: Any) -> str:
    """An attribute's value as the page shows it: text as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


templates.env.filters["shown"] = shown


def _entry(source: str, activity: Activity) -> dict[str, Any]:
    """One line of the timeline: when, what kind, about what, and the details worth reading."""
    data = activity.data or {}
    kind, detail = activity.type, ""
    if source == "e":
        kind = {"event": "Event", "page": "Page", "screen": "Screen"}.get(activity.type, "Event")
        detail = shown(data) if data else ""
    elif activity.type == "attribute_change":
        kind = "Attribute change"
        detail = f"{_brief(data.get('from'))} → {_brief(data.get('to'))}"
    elif activity.type == "failed_attribute_change":
        kind = "Failed change"
        detail = f"{_brief(data.get('value'))} refused: {data.get('reason', 'no reason given')}"
    elif activity.type == "profile_merge":
        kind = "Merge"
        detail = _merge_detail(data)
    elif activity.type == "profile_unmerge":
        kind = "Unmerge"
        detail = f"cio_{data.get('secondary')} taken back out of cio_{data.get('primary')}"
    else:
        kind = activity.type.replace("_", " ").capitalize()
        detail = shown(data) if data else ""
    return {
        "at": activity.timestamp,
        "kind": kind,
        "name": activity.name or "",
        "detail": detail,
        "id": f"{source}{activity.pk}",
    }


def _brief(value: Any) -> str:
    return "none" if value is None else shown(value)


def _merge_detail(data: dict[str, Any]) -> str:
    if "into" in data:
        return f"merged into cio_{data['into']}"
    secondary = data.get("secondary") or {}
    names = [f"cio_{secondary.get('cio_id')}"]
    names += [str(secondary[kind]) for kind in ("id", "email") if secondary.get(kind)]
    return f"{' '.join(names)} merged into this person ({data.get('reason', 'merge')})"


async def person_page(
    request: Request,
    login: Login,
    cio_id: str,
    start: str = "",
    error: str | None = None,
    status: int = 200,
    edit: dict[str, str] | None = None,
) -> Response:
    """The page; with `error`, a refused change's message above it (and its form refilled)."""
    workspace_id = workspace_of(login)
    profiles = profiles_of(request)
    try:
        profile = await run_in_threadpool(profiles.read, workspace_id, cio_id, start)
    except InvalidInput as refused:  # a cursor roster did not make: the newest page instead
        profile = await run_in_threadpool(profiles.read, workspace_id, cio_id)
        error, status, start = f"{refused.message}; showing the newest entries", 400, ""
    person = profile.view.person
    attributes = [
        (name, value, person.attribute_times.get(name))
        for name, value in sorted(person.attributes.items())
    ]
    context = {
        "person": person,
        "title": person.email or person.id or f"cio_{person.cio_id}",
        "attributes": attributes,
        "devices": profile.view.devices,
        "relationships": profile.view.relationships,
        "anonymous_ids": profile.view.anonymous_ids,
        "timeline": [_entry(source, activity) for source, activity in profile.timeline],
        "older": profile.older,
        "start": start,
        "can_unmerge": profile.can_unmerge,
        "error": error,
        "edit": edit or {"name": "", "value": ""},
    }
    return render(request, "person.html", context, login, status)


@router.get("/people/{cio_id}", name="person")
async def person(
    request: Request, cio_id: str, start: str = "", login: Login = LoggedIn
) -> Response:
    return await person_page(request, login, cio_id, start)


def attribute_problem(name: str, value: str) -> str | None:
    """Why an attribute cannot be set from the page, or None."""
    if not name:
        return "the attribute name is empty; give the name of the attribute to set"
    if "\x00" in name or "\x00" in value:
        return "text cannot contain NUL characters"
    if name in NOT_ATTRIBUTES:
        return (
            f"'{name}' is an identifier, not an attribute: it changes through identify calls, "
            "under the workspace's identity rules"
        )
    try:
        check_attributes({name: value})
    except InvalidInput as refused:
        return refused.message
    return None


async def _identify(
    request: Request, workspace_id: int, cio_id: str, attributes: dict[str, Any]
) -> bool:
    """Set attributes of the person through the ingestion service, as an identify call by
    cio_id that never creates anyone (I3.5); False when the person was gone meanwhile."""
    op = Identify(Reference("cio_id", cio_id), attributes, update_only=True)
    ingestion = system_of(request).ingestion
    outcome = await ingestion.one(workspace_id, Message(op, "identify"), DOOR, strict=False)
    return outcome.cio_id is not None


@router.post("/people/{cio_id}/attributes")
async def edit_attribute(request: Request, cio_id: str, login: Login = LoggedIn) -> Response:
    form = await checked_form(request, login)
    workspace_id = workspace_of(login)
    view = await run_in_threadpool(profiles_of(request).view, workspace_id, cio_id)
    name = text(form, "name")
    value = text(form, "value")
    problem = attribute_problem(name, value)
    if problem is not None:
        edit = {"name": name, "value": value}
        return await person_page(
            request, login, cio_id, error=f"Nothing was saved: {problem}.", status=400, edit=edit
        )
    here = f"/people/{view.person.cio_id}"
    if not await _identify(request, workspace_id, view.person.cio_id, {name: value}):
        return see_other("/people", "That person no longer exists: nothing was saved.")
    said = f"Removed {name}." if value == "" else f"Saved: {name} is now {value[:80]}."
    return see_other(here, said)


@router.post("/people/{cio_id}/subscription")
async def subscription(request: Request, cio_id: str, login: Login = LoggedIn) -> Response:
    form = await checked_form(request, login)
    workspace_id = workspace_of(login)
    view = await run_in_threadpool(profiles_of(request).view, workspace_id, cio_id)
    unsubscribe = text(form, "unsubscribed") == "true"
    if not await _identify(
        request, workspace_id, view.person.cio_id, {"unsubscribed": unsubscribe}
    ):
        return see_other("/people", "That person no longer exists: nothing was changed.")
    said = "Unsubscribed." if unsubscribe else "Resubscribed: unsubscribed is now false."
    return see_other(f"/people/{view.person.cio_id}", said)
