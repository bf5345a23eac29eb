"""Objects (Segment groups, Customer.io objects) and their relationships with people."""

from __future__ import annotations

from typing import Any

from roster.domain.context import Context
from roster.domain.identifiers import Reference
from roster.domain.operations import DeleteObject, IdentifyObject, ObjectKey, Relate, Related
from roster.domain.people import Person


def merge_attributes(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Object and relationship attributes: merged in, `null` or "" removes (docs/api.md §2)."""
    merged = {**current, **changes}
    return {key: value for key, value in merged.items() if value is not None and value != ""}


def _ensure(ctx: Context, key: ObjectKey, changes: dict[str, Any]) -> None:
    current = ctx.store.object_attributes(key.object_type_id, key.object_id)
    if current is None or changes:
        ctx.store.save_object(
            key.object_type_id, key.object_id, merge_attributes(current or {}, changes)
        )


def identify_object(ctx: Context, op: IdentifyObject) -> None:
    _ensure(ctx, op.object, op.attributes)
    for related in op.related:
        _relate(ctx, op.object, related, remove=False)


def relate(ctx: Context, op: Relate) -> None:
    if not op.remove:
        _ensure(ctx, op.object, {})
    for related in op.related:
        _relate(ctx, op.object, related, op.remove)


def delete_object(ctx: Context, op: DeleteObject) -> None:
    key = op.object
    if not ctx.store.remove_object(key.object_type_id, key.object_id):
        ctx.note(f"no object {key.object_type_id}/{key.object_id}: nothing was deleted")


def _relate(ctx: Context, key: ObjectKey, related: Related, remove: bool) -> None:
    ref = related.reference
    if isinstance(ref, Reference) and ref.kind == "anonymous_id":
        holder = ctx.owner("anonymous_id", ref.value)
        if holder is None:  # kept with the anonymous id until it becomes a person (I7.2)
            if remove:
                ctx.store.remove_anonymous_relationship(
                    ref.value, key.object_type_id, key.object_id
                )
            else:
                ctx.store.add_anonymous_relationship(
                    ref.value, key.object_type_id, key.object_id, related.attributes
                )
            return
        person = ctx.store.person_by_pk(holder)
    else:
        person = ctx.person_for(ref, create=not remove)
    if person is None or person.pk is None:
        return
    if remove:
        if ctx.store.remove_relationship(person.pk, key.object_type_id, key.object_id):
            ctx.activity(person, "delete_relationship", None, _names(key))
        return
    relate_person(ctx, person, key, related.attributes)


def _names(key: ObjectKey) -> dict[str, Any]:
    return {"object_type_id": key.object_type_id, "object_id": key.object_id}


def relate_person(ctx: Context, person: Person, key: ObjectKey, attributes: dict[str, Any]) -> None:
    """Relate a person to an object, which comes into being if it did not exist."""
    assert person.pk is not None
    _ensure(ctx, key, {})
    ctx.store.add_relationship(person.pk, key.object_type_id, key.object_id, attributes)
    ctx.activity(person, "add_relationship", None, _names(key))
