"""Reading request bodies into domain operations. Bodies are free-form attribute maps and
Customer.io's error messages are part of the contract, so they are read by hand here rather
than by pydantic models; every message names the field at fault."""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from fastapi import Request

from roster.domain.attributes import SPECIAL_KEYS
from roster.domain.errors import InvalidInput, MergeRefused
from roster.domain.identifiers import (
    NOT_GIVEN,
    Given,
    IdentifierMode,
    check_id,
    looks_like_email,
    read_given,
    typed_reference,
)
from roster.domain.limits import (
    check_attributes,
    check_device_platform,
    check_device_token,
    check_event,
)
from roster.domain.operations import (
    AddDevice,
    Identify,
    ObjectKey,
    Ref,
    Relationship,
    TrackEvent,
)
from roster.domain.times import LATEST, looks_like_time, read_timestamp

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


def _identifier(body: dict[str, Any], key: str, mode: IdentifierMode) -> tuple[Given | None, bool]:
    """(given, removal): a body identifier as the rules need it."""
    if key not in body:
        return None, False
    raw = body[key]
    if raw is None or raw == "":
        return NOT_GIVEN, True
    given = read_given(raw, key)
    if given.value is not None:
        if key == "id":
            check_id(given.value)
        elif mode is IdentifierMode.EMAIL_OR_ID and not looks_like_email(given.value):
            raise InvalidInput(f"email '{given.value}' is not a valid email address", field="email")
    return given, False


OBJECT_TYPE_MAX_BYTES = 64
OBJECT_ID_MAX_BYTES = 150


def read_object_key(type_id: Any, object_id: Any, names: tuple[str, str]) -> ObjectKey:
    """An object's type id (default "1") and id: strings or numbers, within their limits.
    `names` are the two fields as the caller sent them, for the error message."""
    if type_id is None or type_id == "":
        type_id = "1"
    for name, value, limit in (
        (names[0], type_id, OBJECT_TYPE_MAX_BYTES),
        (names[1], object_id, OBJECT_ID_MAX_BYTES),
    ):
        if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
            raise InvalidInput(f"{name} is required and must be a string", field=name)
        if len(str(value).encode()) > limit:
            raise InvalidInput(f"{name} cannot be longer than {limit} bytes", field=name)
    return ObjectKey(str(type_id), str(object_id))


def object_key(identifiers: Any, where: str = "identifiers") -> ObjectKey:
    """v2 object identifiers: {object_type_id, object_id}."""
    if not isinstance(identifiers, dict):
        raise InvalidInput(f"{where} must be an object", field=where)
    names = (f"{where}.object_type_id", f"{where}.object_id")
    return read_object_key(identifiers.get("object_type_id"), identifiers.get("object_id"), names)


