"""The workspace's own pages (docs/web.md, "Workspace pages"): its settings, its keys and how to
point Segment at it. The lists it keeps (suppressions, ingestion log, outbox) are in
workspace_lists.py."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from roster.domain.errors import InvalidInput, NotFound, SettingRefused
from roster.services.logins import Login
from roster.services.workspaces import KEY_KINDS, SETTINGS, SHOWN_ONCE_SECONDS
from roster.web.frame import (
    LoggedIn,
    checked_form,
    page_router,
    render,
    secure,
    see_other,
    system_of,
    text,
    workspace_of,
)

router = page_router()

SWITCHES = ("allow_email_update_by_id", "auto_merge", "strict_conflicts")
MODES = {
    "email_or_id": "an id or an email finds a person, or creates one; no two people share an email",
    "id_only": "only the id identifies a person; the email is a plain attribute that several "
    "people may share, and an email-shaped reference is read as an id",
}
# Each kind of key: its name on the page, and what it opens.
KEYS: dict[str, tuple[str, str]] = {
    "track_api_key": (
        "Track API key",
        "Customer.io's Track API (/api/v1, /api/v2): HTTP Basic, with the site id as the user "
        "and this key as the password.",
    ),
    "app_api_key": (
        "App API key",
        "Customer.io's App API (/v1/...) and roster's own /api: a Bearer token.",
    ),
    "write_key": (
        "Segment write key",
        "Segment's libraries pointed at roster (/v1/batch and the single calls), and the Segment "
        "webhook when it sends an Authorization header instead of a signature.",
    ),
}
assert tuple(KEYS) == KEY_KINDS, "every kind of key has a name on the page"
# The cookie that carries a new key, sealed, from the form that made it to the page that shows
# it once.
NEW_KEY_COOKIE = "roster_new_key"
CREDENTIALS = "/workspace/credentials"


# -- settings --------------------------------------------------------------------------------------


async def _settings_page(
    request: Request,
    login: Login,
    error: str | None = None,
    holders: list[str] | None = None,
    status: int = 200,
) -> Response:
    workspace_id = workspace_of(login)
    settings = await run_in_threadpool(system_of(request).workspaces.settings, workspace_id)
    mode = settings["identifier_mode"]
    context = {
        "settings": settings,
        "mode_meaning": MODES[mode],
        "other_mode": next(other for other in MODES if other != mode),
        "modes": MODES,
        "error": error,
        "holders": holders or [],
    }
    return render(request, "workspace_settings.html", context, login, status)


@router.get("/workspace", name="workspace_settings")
async def settings_page(request: Request, login: Login = LoggedIn) -> Response:
    return await _settings_page(request, login)


def _days(raw: str) -> int | str:
    """The retention field as a number when it is one; anything else goes to the service as it
    is, which refuses it with the one message that says what a retention may be."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else raw


def _said(name: str, value: Any) -> str:
    label = name.replace("_", " ")
    if isinstance(value, bool):
        return f"{label} {'on' if value else 'off'}"
    return f"{label} {value} days"


@router.post("/workspace/settings")
async def change_settings(request: Request, login: Login = LoggedIn) -> Response:
    form = await checked_form(request, login)
    workspace_id = workspace_of(login)
    workspaces = system_of(request).workspaces
    current = await run_in_threadpool(workspaces.settings, workspace_id)
    wanted: dict[str, Any] = {name: form.get(name) == "on" for name in SWITCHES}
    wanted["anonymous_retention_days"] = _days(text(form, "anonymous_retention_days"))
    changes = {name: value for name, value in wanted.items() if current[name] != value}
    if not changes:
        return see_other("/workspace", "Nothing to save: the settings are as they were.")
    try:
        await run_in_threadpool(lambda: workspaces.change_settings(workspace_id, **changes))
    except InvalidInput as refused:
        message = f"Nothing was saved: {refused.message}."
        return await _settings_page(request, login, message, [], 400)
    saved = ", ".join(_said(name, changes[name]) for name in SETTINGS if name in changes)
    return see_other("/workspace", f"Saved: {saved}. The next call uses it.")


