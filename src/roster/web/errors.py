"""Errors on UI routes are pages in the UI's style (docs/web.md, "Errors"); api/errors.py hands
them here for the web door, and for paths no route serves when a browser asks."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from roster.domain.errors import RosterError, TooManyLogins, Unavailable
from roster.services.logins import SESSION_COOKIE
from roster.web.frame import FormExpired, LoginNeeded, NoWorkspace, render

_TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    405: "Not found",
    409: "That cannot be done now",
    429: "Slow down",
    500: "Something went wrong",
    503: "roster is busy",
}


def page(request: Request, error: RosterError | None, status: int) -> Response:
    """The page for an error: LoginNeeded goes to the login form (back here afterwards);
    anything else is a page that says what happened and what to do, with the request id."""
    if isinstance(error, LoginNeeded):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        expired = "&expired=1" if error.expired else ""
        response: Response = RedirectResponse(
            f"/login?next={quote(target)}{expired}", status_code=303
        )
        if error.expired:
            response.delete_cookie(SESSION_COOKIE)
        return response
    if isinstance(error, FormExpired):
        status = 403
    elif isinstance(error, NoWorkspace):
        status = 409
    if error is not None and not error.message.startswith("no such endpoint"):
        message = error.message
    elif status >= 500:
        message = "roster failed to show this page. The request id below is in roster's log."
    else:
        message = "There is no page at this address."
    response = render(
        request,
        "error.html",
        {"title": _TITLES.get(status, "That did not work"), "message": message, "status": status},
        status_code=status,
    )
    if isinstance(error, Unavailable | TooManyLogins):
        response.headers["Retry-After"] = str(error.retry_after)
    return response
