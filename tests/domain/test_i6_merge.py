"""I6. Merge (unmerge, I6.4, is not implemented yet)."""

from __future__ import annotations

from typing import Any

import pytest

from roster.domain.errors import ConflictError, MergeRefused
from roster.domain.identifiers import NOT_GIVEN, IdentifierMode, Reference
from roster.domain.operations import Alias, Merge
from tests.domain.builders import (
    EMAIL_OR_ID,
    ID_ONLY,
    SideInput,
    add_device,
    alias,
    anonymous_event,
    cio,
    event,
    failures,
    identifiers_of,
    identify,
    merge,
    merge_record,
    of_type,
    person,
    suppress,
)
from tests.domain.exact import exact
from tests.domain.personas import ADA, DAY, GRACE, LINUS, MARGARET, START
from tests.worlds import World


def _everything_of(world: World, cio_id: str) -> dict[str, Any]:
    return {
        "events": sorted(e.pk for e in world.events(cio_id)),  # type: ignore[type-var]
        "devices": [d.token for d in world.devices(cio_id)],
        "anonymous_ids": world.anonymous_ids(cio_id),
    }


# -- I6.1 sides ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("primary", "secondary"),
    [
        (("id", ADA.id), ("id", GRACE.id)),
        (("email", ADA.email), ("email", GRACE.email.upper())),
        (("id", ADA.id), ("email", GRACE.email)),
        ("cio", "cio"),
        (ADA.id, GRACE.email),
    ],
)
def test_i6_1_each_side_is_one_reference_by_id_email_or_cio_id(
    world: World, primary: SideInput, secondary: SideInput
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, email=GRACE.email, plan="pro"))
    ada_cio = person(world, "id", ADA.id).cio_id
    grace_cio = person(world, "id", GRACE.id).cio_id
    if primary == "cio":
        primary, secondary = ("cio_id", ada_cio), ("cio_id", cio(grace_cio))

    outcome = world.apply(merge(EMAIL_OR_ID, primary, secondary))

    assert outcome.cio_id == ada_cio
    [ada] = world.people()
    assert (ada.cio_id, ada.id, ada.email, ada.attributes) == (
        ada_cio,
        ADA.id,
        ADA.email,
        {"plan": "pro"},
    )


def test_i6_1_in_id_only_the_sides_are_ids_or_cio_ids(world: World) -> None:
    world.configure(identifier_mode="id_only")
    world.apply(identify(ID_ONLY, ADA.id, email=ADA.email))
    world.apply(identify(ID_ONLY, GRACE.id, email=ADA.email, plan="pro"))

    world.apply(merge(ID_ONLY, ("id", ADA.id), ("id", GRACE.id)))

    assert [(p.id, p.email, p.attributes) for p in world.people()] == [
        (ADA.id, ADA.email, {"plan": "pro"})
    ]


@pytest.mark.parametrize(
    ("primary", "secondary"),
    [
        (("id", ADA.id), ("id", "nobody-1")),
        (("id", "nobody-1"), ("id", ADA.id)),
        (("email", "nobody@example.com"), ("id", ADA.id)),
        (("cio_id", "ffffffffffff"), ("id", ADA.id)),
    ],
)
def test_i6_1_a_side_that_does_not_exist_means_nothing_happens(
    world: World, primary: SideInput, secondary: SideInput
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, plan="pro"))
    before = world.people()

    outcome = world.apply(merge(EMAIL_OR_ID, primary, secondary))
    with pytest.raises(MergeRefused) as refused:
        world.apply(merge(EMAIL_OR_ID, primary, secondary), strict=True)

    assert refused.value.missing is True
    assert world.people() == before
    assert any("merge refused" in note.reason for note in outcome.notes)


def test_i6_1_both_sides_the_same_person_means_nothing_happens(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email, plan="pro"))
    before = world.people()
    ada_cio = before[0].cio_id

    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("email", ADA.email)))
    with pytest.raises(MergeRefused):
        world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("cio_id", ada_cio)), strict=True)

    assert world.people() == before
    assert of_type(world.activities(ada_cio), "profile_merge") == []


