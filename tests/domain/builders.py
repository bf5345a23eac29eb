"""Operations built by the API's own parser (roster.api.parsing), from the body a client would
send, and small readings of the world.

Each builder takes the workspace's identifier mode first (positional-only, so that a body may
carry any attribute name), writes the wire body its parameters stand for and hands it to the
function the door uses: what a rule test applies is exactly what the API would apply, and a body
the API refuses raises here as it would answer there (400, or 200 with an ingestion-log entry).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from roster.api.parsing import (
    anonymous_event_from,
    device_from,
    event_from,
    identify_from,
    merge_side,
    person_reference,
)
from roster.api.segment_messages import operations_from as segment_operations
from roster.domain.identifiers import (
    Given,
    IdentifierMode,
    Reference,
    read_reference,
)
from roster.domain.merge_record import MergeRecord
from roster.domain.operations import (
    AddDevice,
    Alias,
    DeleteDevice,
    DeletePerson,
    Identify,
    Merge,
    Suppress,
    TrackEvent,
    Unmerge,
    Unsuppress,
)
from roster.domain.people import Activity, Person
from tests.worlds import World

EMAIL_OR_ID = IdentifierMode.EMAIL_OR_ID
ID_ONLY = IdentifierMode.ID_ONLY

Ref = Reference | Given
RefInput = str | None | Reference | Given
SideInput = str | tuple[str, Any]


def ref(mode: IdentifierMode | str, raw: RefInput, /) -> Ref:
    """A path segment or Segment userId, read by I2 (a ready Reference passes through)."""
    if isinstance(raw, Reference | Given):
        return raw
    return read_reference(raw, IdentifierMode(mode))  # type: ignore[arg-type]


def cio(cio_id: str) -> str:
    """The reference form of a cio_id."""
    return f"cio_{cio_id}"


def _wire(**fields: Any) -> dict[str, Any]:
    """A body with the fields the caller left out absent, as a client leaves them out."""
    return {key: value for key, value in fields.items() if value is not None}


def identify(mode: IdentifierMode | str, reference: RefInput, /, **body: Any) -> Identify:
    """PUT /customers/{reference} with `body` (reference None: a Segment identify without
    userId, whose traits are the body)."""
    return identify_from(ref(mode, reference), body, IdentifierMode(mode))


def event(
    mode: IdentifierMode | str,
    reference: RefInput,
    name: str,
    /,
    *,
    data: dict[str, Any] | None = None,
    event_id: str | None = None,
    timestamp: float | None = None,
    anonymous_id: str | None = None,
    type: str = "event",
) -> TrackEvent:
    """POST /customers/{reference}/events (reference None: a Segment track naming nobody)."""
    body = _wire(
        name=name, type=type, data=data, id=event_id, timestamp=timestamp, anonymous_id=anonymous_id
    )
    return event_from(ref(mode, reference), body)


def anonymous_event(
    anonymous_id: str | None,
    name: str,
    /,
    *,
    data: dict[str, Any] | None = None,
    event_id: str | None = None,
    timestamp: float | None = None,
    type: str = "event",
    as_reference: bool = False,
) -> TrackEvent:
    """POST /api/v1/events with anonymous_id, or (as_reference) a v2 event whose identifiers
    are {anonymous_id}."""
    body = _wire(name=name, type=type, data=data, id=event_id, timestamp=timestamp)
    if as_reference:
        return event_from(person_reference({"anonymous_id": anonymous_id}, EMAIL_OR_ID), body)
    op = anonymous_event_from({**body, "anonymous_id": anonymous_id})
    assert isinstance(op, TrackEvent), "without anonymous_id and data.recipient: an invite"
    return op


def add_device(
    mode: IdentifierMode | str,
    reference: RefInput,
    token: str,
    /,
    platform: str = "ios",
    last_used: int | None = None,
    **attributes: Any,
) -> AddDevice:
    """PUT /customers/{reference}/devices."""
    device = _wire(id=token, platform=platform, last_used=last_used, attributes=attributes)
    return device_from(ref(mode, reference), {"device": device})


def delete_device(mode: IdentifierMode | str, reference: RefInput, token: str, /) -> DeleteDevice:
    return DeleteDevice(ref(mode, reference), token)


def delete(mode: IdentifierMode | str, reference: RefInput, /) -> DeletePerson:
    return DeletePerson(ref(mode, reference))


def suppress(mode: IdentifierMode | str, reference: RefInput, /) -> Suppress:
    return Suppress(ref(mode, reference))


def unsuppress(mode: IdentifierMode | str, reference: RefInput, /) -> Unsuppress:
    return Unsuppress(ref(mode, reference))


def _side(mode: IdentifierMode, side: SideInput) -> dict[str, Any]:
    """A merge side on the wire: (kind, value) as sent, or a plain reference sent under the
    kind I2 reads it as (as `roster merge PRIMARY SECONDARY` takes references)."""
    if isinstance(side, tuple):
        kind, raw = side
        return {kind: raw}
    read = read_reference(side, mode)
    return {read.kind: read.raw} if isinstance(read, Reference) else {"id": side}


def merge(
    mode: IdentifierMode | str,
    primary: SideInput,
    secondary: SideInput,
    /,
    replace: Literal["id", "email"] | None = None,
) -> Merge:
    """POST /merge_customers: a side is (kind, value) as the API names it, or a plain reference.
    `replace` is what resolving a conflict adds (no door sends it: services/conflicts.py)."""
    mode = IdentifierMode(mode)
    body = {"primary": _side(mode, primary), "secondary": _side(mode, secondary)}
    return Merge(
        merge_side(body, "primary", mode), merge_side(body, "secondary", mode), replace=replace
    )


def unmerge(mode: IdentifierMode | str, reference: RefInput, /) -> Unmerge:
    """POST /v1/customers/{reference}/unmerge (docs/identity.md I6.4)."""
    return Unmerge(ref(mode, reference))


def alias(mode: IdentifierMode | str, user: RefInput, previous: str, /) -> Alias:
    """Segment alias(userId=user, previousId=previous)."""
    message = {"type": "alias", "userId": user, "previousId": previous}
    [op] = segment_operations(message, IdentifierMode(mode))
    assert isinstance(op, Alias)
    return op


# -- readings --------------------------------------------------------------------------------------


def person(world: World, kind: str, value: str) -> Person:
    """The live person with that identifier; fails the test if there is none."""
    found = world.person(kind, value)
    assert found is not None, f"no live person with {kind} {value!r}"
    return found


def of_type(activities: Iterable[Activity], type_: str, name: str | None = None) -> list[Activity]:
    """Entries of one type (and name), oldest first."""
    chosen = [a for a in activities if a.type == type_ and (name is None or a.name == name)]
    return sorted(chosen, key=lambda a: (a.timestamp, a.pk or 0))


def merge_record(world: World, cio_id: str) -> MergeRecord:
    """The record of the latest merge into a person, found through its profile_merge entry."""
    merges = of_type(world.activities(cio_id), "profile_merge")
    assert merges, f"cio_{cio_id} has no profile_merge activity"
    data = merges[-1].data
    assert data is not None
    record = world.merge(data["merge_id"])
    assert record is not None, f"merge {data['merge_id']} has no record"
    return record


def failures(world: World, cio_id: str, attribute: str | None = None) -> list[dict[str, Any]]:
    """The failed_attribute_change entries of a person: [{"attribute", "value", "reason"}]."""
    return [
        {"attribute": a.name, **(a.data or {})}
        for a in of_type(world.activities(cio_id), "failed_attribute_change", attribute)
    ]


def identifiers_of(world: World) -> list[tuple[str | None, str | None]]:
    """(id, email) of every live person, in creation order."""
    return [(p.id, p.email) for p in world.people()]
