"""Who is calling: Track API Basic auth (site_id:api_key) and App API Bearer keys."""

from __future__ import annotations

import base64
import binascii

from fastapi import Request

from roster.domain.errors import Unauthorized
from roster.services.system import System


def system_of(request: Request) -> System:
    system: System = request.app.state.system
    return system


def _basic(request: Request) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        raise Unauthorized()
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise Unauthorized() from error
    user, _, password = decoded.partition(":")
    return user, password


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized()
    return value.strip()


def track_workspace(request: Request) -> int:
    """Track API: HTTP Basic with the workspace's site id and Track API key."""
    site_id, api_key = _basic(request)
    if not site_id or not api_key:
        raise Unauthorized()
    return system_of(request).workspaces.for_track(site_id, api_key)


def app_workspace(request: Request) -> int:
    """App API and roster's /api: Bearer with the workspace's App API key."""
    return system_of(request).workspaces.for_app_key(bearer(request))
