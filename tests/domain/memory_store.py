"""The Store port in memory, for the domain's own tests: plain dicts and lists.

It behaves like storage/sql_store.py where the identity rules can tell: people come back as fresh
copies (so a change the domain forgets to save is lost, as it would be in SQL), identifier values
are unique per kind (a second owner is an integrity error, like the unique constraint), and
event ids count as seen while an event with that id is stored (the unique `(workspace, event_id)`
constraint of the events table).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import Any, TypeVar

from roster.domain.merge_record import MergeRecord
from roster.domain.objects import merge_attributes
from roster.domain.operations import Relationship as HeldRelationship
from roster.domain.people import Activity, Device, Event, Person

T = TypeVar("T")


def clone(value: T) -> T:
    """A deep copy (pickle is several times faster than copy.deepcopy on dataclasses)."""
    copied: T = pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    return copied


class IntegrityError(AssertionError):
    """What a unique or foreign-key constraint would have refused."""


@dataclass
class Relationship:
    person_pk: int
    object_type_id: str
    object_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class State:
    people: dict[int, Person] = field(default_factory=dict)
    identifiers: dict[tuple[str, str], int] = field(default_factory=dict)
    events: dict[int, Event] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    relationships: list[Relationship] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    suppressions: dict[str, str] = field(default_factory=dict)  # hash -> its group's hash
    issued_cio_ids: set[str] = field(default_factory=set)
    objects: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # (anonymous_id, object_type_id, object_id) -> relationship attributes
    anonymous_relationships: dict[tuple[str, str, str], dict[str, Any]] = field(
        default_factory=dict
    )
    merges: dict[int, MergeRecord] = field(default_factory=dict)
    # The merge that first moved each event (the SQL store's events.merge_id column).
    event_merges: dict[int, int] = field(default_factory=dict)
    last_pk: int = 0


class MemoryStore:
    """One workspace's people, in memory."""

    def __init__(self) -> None:
        self.state = State()

    # -- transactions (what a savepoint gives the SQL store) ---------------------------------------

    def snapshot(self) -> State:
        return clone(self.state)

    def restore(self, snapshot: State) -> None:
        self.state = clone(snapshot)

    def _next_pk(self) -> int:
        self.state.last_pk += 1
        return self.state.last_pk

    # -- people and identifiers --------------------------------------------------------------------

    def person_by_identifier(self, kind: str, value: str) -> Person | None:
        pk = self.state.identifiers.get((kind, value))
        return self.person_by_pk(pk) if pk is not None else None

    def person_by_cio_id(self, cio_id: str) -> Person | None:
        for person in self.state.people.values():
            if person.cio_id == cio_id:
                return clone(person)
        return None

    def person_by_pk(self, pk: int) -> Person | None:
        person = self.state.people.get(pk)
        return clone(person) if person is not None else None

    def add_person(self, person: Person) -> Person:
        if person.cio_id in self.state.issued_cio_ids:
            raise IntegrityError(f"cio_id {person.cio_id} was issued before")
        person.pk = self._next_pk()
        self.state.people[person.pk] = clone(person)
        self.state.issued_cio_ids.add(person.cio_id)
        return person

    def save_person(self, person: Person) -> None:
        assert person.pk is not None
        if person.pk not in self.state.people:
            raise IntegrityError(f"person {person.pk} is not stored")
        self.state.people[person.pk] = clone(person)

    def remove_person(self, person: Person) -> None:
        assert person.pk is not None
        self.state.identifiers = {
            key: pk for key, pk in self.state.identifiers.items() if pk != person.pk
        }
        self.state.people.pop(person.pk, None)

    def cio_id_taken(self, cio_id: str) -> bool:
        return cio_id in self.state.issued_cio_ids

    def identifier_owner(self, kind: str, value: str) -> int | None:
        return self.state.identifiers.get((kind, value))

    def set_identifier(self, kind: str, value: str, person_pk: int) -> None:
        holder = self.state.identifiers.get((kind, value))
        if holder is not None and holder != person_pk:
            raise IntegrityError(f"{kind} '{value}' already belongs to person {holder}")
        if person_pk not in self.state.people:
            raise IntegrityError(f"person {person_pk} is not stored")
        self.state.identifiers[(kind, value)] = person_pk

    def remove_identifier(self, kind: str, value: str) -> None:
        self.state.identifiers.pop((kind, value), None)

    def anonymous_ids_of(self, person_pk: int) -> list[str]:
        return sorted(
            value
            for (kind, value), pk in self.state.identifiers.items()
            if kind == "anonymous_id" and pk == person_pk
        )

    # -- events ------------------------------------------------------------------------------------

    def event_id_seen(self, event_id: str) -> bool:
        return any(event.event_id == event_id for event in self.state.events.values())

    def add_event(self, event: Event) -> bool:
        if event.event_id is not None and self.event_id_seen(event.event_id):
            return False
        event.pk = self._next_pk()
        self.state.events[event.pk] = clone(event)
        return True

    def attach_anonymous_events(self, anonymous_id: str, person_pk: int) -> int:
        count = 0
        for event in self.state.events.values():
            if event.anonymous_id == anonymous_id and event.person_pk is None:
                event.person_pk = person_pk
                count += 1
        return count

    # -- devices -----------------------------------------------------------------------------------

    def device(self, token: str) -> Device | None:
        device = self.state.devices.get(token)
        return clone(device) if device is not None else None

    def save_device(self, device: Device) -> None:
        self.state.devices[device.token] = clone(device)

    def remove_device(self, token: str) -> None:
        self.state.devices.pop(token, None)

    # -- relationships -----------------------------------------------------------------------------

    def add_relationship(
        self, person_pk: int, object_type_id: str, object_id: str, attributes: dict[str, Any]
    ) -> None:
        for rel in self.state.relationships:
            if (rel.person_pk, rel.object_type_id, rel.object_id) == (
                person_pk,
                object_type_id,
                object_id,
            ):
                rel.attributes = merge_attributes(rel.attributes, attributes)
                return
        self.state.relationships.append(
            Relationship(person_pk, object_type_id, object_id, clone(attributes))
        )

    def remove_relationship(self, person_pk: int, object_type_id: str, object_id: str) -> bool:
        key = (person_pk, object_type_id, object_id)
        before = len(self.state.relationships)
        self.state.relationships = [
            r
            for r in self.state.relationships
            if (r.person_pk, r.object_type_id, r.object_id) != key
        ]
        return len(self.state.relationships) < before

    def add_anonymous_relationship(
        self, anonymous_id: str, object_type_id: str, object_id: str, attributes: dict[str, Any]
    ) -> None:
        key = (anonymous_id, object_type_id, object_id)
        self.state.anonymous_relationships[key] = merge_attributes(
            self.state.anonymous_relationships.get(key, {}), clone(attributes)
        )

    def remove_anonymous_relationship(
        self, anonymous_id: str, object_type_id: str, object_id: str
    ) -> bool:
        key = (anonymous_id, object_type_id, object_id)
        return self.state.anonymous_relationships.pop(key, None) is not None

    def attach_anonymous_relationships(self, anonymous_id: str, person_pk: int) -> int:
        waiting = [k for k in self.state.anonymous_relationships if k[0] == anonymous_id]
        for key in waiting:
            attributes = self.state.anonymous_relationships.pop(key)
            self.add_relationship(person_pk, key[1], key[2], attributes)
        return len(waiting)

    # -- objects -----------------------------------------------------------------------------------

    def object_attributes(self, object_type_id: str, object_id: str) -> dict[str, Any] | None:
        found = self.state.objects.get((object_type_id, object_id))
        return clone(found) if found is not None else None

    def save_object(self, object_type_id: str, object_id: str, attributes: dict[str, Any]) -> None:
        self.state.objects[(object_type_id, object_id)] = clone(attributes)

    def remove_object(self, object_type_id: str, object_id: str) -> bool:
        key = (object_type_id, object_id)
        self.state.relationships = [
            r for r in self.state.relationships if (r.object_type_id, r.object_id) != key
        ]
        self.state.anonymous_relationships = {
            k: v for k, v in self.state.anonymous_relationships.items() if (k[1], k[2]) != key
        }
        return self.state.objects.pop(key, None) is not None

    # -- whole-person moves and removals -----------------------------------------------------------

    def move_belongings(self, from_pk: int, to_pk: int, merge_id: int) -> None:
        state = self.state
        for pk, event in state.events.items():
            if event.person_pk == from_pk:
                event.person_pk = to_pk
                state.event_merges.setdefault(pk, merge_id)
        for device in state.devices.values():
            if device.person_pk == from_pk:
                device.person_pk = to_pk
        for activity in state.activities:
            if activity.person_pk == from_pk:
                activity.person_pk = to_pk
                if activity.merge_id is None:
                    activity.merge_id = merge_id
        for value in self.anonymous_ids_of(from_pk):
            state.identifiers[("anonymous_id", value)] = to_pk
        theirs = [r for r in state.relationships if r.person_pk == from_pk]
        state.relationships = [r for r in state.relationships if r.person_pk != from_pk]
        for rel in theirs:
            self.add_relationship(to_pk, rel.object_type_id, rel.object_id, rel.attributes)

    # -- merges ------------------------------------------------------------------------------------

    def add_merge(self, record: MergeRecord) -> int:
        record.pk = self._next_pk()
        self.state.merges[record.pk] = clone(record)
        return record.pk

    def latest_merge(self, primary_pk: int) -> MergeRecord | None:
        mine = [
            record
            for pk, record in sorted(self.state.merges.items())
            if record.primary_pk == primary_pk and record.undone_at is None
        ]
        return clone(mine[-1]) if mine else None

    def restore_person(self, person: Person) -> None:
        assert person.pk is not None
        if person.pk in self.state.people:
            raise IntegrityError(f"person {person.pk} is stored already")
        self.state.people[person.pk] = clone(person)

    def undo_merge(self, record: MergeRecord, now: float) -> None:
        state = self.state
        assert record.pk is not None and record.secondary.pk is not None
        wanted, frontier = {record.pk}, [record.secondary.pk]
        while frontier:
            person_pk = frontier.pop()
            for pk, earlier in state.merges.items():
                before = pk < record.pk and earlier.undone_at is None
                if before and earlier.primary_pk == person_pk:
                    wanted.add(pk)
                    assert earlier.secondary.pk is not None
                    frontier.append(earlier.secondary.pk)
        for pk, event in state.events.items():
            if event.person_pk == record.primary_pk and state.event_merges.get(pk) in wanted:
                event.person_pk = record.secondary.pk
        for activity in state.activities:
            mine = activity.person_pk == record.primary_pk and activity.merge_id in wanted
            own_entry = activity.person_pk is None and activity.merge_id == record.pk
            if mine or own_entry:
                activity.person_pk = record.secondary.pk
            if activity.merge_id == record.pk:
                activity.merge_id = None
        state.event_merges = {k: v for k, v in state.event_merges.items() if v != record.pk}
        state.merges[record.pk].undone_at = now

    def relationships_of(self, person_pk: int) -> list[HeldRelationship]:
        return sorted(
            (
                HeldRelationship(r.object_type_id, r.object_id, clone(r.attributes))
                for r in self.state.relationships
                if r.person_pk == person_pk
            ),
            key=lambda r: (r.object_type_id, r.object_id),
        )

    def devices_of(self, person_pk: int) -> list[Device]:
        return [
            clone(device)
            for _, device in sorted(self.state.devices.items())
            if device.person_pk == person_pk
        ]

    def remove_belongings(self, person_pk: int) -> None:
        state = self.state
        frontier = [person_pk]
        while frontier:
            into = frontier.pop()
            for pk, record in list(state.merges.items()):
                if record.primary_pk == into:
                    del state.merges[pk]
                    assert record.secondary.pk is not None
                    frontier.append(record.secondary.pk)
        state.events = {pk: e for pk, e in state.events.items() if e.person_pk != person_pk}
        state.devices = {t: d for t, d in state.devices.items() if d.person_pk != person_pk}
        state.relationships = [r for r in state.relationships if r.person_pk != person_pk]
        state.activities = [a for a in state.activities if a.person_pk != person_pk]
        state.identifiers = {k: pk for k, pk in state.identifiers.items() if pk != person_pk}

    # -- activity log ------------------------------------------------------------------------------

    def add_activity(self, activity: Activity) -> None:
        activity.pk = self._next_pk()
        self.state.activities.append(clone(activity))

    def flush(self) -> None:
        """Nothing is held back in memory."""

    # -- suppression list (hashes only) ------------------------------------------------------------

    def prefetch(self, kind: str, values: list[str]) -> None:
        """Nothing to fetch ahead in memory."""

    def may_have_suppressions(self) -> bool:
        return bool(self.state.suppressions)

    def suppressed(self, hashes: list[str]) -> str | None:
        for hash_ in hashes:
            if hash_ in self.state.suppressions:
                return hash_
        return None

    def add_suppressions(self, hashes: list[str]) -> None:
        group = hashes[0]
        for hash_ in hashes:
            self.state.suppressions[hash_] = group

    def remove_suppression_group(self, hash_: str) -> int:
        group = self.state.suppressions.get(hash_)
        if group is None:
            return 0
        members = [h for h, g in self.state.suppressions.items() if g == group]
        for member in members:
            del self.state.suppressions[member]
        return len(members)

    # -- looking inside (for the world, never for the rules) ---------------------------------------

    def check_integrity(self, emails_identify: bool) -> None:
        """What foreign keys and the identifier rows' meaning would guarantee in SQL."""
        state = self.state
        for (kind, value), pk in state.identifiers.items():
            if pk not in state.people:
                raise IntegrityError(f"{kind} '{value}' points at a removed person {pk}")
            person = state.people[pk]
            if kind == "id" and person.id != value:
                raise IntegrityError(f"id row '{value}' but the person's id is {person.id!r}")
            if kind == "email" and (person.email or "").strip().casefold() != value:
                raise IntegrityError(f"email row '{value}' but the person has {person.email!r}")
            if kind == "email" and not emails_identify:
                raise IntegrityError("email rows in an id_only workspace")
        for pk, person in state.people.items():
            if person.id is not None and state.identifiers.get(("id", person.id)) != pk:
                raise IntegrityError(f"person {person.cio_id} has id {person.id} without its row")
            if emails_identify and person.email is not None:
                folded = person.email.strip().casefold()
                if state.identifiers.get(("email", folded)) != pk:
                    raise IntegrityError(f"person {person.cio_id} has an email without its row")
        for event in state.events.values():
            if event.person_pk is not None and event.person_pk not in state.people:
                raise IntegrityError(f"event {event.pk} belongs to a removed person")
        for device in state.devices.values():
            if device.person_pk not in state.people:
                raise IntegrityError(f"device {device.token} belongs to a removed person")
        for rel in state.relationships:
            if rel.person_pk not in state.people:
                raise IntegrityError("a relationship belongs to a removed person")
        for activity in state.activities:
            if activity.person_pk is not None and activity.person_pk not in state.people:
                raise IntegrityError(f"activity {activity.type} belongs to a removed person")
