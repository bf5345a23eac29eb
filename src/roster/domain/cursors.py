"""Keyset paging cursors: the key of the last entry a page gave, as base64url of a JSON array,
opaque to clients and short. Each list checks the key's shape itself (`decode` only promises an
array); whatever roster could not have answered as `next` is a 400 naming `start`."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from roster.domain.errors import InvalidInput

MAX_CHARS = 200  # a real cursor is well under this
REFUSED = "start must be a cursor returned as next"


def encode(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def refused() -> InvalidInput:
    return InvalidInput(REFUSED, field="start")


def decode(start: str) -> list[Any] | None:
    """The key a `start` cursor holds; None when there is none (the first page)."""
    if not start:
        return None
    if len(start) > MAX_CHARS or not start.isascii():
        raise refused()
    try:
        key = orjson.loads(base64.urlsafe_b64decode(start + "=" * (-len(start) % 4)))
    except (binascii.Error, ValueError) as error:  # orjson.JSONDecodeError is a ValueError
        raise refused() from error
    if not isinstance(key, list):
        raise refused()
    return key
