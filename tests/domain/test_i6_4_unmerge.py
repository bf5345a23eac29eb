"""I6.4. Unmerge: the latest merge into a person is undone, or refused with the reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from roster.domain.errors import MergeRefused, NotFound, UnmergeRefused
from roster.domain.identifiers import IdentifierMode, Reference
from roster.domain.operations import ObjectKey, Relate, Related, Unmerge
from roster.domain.people import Person
from tests.domain.builders import (
    EMAIL_OR_ID,
    ID_ONLY,
    add_device,
    cio,
    delete,
    delete_device,
    event,
    identify,
    merge,
    merge_record,
    of_type,
    person,
    suppress,
    unmerge,
)
from tests.domain.personas import ADA, DAY, GRACE, HOUR, LINUS, START
from tests.worlds import World

ACME = {"object_type_id": "1", "object_id": "acme"}


def _state(world: World, found: Person) -> dict[str, Any]:
    """Everything I6.4 promises to give back, of one person."""
    return {
        "person": (
            found.pk,
            found.cio_id,
            found.id,
            found.email,
            found.attributes,
            found.attribute_times,
            found.created_in_roster_at,
        ),
        "events": [(e.pk, e.name) for e in world.events(found.cio_id)],
        "devices": [(d.token, d.platform, d.attributes) for d in world.devices(found.cio_id)],
        "anonymous_ids": world.anonymous_ids(found.cio_id),
        "relationships": (world.object("1", "acme") or {}).get("people", {}).get(found.cio_id),
    }


def _ada_and_grace(world: World, mode: IdentifierMode) -> tuple[Person, Person]:
    """Ada, with an id, an email and a plan; Grace, with a bit of everything to move."""
    world.apply(identify(mode, ADA.id, email=ADA.email, plan="pro"))
    world.set_time(START + HOUR)
    world.apply(
        identify(
            mode,
            GRACE.id,
            email=GRACE.email,
            anonymous_id=GRACE.anonymous_id,
            plan="free",
            country="UK",
            unsubscribed=True,
            cio_relationships=[{"identifiers": ACME, "relationship_attributes": {"role": "admin"}}],
        )
    )
    world.apply(event(mode, GRACE.id, "signed_up", timestamp=START - DAY))
    world.apply(add_device(mode, GRACE.id, GRACE.device, platform="android", app="v2"))
    world.set_time(START + 2 * HOUR)
    return person(world, "id", ADA.id), person(world, "id", GRACE.id)


def test_i6_4_an_unmerge_right_after_a_merge_gives_back_both_people_exactly(
    world: World, any_mode: IdentifierMode
) -> None:
    ada, grace = _ada_and_grace(world, any_mode)
    ada_had, grace_had = _state(world, ada), _state(world, grace)

    world.apply(merge(any_mode, ("id", ADA.id), ("id", GRACE.id)))
    assert world.person("cio_id", grace.cio_id) is None
    world.set_time(START + 3 * HOUR)
    outcome = world.apply(unmerge(any_mode, ADA.id))

    assert outcome.cio_id == grace.cio_id
    assert _state(world, person(world, "id", ADA.id)) == ada_had
    assert _state(world, person(world, "id", GRACE.id)) == grace_had
    assert person(world, "anonymous_id", GRACE.anonymous_id).cio_id == grace.cio_id


def test_i6_4_the_primary_gets_back_what_the_merge_changed_but_keeps_what_it_set_since(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, plan="pro"))
    world.apply(identify(EMAIL_OR_ID, ADA.id, plan=""))  # removed: no value, but a time
    world.apply(identify(EMAIL_OR_ID, GRACE.id, email=GRACE.email, plan="free", seats=3))
    ada_before = person(world, "id", ADA.id)
    world.set_time(START + HOUR)
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))
    ada = person(world, "email", GRACE.email)
    assert (ada.id, ada.attributes) == (ADA.id, {"plan": "free", "seats": 3})
    world.set_time(START + 2 * HOUR)
    world.apply(identify(EMAIL_OR_ID, ADA.id, seats=5, country="UK"))

    world.set_time(START + 3 * HOUR)
    world.apply(unmerge(EMAIL_OR_ID, ADA.id))

    ada = person(world, "id", ADA.id)
    # plan: back to what Ada had (none, removed at START); seats: set after the merge, stays.
    assert ada.attributes == {"seats": 5, "country": "UK"}
    assert ada.attribute_times["seats"] == START + 2 * HOUR
    assert ada.attribute_times.get("plan") == ada_before.attribute_times.get("plan")
    assert ada.email is None  # she took Grace's email in the merge: it goes back
    grace = person(world, "email", GRACE.email)
    assert (grace.id, grace.attributes) == (GRACE.id, {"plan": "free", "seats": 3})
    [unmerged] = of_type(world.activities(ada.cio_id), "profile_unmerge")
    assert unmerged.data is not None and unmerged.data["kept"] == ["seats"]


def test_i6_4_events_recorded_after_the_merge_stay_with_the_primary(world: World) -> None:
    world.apply(event(EMAIL_OR_ID, ADA.id, "ada_before"))
    world.apply(event(EMAIL_OR_ID, GRACE.id, "grace_before"))
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))
    world.set_time(START + HOUR)
    world.apply(event(EMAIL_OR_ID, ADA.id, "after_merge"))

    world.apply(unmerge(EMAIL_OR_ID, ADA.id))

    ada, grace = person(world, "id", ADA.id), person(world, "id", GRACE.id)
    assert [e.name for e in world.events(ada.cio_id)] == ["ada_before", "after_merge"]
    assert [e.name for e in world.events(grace.cio_id)] == ["grace_before"]


def test_i6_4_the_secondary_comes_back_after_someone_new_was_created_since_the_merge(
    world: World,
) -> None:
    """A person created after the merge never takes the merged-away person's storage key
    (SQLite would hand out the highest freed row number again without AUTOINCREMENT)."""
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, plan="pro"))
    grace_cio = person(world, "id", GRACE.id).cio_id
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))
    world.apply(identify(EMAIL_OR_ID, LINUS.id))

    world.apply(unmerge(EMAIL_OR_ID, ADA.id))

    grace = person(world, "id", GRACE.id)
    assert (grace.cio_id, grace.attributes["plan"]) == (grace_cio, "pro")
    assert person(world, "id", LINUS.id).cio_id != grace_cio


def test_i6_4_merges_and_unmerges_are_in_the_activity_log_of_both_people(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, GRACE.id))
    grace_cio = person(world, "id", GRACE.id).cio_id
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))
    # Merged away, Grace's own entry is found by her cio_id, as a deleted person's are.
    assert [a.type for a in of_type(world.activities(grace_cio), "profile_merge")] == [
        "profile_merge"
    ]

    world.apply(unmerge(EMAIL_OR_ID, ADA.id))

    ada_cio = person(world, "id", ADA.id).cio_id
    for cio_id, other in ((ada_cio, grace_cio), (grace_cio, ada_cio)):
        merged = of_type(world.activities(cio_id), "profile_merge")
        unmerged = of_type(world.activities(cio_id), "profile_unmerge")
        assert (len(merged), len(unmerged)) == (1, 1), cio_id
        assert unmerged[0].data is not None
        assert {unmerged[0].data["primary"], unmerged[0].data["secondary"]} == {cio_id, other}
        assert merged[0].data is not None
        assert unmerged[0].data["merge_id"] == merged[0].data["merge_id"]


def test_i6_4_each_unmerge_undoes_the_latest_merge_still_in_place(world: World) -> None:
    for persona in (ADA, GRACE, LINUS):
        world.apply(identify(EMAIL_OR_ID, persona.id))
        world.apply(event(EMAIL_OR_ID, persona.id, f"{persona.name}_event"))
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", LINUS.id)))

    first = world.apply(unmerge(EMAIL_OR_ID, ADA.id))
    second = world.apply(unmerge(EMAIL_OR_ID, ADA.id))
    with pytest.raises(UnmergeRefused) as refused:
        world.apply(unmerge(EMAIL_OR_ID, ADA.id))

    assert first.cio_id == person(world, "id", LINUS.id).cio_id
    assert second.cio_id == person(world, "id", GRACE.id).cio_id
    assert "no merge to undo" in refused.value.message
    for persona in (ADA, GRACE, LINUS):
        cio_id = person(world, "id", persona.id).cio_id
        assert [e.name for e in world.events(cio_id)] == [f"{persona.name}_event"]


def test_i6_4_a_chain_of_merges_unwinds_one_merge_at_a_time(world: World) -> None:
    # Linus was merged into Grace, then Grace into Ada: undoing Ada's merge brings Grace back
    # with Linus's events; undoing Grace's then brings Linus back with his own.
    for persona in (ADA, GRACE, LINUS):
        world.apply(identify(EMAIL_OR_ID, persona.id))
        world.apply(event(EMAIL_OR_ID, persona.id, f"{persona.name}_event"))
    world.apply(merge(EMAIL_OR_ID, ("id", GRACE.id), ("id", LINUS.id)))
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))

    world.apply(unmerge(EMAIL_OR_ID, ADA.id))
    grace_cio = person(world, "id", GRACE.id).cio_id
    assert [e.name for e in world.events(grace_cio)] == ["Grace_event", "Linus_event"]
    world.apply(unmerge(EMAIL_OR_ID, GRACE.id))

    for persona in (ADA, GRACE, LINUS):
        cio_id = person(world, "id", persona.id).cio_id
        assert [e.name for e in world.events(cio_id)] == [f"{persona.name}_event"]


def test_i6_4_with_no_merge_to_undo_it_is_refused_and_nothing_changes(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, plan="pro"))
    before = world.people()

    with pytest.raises(UnmergeRefused) as refused:
        world.apply(unmerge(EMAIL_OR_ID, ADA.id))

    assert "no merge to undo" in refused.value.message
    assert world.people() == before


def test_i6_4_an_unknown_person_is_not_found(world: World) -> None:
    with pytest.raises(NotFound) as missing:
        world.apply(unmerge(EMAIL_OR_ID, "nobody-1"))
    assert missing.value.message == "no person with id 'nobody-1'"
    with pytest.raises(NotFound):
        world.apply(unmerge(EMAIL_OR_ID, cio("ffffffffffff")))


def test_i6_4_refused_when_an_identifier_of_the_secondary_was_taken_since(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, email=GRACE.email))
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))  # Grace's id is freed
    world.apply(identify(EMAIL_OR_ID, GRACE.id, plan="new"))  # a new person takes it
    newcomer = person(world, "id", GRACE.id)
    before = world.people()

    with pytest.raises(UnmergeRefused) as refused:
        world.apply(unmerge(EMAIL_OR_ID, ADA.id))

    assert f"id '{GRACE.id}'" in refused.value.message
    assert cio(newcomer.cio_id) in refused.value.message
    assert world.people() == before


def test_i6_4_refused_when_the_primary_itself_took_a_freed_identifier_since(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, email=GRACE.email))
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))  # Grace's email freed
    ada_cio = person(world, "id", ADA.id).cio_id
    world.apply(identify(EMAIL_OR_ID, cio(ada_cio), email=GRACE.email))  # Ada changes to it
    assert person(world, "email", GRACE.email).cio_id == ada_cio

    with pytest.raises(UnmergeRefused) as refused:
        world.apply(unmerge(EMAIL_OR_ID, ADA.id))

    assert "taken since by the primary" in refused.value.message


def test_i6_4_refused_when_an_identifier_of_the_secondary_was_suppressed_since(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, email=GRACE.email))
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))
    world.apply(suppress(EMAIL_OR_ID, GRACE.email))  # nobody has it: the value is suppressed

    with pytest.raises(UnmergeRefused) as refused:
        world.apply(unmerge(EMAIL_OR_ID, ADA.id))

    assert "suppressed" in refused.value.message
    assert world.person("email", GRACE.email) is None


def test_i6_4_an_unmerge_whose_locks_miss_an_identifier_of_the_record_is_refused(
    world: World,
) -> None:
    # The caller locked what the record said before the transaction; a record that now wants
    # more (another merge got in between) must not be undone without those locks.
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, GRACE.id))
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))

    with pytest.raises(UnmergeRefused) as refused:
        world.apply(Unmerge(Reference("id", ADA.id), (("id", "someone-else"),)))
    world.apply(Unmerge(Reference("id", ADA.id), (("id", GRACE.id),)))

    assert "send the unmerge again" in refused.value.message
    assert person(world, "id", GRACE.id).id == GRACE.id


def test_i6_4_deleting_the_primary_deletes_its_merge_records_too(world: World) -> None:
    # I9.1: the records hold the absorbed people's data, which is now the primary's.
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, email=GRACE.email))
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))
    record = merge_record(world, person(world, "id", ADA.id).cio_id)
    assert record.pk is not None

    world.apply(delete(EMAIL_OR_ID, ADA.id))

    assert world.merge(record.pk) is None


# -- what an unmerge reads from the merge, and what changed since ----------------------------------


def test_i6_3_the_two_profile_merge_entries_name_the_merge_and_come_back_with_the_secondary(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, email=GRACE.email))
    ada_cio, grace_cio = person(world, "id", ADA.id).cio_id, person(world, "id", GRACE.id).cio_id
    world.set_time(START + HOUR)
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))

    [ours] = of_type(world.activities(ada_cio), "profile_merge")
    [theirs] = of_type(world.activities(grace_cio), "profile_merge")
    assert ours.data is not None
    merge_id = ours.data["merge_id"]
    assert (ours.timestamp, ours.data) == (
        START + HOUR,
        {
            "merge_id": merge_id,
            "reason": "merge",
            "secondary": {"cio_id": grace_cio, "id": GRACE.id, "email": GRACE.email},
            "taken": ["email"],
            "replaced": [],
            "freed": [{"kind": "id", "value": GRACE.id}],
        },
    )
    assert (theirs.timestamp, theirs.data) == (
        START + HOUR,
        {"merge_id": merge_id, "reason": "merge", "into": ada_cio},
    )
    record = world.merge(merge_id)
    assert record is not None and record.merged_at == START + HOUR

    world.set_time(START + 2 * HOUR)
    world.apply(unmerge(EMAIL_OR_ID, ADA.id))

    # Grace's own entry is hers again, not a deleted person's remnant.
    grace = person(world, "id", GRACE.id)
    assert [a.person_pk for a in of_type(world.activities(grace_cio), "profile_merge")] == [
        grace.pk
    ]
    assert person(world, "id", ADA.id).updated_at == START + 2 * HOUR


def test_i6_4_the_primary_gets_back_its_own_creation_time_from_an_older_secondary(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, GRACE.id))
    world.set_time(START + DAY)
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))
    assert person(world, "id", ADA.id).created_in_roster_at == int(START)

    world.apply(unmerge(EMAIL_OR_ID, ADA.id))

    assert person(world, "id", ADA.id).created_in_roster_at == int(START + DAY)
    assert person(world, "id", GRACE.id).created_in_roster_at == int(START)


def test_i6_4_an_empty_value_the_primary_had_comes_back_with_its_time(world: World) -> None:
    # The merge fills what is empty on the primary (I6.2): a subscription and an empty list
    # it had go back as they were, not removed.
    world.apply(identify(EMAIL_OR_ID, ADA.id, unsubscribed=False, tags=[]))
    world.set_time(START + HOUR)
    world.apply(identify(EMAIL_OR_ID, GRACE.id, unsubscribed=True, tags=["vip"]))
    ada_before = person(world, "id", ADA.id)
    assert ada_before.attributes == {"unsubscribed": False, "tags": []}
    world.set_time(START + 2 * HOUR)
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))
    assert person(world, "id", ADA.id).attributes == {"unsubscribed": True, "tags": ["vip"]}

    world.set_time(START + 3 * HOUR)
    world.apply(unmerge(EMAIL_OR_ID, ADA.id))

    ada = person(world, "id", ADA.id)
    assert (ada.attributes, ada.attribute_times) == (
        ada_before.attributes,
        ada_before.attribute_times,
    )


def test_i6_4_an_email_in_capitals_goes_back_to_the_secondary_as_it_was_written(
    world: World, any_mode: IdentifierMode
) -> None:
    written = "Grace.Hopper@Example.COM"
    world.apply(identify(any_mode, ADA.id))
    world.apply(identify(any_mode, GRACE.id, email=written))
    world.apply(merge(any_mode, ("id", ADA.id), ("id", GRACE.id)))
    assert person(world, "id", ADA.id).email == written  # taken in the merge

    world.apply(unmerge(any_mode, ADA.id))

    assert person(world, "id", ADA.id).email is None
    assert person(world, "id", GRACE.id).email == written
    assert person(world, "email", written.lower()).id == GRACE.id


def test_i6_4_an_identifier_the_primary_changed_since_stays_and_the_others_go_back(
    world: World,
) -> None:
    # Ada has neither identifier (I5.6), so the merge gives her both of Grace's; she then
    # changes the id. The email goes back to Grace; the id Ada has now stays hers.
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    ada_cio = person(world, "id", ADA.id).cio_id
    world.apply(identify(EMAIL_OR_ID, cio(ada_cio), id=None))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, email=GRACE.email))
    world.apply(merge(EMAIL_OR_ID, cio(ada_cio), ("id", GRACE.id)))
    world.apply(identify(EMAIL_OR_ID, cio(ada_cio), id="ada-2"))

    world.apply(unmerge(EMAIL_OR_ID, cio(ada_cio)))

    ada = person(world, "cio_id", ada_cio)
    assert (ada.id, ada.email) == ("ada-2", None)
    grace = person(world, "id", GRACE.id)
    assert (grace.id, grace.email) == (GRACE.id, GRACE.email)
    assert person(world, "email", GRACE.email).cio_id == grace.cio_id


def test_i6_4_refused_when_the_freed_email_went_to_someone_else_though_the_id_was_taken(
    world: World,
) -> None:
    # Ada took Grace's id in the merge (hers through the merge: no refusal for it); Grace's
    # email was freed, and Linus has it now.
    world.apply(identify(EMAIL_OR_ID, ADA.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, email=GRACE.email))
    world.apply(merge(EMAIL_OR_ID, ("email", ADA.email), ("id", GRACE.id)))
    world.apply(identify(EMAIL_OR_ID, LINUS.id, email=GRACE.email))
    linus_cio = person(world, "id", LINUS.id).cio_id
    before = world.people()

    with pytest.raises(UnmergeRefused) as refused:
        world.apply(unmerge(EMAIL_OR_ID, ADA.email))

    assert f"email '{GRACE.email}' has been taken since by {cio(linus_cio)}" in (
        refused.value.message
    )
    assert world.people() == before


def test_i6_4_in_id_only_an_email_of_the_secondary_suppressed_since_refuses_too(
    world: World,
) -> None:
    # In id_only an email is not an identifier, but it becomes one again when the workspace
    # switches back (I1.4): giving back a suppressed one would bring it back to life (I10.6).
    world.configure(identifier_mode=ID_ONLY)
    world.apply(identify(ID_ONLY, ADA.id, email=ADA.email))
    world.apply(identify(ID_ONLY, GRACE.id, email=GRACE.email))
    world.apply(merge(ID_ONLY, ("id", ADA.id), ("id", GRACE.id)))  # Grace's email is freed
    world.configure(identifier_mode=EMAIL_OR_ID)
    world.apply(suppress(EMAIL_OR_ID, GRACE.email))  # nobody has it: the value is suppressed
    world.configure(identifier_mode=ID_ONLY)
    ada_cio = person(world, "id", ADA.id).cio_id

    with pytest.raises(UnmergeRefused) as refused:
        world.apply(unmerge(ID_ONLY, ADA.id))

    assert refused.value.message == (
        f"the merge into {cio(ada_cio)} cannot be undone: "
        "an identifier of the secondary has been suppressed since"
    )
    assert world.person("id", GRACE.id) is None


def test_i6_4_an_unmerge_needs_a_reference(world: World) -> None:
    with pytest.raises(UnmergeRefused) as refused:
        world.apply(unmerge(EMAIL_OR_ID, ""))

    assert refused.value.message == "an unmerge needs an id, email or cio_id"


def test_i6_4_the_locks_must_cover_the_email_and_match_it_in_any_letter_case(
    world: World,
) -> None:
    written = "Grace.Hopper@Example.COM"
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, email=written))
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))

    with pytest.raises(UnmergeRefused) as refused:
        world.apply(Unmerge(Reference("id", ADA.id), (("id", GRACE.id),)))
    world.apply(Unmerge(Reference("id", ADA.id), (("id", GRACE.id), ("email", written))))

    assert refused.value.message == "the person's merges changed meanwhile: send the unmerge again"
    assert person(world, "email", written).id == GRACE.id


def test_i6_4_a_device_the_primary_no_longer_holds_does_not_come_back(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, LINUS.id))
    world.apply(add_device(EMAIL_OR_ID, GRACE.id, "grace-phone", platform="ios"))
    world.apply(add_device(EMAIL_OR_ID, GRACE.id, "grace-tablet", platform="ios"))
    world.apply(add_device(EMAIL_OR_ID, GRACE.id, GRACE.device, platform="android"))
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))
    world.apply(delete_device(EMAIL_OR_ID, ADA.id, "grace-phone"))
    world.apply(add_device(EMAIL_OR_ID, LINUS.id, "grace-tablet", platform="ios"))  # moves (I8.3)

    world.apply(unmerge(EMAIL_OR_ID, ADA.id))

    grace_cio = person(world, "id", GRACE.id).cio_id
    linus_cio = person(world, "id", LINUS.id).cio_id
    assert [d.token for d in world.devices(grace_cio)] == [GRACE.device]
    assert [d.token for d in world.devices(linus_cio)] == ["grace-tablet"]
    assert world.devices(person(world, "id", ADA.id).cio_id) == []


def test_i6_4_relationships_come_back_as_they_were_but_one_removed_since(world: World) -> None:
    def related(object_id: str) -> dict[str, Any]:
        found = world.object("1", object_id)
        assert found is not None, object_id
        people: dict[str, Any] = found["people"]
        return people

    def relate(who: str, object_id: str, remove: bool = False, **attributes: Any) -> None:
        key = ObjectKey("1", object_id)
        world.apply(Relate(key, (Related(Reference("id", who), attributes),), remove=remove))

    world.apply(identify(EMAIL_OR_ID, ADA.id))
    relate(ADA.id, "a-1", role="owner")
    relate(GRACE.id, "a-1", role="admin", seat=1)
    relate(GRACE.id, "b-2", role="viewer")
    relate(GRACE.id, "c-3", role="viewer")
    ada_cio, grace_cio = person(world, "id", ADA.id).cio_id, person(world, "id", GRACE.id).cio_id
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))
    relate(ADA.id, "b-2", remove=True)

    world.apply(unmerge(EMAIL_OR_ID, ADA.id))

    assert related("a-1") == {ada_cio: {"role": "owner"}, grace_cio: {"role": "admin", "seat": 1}}
    assert related("b-2") == {}
    assert related("c-3") == {grace_cio: {"role": "viewer"}}


# -- a merge that replaces an identifier of the primary (a conflict's resolve) --------------------


@pytest.mark.parametrize("kind", ["id", "email"])
def test_i6_4_a_merge_replacing_the_primarys_own_identifier_is_undone_with_both_given_back(
    world: World, any_mode: IdentifierMode, kind: Literal["id", "email"]
) -> None:
    ada, grace = _ada_and_grace(world, any_mode)
    ada_had, grace_had = _state(world, ada), _state(world, grace)

    world.apply(merge(any_mode, cio(ada.cio_id), cio(grace.cio_id), replace=kind))

    merged = person(world, "cio_id", ada.cio_id)
    assert getattr(merged, kind) == getattr(GRACE, kind)  # Grace's, in place of Ada's own
    other = "email" if kind == "id" else "id"
    assert getattr(merged, other) == getattr(ADA, other)  # Grace's other one is freed
    record = merge_record(world, ada.cio_id)
    assert record.primary_before.taken == [kind]
    assert record.primary_before.replaced == {kind: getattr(ADA, kind)}
    [entry] = of_type(world.activities(ada.cio_id), "profile_merge")
    assert entry.data is not None
    assert entry.data["replaced"] == [{"kind": kind, "value": getattr(ADA, kind)}]
    if kind == "id" or any_mode is EMAIL_OR_ID:
        assert world.person(kind, getattr(ADA, kind)) is None  # Ada's own is free meanwhile

    world.set_time(START + 3 * HOUR)
    world.apply(unmerge(any_mode, cio(ada.cio_id)))

    assert _state(world, person(world, "cio_id", ada.cio_id)) == ada_had
    assert _state(world, person(world, "cio_id", grace.cio_id)) == grace_had
    assert person(world, "id", ADA.id).cio_id == ada.cio_id
    assert person(world, "id", GRACE.id).cio_id == grace.cio_id
    [back] = of_type(world.activities(ada.cio_id), "profile_unmerge")
    assert back.data is not None
    assert back.data["restored"] == [{"kind": kind, "value": getattr(ADA, kind)}]


def _ada_took_graces_email(world: World) -> tuple[str, str]:
    """Ada (id, email) takes Grace's email in place of her own, as a resolve does."""
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.email, plan="trial"))
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("email", GRACE.email), replace="email"))
    ada = person(world, "id", ADA.id)
    assert ada.email == GRACE.email
    return ada.cio_id, merge_record(world, ada.cio_id).secondary.cio_id


