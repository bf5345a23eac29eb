"""Segment's Spec API (docs/api.md §3): segment-analytics-python, customerio-cdp-analytics and any
Segment library pointed at roster. Every request that parses is answered 200: a message that
cannot be used is dropped and the ingestion log says why (Segment's libraries do not retry a
400, so one bad message must not cost the other 99)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from roster.api import doors, schemas
from roster.api.answers import JsonAnswer
from roster.api.auth import basic_credentials, credential, system_of, workspace_of_key
from roster.api.bodies import RawBody, check_message, holds_nul, parse_json, read_capped
from roster.api.segment_messages import operations_from
from roster.domain.errors import InvalidInput, RosterError, Unauthorized
from roster.domain.limits import check_depth
from roster.services.ingestion import Dropped, Message

router = doors.router("segment", tags=["Segment"])
DOOR = "segment"
MESSAGE_MAX_BYTES = 32 * 1024
REQUEST_MAX_BYTES = 500 * 1024
BATCH_MAX_MESSAGES = 2500
OK = {"success": True}


def header_key(request: Request) -> str | None:
    """The write key from Basic (key as user, empty password) or Bearer, if any."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return credential(value.strip())
    if scheme.lower() == "basic" and value.strip():
        return basic_credentials(value)[0] or None
    return None


async def write_key_workspace(request: Request, body: Any) -> int:
    key = header_key(request)
    if key is None and isinstance(body, dict) and isinstance(body.get("writeKey"), str):
        key = credential(body["writeKey"])
    if not key:
        raise Unauthorized("a write key is required (Basic auth, Bearer, or writeKey)")
    return await workspace_of_key(request, "write_key", "", key)


def _text_field(message: Any, key: str) -> str | None:
    """A message's type or messageId as the ingestion log keeps it, read before the message is
    checked: a NUL character (which no database column holds) shows as U+FFFD."""
    value = message.get(key) if isinstance(message, dict) else None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).replace("\x00", "\ufffd")


async def ingest(
    request: Request,
    workspace_id: int,
    raw: bytes,
    messages: list[Any],
    door: str,
    defaults: dict[str, Any] | None = None,
    kind: str | None = None,
) -> JsonAnswer:
    """Read every message into operations, drop (and log) the unusable, apply the rest.
    `raw` is the body they came in (see `check_message`)."""
    system = system_of(request)
    mode = system.workspaces.mode(workspace_id)
    usable: list[Message] = []
    dropped: list[Dropped] = []
    body = RawBody.of(raw, MESSAGE_MAX_BYTES)
    for message in messages:
        type_ = kind or _text_field(message, "type")
        message_id = _text_field(message, "messageId")
        try:
            check_message(message, MESSAGE_MAX_BYTES, body)
            if defaults and isinstance(message, dict):
                message = {**defaults, **{k: v for k, v in message.items() if v is not None}}
            ops = operations_from(message, mode, kind)
        except RosterError as error:
            dropped.append(Dropped(error.message, type_, message_id))
            continue
        usable.append(Message(ops[0], type_, message_id, tuple(ops[1:])))
    await system.ingestion.apply(workspace_id, usable, door, isolate=True, dropped=dropped)
    return JsonAnswer(OK)


async def _single(request: Request, kind: str) -> JsonAnswer:
    raw = await read_capped(request, REQUEST_MAX_BYTES)
    if len(raw) > MESSAGE_MAX_BYTES:
        raise InvalidInput(f"a message cannot be larger than {MESSAGE_MAX_BYTES} bytes")
    body = parse_json(raw)
    workspace_id = await write_key_workspace(request, body)
    if not isinstance(body, dict):
        raise InvalidInput("the body must be one message, a JSON object")
    return await ingest(request, workspace_id, raw, [body], DOOR, kind=kind)


def _single_route(kind: str) -> None:
    async def endpoint(request: Request) -> JsonAnswer:
        return await _single(request, kind)

    endpoint.__name__ = f"segment_{kind}"
    router.add_api_route(
        f"/v1/{kind}",
        endpoint,
        methods=["POST"],
        summary=f"Segment {kind} (one message)",
        openapi_extra=schemas.body(schemas.SEGMENT_MESSAGES[kind]),
    )


for _kind in ("identify", "track", "page", "screen", "group", "alias"):
    _single_route(_kind)


def batch_defaults(body: dict[str, Any]) -> dict[str, Any]:
    """Top-level context and integrations apply to every message of a batch, so the whole
    body is refused when they are nested too deep or hold a NUL character."""
    defaults = {key: body[key] for key in ("context", "integrations") if body.get(key) is not None}
    check_depth(defaults, "batch's context or integrations")
    if holds_nul(defaults):
        raise InvalidInput("text cannot contain NUL characters (\\u0000)", field="context")
    return defaults


@router.post(
    "/v1/batch",
    summary="Segment batch (up to 2,500 messages, 500 KB)",
    openapi_extra=schemas.body(schemas.SEGMENT_BATCH),
)
@router.post(
    "/v1/import",
    summary="Segment import: the older name of /v1/batch",
    openapi_extra=schemas.body(schemas.SEGMENT_BATCH),
)
async def batch(request: Request) -> JsonAnswer:
    raw = await read_capped(request, REQUEST_MAX_BYTES)
    body = parse_json(raw, per_message=True)  # a bad message is dropped, not the batch
    workspace_id = await write_key_workspace(request, body)
    if not isinstance(body, dict) or not isinstance(body.get("batch"), list):
        raise InvalidInput("the body must be an object with a batch array", field="batch")
    messages: list[Any] = body["batch"]
    if len(messages) > BATCH_MAX_MESSAGES:
        raise InvalidInput(
            f"a batch holds at most {BATCH_MAX_MESSAGES} messages (this one has {len(messages)})",
            field="batch",
        )
    return await ingest(request, workspace_id, raw, messages, DOOR, batch_defaults(body))