def test_i6_1_a_side_that_is_not_given_is_refused(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))

    with pytest.raises(MergeRefused) as refused:
        world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", "undefined")), strict=True)

    assert refused.value.missing is False
    assert identifiers_of(world) == [(ADA.id, None)]


# -- I6.2 what the primary ends with ---------------------------------------------------------------


def test_i6_2_the_primary_keeps_its_values_and_takes_what_it_lacks(world: World) -> None:
    world.apply(
        identify(EMAIL_OR_ID, ADA.id, plan="pro", tags=[], prefs={}, unsubscribed=False, seats=0)
    )
    world.apply(
        identify(
            EMAIL_OR_ID,
            GRACE.id,
            plan="free",
            tags=["vip"],
            prefs={"lang": "en"},
            country="UK",
            unsubscribed=True,
            seats=5,
        )
    )

    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))

    assert exact(person(world, "id", ADA.id).attributes) == exact(
        {
            "plan": "pro",
            "tags": ["vip"],
            "prefs": {"lang": "en"},
            "unsubscribed": True,
            "seats": 0,
            "country": "UK",
        }
    )


def test_i6_2_unsubscribed_stays_true_when_only_the_primary_was_unsubscribed(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, unsubscribed=True))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, unsubscribed=False))

    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))

    assert person(world, "id", ADA.id).unsubscribed is True


def test_i6_2_the_primary_gets_the_older_roster_creation_time(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, GRACE.id))
    world.set_time(START + DAY)
    world.apply(identify(EMAIL_OR_ID, ADA.id))

    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))

    assert person(world, "id", ADA.id).created_in_roster_at == int(START)


def test_i6_2_the_primary_takes_identifiers_it_lacks(
    world: World, any_mode: IdentifierMode
) -> None:
    world.apply(identify(any_mode, ADA.id))
    world.apply(identify(any_mode, GRACE.id, email=ADA.email))
    grace_cio = person(world, "id", GRACE.id).cio_id

    world.apply(merge(any_mode, ("id", ADA.id), ("id", GRACE.id)))

    assert identifiers_of(world) == [(ADA.id, ADA.email)]
    assert person(world, "email", ADA.email).id == ADA.id
    record = merge_record(world, person(world, "id", ADA.id).cio_id)
    assert record.primary_before.taken == ["email"]
    assert (record.secondary.id, record.secondary.email) == (GRACE.id, ADA.email)
    assert world.person("id", GRACE.id) is None
    assert world.person("cio_id", grace_cio) is None


def test_i6_2_an_identifier_the_primary_cannot_take_is_freed_and_recorded(
    world: World, any_mode: IdentifierMode
) -> None:
    world.apply(identify(any_mode, ADA.id, email=ADA.email))
    world.apply(identify(any_mode, GRACE.id, email=GRACE.email))

    world.apply(merge(any_mode, ("id", ADA.id), ("id", GRACE.id)))

    ada = person(world, "id", ADA.id)
    assert (ada.id, ada.email) == (ADA.id, ADA.email)
    record = merge_record(world, ada.cio_id)
    assert record.primary_before.taken == []
    assert (record.secondary.id, record.secondary.email) == (GRACE.id, GRACE.email)
    world.apply(identify(any_mode, GRACE.id, email=GRACE.email))
    assert identifiers_of(world) == [(ADA.id, ADA.email), (GRACE.id, GRACE.email)]


