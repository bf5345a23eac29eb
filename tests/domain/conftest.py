"""The `world` the identity-rule tests drive: here the domain over an in-memory store.

tests/services overrides `make_world` (and so `world`) to run the same test modules against
SQLite and PostgreSQL; nothing in these tests may reach past the World protocol.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from roster.domain import engine
from roster.domain.context import Context, Outcome
from roster.domain.errors import SettingRefused
from roster.domain.identifiers import (
    IdentifierMode,
    fold_email,
    looks_like_email,
    suppression_hash,
)
from roster.domain.merge_record import MergeRecord
from roster.domain.operations import Operation
from roster.domain.people import Activity, Device, Event, Person
from roster.domain.workspace import WorkspaceRules
from tests.domain.memory_store import MemoryStore, clone
from tests.domain.personas import START
from tests.worlds import World

SECRET = b"domain-tests-suppression-secret"


class FakeClock:
    """The time calls are received at: fixed until the test moves it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class RepeatingCioIds:
    """Deterministic cio_ids that offer every value twice, so that the domain's "never reuse a
    cio_id" loop runs on every creation after the first."""

    def __init__(self) -> None:
        self._values = self._generate()

    @staticmethod
    def _generate() -> Iterator[str]:
        n = 0
        while True:
            n += 1
            value = f"{n:012x}"
            yield value
            yield value

    def __call__(self) -> str:
        return next(self._values)


class MemoryWorld:
    """A workspace on the pure domain: each apply is its own all-or-nothing call."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.rules = WorkspaceRules(workspace_id=1, suppression_secret=SECRET)
        self.clock = FakeClock(START)
        self.make_cio_id = RepeatingCioIds()

    # -- the World protocol ------------------------------------------------------------------------

    def configure(self, **settings: Any) -> None:
        known = {f.name for f in dataclasses.fields(WorkspaceRules)} - {
            "workspace_id",
            "suppression_secret",
        }
        unknown = set(settings) - known
        if unknown:
            raise TypeError(f"unknown workspace settings: {sorted(unknown)}")
        if "identifier_mode" in settings:
            mode = IdentifierMode(settings["identifier_mode"])
            settings["identifier_mode"] = mode
            if mode is not self.rules.identifier_mode:
                self._switch_mode(mode)
        self.rules = dataclasses.replace(self.rules, **settings)

    def set_time(self, unix_seconds: float) -> None:
        self.clock.now = unix_seconds

    def apply(self, op: Operation, strict: bool = False) -> Outcome:
        ctx = Context(self.store, self.rules, self.clock, self.make_cio_id, strict)
        before = self.store.snapshot()
        try:
            outcome = engine.apply(ctx, op)
        except BaseException:
            self.store.restore(before)
            raise
        self.store.check_integrity(self.rules.emails_identify)
        return outcome

    def person(self, kind: str, value: str) -> Person | None:
        store = self.store
        if kind == "cio_id":
            return store.person_by_cio_id(value.removeprefix("cio_"))
        if kind == "email":
            if self.rules.emails_identify:
                return store.person_by_identifier("email", fold_email(value))
            folded = fold_email(value)
            for person in self.people():
                if person.email is not None and fold_email(person.email) == folded:
                    return person
            return None
        if kind in ("id", "anonymous_id"):
            return store.person_by_identifier(kind, value)
        raise ValueError(f"unknown identifier kind {kind!r}")

    def people(self) -> list[Person]:
        return clone([person for _, person in sorted(self.store.state.people.items())])

    def events(self, cio_id: str | None) -> list[Event]:
        """Oldest first, as the storage layer's reader orders them."""
        pk = self._pk(cio_id) if cio_id is not None else None
        if cio_id is not None and pk is None:
            return []
        mine = [event for event in self.store.state.events.values() if event.person_pk == pk]
        return clone(sorted(mine, key=lambda event: (event.timestamp, event.pk or 0)))

    def activities(self, cio_id: str) -> list[Activity]:
        pk = self._pk(cio_id)
        return clone(
            [
                activity
                for activity in self.store.state.activities
                if (pk is not None and activity.person_pk == pk)
                or (activity.person_pk is None and activity.cio_id == cio_id)
            ]
        )

    def devices(self, cio_id: str) -> list[Device]:
        pk = self._pk(cio_id)
        return clone(
            [
                device
                for _, device in sorted(self.store.state.devices.items())
                if pk is not None and device.person_pk == pk
            ]
        )

    def anonymous_ids(self, cio_id: str) -> list[str]:
        pk = self._pk(cio_id)
        return self.store.anonymous_ids_of(pk) if pk is not None else []

    def object(self, object_type_id: str, object_id: str) -> dict[str, Any] | None:
        state = self.store.state
        attributes = state.objects.get((object_type_id, object_id))
        if attributes is None:
            return None
        cio_ids = {pk: person.cio_id for pk, person in state.people.items()}
        return clone(
            {
                "attributes": attributes,
                "people": {
                    cio_ids[r.person_pk]: r.attributes
                    for r in state.relationships
                    if (r.object_type_id, r.object_id) == (object_type_id, object_id)
                },
                "anonymous": {
                    key[0]: value
                    for key, value in state.anonymous_relationships.items()
                    if key[1:] == (object_type_id, object_id)
                },
            }
        )

    def suppressed(self, kind: str, value: str) -> bool:
        hash_ = suppression_hash(self.rules.suppression_secret, kind, value)
        return self.store.suppressed([hash_]) is not None

    def merge(self, merge_id: int) -> MergeRecord | None:
        found = self.store.state.merges.get(merge_id)
        return clone(found) if found is not None else None

    # -- helpers -----------------------------------------------------------------------------------

    def _pk(self, cio_id: str) -> int | None:
        for pk, person in self.store.state.people.items():
            if person.cio_id == cio_id:
                return pk
        return None

    def _switch_mode(self, mode: IdentifierMode) -> None:
        """I1.4: emails become identifier rows (refused while they repeat or are invalid), or
        stop being identifiers."""
        state = self.store.state
        if mode is IdentifierMode.ID_ONLY:
            state.identifiers = {k: pk for k, pk in state.identifiers.items() if k[0] != "email"}
            return
        holders: dict[str, list[str]] = {}
        invalid: list[str] = []
        for person in state.people.values():
            if person.email is None:
                continue
            holders.setdefault(fold_email(person.email), []).append(person.cio_id)
            if not looks_like_email(person.email.strip()):
                invalid.append(person.cio_id)
        shared = [cio for cios in holders.values() if len(cios) > 1 for cio in cios]
        if shared or invalid:
            raise SettingRefused(
                "emails repeat or are invalid: the workspace cannot identify by email",
                holders=sorted(set(shared + invalid)),
            )
        for pk, person in state.people.items():
            if person.email is not None:
                state.identifiers[("email", fold_email(person.email))] = pk


@pytest.fixture
def make_world() -> Callable[[], World]:
    """Fresh, empty workspaces (the state machine needs one per example)."""
    return MemoryWorld


@pytest.fixture
def world(make_world: Callable[[], World]) -> World:
    return make_world()


@pytest.fixture(params=[IdentifierMode.EMAIL_OR_ID, IdentifierMode.ID_ONLY], ids=str)
def any_mode(request: pytest.FixtureRequest, world: World) -> IdentifierMode:
    """Runs a test in both identifier modes; the world is configured for it."""
    mode: IdentifierMode = request.param
    world.configure(identifier_mode=mode)
    return mode
