"""Logging in and out, and switching workspaces (docs/web.md, "Logins")."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from roster.domain.errors import NotFound, TooManyLogins, Unauthorized
from roster.services.logins import SESSION_COOKIE, SESSION_SECONDS, Login
from roster.web.frame import (
    LOGIN_CSRF_COOKIE,
    FormExpired,
    LoggedIn,
    checked_form,
    page_router,
    render,
    secure,
    see_other,
    system_of,
    text,
)

router = page_router()


def _local(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (never `//host` or a URL)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/people"


def _login_page(request: Request, error: str | None, status: int, target: str) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        {"error": error, "login_csrf": token, "next": target},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=secure(request)
    )
    return response


@router.get("/", name="home")
async def home() -> Response:
    return RedirectResponse("/people", status_code=303)


@router.get("/login", name="login")
async def login_form(request: Request, next: str = "/people", expired: bool = False) -> Response:
    message = "Your session has ended: log in again." if expired else None
    return _login_page(request, message, 200, _local(next))


@router.post("/login")
async def log_in(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=10, max_part_size=10_000)
    target = _local(form.get("next") if isinstance(form.get("next"), str) else None)  # type: ignore[arg-type]
    given = form.get("csrf_token")
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not isinstance(given, str) or not expected or not hmac.compare_digest(given, expected):
        return _login_page(request, FormExpired().message, 403, target)
    email, password = text(form, "email"), form.get("password")
    if not email or not isinstance(password, str) or not password:
        return _login_page(request, "Enter your email and password.", 400, target)
    address = request.client.host if request.client else "unknown"
    try:
        cookie = await run_in_threadpool(system_of(request).logins.log_in, email, password, address)
    except TooManyLogins as error:
        response = _login_page(request, error.message, 429, target)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    except Unauthorized as error:
        return _login_page(request, f"{error.message.capitalize()}.", 401, target)
    response = see_other(target)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout", name="logout")
async def log_out(request: Request, login: Login = LoggedIn) -> Response:
    await checked_form(request, login)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    await run_in_threadpool(system_of(request).logins.log_out, cookie)
    response = see_other("/login", "You have logged out.")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/workspace/switch", name="switch_workspace")
async def switch(request: Request, login: Login = LoggedIn) -> Response:
    form = await checked_form(request, login)
    try:
        workspace_id = int(text(form, "workspace_id"))
    except ValueError:
        workspace_id = -1
    cookie = request.cookies.get(SESSION_COOKIE, "")
    try:
        await run_in_threadpool(system_of(request).logins.switch, cookie, workspace_id)
    except NotFound:
        return see_other("/people", "That workspace is not one this login may see.")
    name = next((n for i, n in login.workspaces if i == workspace_id), str(workspace_id))
    return see_other("/people", f"Now looking at the workspace {name}.")
