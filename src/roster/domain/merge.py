"""Merging two people into one (docs/identity.md I6), keeping a record full enough to undo it
(I6.4).

The record (domain/merge_record.py) is a row of its own, not a list of what moved; events and
activities that moved carry the merge's id, so an unmerge finds them with one indexed query.
"""

from __future__ import annotations

from typing import Any

from roster.domain.context import Context
from roster.domain.errors import MergeRefused, NotFound, UnmergeRefused
from roster.domain.identifiers import Given, Reference, normalise
from roster.domain.merge_record import AttributeChange, MergeRecord, PrimaryBefore, copy_person
from roster.domain.people import Activity, Person


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def resolve_side(ctx: Context, ref: Reference | Given, side: str) -> Person:
    if isinstance(ref, Given):
        raise MergeRefused(f"the {side} person needs an id, email or cio_id")
    person = ctx.find(ref)
    if person is None:
        raise MergeRefused(f"no {side} person with {ref.kind} '{ref.value}'", missing=True)
    return person


def _merge_attributes(primary: Person, secondary: Person) -> dict[str, AttributeChange]:
    """I6.2: the primary keeps its non-empty values and takes the secondary's for the rest."""
    changed: dict[str, AttributeChange] = {}

    def change(name: str, value: Any, time: float | None) -> None:
        changed[name] = AttributeChange(
            had=name in primary.attributes,
            value=primary.attributes.get(name),
            time=primary.attribute_times.get(name),
            merged_value=value,
            merged_time=time if time is not None else primary.attribute_times.get(name),
        )
        primary.attributes[name] = value
        if time is not None:
            primary.attribute_times[name] = time

    for name, value in secondary.attributes.items():
        if _empty(primary.attributes.get(name)) and not _empty(value):
            change(name, value, secondary.attribute_times.get(name))
    if secondary.unsubscribed and not primary.unsubscribed:
        change("unsubscribed", True, None)
    return changed


def merge_people(
    ctx: Context,
    primary: Person,
    secondary: Person,
    reason: str = "merge",
    replace: str | None = None,
) -> None:
    """I6.2/I6.3: the primary absorbs the secondary, which is deleted; nothing is lost.

    `replace` (Merge.replace): the primary takes the secondary's identifier of that kind even
    though it has one, which the record keeps for an unmerge to give back (I6.4)."""
    if primary.pk == secondary.pk:
        raise MergeRefused("the primary and secondary are the same person")
    if replace is not None and getattr(secondary, replace) is None:
        raise MergeRefused(
            f"cio_{secondary.cio_id} has no {replace} for cio_{primary.cio_id} to take"
        )
    assert primary.pk is not None and secondary.pk is not None
    ctx.cite("I6.2", f"cio_{secondary.cio_id} merges into cio_{primary.cio_id} ({reason})")
    ctx.forget()
    store = ctx.store
    theirs = store.relationships_of(secondary.pk)
    shared = {(r.object_type_id, r.object_id) for r in theirs}
    before = PrimaryBefore(
        relationships=[
            r
            for r in store.relationships_of(primary.pk)
            if (r.object_type_id, r.object_id) in shared
        ],
        created_in_roster_at=primary.created_in_roster_at,
    )
    record = MergeRecord(
        primary_pk=primary.pk,
        secondary=copy_person(secondary),
        anonymous_ids=store.anonymous_ids_of(secondary.pk),
        devices=store.devices_of(secondary.pk),
        relationships=theirs,
        primary_before=before,
        reason=reason,
        merged_at=ctx.now,
    )

    before.attributes = _merge_attributes(primary, secondary)
    primary.created_in_roster_at = min(primary.created_in_roster_at, secondary.created_in_roster_at)
    before.merged_created_in_roster_at = primary.created_in_roster_at

    freed: list[dict[str, str]] = []
    for kind in ("id", "email"):
        value = getattr(secondary, kind)
        if value is None:
            continue
        identifies = kind == "id" or ctx.rules.emails_identify
        if identifies:
            store.remove_identifier(kind, normalise(kind, value))
        own = getattr(primary, kind)
        if own is not None and kind == replace:
            if identifies:
                store.remove_identifier(kind, normalise(kind, own))
            setattr(primary, kind, None)
            before.replaced[kind] = own
            ctx.cite("I6.2", f"cio_{primary.cio_id} takes {kind} '{value}' in place of '{own}'")
        if getattr(primary, kind) is None:
            if identifies:
                store.set_identifier(kind, normalise(kind, value), primary.pk)
            setattr(primary, kind, value)
            before.taken.append(kind)
        else:
            freed.append({"kind": kind, "value": value})

    merge_id = store.add_merge(record)
    store.move_belongings(secondary.pk, primary.pk, merge_id)
    store.remove_person(secondary)
    primary.updated_at = ctx.now
    store.save_person(primary)
    summary = {
        "merge_id": merge_id,
        "reason": reason,
        "secondary": {"cio_id": secondary.cio_id, "id": secondary.id, "email": secondary.email},
        "taken": list(before.taken),
        "replaced": [{"kind": kind, "value": value} for kind, value in before.replaced.items()],
        "freed": freed,
    }
    ctx.activity(primary, "profile_merge", None, summary)
    # The secondary's own entry waits, under its cio_id, for an unmerge to bring it back.
    store.add_activity(
        Activity(
            type="profile_merge",
            timestamp=ctx.now,
            cio_id=secondary.cio_id,
            data={"merge_id": merge_id, "reason": reason, "into": primary.cio_id},
            merge_id=merge_id,
        )
    )
    ctx.forget()


