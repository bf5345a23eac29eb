"""I7. Anonymous activity."""

from __future__ import annotations

import pytest

from roster.domain.errors import ConflictError
from roster.domain.identifiers import IdentifierMode, Reference
from roster.domain.operations import ObjectKey, Relate, Related
from tests.domain.builders import (
    EMAIL_OR_ID,
    anonymous_event,
    event,
    failures,
    identifiers_of,
    identify,
    of_type,
    person,
)
from tests.domain.personas import ADA, GRACE, LINUS, START
from tests.worlds import World


@pytest.mark.parametrize("as_reference", [False, True], ids=["v1-anonymous_id", "v2-identifiers"])
def test_i7_1_events_with_only_an_anonymous_id_are_stored_as_anonymous_events(
    world: World, as_reference: bool
) -> None:
    world.apply(
        anonymous_event(
            LINUS.anonymous_id,
            "page_viewed",
            data={"url": "/pricing"},
            timestamp=START - 60,
            as_reference=as_reference,
        )
    )

    assert world.people() == []
    [stored] = world.events(None)
    assert (stored.name, stored.anonymous_id, stored.person_pk) == (
        "page_viewed",
        LINUS.anonymous_id,
        None,
    )
    assert (stored.data, stored.timestamp) == ({"url": "/pricing"}, START - 60)


def test_i7_1_an_event_with_neither_reference_nor_anonymous_id_is_not_stored(world: World) -> None:
    outcome = world.apply(event(EMAIL_OR_ID, None, "page_viewed"))  # no userId, anonymousId

    assert world.events(None) == []
    assert outcome.notes


def test_i7_2_identifying_with_the_anonymous_id_attaches_every_stored_anonymous_event(
    world: World, any_mode: IdentifierMode
) -> None:
    for n in range(3):
        world.apply(
            anonymous_event(LINUS.anonymous_id, f"browsed_{n}", timestamp=START - n * 86400 * 90)
        )
    world.apply(anonymous_event("anon-someone-else", "browsed"))

    world.apply(identify(any_mode, LINUS.id, anonymous_id=LINUS.anonymous_id))

    linus = person(world, "id", LINUS.id)
    assert sorted(e.name for e in world.events(linus.cio_id)) == [
        "browsed_0",
        "browsed_1",
        "browsed_2",
    ]
    assert [e.anonymous_id for e in world.events(None)] == ["anon-someone-else"]
    [anon_merge] = of_type(world.activities(linus.cio_id), "anon_merge")
    assert anon_merge.data == {"anonymous_id": LINUS.anonymous_id, "events": 3}


def test_i7_2_later_events_with_a_linked_anonymous_id_go_straight_to_the_person(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, LINUS.id, anonymous_id=LINUS.anonymous_id))

    world.apply(anonymous_event(LINUS.anonymous_id, "came_back"))
    world.apply(anonymous_event(LINUS.anonymous_id, "came_back_again", as_reference=True))

    linus = person(world, "id", LINUS.id)
    assert [e.name for e in world.events(linus.cio_id)] == ["came_back", "came_back_again"]
    assert world.events(None) == []


def test_i7_2_an_event_for_a_known_person_carrying_an_anonymous_id_links_it(world: World) -> None:
    world.apply(anonymous_event(LINUS.anonymous_id, "browsed"))
    world.apply(identify(EMAIL_OR_ID, LINUS.id))

    world.apply(event(EMAIL_OR_ID, LINUS.id, "purchased", anonymous_id=LINUS.anonymous_id))

    linus = person(world, "id", LINUS.id)
    assert world.anonymous_ids(linus.cio_id) == [LINUS.anonymous_id]
    assert [e.name for e in world.events(linus.cio_id)] == ["browsed", "purchased"]
    assert world.events(None) == []


def test_i7_2_a_person_may_have_several_anonymous_ids(world: World) -> None:
    world.apply(anonymous_event("anon-phone", "opened_app"))
    world.apply(anonymous_event("anon-laptop", "page_viewed"))

    world.apply(identify(EMAIL_OR_ID, LINUS.id, anonymous_id="anon-phone"))
    world.apply(identify(EMAIL_OR_ID, LINUS.id, anonymous_id="anon-laptop"))

    linus = person(world, "id", LINUS.id)
    assert world.anonymous_ids(linus.cio_id) == ["anon-laptop", "anon-phone"]
    assert len(world.events(linus.cio_id)) == 2


def test_i7_3_an_anonymous_id_linked_to_another_person_is_a_conflict(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, anonymous_id="anon-shared"))
    world.apply(identify(EMAIL_OR_ID, GRACE.id))
    ada_cio = person(world, "id", ADA.id).cio_id
    grace_cio = person(world, "id", GRACE.id).cio_id

    outcome = world.apply(identify(EMAIL_OR_ID, GRACE.id, anonymous_id="anon-shared", plan="pro"))

    assert person(world, "anonymous_id", "anon-shared").cio_id == ada_cio
    assert world.anonymous_ids(grace_cio) == []
    assert person(world, "id", GRACE.id).attributes == {"plan": "pro"}
    assert [(c.kind, c.held_by) for c in outcome.conflicts] == [("anonymous_id", ada_cio)]
    assert failures(world, grace_cio, "anonymous_id")[0]["value"] == "anon-shared"


def test_i7_3_in_strict_mode_the_anonymous_id_conflict_rejects_the_call(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, anonymous_id="anon-shared"))
    world.apply(identify(EMAIL_OR_ID, GRACE.id))
    before = world.people()

    with pytest.raises(ConflictError):
        world.apply(
            event(EMAIL_OR_ID, GRACE.id, "purchased", anonymous_id="anon-shared"), strict=True
        )

    assert world.people() == before
    assert world.events(person(world, "id", GRACE.id).cio_id) == []


