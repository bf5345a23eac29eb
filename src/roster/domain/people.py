"""A person, and the things that hang off one: devices, events, activities."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = Any


@dataclass
class Person:
    """A profile. `id` and `email` are the display forms; matching uses identifier rows."""

    pk: int | None
    cio_id: str
    id: str | None = None
    email: str | None = None
    attributes: dict[str, JSON] = field(default_factory=dict)
    # When each top-level attribute was last set or removed (unix seconds), for I4.8 ordering.
    attribute_times: dict[str, float] = field(default_factory=dict)
    created_in_roster_at: int = 0
    updated_at: float = 0.0

    @property
    def unsubscribed(self) -> bool:
        return self.attributes.get("unsubscribed") is True


@dataclass
class Device:
    token: str
    person_pk: int
    platform: str
    last_used: int | None = None
    attributes: dict[str, JSON] = field(default_factory=dict)


@dataclass
class Event:
    """An event, page or screen. `person_pk` is None for an anonymous event (I7.1)."""

    name: str
    type: str  # event | page | screen
    timestamp: float
    data: dict[str, JSON] = field(default_factory=dict)
    event_id: str | None = None
    person_pk: int | None = None
    anonymous_id: str | None = None
    pk: int | None = None


@dataclass
class Activity:
    """One entry of the activity log (the audit log of every change and failure)."""

    type: str
    timestamp: float
    person_pk: int | None = None
    cio_id: str | None = None
    name: str | None = None
    data: dict[str, JSON] | None = None
    pk: int | None = None
    # The merge that moved the entry to another person, or whose secondary it is about (I6.4).
    merge_id: int | None = None


@dataclass
class Note:
    """What the ingestion log should say about a call: ignored, blocked, unusable."""

    reason: str
    identifier_hash: str | None = None