@router.post("/workspace/identifier-mode")
async def change_mode(request: Request, login: Login = LoggedIn) -> Response:
    form = await checked_form(request, login)
    workspace_id = workspace_of(login)
    mode = text(form, "identifier_mode")
    workspaces = system_of(request).workspaces
    try:
        await run_in_threadpool(
            lambda: workspaces.change_settings(workspace_id, identifier_mode=mode)
        )
    except SettingRefused as refused:
        message = f"The identifier mode was not changed: {refused.message}."
        return await _settings_page(request, login, message, refused.holders, 409)
    except InvalidInput as refused:
        return await _settings_page(request, login, f"Nothing changed: {refused.message}.", [], 400)
    return see_other("/workspace", f"The identifier mode is now {mode}.")


# -- credentials -----------------------------------------------------------------------------------


@router.get(CREDENTIALS, name="workspace_credentials")
async def credentials_page(request: Request, login: Login = LoggedIn) -> Response:
    workspace_id = workspace_of(login)
    workspaces = system_of(request).workspaces
    made = await run_in_threadpool(workspaces.keys, workspace_id)
    workspace = await run_in_threadpool(workspaces.get, workspace_id)
    new_key = _new_key(request, login)
    context = {
        "keys": [(kind, *KEYS[kind], made[kind]) for kind in KEY_KINDS],
        "site_id": workspace["site_id"],
        "new_key": new_key,
        "new_key_name": KEYS[new_key["kind"]][0] if new_key else "",
    }
    response = render(request, "workspace_credentials.html", context, login)
    if request.cookies.get(NEW_KEY_COOKIE):
        response.delete_cookie(NEW_KEY_COOKIE, path=CREDENTIALS)
    return response


def _new_key(request: Request, login: Login) -> dict[str, str] | None:
    """The key a form just made, when this session made it within the last minute."""
    sealed = request.cookies.get(NEW_KEY_COOKIE)
    if not sealed:
        return None
    shown = system_of(request).workspaces.open_shown_once(sealed)
    if shown is None or shown.get("session") != login.csrf or shown.get("kind") not in KEYS:
        return None
    return shown


def _kind(kind: str) -> str:
    if kind not in KEYS:
        raise NotFound(f"there is no kind of key named '{kind}'")
    return kind


@router.post(CREDENTIALS + "/{kind}/new")
async def make_key(request: Request, kind: str, login: Login = LoggedIn) -> Response:
    await checked_form(request, login)
    kind = _kind(kind)
    workspaces = system_of(request).workspaces
    key = await run_in_threadpool(workspaces.new_key, workspace_of(login), kind)
    name = KEYS[kind][0]
    response = see_other(CREDENTIALS, f"Made a new {name}: copy it now, it is not shown again.")
    sealed = workspaces.seal_shown_once({"kind": kind, "key": key, "session": login.csrf})
    response.set_cookie(
        NEW_KEY_COOKIE,
        sealed,
        max_age=SHOWN_ONCE_SECONDS,
        path=CREDENTIALS,
        httponly=True,
        samesite="strict",
        secure=secure(request),
    )
    return response


@router.post(CREDENTIALS + "/{kind}/revoke")
async def revoke_key(request: Request, kind: str, login: Login = LoggedIn) -> Response:
    await checked_form(request, login)
    kind = _kind(kind)
    name = KEYS[kind][0]
    try:
        await run_in_threadpool(system_of(request).workspaces.revoke_key, workspace_of(login), kind)
    except NotFound:
        return see_other(CREDENTIALS, f"There was no {name} to revoke: nothing changed.")
    return see_other(CREDENTIALS, f"Revoked the {name}: calls that use it are refused now.")


# -- Segment ---------------------------------------------------------------------------------------


@router.get("/workspace/segment", name="workspace_segment")
async def segment_page(request: Request, login: Login = LoggedIn) -> Response:
    workspace_id = workspace_of(login)
    workspaces = system_of(request).workspaces
    workspace = await run_in_threadpool(workspaces.get, workspace_id)
    secret = await run_in_threadpool(workspaces.webhook_secret, workspace_id)
    made = await run_in_threadpool(workspaces.keys, workspace_id)
    base_url: str = request.app.state.public_url
    context = {
        "webhook_url": f"{base_url}/segment/webhook/{workspace['webhook_id']}",
        "webhook_secret": secret,
        "base_url": base_url,
        "plain_http": not base_url.startswith("https://"),
        "has_write_key": made["write_key"] is not None,
    }
    return render(request, "workspace_segment.html", context, login)
