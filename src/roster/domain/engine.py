"""Apply one operation by the identity rules. The only entry point services call."""

from __future__ import annotations

from typing import assert_never

from roster.domain.context import Context, Outcome
from roster.domain.errors import MergeRefused
from roster.domain.identifiers import Given, IdentifierMode, Reference, read_reference
from roster.domain.identity import identify, link_anonymous_id
from roster.domain.merge import merge_people, resolve_side, unmerge_people
from roster.domain.objects import delete_object, identify_object, relate
from roster.domain.operations import (
    AddDevice,
    Alias,
    DeleteDevice,
    DeleteObject,
    DeletePerson,
    Identify,
    IdentifyObject,
    Merge,
    Operation,
    Relate,
    Suppress,
    TrackEvent,
    Unmerge,
    Unsuppress,
    WorkspaceActivity,
)
from roster.domain.people import Activity, Device, Event, Person


def apply(ctx: Context, op: Operation) -> Outcome:
    """Apply `op`; raises ConflictError in strict mode, MergeRefused and UnmergeRefused where
    it must say why."""
    match op:
        case Identify():
            identify(ctx, op)
        case TrackEvent():
            _track(ctx, op)
        case AddDevice():
            _add_device(ctx, op)
        case DeleteDevice():
            _delete_device(ctx, op)
        case DeletePerson():
            _delete(ctx, op.reference)
        case Suppress():
            _suppress(ctx, op.reference)
        case Unsuppress():
            _unsuppress(ctx, op.reference)
        case Merge():
            _merge(ctx, op)
        case Unmerge():
            # Always answered with the reason: only the App API and the command line send it.
            unmerge_people(ctx, op.reference, op.record_identifiers)
        case Alias():
            _alias(ctx, op)
        case WorkspaceActivity():
            ctx.activity(None, op.type, op.name, op.data)
        case IdentifyObject():
            identify_object(ctx, op)
        case Relate():
            relate(ctx, op)
        case DeleteObject():
            delete_object(ctx, op)
        case _:  # mypy refuses an Operation that has no case above
            assert_never(op)
    return ctx.finish()


def _track(ctx: Context, op: TrackEvent) -> None:
    anonymous_id = op.anonymous_id.value
    ref = op.reference
    if isinstance(ref, Reference) and ref.kind == "anonymous_id":
        anonymous_id, ref = ref.value, Given(None)
    person: Person | None = None
    if isinstance(ref, Reference):
        replay = (
            op.event_id is not None
            and ref.kind in ("id", "email")
            and ctx.find(ref) is None
            and ctx.store.event_id_seen(op.event_id)
        )
        if replay:
            ctx.cite("I8.2", f"event id '{op.event_id}' was seen before: the event is ignored")
            return  # a replay must not create the person again
        person = ctx.person_for(ref, create=True)
        if person is None:
            return
        person_pk = person.pk
    elif anonymous_id is not None:
        ctx.note_blocked("reference", ref)
        person_pk = ctx.owner("anonymous_id", anonymous_id)  # known: straight to the person
        if person_pk is None:
            ctx.cite("I7.1", f"an anonymous event, kept under anonymous id '{anonymous_id}'")
        else:
            ctx.cite(
                "I7.2", f"anonymous id '{anonymous_id}' is linked: the event goes to its person"
            )
    else:
        ctx.note_blocked("reference", ref)
        ctx.note_blocked("anonymous_id", op.anonymous_id)
        ctx.note("no usable reference or anonymous id: the event was not stored")
        return
    stored = ctx.store.add_event(
        Event(
            name=op.name,
            type=op.type,
            timestamp=op.timestamp if op.timestamp is not None else ctx.now,
            data=op.data,
            event_id=op.event_id,
            person_pk=person_pk,
            anonymous_id=anonymous_id,
        )
    )
    if not stored:
        ctx.cite("I8.2", f"event id '{op.event_id}' was seen before: the event is ignored")
        return  # a repeated event id changes nothing else
    if person is not None and anonymous_id is not None:
        link_anonymous_id(ctx, person, anonymous_id)


def _add_device(ctx: Context, op: AddDevice) -> None:
    person = ctx.person_for(op.reference, create=True)
    if person is None:
        return
    assert person.pk is not None
    existing = ctx.store.device(op.token)
    moved_from = None
    if existing is not None and existing.person_pk != person.pk:
        previous = ctx.store.person_by_pk(existing.person_pk)
        moved_from = previous.cio_id if previous else None
        if previous is not None:  # a token belongs to one person; it moves
            ctx.cite("I8.3", f"device '{op.token}' moves from cio_{previous.cio_id}")
            ctx.activity(previous, "device_change", op.token, {"action": "moved_away"})
    attributes = dict(existing.attributes) if existing and existing.person_pk == person.pk else {}
    attributes.update(op.attributes)
    ctx.store.save_device(
        Device(
            token=op.token,
            person_pk=person.pk,
            platform=op.platform,
            last_used=op.last_used if op.last_used is not None else int(ctx.now),
            attributes=attributes,
        )
    )
    data = {"action": "added", "platform": op.platform}
    if moved_from:
        data["moved_from"] = f"cio_{moved_from}"
    ctx.activity(person, "device_change", op.token, data)


