"""I3. Identify: choosing the target person."""

from __future__ import annotations

import pytest

from roster.domain.context import Outcome
from roster.domain.identifiers import IdentifierMode, Reference
from tests.domain.builders import (
    EMAIL_OR_ID,
    ID_ONLY,
    cio,
    failures,
    identifiers_of,
    identify,
    of_type,
    person,
)
from tests.domain.personas import ADA, GRACE, LINUS, MARGARET
from tests.worlds import World

ID_NEEDS_CIO = "id cannot be changed without a cio_ reference"


def test_i3_1_a_cio_reference_targets_that_person_even_with_other_identifiers_in_the_body(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.id))
    grace = person(world, "id", GRACE.id)

    world.apply(identify(EMAIL_OR_ID, cio(grace.cio_id), plan="pro"))

    assert person(world, "id", GRACE.id).attributes == {"plan": "pro"}
    assert person(world, "id", ADA.id).attributes == {}


def test_i3_1_an_unknown_cio_reference_stops_the_call(world: World) -> None:
    outcome = world.apply(
        identify(EMAIL_OR_ID, "cio_0000000000ff", id=ADA.id, email=ADA.email, plan="pro")
    )

    assert world.people() == []
    assert outcome.created is False


def test_i3_2_the_person_matching_the_reference_is_the_target(
    world: World, any_mode: IdentifierMode
) -> None:
    world.apply(identify(any_mode, ADA.id, plan="free"))
    world.apply(identify(any_mode, GRACE.id))

    outcome = world.apply(identify(any_mode, ADA.id, plan="pro"))

    ada = person(world, "id", ADA.id)
    assert outcome.cio_id == ada.cio_id
    assert outcome.created is False
    assert ada.attributes == {"plan": "pro"}
    assert person(world, "id", GRACE.id).attributes == {}


def test_i3_3_lead_identified_by_email_gets_id_on_signup(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, None, email=MARGARET.email, source="newsletter"))
    lead = person(world, "email", MARGARET.email)

    outcome = world.apply(identify(EMAIL_OR_ID, MARGARET.id, email=MARGARET.email, plan="pro"))

    customer = person(world, "id", MARGARET.id)
    assert outcome.cio_id == lead.cio_id == customer.cio_id
    assert outcome.created is False
    assert (customer.id, customer.email) == (MARGARET.id, MARGARET.email)
    assert customer.attributes == {"source": "newsletter", "plan": "pro"}
    assert len(world.people()) == 1
    [change] = of_type(world.activities(lead.cio_id), "attribute_change", "id")
    assert change.data == {"from": None, "to": MARGARET.id}


def test_i3_3_a_person_known_by_id_gets_the_email_reference(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, LINUS.id))

    world.apply(identify(EMAIL_OR_ID, LINUS.email, id=LINUS.id, plan="pro"))

    assert identifiers_of(world) == [(LINUS.id, LINUS.email)]
    assert person(world, "email", LINUS.email).attributes == {"plan": "pro"}


@pytest.mark.parametrize("allow_email_update_by_id", [False, True])
def test_i3_3_a_new_id_for_someone_with_another_id_is_not_assigned(
    world: World, allow_email_update_by_id: bool
) -> None:
    """allow_email_update_by_id lets an id reference change the email, never the id (I5.3)."""
    world.configure(allow_email_update_by_id=allow_email_update_by_id)
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    ada = person(world, "id", ADA.id)

    outcome = world.apply(identify(EMAIL_OR_ID, "ada-2", email=ADA.email, plan="pro"))

    assert outcome.cio_id == ada.cio_id
    assert identifiers_of(world) == [(ADA.id, ADA.email)]
    assert person(world, "id", ADA.id).attributes == {"plan": "pro"}
    assert world.person("id", "ada-2") is None
    assert failures(world, ada.cio_id, "id") == [
        {"attribute": "id", "value": "ada-2", "reason": ID_NEEDS_CIO}
    ]