def test_i7_3_an_event_for_one_person_does_not_take_anothers_anonymous_id(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, anonymous_id="anon-shared"))

    world.apply(event(EMAIL_OR_ID, GRACE.id, "purchased", anonymous_id="anon-shared"))

    assert person(world, "anonymous_id", "anon-shared").id == ADA.id
    grace = person(world, "id", GRACE.id)
    assert [e.name for e in world.events(grace.cio_id)] == ["purchased"]
    assert world.anonymous_ids(grace.cio_id) == []


def test_i7_4_an_anonymous_id_on_an_event_is_not_part_of_its_data(world: World) -> None:
    world.apply(anonymous_event(LINUS.anonymous_id, "browsed", data={"url": "/"}))
    world.apply(event(EMAIL_OR_ID, LINUS.id, "bought", data={"sku": 1}, anonymous_id="anon-2"))

    [anonymous] = world.events(None)
    assert (anonymous.data, anonymous.anonymous_id) == ({"url": "/"}, LINUS.anonymous_id)
    [bought] = world.events(person(world, "id", LINUS.id).cio_id)
    assert (bought.data, bought.anonymous_id) == ({"sku": 1}, "anon-2")


def test_i7_5_pages_and_screens_are_events_of_their_type(world: World) -> None:
    world.apply(anonymous_event(LINUS.anonymous_id, "https://example.com/pricing", type="page"))
    world.apply(event(EMAIL_OR_ID, LINUS.id, "Settings", type="screen"))
    world.apply(identify(EMAIL_OR_ID, LINUS.id, anonymous_id=LINUS.anonymous_id))

    linus = person(world, "id", LINUS.id)
    assert sorted((e.type, e.name) for e in world.events(linus.cio_id)) == [
        ("page", "https://example.com/pricing"),
        ("screen", "Settings"),
    ]
    assert identifiers_of(world) == [(LINUS.id, None)]


def test_i7_1_an_event_that_names_nobody_usable_says_why(world: World) -> None:
    blocked_reference = world.apply(event(EMAIL_OR_ID, "undefined", "page_viewed"))
    blocked_anonymous = world.apply(anonymous_event("guest", "page_viewed"))
    blocked_both = world.apply(event(EMAIL_OR_ID, "null", "page_viewed", anonymous_id="none"))

    assert [[n.reason for n in o.notes] for o in (blocked_reference, blocked_anonymous)] == [
        [
            "reference 'undefined' was ignored: it is a blocked placeholder value",
            "no usable reference or anonymous id: the event was not stored",
        ],
        [
            "anonymous_id 'guest' was ignored: it is a blocked placeholder value",
            "no usable reference or anonymous id: the event was not stored",
        ],
    ]
    assert [n.reason for n in blocked_both.notes] == [
        "reference 'null' was ignored: it is a blocked placeholder value",
        "anonymous_id 'none' was ignored: it is a blocked placeholder value",
        "no usable reference or anonymous id: the event was not stored",
    ]
    assert (world.events(None), world.people()) == ([], [])


def test_i7_1_an_anonymous_event_with_a_blocked_reference_is_kept_and_says_so(
    world: World,
) -> None:
    outcome = world.apply(event(EMAIL_OR_ID, "undefined", "page_viewed", anonymous_id="anon-7"))

    assert [n.reason for n in outcome.notes] == [
        "reference 'undefined' was ignored: it is a blocked placeholder value"
    ]
    assert [e.anonymous_id for e in world.events(None)] == ["anon-7"]


def test_i7_2_relationships_kept_for_an_anonymous_id_can_be_removed_before_it_is_a_person(
    world: World,
) -> None:
    acme, globex = ObjectKey("1", "acme"), ObjectKey("1", "globex")
    anonymous = (Related(Reference("anonymous_id", LINUS.anonymous_id), {"role": "viewer"}),)
    world.apply(Relate(acme, anonymous))
    world.apply(Relate(globex, anonymous))

    world.apply(Relate(acme, anonymous, remove=True))

    assert world.object("1", "acme") == {"attributes": {}, "people": {}, "anonymous": {}}
    assert world.object("1", "globex") == {
        "attributes": {},
        "people": {},
        "anonymous": {LINUS.anonymous_id: {"role": "viewer"}},
    }
    world.apply(identify(EMAIL_OR_ID, LINUS.id, anonymous_id=LINUS.anonymous_id))
    linus = person(world, "id", LINUS.id)
    [anon_merge] = of_type(world.activities(linus.cio_id), "anon_merge")
    assert anon_merge.data == {"anonymous_id": LINUS.anonymous_id, "events": 0, "relationships": 1}


def test_i7_2_removing_a_relationship_from_an_unknown_object_creates_no_object(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))

    world.apply(Relate(ObjectKey("1", "ghost"), (Related(Reference("id", ADA.id)),), remove=True))

    assert world.object("1", "ghost") is None


def test_i7_2_a_removed_relationship_is_logged_with_the_object_it_named(world: World) -> None:
    acme = ObjectKey("1", "acme")
    world.apply(Relate(acme, (Related(Reference("id", ADA.id)),)))
    ada_cio = person(world, "id", ADA.id).cio_id

    world.apply(Relate(acme, (Related(Reference("id", ADA.id)),), remove=True))

    [removed] = of_type(world.activities(ada_cio), "delete_relationship")
    assert removed.data == {"object_type_id": "1", "object_id": "acme"}
