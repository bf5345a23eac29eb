"""Segment's Webhooks destinations (Classic and Actions) posting to roster (docs/api.md §3).

The body is one Spec message, a JSON array of them, or {"batch": [...]}. Segment signs it with
the webhook secret: X-Signature is the hex HMAC-SHA1 of the whole body for one message, and of
the exact bytes of the first element for an array. Webhooks Actions can send a header instead,
so the workspace's write key in Authorization (Basic or Bearer) is accepted too."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from fastapi import Request

from roster.api import doors, schemas
from roster.api.answers import JsonAnswer
from roster.api.auth import system_of
from roster.api.bodies import parse_json, read_capped
from roster.api.paths import segment
from roster.api.rate_limit import admit
from roster.api.segment import batch_defaults, header_key, ingest
from roster.domain.errors import InvalidInput, Unauthorized

router = doors.router("webhook", tags=["Segment"])
DOOR = "webhook"
BODY_MAX_BYTES = 16 * 1024 * 1024
MESSAGES_MAX = 4000


# A JSON string, or one bracket: what `first_element` steps through (strings hold brackets).
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_SCALAR_END = re.compile(rb"[\s,\]]")


def first_element(raw: bytes) -> bytes:
    """The exact bytes of a JSON array's first element, as they stand in the body. `raw` has
    parsed already; it is walked without recursion, so a deeply nested element is no danger."""
    start = raw.index(b"[") + 1
    while start < len(raw) and raw[start] in b" \t\r\n":
        start += 1
    if raw[start : start + 1] not in (b"[", b"{", b'"'):
        end = _SCALAR_END.search(raw, start)
        return raw[start : end.start() if end else len(raw)]
    depth = 0
    for token in _TOKENS.finditer(raw, start):
        depth += {b"[": 1, b"{": 1, b"]": -1, b"}": -1}.get(token.group(), 0)
        if depth == 0:
            return raw[start : token.end()]
    raise InvalidInput("the body's first message is not complete JSON")


def _signed_part(raw: bytes, body: Any) -> bytes:
    if isinstance(body, list):
        return first_element(raw) if body else raw
    return raw


def _authenticate(request: Request, webhook_id: str, raw: bytes, body: Any) -> int:
    workspaces = system_of(request).workspaces
    workspace_id, secret = workspaces.for_webhook(webhook_id)
    signature = request.headers.get("x-signature", "").strip().lower()
    if signature:
        expected = hmac.new(secret, _signed_part(raw, body), hashlib.sha1).hexdigest()
        # Bytes, not text: a header may hold any byte, and compare_digest refuses non-ASCII str.
        if hmac.compare_digest(signature.encode("latin-1"), expected.encode()):
            return workspace_id
        raise Unauthorized("the X-Signature does not match this webhook's secret")
    key = header_key(request)
    if key is not None and workspaces.for_write_key(key) == workspace_id:
        return workspace_id
    raise Unauthorized("a webhook call needs an X-Signature or this workspace's write key")


@router.post(
    "/segment/webhook/{webhook_id}",
    summary="Segment Webhooks destination receiver",
    openapi_extra=schemas.body(schemas.WEBHOOK),
)
async def receive(request: Request, webhook_id: str) -> JsonAnswer:
    raw = await read_capped(request, BODY_MAX_BYTES)
    body = parse_json(raw, per_message=True)  # a bad message is dropped, not the call
    workspace_id = admit(request, _authenticate(request, segment(webhook_id), raw, body))
    defaults: dict[str, Any] = {}
    if isinstance(body, dict) and isinstance(body.get("batch"), list):
        messages: list[Any] = body["batch"]
        defaults = batch_defaults(body)
    elif isinstance(body, dict):
        messages = [body]
    elif isinstance(body, list):
        messages = body
    else:
        raise InvalidInput('the body must be a message, an array of them, or {"batch": [...]}')
    if len(messages) > MESSAGES_MAX:
        raise InvalidInput(
            f"a webhook call holds at most {MESSAGES_MAX} messages (this one has {len(messages)})"
        )
    return await ingest(request, workspace_id, raw, messages, DOOR, defaults)
