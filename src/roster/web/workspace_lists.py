"""The lists a workspace keeps (docs/web.md, "Workspace pages"): its suppression list, its
ingestion log and its outbox, newest first, in keyset pages ("Next page" carries the cursor the
service gave, never an offset)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from roster.domain.errors import InvalidInput, NotFound
from roster.services.logins import Login
from roster.services.suppressions import KINDS, Check
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
PAGE = 50
SUPPRESSIONS = "/workspace/suppressions"


# -- the suppression list --------------------------------------------------------------------------


async def _suppressions_page(
    request: Request,
    login: Login,
    start: str = "",
    check: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    workspace_id = workspace_of(login)
    suppressions = system_of(request).suppressions
    entries: list[Any] = []
    following = ""
    try:
        entries, following = await run_in_threadpool(suppressions.page, workspace_id, start, PAGE)
    except InvalidInput as refused:
        error, status = refused.message, 400
    context = {
        "entries": entries,
        "next": following,
        "start": start,
        "kinds": KINDS,
        "check": check,
        "error": error,
    }
    return render(request, "workspace_suppressions.html", context, login, status)


@router.get(SUPPRESSIONS, name="workspace_suppressions")
async def suppressions_page(request: Request, start: str = "", login: Login = LoggedIn) -> Response:
    return await _suppressions_page(request, login, start)


@router.post(SUPPRESSIONS + "/check")
async def check(request: Request, login: Login = LoggedIn) -> Response:
    """Whether an identifier is suppressed. A form that changes nothing, posted so that the
    identifier is not written into the address (and so into logs and history)."""
    form = await checked_form(request, login)
    kind, value = text(form, "kind"), text(form, "value")
    suppressions = system_of(request).suppressions
    try:
        found: Check = await run_in_threadpool(suppressions.check, workspace_of(login), kind, value)
    except InvalidInput as refused:
        return await _suppressions_page(request, login, error=refused.message, status=400)
    checked = {"kind": kind, "value": value, "hash": found.hash, "entry": found.entry}
    return await _suppressions_page(request, login, check=checked)


@router.post(SUPPRESSIONS + "/unsuppress")
async def unsuppress(request: Request, login: Login = LoggedIn) -> Response:
    form = await checked_form(request, login)
    suppressions = system_of(request).suppressions
    try:
        freed = await run_in_threadpool(
            suppressions.unsuppress_hash, workspace_of(login), text(form, "hash")
        )
    except NotFound:
        return see_other(SUPPRESSIONS, "That entry is no longer on the list: nothing changed.")
    except InvalidInput as refused:
        return await _suppressions_page(request, login, error=refused.message, status=400)
    identifiers = "1 identifier is" if freed == 1 else f"{freed} identifiers are"
    return see_other(
        SUPPRESSIONS, f"Unsuppressed: {identifiers} free again, and calls may use them."
    )


# -- the ingestion log and the outbox --------------------------------------------------------------


@router.get("/workspace/ingestion-log", name="workspace_ingestion_log")
async def ingestion_log(request: Request, start: str = "", login: Login = LoggedIn) -> Response:
    workspace_id = workspace_of(login)
    lookups = system_of(request).lookups
    entries: list[dict[str, Any]] = []
    following, error = "", None
    try:
        entries, following = await run_in_threadpool(
            lookups.ingestion_log, workspace_id, start, PAGE
        )
    except InvalidInput as refused:
        error = refused.message
    context = {"entries": entries, "next": following, "start": start, "error": error}
    return render(request, "workspace_ingestion_log.html", context, login, 400 if error else 200)


@router.get("/workspace/outbox", name="workspace_outbox")
async def outbox(request: Request, start: str = "", login: Login = LoggedIn) -> Response:
    workspace_id = workspace_of(login)
    entries: list[Any] = []
    following, error = "", None
    try:
        entries, following = await run_in_threadpool(
            system_of(request).outbox.page, workspace_id, start, PAGE
        )
    except InvalidInput as refused:
        error = refused.message
    context = {"entries": entries, "next": following, "start": start, "error": error}
    return render(request, "workspace_outbox.html", context, login, 400 if error else 200)
