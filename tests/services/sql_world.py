"""The World protocol over a running roster core (services, writer, SQL): the identity-rule
tests of tests/domain run against SQLite and PostgreSQL through it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from roster.domain.context import Outcome
from roster.domain.identifiers import IdentifierMode, fold_email, suppression_hash
from roster.domain.merge_record import MergeRecord
from roster.domain.operations import Operation
from roster.domain.people import Activity, Device, Event, Person
from roster.services.ingestion import Ingestion, Message
from roster.services.system import System
from roster.storage.merge_rows import read_merge
from roster.storage.writer import Transaction
from tests.domain.conftest import FakeClock, RepeatingCioIds
from tests.domain.personas import START


class SqlWorld:
    """A fresh workspace of a real roster core; each apply is one request through the writer."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.ws: int = system.workspaces.create(f"rules-{uuid.uuid4().hex[:12]}")["workspace_id"]
        self.clock = FakeClock(START)
        self.ingestion = Ingestion(system.writer, self.clock, RepeatingCioIds())
        self.reader = system.lookups.reader

    @property
    def make_cio_id(self) -> Callable[[], str]:
        return self.ingestion.make_cio_id

    @make_cio_id.setter
    def make_cio_id(self, maker: Callable[[], str]) -> None:
        self.ingestion.make_cio_id = maker

    def _mode(self) -> IdentifierMode:
        return IdentifierMode(self.system.workspaces.get(self.ws)["identifier_mode"])

    def configure(self, **settings: Any) -> None:
        if isinstance(settings.get("identifier_mode"), IdentifierMode):
            settings["identifier_mode"] = settings["identifier_mode"].value
        self.system.workspaces.change_settings(self.ws, **settings)

    def set_time(self, unix_seconds: float) -> None:
        self.clock.now = unix_seconds

    def apply(self, op: Operation, strict: bool = False) -> Outcome:
        (result,) = self.ingestion.apply_sync(self.ws, [Message(op)], "test", strict)
        assert isinstance(result, Outcome)
        return result

    def person(self, kind: str, value: str) -> Person | None:
        if kind == "cio_id":
            return self.reader.person(self.ws, "cio_id", value.removeprefix("cio_"))
        if kind == "email":
            if self._mode() is IdentifierMode.EMAIL_OR_ID:
                return self.reader.person(self.ws, "email", fold_email(value))
            found = self.reader.people_with_email(self.ws, fold_email(value))
            return found[0] if found else None
        if kind in ("id", "anonymous_id"):
            return self.reader.person(self.ws, kind, value)
        raise ValueError(f"unknown identifier kind {kind!r}")

    def people(self) -> list[Person]:
        return list(self.reader.people(self.ws))

    def _pk(self, cio_id: str) -> int | None:
        person = self.reader.person(self.ws, "cio_id", cio_id)
        return person.pk if person is not None else None

    def events(self, cio_id: str | None) -> list[Event]:
        if cio_id is None:
            return list(self.reader.events(self.ws, None))
        pk = self._pk(cio_id)
        return list(self.reader.events(self.ws, pk)) if pk is not None else []

    def activities(self, cio_id: str) -> list[Activity]:
        return list(self.reader.log_entries(self.ws, self._pk(cio_id), cio_id))

    def devices(self, cio_id: str) -> list[Device]:
        pk = self._pk(cio_id)
        return self.reader.devices(self.ws, pk) if pk is not None else []

    def anonymous_ids(self, cio_id: str) -> list[str]:
        pk = self._pk(cio_id)
        return self.reader.anonymous_ids(self.ws, pk) if pk is not None else []

    def object(self, object_type_id: str, object_id: str) -> dict[str, Any] | None:
        whole: dict[str, Any] = {"people": {}, "anonymous": {}}
        after = None
        while True:  # page by page, as the App API gives it
            found = self.reader.object_view(self.ws, object_type_id, object_id, after, 2)
            if found is None:
                return None
            page, after = found
            whole["attributes"] = page["attributes"]
            for r in page["relationships"]:
                whole["people"][r["cio_id"]] = r["relationship_attributes"]
            for r in page["anonymous_relationships"]:
                whole["anonymous"][r["anonymous_id"]] = r["relationship_attributes"]
            if after is None:
                return whole

    def suppressed(self, kind: str, value: str) -> bool:
        def secret(tx: Transaction) -> bytes:
            return tx.rules(self.ws).suppression_secret

        key: bytes = self.system.writer.run_sync(secret)
        return self.reader.is_suppressed(self.ws, suppression_hash(key, kind, value))

    def merge(self, merge_id: int) -> MergeRecord | None:
        return read_merge(self.system.database.reader, self.ws, merge_id=merge_id)
