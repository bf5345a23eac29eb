"""The one interface the identity-rule tests drive, so that the same tests run against the
domain with an in-memory store (tests/domain) and against SQLite and PostgreSQL through the
services layer (tests/services)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from roster.domain.context import Outcome
from roster.domain.merge_record import MergeRecord
from roster.domain.operations import Operation
from roster.domain.people import Activity, Device, Event, Person


class World(Protocol):
    """A workspace with its settings, a clock the test controls, and ways to look inside."""

    # Where new people's cio_ids come from: deterministic in both worlds, and a seam a test may
    # replace to make them clash (I1.1).
    make_cio_id: Callable[[], str]

    def configure(self, **settings: Any) -> None:
        """Change workspace settings: identifier_mode, allow_email_update_by_id, auto_merge,
        strict_conflicts, anonymous_retention_days."""

    def set_time(self, unix_seconds: float) -> None:
        """The time the next calls are received at."""

    def apply(self, op: Operation, strict: bool = False) -> Outcome:
        """Apply one call as its own transaction; a raised domain error writes nothing."""

    def person(self, kind: str, value: str) -> Person | None:
        """A live person by identifier: kind is id, email, cio_id or anonymous_id."""

    def people(self) -> list[Person]:
        """Every live person."""

    def events(self, cio_id: str | None) -> list[Event]:
        """A person's events; with None, the stored anonymous (unattached) events."""

    def activities(self, cio_id: str) -> list[Activity]:
        """The activity log entries of a person (also of a deleted one, by its cio_id)."""

    def devices(self, cio_id: str) -> list[Device]: ...

    def anonymous_ids(self, cio_id: str) -> list[str]: ...

    def object(self, object_type_id: str, object_id: str) -> dict[str, Any] | None:
        """An object: {"attributes": {...}, "people": {cio_id: relationship attributes},
        "anonymous": {anonymous_id: relationship attributes}}, or None."""

    def suppressed(self, kind: str, value: str) -> bool:
        """Whether that identifier is on the suppression list (checked by hash)."""

    def merge(self, merge_id: int) -> MergeRecord | None:
        """A merge record (docs/identity.md I6.3) by the id its profile_merge entry names."""