def test_i3_3_a_new_email_for_someone_with_another_email_is_not_assigned_by_default(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    ada = person(world, "id", ADA.id)

    world.apply(identify(EMAIL_OR_ID, "ada@new.example", id=ADA.id, plan="pro"))

    assert identifiers_of(world) == [(ADA.id, ADA.email)]
    assert person(world, "id", ADA.id).attributes == {"plan": "pro"}
    assert world.person("email", "ada@new.example") is None
    [failure] = failures(world, ada.cio_id, "email")
    assert failure["value"] == "ada@new.example"
    assert "cio_ reference" in failure["reason"]


def test_i3_3_with_allow_email_update_by_id_the_email_reference_replaces_the_email(
    world: World,
) -> None:
    world.configure(allow_email_update_by_id=True)
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))

    world.apply(identify(EMAIL_OR_ID, "ada@new.example", id=ADA.id, plan="pro"))

    assert identifiers_of(world) == [(ADA.id, "ada@new.example")]
    assert person(world, "email", "ada@new.example").attributes == {"plan": "pro"}
    assert world.person("email", ADA.email) is None


def test_i3_3_in_id_only_an_email_in_the_body_never_finds_a_person(world: World) -> None:
    world.configure(identifier_mode="id_only")
    world.apply(identify(ID_ONLY, ADA.id, email=ADA.email))

    world.apply(identify(ID_ONLY, "ada-2", email=ADA.email, plan="pro"))

    assert identifiers_of(world) == [(ADA.id, ADA.email), ("ada-2", ADA.email)]
    assert person(world, "id", ADA.id).attributes == {}


def test_i3_4_an_identify_with_only_an_email_finds_that_person(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))

    outcome = world.apply(identify(EMAIL_OR_ID, None, email=ADA.email.upper(), plan="pro"))

    assert outcome.created is False
    assert identifiers_of(world) == [(ADA.id, ADA.email.upper())]
    assert person(world, "id", ADA.id).attributes == {"plan": "pro"}


def test_i3_4_an_identify_with_only_an_unknown_email_creates_a_lead(world: World) -> None:
    outcome = world.apply(identify(EMAIL_OR_ID, None, email=MARGARET.email, source="form"))

    lead = person(world, "email", MARGARET.email)
    assert outcome.created is True
    assert (lead.id, lead.email, lead.attributes) == (None, MARGARET.email, {"source": "form"})


def test_i3_4_update_only_never_creates_a_lead(world: World) -> None:
    outcome = world.apply(identify(EMAIL_OR_ID, None, email=MARGARET.email, _update=True, a=1))

    assert world.people() == []
    assert outcome.notes


def test_i3_5_an_unknown_reference_creates_a_person_with_the_other_identifier(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email, plan="pro"))
    world.apply(identify(EMAIL_OR_ID, GRACE.email, id=GRACE.id, plan="free"))

    assert [(p.id, p.email, p.attributes) for p in world.people()] == [
        (ADA.id, ADA.email, {"plan": "pro"}),
        (GRACE.id, GRACE.email, {"plan": "free"}),
    ]
    for persona in (ADA, GRACE):
        created = person(world, "id", persona.id)
        assert len(of_type(world.activities(created.cio_id), "profile_create")) == 1


def test_i3_5_update_only_never_creates_a_person(world: World, any_mode: IdentifierMode) -> None:
    outcome = world.apply(identify(any_mode, ADA.id, _update=True, plan="pro"))

    assert world.people() == []
    assert outcome.created is False
    assert any("_update" in note.reason for note in outcome.notes)


def test_i3_5_update_only_updates_an_existing_person(
    world: World, any_mode: IdentifierMode
) -> None:
    world.apply(identify(any_mode, ADA.id))

    world.apply(identify(any_mode, ADA.id, _update=True, plan="pro"))

    assert person(world, "id", ADA.id).attributes == {"plan": "pro"}
    assert "_update" not in person(world, "id", ADA.id).attributes


def test_i3_6_nothing_usable_creates_or_changes_nobody(
    world: World, any_mode: IdentifierMode
) -> None:
    world.apply(identify(any_mode, ADA.id))

    outcomes = [
        world.apply(identify(any_mode, None, plan="pro")),
        world.apply(identify(any_mode, None, anonymous_id=LINUS.anonymous_id, plan="pro")),
        world.apply(identify(any_mode, "", id="", plan="pro")),
    ]

    assert identifiers_of(world) == [(ADA.id, None)]
    assert person(world, "id", ADA.id).attributes == {}
    assert world.person("anonymous_id", LINUS.anonymous_id) is None
    assert all(outcome.notes and outcome.cio_id is None for outcome in outcomes)


