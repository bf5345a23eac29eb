"""Customer.io's published limits, checked before anything is written (I4.3, I8.2)."""

from __future__ import annotations

from typing import Any

import orjson

from roster.domain.errors import InvalidInput, LimitExceeded
from roster.domain.times import looks_like_time, read_timestamp

ATTRIBUTE_NAME_MAX_BYTES = 150
ATTRIBUTE_VALUE_MAX_BYTES = 1000
ATTRIBUTES_PER_CALL = 300
ATTRIBUTES_PER_PERSON = 300
EVENT_NAME_MAX_BYTES = 100
EVENT_DATA_MAX_BYTES = 100_000
DEVICE_TOKEN_MAX_BYTES = 255

# Names a caller cannot set: roster's own bookkeeping (I4.7).
RESERVED_EXACT = frozenset({"_created_in_roster_at"})
RESERVED_PREFIXES = ("_cio", "_roster")


def serialised_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode())
    try:
        return len(orjson.dumps(value))
    except TypeError as error:  # pragma: no cover - bodies come from JSON, so this is defence
        raise InvalidInput(f"value cannot be stored as JSON: {error}") from error


def check_attribute(name: str, value: Any) -> None:
    if not name:
        raise InvalidInput("attribute names cannot be empty", field=name)
    if len(name.encode()) > ATTRIBUTE_NAME_MAX_BYTES:
        raise LimitExceeded(
            f"attribute name '{name[:40]}...' cannot be longer than "
            f"{ATTRIBUTE_NAME_MAX_BYTES} bytes",
            attribute=name,
            limit=ATTRIBUTE_NAME_MAX_BYTES,
        )
    if name in RESERVED_EXACT or name.startswith(RESERVED_PREFIXES):
        raise InvalidInput(f"attribute '{name}' is reserved and cannot be set", field=name)
    if value is not None and serialised_size(value) > ATTRIBUTE_VALUE_MAX_BYTES:
        raise LimitExceeded(
            f"value for attribute '{name}' cannot be longer than {ATTRIBUTE_VALUE_MAX_BYTES} bytes",
            attribute=name,
            limit=ATTRIBUTE_VALUE_MAX_BYTES,
        )


def check_created_at(value: Any) -> None:
    """created_at meant as unix seconds must be a time roster can store (years 1 to 9999)."""
    if looks_like_time(value) and read_timestamp(value) is None:
        raise InvalidInput(
            "created_at must be unix seconds between years 1 and 9999", field="created_at"
        )


def check_attributes(attributes: dict[str, Any]) -> None:
    if len(attributes) > ATTRIBUTES_PER_CALL:
        raise LimitExceeded(
            f"a call cannot carry more than {ATTRIBUTES_PER_CALL} attributes "
            f"(this one has {len(attributes)})",
            attribute=None,
            limit=ATTRIBUTES_PER_CALL,
        )
    for name, value in attributes.items():
        check_attribute(name, value)
    if "created_at" in attributes:
        check_created_at(attributes["created_at"])


def check_person_size(count: int) -> None:
    if count > ATTRIBUTES_PER_PERSON:
        raise LimitExceeded(
            f"a person cannot have more than {ATTRIBUTES_PER_PERSON} attributes "
            f"(this call would make {count})",
            attribute=None,
            limit=ATTRIBUTES_PER_PERSON,
        )


def check_event(name: str, data: dict[str, Any]) -> None:
    if not name:
        raise InvalidInput("event name is required", field="name")
    if len(name.encode()) > EVENT_NAME_MAX_BYTES:
        raise LimitExceeded(
            f"event name cannot be longer than {EVENT_NAME_MAX_BYTES} bytes",
            attribute="name",
            limit=EVENT_NAME_MAX_BYTES,
        )
    if serialised_size(data) > EVENT_DATA_MAX_BYTES:
        raise LimitExceeded(
            f"event data cannot be longer than {EVENT_DATA_MAX_BYTES} bytes",
            attribute="data",
            limit=EVENT_DATA_MAX_BYTES,
        )


DEVICE_PLATFORM_MAX_BYTES = 32


def check_device_platform(platform: str) -> None:
    if len(platform.encode()) > DEVICE_PLATFORM_MAX_BYTES:
        raise LimitExceeded(
            f"device platform cannot be longer than {DEVICE_PLATFORM_MAX_BYTES} bytes "
            "(ios or android)",
            attribute="device.platform",
            limit=DEVICE_PLATFORM_MAX_BYTES,
        )


def check_device_token(token: str) -> None:
    if not token:
        raise InvalidInput("device id is required", field="device.id")
    if len(token.encode()) > DEVICE_TOKEN_MAX_BYTES:
        raise LimitExceeded(
            f"device id cannot be longer than {DEVICE_TOKEN_MAX_BYTES} bytes",
            attribute="device.id",
            limit=DEVICE_TOKEN_MAX_BYTES,
        )


# How deeply a request body (or one message of a Segment batch) may nest objects and arrays.
# Well below what any later step can walk: orjson stops at 255 levels, and a stored attribute can
# sit up to 75 levels deeper than its value (a dotted name of 150 bytes), inside a merge's
# before-image or an activity's data (docs/api.md §5).
JSON_MAX_DEPTH = 32


def json_depth(value: Any, stop_after: int | None = None) -> int:
    """How many objects and arrays nest in decoded JSON (a scalar is 0, `{}` is 1), level by
    level without recursion, so that a body nested past Python's recursion limit is measured
    too. With `stop_after`, the walk stops as soon as it is known to be deeper than that.
    Exact type checks: decoded JSON holds plain dicts and lists, and they are twice as fast."""
    depth = 0
    level = [value] if type(value) is dict or type(value) is list else []
    while level:
        depth += 1
        if stop_after is not None and depth > stop_after:
            return depth
        below: list[Any] = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                if type(child) is dict or type(child) is list:
                    below.append(child)
        level = below
    return depth


def check_depth(value: Any, what: str = "request body") -> None:
    if json_depth(value, JSON_MAX_DEPTH) > JSON_MAX_DEPTH:
        raise InvalidInput(
            f"the {what} nests objects and arrays more than {JSON_MAX_DEPTH} levels deep"
        )
