"""What applying one call needs: the store, the workspace, the clock, and what it has said."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from roster.domain.errors import Citation, Conflict, ConflictError
from roster.domain.identifiers import Given, Reference, normalise, suppression_hash
from roster.domain.people import Activity, Note, Person
from roster.domain.store import Store
from roster.domain.workspace import WorkspaceRules

Clock = Callable[[], float]
IdMaker = Callable[[], str]
_IDENTIFIER_KINDS = ("id", "email", "anonymous_id")


def new_cio_id() -> str:
    """12 random hex characters (48 bits): short, lowercase, and not guessable."""
    return secrets.token_hex(6)


@dataclass(frozen=True)
class Refusal:
    """An identifier change a call asked for and did not get (I5.2-I5.4, I7.3): what the
    conflicts list counts (docs/api.md §5). `value` is normalised; `holder_pk` is who held it."""

    kind: str
    value: str
    person_pk: int
    holder_pk: int | None
    reason: str


@dataclass
class Outcome:
    """What a call did: the person it ended on, and what the logs should say."""

    cio_id: str | None = None
    created: bool = False
    notes: list[Note] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    rules: list[Citation] = field(default_factory=list)


@dataclass
class Context:
    store: Store
    rules: WorkspaceRules
    clock: Clock
    make_cio_id: IdMaker = new_cio_id
    strict: bool = False
    outcome: Outcome = field(default_factory=Outcome)
    _now: float | None = None
    # People already looked up by identifier in this call; forgotten whenever identifiers move.
    _seen: dict[tuple[str, str], Person | None] = field(default_factory=dict)

    @property
    def now(self) -> float:
        if self._now is None:
            self._now = self.clock()
        return self._now

    # -- finding people ---------------------------------------------------------------------------

    def find(self, ref: Reference) -> Person | None:
        """The person a reference means, if any; a cio_ reference falls back to an id (I2.1)."""
        if ref.kind == "cio_id":
            person = self.store.person_by_cio_id(ref.value)
            if person is None:
                person = self.store.person_by_identifier("id", ref.raw)
            return person
        if ref.kind == "email" and not self.rules.emails_identify:
            return None
        key = (ref.kind, normalise(ref.kind, ref.value))
        if key not in self._seen:
            self._seen[key] = self.store.person_by_identifier(*key)
        return self._seen[key]

    def forget(self) -> None:
        """Identifiers changed hands: look people up afresh."""
        self._seen.clear()

    def owner(self, kind: str, value: str) -> int | None:
        return self.store.identifier_owner(kind, normalise(kind, value))

    def create_person(self, id_: str | None = None, email: str | None = None) -> Person:
        cio_id = self.make_cio_id()
        while self.store.cio_id_taken(cio_id):
            cio_id = self.make_cio_id()
        # The row is written whole, identifiers included: callers that create a person for an
        # event, a device or an alias do not save it afterwards.
        person = self.store.add_person(
            Person(
                pk=None,
                cio_id=cio_id,
                id=id_,
                email=email,
                created_in_roster_at=int(self.now),
                updated_at=self.now,
            )
        )
        assert person.pk is not None
        self.outcome.created = True
        self.forget()
        self.activity(person, "profile_create")
        for kind, value in (("id", id_), ("email", email)):
            if value is None:
                continue
            if kind == "id" or self.rules.emails_identify:
                self.store.set_identifier(kind, normalise(kind, value), person.pk)
            self.activity(person, "attribute_change", kind, {"from": None, "to": value})
        return person

    def assign(self, person: Person, kind: str, value: str) -> None:
        """Give the person an identifier it does not have yet (or a new value of it)."""
        assert person.pk is not None
        self.forget()
        before = getattr(person, kind)
        if kind == "email" and not self.rules.emails_identify:
            person.email = value
        else:
            if before is not None:
                self.store.remove_identifier(kind, normalise(kind, before))
            self.store.set_identifier(kind, normalise(kind, value), person.pk)
            setattr(person, kind, value)
        self.activity(person, "attribute_change", kind, {"from": before, "to": value})

    def unassign(self, person: Person, kind: str) -> None:
        before = getattr(person, kind)
        if before is None:
            return
        self.forget()
        if kind == "id" or self.rules.emails_identify:
            self.store.remove_identifier(kind, normalise(kind, before))
        setattr(person, kind, None)
        self.activity(person, "attribute_change", kind, {"from": before, "to": None})

    def person_for(self, ref: Reference | Given, create: bool) -> Person | None:
        """The person a call addresses; unknown id/email references create one when asked (I8.1)."""
        if isinstance(ref, Given):
            self.note_blocked("reference", ref)
            self.note("no usable reference: nothing was changed")
            self.cite("I3.6", "no usable reference: nothing was changed")
            return None
        hashed = self.suppressed([(ref.kind, ref.value)])
        if hashed is not None:
            self.note("the call references a suppressed identifier", hashed)
            self.cite("I9.2", f"{ref.kind} is suppressed: the call is ignored")
            return None
        person = self.find(ref)
        if person is None:
            if ref.kind == "cio_id" or not create or ref.kind == "anonymous_id":
                self.note(f"no person has {ref.kind} '{ref.value}': nothing was changed")
                self.cite("I8.1", f"no person has {ref.kind} '{ref.value}': nothing was changed")
                return None
            self.cite("I8.1", f"no person has {ref.kind} '{ref.value}': a new person is created")
            if ref.kind == "id":
                person = self.create_person(id_=ref.value)
            else:
                person = self.create_person(email=ref.value)
        else:
            self.cite("I8.1", f"the person with {ref.kind} '{ref.value}'")
        self.outcome.cio_id = person.cio_id
        return person

    def cite(self, rule: str, why: str) -> None:
        """Record that `rule` (a number of docs/identity.md, like "I3.3") decided `why`."""
        self.outcome.rules.append(Citation(rule, why))

    # -- what the logs say ------------------------------------------------------------------------

    def activity(
        self,
        person: Person | None,
        type_: str,
        name: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.store.add_activity(
            Activity(
                type=type_,
                timestamp=self.now,
                person_pk=person.pk if person else None,
                cio_id=person.cio_id if person else None,
                name=name,
                data=data,
            )
        )

    def failed(
        self, person: Person, attribute: str, value: Any, reason: str, holder_pk: int | None = None
    ) -> None:
        self.activity(
            person, "failed_attribute_change", attribute, {"value": value, "reason": reason}
        )
        # A refused change to an identifier value is counted (a removal has no value to count).
        if attribute in _IDENTIFIER_KINDS and isinstance(value, str) and person.pk is not None:
            if holder_pk is None:
                holder_pk = self.owner(attribute, value)
            if holder_pk == person.pk:
                holder_pk = None
            normalised = normalise(attribute, value)
            self.outcome.refused.append(
                Refusal(attribute, normalised, person.pk, holder_pk, reason)
            )

    def conflict(self, person: Person, kind: str, value: str, holder_pk: int) -> None:
        holder = self.store.person_by_pk(holder_pk)
        held_by = holder.cio_id if holder else "?"
        self.outcome.conflicts.append(Conflict(kind, value, person.cio_id, held_by))
        rule = "I7.3" if kind == "anonymous_id" else "I5.2"
        self.cite(rule, f"{kind} '{value}' is held by cio_{held_by}: a conflict, left as it was")
        self.failed(
            person,
            kind,
            value,
            "The identifier is already associated with a different profile.",
            holder_pk,
        )

    def note(self, reason: str, identifier_hash: str | None = None) -> None:
        self.outcome.notes.append(Note(reason, identifier_hash))

    def note_blocked(self, field_name: str, given: Given | None) -> None:
        if given is not None and given.blocked is not None:
            self.note(
                f"{field_name} '{given.blocked}' was ignored: it is a blocked placeholder value"
            )

    def finish(self) -> Outcome:
        """Strict mode: a remaining conflict rejects the whole call (I5.2)."""
        if self.outcome.conflicts and (self.strict or self.rules.strict_conflicts):
            self.cite("I5.2", "strict mode: a conflict rejects the whole call")
            raise ConflictError(self.outcome.conflicts)
        return self.outcome

    # -- suppression ------------------------------------------------------------------------------

    def hash(self, kind: str, value: str) -> str:
        return suppression_hash(self.rules.suppression_secret, kind, value)

    def suppressed(self, pairs: list[tuple[str, str | None]]) -> str | None:
        """The hash of the first suppressed identifier among (kind, value) pairs, if any."""
        if not self.store.may_have_suppressions():
            return None  # most workspaces suppress no one: skip the hashing
        hashes = [self.hash(kind, value) for kind, value in pairs if value]
        return self.store.suppressed(hashes) if hashes else None
