"""Who is calling: Track API Basic auth (site_id:api_key) and App API Bearer keys."""

from __future__ import annotations

import base64

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from roster.api.rate_limit import admit
from roster.domain.errors import Unauthorized
from roster.services.logins import CSRF_HEADER, SESSION_COOKIE
from roster.services.system import System


def system_of(request: Request) -> System:
    system: System = request.app.state.system
    return system


def _basic(request: Request) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        raise Unauthorized()
    return basic_credentials(value)


def basic_credentials(value: str) -> tuple[str, str]:
    """User and password of a Basic header's value, each a `credential`."""
    try:
        # ValueError covers bad base64, text beyond ASCII in the header and bytes beyond UTF-8.
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except ValueError as error:
        raise Unauthorized() from error
    user, _, password = decoded.partition(":")
    return credential(user), credential(password)


def credential(value: str) -> str:
    """A credential as sent, refused when it holds what no key or site id can (a NUL, which
    PostgreSQL would fail on, or text beyond ASCII) before it reaches the database."""
    if "\x00" in value or not value.isascii():
        raise Unauthorized()
    return value


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized()
    return credential(value.strip())


async def workspace_of_key(request: Request, kind: str, scope: str, secret: str) -> int:
    """The workspace of a key (`Workspaces.cached` names its parts), then the rate limit, if on.
    A key seen lately is answered on the event loop from the cache; only one that is not goes
    to the database, in the thread pool, so that a slow or lost database never stalls the loop
    (docs/benchmarks.md, "Where the time goes": a thread-pool hop on every call cost a sixth of
    a single call's time)."""
    workspaces = system_of(request).workspaces
    found = workspaces.cached(kind, scope, secret)
    if found is None:
        found = await run_in_threadpool(workspaces.authenticate, kind, scope, secret)
    return admit(request, found)


async def track_workspace(request: Request) -> int:
    """Track API: HTTP Basic with the workspace's site id and Track API key; then the rate
    limit, if on."""
    site_id, api_key = _basic(request)
    if not site_id or not api_key:
        raise Unauthorized()
    return await workspace_of_key(request, "track_api_key", site_id, api_key)


async def app_workspace(request: Request) -> int:
    """App API and roster's /api: Bearer with the workspace's App API key, or the web UI's
    session cookie (docs/web.md) for the workspace that session looks at; then the rate limit,
    if on."""
    if "authorization" not in request.headers:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            return admit(request, await run_in_threadpool(_session_workspace, request, cookie))
    return await workspace_of_key(request, "app_api_key", "", bearer(request))


def _session_workspace(request: Request, cookie: str) -> int:
    """The workspace of a UI session. A call that changes anything must also carry the
    session's CSRF token in X-CSRF-Token: a cookie alone is what another site can make a
    browser send."""
    logins = system_of(request).logins
    login = logins.session(cookie)
    if login is None or login.workspace_id is None:
        raise Unauthorized("the session has ended: log in again")
    if request.method not in ("GET", "HEAD") and not logins.csrf_ok(
        login, request.headers.get(CSRF_HEADER)
    ):
        raise Unauthorized("a call made with a session cookie needs its X-CSRF-Token header")
    return login.workspace_id
