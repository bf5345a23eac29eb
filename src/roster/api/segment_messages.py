"""Segment Spec messages into domain operations, as Segment's Customer.io Actions destination
maps them (docs/api.md §3), so that a message sent here and the request the destination would have
sent to the Track API v2 lead to the same person."""

from __future__ import annotations

import re
from typing import Any

from roster.api.parsing import device_from, event_from, identify_from, read_object_key
from roster.domain.errors import InvalidInput
from roster.domain.identifiers import (
    NOT_GIVEN,
    IdentifierMode,
    Reference,
    read_given,
    read_reference,
)
from roster.domain.limits import check_attributes
from roster.domain.operations import (
    Alias,
    DeleteDevice,
    DeleteObject,
    DeletePerson,
    IdentifyObject,
    ObjectKey,
    Operation,
    Ref,
    Relate,
    Related,
    Suppress,
    Unsuppress,
    WorkspaceActivity,
)
from roster.domain.times import iso_seconds, read_timestamp

# Segment's strict ISO-8601 (the destination's isIsoDate): a date, optionally a time with
# seconds, 1 to 9 fractional digits and a zone.
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}((T\d{2}:\d{2}(:\d{2})?)(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?)?$")
_FRACTION = re.compile(r"\.(\d{1,9})")
DEVICE_ADDED = {"Application Installed", "Application Opened", "Device Created or Updated"}
DEVICE_REMOVED = {"Application Uninstalled", "Device Deleted"}
# What the destination takes out of an identify's traits; `objectId` stays an attribute (and
# also relates the person to that object).
TRAITS_LEFT_OUT = {
    "createdAt",
    "created_at",
    "object_type_id",
    "objectTypeId",
    "relationshipAttributes",
}
# A group's traits as object attributes, when there is no `objectAttributes`.
GROUP_TRAITS_LEFT_OUT = TRAITS_LEFT_OUT | {"objectId", "objectAttributes"}


def _iso_seconds(text: str) -> int | None:
    if not _ISO.match(text):
        return None
    value = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text)
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    elif re.search(r"[+-]\d{4}$", value):
        value = value[:-2] + ":" + value[-2:]
    seconds = iso_seconds(value)
    return int(seconds) if seconds is not None else None


def convert_timestamps(values: dict[str, Any]) -> dict[str, Any]:
    """Strict ISO-8601 strings become unix seconds, in nested objects but not in arrays."""
    converted: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, str):
            seconds = _iso_seconds(value)
            converted[key] = value if seconds is None else seconds
        elif isinstance(value, dict):
            converted[key] = convert_timestamps(value)
        else:
            converted[key] = value
    return converted


def _object(message: dict[str, Any], key: str) -> dict[str, Any]:
    value = message.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{key} must be an object", field=key)
    return value


def _user(message: dict[str, Any], mode: IdentifierMode) -> Ref:
    raw = message.get("userId")
    if raw is None or raw == "":
        return NOT_GIVEN
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise InvalidInput("userId must be a string", field="userId")
    return read_reference(str(raw), mode)


def _anonymous(message: dict[str, Any]) -> str | None:
    return read_given(message.get("anonymousId"), "anonymousId").value


def _token(message: dict[str, Any]) -> str | None:
    device = _object(_object(message, "context"), "device")
    token = device.get("token")
    return token if isinstance(token, str) and token else None


def _identify(message: dict[str, Any], mode: IdentifierMode) -> list[Operation]:
    traits = convert_timestamps(_object(message, "traits"))
    body = {k: v for k, v in traits.items() if k not in TRAITS_LEFT_OUT}
    created = traits.get("created_at", traits.get("createdAt"))
    if created is not None:
        body["created_at"] = created
    anonymous = _anonymous(message)
    if anonymous is not None:
        body["anonymous_id"] = anonymous
    timestamp = read_timestamp(message.get("timestamp"))
    if timestamp is not None:
        body["_timestamp"] = timestamp
    if traits.get("objectId") not in (None, ""):
        key = read_object_key(
            traits.get("object_type_id"),
            traits["objectId"],
            ("traits.object_type_id", "traits.objectId"),
        )
        identifiers = {"object_type_id": key.object_type_id, "object_id": key.object_id}
        body["cio_relationships"] = [
            {
                "identifiers": identifiers,
                "relationship_attributes": traits.get("relationshipAttributes") or {},
            }
        ]
    return [identify_from(_user(message, mode), body, mode)]


def _object_key(properties: dict[str, Any]) -> ObjectKey:
    type_id = properties.get("object_type_id") or properties.get("objectTypeId")
    names = ("properties.objectTypeId", "properties.objectId")
    return read_object_key(type_id, properties.get("objectId"), names)