# -- I6.4 unmerge ----------------------------------------------------------------------------------


def _refusal(ctx: Context, primary: Person, record: MergeRecord) -> str | None:
    """Why the merge cannot be undone now, if it cannot: an identifier of the secondary went to
    someone other than the primary (which holds it through the merge), or is suppressed; or one
    of the primary's own that the merge replaced did."""
    emails_identify = ctx.rules.emails_identify
    for kind, value in record.identifiers(emails_identify):
        holder = ctx.store.identifier_owner(kind, value)
        if holder is None:
            continue
        if holder == primary.pk:
            if kind == "anonymous_id":
                continue  # anonymous ids stay where the merge put them until it is undone
            if _still_taken(primary, record, kind):
                continue
        shown = "the primary" if holder == primary.pk else _cio(ctx, holder)
        return f"the secondary's {kind} '{value}' has been taken since by {shown}"
    pairs: list[tuple[str, str | None]] = [("cio_id", record.secondary.cio_id)]
    pairs += [(kind, value) for kind, value in record.identifiers(emails_identify)]
    if record.secondary.email is not None and not emails_identify:
        pairs.append(("email", record.secondary.email))
    if ctx.suppressed([(k, v) for k, v in pairs if k != "anonymous_id"]) is not None:
        return "an identifier of the secondary has been suppressed since"
    return _former_refusal(ctx, primary, record)


def _former_refusal(ctx: Context, primary: Person, record: MergeRecord) -> str | None:
    """Why the primary's own identifier that the merge replaced cannot come back: someone else
    took it since, or it was suppressed. One the primary no longer wants (it changed the value
    it took since the merge) is not given back, so nothing stands in the way."""
    for kind, value in record.primary_before.replaced.items():
        if not _still_taken(primary, record, kind):
            continue
        if kind == "id" or ctx.rules.emails_identify:
            holder = ctx.store.identifier_owner(kind, normalise(kind, value))
            if holder is not None and holder != primary.pk:
                return (
                    f"the primary's former {kind} '{value}', replaced in the merge, has been "
                    f"taken since by {_cio(ctx, holder)}"
                )
        if ctx.suppressed([(kind, value)]) is not None:
            return f"the primary's former {kind}, replaced in the merge, has been suppressed since"
    return None


def _still_taken(primary: Person, record: MergeRecord, kind: str) -> bool:
    """The primary still has the identifier of that kind it took in the merge (it has not
    changed it since): an unmerge gives it back to the secondary."""
    value = getattr(record.secondary, kind)
    current = getattr(primary, kind)
    return (
        kind in record.primary_before.taken
        and value is not None
        and current is not None
        and normalise(kind, current) == normalise(kind, value)
    )


def _cio(ctx: Context, pk: int) -> str:
    holder = ctx.store.person_by_pk(pk)
    return f"cio_{holder.cio_id}" if holder is not None else "another person"


def _restore_primary(primary: Person, record: MergeRecord) -> list[str]:
    """Give the primary back its pre-merge values for what the merge changed, except those it
    set again after the merge: an attribute whose value or I4.8 time differs from what the
    merge left was set since, and stays. Returns the names kept that way."""
    kept: list[str] = []
    for name, change in record.primary_before.attributes.items():
        untouched = (
            name in primary.attributes
            and primary.attributes[name] == change.merged_value
            and primary.attribute_times.get(name) == change.merged_time
        )
        if not untouched:
            kept.append(name)
            continue
        if change.had:
            primary.attributes[name] = change.value
        else:
            primary.attributes.pop(name, None)
        if change.time is not None:
            primary.attribute_times[name] = change.time
        else:
            primary.attribute_times.pop(name, None)
    before = record.primary_before
    if primary.created_in_roster_at == before.merged_created_in_roster_at:
        primary.created_in_roster_at = before.created_in_roster_at
    return kept