def test_i6_4_refused_while_the_primarys_replaced_identifier_is_someone_elses(
    world: World,
) -> None:
    ada_cio, grace_cio = _ada_took_graces_email(world)
    world.apply(identify(EMAIL_OR_ID, LINUS.id, email=ADA.email))  # free since the merge
    linus_cio = person(world, "id", LINUS.id).cio_id
    before = world.people()

    with pytest.raises(UnmergeRefused) as refused:
        world.apply(unmerge(EMAIL_OR_ID, ADA.id))

    assert refused.value.message == (
        f"the merge into {cio(ada_cio)} cannot be undone: the primary's former email "
        f"'{ADA.email}', replaced in the merge, has been taken since by {cio(linus_cio)}"
    )
    assert world.people() == before

    world.apply(delete(EMAIL_OR_ID, LINUS.id))
    world.apply(unmerge(EMAIL_OR_ID, ADA.id))
    assert person(world, "email", ADA.email).cio_id == ada_cio
    assert person(world, "email", GRACE.email).cio_id == grace_cio


def test_i6_4_refused_when_the_primarys_replaced_identifier_was_suppressed_since(
    world: World,
) -> None:
    _ada_took_graces_email(world)
    world.apply(suppress(EMAIL_OR_ID, ADA.email))  # nobody has it: the value is suppressed
    before = world.people()

    with pytest.raises(UnmergeRefused) as refused:
        world.apply(unmerge(EMAIL_OR_ID, ADA.id))

    assert "the primary's former email, replaced in the merge, has been suppressed" in (
        refused.value.message
    )
    assert world.people() == before


