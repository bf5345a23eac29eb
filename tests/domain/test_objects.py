"""Objects and relationships (docs/api.md §2, Segment `group`): attributes merge, relationships with
people and with anonymous ids that later become people (I7.2), deletes, merges (I6.2)."""

from __future__ import annotations

from roster.domain.identifiers import Reference
from roster.domain.operations import DeleteObject, IdentifyObject, ObjectKey, Relate, Related
from tests.domain.builders import (
    EMAIL_OR_ID,
    anonymous_event,
    delete,
    identify,
    merge,
    of_type,
    person,
    ref,
)
from tests.domain.personas import ADA, GRACE, LINUS
from tests.worlds import World

ACME = ObjectKey("1", "acme")


def _with(*people: str, **attributes: object) -> tuple[Related, ...]:
    return tuple(Related(ref(EMAIL_OR_ID, who), dict(attributes)) for who in people)


def test_identifying_an_object_stores_attributes_and_relates_people(world: World) -> None:
    world.apply(IdentifyObject(ACME, {"name": "Acme", "plan": "team"}, _with(ADA.id, role="admin")))
    ada = person(world, "id", ADA.id)  # an unknown id on a relationship creates the person (I8.1)
    found = world.object("1", "acme")
    assert found == {
        "attributes": {"name": "Acme", "plan": "team"},
        "people": {ada.cio_id: {"role": "admin"}},
        "anonymous": {},
    }
    assert of_type(world.activities(ada.cio_id), "add_relationship")[0].data == {
        "object_type_id": "1",
        "object_id": "acme",
    }


def test_object_attributes_merge_and_null_or_empty_removes(world: World) -> None:
    world.apply(IdentifyObject(ACME, {"name": "Acme", "plan": "team", "size": 5}))
    world.apply(IdentifyObject(ACME, {"plan": None, "size": "", "city": "Oslo"}))
    assert world.object("1", "acme")["attributes"] == {"name": "Acme", "city": "Oslo"}  # type: ignore[index]


def test_relationships_to_an_anonymous_id_join_the_person_it_becomes(world: World) -> None:
    anonymous = Related(Reference("anonymous_id", LINUS.anonymous_id), {"role": "viewer"})
    world.apply(IdentifyObject(ACME, {"name": "Acme"}, (anonymous,)))
    assert world.object("1", "acme")["anonymous"] == {LINUS.anonymous_id: {"role": "viewer"}}  # type: ignore[index]
    world.apply(identify(EMAIL_OR_ID, LINUS.id, anonymous_id=LINUS.anonymous_id))
    linus = person(world, "id", LINUS.id)
    found = world.object("1", "acme")
    assert found is not None
    assert found["people"] == {linus.cio_id: {"role": "viewer"}}
    assert found["anonymous"] == {}


def test_a_known_anonymous_id_relates_its_person_directly(world: World) -> None:
    world.apply(anonymous_event(LINUS.anonymous_id, "visit"))
    world.apply(identify(EMAIL_OR_ID, LINUS.id, anonymous_id=LINUS.anonymous_id))
    anonymous = Related(Reference("anonymous_id", LINUS.anonymous_id))
    world.apply(Relate(ACME, (anonymous,)))
    linus = person(world, "id", LINUS.id)
    assert world.object("1", "acme")["people"] == {linus.cio_id: {}}  # type: ignore[index]


def test_deleting_relationships_leaves_the_object_and_logs_it(world: World) -> None:
    world.apply(IdentifyObject(ACME, {"name": "Acme"}, _with(ADA.id, GRACE.id)))
    world.apply(Relate(ACME, _with(ADA.id), remove=True))
    grace = person(world, "id", GRACE.id)
    ada = person(world, "id", ADA.id)
    assert world.object("1", "acme")["people"] == {grace.cio_id: {}}  # type: ignore[index]
    assert len(of_type(world.activities(ada.cio_id), "delete_relationship")) == 1


def test_deleting_a_relationship_never_creates_a_person(world: World) -> None:
    world.apply(IdentifyObject(ACME, {"name": "Acme"}))
    world.apply(Relate(ACME, _with("nobody-yet"), remove=True))
    assert world.people() == []


def test_deleting_an_object_removes_its_relationships(world: World) -> None:
    world.apply(IdentifyObject(ACME, {"name": "Acme"}, _with(ADA.id)))
    world.apply(DeleteObject(ACME))
    assert world.object("1", "acme") is None
    world.apply(IdentifyObject(ACME, {"name": "Acme again"}))
    assert world.object("1", "acme")["people"] == {}  # type: ignore[index]


def test_deleting_an_unknown_object_is_logged_not_an_error(world: World) -> None:
    outcome = world.apply(DeleteObject(ObjectKey("1", "ghost")))
    assert any("no object" in note.reason for note in outcome.notes)


def test_relationship_attributes_merge_like_object_attributes(world: World) -> None:
    world.apply(Relate(ACME, _with(ADA.id, role="admin", seat=1)))
    world.apply(Relate(ACME, _with(ADA.id, role="owner", seat=None)))
    ada = person(world, "id", ADA.id)
    assert world.object("1", "acme")["people"] == {ada.cio_id: {"role": "owner"}}  # type: ignore[index]


def test_i6_2_a_merge_moves_relationships_to_the_primary(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(Relate(ACME, _with(GRACE.id, role="admin")))
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))
    ada = person(world, "id", ADA.id)
    assert world.object("1", "acme")["people"] == {ada.cio_id: {"role": "admin"}}  # type: ignore[index]


def test_i9_1_deleting_a_person_removes_their_relationships(world: World) -> None:
    world.apply(Relate(ACME, _with(ADA.id)))
    world.apply(delete(EMAIL_OR_ID, ADA.id))
    assert world.object("1", "acme")["people"] == {}  # type: ignore[index]
