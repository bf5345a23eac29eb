"""Operations built the way an API parser builds them, and small readings of the world.

Each builder takes the workspace's identifier mode first (positional-only, so that a body may
carry any attribute name), reads references with the domain's own functions (I2), and checks the
per-call limits an API door checks before anything is written (I4.3, I8.2).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from roster.domain.identifiers import (
    NOT_GIVEN,
    Given,
    IdentifierMode,
    Reference,
    check_id,
    read_given,
    read_reference,
    typed_reference,
)
from roster.domain.limits import check_attributes, check_device_token, check_event
from roster.domain.operations import (
    AddDevice,
    Alias,
    DeleteDevice,
    DeletePerson,
    Identify,
    Merge,
    Relationship,
    Suppress,
    TrackEvent,
    Unsuppress,
)
from roster.domain.people import Activity, Person
from roster.domain.times import read_timestamp
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


def _side(mode: IdentifierMode | str, side: SideInput) -> Ref:
    if isinstance(side, tuple):
        kind, raw = side
        return typed_reference(kind, raw, IdentifierMode(mode))
    return ref(mode, side)


def _body_identifier(body: dict[str, Any], key: str) -> tuple[Given | None, bool]:
    """(the Given, whether it was a removal): a missing key is None; null or "" removes."""
    if key not in body:
        return None, False
    raw = body.pop(key)
    removal = raw is None or (isinstance(raw, str) and raw.strip() == "")
    given = read_given(raw, key)
    if key == "id" and given.value is not None:
        check_id(given.value)
    return given, removal


def identify(mode: IdentifierMode | str, reference: RefInput, /, **body: Any) -> Identify:
    """PUT /customers/{reference} with `body` (reference None: a Segment identify without
    userId). id, email, anonymous_id, _update, _timestamp and cio_relationships are split out."""
    body = dict(body)
    body_id, id_null = _body_identifier(body, "id")
    body_email, email_null = _body_identifier(body, "email")
    anonymous_id = read_given(body.pop("anonymous_id", None), "anonymous_id")
    update_only = body.pop("_update", False) is True
    timestamp = read_timestamp(body.pop("_timestamp", None))
    relationships = tuple(
        Relationship(
            str(rel["identifiers"]["object_type_id"]),
            str(rel["identifiers"]["object_id"]),
            dict(rel.get("relationship_attributes", {})),
        )
        for rel in body.pop("cio_relationships", [])
    )
    check_attributes(body)
    return Identify(
        reference=ref(mode, reference),
        attributes=body,
        body_id=body_id,
        body_email=body_email,
        id_null=id_null,
        email_null=email_null,
        anonymous_id=anonymous_id,
        timestamp=timestamp,
        update_only=update_only,
        relationships=relationships,
    )


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
    """POST /customers/{reference}/events (reference None: an event nobody is named on)."""
    data = dict(data or {})
    check_event(name, data)
    return TrackEvent(
        reference=ref(mode, reference),
        name=name,
        type=type,
        data=data,
        event_id=event_id,
        timestamp=timestamp,
        anonymous_id=read_given(anonymous_id, "anonymous_id"),
    )


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
    """POST /api/v1/events with anonymous_id, or (as_reference) v2 identifiers {anonymous_id}."""
    data = dict(data or {})
    check_event(name, data)
    if as_reference:
        return TrackEvent(
            reference=typed_reference("anonymous_id", anonymous_id, EMAIL_OR_ID),
            name=name,
            type=type,
            data=data,
            event_id=event_id,
            timestamp=timestamp,
        )
    return TrackEvent(
        reference=NOT_GIVEN,
        name=name,
        type=type,
        data=data,
        event_id=event_id,
        timestamp=timestamp,
        anonymous_id=read_given(anonymous_id, "anonymous_id"),
    )


def add_device(
    mode: IdentifierMode | str,
    reference: RefInput,
    token: str,
    /,
    platform: str = "ios",
    last_used: int | None = None,
    **attributes: Any,
) -> AddDevice:
    check_device_token(token)
    return AddDevice(ref(mode, reference), token, platform, last_used, dict(attributes))


def delete_device(mode: IdentifierMode | str, reference: RefInput, token: str, /) -> DeleteDevice:
    return DeleteDevice(ref(mode, reference), token)


def delete(mode: IdentifierMode | str, reference: RefInput, /) -> DeletePerson:
    return DeletePerson(ref(mode, reference))


def suppress(mode: IdentifierMode | str, reference: RefInput, /) -> Suppress:
    return Suppress(ref(mode, reference))


def unsuppress(mode: IdentifierMode | str, reference: RefInput, /) -> Unsuppress:
    return Unsuppress(ref(mode, reference))


def merge(mode: IdentifierMode | str, primary: SideInput, secondary: SideInput, /) -> Merge:
    """POST /merge_customers: a side is (kind, value) as the API names it, or a plain reference."""
    return Merge(_side(mode, primary), _side(mode, secondary))


def alias(mode: IdentifierMode | str, user: RefInput, previous: str, /) -> Alias:
    """Segment alias(userId=user, previousId=previous)."""
    return Alias(ref(mode, user), previous)


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


def merge_record(world: World, cio_id: str) -> dict[str, Any]:
    """The latest profile_merge record kept on a person."""
    merges = of_type(world.activities(cio_id), "profile_merge")
    assert merges, f"cio_{cio_id} has no profile_merge activity"
    data = merges[-1].data
    assert data is not None
    return data


def failures(world: World, cio_id: str, attribute: str | None = None) -> list[dict[str, Any]]:
    """The failed_attribute_change entries of a person: [{"attribute", "value", "reason"}]."""
    return [
        {"attribute": a.name, **(a.data or {})}
        for a in of_type(world.activities(cio_id), "failed_attribute_change", attribute)
    ]


def identifiers_of(world: World) -> list[tuple[str | None, str | None]]:
    """(id, email) of every live person, in creation order."""
    return [(p.id, p.email) for p in world.people()]