def test_i6_4_a_primary_that_changed_the_replacing_identifier_since_keeps_its_new_one(
    world: World,
) -> None:
    # Ada took Grace's email in place of her own, then changed it: the value she has now is
    # her own, so neither Grace's email goes back nor Ada's former one comes back.
    ada_cio, grace_cio = _ada_took_graces_email(world)
    world.apply(identify(EMAIL_OR_ID, cio(ada_cio), email=LINUS.email))

    world.apply(unmerge(EMAIL_OR_ID, ADA.id))

    assert person(world, "cio_id", ada_cio).email == LINUS.email
    assert person(world, "cio_id", grace_cio).email == GRACE.email
    assert world.person("email", ADA.email) is None


def test_i6_2_a_merge_cannot_replace_an_identifier_the_secondary_does_not_have(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.id))
    before = world.people()

    with pytest.raises(MergeRefused) as refused:
        world.apply(
            merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id), replace="email"), strict=True
        )

    grace_cio = person(world, "id", GRACE.id).cio_id
    ada_cio = person(world, "id", ADA.id).cio_id
    assert refused.value.message == f"{cio(grace_cio)} has no email for {cio(ada_cio)} to take"
    assert world.people() == before


def test_i6_4_the_locks_must_cover_the_primarys_replaced_identifier_too(world: World) -> None:
    _ada_took_graces_email(world)

    with pytest.raises(UnmergeRefused) as refused:
        world.apply(Unmerge(Reference("id", ADA.id), (("email", GRACE.email),)))
    world.apply(Unmerge(Reference("id", ADA.id), (("email", GRACE.email), ("email", ADA.email))))

    assert refused.value.message == "the person's merges changed meanwhile: send the unmerge again"
    assert person(world, "email", ADA.email).id == ADA.id