def test_i6_2_every_event_anonymous_id_device_and_relationship_moves(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, anonymous_id=ADA.anonymous_id))
    world.apply(event(EMAIL_OR_ID, ADA.id, "ada_event"))
    world.apply(add_device(EMAIL_OR_ID, ADA.id, ADA.device))
    world.apply(anonymous_event(GRACE.anonymous_id, "browsed"))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, anonymous_id=GRACE.anonymous_id))
    world.apply(
        identify(
            EMAIL_OR_ID,
            GRACE.id,
            cio_relationships=[{"identifiers": {"object_type_id": "1", "object_id": "acme"}}],
        )
    )
    for n in range(3):  # old events move too, not only Customer.io's ~30 days
        world.apply(event(EMAIL_OR_ID, GRACE.id, f"grace_event_{n}", timestamp=START - DAY * 365))
    world.apply(add_device(EMAIL_OR_ID, GRACE.id, GRACE.device, platform="android"))
    ada_cio = person(world, "id", ADA.id).cio_id
    grace_cio = person(world, "id", GRACE.id).cio_id
    ada_had, grace_had = _everything_of(world, ada_cio), _everything_of(world, grace_cio)

    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))

    now_has = _everything_of(world, ada_cio)
    for key in ("events", "devices", "anonymous_ids"):
        assert sorted(now_has[key]) == sorted(ada_had[key] + grace_had[key])
    assert sorted(e.name for e in world.events(ada_cio)) == [
        "ada_event",
        "browsed",
        "grace_event_0",
        "grace_event_1",
        "grace_event_2",
    ]
    assert person(world, "anonymous_id", GRACE.anonymous_id).cio_id == ada_cio
    assert [d.platform for d in world.devices(ada_cio) if d.token == GRACE.device] == ["android"]
    record = merge_record(world, ada_cio)
    assert [d.token for d in record.devices] == grace_had["devices"]
    assert record.anonymous_ids == [GRACE.anonymous_id]
    assert [(r.object_type_id, r.object_id) for r in record.relationships] == [("1", "acme")]
    assert world.events(grace_cio) == []
    assert world.devices(grace_cio) == []


def test_i6_2_relationships_reach_the_primary(world: World) -> None:
    # A relationship both people have with one object ends up once on the primary.
    rel = [{"identifiers": {"object_type_id": "1", "object_id": "acme"}}]
    world.apply(identify(EMAIL_OR_ID, ADA.id, cio_relationships=rel))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, cio_relationships=rel))

    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))

    ada_cio = person(world, "id", ADA.id).cio_id
    added = of_type(world.activities(ada_cio), "add_relationship")
    assert {tuple(sorted((a.data or {}).items())) for a in added} == {
        (("object_id", "acme"), ("object_type_id", "1"))
    }
    record = merge_record(world, ada_cio)
    assert [(r.object_type_id, r.object_id) for r in record.relationships] == [("1", "acme")]
    assert [(r.object_type_id, r.object_id) for r in record.primary_before.relationships] == [
        ("1", "acme")
    ]


# -- I6.3 the secondary goes; the record stays -----------------------------------------------------


def test_i6_3_the_secondary_is_deleted_and_its_cio_id_never_comes_back(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, GRACE.id))
    grace_cio = person(world, "id", GRACE.id).cio_id

    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))
    outcome = world.apply(identify(EMAIL_OR_ID, cio(grace_cio), plan="pro"))
    for persona in (GRACE, MARGARET, LINUS):
        world.apply(identify(EMAIL_OR_ID, persona.email))

    assert world.person("cio_id", grace_cio) is None
    assert outcome.cio_id is None
    assert grace_cio not in [p.cio_id for p in world.people()]
    assert len(world.people()) == 4


