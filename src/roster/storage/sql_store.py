"""The identity rules' Store port over SQL, for one workspace inside the writer's transaction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from roster.domain.people import Activity, Device, Event, Person
from roster.storage.tables import (
    activities,
    devices,
    events,
    identifiers,
    people,
    relationships,
    suppressions,
)

_PERSON_COLUMNS = (
    people.c.pk,
    people.c.cio_id,
    people.c.id,
    people.c.email,
    people.c.attributes,
    people.c.attribute_times,
    people.c.created_in_roster_at,
    people.c.updated_at,
)


def person_from_row(row: sa.Row[Any]) -> Person:
    return Person(
        pk=row.pk,
        cio_id=row.cio_id,
        id=row.id,
        email=row.email,
        attributes=dict(row.attributes),
        attribute_times=dict(row.attribute_times),
        created_in_roster_at=row.created_in_roster_at,
        updated_at=row.updated_at,
    )


def _fold(email: str | None) -> str | None:
    return email.strip().casefold() if email is not None else None


class SqlStore:
    """One workspace's people, read and written through one connection.

    On PostgreSQL every person row read here is locked (FOR UPDATE) until the transaction ends,
    so two server processes cannot interleave read-modify-write of one person.
    """

    def __init__(self, connection: sa.Connection, workspace_id: int, now: float) -> None:
        self.c = connection
        self.ws = workspace_id
        self.now = now
        self._lock_rows = connection.dialect.name == "postgresql"
        self._any_suppressed: bool | None = None

    def _one_person(self, query: sa.Select[Any]) -> Person | None:
        if self._lock_rows:
            query = query.with_for_update(of=people)
        row = self.c.execute(query).first()
        return person_from_row(row) if row is not None else None

    # -- people and identifiers -------------------------------------------------------------------

    def person_by_identifier(self, kind: str, value: str) -> Person | None:
        return self._one_person(
            sa.select(*_PERSON_COLUMNS)
            .select_from(identifiers.join(people, people.c.pk == identifiers.c.person_pk))
            .where(
                identifiers.c.workspace_id == self.ws,
                identifiers.c.kind == kind,
                identifiers.c.value == value,
            )
        )

    def person_by_cio_id(self, cio_id: str) -> Person | None:
        return self._one_person(
            sa.select(*_PERSON_COLUMNS).where(
                people.c.workspace_id == self.ws, people.c.cio_id == cio_id
            )
        )

    def person_by_pk(self, pk: int) -> Person | None:
        return self._one_person(
            sa.select(*_PERSON_COLUMNS).where(people.c.workspace_id == self.ws, people.c.pk == pk)
        )

    def _values(self, person: Person) -> dict[str, Any]:
        return {
            "id": person.id,
            "email": person.email,
            "email_folded": _fold(person.email),
            "attributes": person.attributes,
            "attribute_times": person.attribute_times,
            "created_in_roster_at": person.created_in_roster_at,
            "updated_at": person.updated_at,
        }

    def add_person(self, person: Person) -> Person:
        result = self.c.execute(
            people.insert().values(
                workspace_id=self.ws, cio_id=person.cio_id, **self._values(person)
            )
        )
        person.pk = result.inserted_primary_key[0]  # type: ignore[index]
        return person

    def save_person(self, person: Person) -> None:
        self.c.execute(
            people.update()
            .where(people.c.workspace_id == self.ws, people.c.pk == person.pk)
            .values(**self._values(person))
        )

    def remove_person(self, person: Person) -> None:
        self.c.execute(
            identifiers.delete().where(
                identifiers.c.workspace_id == self.ws, identifiers.c.person_pk == person.pk
            )
        )
        self.c.execute(
            people.delete().where(people.c.workspace_id == self.ws, people.c.pk == person.pk)
        )

    def cio_id_taken(self, cio_id: str) -> bool:
        query = sa.select(people.c.pk).where(
            people.c.workspace_id == self.ws, people.c.cio_id == cio_id
        )
        retired = sa.select(activities.c.pk).where(
            activities.c.workspace_id == self.ws, activities.c.cio_id == cio_id
        )
        return bool(
            self.c.execute(sa.select(sa.or_(sa.exists(query), sa.exists(retired)))).scalar_one()
        )

    def identifier_owner(self, kind: str, value: str) -> int | None:
        return self.c.execute(
            sa.select(identifiers.c.person_pk).where(
                identifiers.c.workspace_id == self.ws,
                identifiers.c.kind == kind,
                identifiers.c.value == value,
            )
        ).scalar_one_or_none()

    def set_identifier(self, kind: str, value: str, person_pk: int) -> None:
        self.c.execute(
            identifiers.insert().values(
                workspace_id=self.ws, kind=kind, value=value, person_pk=person_pk
            )
        )

    def remove_identifier(self, kind: str, value: str) -> None:
        self.c.execute(
            identifiers.delete().where(
                identifiers.c.workspace_id == self.ws,
                identifiers.c.kind == kind,
                identifiers.c.value == value,
            )
        )

    def anonymous_ids_of(self, person_pk: int) -> list[str]:
        return list(
            self.c.execute(
                sa.select(identifiers.c.value).where(
                    identifiers.c.workspace_id == self.ws,
                    identifiers.c.person_pk == person_pk,
                    identifiers.c.kind == "anonymous_id",
                )
            ).scalars()
        )

    # -- events -----------------------------------------------------------------------------------

    def event_id_seen(self, event_id: str) -> bool:
        return (
            self.c.execute(
                sa.select(events.c.pk).where(
                    events.c.workspace_id == self.ws, events.c.event_id == event_id
                )
            ).first()
            is not None
        )

    def add_event(self, event: Event) -> None:
        result = self.c.execute(
            events.insert().values(
                workspace_id=self.ws,
                event_id=event.event_id,
                person_pk=event.person_pk,
                anonymous_id=event.anonymous_id,
                type=event.type,
                name=event.name,
                data=event.data,
                timestamp=event.timestamp,
                received_at=self.now,
            )
        )
        event.pk = result.inserted_primary_key[0]  # type: ignore[index]

    def attach_anonymous_events(self, anonymous_id: str, person_pk: int) -> int:
        result = self.c.execute(
            events.update()
            .where(
                events.c.workspace_id == self.ws,
                events.c.anonymous_id == anonymous_id,
                events.c.person_pk.is_(None),
            )
            .values(person_pk=person_pk)
        )
        return result.rowcount

    # -- devices ----------------------------------------------------------------------------------

    def device(self, token: str) -> Device | None:
        row = self.c.execute(
            sa.select(devices).where(devices.c.workspace_id == self.ws, devices.c.token == token)
        ).first()
        if row is None:
            return None
        return Device(
            token=row.token,
            person_pk=row.person_pk,
            platform=row.platform,
            last_used=row.last_used,
            attributes=dict(row.attributes),
        )

    def save_device(self, device: Device) -> None:
        self.remove_device(device.token)
        self.c.execute(
            devices.insert().values(
                workspace_id=self.ws,
                token=device.token,
                person_pk=device.person_pk,
                platform=device.platform,
                last_used=device.last_used,
                attributes=device.attributes,
            )
        )

    def remove_device(self, token: str) -> None:
        self.c.execute(
            devices.delete().where(devices.c.workspace_id == self.ws, devices.c.token == token)
        )

    # -- relationships ----------------------------------------------------------------------------

    def add_relationship(
        self, person_pk: int, object_type_id: str, object_id: str, attributes: dict[str, Any]
    ) -> None:
        where = (
            relationships.c.workspace_id == self.ws,
            relationships.c.person_pk == person_pk,
            relationships.c.object_type_id == object_type_id,
            relationships.c.object_id == object_id,
        )
        current = self.c.execute(sa.select(relationships.c.attributes).where(*where)).first()
        if current is None:
            self.c.execute(
                relationships.insert().values(
                    workspace_id=self.ws,
                    person_pk=person_pk,
                    object_type_id=object_type_id,
                    object_id=object_id,
                    attributes=attributes,
                )
            )
        else:
            merged = {**current.attributes, **attributes}
            merged = {k: v for k, v in merged.items() if v is not None and v != ""}
            self.c.execute(relationships.update().where(*where).values(attributes=merged))

    # -- whole-person moves and removals ----------------------------------------------------------

    def _pks(self, table: sa.Table, key: sa.ColumnElement[Any], person_pk: int) -> list[Any]:
        return list(
            self.c.execute(
                sa.select(key).where(
                    table.c.workspace_id == self.ws, table.c.person_pk == person_pk
                )
            ).scalars()
        )

    def move_belongings(self, from_pk: int, to_pk: int) -> dict[str, list[Any]]:
        moved: dict[str, list[Any]] = {
            "events": self._pks(events, events.c.pk, from_pk),
            "anonymous_ids": self.anonymous_ids_of(from_pk),
            "devices": self._pks(devices, devices.c.token, from_pk),
            "activities": self._pks(activities, activities.c.pk, from_pk),
            "relationships": [
                {"object_type_id": row.object_type_id, "object_id": row.object_id}
                for row in self.c.execute(
                    sa.select(relationships.c.object_type_id, relationships.c.object_id).where(
                        relationships.c.workspace_id == self.ws,
                        relationships.c.person_pk == from_pk,
                    )
                )
            ],
        }
        for table in (events, devices, activities):
            self.c.execute(
                table.update()
                .where(table.c.workspace_id == self.ws, table.c.person_pk == from_pk)
                .values(person_pk=to_pk)
            )
        self.c.execute(
            identifiers.update()
            .where(
                identifiers.c.workspace_id == self.ws,
                identifiers.c.person_pk == from_pk,
                identifiers.c.kind == "anonymous_id",
            )
            .values(person_pk=to_pk)
        )
        for rel in moved["relationships"]:
            attributes: dict[str, Any] = self.c.execute(
                sa.select(relationships.c.attributes).where(
                    relationships.c.workspace_id == self.ws,
                    relationships.c.person_pk == from_pk,
                    relationships.c.object_type_id == rel["object_type_id"],
                    relationships.c.object_id == rel["object_id"],
                )
            ).scalar_one()
            self.add_relationship(to_pk, rel["object_type_id"], rel["object_id"], attributes)
        self.c.execute(
            relationships.delete().where(
                relationships.c.workspace_id == self.ws, relationships.c.person_pk == from_pk
            )
        )
        return moved

    def remove_belongings(self, person_pk: int) -> None:
        for table in (events, devices, relationships, activities, identifiers):
            self.c.execute(
                table.delete().where(
                    table.c.workspace_id == self.ws, table.c.person_pk == person_pk
                )
            )

    # -- activity log -----------------------------------------------------------------------------

    def add_activity(self, activity: Activity) -> None:
        self.c.execute(
            activities.insert().values(
                workspace_id=self.ws,
                person_pk=activity.person_pk,
                cio_id=activity.cio_id,
                type=activity.type,
                name=activity.name,
                data=activity.data,
                timestamp=activity.timestamp,
            )
        )

    # -- suppression list -------------------------------------------------------------------------

    def suppressed(self, hashes: list[str]) -> str | None:
        # SQLite has one writer, so "the list is empty" stays true for the whole batch; with
        # several PostgreSQL processes another may add to the list at any time.
        if self._any_suppressed is None and not self._lock_rows:
            self._any_suppressed = (
                self.c.execute(
                    sa.select(suppressions.c.hash)
                    .where(suppressions.c.workspace_id == self.ws)
                    .limit(1)
                ).first()
                is not None
            )
        if self._any_suppressed is False:
            return None
        return self.c.execute(
            sa.select(suppressions.c.hash)
            .where(suppressions.c.workspace_id == self.ws, suppressions.c.hash.in_(hashes))
            .limit(1)
        ).scalar_one_or_none()

    def add_suppressions(self, hashes: list[str]) -> None:
        group = hashes[0]
        for hash_ in dict.fromkeys(hashes):
            self.c.execute(
                suppressions.delete().where(
                    suppressions.c.workspace_id == self.ws, suppressions.c.hash == hash_
                )
            )
            self.c.execute(
                suppressions.insert().values(
                    workspace_id=self.ws, hash=hash_, group_hash=group, created_at=self.now
                )
            )
        self._any_suppressed = True

    def remove_suppression_group(self, hash_: str) -> int:
        group = self.c.execute(
            sa.select(suppressions.c.group_hash).where(
                suppressions.c.workspace_id == self.ws, suppressions.c.hash == hash_
            )
        ).scalar_one_or_none()
        if group is None:
            return 0
        return self.c.execute(
            suppressions.delete().where(
                suppressions.c.workspace_id == self.ws, suppressions.c.group_hash == group
            )
        ).rowcount
