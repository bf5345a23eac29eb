"""I9. Delete, suppress, unsubscribe."""

from __future__ import annotations

import re

import pytest

from roster.domain.identifiers import IdentifierMode, Reference, suppression_hash
from tests.domain.builders import (
    EMAIL_OR_ID,
    ID_ONLY,
    add_device,
    alias,
    anonymous_event,
    cio,
    delete,
    event,
    identifiers_of,
    identify,
    merge,
    of_type,
    person,
    suppress,
    unsuppress,
)
from tests.domain.personas import ADA, BARBARA, GRACE, START
from tests.worlds import World

REL = [{"identifiers": {"object_type_id": "1", "object_id": "acme"}}]


def _barbara_with_everything(world: World, mode: IdentifierMode) -> str:
    world.apply(anonymous_event(BARBARA.anonymous_id, "browsed"))
    world.apply(
        identify(
            mode,
            BARBARA.id,
            email=BARBARA.email,
            anonymous_id=BARBARA.anonymous_id,
            plan="pro",
            cio_relationships=REL,
        )
    )
    world.apply(event(mode, BARBARA.id, "purchased", event_id="evt-barbara"))
    world.apply(add_device(mode, BARBARA.id, BARBARA.device))
    return person(world, "id", BARBARA.id).cio_id


# -- I9.1 delete -----------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["id", "cio_id"])
def test_i9_1_delete_removes_the_person_and_everything_of_theirs(
    world: World, any_mode: IdentifierMode, by: str
) -> None:
    world.apply(identify(any_mode, ADA.id, plan="pro"))
    barbara_cio = _barbara_with_everything(world, any_mode)

    world.apply(delete(any_mode, BARBARA.id if by == "id" else cio(barbara_cio)))

    assert identifiers_of(world) == [(ADA.id, None)]
    assert world.person("cio_id", barbara_cio) is None
    assert world.person("anonymous_id", BARBARA.anonymous_id) is None
    assert world.events(barbara_cio) == []
    assert world.events(None) == []
    assert world.devices(barbara_cio) == []
    assert world.anonymous_ids(barbara_cio) == []
    assert person(world, "id", ADA.id).attributes == {"plan": "pro"}


def test_i9_1_the_log_keeps_only_a_profile_delete_entry_with_the_cio_id(world: World) -> None:
    barbara_cio = _barbara_with_everything(world, EMAIL_OR_ID)

    world.apply(delete(EMAIL_OR_ID, BARBARA.email))

    [entry] = world.activities(barbara_cio)
    assert (entry.type, entry.cio_id) == ("profile_delete", barbara_cio)
    assert BARBARA.id not in repr(entry.data) and BARBARA.email not in repr(entry.data)


def test_i9_1_a_later_call_with_the_same_identifier_creates_a_brand_new_person(
    world: World, any_mode: IdentifierMode
) -> None:
    barbara_cio = _barbara_with_everything(world, any_mode)
    world.apply(delete(any_mode, BARBARA.id))

    world.apply(identify(any_mode, BARBARA.id, email=BARBARA.email))
    world.apply(event(any_mode, BARBARA.id, "purchased", event_id="evt-barbara"))
    world.apply(identify(any_mode, BARBARA.id, anonymous_id=BARBARA.anonymous_id))

    reborn = person(world, "id", BARBARA.id)
    assert reborn.cio_id != barbara_cio
    assert (reborn.email, reborn.attributes) == (BARBARA.email, {})
    assert [e.name for e in world.events(reborn.cio_id)] == ["purchased"]
    assert world.anonymous_ids(reborn.cio_id) == [BARBARA.anonymous_id]
    assert world.devices(reborn.cio_id) == []


def test_i9_1_deleting_nobody_creates_nobody(world: World, any_mode: IdentifierMode) -> None:
    outcome = world.apply(delete(any_mode, ADA.id))

    assert world.people() == []
    assert outcome.notes


# -- I9.2 suppress ---------------------------------------------------------------------------------


def test_i9_2_suppress_deletes_the_person_and_blocks_their_identifiers(world: World) -> None:
    barbara_cio = _barbara_with_everything(world, EMAIL_OR_ID)

    world.apply(suppress(EMAIL_OR_ID, BARBARA.id))

    assert world.people() == []
    assert world.suppressed("id", BARBARA.id)
    assert world.suppressed("email", BARBARA.email)
    assert world.suppressed("email", BARBARA.email.upper())
    assert world.suppressed("cio_id", barbara_cio)
    assert not world.suppressed("anonymous_id", BARBARA.anonymous_id)
    [entry] = world.activities(barbara_cio)
    assert entry.type == "profile_delete"
    assert entry.data == {"suppressed": True}