def test_i6_3_the_merge_record_keeps_the_secondarys_full_before_image(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email, plan="pro"))
    world.set_time(START + 60)
    world.apply(
        identify(
            EMAIL_OR_ID,
            GRACE.id,
            email=GRACE.email,
            anonymous_id=GRACE.anonymous_id,
            plan="free",
            prefs={"lang": "en"},
        )
    )
    ada_before, grace_before = person(world, "id", ADA.id), person(world, "id", GRACE.id)

    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))

    [merge_entry] = of_type(world.activities(ada_before.cio_id), "profile_merge")
    assert merge_entry.data is not None
    record = world.merge(merge_entry.data["merge_id"])
    assert record is not None
    assert record.secondary == grace_before
    assert record.anonymous_ids == [GRACE.anonymous_id]
    assert record.reason == "merge"
    # Of the primary, only what the merge changed: Grace's prefs, and the id and email she
    # could not take because Ada had her own (they stay in Grace's image).
    assert list(record.primary_before.attributes) == ["prefs"]
    assert record.primary_before.attributes["prefs"].had is False
    assert record.primary_before.taken == []
    assert record.primary_before.created_in_roster_at == ada_before.created_in_roster_at
    assert merge_entry.data["freed"] == [
        {"kind": "id", "value": GRACE.id},
        {"kind": "email", "value": GRACE.email},
    ]


# -- I6.5 auto-merge -------------------------------------------------------------------------------


@pytest.mark.parametrize("older", ["id", "email"])
def test_i6_5_an_id_person_and_an_email_person_named_by_one_call_are_merged_first(
    world: World, older: str
) -> None:
    if older == "id":
        world.apply(identify(EMAIL_OR_ID, ADA.id, plan="pro", source="app"))
        world.set_time(START + 60)
        world.apply(identify(EMAIL_OR_ID, ADA.email, plan="lead", newsletter=True))
    else:
        world.apply(identify(EMAIL_OR_ID, ADA.email, plan="lead", newsletter=True))
        world.set_time(START + 60)
        world.apply(identify(EMAIL_OR_ID, ADA.id, plan="pro", source="app"))
    id_person, email_person = person(world, "id", ADA.id), person(world, "email", ADA.email)
    primary, secondary = (id_person, email_person) if older == "id" else (email_person, id_person)

    outcome = world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email, seats=3))

    [ada] = world.people()
    assert ada.cio_id == primary.cio_id == outcome.cio_id
    assert (ada.id, ada.email) == (ADA.id, ADA.email)
    assert ada.attributes == {
        "plan": primary.attributes["plan"],
        "source": "app",
        "newsletter": True,
        "seats": 3,
    }
    assert ada.created_in_roster_at == int(START)
    record = merge_record(world, ada.cio_id)
    assert record.reason == "auto_merge"
    assert record.secondary.cio_id == secondary.cio_id
    assert outcome.conflicts == []


def test_i6_5_auto_merge_works_from_an_email_reference_too(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, ADA.email))

    world.apply(identify(EMAIL_OR_ID, ADA.email, id=ADA.id))

    assert identifiers_of(world) == [(ADA.id, ADA.email)]


def test_i6_5_strict_mode_accepts_a_call_whose_conflict_auto_merge_resolved(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, ADA.email))

    outcome = world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email), strict=True)

    assert identifiers_of(world) == [(ADA.id, ADA.email)]
    assert outcome.conflicts == []


def test_i6_5_strict_mode_rejects_what_auto_merge_cannot_resolve_and_unmerges_nothing(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, anonymous_id=GRACE.anonymous_id))
    world.apply(identify(EMAIL_OR_ID, ADA.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, anonymous_id="anon-held"))
    before = world.people()

    with pytest.raises(ConflictError):
        world.apply(
            identify(EMAIL_OR_ID, ADA.id, email=ADA.email, anonymous_id="anon-held"), strict=True
        )

    assert world.people() == before


def test_i6_5_auto_merge_off_keeps_two_people_and_reports_a_conflict(world: World) -> None:
    world.configure(auto_merge=False)
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, ADA.email))

    outcome = world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email, plan="pro"))

    assert identifiers_of(world) == [(ADA.id, None), (None, ADA.email)]
    assert person(world, "id", ADA.id).attributes == {"plan": "pro"}
    assert [c.kind for c in outcome.conflicts] == ["email"]


