"""The operations every wire protocol is translated into. One word per concept: a person."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, assert_never

from roster.domain.identifiers import NOT_GIVEN, Given, Reference

JSON = Any
Ref = Reference | Given  # a Given here is a reference that was "not given" (I1.6)


@dataclass(frozen=True)
class Identify:
    reference: Ref
    attributes: dict[str, JSON] = field(default_factory=dict)
    body_id: Given | None = None  # None: the key was absent; Given(None): null, "" or blocked
    body_email: Given | None = None
    id_null: bool = False  # "id": null/"" was sent: removal through a cio_ reference (I5.6)
    email_null: bool = False
    anonymous_id: Given = NOT_GIVEN
    timestamp: float | None = None  # _timestamp (I4.8)
    update_only: bool = False  # _update: true (I3.5)
    relationships: tuple[Relationship, ...] = ()


@dataclass(frozen=True)
class Relationship:
    object_type_id: str
    object_id: str
    attributes: dict[str, JSON] = field(default_factory=dict)


@dataclass(frozen=True)
class ObjectKey:
    """An object (Segment group, Customer.io object): a type id and an id within the type."""

    object_type_id: str
    object_id: str


@dataclass(frozen=True)
class Related:
    """The other side of a relationship with an object: a person, or an anonymous id."""

    reference: Ref
    attributes: dict[str, JSON] = field(default_factory=dict)


@dataclass(frozen=True)
class IdentifyObject:
    object: ObjectKey
    attributes: dict[str, JSON] = field(default_factory=dict)
    related: tuple[Related, ...] = ()


@dataclass(frozen=True)
class DeleteObject:
    object: ObjectKey


@dataclass(frozen=True)
class Relate:
    """Add (or with `remove`, delete) relationships between one object and people."""

    object: ObjectKey
    related: tuple[Related, ...]
    remove: bool = False


@dataclass(frozen=True)
class TrackEvent:
    """An event for a person (reference given) or an anonymous one (I7.1)."""

    reference: Ref
    name: str
    type: str = "event"
    data: dict[str, JSON] = field(default_factory=dict)
    event_id: str | None = None
    timestamp: float | None = None
    anonymous_id: Given = NOT_GIVEN


@dataclass(frozen=True)
class WorkspaceActivity:
    """Something recorded for the workspace, not a person: invites, delivery metrics."""

    type: str
    name: str | None = None
    data: dict[str, JSON] = field(default_factory=dict)
    timestamp: float | None = None


@dataclass(frozen=True)
class AddDevice:
    reference: Ref
    token: str
    platform: str
    last_used: int | None = None
    attributes: dict[str, JSON] = field(default_factory=dict)


@dataclass(frozen=True)
class DeleteDevice:
    reference: Ref
    token: str


@dataclass(frozen=True)
class DeletePerson:
    reference: Ref


@dataclass(frozen=True)
class Suppress:
    reference: Ref


@dataclass(frozen=True)
class Unsuppress:
    reference: Ref


@dataclass(frozen=True)
class Merge:
    """Merge the secondary into the primary (docs/identity.md I6.2).

    `replace` names an identifier kind ("id" or "email") the primary takes from the secondary
    even though it has one of its own, which the merge record keeps so that an unmerge gives it
    back (I6.4). No wire door sends it: resolving a conflict does (docs/api.md §5)."""

    primary: Ref
    secondary: Ref
    replace: Literal["id", "email"] | None = None


@dataclass(frozen=True)
class Unmerge:
    """Undo the latest merge into the person (docs/identity.md I6.4).

    `record_identifiers` are the identifiers the merge record gives back (the secondary's, and
    the primary's own ones the merge replaced) when the caller read it, before the transaction:
    PostgreSQL writers lock what an operation names before they start, and those identifiers
    are known only from the record. The engine checks inside the transaction that the latest
    merge still wants no more than these. None: no locks to check (one writer)."""

    reference: Ref
    record_identifiers: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True)
class Alias:
    """Segment alias: merge previous into user, or link previous as an anonymous id (I6.6)."""

    user: Ref
    previous: str


Operation = (
    Identify
    | TrackEvent
    | WorkspaceActivity
    | AddDevice
    | DeleteDevice
    | DeletePerson
    | Suppress
    | Unsuppress
    | Merge
    | Unmerge
    | Alias
    | IdentifyObject
    | DeleteObject
    | Relate
)


def _given(kind: str, given: Given | None) -> list[tuple[str, str]]:
    return [(kind, given.value)] if given is not None and given.value is not None else []


def _ref(ref: Ref) -> list[tuple[str, str]]:
    return [(ref.kind, ref.value)] if isinstance(ref, Reference) else []


def named_identifiers(op: Operation) -> list[tuple[str, str]]:
    """Every (kind, value) an operation names: what concurrent writers must take turns on.
    Values are as sent; the caller normalises them."""
    match op:
        case Identify():
            return [
                *_ref(op.reference),
                *_given("id", op.body_id),
                *_given("email", op.body_email),
                *_given("anonymous_id", op.anonymous_id),
            ]
        case TrackEvent():
            return [*_ref(op.reference), *_given("anonymous_id", op.anonymous_id)]
        case AddDevice() | DeleteDevice():
            return [*_ref(op.reference), ("device", op.token)]
        case DeletePerson() | Suppress() | Unsuppress():
            return _ref(op.reference)
        case Merge():
            return [*_ref(op.primary), *_ref(op.secondary)]
        case Unmerge():
            # The primary's reference, plus the identifiers the merge record gives back as the
            # caller read them; the engine re-checks them under these locks.
            return [*_ref(op.reference), *(op.record_identifiers or ())]
        case Alias():
            previous = [(kind, op.previous) for kind in ("id", "email", "anonymous_id")]
            return [*_ref(op.user), *previous]
        case IdentifyObject() | Relate():
            people = [pair for related in op.related for pair in _ref(related.reference)]
            return [("object", f"{op.object.object_type_id}/{op.object.object_id}"), *people]
        case DeleteObject():
            return [("object", f"{op.object.object_type_id}/{op.object.object_id}")]
        case WorkspaceActivity():
            return []  # about the workspace, no person: nothing to take turns on
        case _:  # mypy refuses an Operation that has no case above
            assert_never(op)
