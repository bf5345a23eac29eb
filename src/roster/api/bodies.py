"""Reading request bodies: size caps, gzip, JSON, NUL characters, strict mode. What a decoded
body means is read by api/parsing.py."""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from fastapi import Request

from roster.domain.errors import InvalidInput

MAX_BODY_BYTES = 1_000_000  # well above any single Track call Customer.io accepts


def strict_mode(request: Request) -> bool:
    """X-Strict-Mode: 1 turns conflicts into 409s with nothing applied (IDENTITY.md I5.2)."""
    return request.headers.get("x-strict-mode", "").strip().lower() in ("1", "true")


async def json_object(
    request: Request, required: bool = True, limit: int = MAX_BODY_BYTES
) -> dict[str, Any]:
    """A JSON object body of at most `limit` bytes (however it is sent: chunked, gzip)."""
    raw = await read_capped(request, limit)
    if not raw.strip():
        if required:
            raise InvalidInput("request body must be a JSON object")
        return {}
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise InvalidInput("request body must be a JSON object")
    return body


def may_hold_nul(raw: bytes) -> bool:
    return b"\\u0000" in raw


def holds_nul(value: Any) -> bool:
    """Whether a NUL character is anywhere in a decoded body: no database column holds one."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return False


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, gunzipped when it says so, refused past `limit` bytes either way (no bombs)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InvalidInput(f"request body is larger than {limit} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if request.headers.get("content-encoding", "").strip().lower() != "gzip":
        return raw
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error as error:
        raise InvalidInput(f"the gzip body cannot be decompressed: {error}") from error
    if len(body) > limit or inflater.unconsumed_tail:
        raise InvalidInput(f"request body is larger than {limit} bytes once decompressed")
    if not inflater.eof:
        raise InvalidInput("the gzip body is truncated")
    return body


def parse_json(raw: bytes, allow_nul: bool = False) -> Any:
    """The parsed body; a NUL character anywhere refuses it unless the caller checks parts."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidInput(f"request body is not valid JSON: {error.msg}") from error
    if not allow_nul and may_hold_nul(raw) and holds_nul(body):
        raise InvalidInput("text cannot contain NUL characters (\\u0000)")
    return body