def test_i6_5_there_is_no_auto_merge_in_id_only(world: World) -> None:
    world.configure(identifier_mode="id_only")
    world.apply(identify(ID_ONLY, ADA.id))
    world.apply(identify(ID_ONLY, "ada-2", email=ADA.email))

    world.apply(identify(ID_ONLY, ADA.id, email=ADA.email))

    assert identifiers_of(world) == [(ADA.id, ADA.email), ("ada-2", ADA.email)]


def test_i6_5_an_id_person_that_has_an_email_is_not_auto_merged(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email="ada@old.example"))
    world.apply(identify(EMAIL_OR_ID, ADA.email))

    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))

    assert identifiers_of(world) == [(ADA.id, "ada@old.example"), (None, ADA.email)]
    assert of_type(world.activities(person(world, "id", ADA.id).cio_id), "profile_merge") == []


# -- I6.6 alias ------------------------------------------------------------------------------------


def test_i6_6_alias_merges_the_previous_person_into_the_user(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, plan="pro"))
    world.apply(identify(EMAIL_OR_ID, "ada-old", email=ADA.email, country="UK"))
    world.apply(event(EMAIL_OR_ID, "ada-old", "old_event"))
    old_cio = person(world, "id", "ada-old").cio_id

    world.apply(alias(EMAIL_OR_ID, ADA.id, "ada-old"))

    [ada] = world.people()
    assert (ada.id, ada.email, ada.attributes) == (
        ADA.id,
        ADA.email,
        {"plan": "pro", "country": "UK"},
    )
    assert [e.name for e in world.events(ada.cio_id)] == ["old_event"]
    record = merge_record(world, ada.cio_id)
    assert (record.reason, record.secondary.cio_id) == ("alias", old_cio)


def test_i6_6_alias_with_an_unknown_previous_id_links_it_as_an_anonymous_id(
    world: World, any_mode: IdentifierMode
) -> None:
    world.apply(anonymous_event(LINUS.anonymous_id, "browsed"))
    world.apply(identify(any_mode, LINUS.id))

    world.apply(alias(any_mode, LINUS.id, LINUS.anonymous_id))
    world.apply(anonymous_event(LINUS.anonymous_id, "browsed_again"))

    linus = person(world, "id", LINUS.id)
    assert world.anonymous_ids(linus.cio_id) == [LINUS.anonymous_id]
    assert [e.name for e in world.events(linus.cio_id)] == ["browsed", "browsed_again"]
    assert world.events(None) == []
    assert len(world.people()) == 1


def test_i6_6_alias_for_a_new_user_creates_it_with_the_anonymous_id(world: World) -> None:
    world.apply(anonymous_event(LINUS.anonymous_id, "browsed"))

    world.apply(alias(EMAIL_OR_ID, LINUS.id, LINUS.anonymous_id))

    linus = person(world, "anonymous_id", LINUS.anonymous_id)
    assert linus.id == LINUS.id
    assert [e.name for e in world.events(linus.cio_id)] == ["browsed"]


def test_i6_6_alias_merges_the_person_an_anonymous_previous_id_belongs_to(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, "linus-old", anonymous_id=LINUS.anonymous_id))
    world.apply(identify(EMAIL_OR_ID, LINUS.id))

    world.apply(alias(EMAIL_OR_ID, LINUS.id, LINUS.anonymous_id))

    assert identifiers_of(world) == [(LINUS.id, None)]
    assert person(world, "anonymous_id", LINUS.anonymous_id).id == LINUS.id


def test_i6_6_alias_of_a_person_to_itself_changes_nothing(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email, anonymous_id=ADA.anonymous_id))
    before = world.people()
    ada_cio = before[0].cio_id
    activities = world.activities(ada_cio)

    for previous in (ADA.id, ADA.email, cio(ada_cio), ADA.anonymous_id):
        world.apply(alias(EMAIL_OR_ID, ADA.id, previous))

    assert world.people() == before
    assert world.activities(ada_cio) == activities


