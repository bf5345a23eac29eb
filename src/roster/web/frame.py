"""What every page shares (docs/web.md): the route class that declares the UI's protocol, the
templates, the login a page is seen by, and the CSRF check of every form."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from roster import logs
from roster.domain.errors import RosterError
from roster.services.logins import SESSION_COOKIE, Login
from roster.services.system import System

HERE = Path(__file__).parent
# Before a session exists (the login form), CSRF is a random cookie the form must repeat.
LOGIN_CSRF_COOKIE = "roster_login_csrf"
FLASH_COOKIE = "roster_flash"  # the one-time message a form leaves for the page it leads to
MAX_FORM_BYTES = 1_000_000

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, auto_reload=False
    )
)


def _when(seconds: float | None) -> str:
    """A time as the UI shows it: UTC, to the second."""
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _isotime(seconds: float | None) -> str:
    return "" if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat()


templates.env.filters["when"] = _when
templates.env.filters["isotime"] = _isotime


class WebRoute(APIRoute):
    """A UI route: errors on it are HTML pages, not an API's JSON (api/doors.py reads `door`)."""

    door: Literal["web"] = "web"


def page_router() -> APIRouter:
    """A router of UI pages: declared as the web door, and kept out of the API reference."""
    return APIRouter(route_class=WebRoute, include_in_schema=False)


class LoginNeeded(RosterError):
    """No session, or an ended or expired one: the page sends the browser to /login."""

    def __init__(self, expired: bool) -> None:
        super().__init__("log in to see this page")
        self.expired = expired


class FormExpired(RosterError):
    """A form whose CSRF token is missing or not this session's (a stale page, or a form
    posted from another site): nothing of it is done."""

    def __init__(self) -> None:
        super().__init__(
            "This form has expired or did not come from roster: nothing was changed. "
            "Go back, reload the page and try again."
        )


def system_of(request: Request) -> System:
    system: System = request.app.state.system
    return system


def secure(request: Request) -> bool:
    """Whether cookies get `Secure`: under TLS, as roster serves it or behind a proxy that
    says so."""
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


async def current_login(request: Request) -> Login:
    """The login this page is seen by, or LoginNeeded."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise LoginNeeded(expired=False)
    login = await run_in_threadpool(system_of(request).logins.session, cookie)
    if login is None:
        raise LoginNeeded(expired=True)
    return login


LoggedIn = Depends(current_login)


def workspace_of(login: Login) -> int:
    """The workspace the login is looking at; a page that needs one says what to do when
    there is none."""
    if login.workspace_id is None:
        raise NoWorkspace()
    return login.workspace_id


class NoWorkspace(RosterError):
    def __init__(self) -> None:
        super().__init__(
            "There is no workspace yet. Create one with `roster workspaces create NAME`, "
            "then reload this page."
        )


async def checked_form(request: Request, login: Login) -> FormData:
    """The posted form, once its CSRF token is this session's; else FormExpired."""
    form = await request.form(max_files=0, max_fields=200, max_part_size=MAX_FORM_BYTES)
    token = form.get("csrf_token")
    if not isinstance(token, str) or not system_of(request).logins.csrf_ok(login, token):
        raise FormExpired()
    return form


def text(form: FormData, name: str, default: str = "") -> str:
    value = form.get(name, default)
    return value.strip() if isinstance(value, str) else default


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    login: Login | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    flash = request.cookies.get(FLASH_COOKIE)
    values: dict[str, Any] = {
        "flash": unquote(flash) if flash else None,
        "login": login,
        "csrf": login.csrf if login is not None else "",
        "workspace_name": _workspace_name(login),
        "request_id": request.scope.get(logs.REQUEST_ID_KEY) or logs.request_id.get(),
        "path": request.url.path,
        **(context or {}),
    }
    response: HTMLResponse = templates.TemplateResponse(
        request, template, values, status_code=status_code
    )
    response.headers["Cache-Control"] = "no-store"
    if flash:
        response.delete_cookie(FLASH_COOKIE)
    return response


def _workspace_name(login: Login | None) -> str | None:
    if login is None:
        return None
    return next((name for id_, name in login.workspaces if id_ == login.workspace_id), None)


def see_other(url: str, flash: str | None = None) -> Response:
    """After a form: to the page that shows the result (303, so a reload does not post again),
    with a one-time message."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(
            FLASH_COOKIE, quote(flash[:300]), max_age=60, httponly=True, samesite="lax"
        )
    return response
