"""The identity rules' Store port over SQL, for one workspace inside the writer's transaction.

The statements run on the driver's cursor (storage/statements.py says why)."""

from __future__ import annotations

from typing import Any

from roster.domain.objects import merge_attributes
from roster.domain.people import Activity, Device, Event, Person
from roster.storage.merge_rows import MergeRows
from roster.storage.statements import Cursor, EventIdRace, dumps, loads, statement

_COLUMNS = (
    "p.pk, p.cio_id, p.id, p.email, p.attributes, p.attribute_times, "
    "p.created_in_roster_at, p.updated_at"
)
_BY_IDENTIFIER = statement(
    f"SELECT {_COLUMNS} FROM identifiers i JOIN people p ON p.pk = i.person_pk "
    "WHERE i.workspace_id = :ws AND i.kind = :kind AND i.value = :value",
    lock="p",
)
_BY_CIO_ID = statement(
    f"SELECT {_COLUMNS} FROM people p WHERE p.workspace_id = :ws AND p.cio_id = :cio", lock="p"
)
_BY_PK = statement(
    f"SELECT {_COLUMNS} FROM people p WHERE p.workspace_id = :ws AND p.pk = :pk", lock="p"
)
_PERSON_JSON = ("attributes", "attribute_times")
_INSERT_PERSON = statement(
    "INSERT INTO people (workspace_id, cio_id, id, email, email_folded, attributes, "
    "attribute_times, created_in_roster_at, updated_at) VALUES (:ws, :cio_id, :id, :email, "
    ":email_folded, :attributes, :attribute_times, :created_in_roster_at, :updated_at) "
    "RETURNING pk",
    json=_PERSON_JSON,
)
_UPDATE_PERSON = statement(
    "UPDATE people SET id = :id, email = :email, email_folded = :email_folded, "
    "attributes = :attributes, attribute_times = :attribute_times, "
    "created_in_roster_at = :created_in_roster_at, updated_at = :updated_at "
    "WHERE workspace_id = :ws AND pk = :pk",
    json=_PERSON_JSON,
)
# Most saves change only attributes: the row's indexed columns are then left alone, which spares
# SQLite deleting and re-inserting the person's entries in the people indexes.
_UPDATE_ATTRIBUTES = statement(
    "UPDATE people SET attributes = :attributes, attribute_times = :attribute_times, "
    "updated_at = :updated_at WHERE workspace_id = :ws AND pk = :pk",
    json=_PERSON_JSON,
)
_DELETE_PERSON = statement("DELETE FROM people WHERE workspace_id = :ws AND pk = :pk")
_CIO_ID_TAKEN = statement(
    "SELECT 1 FROM people WHERE workspace_id = :ws AND cio_id = :cio "
    "UNION ALL SELECT 1 FROM activities WHERE workspace_id = :ws AND cio_id = :cio LIMIT 1"
)
_OWNER = statement(
    "SELECT person_pk FROM identifiers WHERE workspace_id = :ws AND kind = :kind AND value = :value"
)
_INSERT_IDENTIFIER = statement(
    "INSERT INTO identifiers (workspace_id, kind, value, person_pk) "
    "VALUES (:ws, :kind, :value, :pk)"
)
_DELETE_IDENTIFIER = statement(
    "DELETE FROM identifiers WHERE workspace_id = :ws AND kind = :kind AND value = :value"
)
_ANONYMOUS_IDS = statement(
    "SELECT value FROM identifiers WHERE workspace_id = :ws AND person_pk = :pk "
    "AND kind = 'anonymous_id'"
)
_EVENT_ID_SEEN = statement("SELECT 1 FROM events WHERE workspace_id = :ws AND event_id = :event_id")
_INSERT_EVENT = statement(
    "INSERT INTO events (workspace_id, event_id, person_pk, anonymous_id, type, name, data, "
    "timestamp, received_at) VALUES (:ws, :event_id, :person_pk, :anonymous_id, :type, :name, "
    ":data, :timestamp, :received_at) ON CONFLICT (workspace_id, event_id) DO NOTHING RETURNING pk",
    json=("data",),
)
# A request's events whose event ids are known to be new, written together (flush). On
# PostgreSQL another server process may store one of them meanwhile (for another person, so
# under other advisory locks): the insert skips it and says which it wrote (EventIdRace).
_INSERT_EVENTS = statement(
    "INSERT INTO events (workspace_id, event_id, person_pk, anonymous_id, type, name, data, "
    "timestamp, received_at) VALUES (:ws, :event_id, :person_pk, :anonymous_id, :type, :name, "
    ":data, :timestamp, :received_at)",
    json=("data",),
)
_INSERT_EVENTS_RACING = statement(
    _INSERT_EVENTS.sqlite + " ON CONFLICT (workspace_id, event_id) DO NOTHING RETURNING event_id",
    json=("data",),
)
_EVENT_IDS_STORED = "SELECT event_id FROM events WHERE workspace_id = :ws AND event_id IN ({})"
_ATTACH_EVENTS = statement(
    "UPDATE events SET person_pk = :pk WHERE workspace_id = :ws "
    "AND anonymous_id = :anonymous_id AND person_pk IS NULL"
)
_DEVICE = statement(
    "SELECT token, person_pk, platform, last_used, attributes FROM devices "
    "WHERE workspace_id = :ws AND token = :token"
)
_INSERT_DEVICE = statement(
    "INSERT INTO devices (workspace_id, token, person_pk, platform, last_used, attributes) "
    "VALUES (:ws, :token, :pk, :platform, :last_used, :attributes)",
    json=("attributes",),
)
_DELETE_DEVICE = statement("DELETE FROM devices WHERE workspace_id = :ws AND token = :token")
_RELATIONSHIP_KEY = (
    "workspace_id = :ws AND person_pk = :pk AND object_type_id = :type AND object_id = :object"
)
_RELATIONSHIP = statement(f"SELECT attributes FROM relationships WHERE {_RELATIONSHIP_KEY}")
_INSERT_RELATIONSHIP = statement(
    "INSERT INTO relationships (workspace_id, person_pk, object_type_id, object_id, attributes) "
    "VALUES (:ws, :pk, :type, :object, :attributes)",
    json=("attributes",),
)
_UPDATE_RELATIONSHIP = statement(
    f"UPDATE relationships SET attributes = :attributes WHERE {_RELATIONSHIP_KEY}",
    json=("attributes",),
)
_DELETE_RELATIONSHIP = statement(f"DELETE FROM relationships WHERE {_RELATIONSHIP_KEY}")
_ANONYMOUS_KEY = (
    "workspace_id = :ws AND anonymous_id = :anonymous_id AND object_type_id = :type "
    "AND object_id = :object"
)
_ANONYMOUS_RELATIONSHIP = statement(
    f"SELECT attributes FROM anonymous_relationships WHERE {_ANONYMOUS_KEY}"
)
_INSERT_ANONYMOUS_RELATIONSHIP = statement(
    "INSERT INTO anonymous_relationships (workspace_id, anonymous_id, object_type_id, object_id, "
    "attributes) VALUES (:ws, :anonymous_id, :type, :object, :attributes)",
    json=("attributes",),
)
_UPDATE_ANONYMOUS_RELATIONSHIP = statement(
    f"UPDATE anonymous_relationships SET attributes = :attributes WHERE {_ANONYMOUS_KEY}",
    json=("attributes",),
)
_DELETE_ANONYMOUS_RELATIONSHIP = statement(
    f"DELETE FROM anonymous_relationships WHERE {_ANONYMOUS_KEY}"
)
_ANONYMOUS_RELATIONSHIPS_OF = statement(
    "SELECT object_type_id, object_id, attributes FROM anonymous_relationships "
    "WHERE workspace_id = :ws AND anonymous_id = :anonymous_id"
)
_DELETE_ANONYMOUS_RELATIONSHIPS_OF = statement(
    "DELETE FROM anonymous_relationships WHERE workspace_id = :ws AND anonymous_id = :anonymous_id"
)
_OBJECT_KEY = "workspace_id = :ws AND object_type_id = :type AND object_id = :object"
_OBJECT = statement(f"SELECT attributes FROM objects WHERE {_OBJECT_KEY}")
_INSERT_OBJECT = statement(
    "INSERT INTO objects (workspace_id, object_type_id, object_id, attributes, created_at, "
    "updated_at) VALUES (:ws, :type, :object, :attributes, :now, :now)",
    json=("attributes",),
)
_UPDATE_OBJECT = statement(
    f"UPDATE objects SET attributes = :attributes, updated_at = :now WHERE {_OBJECT_KEY}",
    json=("attributes",),
)
_DELETE_OBJECT = statement(f"DELETE FROM objects WHERE {_OBJECT_KEY}")
_DELETE_OBJECT_RELATIONSHIPS = (
    statement(f"DELETE FROM relationships WHERE {_OBJECT_KEY}"),
    statement(f"DELETE FROM anonymous_relationships WHERE {_OBJECT_KEY}"),
)
_INSERT_ACTIVITY = statement(
    "INSERT INTO activities (workspace_id, person_pk, cio_id, type, name, data, timestamp, "
    "merge_id) VALUES (:ws, :person_pk, :cio_id, :type, :name, :data, :timestamp, :merge_id)",
    json=("data",),
)
_ANY_SUPPRESSED = statement("SELECT 1 FROM suppressions WHERE workspace_id = :ws LIMIT 1")
_SUPPRESSED = statement("SELECT hash FROM suppressions WHERE workspace_id = :ws AND hash = :hash")
_DELETE_SUPPRESSION = statement(
    "DELETE FROM suppressions WHERE workspace_id = :ws AND hash = :hash"
)
_INSERT_SUPPRESSION = statement(
    "INSERT INTO suppressions (workspace_id, hash, group_hash, created_at, door) "
    "VALUES (:ws, :hash, :group_hash, :now, :door)"
)
_SUPPRESSION_GROUP = statement(
    "SELECT group_hash FROM suppressions WHERE workspace_id = :ws AND hash = :hash"
)
_DELETE_SUPPRESSION_GROUP = statement(
    "DELETE FROM suppressions WHERE workspace_id = :ws AND group_hash = :group_hash"
)