def test_i6_6_alias_never_links_a_suppressed_identifier(world: World) -> None:
    world.apply(suppress(EMAIL_OR_ID, "ada-old"))
    world.apply(identify(EMAIL_OR_ID, ADA.id))

    outcome = world.apply(alias(EMAIL_OR_ID, ADA.id, "ada-old"))

    ada = person(world, "id", ADA.id)
    assert world.anonymous_ids(ada.cio_id) == []
    assert world.person("anonymous_id", "ada-old") is None
    assert any(note.identifier_hash for note in outcome.notes)


# -- I6.7 identify never merges two identified people ----------------------------------------------


@pytest.mark.parametrize("allow_email_update_by_id", [False, True])
def test_i6_7_two_identified_people_are_never_merged_by_an_identify(
    world: World, allow_email_update_by_id: bool
) -> None:
    world.configure(allow_email_update_by_id=allow_email_update_by_id)
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, email=GRACE.email))

    world.apply(identify(EMAIL_OR_ID, ADA.id, email=GRACE.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.email, id=ADA.id))

    assert identifiers_of(world) == [(ADA.id, ADA.email), (GRACE.id, GRACE.email)]
    ada_cio = person(world, "id", ADA.id).cio_id
    assert of_type(world.activities(ada_cio), "profile_merge") == []
    assert failures(world, ada_cio, "email")
    assert failures(world, person(world, "id", GRACE.id).cio_id, "id")


def test_i6_6_alias_with_an_unknown_email_previous_id_changes_nothing(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    outcome = world.apply(alias(EMAIL_OR_ID, ADA.id, GRACE.email))
    assert world.anonymous_ids(person(world, "id", ADA.id).cio_id) == []
    assert any("nothing merged" in note.reason for note in outcome.notes)


def test_i6_2_an_attribute_taken_from_the_secondary_keeps_its_timestamp_on_the_primary(
    world: World,
) -> None:
    # I4.8 after a merge: the value came with the secondary's _timestamp, and an older update
    # to the primary must not overwrite it, while a newer one still does.
    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START - 30, seats=1, tags=[]))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, _timestamp=START - 10, plan="pro", tags=["vip"]))

    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))
    ada = person(world, "id", ADA.id)
    assert ada.attribute_times == {"seats": START - 30, "plan": START - 10, "tags": START - 10}

    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START - 20, plan="free", tags=["old"]))
    assert person(world, "id", ADA.id).attributes == {"seats": 1, "plan": "pro", "tags": ["vip"]}

    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START - 5, plan="team"))
    assert person(world, "id", ADA.id).attributes == {"seats": 1, "plan": "team", "tags": ["vip"]}


@pytest.mark.parametrize(
    ("primary", "secondary", "missing"),
    [
        (("id", ADA.id), ("id", "nobody-1"), True),
        (("cio_id", "ffffffffffff"), ("id", ADA.id), True),
        (("id", ADA.id), ("id", ADA.id), False),
    ],
)
def test_i6_1_with_strict_conflicts_on_a_refused_merge_is_an_error_without_the_header(
    world: World, primary: SideInput, secondary: SideInput, missing: bool
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, plan="pro"))
    world.configure(strict_conflicts=True)
    before = world.people()
    call = merge(EMAIL_OR_ID, primary, secondary)

    with pytest.raises(MergeRefused) as refused:
        world.apply(call)

    assert refused.value.missing is missing
    assert world.people() == before
    assert of_type(world.activities(before[0].cio_id), "profile_merge") == []


