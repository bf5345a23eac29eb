"""The server-rendered web UI (docs/web.md): login, the People and person pages, duplicates and
the workspace's pages. Jinja2 templates, plain forms and a little plain JavaScript."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from roster.web import (
    duplicates,
    people,
    person,
    person_actions,
    sessions,
    workspace,
    workspace_lists,
)
from roster.web.frame import HERE

# Every page router, in the order they are matched.
ROUTERS = (
    sessions.router,
    people.router,
    person.router,
    person_actions.router,
    duplicates.router,
    workspace.router,
    workspace_lists.router,
)


def install(app: FastAPI, include: Callable[[FastAPI, APIRouter], None]) -> None:
    """The page routers, each added with `include` (the app's way, roster.api.doors.include),
    then the static files."""
    for router in ROUTERS:
        include(app, router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
