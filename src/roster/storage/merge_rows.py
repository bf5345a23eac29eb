"""The merges table and the moves a merge and an unmerge make (docs/identity.md I6.3, I6.4),
for SqlStore: what a merge moved is found by its id on the moved rows, never listed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from roster.domain.merge_record import AttributeChange, MergeRecord, PrimaryBefore
from roster.domain.operations import Relationship
from roster.domain.people import Device, Person
from roster.storage.statements import Cursor, dumps, loads, statement
from roster.storage.tables import merges

_INSERT_MERGE = statement(
    "INSERT INTO merges (workspace_id, primary_pk, secondary_pk, secondary_cio_id, reason, "
    "merged_at, secondary, primary_before) VALUES (:ws, :primary_pk, :secondary_pk, "
    ":secondary_cio_id, :reason, :merged_at, :secondary, :primary_before) RETURNING pk",
    json=("secondary", "primary_before"),
)
_LATEST_MERGE = statement(
    "SELECT pk, primary_pk, reason, merged_at, secondary, primary_before FROM merges "
    "WHERE workspace_id = :ws AND primary_pk = :pk AND undone_at IS NULL ORDER BY pk DESC LIMIT 1"
)
_EARLIER_MERGES_INTO = statement(
    "SELECT pk, secondary_pk FROM merges WHERE workspace_id = :ws AND primary_pk = :pk "
    "AND pk < :before AND undone_at IS NULL"
)
_MERGES_INTO = statement(
    "SELECT pk, secondary_pk FROM merges WHERE workspace_id = :ws AND primary_pk = :pk"
)
_DELETE_MERGE = statement("DELETE FROM merges WHERE workspace_id = :ws AND pk = :pk")
_MERGE_UNDONE = statement(
    "UPDATE merges SET undone_at = :now WHERE workspace_id = :ws AND pk = :pk"
)
_RESTORE_PERSON = statement(
    "INSERT INTO people (workspace_id, pk, cio_id, id, email, email_folded, attributes, "
    "attribute_times, created_in_roster_at, updated_at) VALUES (:ws, :pk, :cio_id, :id, :email, "
    ":email_folded, :attributes, :attribute_times, :created_in_roster_at, :updated_at)",
    json=("attributes", "attribute_times"),
)
_DEVICES_OF = statement(
    "SELECT token, person_pk, platform, last_used, attributes FROM devices "
    "WHERE workspace_id = :ws AND person_pk = :pk ORDER BY token"
)
_RELATIONSHIPS_OF = statement(
    "SELECT object_type_id, object_id, attributes FROM relationships "
    "WHERE workspace_id = :ws AND person_pk = :pk ORDER BY object_type_id, object_id"
)
_DELETE_RELATIONSHIPS_OF = statement(
    "DELETE FROM relationships WHERE workspace_id = :ws AND person_pk = :pk"
)
# A row keeps the first merge that moved it: a later merge moving it on (the primary merged
# into someone else) must not hide that it came from the first secondary.
_MOVE = {
    table: statement(
        f"UPDATE {table} SET person_pk = :to_pk, merge_id = COALESCE(merge_id, :merge_id) "
        "WHERE workspace_id = :ws AND person_pk = :from_pk"
    )
    for table in ("events", "activities")
}
_MOVE_DEVICES = statement(
    "UPDATE devices SET person_pk = :to_pk WHERE workspace_id = :ws AND person_pk = :from_pk"
)
_MOVE_ANONYMOUS_IDS = statement(
    "UPDATE identifiers SET person_pk = :to_pk WHERE workspace_id = :ws AND person_pk = :from_pk "
    "AND kind = 'anonymous_id'"
)
_GIVE_BACK = {
    table: statement(
        f"UPDATE {table} SET person_pk = :to_pk WHERE workspace_id = :ws "
        "AND person_pk = :from_pk AND merge_id = :merge_id"
    )
    for table in ("events", "activities")
}
_UNMARK = {
    table: statement(
        f"UPDATE {table} SET merge_id = NULL WHERE workspace_id = :ws AND merge_id = :merge_id"
    )
    for table in ("events", "activities")
}
_SECONDARYS_OWN_ENTRIES = statement(
    "UPDATE activities SET person_pk = :to_pk WHERE workspace_id = :ws "
    "AND person_pk IS NULL AND merge_id = :merge_id"
)


def _fold(email: str | None) -> str | None:
    return email.strip().casefold() if email is not None else None


def _relationship_json(rel: Relationship) -> dict[str, Any]:
    return {
        "object_type_id": rel.object_type_id,
        "object_id": rel.object_id,
        "attributes": rel.attributes,
    }


def _relationship(data: dict[str, Any]) -> Relationship:
    return Relationship(data["object_type_id"], data["object_id"], data["attributes"])


def secondary_json(record: MergeRecord) -> dict[str, Any]:
    person = record.secondary
    return {
        "pk": person.pk,
        "cio_id": person.cio_id,
        "id": person.id,
        "email": person.email,
        "attributes": person.attributes,
        "attribute_times": person.attribute_times,
        "created_in_roster_at": person.created_in_roster_at,
        "updated_at": person.updated_at,
        "anonymous_ids": record.anonymous_ids,
        "devices": [
            {
                "token": d.token,
                "platform": d.platform,
                "last_used": d.last_used,
                "attributes": d.attributes,
            }
            for d in record.devices
        ],
        "relationships": [_relationship_json(r) for r in record.relationships],
    }


def primary_before_json(before: PrimaryBefore) -> dict[str, Any]:
    return {
        "attributes": {
            name: {
                "had": change.had,
                "value": change.value,
                "time": change.time,
                "merged_value": change.merged_value,
                "merged_time": change.merged_time,
            }
            for name, change in before.attributes.items()
        },
        "taken": before.taken,
        "replaced": before.replaced,
        "created_in_roster_at": before.created_in_roster_at,
        "merged_created_in_roster_at": before.merged_created_in_roster_at,
        "relationships": [_relationship_json(r) for r in before.relationships],
    }


def record_from(
    pk: int, primary_pk: int, reason: str, merged_at: float, secondary: Any, before: Any
) -> MergeRecord:
    image, old = loads(secondary), loads(before)
    person = Person(
        pk=image["pk"],
        cio_id=image["cio_id"],
        id=image["id"],
        email=image["email"],
        attributes=image["attributes"],
        attribute_times=image["attribute_times"],
        created_in_roster_at=image["created_in_roster_at"],
        updated_at=image["updated_at"],
    )
    return MergeRecord(
        pk=pk,
        primary_pk=primary_pk,
        secondary=person,
        anonymous_ids=image["anonymous_ids"],
        devices=[
            Device(d["token"], image["pk"], d["platform"], d["last_used"], d["attributes"])
            for d in image["devices"]
        ],
        relationships=[_relationship(r) for r in image["relationships"]],
        primary_before=PrimaryBefore(
            attributes={
                name: AttributeChange(**change) for name, change in old["attributes"].items()
            },
            taken=old["taken"],
            # Records written before merges could replace an identifier have no "replaced".
            replaced=old.get("replaced", {}),
            created_in_roster_at=old["created_in_roster_at"],
            merged_created_in_roster_at=old["merged_created_in_roster_at"],
            relationships=[_relationship(r) for r in old["relationships"]],
        ),
        reason=reason,
        merged_at=merged_at,
    )


_RECORD_COLUMNS = (
    merges.c.pk,
    merges.c.primary_pk,
    merges.c.reason,
    merges.c.merged_at,
    merges.c.secondary,
    merges.c.primary_before,
)


def read_merge(
    engine: sa.Engine,
    workspace_id: int,
    *,
    merge_id: int | None = None,
    primary_pk: int | None = None,
) -> MergeRecord | None:
    """One merge record, read beside the writer: by its id, or the latest not undone into a
    person (what an unmerge would undo)."""
    query = sa.select(*_RECORD_COLUMNS, merges.c.undone_at).where(
        merges.c.workspace_id == workspace_id
    )
    if merge_id is not None:
        query = query.where(merges.c.pk == merge_id)
    if primary_pk is not None:
        query = query.where(merges.c.primary_pk == primary_pk, merges.c.undone_at.is_(None))
    with engine.connect() as connection:
        row = connection.execute(query.order_by(merges.c.pk.desc()).limit(1)).first()
    if row is None:
        return None
    record = record_from(*row[:6])
    record.undone_at = row.undone_at
    return record


class MergeRows:
    """The Store port's merge methods; SqlStore mixes them in."""

    sql: Cursor
    ws: int
    _people: dict[int, Person]

    if TYPE_CHECKING:

        def flush(self) -> None: ...
        def written(self, person: Person) -> None: ...
        def add_relationship(
            self, person_pk: int, object_type_id: str, object_id: str, attributes: dict[str, Any]
        ) -> None: ...

    def devices_of(self, person_pk: int) -> list[Device]:
        return [
            Device(token, pk, platform, last_used, loads(attributes))
            for token, pk, platform, last_used, attributes in self.sql.all(
                _DEVICES_OF, {"ws": self.ws, "pk": person_pk}
            )
        ]

    def relationships_of(self, person_pk: int) -> list[Relationship]:
        rows = self.sql.all(_RELATIONSHIPS_OF, {"ws": self.ws, "pk": person_pk})
        return [
            Relationship(type_id, object_id, loads(attrs)) for type_id, object_id, attrs in rows
        ]

    def move_belongings(self, from_pk: int, to_pk: int, merge_id: int) -> None:
        self.flush()
        move = {"ws": self.ws, "from_pk": from_pk, "to_pk": to_pk, "merge_id": merge_id}
        for stmt in _MOVE.values():
            self.sql.run(stmt, move)
        self.sql.run(_MOVE_DEVICES, move)
        self.sql.run(_MOVE_ANONYMOUS_IDS, move)
        for rel in self.relationships_of(from_pk):
            self.add_relationship(to_pk, rel.object_type_id, rel.object_id, rel.attributes)
        self.sql.run(_DELETE_RELATIONSHIPS_OF, {"ws": self.ws, "pk": from_pk})

    def add_merge(self, record: MergeRecord) -> int:
        row = self.sql.one(
            _INSERT_MERGE,
            {
                "ws": self.ws,
                "primary_pk": record.primary_pk,
                "secondary_pk": record.secondary.pk,
                "secondary_cio_id": record.secondary.cio_id,
                "reason": record.reason,
                "merged_at": record.merged_at,
                "secondary": dumps(secondary_json(record)),
                "primary_before": dumps(primary_before_json(record.primary_before)),
            },
        )
        assert row is not None
        record.pk = row[0]
        return record.pk

    def latest_merge(self, primary_pk: int) -> MergeRecord | None:
        row = self.sql.one(_LATEST_MERGE, {"ws": self.ws, "pk": primary_pk})
        return record_from(*row) if row is not None else None

    def restore_person(self, person: Person) -> None:
        assert person.pk is not None
        self.sql.run(
            _RESTORE_PERSON, {"pk": person.pk, "cio_id": person.cio_id, **self._values(person)}
        )
        self._people[person.pk] = person
        self.written(person)

    def _values(self, person: Person) -> dict[str, Any]:
        """A person's row as the statements that write people name its columns."""
        return {
            "ws": self.ws,
            "id": person.id,
            "email": person.email,
            "email_folded": _fold(person.email),
            "attributes": dumps(person.attributes),
            "attribute_times": dumps(person.attribute_times),
            "created_in_roster_at": person.created_in_roster_at,
            "updated_at": person.updated_at,
        }

    def undo_merge(self, record: MergeRecord, now: float) -> None:
        assert record.pk is not None and record.secondary.pk is not None
        self.flush()
        back = {"ws": self.ws, "from_pk": record.primary_pk, "to_pk": record.secondary.pk}
        # Rows of people merged into the secondary before carry those merges' ids: they go
        # back with it (it takes them along, as the merge did).
        wanted, frontier = [record.pk], [record.secondary.pk]
        while frontier:
            person_pk = frontier.pop()
            for merge_pk, secondary_pk in self.sql.all(
                _EARLIER_MERGES_INTO, {"ws": self.ws, "pk": person_pk, "before": record.pk}
            ):
                wanted.append(merge_pk)
                frontier.append(secondary_pk)
        for merge_id in wanted:
            for stmt in _GIVE_BACK.values():
                self.sql.run(stmt, {**back, "merge_id": merge_id})
        mark = {"ws": self.ws, "merge_id": record.pk, "to_pk": record.secondary.pk}
        self.sql.run(_SECONDARYS_OWN_ENTRIES, mark)
        for stmt in _UNMARK.values():
            self.sql.run(stmt, mark)
        self.sql.run(_MERGE_UNDONE, {"ws": self.ws, "pk": record.pk, "now": now})

    def remove_merges_into(self, person_pk: int) -> list[int]:
        """A deleted person's merge records go with it (docs/identity.md I9.1): they hold the
        before-images of the people it absorbed, and of the people those had absorbed. The row
        numbers of those absorbed people, whose other traces go too."""
        absorbed: list[int] = []
        frontier = [person_pk]
        while frontier:
            for merge_pk, secondary_pk in self.sql.all(
                _MERGES_INTO, {"ws": self.ws, "pk": frontier.pop()}
            ):
                self.sql.run(_DELETE_MERGE, {"ws": self.ws, "pk": merge_pk})
                frontier.append(secondary_pk)
                absorbed.append(secondary_pk)
        return absorbed
