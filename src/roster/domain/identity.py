"""Identify: which person a call is about (I3), and what it may change on them (I4, I5)."""

from __future__ import annotations

from roster.domain.attributes import apply_attributes
from roster.domain.context import Context
from roster.domain.identifiers import Given, Reference, normalise
from roster.domain.merge import merge_people
from roster.domain.objects import relate_person
from roster.domain.operations import Identify, ObjectKey
from roster.domain.people import Person

ID_NEEDS_CIO = "id cannot be changed without a cio_ reference"
EMAIL_NEEDS_CIO = (
    "email cannot be changed without a cio_ reference "
    "(or an id reference with allow_email_update_by_id on)"
)


def _value(given: Given | None) -> str | None:
    return given.value if given is not None else None


def identify(ctx: Context, op: Identify) -> None:
    ref = op.reference
    body_id = _value(op.body_id)
    body_email = _value(op.body_email) if ctx.rules.emails_identify else None
    for field_name, given in (
        ("reference", ref if isinstance(ref, Given) else None),
        ("id", op.body_id),
        ("email", op.body_email),
        ("anonymous_id", op.anonymous_id),
    ):
        ctx.note_blocked(field_name, given)

    hashed = ctx.suppressed(_call_identifiers(ref, body_id, body_email))
    if hashed is not None:
        ctx.note("the call references or sets a suppressed identifier", hashed)
        ctx.cite("I9.2", "the call references or sets a suppressed identifier: it is ignored")
        return

    _auto_merge(ctx, ref, body_id, body_email)
    target = _choose_target(ctx, op, ref, body_id, body_email)
    if target is None:
        return
    ctx.outcome.cio_id = target.cio_id
    _change_identifiers(ctx, target, op, ref)
    if op.anonymous_id.value is not None:
        link_anonymous_id(ctx, target, op.anonymous_id.value)
    changes = apply_attributes(target, op.attributes, op.timestamp, ctx.now)
    if changes:
        ctx.cite("I4.1", f"{len(changes)} attribute change(s) applied")
    for name, before, after in changes:
        ctx.activity(target, "attribute_change", name, {"from": before, "to": after})
    for rel in op.relationships:
        relate_person(ctx, target, ObjectKey(rel.object_type_id, rel.object_id), rel.attributes)
    target.updated_at = ctx.now
    ctx.store.save_person(target)


def _call_identifiers(
    ref: Reference | Given, body_id: str | None, body_email: str | None
) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = [("id", body_id), ("email", body_email)]
    if isinstance(ref, Reference):
        pairs.append((ref.kind, ref.value))
    return pairs


def _auto_merge(
    ctx: Context, ref: Reference | Given, body_id: str | None, body_email: str | None
) -> None:
    """I6.5: an id-only person and an email-only person named by one call become one."""
    if not (ctx.rules.auto_merge and ctx.rules.emails_identify):
        return
    if isinstance(ref, Reference) and ref.kind == "cio_id":
        return
    call_id = ref.value if isinstance(ref, Reference) and ref.kind == "id" else body_id
    call_email = ref.value if isinstance(ref, Reference) and ref.kind == "email" else body_email
    if call_id is None or call_email is None:
        return
    by_id = ctx.find(Reference("id", call_id))
    if by_id is not None and by_id.email is not None:
        return  # an id-person with an email is never auto-merged (and usually is the one)
    by_email = ctx.find(Reference("email", call_email))
    if by_id is None or by_email is None or by_id.pk == by_email.pk:
        return
    if by_id.email is not None or by_email.id is not None:
        return
    older, newer = sorted((by_id, by_email), key=lambda p: (p.created_in_roster_at, p.pk or 0))
    ctx.cite(
        "I6.5", f"id and email named two people: cio_{newer.cio_id} merges into cio_{older.cio_id}"
    )
    merge_people(ctx, older, newer, reason="auto_merge")


def _choose_target(
    ctx: Context,
    op: Identify,
    ref: Reference | Given,
    body_id: str | None,
    body_email: str | None,
) -> Person | None:
    if isinstance(ref, Given):
        if body_email is not None:  # I3.4: a Segment identify with only an email
            found = ctx.find(Reference("email", body_email))
            if found is not None:
                ctx.cite("I3.4", f"no reference: the person with email '{body_email}'")
                return found
            if op.update_only:
                ctx.note("_update is set and no person has this email: nothing was created")
                ctx.cite("I3.5", "_update is set: nothing is created")
                return None
            ctx.cite("I3.4", f"no reference and no person has email '{body_email}': a new lead")
            return ctx.create_person(email=body_email)
        ctx.note("no usable id or email: no person was created or changed")
        ctx.cite("I3.6", "no usable id or email: no person was created or changed")
        return None

    if ref.kind == "anonymous_id":
        ctx.note("only an anonymous id: no person was created or changed")
        ctx.cite("I3.6", "only an anonymous id: no person was created or changed")
        return None

    target = ctx.find(ref)
    if ref.kind == "cio_id":
        if target is None:
            ctx.note(f"no person has cio_id '{ref.value}': nothing was changed")
            ctx.cite("I3.1", f"no person has cio_id '{ref.value}': the call stops")
        else:
            ctx.cite("I3.1", f"the person with cio_id '{ref.value}'")
        return target
    if target is not None:
        ctx.cite("I3.2", f"the person with {ref.kind} '{ref.value}'")
        return target

    other_kind = "email" if ref.kind == "id" else "id"
    other_value = body_email if ref.kind == "id" else body_id
    if other_value is not None:
        matched = ctx.find(Reference(other_kind, other_value))  # type: ignore[arg-type]
        if matched is not None:
            ctx.cite(
                "I3.3",
                f"no person has {ref.kind} '{ref.value}'; the person with "
                f"{other_kind} '{other_value}' is the target",
            )
            _give_reference(ctx, matched, ref)
            return matched

    if op.update_only:  # I3.5: _update never creates
        ctx.note(f"_update is set and no person has {ref.kind} '{ref.value}': nothing was created")
        ctx.cite("I3.5", "_update is set: nothing is created")
        return None
    ctx.cite("I3.5", f"no person has {ref.kind} '{ref.value}': a new person is created")
    if ref.kind == "id":
        return ctx.create_person(id_=ref.value, email=body_email)
    return ctx.create_person(id_=body_id, email=ref.value)


