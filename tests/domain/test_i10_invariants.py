"""I10. Invariants, checked after every step of random call sequences (Hypothesis state machine).

The model is deliberately simple: it knows which identifiers are suppressed (and with which
group), which calls carried event ids, and what the world looked like before the last step.
Everything else is checked against the world itself: identifiers resolve back to their one
person, replays change nothing, merges lose nothing, rejected calls write nothing, suppressed
identifiers appear on nobody.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from roster.domain.errors import RosterError
from roster.domain.identifiers import (
    NOT_GIVEN,
    Given,
    IdentifierMode,
    Reference,
    fold_email,
    read_reference,
)
from roster.domain.operations import (
    AddDevice,
    Alias,
    DeleteDevice,
    DeleteObject,
    DeletePerson,
    Identify,
    IdentifyObject,
    Merge,
    ObjectKey,
    Operation,
    Relate,
    Related,
    Suppress,
    TrackEvent,
    Unmerge,
    Unsuppress,
    WorkspaceActivity,
    named_identifiers,
)
from roster.domain.people import Activity, Device, Event, Person
from tests.domain import builders as b
from tests.domain.personas import START
from tests.worlds import World

IDS = ["u1", "u2", "u3", "cio_legacy"]  # "cio_legacy" exercises the cio_ -> id fallback (I2.1)
EMAILS = ["a@x.io", "b@x.io", "A@X.IO"]  # a case variant of the first
ANONS = ["anon-1", "anon-2"]
EVENT_IDS = ["e1", "e2", "e3"]
TOKENS = ["t1", "t2"]
CIO_PICKS = ["cio:0", "cio:1", "cio:2", "cio:3"]  # the n-th cio_id ever seen (live or not)
LIVE_PICKS = ["live:0", "live:1", "live:2"]  # the n-th live person, by one of its identifiers
REFERENCES = [*IDS, *EMAILS, *CIO_PICKS, *LIVE_PICKS, *LIVE_PICKS, "null"]
ABSENT = "<absent>"
OBJECT_KEYS = [("1", "acme"), ("1", "globex")]
# A merge mostly as the API sends it, sometimes replacing an identifier (a conflict's resolve).
REPLACE = st.sampled_from([None, None, "id", "email"])

ATTRIBUTE_NAMES = ["plan", "seats", "tags", "unsubscribed", "prefs.lang"]
ATTRIBUTE_VALUES: list[Any] = [None, "", "a", "b", 0, 1, True, [], ["x"], {"k": 1}]

SETTINGS = settings(
    max_examples=100,
    stateful_step_count=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass
class Observation:
    """Everything a test can see of the world, for before/after comparisons."""

    people: dict[str, Person]
    belongings: dict[str, tuple[list[Event], list[Device], list[str], list[Activity]]]
    anonymous_events: list[Event]
    suppressed: dict[tuple[str, str], bool] = field(default_factory=dict)

    def events(self, cio_id: str) -> list[Event]:
        return self.belongings[cio_id][0]

    def devices(self, cio_id: str) -> list[str]:
        return [d.token for d in self.belongings[cio_id][1]]

    def anonymous_ids(self, cio_id: str) -> list[str]:
        return self.belongings[cio_id][2]

    def activities(self, cio_id: str) -> list[Activity]:
        return self.belongings[cio_id][3]

    def all_events(self) -> list[Event]:
        return [e for events, *_ in self.belongings.values() for e in events] + list(
            self.anonymous_events
        )


def _key(kind: str, value: str) -> tuple[str, str]:
    return (kind, fold_email(value) if kind == "email" else value)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


class IdentityMachine(RuleBasedStateMachine):
    def __init__(self, make_world: Callable[[], World], mode: IdentifierMode) -> None:
        super().__init__()
        self.world = make_world()
        self.mode = mode
        self.now = START
        self.cio_ids: list[str] = []  # every cio_id seen, in order of appearance
        self.suppressed: dict[tuple[str, str], tuple[str, str]] = {}  # identifier -> its group
        self.sent_events: dict[str, TrackEvent] = {}
        self._seen: Observation | None = None  # the world as the last step left it
        self.bulky_calls = 0
        self.bulky_reference: str | None = None

    # -- set-up ------------------------------------------------------------------------------------

    @initialize(
        auto_merge=st.booleans(),
        allow_email_update_by_id=st.booleans(),
        population=st.lists(
            st.tuples(
                st.sampled_from([None, *IDS[:3]]),
                st.sampled_from([None, *EMAILS]),
                st.sampled_from([None, *ANONS]),
            ),
            min_size=1,
            max_size=4,
        ),
    )
    def configure(
        self,
        auto_merge: bool,
        allow_email_update_by_id: bool,
        population: list[tuple[str | None, str | None, str | None]],
    ) -> None:
        """A workspace with a few people in it (id-only, email-only, both), made by identify."""
        self.world.configure(
            identifier_mode=self.mode,
            auto_merge=auto_merge,
            allow_email_update_by_id=allow_email_update_by_id,
        )
        for id_, email, anonymous_id in population:
            body = {"email": email} if email is not None else {}
            if anonymous_id is not None:
                body["anonymous_id"] = anonymous_id
            self._apply(b.identify(self.mode, id_, **body))

    # -- looking -----------------------------------------------------------------------------------

    def _raw(self, choice: str) -> str:
        if choice.startswith("cio:"):
            if not self.cio_ids:
                return "cio_ffffffffffff"
            return "cio_" + self.cio_ids[int(choice[4:]) % len(self.cio_ids)]
        if choice.startswith("live:"):
            people = self.world.people()
            if not people:
                return IDS[0]
            n = int(choice[5:])
            found = people[n % len(people)]
            emails_identify = self.mode is IdentifierMode.EMAIL_OR_ID
            if found.id is not None and not found.id.startswith("cio_") and n % 2 == 0:
                return found.id
            if found.email is not None and emails_identify:
                return found.email
            return "cio_" + found.cio_id
        return choice

    def _pool(self) -> list[tuple[str, str]]:
        return (
            [("id", v) for v in IDS]
            + [("email", v) for v in EMAILS]
            + [("cio_id", v) for v in self.cio_ids]
        )

    def _current(self) -> Observation:
        """The world now: every change goes through _apply or _replay, which keep this fresh."""
        if self._seen is None:
            self._seen = self._observe()
        return self._seen

    def _observe(self) -> Observation:
        w = self.world
        people = {p.cio_id: p for p in w.people()}
        self.cio_ids.extend(c for c in people if c not in self.cio_ids)
        belongings = {
            c: (w.events(c), w.devices(c), w.anonymous_ids(c), w.activities(c))
            for c in self.cio_ids
        }
        suppressed = {_key(k, v): w.suppressed(k, v) for k, v in self._pool()}
        return Observation(people, belongings, w.events(None), suppressed)

    def _person_meant(self, raw: str) -> Person | None:
        """Whom a reference means (I2), read through the world."""
        ref = read_reference(raw, self.mode)
        if not isinstance(ref, Reference):
            return None
        if ref.kind == "cio_id":
            return self.world.person("cio_id", ref.value) or self.world.person("id", ref.raw)
        return self.world.person(ref.kind, ref.value)

    # -- applying ----------------------------------------------------------------------------------

    def _apply(self, op: Operation, strict: bool = False) -> bool:
        self.now += 1  # calls arrive one second apart, so creation times order people
        self.world.set_time(self.now)
        before = self._current()
        self._seen = None
        try:
            self.world.apply(op, strict=strict)
        except RosterError:
            assert self._current() == before, "I10.5: a rejected call wrote something"
            return False
        self._check_merges(before, self._current(), op)
        return True

    def _check_merges(self, before: Observation, after: Observation, op: Operation) -> None:
        """I10.3 for every merge the step made (explicit, alias or auto-merge)."""
        seen = {a.pk for cio_id in before.belongings for a in before.activities(cio_id)}
        for cio_id, primary in after.people.items():
            for entry in after.activities(cio_id):
                if entry.type != "profile_merge" or entry.pk in seen:
                    continue
                record = entry.data or {}
                secondary_cio = record["secondary"]["cio_id"]
                assert secondary_cio not in after.people, "I6.3: the secondary must be deleted"
                sides = (before.people[cio_id], before.people[secondary_cio])
                had_events = {e.pk for c in (cio_id, secondary_cio) for e in before.events(c)}
                assert had_events <= {e.pk for e in after.events(cio_id)}, "I10.3: lost events"
                for part in ("anonymous_ids", "devices"):
                    had = {x for c in (cio_id, secondary_cio) for x in getattr(before, part)(c)}
                    assert had <= set(getattr(after, part)(cio_id)), f"I10.3: lost {part}"
                # In the record: freed from the secondary, or the primary's own it replaced.
                freed = {_key(f["kind"], f["value"]) for f in record["freed"] + record["replaced"]}
                for kind in ("id", "email"):
                    mine = getattr(primary, kind)
                    for side in sides:
                        value = getattr(side, kind)
                        if value is None:
                            continue
                        kept = mine is not None and _key(kind, mine) == _key(kind, value)
                        assert kept or _key(kind, value) in freed, f"I10.3: lost {kind} {value}"
                if isinstance(op, Merge | Alias):  # nothing else changes the primary then
                    self._check_merged_attributes(primary, *sides)

    @staticmethod
    def _check_merged_attributes(after: Person, primary: Person, secondary: Person) -> None:
        for name, value in primary.attributes.items():
            if name == "unsubscribed":
                assert after.unsubscribed is (primary.unsubscribed or secondary.unsubscribed)
            elif not _empty(value):
                assert after.attributes[name] == value, f"I10.3: lost attribute {name}"
        for name, value in secondary.attributes.items():
            if (
                name != "unsubscribed"
                and _empty(primary.attributes.get(name))
                and not _empty(value)
            ):
                assert after.attributes[name] == value, f"I6.2: {name} not copied"

    # -- rules -------------------------------------------------------------------------------------

    @rule(
        reference=st.sampled_from([*REFERENCES, None]),
        body_id=st.sampled_from([ABSENT, ABSENT, None, *IDS, "undefined"]),
        body_email=st.sampled_from([ABSENT, ABSENT, None, *EMAILS, "null"]),
        anonymous_id=st.sampled_from([ABSENT, ABSENT, *ANONS]),
        attributes=st.dictionaries(
            st.sampled_from(ATTRIBUTE_NAMES), st.sampled_from(ATTRIBUTE_VALUES), max_size=3
        ),
        age=st.sampled_from([None, None, 50, 10, 0, -100]),
        update_only=st.booleans(),
        strict=st.booleans(),
    )
    def identify(
        self,
        reference: str | None,
        body_id: str | None,
        body_email: str | None,
        anonymous_id: str,
        attributes: dict[str, Any],
        age: int | None,
        update_only: bool,
        strict: bool,
    ) -> None:
        body: dict[str, Any] = dict(attributes)
        for key, value in (("id", body_id), ("email", body_email), ("anonymous_id", anonymous_id)):
            if value != ABSENT:
                body[key] = value
        if age is not None:
            body["_timestamp"] = self.now - age
        if update_only:
            body["_update"] = True
        raw = self._raw(reference) if reference is not None else None
        self._apply(b.identify(self.mode, raw, **body), strict)

    @rule(
        id_=st.sampled_from(IDS),
        email=st.sampled_from(EMAILS),
        by_email=st.booleans(),
        anonymous_id=st.sampled_from([ABSENT, *ANONS]),
        plan=st.sampled_from(["a", "b", None]),
        strict=st.booleans(),
    )
    def identify_with_both_identifiers(
        self,
        id_: str,
        email: str,
        by_email: bool,
        anonymous_id: str,
        plan: str | None,
        strict: bool,
    ) -> None:
        """A sign-up or profile update naming id and email: leads, auto-merge, conflicts."""
        body: dict[str, Any] = {"plan": plan}
        if anonymous_id != ABSENT:
            body["anonymous_id"] = anonymous_id
        if by_email:
            op = b.identify(self.mode, email, id=id_, **body)
        else:
            op = b.identify(self.mode, id_, email=email, **body)
        self._apply(op, strict)

    @precondition(lambda self: self.bulky_calls < 2)
    @rule(
        reference=st.sampled_from([*LIVE_PICKS, *IDS]),
        anonymous_id=st.sampled_from([ABSENT, *ANONS]),
    )
    def identify_many_attributes(self, reference: str, anonymous_id: str) -> None:
        """The second of these crosses the 300-attributes-per-person limit (I4.3) after the
        call has linked an anonymous id and written activities: all of it must vanish (I10.5).
        At most two per run: 151 attributes each make every later observation slower."""
        self.bulky_calls += 1
        if self.bulky_reference is None:
            self.bulky_reference = self._raw(reference)
        body: dict[str, Any] = {f"{'pq'[self.bulky_calls - 1]}{i}": i for i in range(151)}
        if anonymous_id != ABSENT:
            body["anonymous_id"] = anonymous_id
        self._apply(b.identify(self.mode, self.bulky_reference, **body))

    @rule(
        reference=st.sampled_from(REFERENCES),
        event_id=st.sampled_from([None, *EVENT_IDS]),
        anonymous_id=st.sampled_from([None, None, *ANONS]),
        strict=st.booleans(),
        twice=st.booleans(),
    )
    def event(
        self,
        reference: str,
        event_id: str | None,
        anonymous_id: str | None,
        strict: bool,
        twice: bool,
    ) -> None:
        op = b.event(
            self.mode, self._raw(reference), "clicked", event_id=event_id, anonymous_id=anonymous_id
        )
        self._send_event(op, strict, twice)

    @rule(
        anonymous_id=st.sampled_from(ANONS),
        event_id=st.sampled_from([None, *EVENT_IDS]),
        as_reference=st.booleans(),
        twice=st.booleans(),
    )
    def anonymous_event(
        self, anonymous_id: str, event_id: str | None, as_reference: bool, twice: bool
    ) -> None:
        op = b.anonymous_event(
            anonymous_id, "browsed", event_id=event_id, as_reference=as_reference
        )
        self._send_event(op, False, twice)

    def _send_event(self, op: TrackEvent, strict: bool, twice: bool) -> None:
        applied = self._apply(op, strict)
        if op.event_id is None:
            return
        self.sent_events.setdefault(op.event_id, op)
        if applied and twice:
            self._replay(op)

    @rule(event_id=st.sampled_from(EVENT_IDS))
    def replay(self, event_id: str) -> None:
        if event_id in self.sent_events:
            self._replay(self.sent_events[event_id])

    def _replay(self, op: TrackEvent) -> None:
        before = self._current()
        if not any(e.event_id == op.event_id for e in before.all_events()):
            return  # its first call was ignored, or its person deleted: not a replay
        self._seen = None
        self.world.apply(op)
        assert self._current() == before, "I10.2: replaying an event id changed something"

    @rule(reference=st.sampled_from(REFERENCES), token=st.sampled_from(TOKENS))
    def add_device(self, reference: str, token: str) -> None:
        self._apply(b.add_device(self.mode, self._raw(reference), token))

    @rule(
        primary=st.sampled_from([*LIVE_PICKS, *REFERENCES]),
        secondary=st.sampled_from([*LIVE_PICKS, *REFERENCES]),
        strict=st.booleans(),
        replace=REPLACE,
    )
    def merge(
        self, primary: str, secondary: str, strict: bool, replace: Literal["id", "email"] | None
    ) -> None:
        """A merge, sometimes one replacing the primary's id or email (a conflict's resolve)."""
        try:
            op = b.merge(self.mode, self._raw(primary), self._raw(secondary), replace=replace)
        except RosterError:
            return  # the API refuses a side it cannot read before anything is applied
        self._apply(op, strict)

    @rule(
        reference=st.sampled_from([*LIVE_PICKS, *REFERENCES]),
        key=st.sampled_from(OBJECT_KEYS),
        role=st.sampled_from([None, "admin", "member"]),
    )
    def relate(self, reference: str, key: tuple[str, str], role: str | None) -> None:
        """A relationship with an object (with attributes or without), for merges to move."""
        relationship: dict[str, Any] = {
            "identifiers": {"object_type_id": key[0], "object_id": key[1]}
        }
        if role is not None:
            relationship["relationship_attributes"] = {"role": role}
        try:
            op = b.identify(self.mode, self._raw(reference), cio_relationships=[relationship])
        except RosterError:
            return  # the door refuses it before anything is applied
        self._apply(op)

    @rule(reference=st.sampled_from([*LIVE_PICKS, *REFERENCES]))
    def unmerge(self, reference: str) -> None:
        """I6.4 at any point: undone, or refused with nothing written (checked by _apply)."""
        self._apply(b.unmerge(self.mode, self._raw(reference)))

    @rule(
        primary=st.sampled_from(LIVE_PICKS),
        secondary=st.sampled_from(LIVE_PICKS),
        replace=REPLACE,
    )
    def merge_then_unmerge(
        self, primary: str, secondary: str, replace: Literal["id", "email"] | None
    ) -> None:
        """I10.4: an unmerge right after a merge gives back both people exactly as they were,
        a merge that replaced an identifier of the primary included."""
        first, second = (
            self._person_meant(self._raw(primary)),
            self._person_meant(self._raw(secondary)),
        )
        if first is None or second is None or first.cio_id == second.cio_id:
            return
        before = self._current()
        objects = self._objects()
        sides = (first.cio_id, second.cio_id)
        op = b.merge(self.mode, "cio_" + sides[0], "cio_" + sides[1], replace=replace)
        if not self._apply(op, True):
            return
        assert self._apply(b.unmerge(self.mode, "cio_" + sides[0]), True), "I6.4: refused"
        after = self._current()
        for cio_id in sides:
            was, now = before.people[cio_id], after.people.get(cio_id)
            assert now is not None, f"I10.4: cio_{cio_id} did not come back"
            assert (now.pk, now.id, now.email, now.attributes, now.attribute_times) == (
                was.pk,
                was.id,
                was.email,
                was.attributes,
                was.attribute_times,
            ), f"I10.4: cio_{cio_id} differs"
            assert now.created_in_roster_at == was.created_in_roster_at
            assert after.events(cio_id) == before.events(cio_id), "I10.4: events differ"
            assert after.devices(cio_id) == before.devices(cio_id), "I10.4: devices differ"
            assert after.anonymous_ids(cio_id) == before.anonymous_ids(cio_id)
        assert self._objects() == objects, "I10.4: relationships differ"

    def _objects(self) -> dict[str, Any]:
        """Every object and whom it is related to (the relationships part of I10.4)."""
        return {
            f"{type_id}/{object_id}": self.world.object(type_id, object_id)
            for type_id, object_id in OBJECT_KEYS
        }

    @rule(
        user=st.sampled_from([*LIVE_PICKS, *REFERENCES]),
        previous=st.sampled_from([*IDS, *EMAILS, *ANONS, *CIO_PICKS, *LIVE_PICKS]),
    )
    def alias(self, user: str, previous: str) -> None:
        try:
            op = b.alias(self.mode, self._raw(user), self._raw(previous))
        except RosterError:
            return  # a userId that is not given: the API logs the message and applies nothing
        self._apply(op)

    @rule(
        action=st.sampled_from(["delete", "suppress", "unsuppress"]),
        reference=st.sampled_from(REFERENCES),
    )
    def forget(self, action: str, reference: str) -> None:
        """Delete, suppress and unsuppress share one rule, so that people live long enough."""
        if action == "delete":
            self._apply(b.delete(self.mode, self._raw(reference)))
        elif action == "suppress":
            self._suppress(reference)
        else:
            self._unsuppress(reference)

    def _suppress(self, reference: str) -> None:
        raw = self._raw(reference)
        ref = read_reference(raw, self.mode)
        found = self._person_meant(raw)
        group: list[tuple[str, str]] = []
        if found is not None:
            group.append(_key("cio_id", found.cio_id))
            if found.id is not None:
                group.append(_key("id", found.id))
            if found.email is not None and self.mode is IdentifierMode.EMAIL_OR_ID:
                group.append(_key("email", found.email))
        elif isinstance(ref, Reference) and ref.kind != "cio_id":
            group.append(_key(ref.kind, ref.value))
        if self._apply(b.suppress(self.mode, raw)):
            for member in group:
                self.suppressed[member] = group[0]

    def _unsuppress(self, reference: str) -> None:
        ref = read_reference(self._raw(reference), self.mode)
        if self._apply(b.unsuppress(self.mode, self._raw(reference))) and isinstance(
            ref, Reference
        ):
            group = self.suppressed.get(_key(ref.kind, ref.value))
            if group is not None:
                self.suppressed = {k: g for k, g in self.suppressed.items() if g != group}

    # -- invariants --------------------------------------------------------------------------------

    @invariant()
    def invariants_hold(self) -> None:
        observed = self._current()
        self.i10_1_each_identifier_belongs_to_at_most_one_live_person(observed)
        self.i10_2_an_event_id_is_stored_at_most_once(observed)
        self.i10_6_a_suppressed_identifier_never_appears_on_a_person(observed)
        self.i7_2_no_stored_anonymous_event_has_a_linked_anonymous_id(observed)

    def i10_1_each_identifier_belongs_to_at_most_one_live_person(
        self, observed: Observation
    ) -> None:
        people = list(observed.people.values())
        kinds = ["id", "anonymous_id"]
        if self.mode is IdentifierMode.EMAIL_OR_ID:
            kinds.append("email")
        holders: Counter[tuple[str, str]] = Counter()
        for found in people:
            values = {
                "id": [found.id] if found.id is not None else [],
                "email": [found.email] if found.email is not None else [],
                "anonymous_id": observed.anonymous_ids(found.cio_id),
            }
            for kind in kinds:
                for value in values[kind]:
                    holders[_key(kind, value)] += 1
                    owner = self.world.person(kind, value)
                    assert owner is not None and owner.cio_id == found.cio_id, (
                        f"I10.1: {kind} {value} does not resolve to cio_{found.cio_id}"
                    )
        assert all(count == 1 for count in holders.values()), f"I10.1: shared {holders}"
        assert len({p.cio_id for p in people}) == len(people)

    def i10_2_an_event_id_is_stored_at_most_once(self, observed: Observation) -> None:
        counts = Counter(e.event_id for e in observed.all_events() if e.event_id is not None)
        assert all(count == 1 for count in counts.values()), f"I8.2: {counts}"

    def i10_6_a_suppressed_identifier_never_appears_on_a_person(
        self, observed: Observation
    ) -> None:
        for key, flagged in observed.suppressed.items():
            assert flagged is (key in self.suppressed), f"I9.2: suppression list disagrees on {key}"
        for found in observed.people.values():
            for kind in ("id", "email", "cio_id"):
                value = getattr(found, kind)
                if value is None or (kind == "email" and self.mode is IdentifierMode.ID_ONLY):
                    continue
                assert _key(kind, value) not in self.suppressed, f"I10.6: {kind} {value} is live"

    def i7_2_no_stored_anonymous_event_has_a_linked_anonymous_id(
        self, observed: Observation
    ) -> None:
        for stored in observed.anonymous_events:
            assert stored.anonymous_id is not None
            assert self.world.person("anonymous_id", stored.anonymous_id) is None


@pytest.mark.parametrize("mode", list(IdentifierMode), ids=str)
def test_i10_invariants_hold_for_random_call_sequences(
    make_world: Callable[[], World], mode: IdentifierMode
) -> None:
    run_state_machine_as_test(lambda: IdentityMachine(make_world, mode), settings=SETTINGS)


# -- I10.5 what concurrent calls take turns on -----------------------------------------------------

_U1, _MAIL, _ANON = Reference("id", "u1"), Reference("email", "a@x.io"), "anon-1"
_ACME = ObjectKey("1", "acme")
NAMED: list[tuple[Operation, list[tuple[str, str]]]] = [
    (
        Identify(_U1, body_id=Given("u2"), body_email=Given("a@x.io"), anonymous_id=Given(_ANON)),
        [("id", "u1"), ("id", "u2"), ("email", "a@x.io"), ("anonymous_id", _ANON)],
    ),
    (
        Identify(NOT_GIVEN, body_id=Given(None, blocked="null"), body_email=Given("b@x.io")),
        [("email", "b@x.io")],
    ),
    (
        TrackEvent(_MAIL, "n", anonymous_id=Given(_ANON)),
        [("email", "a@x.io"), ("anonymous_id", _ANON)],
    ),
    (TrackEvent(NOT_GIVEN, "n"), []),
    (AddDevice(Reference("cio_id", "0a1b"), "t1", "ios"), [("cio_id", "0a1b"), ("device", "t1")]),
    (DeleteDevice(_U1, "t1"), [("id", "u1"), ("device", "t1")]),
    (DeletePerson(_U1), [("id", "u1")]),
    (Suppress(_MAIL), [("email", "a@x.io")]),
    (Unsuppress(NOT_GIVEN), []),
    (Merge(_U1, _MAIL), [("id", "u1"), ("email", "a@x.io")]),
    (
        Unmerge(_U1, (("id", "u2"), ("anonymous_id", _ANON))),
        [("id", "u1"), ("id", "u2"), ("anonymous_id", _ANON)],
    ),
    (Alias(_U1, "p-1"), [("id", "u1"), ("id", "p-1"), ("email", "p-1"), ("anonymous_id", "p-1")]),
    (
        IdentifyObject(_ACME, {}, (Related(_U1), Related(NOT_GIVEN), Related(_MAIL))),
        [("object", "1/acme"), ("id", "u1"), ("email", "a@x.io")],
    ),
    (
        Relate(_ACME, (Related(Reference("anonymous_id", _ANON)),), remove=True),
        [("object", "1/acme"), ("anonymous_id", _ANON)],
    ),
    (DeleteObject(_ACME), [("object", "1/acme")]),
    (WorkspaceActivity("invite"), []),
]


@pytest.mark.parametrize(("op", "named"), NAMED, ids=[type(op).__name__ for op, _ in NAMED])
def test_i10_5_an_operation_names_every_identifier_concurrent_calls_must_take_turns_on(
    op: Operation, named: list[tuple[str, str]]
) -> None:
    assert named_identifiers(op) == named