def test_i9_2_in_id_only_only_the_id_is_suppressed(world: World) -> None:
    world.configure(identifier_mode="id_only")
    _barbara_with_everything(world, ID_ONLY)

    world.apply(suppress(ID_ONLY, BARBARA.id))
    world.apply(identify(ID_ONLY, "barbara-2", email=BARBARA.email))

    assert world.suppressed("id", BARBARA.id)
    assert not world.suppressed("email", BARBARA.email)
    assert identifiers_of(world) == [("barbara-2", BARBARA.email)]


@pytest.mark.parametrize("kind", ["id", "email"])
def test_i9_2_every_later_call_referencing_a_suppressed_identifier_is_ignored(
    world: World, kind: str
) -> None:
    _barbara_with_everything(world, EMAIL_OR_ID)
    world.apply(suppress(EMAIL_OR_ID, BARBARA.email))
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    reference = getattr(BARBARA, kind)

    outcomes = [
        world.apply(identify(EMAIL_OR_ID, reference, plan="pro")),
        world.apply(identify(EMAIL_OR_ID, reference.upper() if kind == "email" else reference)),
        world.apply(event(EMAIL_OR_ID, reference, "purchased")),
        world.apply(add_device(EMAIL_OR_ID, reference, BARBARA.device)),
        world.apply(delete(EMAIL_OR_ID, reference)),
        world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), (kind, reference))),
    ]

    assert identifiers_of(world) == [(ADA.id, ADA.email)]
    assert world.events(None) == []
    for outcome in outcomes:
        assert outcome.cio_id is None
    secret_free = [n for o in outcomes[:5] for n in o.notes if n.identifier_hash]
    assert len(secret_free) == 5
    for note in secret_free:
        assert re.fullmatch(r"[0-9a-f]{64}", note.identifier_hash or "")
        assert reference not in note.reason


def test_i9_2_a_call_setting_a_suppressed_identifier_is_ignored_whole(world: World) -> None:
    world.apply(suppress(EMAIL_OR_ID, BARBARA.email))
    world.apply(suppress(EMAIL_OR_ID, BARBARA.id))
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    ada_cio = person(world, "id", ADA.id).cio_id

    world.apply(identify(EMAIL_OR_ID, ADA.id, email=BARBARA.email, plan="pro"))
    world.apply(identify(EMAIL_OR_ID, cio(ada_cio), id=BARBARA.id, plan="pro"))
    world.apply(identify(EMAIL_OR_ID, None, email=f" {BARBARA.email.title()} ", plan="pro"))

    assert [(p.id, p.email, p.attributes) for p in world.people()] == [(ADA.id, None, {})]


def test_i9_2_suppressing_an_identifier_with_no_person_suppresses_the_value(
    world: World, any_mode: IdentifierMode
) -> None:
    outcome = world.apply(suppress(any_mode, "ghost-1"))
    world.apply(identify(any_mode, "ghost-1", plan="pro"))
    world.apply(event(any_mode, "ghost-1", "purchased"))

    assert outcome.cio_id is None
    assert world.suppressed("id", "ghost-1")
    assert world.people() == []


def test_i9_2_a_suppressed_email_is_matched_case_folded(world: World) -> None:
    world.apply(suppress(EMAIL_OR_ID, "Ghost@Example.COM"))

    world.apply(identify(EMAIL_OR_ID, "ghost@example.com"))

    assert world.suppressed("email", " GHOST@example.com ")
    assert world.people() == []


def test_i9_2_the_list_holds_keyed_hashes_of_normalised_values_never_the_values() -> None:
    secret, other = b"workspace-one", b"workspace-two"
    email_hash = suppression_hash(secret, "email", "Barbara@Example.com")

    assert re.fullmatch(r"[0-9a-f]{64}", email_hash)
    assert "barbara" not in email_hash
    assert email_hash == suppression_hash(secret, "email", "  barbara@example.COM ")
    assert email_hash != suppression_hash(other, "email", "barbara@example.com")
    assert email_hash != suppression_hash(secret, "id", "barbara@example.com")
    assert suppression_hash(secret, "id", "Barbara-1") != suppression_hash(
        secret, "id", "barbara-1"
    )


# -- I9.3 unsuppress -------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["id", "email"])
def test_i9_3_unsuppress_by_one_identifier_frees_all_suppressed_with_it(
    world: World, by: str
) -> None:
    barbara_cio = _barbara_with_everything(world, EMAIL_OR_ID)
    world.apply(suppress(EMAIL_OR_ID, BARBARA.id))

    world.apply(unsuppress(EMAIL_OR_ID, getattr(BARBARA, by)))

    assert not world.suppressed("id", BARBARA.id)
    assert not world.suppressed("email", BARBARA.email)
    assert not world.suppressed("cio_id", barbara_cio)
    assert world.people() == []  # it restores nothing
    world.apply(identify(EMAIL_OR_ID, BARBARA.email, id=BARBARA.id))
    assert identifiers_of(world) == [(BARBARA.id, BARBARA.email)]


