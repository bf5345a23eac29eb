"""How a call's attributes change a person (docs/identity.md I4)."""

from __future__ import annotations

import copy
from typing import Any

from roster.domain.limits import check_person_size
from roster.domain.people import Person
from roster.domain.times import read_timestamp

# Keys of an identify body that are instructions or identifiers, not attributes (I3, I4.7).
SPECIAL_KEYS = frozenset(
    {"id", "email", "anonymous_id", "_update", "_timestamp", "cio_relationships"}
)

Change = tuple[str, Any, Any]  # (attribute, from, to)


def normalise_created_at(value: Any) -> Any:
    """created_at is stored as unix seconds when it can be read as a time (I4.4)."""
    seconds = read_timestamp(value)
    return int(seconds) if seconds is not None else value


def normalise_unsubscribed(value: Any) -> bool:
    """`true` (any case), 1 and "1" mean unsubscribed; anything else means subscribed (I4.5)."""
    if value is True or (
        isinstance(value, int | float) and not isinstance(value, bool) and value == 1
    ):
        return True
    return isinstance(value, str) and value.strip().lower() in ("true", "1")


def _normalise(name: str, value: Any) -> Any:
    if name == "created_at":
        return normalise_created_at(value)
    if name == "unsubscribed":
        return normalise_unsubscribed(value)
    return value


def _removes(value: Any) -> bool:
    return value is None or value == ""


def _set_path(target: dict[str, Any], path: list[str], value: Any) -> None:
    node = target
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    if _removes(value):
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


def apply_attributes(
    person: Person, attributes: dict[str, Any], timestamp: float | None, now: float
) -> list[Change]:
    """Merge `attributes` into the person, honouring newer timestamps (I4.1, I4.2, I4.8)."""
    when = now if timestamp is None else min(timestamp, now)
    changes: list[Change] = []
    updated = person.attributes
    times = person.attribute_times
    count_before = len(updated)
    for name, raw in attributes.items():
        path = name.split(".")
        top = path[0] if all(path) else name
        if times.get(top, float("-inf")) > when:
            continue  # a newer call already set or removed this attribute
        before = updated.get(top)
        if top != name:
            nested = copy.deepcopy(before) if isinstance(before, dict) else {}
            _set_path(nested, path[1:], raw)
            after: Any = nested if nested else None
        else:
            after = None if _removes(raw) else _normalise(name, raw)
        times[top] = when
        if after == before and (after is not None or top not in updated):
            continue
        if after is None:
            updated.pop(top, None)
        else:
            updated[top] = after
        changes.append((top, before, after))
    if changes and len(updated) > count_before:  # a merge may have left more: removals still go
        check_person_size(len(updated))
    return changes
