"""The Duplicates page (docs/web.md, "Duplicates"): the duplicate finder's groups a keyset page at
a time, each with the preview of merging the others into its oldest person, and "Merge into
oldest", which asks first and then merges the group through the service `roster duplicates
--merge` uses (services/duplicates.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from roster.domain.errors import InvalidInput
from roster.services.duplicates import CONFLICT_PAIR, EMAIL_CASE, Group, Member, Merged
from roster.services.hygiene import Hygiene
from roster.services.logins import Login
from roster.services.merge_preview import MergePreview, preview_merges
from roster.services.system import System
from roster.web.frame import (
    LoggedIn,
    checked_form,
    page_router,
    render,
    see_other,
    system_of,
    text,
    workspace_of,
)

router = page_router()
PAGE = 10  # groups a page shows, each with its preview
PREVIEWED = 5  # people of a group merged in its preview (the rest are listed, not previewed)
COUNTED = 1000  # groups counted for "groups left" before the page says "1,000 or more"

REASONS = {
    "same_email": "They have the same email.",
    EMAIL_CASE: "Their emails differ only in letter case or surrounding spaces.",
    CONFLICT_PAIR: (
        "One has only an id, the other only an email, and a call that named both was refused "
        "because they are two people (a conflict)."
    ),
}


@dataclass(frozen=True)
class Shown:
    """A group as the page shows it: its people, why, and the preview of its merge."""

    group: Group
    reason: str
    preview: MergePreview

    @property
    def others(self) -> int:
        return self.group.size - 1


def _who(member: Member) -> str:
    named = member.email or member.id
    return f"cio_{member.cio_id}" + (f" ({named})" if named else "")


def _shown(system: System, workspace_id: int, group: Group) -> Shown:
    others = [m.cio_id for m in group.people[1 : PREVIEWED + 1]]
    preview = preview_merges(system, workspace_id, group.primary.cio_id, others)
    return Shown(group, REASONS.get(group.reason, group.reason), preview)


def _read_page(
    system: System, workspace_id: int, start: str
) -> tuple[list[Shown], str, int | None]:
    groups, following = system.duplicates.page(workspace_id, start, PAGE)
    shown = [_shown(system, workspace_id, group) for group in groups]
    return shown, following, _count(system, workspace_id)


def _count(system: System, workspace_id: int) -> int:
    """How many groups there are, up to COUNTED (the finder's pages, never all in memory)."""
    count = 0
    for _ in system.duplicates.walk(workspace_id):
        count += 1
        if count >= COUNTED:
            break
    return count


def _groups_left(count: int) -> str:
    if count >= COUNTED:
        return f"{COUNTED:,} or more groups of duplicates left."
    if count == 0:
        return "No duplicates left."
    return f"{count} group{'s' if count != 1 else ''} of duplicates left."


@router.get("/duplicates", name="duplicates")
async def duplicates(request: Request, start: str = "", login: Login = LoggedIn) -> Response:
    workspace_id = workspace_of(login)
    system = system_of(request)
    error: str | None = None
    shown: list[Shown] = []
    following = ""
    count: int | None = None
    try:
        shown, following, count = await run_in_threadpool(_read_page, system, workspace_id, start)
    except InvalidInput as refused:
        error = refused.message
    context = {
        "groups": shown,
        "next": following,
        "start": start,
        "count": count,
        "counted": COUNTED,
        "error": error,
        "previewed": PREVIEWED,
    }
    return render(request, "duplicates.html", context, login, 400 if error else 200)


@dataclass(frozen=True)
class _Asked:
    """What a "Merge into oldest" form names: the group as the page showed it."""

    cio_ids: list[str]
    size: int
    email: str | None


def _asked(form: FormData) -> _Asked | None:
    cio_ids = [value.strip() for value in form.getlist("cio_id") if isinstance(value, str)]
    size = text(form, "size")
    email = text(form, "email") or None
    if len(cio_ids) < 2 or not (size.isascii() and size.isdigit()) or len(size) > 9:
        return None
    return _Asked(cio_ids, int(size), email)


STALE = (
    "This group changed since the page was shown: someone in it was merged, deleted or changed "
    "their email. Nothing was merged. The Duplicates page shows the groups as they are now."
)


def _merge(system: System, workspace_id: int, group: Group) -> tuple[Merged, int]:
    merged = Merged()
    hygiene = Hygiene(system.ingestion, system.lookups, system.database)
    system.duplicates.merge(workspace_id, group, hygiene, merged)
    return merged, _count(system, workspace_id)


def _said(group: Group, merged: Merged, left: int) -> str:
    primary = _who(group.primary)
    if merged.people:
        said = (
            f"Merged {merged.people} {'person' if merged.people == 1 else 'people'} into "
            f"{primary}; Undo merge on their page undoes the latest. "
        )
    else:
        said = f"Nothing was merged into {primary}. "
    if merged.refused:
        cio_id, why = merged.refused[0]
        more = f" (and {len(merged.refused) - 1} more)" if len(merged.refused) > 1 else ""
        said += f"cio_{cio_id} was not merged: {why}{more}. "
    return said + _groups_left(left)


@router.post("/duplicates/merge", name="duplicates_merge")
async def merge_group(request: Request, login: Login = LoggedIn) -> Response:
    form = await checked_form(request, login)
    workspace_id = workspace_of(login)
    system = system_of(request)
    asked = _asked(form)
    group = (
        await run_in_threadpool(
            system.duplicates.again, workspace_id, asked.cio_ids, asked.size, asked.email
        )
        if asked is not None
        else None
    )
    if group is None:
        return render(
            request, "duplicates_confirm.html", {"stale": STALE, "group": None}, login, 409
        )
    if form.get("confirmed") != "yes":
        shown = await run_in_threadpool(_shown, system, workspace_id, group)
        context: dict[str, Any] = {
            "stale": None,
            "group": shown,
            "primary": _who(group.primary),
            "cio_ids": asked.cio_ids if asked is not None else [],
            "size": group.size,
            "email": group.email,
        }
        return render(request, "duplicates_confirm.html", context, login)
    merged, left = await run_in_threadpool(_merge, system, workspace_id, group)
    return see_other("/duplicates", _said(group, merged, left))