# -- the property: merge then unmerge restores both, but what the primary set in between --------

NAMES = ["plan", "seats", "country", "unsubscribed", "tags"]
VALUES: list[Any] = ["a", "b", "", 0, 7, True, False, ["x"], {"k": 1}]
people_attributes = st.dictionaries(st.sampled_from(NAMES), st.sampled_from(VALUES), max_size=4)


# make_world gives a fresh workspace per example: the fixture itself holds no state.
@settings(
    max_examples=30,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    ada_attributes=people_attributes,
    grace_attributes=people_attributes,
    grace_has_email=st.booleans(),
    ada_has_email=st.booleans(),
    set_after=people_attributes,
    replace=st.sampled_from([None, "id", "email"]),
)
def test_i6_4_merge_then_unmerge_restores_both_people_except_what_the_primary_set_since(
    make_world: Callable[[], World],
    ada_attributes: dict[str, Any],
    grace_attributes: dict[str, Any],
    grace_has_email: bool,
    ada_has_email: bool,
    set_after: dict[str, Any],
    replace: Literal["id", "email"] | None,
) -> None:
    """With `replace`, Ada takes Grace's id or email in place of her own, as a resolve has her
    do (she is named by cio_id throughout, her id being Grace's meanwhile)."""
    assume(replace != "email" or grace_has_email)  # otherwise there is nothing to take
    world = make_world()
    ada_body = {**ada_attributes, **({"email": ADA.email} if ada_has_email else {})}
    grace_body = {**grace_attributes, **({"email": GRACE.email} if grace_has_email else {})}
    world.apply(identify(EMAIL_OR_ID, ADA.id, **ada_body))
    world.set_time(START + HOUR)
    world.apply(identify(EMAIL_OR_ID, GRACE.id, anonymous_id=GRACE.anonymous_id, **grace_body))
    world.apply(event(EMAIL_OR_ID, GRACE.id, "grace_event"))
    ada, grace = person(world, "id", ADA.id), person(world, "id", GRACE.id)
    grace_had = _state(world, grace)
    world.set_time(START + 2 * HOUR)
    world.apply(merge(EMAIL_OR_ID, cio(ada.cio_id), cio(grace.cio_id), replace=replace), True)
    world.set_time(START + 3 * HOUR)
    if set_after:
        world.apply(identify(EMAIL_OR_ID, cio(ada.cio_id), **set_after))
    merged = person(world, "cio_id", ada.cio_id)

    world.set_time(START + 4 * HOUR)
    world.apply(unmerge(EMAIL_OR_ID, cio(ada.cio_id)))

    assert _state(world, person(world, "id", GRACE.id)) == grace_had
    now = person(world, "id", ADA.id)
    since = {name for name in set_after if merged.attribute_times.get(name) == START + 3 * HOUR}
    expected = {k: v for k, v in ada.attributes.items() if k not in since}
    expected.update({k: merged.attributes[k] for k in since if k in merged.attributes})
    assert now.attributes == expected
    for name in since:
        assert now.attribute_times[name] == START + 3 * HOUR
    for name in set(ada.attribute_times) - since:
        assert now.attribute_times[name] == ada.attribute_times[name]
    assert (now.id, now.email, now.created_in_roster_at) == (
        ada.id,
        ada.email,
        ada.created_in_roster_at,
    )
