"""Reading request bodies: size caps, gzip, JSON, NUL characters, strict mode. What a decoded
body means is read by api/parsing.py."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request

from roster.domain.errors import InvalidInput
from roster.domain.limits import check_depth

MAX_BODY_BYTES = 1_000_000  # well above any single Track call Customer.io accepts


def strict_mode(request: Request) -> bool:
    """X-Strict-Mode: 1 turns conflicts into 409s with nothing applied (docs/identity.md I5.2)."""
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
    """Whether a NUL character is anywhere in a decoded body: no database column holds one.
    Walked without recursion, like `json_depth`, whatever the body's depth."""
    pending = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return True
        elif isinstance(node, dict):
            pending.extend(node.keys())
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
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


def parse_json(raw: bytes, per_message: bool = False) -> Any:
    """The parsed body, refused when nested past JSON_MAX_DEPTH or holding a NUL character
    anywhere. A batch whose messages are judged one by one (Segment's API drops only the bad
    ones) is parsed with `per_message`, and each message is then checked by `check_message`."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidInput(f"request body is not valid JSON: {error.msg}") from error
    if per_message:
        return body
    check_depth(body)
    if may_hold_nul(raw) and holds_nul(body):
        raise InvalidInput("text cannot contain NUL characters (\\u0000)")
    return body


@dataclass(frozen=True)
class RawBody:
    """What the body a batch came in says about all its messages, looked at once per body (not
    once per message, which made a batch's checks grow with the square of its size): whether any
    message may be over the size limit, and whether any may hold a NUL."""

    large: bool
    nul: bool

    @classmethod
    def of(cls, raw: bytes, size_limit: int) -> RawBody:
        return cls(len(raw) > size_limit, may_hold_nul(raw))


def check_message(message: Any, size_limit: int, body: RawBody) -> None:
    """One message of a batch parsed with `per_message`: its depth first (nothing below may
    recurse through a deeper one), then its size and NUL characters, when the body it came in
    (`RawBody`) says they are possible."""
    check_depth(message, "message")
    if body.large and len(orjson.dumps(message)) > size_limit:
        raise InvalidInput(f"a message cannot be larger than {size_limit} bytes")
    if body.nul and holds_nul(message):
        raise InvalidInput("text cannot contain NUL characters (\\u0000)")