def _track(message: dict[str, Any], mode: IdentifierMode) -> list[Operation]:
    name = message.get("event")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("a track call needs an event name", field="event")
    user = _user(message, mode)
    anonymous = _anonymous(message)
    properties = convert_timestamps(_object(message, "properties"))
    timestamp = read_timestamp(message.get("timestamp"))
    if name in DEVICE_ADDED and _token(message):
        context = _object(message, "context")
        device = {
            "token": _token(message),
            "platform": _object(context, "device").get("type") or "unknown",
            "last_used": timestamp,
            "attributes": {**properties, **_app_version(context)},
        }
        return [device_from(user, {"device": device})]
    if name in DEVICE_REMOVED and _token(message):
        return [DeleteDevice(user, _token(message) or "")]
    if name == "User Deleted":
        return [DeletePerson(user)]
    if name == "User Suppressed":
        return [Suppress(user)]
    if name == "User Unsuppressed":
        return [Unsuppress(user)]
    if name == "Object Deleted":
        return [DeleteObject(_object_key(properties))]
    if name == "Relationship Deleted":
        return [Relate(_object_key(properties), (Related(user),), remove=True)]
    if name == "Report Delivery Event":
        return [_delivery_metric(properties, timestamp)]
    event: dict[str, Any] = {
        "name": name,
        "id": message.get("messageId"),
        "timestamp": timestamp,
        "data": properties,
        "anonymous_id": anonymous,
    }
    if name == "Report Content Event":
        action = properties.get("actionType")
        if action not in ("viewed_content", "clicked_content"):
            raise InvalidInput("properties.actionType must be viewed_content or clicked_content")
        event.update(name=action, data={k: v for k, v in properties.items() if k != "actionType"})
    return [event_from(_or_anonymous(user, anonymous), event)]


def _app_version(context: dict[str, Any]) -> dict[str, Any]:
    version = _object(context, "app").get("version")
    return {"app_version": version} if version is not None else {}


def _delivery_metric(properties: dict[str, Any], timestamp: float | None) -> Operation:
    delivery_id, metric = properties.get("deliveryId"), properties.get("metric")
    if not isinstance(delivery_id, str) or not isinstance(metric, str):
        raise InvalidInput("a delivery event needs properties.deliveryId and properties.metric")
    data: dict[str, Any] = {"delivery_id": delivery_id, "metric": metric}
    if timestamp is not None:
        data["timestamp"] = int(timestamp)
    metadata = {
        snake: properties[camel]
        for camel, snake in (("actionName", "action_name"), ("actionValue", "action_value"))
        if camel in properties
    }
    if metadata:
        data["metadata"] = metadata
    return WorkspaceActivity("metric", metric, data)


def _or_anonymous(user: Ref, anonymous: str | None) -> Ref:
    """The event's person, or (no userId) its anonymous id as the reference (I7.1)."""
    if isinstance(user, Reference) or anonymous is None:
        return user
    return Reference("anonymous_id", anonymous)


def _page_or_screen(message: dict[str, Any], mode: IdentifierMode, kind: str) -> list[Operation]:
    properties = convert_timestamps(_object(message, "properties"))
    name = message.get("name")
    if kind == "page" and isinstance(properties.get("url"), str) and properties["url"]:
        name = properties["url"]
    if not isinstance(name, str) or not name:
        needs = "properties.url or a name" if kind == "page" else "a name"
        raise InvalidInput(f"a {kind} call needs {needs}", field="name")
    user, anonymous = _user(message, mode), _anonymous(message)
    event = {
        "name": name,
        "type": kind,
        "id": message.get("messageId"),
        "data": properties,
        "timestamp": read_timestamp(message.get("timestamp")),
        "anonymous_id": anonymous,
    }
    return [event_from(_or_anonymous(user, anonymous), event)]


def _group(message: dict[str, Any], mode: IdentifierMode) -> list[Operation]:
    group_id = message.get("groupId")
    if group_id in (None, ""):
        raise InvalidInput("a group call needs a groupId", field="groupId")
    traits = convert_timestamps(_object(message, "traits"))
    type_id = traits.get("object_type_id") or traits.get("objectTypeId")
    key = read_object_key(type_id, group_id, ("traits.object_type_id", "groupId"))
    if "objectAttributes" in traits:
        attributes = _object(traits, "objectAttributes")
    else:
        attributes = {k: v for k, v in traits.items() if k not in GROUP_TRAITS_LEFT_OUT}
    relationship = _object(traits, "relationshipAttributes")
    user, anonymous = _user(message, mode), _anonymous(message)
    related: tuple[Related, ...] = ()
    if isinstance(user, Reference):
        related = (Related(user, relationship),)
    elif anonymous is not None:
        related = (Related(Reference("anonymous_id", anonymous), relationship),)
    check_attributes(attributes)
    check_attributes(relationship)
    return [IdentifyObject(key, attributes, related)]


def _alias(message: dict[str, Any], mode: IdentifierMode) -> list[Operation]:
    previous = read_given(message.get("previousId"), "previousId").value
    user = _user(message, mode)
    if previous is None or not isinstance(user, Reference):
        raise InvalidInput("an alias call needs userId and previousId", field="previousId")
    return [Alias(user, previous)]


def _delete(message: dict[str, Any], mode: IdentifierMode) -> list[Operation]:
    user = _user(message, mode)
    if not isinstance(user, Reference):
        raise InvalidInput("a delete notice needs a userId", field="userId")
    return [DeletePerson(user)]


def operations_from(message: Any, mode: IdentifierMode, kind: str | None = None) -> list[Operation]:
    """One Spec message; `kind` is the type the endpoint implies (/v1/identify …)."""
    if not isinstance(message, dict):
        raise InvalidInput("a message must be a JSON object")
    type_ = kind or message.get("type")
    match type_:
        case "identify":
            return _identify(message, mode)
        case "track":
            return _track(message, mode)
        case "page" | "screen":
            return _page_or_screen(message, mode, type_)
        case "group":
            return _group(message, mode)
        case "alias":
            return _alias(message, mode)
        case "delete":
            return _delete(message, mode)
    raise InvalidInput(f"unknown message type '{type_}'", field="type")
