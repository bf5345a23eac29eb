"""The read side: people, their events, devices and activities, as the App API asks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from roster.domain import cursors
from roster.domain.errors import NotFound
from roster.domain.filters import Filter
from roster.domain.identifiers import Reference, fold_email, normalise
from roster.domain.people import Activity, Device, Event, Person
from roster.storage.reads import Reader, RelatedAfter

OBJECT_LIMIT = 100  # related people and anonymous ids on a page of an object, by default


@dataclass
class PersonView:
    person: Person
    devices: list[Device] = field(default_factory=list)
    anonymous_ids: list[str] = field(default_factory=list)
    relationships: list[dict[str, Any]] = field(default_factory=list)


class Lookups:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    def find(self, workspace_id: int, ref: Reference) -> Person | None:
        """The person a reference means (I2), without creating anyone."""
        if ref.kind == "cio_id":
            return self.reader.person(workspace_id, "cio_id", ref.value) or self.reader.person(
                workspace_id, "id", ref.raw
            )
        return self.reader.person(workspace_id, ref.kind, normalise(ref.kind, ref.value))

    def get(self, workspace_id: int, ref: Reference) -> Person:
        person = self.find(workspace_id, ref)
        if person is None:
            raise NotFound(f"no person with {ref.kind} '{ref.value}'")
        return person

    def view(self, workspace_id: int, ref: Reference) -> PersonView:
        person = self.get(workspace_id, ref)
        assert person.pk is not None
        return PersonView(
            person=person,
            devices=self.reader.devices(workspace_id, person.pk),
            anonymous_ids=self.reader.anonymous_ids(workspace_id, person.pk),
            relationships=self.reader.relationships(workspace_id, person.pk),
        )

    def with_email(self, workspace_id: int, email: str) -> list[Person]:
        return self.reader.people_with_email(workspace_id, fold_email(email))

    def people(self, workspace_id: int, f: Filter | None = None) -> Iterator[Person]:
        """Every person (matching `f`) oldest first, streamed from the database."""
        return self.reader.people(workspace_id, f)

    def search(
        self, workspace_id: int, f: Filter, start: str, limit: int
    ) -> tuple[list[Person], str]:
        """A keyset page of the people matching `f` by row number, and the `next` cursor: given
        whenever the page is full, so the page after the last match may be empty; "" after it.
        Reading no further than the page keeps a sparse filter from scanning to the end."""
        found = self.reader.page_people(workspace_id, f, _after_pk(start), limit)
        return found, cursors.encode([found[-1].pk]) if len(found) == limit else ""

    def events(self, workspace_id: int, cio_id: str | None) -> Iterator[Event]:
        """A person's events (the anonymous ones with None) oldest first, streamed."""
        if cio_id is None:
            return self.reader.events(workspace_id, None)
        person = self.reader.person(workspace_id, "cio_id", cio_id)
        return self.reader.events(workspace_id, person.pk) if person and person.pk else iter(())

    def devices(self, workspace_id: int, cio_id: str) -> list[Device]:
        person = self.reader.person(workspace_id, "cio_id", cio_id)
        return self.reader.devices(workspace_id, person.pk) if person and person.pk else []

    def anonymous_ids(self, workspace_id: int, cio_id: str) -> list[str]:
        person = self.reader.person(workspace_id, "cio_id", cio_id)
        return self.reader.anonymous_ids(workspace_id, person.pk) if person and person.pk else []

    def activities(
        self,
        workspace_id: int,
        ref: Reference,
        type_: str | None = None,
        after: tuple[float, str, int] | None = None,
        limit: int = 50,
        deleted: bool = False,
    ) -> tuple[Person | None, list[tuple[str, Activity]]]:
        """A person's activities newest first, each with its source ("a" the activity log,
        "e" events), up to limit + 1 of them after the keyset cursor `after`; with `deleted`,
        what is left of a deleted person (its profile_delete entry), found by cio_id."""
        if deleted:
            if ref.kind != "cio_id":
                raise NotFound("deleted people are found by a cio_ reference only")
            found = self.reader.activities(workspace_id, None, ref.value, type_, after, limit)
            if not found and after is None:
                raise NotFound(f"no deleted person with cio_id '{ref.value}'")
            return None, found
        person = self.get(workspace_id, ref)
        return person, self.reader.activities(
            workspace_id, person.pk, person.cio_id, type_, after, limit
        )

    def object(
        self,
        workspace_id: int,
        object_type_id: str,
        object_id: str,
        start: str = "",
        limit: int = OBJECT_LIMIT,
    ) -> tuple[dict[str, Any], str]:
        """An object and a page of whom it is related to (people first, then anonymous ids),
        with the cursor of the next page ("" after the last)."""
        found = self.reader.object_view(
            workspace_id, object_type_id, object_id, _related_after(start), limit
        )
        if found is None:
            raise NotFound(f"no object {object_type_id}/{object_id}")
        view, last = found
        return view, _related_cursor(last) if last is not None else ""

    def ingestion_log(
        self, workspace_id: int, start: str, limit: int
    ) -> tuple[list[dict[str, Any]], str]:
        """A page of the ingestion log, newest first, and the `next` cursor ("" after the
        last). The cursor is the last entry's row number in decimal (docs/api.md §5)."""
        rows = self.reader.ingestion_log(workspace_id, _log_cursor(start), limit)
        return rows, str(rows[-1]["pk"]) if len(rows) == limit else ""


_LARGEST_KEY = 2**63 - 1


def _log_cursor(start: str) -> int | None:
    """An ingestion-log `start` as a row number, None when absent. Only ASCII digits pass
    (`str.isdigit` would let "²" through to `int()`) and only within 64 bits."""
    if not start:
        return None
    if not (start.isascii() and start.isdigit()) or int(start) > _LARGEST_KEY:
        raise cursors.refused()
    return int(start)


def _after_pk(start: str) -> int | None:
    """The row number a people-search cursor holds; anything roster could not have answered as
    `next` is a 400 naming `start`."""
    match cursors.decode(start):
        case None:
            return None
        case [int() as pk] if not isinstance(pk, bool) and 0 <= pk <= _LARGEST_KEY:
            return pk
        case _:
            raise cursors.refused()


# Characters of an anonymous id kept in a cursor when the whole id does not fit in one.
_PREFIX = 150


def _related_cursor(last: RelatedAfter) -> str:
    """The `next` cursor after an object's related person or anonymous id. An anonymous id too
    long for a cursor is held by a prefix that fits, and the next page begins after every
    anonymous id that starts with it."""
    part, value = last
    whole = cursors.encode([part, value])
    if part == "p" or len(whole) <= cursors.MAX_CHARS:
        return whole
    text = str(value)
    length = min(_PREFIX, len(text))
    while True:  # fewer characters when they take several bytes each
        cursor = cursors.encode(["A", text[:length]])
        if len(cursor) <= cursors.MAX_CHARS or length == 1:
            return cursor
        length -= 1


def _related_after(start: str) -> RelatedAfter | None:
    """Where an object's page begins, from a cursor _related_cursor made; anything else is a
    400 naming `start`."""
    match cursors.decode(start):
        case None:
            return None
        case ["p", int() as pk] if not isinstance(pk, bool) and 0 <= pk <= _LARGEST_KEY:
            return "p", pk
        case ["a" | "A" as part, str() as value] if value and "\x00" not in value:
            return part, value  # no stored anonymous id has a NUL: PostgreSQL cannot hold it
        case _:
            raise cursors.refused()
