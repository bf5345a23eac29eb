"""The People page (docs/web.md, "People"): one search box, a few filters, keyset pages in
created order, and an export of what the filter shows.

The page turns its form into a filter of the App API's grammar (docs/api.md §4) and reads it
with that grammar's one parser, so the page, the search API and the export agree on what a
filter means."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from roster.domain.errors import InvalidInput
from roster.domain.filters import Filter, everyone, matches, parse
from roster.domain.identifiers import Reference
from roster.domain.people import Person
from roster.services.logins import Login
from roster.services.lookups import Lookups
from roster.web.frame import LoggedIn, page_router, render, system_of, workspace_of

router = page_router()
PAGE = 50
# What the "show" choice of the page adds to its filter.
SHOWS: dict[str, tuple[str, dict[str, Any] | None]] = {
    "all": ("Everyone", None),
    "email": ("Has an email", {"attribute": {"field": "email", "operator": "exists"}}),
    "id": ("Has an id", {"attribute": {"field": "id", "operator": "exists"}}),
    "email_no_id": (
        "Email but no id",
        {
            "and": [
                {"attribute": {"field": "email", "operator": "exists"}},
                {"not": {"attribute": {"field": "id", "operator": "exists"}}},
            ]
        },
    ),
    "unsubscribed": (
        "Unsubscribed",
        {"attribute": {"field": "unsubscribed", "operator": "eq", "value": True}},
    ),
}


def search_filter(q: str) -> dict[str, Any] | None:
    """What the search box means: `name=value` is an attribute (or identifier) equal to a
    value; anything else is a person's id, email or cio_id (with or without `cio_`)."""
    q = q.strip()
    if not q:
        return None
    name, equals, value = q.partition("=")
    if equals and name.strip():
        return {"attribute": {"field": name.strip(), "operator": "eq", "value": value.strip()}}
    cio_id = q.removeprefix("cio_")
    return {
        "or": [
            {"attribute": {"field": "id", "operator": "eq", "value": q}},
            {"attribute": {"field": "email", "operator": "eq", "value": q}},
            {"attribute": {"field": "cio_id", "operator": "eq", "value": cio_id}},
        ]
    }


def page_filter(q: str, show: str, attribute: str, value: str) -> dict[str, Any] | None:
    """The whole page's filter in the wire grammar, or None for everyone."""
    parts = [search_filter(q), SHOWS.get(show, SHOWS["all"])[1]]
    if attribute.strip():
        parts.append(
            {"attribute": {"field": attribute.strip(), "operator": "eq", "value": value.strip()}}
        )
    kept = [part for part in parts if part is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else {"and": kept}


def _plain_term(q: str) -> bool:
    """A search for one person by id, email or cio_id (not `name=value`)."""
    name, equals, _ = q.strip().partition("=")
    return bool(q.strip()) and not (equals and name.strip())


def by_term(lookups: Lookups, workspace_id: int, q: str, narrowing: Filter) -> list[Person]:
    """Whoever a plain search term names, as an id, an email (any letter case, in either
    identifier mode) or a cio_id, each found through its index, and kept when the page's other
    conditions hold: the same people `search_filter`'s `or` finds, without reading the people
    table in row order for a handful of matches (docs/web.md, "People")."""
    found: dict[int | None, Person] = {}
    named = [lookups.find(workspace_id, Reference("id", q))]
    named.append(lookups.find(workspace_id, Reference("cio_id", q.removeprefix("cio_"))))
    named.extend(lookups.with_email(workspace_id, q))
    for person in named:
        if person is not None and person.pk not in found:
            identifiers = {"id": person.id, "email": person.email, "cio_id": person.cio_id}
            if matches(narrowing, identifiers, person.attributes):
                found[person.pk] = person
    return sorted(found.values(), key=lambda person: person.pk or 0)


@router.get("/people", name="people")
async def people(
    request: Request,
    q: str = "",
    show: str = "all",
    attribute: str = "",
    value: str = "",
    start: str = "",
    login: Login = LoggedIn,
) -> Response:
    workspace_id = workspace_of(login)
    system = system_of(request)
    wire = page_filter(q, show, attribute, value)
    error: str | None = None
    found: list[Any] = []
    following = ""
    try:
        f = parse(wire) if wire is not None else everyone()
        if _plain_term(q):
            rest = page_filter("", show, attribute, value)
            narrowing = parse(rest) if rest is not None else everyone()
            found = (
                []
                if start
                else await run_in_threadpool(
                    by_term, system.lookups, workspace_id, q.strip(), narrowing
                )
            )
        else:
            found, following = await run_in_threadpool(
                system.lookups.search, workspace_id, f, start, PAGE
            )
    except InvalidInput as refused:
        error = refused.message
    workspace = await run_in_threadpool(system.workspaces.get, workspace_id)
    context = {
        "people": found,
        "next": following,
        "q": q,
        "show": show if show in SHOWS else "all",
        "shows": [(key, label) for key, (label, _) in SHOWS.items()],
        "attribute": attribute,
        "value": value,
        "start": start,
        "filtered": wire is not None,
        "filter_json": orjson.dumps(wire).decode() if wire is not None else "",
        "error": error,
        "site_id": workspace["site_id"],
        "base_url": request.app.state.public_url,
    }
    return render(request, "people.html", context, login, 400 if error else 200)