def _give_back_identifiers(ctx: Context, primary: Person, record: MergeRecord) -> dict[str, str]:
    """The secondary's identifiers go back to it, and the primary's own ones that the merge
    replaced come back to the primary (checked free by _refusal). Returns those, by kind."""
    assert primary.pk is not None
    secondary = record.secondary
    assert secondary.pk is not None
    emails_identify = ctx.rules.emails_identify
    restored: dict[str, str] = {}
    for kind in record.primary_before.taken:
        if not _still_taken(primary, record, kind):
            continue  # changed since the merge: the primary's own value now, it stays
        if kind == "id" or emails_identify:
            ctx.store.remove_identifier(kind, normalise(kind, getattr(secondary, kind)))
        setattr(primary, kind, None)
        if kind in record.primary_before.replaced:
            restored[kind] = record.primary_before.replaced[kind]
    for kind, value in record.identifiers(emails_identify):
        if ctx.store.identifier_owner(kind, value) is not None:
            ctx.store.remove_identifier(kind, value)  # the primary's, checked by _refusal
        ctx.store.set_identifier(kind, value, secondary.pk)
    for kind, value in restored.items():
        if kind == "id" or emails_identify:
            ctx.store.set_identifier(kind, normalise(kind, value), primary.pk)
        setattr(primary, kind, value)
    return restored


def _give_back_relationships(ctx: Context, primary_pk: int, record: MergeRecord) -> None:
    """The secondary's relationships come back as they were, for the objects the primary is
    still related to (one removed or deleted since stays removed); the primary's own ones get
    their pre-merge attributes, and those it had only through the merge go."""
    store = ctx.store
    secondary_pk = record.secondary.pk
    assert secondary_pk is not None
    now = {(r.object_type_id, r.object_id) for r in store.relationships_of(primary_pk)}
    own = {(r.object_type_id, r.object_id): r for r in record.primary_before.relationships}
    for rel in record.relationships:
        key = (rel.object_type_id, rel.object_id)
        if key not in now:
            continue
        store.remove_relationship(primary_pk, *key)
        if key in own:
            store.add_relationship(primary_pk, *key, dict(own[key].attributes))
        store.add_relationship(secondary_pk, *key, dict(rel.attributes))


def unmerge_people(
    ctx: Context, ref: Reference | Given, locked: tuple[tuple[str, str], ...] | None
) -> Person:
    """I6.4: undo the latest merge into the person `ref` names; returns the secondary.

    `locked` is what the caller took locks on before the transaction (named_identifiers):
    what the merge record gave back then (MergeRecord.given_back). If the latest merge now
    wants identifiers outside that, another unmerge or merge got in between, and the call is
    refused rather than run without the locks that keep its identifiers from being taken
    meanwhile."""
    if isinstance(ref, Given):
        raise UnmergeRefused("an unmerge needs an id, email or cio_id")
    primary = ctx.find(ref)
    if primary is None:
        raise NotFound(f"no person with {ref.kind} '{ref.value}'")
    assert primary.pk is not None
    store = ctx.store
    record = store.latest_merge(primary.pk)
    if record is None or record.pk is None:
        raise UnmergeRefused(f"cio_{primary.cio_id} has no merge to undo")
    if locked is not None:
        wanted = set(record.given_back(ctx.rules.emails_identify))
        if not wanted <= {(kind, normalise(kind, value)) for kind, value in locked}:
            raise UnmergeRefused("the person's merges changed meanwhile: send the unmerge again")
    reason = _refusal(ctx, primary, record)
    if reason is not None:
        raise UnmergeRefused(f"the merge into cio_{primary.cio_id} cannot be undone: {reason}")

    ctx.forget()
    secondary = copy_person(record.secondary)
    assert secondary.pk is not None
    kept = _restore_primary(primary, record)
    store.restore_person(secondary)
    restored = _give_back_identifiers(ctx, primary, record)
    for device in record.devices:
        current = store.device(device.token)
        if current is not None and current.person_pk == primary.pk:
            current.person_pk = secondary.pk
            store.save_device(current)
    _give_back_relationships(ctx, primary.pk, record)
    store.undo_merge(record, ctx.now)
    primary.updated_at = ctx.now
    store.save_person(primary)

    data = {"merge_id": record.pk, "primary": primary.cio_id, "secondary": secondary.cio_id}
    ctx.activity(
        primary,
        "profile_unmerge",
        None,
        {
            **data,
            "kept": kept,
            "restored": [{"kind": kind, "value": value} for kind, value in restored.items()],
        },
    )
    ctx.activity(secondary, "profile_unmerge", None, data)
    ctx.outcome.cio_id = secondary.cio_id
    ctx.cite("I6.4", f"the merge of cio_{secondary.cio_id} into cio_{primary.cio_id} is undone")
    ctx.forget()
    return secondary
