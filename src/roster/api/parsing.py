"""Reading decoded request bodies into domain operations: the one parser of every door's
identify, event, device, merge and object bodies. Bodies are free-form attribute maps and
Customer.io's error messages are part of the contract, so they are read by hand here rather
than by pydantic models; every message names the field at fault. Nothing here knows HTTP, so
the identity-rule tests build their operations with these same functions."""

from __future__ import annotations

from typing import Any

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
    Operation,
    Ref,
    Relationship,
    TrackEvent,
    WorkspaceActivity,
)
from roster.domain.times import LATEST, looks_like_time, read_timestamp

OBJECT_TYPE_MAX_BYTES = 64
OBJECT_ID_MAX_BYTES = 150
PERSON_KINDS = ("id", "email", "cio_id", "anonymous_id")
EVENT_TYPES = ("event", "page", "screen")


def _blank(raw: Any) -> bool:
    """null, "" or only spaces: what an identifier key carries to remove it (I1.6, I5.6)."""
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _identifier(body: dict[str, Any], key: str, mode: IdentifierMode) -> tuple[Given | None, bool]:
    """(given, removal): a body identifier as the rules need it."""
    if key not in body:
        return None, False
    raw = body[key]
    if _blank(raw):
        return NOT_GIVEN, True
    given = read_given(raw, key)
    if given.value is not None:
        if key == "id":
            check_id(given.value)
        elif mode is IdentifierMode.EMAIL_OR_ID and not looks_like_email(given.value):
            raise InvalidInput(f"email '{given.value}' is not a valid email address", field="email")
    return given, False


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


def person_reference(identifiers: Any, mode: IdentifierMode, where: str = "identifiers") -> Ref:
    """v2 person identifiers: exactly one of id, email, cio_id or anonymous_id."""
    if identifiers is None:
        identifiers = {}
    if not isinstance(identifiers, dict):
        raise InvalidInput(f"{where} must be an object", field=where)
    present = {k: v for k, v in identifiers.items() if k in PERSON_KINDS and v not in (None, "")}
    if len(present) != 1:
        raise InvalidInput(
            f"{where} must hold exactly one of id, email, cio_id, anonymous_id", field=where
        )
    ((kind, raw),) = present.items()
    return typed_reference(kind, raw, mode)


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


def _ordering_timestamp(raw: Any) -> float | None:
    """`_timestamp` (I4.8): null is absent; a time past year 9999 is read as the latest time
    roster can store, which the rules then clamp to the time received like any future one; what
    is no time at all is refused rather than silently read as "now"."""
    if raw is None:
        return None
    seconds = read_timestamp(raw)
    if seconds is None and looks_like_time(raw) and float(raw) > LATEST:
        return LATEST
    if seconds is None:
        raise InvalidInput(
            "_timestamp must be unix seconds or an ISO-8601 time", field="_timestamp"
        )
    return seconds


def _update_only(raw: Any) -> bool:
    """`_update` (I3.5): true or false; null is absent. Anything else is refused, so that a
    string "false" never quietly means "create"."""
    if raw is None:
        return False
    if not isinstance(raw, bool):
        raise InvalidInput("_update must be true or false", field="_update")
    return raw


def identify_from(ref: Ref, body: dict[str, Any], mode: IdentifierMode) -> Identify:
    """An identify call's body: attributes plus the special keys of docs/identity.md I3."""
    attributes = {key: value for key, value in body.items() if key not in SPECIAL_KEYS}
    check_attributes(attributes)
    body_id, id_null = _identifier(body, "id", mode)
    body_email, email_null = _identifier(body, "email", mode)
    return Identify(
        reference=ref,
        attributes=attributes,
        body_id=body_id,
        body_email=body_email,
        id_null=id_null,
        email_null=email_null,
        anonymous_id=read_given(body.get("anonymous_id"), "anonymous_id"),
        timestamp=_ordering_timestamp(body.get("_timestamp")),
        update_only=_update_only(body.get("_update")),
        relationships=_relationships(body.get("cio_relationships")),
    )


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


def anonymous_event_from(body: dict[str, Any]) -> Operation:
    """POST /api/v1/events: an anonymous event (I7.1), or with no anonymous_id and a
    data.recipient, an invite event kept as workspace activity. A blocked anonymous_id is an
    anonymous id that was sent and ignored (I1.6): nothing is stored, the ingestion log says so."""
    anonymous = read_given(body.get("anonymous_id"), "anonymous_id")
    event = event_from(NOT_GIVEN, body)
    if anonymous.value is not None or anonymous.blocked is not None:
        return event
    recipient = event.data.get("recipient")
    if not isinstance(recipient, str) or not recipient:
        raise InvalidInput(
            "an anonymous event needs anonymous_id, or data.recipient for an invite event",
            field="anonymous_id",
        )
    return WorkspaceActivity("invite", event.name, event.data, event.timestamp)


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
    """One side of a merge: {id | email | cio_id: value}, exactly one key (I6.1)."""
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
