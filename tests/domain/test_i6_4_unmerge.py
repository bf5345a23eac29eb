"""I6.4. Unmerge: the latest merge into a person is undone, or refused with the reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.domain.errors import NotFound, UnmergeRefused
from roster.domain.identifiers import IdentifierMode, Reference
from roster.domain.operations import Unmerge
from roster.domain.people import Person
from tests.domain.builders import (
    EMAIL_OR_ID,
    add_device,
    cio,
    delete,
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
    with pytest.raises(NotFound):
        world.apply(unmerge(EMAIL_OR_ID, "nobody-1"))
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


# -- the property: merge then unmerge restores both, but what the primary set in between --------

NAMES = ["plan", "seats", "country", "unsubscribed", "tags"]
VALUES: list[Any] = ["a", "b", "", 0, 7, True, False, ["x"], {"k": 1}]
people_attributes = st.dictionaries(st.sampled_from(NAMES), st.sampled_from(VALUES), max_size=4)


# make_world gives a fresh workspace per example: the fixture itself holds no state.
@settings(
    max_examples=25,
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
)
def test_i6_4_merge_then_unmerge_restores_both_people_except_what_the_primary_set_since(
    make_world: Callable[[], World],
    ada_attributes: dict[str, Any],
    grace_attributes: dict[str, Any],
    grace_has_email: bool,
    ada_has_email: bool,
    set_after: dict[str, Any],
) -> None:
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
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))
    world.set_time(START + 3 * HOUR)
    if set_after:
        world.apply(identify(EMAIL_OR_ID, ADA.id, **set_after))
    merged = person(world, "id", ADA.id)

    world.set_time(START + 4 * HOUR)
    world.apply(unmerge(EMAIL_OR_ID, ADA.id))

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