def test_i6_1_a_refused_merge_says_which_side_is_wrong(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    refusals = []
    for call in (
        Merge(Reference("id", ADA.id), Reference("id", "nobody-1")),
        Merge(Reference("email", "nobody@example.com"), Reference("id", ADA.id)),
        Merge(NOT_GIVEN, Reference("id", ADA.id)),
        Merge(Reference("id", ADA.id), NOT_GIVEN),
        Merge(Reference("id", ADA.id), Reference("email", ADA.email)),
    ):
        with pytest.raises(MergeRefused) as refused:
            world.apply(call, strict=True)
        refusals.append(refused.value.message)
        outcome = world.apply(call)
        assert [n.reason for n in outcome.notes] == [f"merge refused: {refused.value.message}"]

    assert refusals == [
        "no secondary person with id 'nobody-1'",
        "no primary person with email 'nobody@example.com'",
        "the primary person needs an id, email or cio_id",
        "the secondary person needs an id, email or cio_id",
        "the primary and secondary are the same person",
    ]


def test_i6_2_in_id_only_a_primary_without_an_id_takes_the_secondarys(world: World) -> None:
    world.configure(identifier_mode="id_only")
    world.apply(identify(ID_ONLY, "ada-old", email=ADA.email))
    ada_cio = person(world, "id", "ada-old").cio_id
    world.apply(identify(ID_ONLY, cio(ada_cio), id=None))
    world.apply(identify(ID_ONLY, ADA.id, email=GRACE.email))

    world.apply(merge(ID_ONLY, ("cio_id", ada_cio), ("id", ADA.id)))

    assert identifiers_of(world) == [(ADA.id, ADA.email)]
    assert person(world, "id", ADA.id).cio_id == ada_cio


def test_i6_2_a_primary_takes_an_email_only_secondarys_email_whatever_its_case(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, None, email="Ada.Lovelace@Example.com"))

    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("email", "ada.lovelace@example.com")))

    assert identifiers_of(world) == [(ADA.id, "Ada.Lovelace@Example.com")]
    assert person(world, "email", "ADA.LOVELACE@example.com").id == ADA.id


def test_i6_2_a_freed_email_in_another_case_is_free_again(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, email="Grace@Example.com"))

    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))
    world.apply(identify(EMAIL_OR_ID, "grace-2", email="grace@example.com"))

    assert identifiers_of(world) == [(ADA.id, ADA.email), ("grace-2", "grace@example.com")]


def test_i6_2_the_primary_records_the_time_of_the_merge_as_its_last_update(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, GRACE.id))
    world.set_time(START + DAY)

    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))

    ada = person(world, "id", ADA.id)
    assert ada.updated_at == START + DAY
    [entry] = of_type(world.activities(ada.cio_id), "profile_merge")
    assert (entry.timestamp, entry.cio_id) == (START + DAY, ada.cio_id)


def test_i6_6_an_alias_whose_user_is_unknown_merges_nothing_and_creates_nobody(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, "ada-old", plan="pro"))
    before = world.people()

    unknown_user = world.apply(alias(EMAIL_OR_ID, ADA.id, "ada-old"))
    unusable = world.apply(Alias(Reference("id", ADA.id), "undefined"))  # the door refuses it

    assert world.people() == before
    assert [n.reason for n in unusable.notes] == ["alias: previousId is not usable"]
    assert unknown_user.conflicts == []


def test_i6_5_of_two_people_created_in_the_same_second_the_first_created_is_primary(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.email, plan="lead"))
    world.apply(identify(EMAIL_OR_ID, ADA.id, plan="pro"))
    lead = person(world, "email", ADA.email)

    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))

    [ada] = world.people()
    assert (ada.cio_id, ada.attributes) == (lead.cio_id, {"plan": "lead"})


def test_i6_5_a_call_through_a_cio_reference_merges_nobody(world: World) -> None:
    # The cio_ reference names the one person the call is about (I3.1); merging it into the
    # older person first would leave the call addressing a person who is gone.
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, ADA.email))
    lead = person(world, "email", ADA.email)

    outcome = world.apply(identify(EMAIL_OR_ID, cio(lead.cio_id), id=ADA.id, email=ADA.email))

    assert identifiers_of(world) == [(ADA.id, None), (None, ADA.email)]
    assert [(c.kind, c.wanted_by) for c in outcome.conflicts] == [("id", lead.cio_id)]
    assert of_type(world.activities(lead.cio_id), "profile_merge") == []