def test_i9_3_unsuppress_leaves_other_suppressions_alone(world: World) -> None:
    world.apply(suppress(EMAIL_OR_ID, "ghost-1"))
    world.apply(suppress(EMAIL_OR_ID, "ghost-2"))

    world.apply(unsuppress(EMAIL_OR_ID, "ghost-1"))
    outcome = world.apply(unsuppress(EMAIL_OR_ID, "never-suppressed"))

    assert not world.suppressed("id", "ghost-1")
    assert world.suppressed("id", "ghost-2")
    assert outcome.notes


# -- I9.4, I9.5 ------------------------------------------------------------------------------------


def test_i9_4_a_deletion_notice_for_a_user_id_deletes_that_person(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.id))

    world.apply(delete(EMAIL_OR_ID, ADA.id))

    assert identifiers_of(world) == [(GRACE.id, None)]


def test_i9_5_unsubscribing_is_the_unsubscribed_attribute(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, unsubscribed="TRUE"))
    assert person(world, "id", ADA.id).unsubscribed is True

    world.apply(identify(EMAIL_OR_ID, ADA.id, unsubscribed=False))
    ada = person(world, "id", ADA.id)
    assert ada.unsubscribed is False
    assert [
        a.data for a in of_type(world.activities(ada.cio_id), "attribute_change", "unsubscribed")
    ] == [
        {"from": None, "to": True},
        {"from": True, "to": False},
    ]


def test_i9_1_a_delete_leaves_a_profile_delete_entry_with_the_cio_id_and_the_time(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, GRACE.id))
    ada_cio, grace_cio = person(world, "id", ADA.id).cio_id, person(world, "id", GRACE.id).cio_id
    world.set_time(START + 60)

    world.apply(delete(EMAIL_OR_ID, ADA.id))
    world.apply(suppress(EMAIL_OR_ID, GRACE.id))

    [deleted] = of_type(world.activities(ada_cio), "profile_delete")
    [suppressed] = of_type(world.activities(grace_cio), "profile_delete")
    assert (deleted.cio_id, deleted.timestamp, deleted.data) == (ada_cio, START + 60, None)
    assert (suppressed.cio_id, suppressed.data) == (grace_cio, {"suppressed": True})


def test_i9_2_suppress_and_unsuppress_say_why_they_did_nothing(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, anonymous_id=ADA.anonymous_id))

    outcomes = [
        world.apply(suppress(EMAIL_OR_ID, None)),
        world.apply(suppress(EMAIL_OR_ID, Reference("anonymous_id", ADA.anonymous_id))),
        world.apply(suppress(EMAIL_OR_ID, "cio_0000000000ff")),
        world.apply(unsuppress(EMAIL_OR_ID, None)),
        world.apply(unsuppress(EMAIL_OR_ID, Reference("anonymous_id", ADA.anonymous_id))),
        world.apply(unsuppress(EMAIL_OR_ID, ADA.id)),
    ]

    assert [[n.reason for n in outcome.notes] for outcome in outcomes] == [
        ["suppress needs an id, email or cio_id"],
        ["suppress needs an id, email or cio_id"],
        ["no person has cio_id '0000000000ff': nothing was suppressed"],
        ["unsuppress needs an id, email or cio_id"],
        ["unsuppress needs an id, email or cio_id"],
        ["id was not suppressed: nothing was changed"],
    ]
    assert identifiers_of(world) == [(ADA.id, None)]
    assert not world.suppressed("anonymous_id", ADA.anonymous_id)
    assert not world.suppressed("cio_id", "0000000000ff")


def test_i9_2_a_call_naming_a_suppressed_identifier_is_logged_with_its_hash_only(
    world: World,
) -> None:
    world.apply(suppress(EMAIL_OR_ID, BARBARA.id))

    outcomes = [
        world.apply(identify(EMAIL_OR_ID, GRACE.id, id=BARBARA.id)),
        world.apply(event(EMAIL_OR_ID, BARBARA.id, "signed_in")),
        world.apply(alias(EMAIL_OR_ID, GRACE.id, BARBARA.id)),
    ]

    assert [[n.reason for n in o.notes] for o in outcomes] == [
        ["the call references or sets a suppressed identifier"],
        ["the call references a suppressed identifier"],
        ["alias: previousId is a suppressed identifier"],
    ]
    [hashed] = {n.identifier_hash for o in outcomes for n in o.notes}  # the workspace's key
    assert hashed is not None and re.fullmatch(r"[0-9a-f]{64}", hashed)
    assert world.people() == []