# What a person owns, by table: deleted with them (merges move it: storage/merge_rows.py).
_DELETE_OWNED = {
    table: statement(f"DELETE FROM {table} WHERE workspace_id = :ws AND person_pk = :pk")
    for table in ("events", "devices", "activities", "relationships", "identifiers")
}

# The person's transactional messages (the outbox holds their address): the rows queued for them,
# and those of people merged into them, found by the delivery ids that name their activities.
_DELETE_OUTBOX = (
    statement("DELETE FROM outbox WHERE workspace_id = :ws AND person_pk = :pk"),
    statement(
        "DELETE FROM outbox WHERE workspace_id = :ws AND delivery_id IN (SELECT name FROM "
        "activities WHERE workspace_id = :ws AND person_pk = :pk AND name IS NOT NULL AND type "
        "IN ('sent_email', 'drafted_email', 'sent_action', 'drafted_action'))"
    ),
)


_DELETE_CONFLICTS = statement(
    "DELETE FROM conflicts WHERE workspace_id = :ws AND (person_pk = :pk OR holder_pk = :pk)"
)


# The identifiers whose owners a request keeps at hand (anonymous ids move in bulk on merges).
_KNOWN_KINDS = ("id", "email")


def _row_person(row: tuple[Any, ...] | None) -> Person | None:
    if row is None:
        return None
    pk, cio_id, id_, email, attributes, times, created, updated = row
    return Person(
        pk=pk,
        cio_id=cio_id,
        id=id_,
        email=email,
        attributes=loads(attributes),
        attribute_times=loads(times),
        created_in_roster_at=created,
        updated_at=updated,
    )