def _delete_device(ctx: Context, op: DeleteDevice) -> None:
    person = ctx.person_for(op.reference, create=False)
    if person is None:
        return
    existing = ctx.store.device(op.token)
    if existing is None or existing.person_pk != person.pk:
        ctx.note("the person has no such device: nothing was changed")
        return
    ctx.store.remove_device(op.token)
    ctx.activity(person, "device_change", op.token, {"action": "deleted"})


def delete_person(ctx: Context, person: Person, suppressed: bool = False) -> None:
    """I9.1: everything of the person goes; the log keeps only the cio_id."""
    assert person.pk is not None
    ctx.forget()
    ctx.store.remove_belongings(person.pk)
    ctx.store.remove_person(person)
    data = {"suppressed": True} if suppressed else None
    ctx.store.add_activity(
        Activity(type="profile_delete", timestamp=ctx.now, cio_id=person.cio_id, data=data)
    )


def _delete(ctx: Context, ref: Reference | Given) -> None:
    person = ctx.person_for(ref, create=False)
    if person is not None:
        ctx.cite("I9.1", f"cio_{person.cio_id} is deleted")
        delete_person(ctx, person)


def _suppress(ctx: Context, ref: Reference | Given) -> None:
    if isinstance(ref, Given) or ref.kind == "anonymous_id":
        ctx.note("suppress needs an id, email or cio_id")
        return
    person = ctx.find(ref)
    if person is None:
        if ref.kind == "cio_id":
            ctx.note(f"no person has cio_id '{ref.value}': nothing was suppressed")
            return
        ctx.cite("I9.2", f"no person has {ref.kind} '{ref.value}': the value is suppressed")
        ctx.store.add_suppressions([ctx.hash(ref.kind, ref.value)])
        return
    hashes = [ctx.hash("cio_id", person.cio_id)]
    if person.id is not None:
        hashes.append(ctx.hash("id", person.id))
    if person.email is not None and ctx.rules.emails_identify:
        hashes.append(ctx.hash("email", person.email))
    ctx.cite("I9.2", f"cio_{person.cio_id} is deleted and its identifiers suppressed")
    ctx.store.add_suppressions(hashes)
    delete_person(ctx, person, suppressed=True)


def _unsuppress(ctx: Context, ref: Reference | Given) -> None:
    if isinstance(ref, Given) or ref.kind == "anonymous_id":
        ctx.note("unsuppress needs an id, email or cio_id")
        return
    if ctx.store.remove_suppression_group(ctx.hash(ref.kind, ref.value)) == 0:
        ctx.note(f"{ref.kind} was not suppressed: nothing was changed")
    else:
        ctx.cite("I9.3", f"{ref.kind} and what was suppressed with it are freed")


def _merge(ctx: Context, op: Merge) -> None:
    try:
        primary = resolve_side(ctx, op.primary, "primary")
        secondary = resolve_side(ctx, op.secondary, "secondary")
        merge_people(ctx, primary, secondary, replace=op.replace)
    except MergeRefused as refused:
        ctx.cite("I6.1", f"merge refused: {refused.message}")
        if ctx.strict or ctx.rules.strict_conflicts:
            raise
        ctx.note(f"merge refused: {refused.message}")
        return
    ctx.outcome.cio_id = primary.cio_id


def _alias(ctx: Context, op: Alias) -> None:
    """I6.6: previous's person merges into user's; an unknown previous is an anonymous id."""
    mode: IdentifierMode = ctx.rules.identifier_mode
    previous = read_reference(op.previous, mode)
    secondary: Person | None = None
    if isinstance(previous, Reference):
        # I9.2: a call that references a suppressed identifier is ignored; without this a
        # suppressed id would come back as one of the user's anonymous ids.
        hashed = ctx.suppressed([(previous.kind, previous.value)])
        if hashed is not None:
            ctx.note("alias: previousId is a suppressed identifier", hashed)
            ctx.cite("I9.2", "alias: previousId is suppressed: the call is ignored")
            return
        secondary = ctx.find(previous)
        if secondary is None:
            holder = ctx.owner("anonymous_id", op.previous)
            secondary = ctx.store.person_by_pk(holder) if holder is not None else None
    if secondary is None:
        if isinstance(previous, Given):
            ctx.note("alias: previousId is not usable")
            return
        if previous.kind != "id":  # an email or cio_ reference is no anonymous id [decision]
            ctx.note(f"alias: no person has {previous.kind} '{previous.value}': nothing merged")
            return
        ctx.cite("I6.6", "alias: previousId names no person: it is linked as an anonymous id")
        person = ctx.person_for(op.user, create=True)
        if person is not None:
            link_anonymous_id(ctx, person, op.previous)
        return
    primary = ctx.person_for(op.user, create=False)
    if primary is None or primary.pk == secondary.pk:
        ctx.cite("I6.6", "alias: nothing to merge")
        return
    ctx.cite("I6.6", f"alias: cio_{secondary.cio_id} merges into cio_{primary.cio_id}")
    merge_people(ctx, primary, secondary, reason="alias")
