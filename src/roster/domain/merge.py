"""Merging two people into one (docs/identity.md I6), keeping a record full enough to undo it."""

from __future__ import annotations

from typing import Any

from roster.domain.context import Context
from roster.domain.errors import MergeRefused
from roster.domain.identifiers import Given, Reference, normalise
from roster.domain.people import Person


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def resolve_side(ctx: Context, ref: Reference | Given, side: str) -> Person:
    if isinstance(ref, Given):
        raise MergeRefused(f"the {side} person needs an id, email or cio_id")
    person = ctx.find(ref)
    if person is None:
        raise MergeRefused(f"no {side} person with {ref.kind} '{ref.value}'", missing=True)
    return person


def merge_people(ctx: Context, primary: Person, secondary: Person, reason: str = "merge") -> None:
    """I6.2/I6.3: the primary absorbs the secondary, which is deleted; nothing is lost."""
    if primary.pk == secondary.pk:
        raise MergeRefused("the primary and secondary are the same person")
    assert primary.pk is not None and secondary.pk is not None
    ctx.forget()
    record: dict[str, Any] = {
        "reason": reason,
        "primary_before": primary.snapshot(),
        "secondary": secondary.snapshot(),
        "secondary_anonymous_ids": ctx.store.anonymous_ids_of(secondary.pk),
    }

    for name, value in secondary.attributes.items():
        if _empty(primary.attributes.get(name)) and not _empty(value):
            primary.attributes[name] = value
            if name in secondary.attribute_times:
                primary.attribute_times[name] = secondary.attribute_times[name]
    if secondary.unsubscribed:
        primary.attributes["unsubscribed"] = True
    primary.created_in_roster_at = min(primary.created_in_roster_at, secondary.created_in_roster_at)

    freed: list[dict[str, str]] = []
    taken: list[str] = []
    for kind in ("id", "email"):
        value = getattr(secondary, kind)
        if value is None:
            continue
        identifies = kind == "id" or ctx.rules.emails_identify
        if identifies:
            ctx.store.remove_identifier(kind, normalise(kind, value))
        if getattr(primary, kind) is None:
            if identifies:
                ctx.store.set_identifier(kind, normalise(kind, value), primary.pk)
            setattr(primary, kind, value)
            taken.append(kind)
        else:
            freed.append({"kind": kind, "value": value})
    record["taken"] = taken
    record["freed"] = freed
    record["moved"] = ctx.store.move_belongings(secondary.pk, primary.pk)

    ctx.store.remove_person(secondary)
    primary.updated_at = ctx.now
    ctx.store.save_person(primary)
    ctx.activity(primary, "profile_merge", None, record)
    ctx.forget()
