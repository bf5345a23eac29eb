"""The record a merge keeps (docs/identity.md I6.3) so that it can be undone (I6.4): the
secondary's whole before-image, and the primary's pre-merge values for exactly what the merge
changed. Storage keeps it as a row of the merges table; what moved is found by the merge's id on
the moved rows, so the record's size does not grow with the secondary's history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from roster.domain.identifiers import normalise
from roster.domain.operations import Relationship
from roster.domain.people import Device, Person


@dataclass
class AttributeChange:
    """One top-level attribute of the primary that a merge changed: what it was (absent when
    `had` is false) and what the merge made it, each with its I4.8 time when it had one."""

    had: bool
    value: Any
    time: float | None
    merged_value: Any
    merged_time: float | None


@dataclass
class PrimaryBefore:
    """The primary's pre-merge values, for what the merge changed and for nothing else."""

    attributes: dict[str, AttributeChange] = field(default_factory=dict)
    taken: list[str] = field(default_factory=list)  # identifier kinds it took from the secondary
    # Its own identifiers the merge replaced with the secondary's (Merge.replace), by kind, as
    # they were written: an unmerge gives them back. A taken kind not here: it had none.
    replaced: dict[str, str] = field(default_factory=dict)
    created_in_roster_at: int = 0
    merged_created_in_roster_at: int = 0
    # Its own attributes of the relationships the secondary had too (merged by the move).
    relationships: list[Relationship] = field(default_factory=list)


@dataclass
class MergeRecord:
    """One merge (I6.2, I6.3): the secondary as it was, and what the primary had before."""

    primary_pk: int
    secondary: Person  # the whole before-image, pk included: an unmerge brings back that row
    anonymous_ids: list[str]
    devices: list[Device]
    relationships: list[Relationship]
    primary_before: PrimaryBefore
    reason: str
    merged_at: float
    pk: int | None = None
    undone_at: float | None = None

    def identifiers(self, emails_identify: bool) -> list[tuple[str, str]]:
        """The secondary's identifiers as (kind, normalised value): what an unmerge gives back."""
        found: list[tuple[str, str]] = []
        if self.secondary.id is not None:
            found.append(("id", self.secondary.id))
        if self.secondary.email is not None and emails_identify:
            found.append(("email", normalise("email", self.secondary.email)))
        found.extend(("anonymous_id", value) for value in self.anonymous_ids)
        return found

    def replaced(self, emails_identify: bool) -> list[tuple[str, str]]:
        """The primary's own identifiers the merge replaced, as (kind, normalised value), of the
        kinds that identify: what an unmerge gives back to the primary."""
        return [
            (kind, normalise(kind, value))
            for kind, value in self.primary_before.replaced.items()
            if kind == "id" or emails_identify
        ]

    def given_back(self, emails_identify: bool) -> list[tuple[str, str]]:
        """Every identifier an unmerge gives back, to the secondary or to the primary: what it
        takes locks on (operations.Unmerge)."""
        return [*self.identifiers(emails_identify), *self.replaced(emails_identify)]


def copy_person(person: Person) -> Person:
    """A copy that shares no dict with the original."""
    return Person(
        pk=person.pk,
        cio_id=person.cio_id,
        id=person.id,
        email=person.email,
        attributes=dict(person.attributes),
        attribute_times=dict(person.attribute_times),
        created_in_roster_at=person.created_in_roster_at,
        updated_at=person.updated_at,
    )