def _give_reference(ctx: Context, person: Person, ref: Reference) -> None:
    """I3.3: R matched nobody but the body's other identifier found `person`."""
    current = getattr(person, ref.kind)
    if current is None:  # the lead -> customer flow
        ctx.assign(person, ref.kind, ref.value)
    elif ref.kind == "email" and ctx.rules.allow_email_update_by_id:
        ctx.assign(person, "email", ref.value)
    else:
        reason = ID_NEEDS_CIO if ref.kind == "id" else EMAIL_NEEDS_CIO
        ctx.cite("I3.3", f"the target keeps its {ref.kind}: {reason}")
        ctx.failed(person, ref.kind, ref.value, reason)


def _change_identifiers(ctx: Context, target: Person, op: Identify, ref: Reference | Given) -> None:
    """I5: set, change or remove the body's id and email on the target."""
    by_cio = isinstance(ref, Reference) and ref.kind == "cio_id"
    by_id = isinstance(ref, Reference) and ref.kind == "id"
    for kind, given, removal in (
        ("id", op.body_id, op.id_null),
        ("email", op.body_email, op.email_null),
    ):
        current = getattr(target, kind)
        if kind == "email" and not ctx.rules.emails_identify:
            # id_only: email is an ordinary attribute that may repeat (I1.4)
            if removal:
                ctx.cite("I1.4", "id_only: email is an ordinary attribute, removed as asked")
                ctx.unassign(target, "email")
            elif given is not None and given.value is not None and given.value != current:
                ctx.cite("I1.4", "id_only: email is an ordinary attribute, set as sent")
                ctx.assign(target, "email", given.value)
            continue
        if removal:
            if by_cio:  # I5.6: removal only through a cio_ reference
                if current is not None:
                    ctx.cite("I5.6", f"{kind} removed through a cio_ reference")
                ctx.unassign(target, kind)
            elif current is not None:
                ctx.cite("I5.6", f"{kind} is not removed: that takes a cio_ reference")
                ctx.failed(
                    target, kind, None, f"{kind} can only be removed through a cio_ reference"
                )
            continue
        value = given.value if given is not None else None
        if value is None:
            continue
        if current is not None and normalise(kind, current) == normalise(kind, value):
            if current != value:  # I4.9: same email in another letter case: update stored form
                ctx.cite("I4.9", "the same email in another letter case: its spelling is updated")
                target.email = value
                ctx.activity(target, "attribute_change", "email", {"from": current, "to": value})
            continue
        if current is not None:
            allowed = by_cio or (kind == "email" and by_id and ctx.rules.allow_email_update_by_id)
            if not allowed:
                rule = "I5.3" if kind == "id" else "I5.4"
                ctx.cite(
                    rule,
                    f"{kind} is not changed: {ID_NEEDS_CIO if kind == 'id' else EMAIL_NEEDS_CIO}",
                )
                ctx.failed(target, kind, value, ID_NEEDS_CIO if kind == "id" else EMAIL_NEEDS_CIO)
                continue
        holder = ctx.owner(kind, value)
        if holder is not None and holder != target.pk:
            ctx.conflict(target, kind, value, holder)
            continue
        if current is None:
            ctx.cite("I5.1", f"the target gains {kind} '{value}'")
        else:
            ctx.cite("I5.3" if kind == "id" else "I5.4", f"{kind} changes to '{value}'")
        ctx.assign(target, kind, value)


def link_anonymous_id(ctx: Context, person: Person, anonymous_id: str) -> None:
    """I7.2/I7.3: the anonymous id joins the person and brings its stored events along."""
    assert person.pk is not None
    holder = ctx.owner("anonymous_id", anonymous_id)
    if holder == person.pk:
        return
    if holder is not None:
        ctx.conflict(person, "anonymous_id", anonymous_id, holder)
        return
    ctx.store.set_identifier("anonymous_id", anonymous_id, person.pk)
    ctx.cite("I7.2", f"anonymous id '{anonymous_id}' joins the person with its events")
    moved = ctx.store.attach_anonymous_events(anonymous_id, person.pk)
    data: dict[str, object] = {"anonymous_id": anonymous_id, "events": moved}
    related = ctx.store.attach_anonymous_relationships(anonymous_id, person.pk)
    if related:
        data["relationships"] = related
    ctx.activity(person, "anon_merge", None, data)
