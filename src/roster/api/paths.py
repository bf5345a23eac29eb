"""Track API references are path segments percent-decoded exactly once (docs/identity.md I2.4).

Servers decode the path before routing, so an id holding "%2F" would split into two segments
and "%252F" would be decoded twice. This middleware routes on the raw path instead, and the
handlers decode each reference segment once with `segment()`."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from roster.domain.errors import InvalidInput

Scope = dict[str, Any]


class RawPathRouting:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("raw_path"):
            raw = scope["raw_path"].split(b"?", 1)[0]
            # In place, as Starlette's router sets the matched route: the error handlers outside
            # this middleware read both (api/doors.py).
            # Bytes outside ASCII (an unencoded unicode id) are percent-encoded here, so every
            # segment reaches `segment()` in the same form.
            scope["path"] = "".join(chr(byte) if byte < 0x80 else f"%{byte:02X}" for byte in raw)
        await self.app(scope, receive, send)


def segment(raw: str) -> str:
    """One path segment, percent-decoded once; '+' and '@' stay as they are."""
    try:
        value = unquote(raw, errors="strict")
    except UnicodeDecodeError as error:
        raise InvalidInput("the reference in the path is not valid UTF-8") from error
    if "\x00" in value:
        raise InvalidInput("the reference in the path cannot contain a NUL character (%00)")
    return value


# Paging cursors are row keys: decimal digits that fit a signed 64-bit column.
CURSOR_MAX = 2**63 - 1


def query_text(value: str, name: str) -> str:
    """A text query value the database compares: no NUL character (PostgreSQL holds none)."""
    if "\x00" in value:
        raise InvalidInput(f"{name} cannot contain a NUL character", field=name)
    return value
