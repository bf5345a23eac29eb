"""I2. Reading a reference."""

from __future__ import annotations

import pytest

from roster.domain.identifiers import IdentifierMode, Reference, read_reference
from tests.domain.builders import (
    EMAIL_OR_ID,
    ID_ONLY,
    add_device,
    cio,
    delete,
    event,
    identifiers_of,
    identify,
    person,
)
from tests.domain.personas import ADA, EMAIL_SHAPED_ID, GRACE, PHONE
from tests.worlds import World

UNKNOWN_CIO = "cio_ffffffffffff"


def test_i2_1_a_cio_prefix_makes_a_cio_id_reference(any_mode: IdentifierMode) -> None:
    assert read_reference("cio_0a1b2c3d4e5f", any_mode) == Reference("cio_id", "0a1b2c3d4e5f")


def test_i2_1_a_cio_reference_addresses_that_person(world: World, any_mode: IdentifierMode) -> None:
    world.apply(identify(any_mode, ADA.id))
    ada = person(world, "id", ADA.id)

    outcome = world.apply(identify(any_mode, cio(ada.cio_id), plan="pro"))

    assert outcome.cio_id == ada.cio_id
    assert person(world, "id", ADA.id).attributes == {"plan": "pro"}
    assert len(world.people()) == 1


def test_i2_1_a_cio_reference_that_matches_nobody_creates_nobody(
    world: World, any_mode: IdentifierMode
) -> None:
    outcomes = [
        world.apply(identify(any_mode, UNKNOWN_CIO, id=ADA.id, plan="pro")),
        world.apply(event(any_mode, UNKNOWN_CIO, "signed_in")),
        world.apply(add_device(any_mode, UNKNOWN_CIO, ADA.device)),
        world.apply(delete(any_mode, UNKNOWN_CIO)),
    ]

    assert world.people() == []
    assert world.events(None) == []
    assert all(outcome.cio_id is None and outcome.notes for outcome in outcomes)


def test_i2_1_a_cio_reference_falls_back_to_a_person_with_exactly_that_id(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.email, id="cio_legacy-42"))

    world.apply(identify(EMAIL_OR_ID, "cio_legacy-42", plan="pro"))
    world.apply(event(EMAIL_OR_ID, "cio_legacy-42", "signed_in"))

    ada = person(world, "email", ADA.email)
    assert ada.id == "cio_legacy-42"
    assert ada.attributes == {"plan": "pro"}
    assert [e.name for e in world.events(ada.cio_id)] == ["signed_in"]
    assert len(world.people()) == 1


def test_i2_1_a_real_cio_id_wins_over_an_id_that_spells_it(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    ada = person(world, "id", ADA.id)
    world.apply(identify(EMAIL_OR_ID, GRACE.email, id=cio(ada.cio_id)))

    world.apply(identify(EMAIL_OR_ID, cio(ada.cio_id), plan="pro"))

    assert person(world, "id", ADA.id).attributes == {"plan": "pro"}
    assert person(world, "email", GRACE.email).attributes == {}


def test_i2_2_in_email_or_id_an_email_shaped_value_is_an_email_reference(world: World) -> None:
    assert read_reference(EMAIL_SHAPED_ID, EMAIL_OR_ID) == Reference("email", EMAIL_SHAPED_ID)

    world.apply(identify(EMAIL_OR_ID, EMAIL_SHAPED_ID, plan="pro"))

    assert identifiers_of(world) == [(None, EMAIL_SHAPED_ID)]


@pytest.mark.parametrize("value", [PHONE, "ada-1", "12345", "ada@", "ada.example.com"])
def test_i2_3_anything_else_is_an_id_reference_phone_numbers_included(
    world: World, any_mode: IdentifierMode, value: str
) -> None:
    assert read_reference(value, any_mode) == Reference("id", value)

    world.apply(identify(any_mode, value))

    assert identifiers_of(world) == [(value, None)]


def test_i2_3_in_id_only_every_non_cio_value_is_an_id(world: World) -> None:
    world.configure(identifier_mode="id_only")
    assert read_reference(EMAIL_SHAPED_ID, ID_ONLY) == Reference("id", EMAIL_SHAPED_ID)

    world.apply(identify(ID_ONLY, EMAIL_SHAPED_ID, email=EMAIL_SHAPED_ID))
    world.apply(event(ID_ONLY, EMAIL_SHAPED_ID, "signed_in"))

    [ken] = world.people()
    assert (ken.id, ken.email) == (EMAIL_SHAPED_ID, EMAIL_SHAPED_ID)
    assert [e.name for e in world.events(ken.cio_id)] == ["signed_in"]


def test_i2_4_the_domain_does_not_decode_a_reference_a_second_time(
    any_mode: IdentifierMode,
) -> None:
    # The API decodes a path segment once; "%40" that survives that is part of the id.
    assert read_reference("ada%40example.com", any_mode) == Reference("id", "ada%40example.com")
    assert read_reference("ada%2540x", any_mode) == Reference("id", "ada%2540x")


@pytest.mark.parametrize("prefix", ["CIO_", "Cio_", "cIO_"])
def test_i2_1_only_a_lower_case_cio_prefix_makes_a_cio_id_reference(
    world: World, any_mode: IdentifierMode, prefix: str
) -> None:
    world.apply(identify(any_mode, ADA.id))
    ada = person(world, "id", ADA.id)
    other_case = prefix + ada.cio_id
    assert read_reference(other_case, any_mode) == Reference("id", other_case)

    outcome = world.apply(identify(any_mode, other_case, plan="pro"))

    assert person(world, "id", ADA.id).attributes == {}
    newcomer = person(world, "id", other_case)
    assert (outcome.created, outcome.cio_id) == (True, newcomer.cio_id)
    assert newcomer.cio_id != ada.cio_id
    assert newcomer.attributes == {"plan": "pro"}
