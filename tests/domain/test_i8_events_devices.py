"""I8. Events, devices, relationships."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from roster.domain.errors import InvalidInput, LimitExceeded
from roster.domain.identifiers import IdentifierMode, Reference
from roster.domain.limits import check_device_platform, check_device_token, check_event
from roster.domain.operations import WorkspaceActivity
from tests.domain.builders import (
    EMAIL_OR_ID,
    add_device,
    anonymous_event,
    cio,
    delete,
    delete_device,
    event,
    identifiers_of,
    identify,
    of_type,
    person,
)
from tests.domain.personas import ADA, GRACE, LINUS, START
from tests.worlds import World

ACME = {"identifiers": {"object_type_id": "1", "object_id": "acme"}}

# -- I8.1 unknown references -----------------------------------------------------------------------


def test_i8_1_an_event_for_an_unknown_id_creates_the_person(
    world: World, any_mode: IdentifierMode
) -> None:
    outcome = world.apply(event(any_mode, ADA.id, "signed_up", data={"plan": "pro"}))

    ada = person(world, "id", ADA.id)
    assert outcome.created is True
    assert (ada.id, ada.email, ada.attributes) == (ADA.id, None, {})
    [stored] = world.events(ada.cio_id)
    assert (stored.name, stored.type, stored.data, stored.timestamp) == (
        "signed_up",
        "event",
        {"plan": "pro"},
        START,
    )


def test_i8_1_an_event_for_an_unknown_email_creates_the_person(world: World) -> None:
    world.apply(event(EMAIL_OR_ID, ADA.email, "signed_up"))

    assert identifiers_of(world) == [(None, ADA.email)]
    assert [e.name for e in world.events(person(world, "email", ADA.email).cio_id)] == ["signed_up"]


def test_i8_1_a_device_for_an_unknown_reference_creates_the_person(
    world: World, any_mode: IdentifierMode
) -> None:
    world.apply(add_device(any_mode, ADA.id, ADA.device, platform="ios", app_version="1.2"))

    ada = person(world, "id", ADA.id)
    assert ada.id == ADA.id
    [device] = world.devices(ada.cio_id)
    assert (device.token, device.platform, device.attributes) == (
        ADA.device,
        "ios",
        {"app_version": "1.2"},
    )
    assert device.last_used == int(START)


def test_i8_1_a_relationship_for_an_unknown_reference_creates_the_person(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, cio_relationships=[ACME]))

    ada = person(world, "id", ADA.id)
    [added] = of_type(world.activities(ada.cio_id), "add_relationship")
    assert added.data == {"object_type_id": "1", "object_id": "acme"}


def test_i8_1_unknown_cio_references_and_device_deletions_create_nobody(
    world: World, any_mode: IdentifierMode
) -> None:
    world.apply(event(any_mode, "cio_ffffffffffff", "signed_up"))
    world.apply(add_device(any_mode, "cio_ffffffffffff", ADA.device))
    world.apply(delete_device(any_mode, ADA.id, ADA.device))

    assert world.people() == []
    assert world.events(None) == []


# -- I8.2 limits and event ids ---------------------------------------------------------------------


def test_i8_2_an_event_name_is_at_most_100_bytes_and_required() -> None:
    check_event("n" * 100, {})
    with pytest.raises(LimitExceeded) as raised:
        check_event("n" * 101, {})
    assert (raised.value.attribute, raised.value.limit) == ("name", 100)
    with pytest.raises(LimitExceeded):
        event(EMAIL_OR_ID, ADA.id, "é" * 51)
    with pytest.raises(InvalidInput):
        event(EMAIL_OR_ID, ADA.id, "")


def test_i8_2_event_data_is_at_most_100000_bytes_serialised() -> None:
    check_event("big", {"blob": "x" * (100_000 - 11)})  # {"blob":"..."} adds 11 bytes
    with pytest.raises(LimitExceeded) as raised:
        check_event("big", {"blob": "x" * (100_000 - 10)})
    assert (raised.value.attribute, raised.value.limit) == ("data", 100_000)


def test_i8_2_a_repeated_event_id_is_ignored(world: World, any_mode: IdentifierMode) -> None:
    first = event(any_mode, ADA.id, "purchased", data={"n": 1}, event_id="evt-1")
    world.apply(first)
    ada_cio = person(world, "id", ADA.id).cio_id
    activities = world.activities(ada_cio)

    world.apply(first)
    world.apply(event(any_mode, ADA.id, "purchased", data={"n": 2}, event_id="evt-1"))

    [stored] = world.events(ada_cio)
    assert (stored.data, stored.event_id) == ({"n": 1}, "evt-1")
    assert world.activities(ada_cio) == activities


def test_i8_2_event_ids_are_unique_across_the_workspace(world: World) -> None:
    world.apply(event(EMAIL_OR_ID, ADA.id, "purchased", event_id="evt-1"))

    world.apply(event(EMAIL_OR_ID, GRACE.id, "purchased", event_id="evt-1"))
    world.apply(anonymous_event(LINUS.anonymous_id, "purchased", event_id="evt-1"))

    assert identifiers_of(world) == [(ADA.id, None)]
    assert world.events(None) == []


def test_i8_2_events_without_ids_are_all_kept(world: World) -> None:
    for _ in range(3):
        world.apply(event(EMAIL_OR_ID, ADA.id, "clicked"))

    assert len(world.events(person(world, "id", ADA.id).cio_id)) == 3


# -- I8.3 devices ----------------------------------------------------------------------------------


def test_i8_3_a_device_token_added_to_another_person_moves(world: World) -> None:
    world.apply(add_device(EMAIL_OR_ID, ADA.id, "shared-tablet", platform="ios", owner="ada"))

    world.apply(add_device(EMAIL_OR_ID, GRACE.id, "shared-tablet", platform="android"))

    ada_cio = person(world, "id", ADA.id).cio_id
    grace_cio = person(world, "id", GRACE.id).cio_id
    assert world.devices(ada_cio) == []
    [device] = world.devices(grace_cio)
    assert (device.token, device.platform, device.attributes) == ("shared-tablet", "android", {})
    [moved_away] = of_type(world.activities(ada_cio), "device_change", "shared-tablet")[1:]
    assert moved_away.data == {"action": "moved_away"}
    [added] = of_type(world.activities(grace_cio), "device_change", "shared-tablet")
    assert added.data == {"action": "added", "platform": "android", "moved_from": cio(ada_cio)}


def test_i8_3_adding_a_device_again_updates_it(world: World) -> None:
    world.apply(add_device(EMAIL_OR_ID, ADA.id, ADA.device, platform="ios", app_version="1.0"))

    world.apply(
        add_device(
            EMAIL_OR_ID, ADA.id, ADA.device, platform="ios", last_used=1_700_000_500, os="17"
        )
    )

    [device] = world.devices(person(world, "id", ADA.id).cio_id)
    assert device.attributes == {"app_version": "1.0", "os": "17"}
    assert device.last_used == 1_700_000_500


def test_i8_3_deleting_a_device_removes_it_only_from_its_owner(world: World) -> None:
    world.apply(add_device(EMAIL_OR_ID, ADA.id, ADA.device))
    world.apply(add_device(EMAIL_OR_ID, GRACE.id, GRACE.device))

    world.apply(delete_device(EMAIL_OR_ID, GRACE.id, ADA.device))
    world.apply(delete_device(EMAIL_OR_ID, GRACE.id, GRACE.device))

    assert [d.token for d in world.devices(person(world, "id", ADA.id).cio_id)] == [ADA.device]
    assert world.devices(person(world, "id", GRACE.id).cio_id) == []


def test_i8_3_deleting_a_device_is_logged_and_deleting_one_the_person_lacks_says_so(
    world: World,
) -> None:
    world.apply(add_device(EMAIL_OR_ID, ADA.id, ADA.device))
    ada_cio = person(world, "id", ADA.id).cio_id

    lacking = world.apply(delete_device(EMAIL_OR_ID, ADA.id, GRACE.device))
    deleted = world.apply(delete_device(EMAIL_OR_ID, ADA.id, ADA.device))

    assert [n.reason for n in lacking.notes] == [
        "the person has no such device: nothing was changed"
    ]
    assert (deleted.notes, deleted.cio_id) == ([], ada_cio)
    [_, entry] = of_type(world.activities(ada_cio), "device_change", ADA.device)
    assert (entry.data, entry.cio_id, entry.timestamp) == ({"action": "deleted"}, ada_cio, START)


@pytest.mark.parametrize(
    ("call", "message", "field", "limit"),
    [
        (lambda: check_event("", {}), "event name is required", "name", None),
        (
            lambda: check_event("n" * 101, {}),
            "event name cannot be longer than 100 bytes",
            "name",
            100,
        ),
        (
            lambda: check_event("n", {"k": "x" * 100_000}),
            "event data cannot be longer than 100000 bytes",
            "data",
            100_000,
        ),
        (lambda: check_device_token(""), "device id is required", "device.id", None),
        (
            lambda: check_device_token("t" * 256),
            "device id cannot be longer than 255 bytes",
            "device.id",
            255,
        ),
        (
            lambda: check_device_platform("p" * 33),
            "device platform cannot be longer than 32 bytes (ios or android)",
            "device.platform",
            32,
        ),
    ],
    ids=["no name", "long name", "big data", "no token", "long token", "long platform"],
)
def test_i8_2_a_refused_event_or_device_is_told_which_field_crosses_which_limit(
    call: Callable[[], None], message: str, field: str, limit: int | None
) -> None:
    with pytest.raises(InvalidInput) as raised:
        call()

    refused = raised.value
    assert (refused.message, refused.field, getattr(refused, "limit", None)) == (
        message,
        field,
        limit,
    )
    assert isinstance(refused, LimitExceeded) is (limit is not None)


def test_i8_3_a_device_token_of_255_bytes_and_a_platform_of_32_are_accepted() -> None:
    check_device_token("t" * 255)
    check_device_platform("p" * 32)
    check_event("n" * 100, {})


def test_i8_1_an_event_answers_with_the_person_it_was_stored_on(world: World) -> None:
    created = world.apply(event(EMAIL_OR_ID, ADA.id, "signed_up"))
    found = world.apply(event(EMAIL_OR_ID, ADA.id, "signed_in"))

    ada = person(world, "id", ADA.id)
    ada_cio = ada.cio_id
    assert ada.updated_at == START  # written whole when the event created it
    assert (created.cio_id, created.created, found.cio_id, found.created) == (
        ada_cio,
        True,
        ada_cio,
        False,
    )


def test_i8_2_a_replayed_event_does_not_bring_back_a_deleted_email_person(world: World) -> None:
    world.apply(event(EMAIL_OR_ID, GRACE.email, "ordered", event_id="order-1"))
    world.apply(event(EMAIL_OR_ID, ADA.email, "ordered", event_id="order-2"))
    world.apply(delete(EMAIL_OR_ID, ADA.email))

    world.apply(event(EMAIL_OR_ID, ADA.email, "ordered", event_id="order-1"))

    assert identifiers_of(world) == [(None, GRACE.email)]


def test_i8_1_a_call_that_can_address_nobody_says_why(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, anonymous_id=ADA.anonymous_id))

    outcomes = [
        world.apply(delete(EMAIL_OR_ID, "undefined")),
        world.apply(add_device(EMAIL_OR_ID, "null", GRACE.device)),
        world.apply(add_device(EMAIL_OR_ID, Reference("anonymous_id", "anon-new"), GRACE.device)),
        world.apply(delete(EMAIL_OR_ID, GRACE.id)),
    ]

    assert [[n.reason for n in outcome.notes] for outcome in outcomes] == [
        [
            "reference 'undefined' was ignored: it is a blocked placeholder value",
            "no usable reference: nothing was changed",
        ],
        [
            "reference 'null' was ignored: it is a blocked placeholder value",
            "no usable reference: nothing was changed",
        ],
        ["no person has anonymous_id 'anon-new': nothing was changed"],
        [f"no person has id '{GRACE.id}': nothing was changed"],
    ]
    assert identifiers_of(world) == [(ADA.id, None)]
    assert world.devices(person(world, "id", ADA.id).cio_id) == []


def test_i8_a_workspace_activity_is_logged_for_the_workspace_not_for_a_person(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.set_time(START + 60)

    outcome = world.apply(WorkspaceActivity("delivery_metric", "opened", {"delivery_id": "d-1"}))

    # the workspace's own entries are the ones with neither a person nor a cio_id
    [entry] = world.activities(None)  # type: ignore[arg-type]
    assert (entry.type, entry.name, entry.data, entry.timestamp) == (
        "delivery_metric",
        "opened",
        {"delivery_id": "d-1"},
        START + 60,
    )
    assert (entry.person_pk, entry.cio_id, outcome.cio_id) == (None, None, None)
    ada_cio = person(world, "id", ADA.id).cio_id
    assert of_type(world.activities(ada_cio), "delivery_metric") == []