def _relationships(raw: Any) -> tuple[Relationship, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidInput("cio_relationships must be an array", field="cio_relationships")
    found: list[Relationship] = []
    for index, item in enumerate(raw):
        where = f"cio_relationships[{index}]"
        ids = item.get("identifiers") if isinstance(item, dict) else None
        key = object_key(ids, f"{where}.identifiers")
        attributes = item.get("relationship_attributes") or {}
        if not isinstance(attributes, dict):
            raise InvalidInput(f"{where}.relationship_attributes must be an object", field=where)
        check_attributes(attributes)
        found.append(Relationship(key.object_type_id, key.object_id, attributes))
    return tuple(found)


def identify_from(ref: Ref, body: dict[str, Any], mode: IdentifierMode) -> Identify:
    """An identify call's body: attributes plus the special keys of IDENTITY.md I3."""
    attributes = {key: value for key, value in body.items() if key not in SPECIAL_KEYS}
    check_attributes(attributes)
    body_id, id_null = _identifier(body, "id", mode)
    body_email, email_null = _identifier(body, "email", mode)
    timestamp = None
    if body.get("_timestamp") is not None:
        raw = body["_timestamp"]
        timestamp = read_timestamp(raw)
        if timestamp is None and looks_like_time(raw) and float(raw) > LATEST:
            timestamp = LATEST  # a future _timestamp counts as "now" (I4.8)
        if timestamp is None:
            raise InvalidInput("_timestamp must be unix seconds", field="_timestamp")
    update = body.get("_update", False)
    if not isinstance(update, bool):
        raise InvalidInput("_update must be true or false", field="_update")
    return Identify(
        reference=ref,
        attributes=attributes,
        body_id=body_id,
        body_email=body_email,
        id_null=id_null,
        email_null=email_null,
        anonymous_id=read_given(body.get("anonymous_id"), "anonymous_id"),
        timestamp=timestamp,
        update_only=update,
        relationships=_relationships(body.get("cio_relationships")),
    )


EVENT_TYPES = ("event", "page", "screen")


def event_from(ref: Ref, body: dict[str, Any]) -> TrackEvent:
    """An event body: {name, type?, id?, timestamp?, data?, anonymous_id?}."""
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInput("event name is required and must be a string", field="name")
    type_ = body.get("type") or "event"
    if type_ not in EVENT_TYPES:
        raise InvalidInput("type must be one of event, page, screen", field="type")
    data = body.get("data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput("data must be a JSON object", field="data")
    data = {key: value for key, value in data.items() if key != "anonymous_id"}  # I7.4
    check_event(name, data)
    event_id = body.get("id")
    if event_id is not None and (not isinstance(event_id, str | int) or isinstance(event_id, bool)):
        raise InvalidInput("id must be a string", field="id")
    timestamp = read_timestamp(body.get("timestamp"))
    return TrackEvent(
        reference=ref,
        name=name,
        type=type_,
        data=data,
        event_id=str(event_id) if event_id not in (None, "") else None,
        timestamp=timestamp,
        anonymous_id=read_given(body.get("anonymous_id"), "anonymous_id"),
    )


def device_from(ref: Ref, body: dict[str, Any]) -> AddDevice:
    """{device: {id, platform, last_used?, attributes?}}; v2 names the id `token`."""
    device = body.get("device")
    if not isinstance(device, dict):
        raise InvalidInput("device must be an object with id and platform", field="device")
    token = device.get("id") if device.get("id") is not None else device.get("token")
    if not isinstance(token, str):
        raise InvalidInput("device.id is required and must be a string", field="device.id")
    check_device_token(token)
    platform = device.get("platform")
    if not isinstance(platform, str) or not platform:
        raise InvalidInput("device.platform is required (ios or android)", field="device.platform")
    check_device_platform(platform)
    last_used = device.get("last_used")
    if last_used is not None:
        seconds = read_timestamp(last_used)
        if seconds is None:
            raise InvalidInput("device.last_used must be unix seconds", field="device.last_used")
        last_used = int(seconds)
    attributes = device.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise InvalidInput("device.attributes must be an object", field="device.attributes")
    # customerio-python puts extra keys beside id and platform instead of under attributes.
    extra = {
        k: v
        for k, v in device.items()
        if k not in ("id", "token", "platform", "last_used", "attributes")
    }
    attributes = {**extra, **attributes}
    check_attributes(attributes)
    return AddDevice(ref, token, platform, last_used, attributes)


def merge_side(body: dict[str, Any], side: str, mode: IdentifierMode) -> Ref:
    value = body.get(side)
    if not isinstance(value, dict) or len(value) != 1:
        raise MergeRefused(f"{side} must be an object with exactly one of id, email or cio_id")
    ((kind, raw),) = value.items()
    if kind not in ("id", "email", "cio_id"):
        raise MergeRefused(f"{side} must be identified by id, email or cio_id, not '{kind}'")
    try:
        ref = typed_reference(kind, raw, mode)
    except InvalidInput as error:  # a merge answers in the merge shape, {"meta": {"error"}}
        raise MergeRefused(f"{side}.{kind}: {error.message}") from error
    if not hasattr(ref, "kind"):
        raise MergeRefused(f"{side}.{kind} must not be empty")
    return ref


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
