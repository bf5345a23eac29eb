"""One person as the web UI's person page reads it (docs/web.md, "Person page"): the person
with their devices, relationships and anonymous ids (what the App API's
GET /v1/customers/{id}/attributes answers), a keyset page of their activity log (what
GET /v1/customers/{id}/activities answers) and whether a merge into them can be undone.

The activity cursor is the App API's: the (timestamp, source, pk) of the last entry a page
showed, never an offset."""

from __future__ import annotations

import math
from dataclasses import dataclass

from roster.domain import cursors
from roster.domain.errors import NotFound
from roster.domain.identifiers import Reference
from roster.domain.merge_record import MergeRecord
from roster.domain.people import Activity
from roster.services.lookups import Lookups, PersonView
from roster.storage.database import Database
from roster.storage.merge_rows import read_merge

TIMELINE_PAGE = 25
_LARGEST_KEY = 2**63 - 1
_LONGEST_CIO_ID = 200  # far longer than any cio_id roster makes

After = tuple[float, str, int]


def activity_after(start: str) -> After | None:
    """The keyset position (timestamp, source, pk) an activity cursor names; anything roster
    could not have answered as `next` (a key outside 64 bits, a source it has not, …) is an
    InvalidInput naming `start`."""
    match cursors.decode(start):
        case None:
            return None
        case [int() | float() as timestamp, "a" | "e" as source, int() as pk] if (
            not isinstance(timestamp, bool)
            and math.isfinite(timestamp)
            and not isinstance(pk, bool)
            and 0 <= pk <= _LARGEST_KEY
        ):
            return float(timestamp), source, pk
        case _:
            raise cursors.refused()


def activity_cursor(source: str, activity: Activity) -> str:
    """The cursor of the page that follows `activity` (older entries)."""
    return cursors.encode([activity.timestamp, source, activity.pk])


@dataclass(frozen=True)
class Profile:
    view: PersonView
    # Newest first, each with its source: "a" the activity log, "e" the person's events.
    timeline: list[tuple[str, Activity]]
    older: str  # the cursor of the next (older) page, "" when this is the last
    # The latest merge into this person not undone: what an unmerge would undo (I6.4).
    merge: MergeRecord | None

    @property
    def can_unmerge(self) -> bool:
        return self.merge is not None


def cio_reference(raw: str) -> Reference:
    """A person's cio_id as the UI's addresses carry it (with or without `cio_`); what cannot
    be one is NotFound, as an unknown one is."""
    value = raw.removeprefix("cio_")
    if not value or len(value) > _LONGEST_CIO_ID or "\x00" in value or not value.isprintable():
        raise NotFound(f"there is no person with cio_id '{raw[:60]}'")
    return Reference("cio_id", value)


class Profiles:
    def __init__(self, lookups: Lookups, database: Database) -> None:
        self.lookups = lookups
        self.database = database

    def view(self, workspace_id: int, cio_id: str) -> PersonView:
        """The person with this cio_id, with devices, relationships and anonymous ids; else
        NotFound (only a cio_id names them here, never an id that looks like one)."""
        ref = cio_reference(cio_id)
        person = self.lookups.reader.person(workspace_id, "cio_id", ref.value)
        if person is None:
            raise NotFound(f"there is no person with cio_id '{ref.value}'")
        return self.lookups.view(workspace_id, ref)

    def read(
        self, workspace_id: int, cio_id: str, start: str = "", limit: int = TIMELINE_PAGE
    ) -> Profile:
        """The person and one page of their timeline, starting after the cursor `start`."""
        after = activity_after(start)
        view = self.view(workspace_id, cio_id)
        person = view.person
        assert person.pk is not None
        ref = Reference("cio_id", person.cio_id)
        _, found = self.lookups.activities(workspace_id, ref, None, after, limit)
        page = found[:limit]
        older = activity_cursor(*page[-1]) if len(found) > limit else ""
        merge = read_merge(self.database.reader, workspace_id, primary_pk=person.pk)
        return Profile(view, page, older, merge)