def test_i3_7_a_new_id_for_someone_known_by_another_id_creates_a_second_person(
    world: World, any_mode: IdentifierMode
) -> None:
    world.apply(identify(any_mode, ADA.id, name="Ada"))

    world.apply(identify(any_mode, "ada-2", name="Ada"))

    assert identifiers_of(world) == [(ADA.id, None), ("ada-2", None)]


def test_i3_7_an_id_person_and_an_email_person_stay_two_until_a_call_carries_both(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, ADA.email))
    assert identifiers_of(world) == [(ADA.id, None), (None, ADA.email)]

    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))

    assert identifiers_of(world) == [(ADA.id, ADA.email)]


def test_i3_7_in_id_only_every_new_id_is_a_new_person(world: World) -> None:
    world.configure(identifier_mode="id_only")

    for id_ in ("ada-1", "ada-2", "ada-3"):
        world.apply(identify(ID_ONLY, id_, email=ADA.email))

    assert identifiers_of(world) == [(i, ADA.email) for i in ("ada-1", "ada-2", "ada-3")]


def _reasons(outcome: Outcome) -> list[str]:
    return [note.reason for note in outcome.notes]


def test_i3_6_a_call_that_changes_nobody_says_why_in_the_ingestion_log(world: World) -> None:
    outcomes = [
        world.apply(identify(EMAIL_OR_ID, None, plan="pro")),
        world.apply(identify(EMAIL_OR_ID, Reference("anonymous_id", LINUS.anonymous_id), a=1)),
        world.apply(identify(EMAIL_OR_ID, "cio_0000000000ff", plan="pro")),
        world.apply(identify(EMAIL_OR_ID, None, email=MARGARET.email, _update=True)),
        world.apply(identify(EMAIL_OR_ID, ADA.id, _update=True)),
    ]

    assert world.people() == []
    assert [_reasons(outcome) for outcome in outcomes] == [
        ["no usable id or email: no person was created or changed"],
        ["only an anonymous id: no person was created or changed"],
        ["no person has cio_id '0000000000ff': nothing was changed"],
        ["_update is set and no person has this email: nothing was created"],
        [f"_update is set and no person has id '{ADA.id}': nothing was created"],
    ]


def test_i1_6_each_blocked_value_of_an_identify_is_named_in_the_ingestion_log(
    world: World,
) -> None:
    outcome = world.apply(
        identify(EMAIL_OR_ID, "undefined", id="null", email="none", anonymous_id="guest")
    )

    assert _reasons(outcome) == [
        "reference 'undefined' was ignored: it is a blocked placeholder value",
        "id 'null' was ignored: it is a blocked placeholder value",
        "email 'none' was ignored: it is a blocked placeholder value",
        "anonymous_id 'guest' was ignored: it is a blocked placeholder value",
        "no usable id or email: no person was created or changed",
    ]


def test_i3_4_a_lead_created_by_email_alone_has_that_email(world: World) -> None:
    outcome = world.apply(identify(EMAIL_OR_ID, None, email=MARGARET.email))

    lead = person(world, "email", MARGARET.email)
    assert (outcome.created, outcome.cio_id, lead.id, lead.email) == (
        True,
        lead.cio_id,
        None,
        MARGARET.email,
    )
    assert [
        (a.name, a.data) for a in of_type(world.activities(lead.cio_id), "attribute_change")
    ] == [("email", {"from": None, "to": MARGARET.email})]


def test_i3_3_a_new_email_reference_for_someone_with_another_email_is_told_why(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    ada_cio = person(world, "id", ADA.id).cio_id

    world.apply(identify(EMAIL_OR_ID, "ada@new.example", id=ADA.id))

    assert failures(world, ada_cio, "email") == [
        {
            "attribute": "email",
            "value": "ada@new.example",
            "reason": "email cannot be changed without a cio_ reference "
            "(or an id reference with allow_email_update_by_id on)",
        }
    ]