class SqlStore(MergeRows):
    """One workspace's people, read and written through the writer's connection.

    On PostgreSQL every person row read here is locked (FOR UPDATE) until the transaction ends,
    so two server processes cannot interleave read-modify-write of one person.
    """

    def __init__(self, cursor: Cursor, workspace_id: int, now: float) -> None:
        self.sql = cursor
        self.ws = workspace_id
        self.now = now
        # The door of the request being applied, stamped on what it suppresses
        # (Transaction.store sets it for each request: a transaction groups several doors).
        self.door: str | None = None
        self._any_suppressed: bool | None = None
        self._activities: list[dict[str, Any]] = []
        # People fetched ahead for this request, by identifier; None: known to be nobody's.
        # Dropped as soon as any identifier or person changes hands.
        self._known: dict[tuple[str, str], Person | None] = {}
        # One object per person for the whole request, however it was reached, so that what
        # one message changes (and saves) is what the next one sees.
        self._people: dict[int, Person] = {}
        # The indexed columns (id, email, created_in_roster_at) of those people as stored.
        self._stored: dict[int, tuple[Any, ...]] = {}
        # SQLite: event ids of this request known stored (True) or known new (False), and the
        # events held back to be written in one executemany (flush). PostgreSQL writes each event
        # at once: another server process may store the same event id meanwhile, and only the
        # insert itself (ON CONFLICT, which waits for that process) says which one keeps it.
        self._event_ids: dict[str, bool] = {}
        self._events: list[dict[str, Any]] = []

    # -- people and identifiers --------------------------------------------------------------------

    def prefetch(self, kind: str, values: list[str]) -> None:
        """One query for the people a request names (a batch names hundreds): later look-ups
        of these identifiers cost nothing. On PostgreSQL the rows are locked as they are read.
        Kind "event_id": which of these event ids are stored (SQLite only, see _event_ids)."""
        if kind == "event_id":
            self._prefetch_event_ids(values)
            return
        wanted = [value for value in dict.fromkeys(values) if (kind, value) not in self._known]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            names = ", ".join(f":v{n}" for n in range(len(chunk)))
            query = statement(
                f"SELECT i.value, {_COLUMNS} FROM identifiers i "
                "JOIN people p ON p.pk = i.person_pk "
                f"WHERE i.workspace_id = :ws AND i.kind = :kind AND i.value IN ({names})",
                lock="p",
            )
            params: dict[str, Any] = {"ws": self.ws, "kind": kind}
            params.update({f"v{n}": value for n, value in enumerate(chunk)})
            found = {row[0]: self._one_person(row[1:]) for row in self.sql.all(query, params)}
            for value in chunk:
                self._known[(kind, value)] = found.get(value)

    def _prefetch_event_ids(self, values: list[str]) -> None:
        wanted = [value for value in dict.fromkeys(values) if value not in self._event_ids]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            query = statement(
                _EVENT_IDS_STORED.format(", ".join(f":v{n}" for n in range(len(chunk))))
            )
            params: dict[str, Any] = {"ws": self.ws}
            params.update({f"v{n}": value for n, value in enumerate(chunk)})
            stored = {row[0] for row in self.sql.all(query, params)}
            for value in chunk:
                self._event_ids[value] = value in stored

    def _gone(self, person_pk: int) -> None:
        """The person's identifier rows are being deleted: they now name no one."""
        self._people.pop(person_pk, None)
        self._stored.pop(person_pk, None)
        for key, person in self._known.items():
            if person is not None and person.pk == person_pk:
                self._known[key] = None

    def _one_person(self, row: tuple[Any, ...] | None) -> Person | None:
        person = _row_person(row)
        if person is None or person.pk is None:
            return person
        if person.pk not in self._people:
            self.written(person)
        return self._people.setdefault(person.pk, person)

    def written(self, person: Person) -> None:
        """The person's row now holds these values (just read, inserted or updated)."""
        if person.pk is not None:
            self._stored[person.pk] = (person.id, person.email, person.created_in_roster_at)

    def person_by_identifier(self, kind: str, value: str) -> Person | None:
        key = (kind, value)
        if key in self._known:
            return self._known[key]
        return self._one_person(
            self.sql.one(_BY_IDENTIFIER, {"ws": self.ws, "kind": kind, "value": value})
        )

    def person_by_cio_id(self, cio_id: str) -> Person | None:
        return self._one_person(self.sql.one(_BY_CIO_ID, {"ws": self.ws, "cio": cio_id}))

    def person_by_pk(self, pk: int) -> Person | None:
        return self._one_person(self.sql.one(_BY_PK, {"ws": self.ws, "pk": pk}))

    def add_person(self, person: Person) -> Person:
        row = self.sql.one(_INSERT_PERSON, {"cio_id": person.cio_id, **self._values(person)})
        assert row is not None
        person.pk = row[0]
        self._people[person.pk] = person
        self.written(person)
        return person

    def save_person(self, person: Person) -> None:
        assert person.pk is not None
        same = self._stored.get(person.pk) == (
            person.id,
            person.email,
            person.created_in_roster_at,
        )
        values = {"pk": person.pk, **self._values(person)}
        self.sql.run(_UPDATE_ATTRIBUTES if same else _UPDATE_PERSON, values)
        self.written(person)

    def remove_person(self, person: Person) -> None:
        if person.pk is not None:
            self._gone(person.pk)
        self.sql.run(_DELETE_OWNED["identifiers"], {"ws": self.ws, "pk": person.pk})
        self.sql.run(_DELETE_PERSON, {"ws": self.ws, "pk": person.pk})

    def cio_id_taken(self, cio_id: str) -> bool:
        """Live people and every cio_id the activity log still names (deleted, merged).
        Activities still held back are not looked at: they name people created in this request
        (live, so found in people) or deleted in it, whose cio_id a fresh random one matches
        once in 2^48 draws."""
        return self.sql.one(_CIO_ID_TAKEN, {"ws": self.ws, "cio": cio_id}) is not None

    def identifier_owner(self, kind: str, value: str) -> int | None:
        row = self.sql.one(_OWNER, {"ws": self.ws, "kind": kind, "value": value})
        return row[0] if row is not None else None

    def set_identifier(self, kind: str, value: str, person_pk: int) -> None:
        if kind in _KNOWN_KINDS:
            if person_pk in self._people:
                self._known[(kind, value)] = self._people[person_pk]
            else:
                self._known.pop((kind, value), None)
        self.sql.run(
            _INSERT_IDENTIFIER, {"ws": self.ws, "kind": kind, "value": value, "pk": person_pk}
        )

    def remove_identifier(self, kind: str, value: str) -> None:
        if kind in _KNOWN_KINDS:
            self._known[(kind, value)] = None
        self.sql.run(_DELETE_IDENTIFIER, {"ws": self.ws, "kind": kind, "value": value})

    def anonymous_ids_of(self, person_pk: int) -> list[str]:
        return [row[0] for row in self.sql.all(_ANONYMOUS_IDS, {"ws": self.ws, "pk": person_pk})]

    # -- events ------------------------------------------------------------------------------------

    def event_id_seen(self, event_id: str) -> bool:
        if event_id in self._event_ids:
            return self._event_ids[event_id]
        return self.sql.one(_EVENT_ID_SEEN, {"ws": self.ws, "event_id": event_id}) is not None

    def add_event(self, event: Event) -> bool:
        """Held back until flush (event.pk is then left unset) when it has no event id, or one
        the prefetch found new; an event id not prefetched is asked of the insert itself."""
        values = {
            "ws": self.ws,
            "event_id": event.event_id,
            "person_pk": event.person_pk,
            "anonymous_id": event.anonymous_id,
            "type": event.type,
            "name": event.name,
            "data": dumps(event.data),
            "timestamp": event.timestamp,
            "received_at": self.now,
        }
        if event.event_id is not None:
            known = self._event_ids.get(event.event_id)
            if known:
                return False  # stored already, or earlier in this request
            self._event_ids[event.event_id] = True  # stored by the end of this call either way
            if known is None:  # not prefetched: the insert itself says whether it is new
                self._write_events()  # first, so that the events keep their order
                row = self.sql.one(_INSERT_EVENT, values)
                if row is None:
                    return False  # its event id is stored already (one statement checks it)
                event.pk = row[0]
                return True
        self._events.append(values)
        return True

    def attach_anonymous_events(self, anonymous_id: str, person_pk: int) -> int:
        self.flush()  # the events held back may be some of them
        return self.sql.run(
            _ATTACH_EVENTS, {"ws": self.ws, "anonymous_id": anonymous_id, "pk": person_pk}
        )

    # -- devices -----------------------------------------------------------------------------------

    def device(self, token: str) -> Device | None:
        row = self.sql.one(_DEVICE, {"ws": self.ws, "token": token})
        if row is None:
            return None
        token, person_pk, platform, last_used, attributes = row
        return Device(token, person_pk, platform, last_used, loads(attributes))

    def save_device(self, device: Device) -> None:
        self.remove_device(device.token)
        self.sql.run(
            _INSERT_DEVICE,
            {
                "ws": self.ws,
                "token": device.token,
                "pk": device.person_pk,
                "platform": device.platform,
                "last_used": device.last_used,
                "attributes": dumps(device.attributes),
            },
        )

    def remove_device(self, token: str) -> None:
        self.sql.run(_DELETE_DEVICE, {"ws": self.ws, "token": token})

    # -- relationships -----------------------------------------------------------------------------

    def add_relationship(
        self, person_pk: int, object_type_id: str, object_id: str, attributes: dict[str, Any]
    ) -> None:
        key = {"ws": self.ws, "pk": person_pk, "type": object_type_id, "object": object_id}
        current = self.sql.one(_RELATIONSHIP, key)
        merged = merge_attributes(loads(current[0]) if current else {}, attributes)
        stmt = _INSERT_RELATIONSHIP if current is None else _UPDATE_RELATIONSHIP
        self.sql.run(stmt, {**key, "attributes": dumps(merged)})

    def remove_relationship(self, person_pk: int, object_type_id: str, object_id: str) -> bool:
        key = {"ws": self.ws, "pk": person_pk, "type": object_type_id, "object": object_id}
        return self.sql.run(_DELETE_RELATIONSHIP, key) > 0

    def add_anonymous_relationship(
        self, anonymous_id: str, object_type_id: str, object_id: str, attributes: dict[str, Any]
    ) -> None:
        key = {
            "ws": self.ws,
            "anonymous_id": anonymous_id,
            "type": object_type_id,
            "object": object_id,
        }
        current = self.sql.one(_ANONYMOUS_RELATIONSHIP, key)
        merged = merge_attributes(loads(current[0]) if current else {}, attributes)
        stmt = _INSERT_ANONYMOUS_RELATIONSHIP if current is None else _UPDATE_ANONYMOUS_RELATIONSHIP
        self.sql.run(stmt, {**key, "attributes": dumps(merged)})

    def remove_anonymous_relationship(
        self, anonymous_id: str, object_type_id: str, object_id: str
    ) -> bool:
        key = {
            "ws": self.ws,
            "anonymous_id": anonymous_id,
            "type": object_type_id,
            "object": object_id,
        }
        return self.sql.run(_DELETE_ANONYMOUS_RELATIONSHIP, key) > 0

    def attach_anonymous_relationships(self, anonymous_id: str, person_pk: int) -> int:
        key = {"ws": self.ws, "anonymous_id": anonymous_id}
        waiting = self.sql.all(_ANONYMOUS_RELATIONSHIPS_OF, key)
        for type_id, object_id, attributes in waiting:
            self.add_relationship(person_pk, type_id, object_id, loads(attributes))
        if waiting:
            self.sql.run(_DELETE_ANONYMOUS_RELATIONSHIPS_OF, key)
        return len(waiting)

    # -- objects -----------------------------------------------------------------------------------

    def object_attributes(self, object_type_id: str, object_id: str) -> dict[str, Any] | None:
        row = self.sql.one(_OBJECT, {"ws": self.ws, "type": object_type_id, "object": object_id})
        if row is None:
            return None
        attributes: dict[str, Any] = loads(row[0])
        return attributes

    def save_object(self, object_type_id: str, object_id: str, attributes: dict[str, Any]) -> None:
        key = {"ws": self.ws, "type": object_type_id, "object": object_id, "now": self.now}
        values = {**key, "attributes": dumps(attributes)}
        if self.sql.run(_UPDATE_OBJECT, values) == 0:
            self.sql.run(_INSERT_OBJECT, values)

    def remove_object(self, object_type_id: str, object_id: str) -> bool:
        key = {"ws": self.ws, "type": object_type_id, "object": object_id}
        for stmt in _DELETE_OBJECT_RELATIONSHIPS:
            self.sql.run(stmt, key)
        return self.sql.run(_DELETE_OBJECT, key) > 0

    # -- whole-person moves and removals -----------------------------------------------------------

    def remove_belongings(self, person_pk: int) -> None:
        self._gone(person_pk)
        self.flush()  # and forgets which event ids are stored: some go now
        absorbed = self.remove_merges_into(person_pk)
        for stmt in _DELETE_OUTBOX:  # before the activities that name the merged-in ones
            self.sql.run(stmt, {"ws": self.ws, "pk": person_pk})
        # A conflict row holds an identifier the person wanted or held: personal data.
        for pk in (person_pk, *absorbed):
            self.sql.run(_DELETE_CONFLICTS, {"ws": self.ws, "pk": pk})
        for table in ("events", "devices", "relationships", "activities", "identifiers"):
            self.sql.run(_DELETE_OWNED[table], {"ws": self.ws, "pk": person_pk})

    # -- activity log ------------------------------------------------------------------------------

    def add_activity(self, activity: Activity) -> None:
        # Held back and written in one executemany when the call is done (flush): a call
        # typically logs several changes, and one statement costs less than several.
        self._activities.append(
            {
                "ws": self.ws,
                "person_pk": activity.person_pk,
                "cio_id": activity.cio_id,
                "type": activity.type,
                "name": activity.name,
                "data": dumps(activity.data) if activity.data is not None else None,
                "timestamp": activity.timestamp,
                "merge_id": activity.merge_id,
            }
        )

    def flush(self) -> None:
        """Write what is held back. What was known of event ids is forgotten: rows may change
        after this (a deletion, the next request)."""
        if self._activities:
            self.sql.many(_INSERT_ACTIVITY, self._activities)
            self._activities = []
        self._write_events()
        self._event_ids = {}

    def _write_events(self) -> None:
        if not self._events:
            return
        events, self._events = self._events, []
        if not self.sql.postgresql:  # one writer: what the prefetch found new still is
            self.sql.many(_INSERT_EVENTS, events)
            return
        written = self.sql.many_returning(_INSERT_EVENTS_RACING, events)
        if len(written) < len(events):
            raise EventIdRace(len(events) - len(written))

    # -- suppression list --------------------------------------------------------------------------

    def may_have_suppressions(self) -> bool:
        # Asked once per transaction. SQLite has one writer, so "the list is empty" stays true
        # for the whole batch. On PostgreSQL it stays true for what this transaction touches:
        # it holds the advisory locks of every identifier it names from its first statement,
        # and a suppression of one of them would need the same lock, so it waits for us.
        if self._any_suppressed is None:
            self._any_suppressed = self.sql.one(_ANY_SUPPRESSED, {"ws": self.ws}) is not None
        return self._any_suppressed

    def suppressed(self, hashes: list[str]) -> str | None:
        for hash_ in hashes:
            if self.sql.one(_SUPPRESSED, {"ws": self.ws, "hash": hash_}) is not None:
                return hash_
        return None

    def add_suppressions(self, hashes: list[str]) -> None:
        for hash_ in dict.fromkeys(hashes):
            self.sql.run(_DELETE_SUPPRESSION, {"ws": self.ws, "hash": hash_})
            self.sql.run(
                _INSERT_SUPPRESSION,
                {
                    "ws": self.ws,
                    "hash": hash_,
                    "group_hash": hashes[0],
                    "now": self.now,
                    "door": self.door,
                },
            )
        self._any_suppressed = True

    def remove_suppression_group(self, hash_: str) -> int:
        row = self.sql.one(_SUPPRESSION_GROUP, {"ws": self.ws, "hash": hash_})
        if row is None:
            return 0
        return self.sql.run(_DELETE_SUPPRESSION_GROUP, {"ws": self.ws, "group_hash": row[0]})
