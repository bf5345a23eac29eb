"""I5. Identify: changing identifiers."""

from __future__ import annotations

import pytest

from roster.domain.errors import Conflict, ConflictError
from roster.domain.identifiers import IdentifierMode
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
from tests.domain.personas import ADA, GRACE, MARGARET, START
from tests.worlds import World

ALREADY_TAKEN = "The identifier is already associated with a different profile."


def _ada_and_grace(world: World) -> tuple[str, str]:
    """Ada with id and email; Grace with only an id (so no auto-merge can join them)."""
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.id))
    return person(world, "id", ADA.id).cio_id, person(world, "id", GRACE.id).cio_id


# -- I5.1 ------------------------------------------------------------------------------------------


def test_i5_1_a_person_may_take_an_identifier_nobody_holds(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, MARGARET.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.id))

    world.apply(identify(EMAIL_OR_ID, MARGARET.email, id=MARGARET.id))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, email=GRACE.email))

    assert identifiers_of(world) == [(MARGARET.id, MARGARET.email), (GRACE.id, GRACE.email)]


def test_i5_1_a_lead_found_by_cio_reference_may_take_an_id(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, MARGARET.email))
    lead = person(world, "email", MARGARET.email)

    world.apply(identify(EMAIL_OR_ID, cio(lead.cio_id), id=MARGARET.id))

    assert person(world, "id", MARGARET.id).cio_id == lead.cio_id


# -- I5.2 conflicts --------------------------------------------------------------------------------


def test_i5_2_a_held_email_is_a_conflict_and_the_rest_of_the_call_applies(world: World) -> None:
    ada_cio, grace_cio = _ada_and_grace(world)

    outcome = world.apply(identify(EMAIL_OR_ID, GRACE.id, email=ADA.email, plan="pro"))

    assert identifiers_of(world) == [(ADA.id, ADA.email), (GRACE.id, None)]
    assert person(world, "id", GRACE.id).attributes == {"plan": "pro"}
    assert outcome.conflicts == [Conflict("email", ADA.email, grace_cio, ada_cio)]
    assert failures(world, grace_cio, "email") == [
        {"attribute": "email", "value": ADA.email, "reason": ALREADY_TAKEN}
    ]
    assert failures(world, ada_cio) == []


def test_i5_2_a_held_id_is_a_conflict_even_through_a_cio_reference(world: World) -> None:
    ada_cio, grace_cio = _ada_and_grace(world)

    outcome = world.apply(identify(EMAIL_OR_ID, cio(grace_cio), id=ADA.id, plan="pro"))

    assert identifiers_of(world) == [(ADA.id, ADA.email), (GRACE.id, None)]
    assert person(world, "id", GRACE.id).attributes == {"plan": "pro"}
    assert outcome.conflicts == [Conflict("id", ADA.id, grace_cio, ada_cio)]


def test_i5_2_strict_mode_rejects_a_conflicting_call_and_writes_nothing(world: World) -> None:
    ada_cio, grace_cio = _ada_and_grace(world)
    before = (world.people(), world.activities(ada_cio), world.activities(grace_cio))

    with pytest.raises(ConflictError) as raised:
        world.apply(identify(EMAIL_OR_ID, GRACE.id, email=ADA.email, plan="pro"), strict=True)

    [conflict] = raised.value.conflicts
    assert (conflict.kind, conflict.wanted_by, conflict.held_by) == ("email", grace_cio, ada_cio)
    assert f"cio_{ada_cio}" in raised.value.message
    assert f"cio_{grace_cio}" in raised.value.message
    assert (world.people(), world.activities(ada_cio), world.activities(grace_cio)) == before


def test_i5_2_strict_mode_rejects_a_conflicting_call_that_would_have_created_a_person(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, anonymous_id=ADA.anonymous_id))

    with pytest.raises(ConflictError):
        world.apply(
            identify(EMAIL_OR_ID, GRACE.id, anonymous_id=ADA.anonymous_id, plan="pro"),
            strict=True,
        )

    assert identifiers_of(world) == [(ADA.id, None)]
    assert world.person("id", GRACE.id) is None


def test_i5_2_the_strict_conflicts_setting_acts_like_the_strict_header(world: World) -> None:
    _ada_and_grace(world)
    world.configure(strict_conflicts=True)

    with pytest.raises(ConflictError):
        world.apply(identify(EMAIL_OR_ID, GRACE.id, email=ADA.email, plan="pro"))

    assert person(world, "id", GRACE.id).attributes == {}


def test_i5_2_strict_mode_applies_a_call_without_conflict(world: World) -> None:
    _ada_and_grace(world)

    outcome = world.apply(identify(EMAIL_OR_ID, GRACE.id, email=GRACE.email), strict=True)

    assert outcome.conflicts == []
    assert person(world, "email", GRACE.email).id == GRACE.id


def test_i5_2_without_auto_merge_a_lead_email_is_a_conflict(world: World) -> None:
    world.configure(auto_merge=False)
    world.apply(identify(EMAIL_OR_ID, GRACE.id))
    world.apply(identify(EMAIL_OR_ID, MARGARET.email))
    grace, lead = world.people()

    outcome = world.apply(identify(EMAIL_OR_ID, GRACE.id, email=MARGARET.email))

    assert identifiers_of(world) == [(GRACE.id, None), (None, MARGARET.email)]
    assert outcome.conflicts == [Conflict("email", MARGARET.email, grace.cio_id, lead.cio_id)]


# -- I5.3 changing an id ---------------------------------------------------------------------------


@pytest.mark.parametrize("reference", [ADA.id, ADA.email])
def test_i5_3_changing_an_id_without_a_cio_reference_fails(world: World, reference: str) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    ada_cio = person(world, "id", ADA.id).cio_id

    outcome = world.apply(identify(EMAIL_OR_ID, reference, id="ada-2", plan="pro"))

    assert identifiers_of(world) == [(ADA.id, ADA.email)]
    assert person(world, "id", ADA.id).attributes == {"plan": "pro"}
    assert outcome.conflicts == []
    [failure] = failures(world, ada_cio, "id")
    assert failure["value"] == "ada-2"
    assert "cio_ reference" in failure["reason"]


def test_i5_3_a_cio_reference_changes_the_id_and_frees_the_old_one(
    world: World, any_mode: IdentifierMode
) -> None:
    world.apply(identify(any_mode, ADA.id))
    ada_cio = person(world, "id", ADA.id).cio_id

    world.apply(identify(any_mode, cio(ada_cio), id="ada-2"))
    world.apply(identify(any_mode, ADA.id, plan="new"))

    assert person(world, "id", "ada-2").cio_id == ada_cio
    newcomer = person(world, "id", ADA.id)
    assert newcomer.cio_id != ada_cio
    assert newcomer.attributes == {"plan": "new"}
    [_, change] = of_type(world.activities(ada_cio), "attribute_change", "id")
    assert change.data == {"from": ADA.id, "to": "ada-2"}


# -- I5.4 changing an email ------------------------------------------------------------------------


def test_i5_4_an_email_reference_cannot_change_the_email(world: World) -> None:
    world.configure(allow_email_update_by_id=True)
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))

    world.apply(identify(EMAIL_OR_ID, ADA.email, email="ada@new.example"))

    assert identifiers_of(world) == [(ADA.id, ADA.email)]
    assert len(failures(world, person(world, "id", ADA.id).cio_id, "email")) == 1


def test_i5_4_an_id_reference_cannot_change_the_email_by_default(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))

    world.apply(identify(EMAIL_OR_ID, ADA.id, email="ada@new.example"))

    assert identifiers_of(world) == [(ADA.id, ADA.email)]
    assert world.person("email", "ada@new.example") is None


def test_i5_4_allow_email_update_by_id_lets_an_id_reference_change_the_email(
    world: World,
) -> None:
    world.configure(allow_email_update_by_id=True)
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))

    world.apply(identify(EMAIL_OR_ID, ADA.id, email="ada@new.example"))
    world.apply(identify(EMAIL_OR_ID, ADA.email, plan="old-address"))

    assert identifiers_of(world) == [(ADA.id, "ada@new.example"), (None, ADA.email)]


def test_i5_4_allow_email_update_by_id_still_respects_a_held_email(world: World) -> None:
    world.configure(allow_email_update_by_id=True)
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, email=GRACE.email))

    outcome = world.apply(identify(EMAIL_OR_ID, ADA.id, email=GRACE.email))

    assert identifiers_of(world) == [(ADA.id, ADA.email), (GRACE.id, GRACE.email)]
    assert [c.kind for c in outcome.conflicts] == ["email"]


def test_i5_4_a_cio_reference_changes_the_email(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    ada_cio = person(world, "id", ADA.id).cio_id

    world.apply(identify(EMAIL_OR_ID, cio(ada_cio), email="ada@new.example"))

    assert identifiers_of(world) == [(ADA.id, "ada@new.example")]
    assert world.person("email", ADA.email) is None


def test_i5_4_in_id_only_any_reference_changes_the_email_attribute(world: World) -> None:
    world.configure(identifier_mode="id_only")
    world.apply(identify(ID_ONLY, ADA.id, email=ADA.email))
    world.apply(identify(ID_ONLY, GRACE.id, email=GRACE.email))

    outcome = world.apply(identify(ID_ONLY, ADA.id, email=GRACE.email))

    assert identifiers_of(world) == [(ADA.id, GRACE.email), (GRACE.id, GRACE.email)]
    assert outcome.conflicts == []


# -- I5.5 body id is literal -----------------------------------------------------------------------


def test_i5_5_a_body_id_is_taken_literally_even_with_a_cio_prefix(
    world: World, any_mode: IdentifierMode
) -> None:
    world.apply(identify(any_mode, ADA.id))
    ada_cio = person(world, "id", ADA.id).cio_id

    world.apply(identify(any_mode, cio(ada_cio), id="cio_x"))

    ada = person(world, "cio_id", ada_cio)
    assert ada.id == "cio_x"
    assert person(world, "id", "cio_x").cio_id == ada_cio


# -- I5.6 removing identifiers ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["id", "email"])
@pytest.mark.parametrize("removal", [None, ""])
def test_i5_6_a_cio_reference_with_null_removes_an_identifier(
    world: World, kind: str, removal: str | None
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    ada_cio = person(world, "id", ADA.id).cio_id

    world.apply(identify(EMAIL_OR_ID, cio(ada_cio), **{kind: removal}))

    ada = person(world, "cio_id", ada_cio)
    assert getattr(ada, kind) is None
    assert world.person(kind, getattr(ADA, kind)) is None
    world.apply(identify(EMAIL_OR_ID, getattr(ADA, kind)))
    assert len(world.people()) == 2


@pytest.mark.parametrize("reference", [ADA.id, ADA.email])
def test_i5_6_other_references_cannot_remove_identifiers(world: World, reference: str) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    ada_cio = person(world, "id", ADA.id).cio_id

    world.apply(identify(EMAIL_OR_ID, reference, id=None, email="", plan="pro"))

    assert [(p.id, p.email, p.attributes) for p in world.people()] == [
        (ADA.id, ADA.email, {"plan": "pro"})
    ]
    assert {f["attribute"] for f in failures(world, ada_cio)} == {"id", "email"}


def test_i5_6_a_blocked_value_is_not_a_removal(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    ada_cio = person(world, "id", ADA.id).cio_id

    world.apply(identify(EMAIL_OR_ID, cio(ada_cio), id="null", email="undefined"))

    assert identifiers_of(world) == [(ADA.id, ADA.email)]


@pytest.mark.parametrize("reference", [ADA.id, ADA.email])
def test_i5_3_allow_email_update_by_id_still_needs_a_cio_reference_to_change_the_id(
    world: World, reference: str
) -> None:
    world.configure(allow_email_update_by_id=True)
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    ada_cio = person(world, "id", ADA.id).cio_id

    outcome = world.apply(identify(EMAIL_OR_ID, reference, id="ada-2", plan="pro"))

    assert identifiers_of(world) == [(ADA.id, ADA.email)]
    assert person(world, "id", ADA.id).attributes == {"plan": "pro"}
    assert world.person("id", "ada-2") is None
    assert outcome.conflicts == []
    assert failures(world, ada_cio, "id") == [
        {
            "attribute": "id",
            "value": "ada-2",
            "reason": "id cannot be changed without a cio_ reference",
        }
    ]


def test_i5_6_a_removal_is_logged_from_the_value_to_none(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    ada_cio = person(world, "id", ADA.id).cio_id
    world.set_time(START + 60)

    world.apply(identify(EMAIL_OR_ID, cio(ada_cio), id=None, email=None))

    removals = of_type(world.activities(ada_cio), "attribute_change")[2:]
    assert [(a.name, a.data, a.cio_id, a.timestamp) for a in removals] == [
        ("id", {"from": ADA.id, "to": None}, ada_cio, START + 60),
        ("email", {"from": ADA.email, "to": None}, ada_cio, START + 60),
    ]
    assert person(world, "cio_id", ada_cio).updated_at == START + 60


def test_i5_6_removing_an_identifier_the_person_lacks_changes_nothing(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    ada_cio = person(world, "id", ADA.id).cio_id

    world.apply(identify(EMAIL_OR_ID, cio(ada_cio), email=None))
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=None))

    assert identifiers_of(world) == [(ADA.id, None)]
    assert of_type(world.activities(ada_cio), "attribute_change", "email") == []
    assert failures(world, ada_cio) == []


def test_i5_6_other_references_are_told_removal_needs_a_cio_reference(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    ada_cio = person(world, "id", ADA.id).cio_id

    world.apply(identify(EMAIL_OR_ID, ADA.id, id=None, email=None))

    assert failures(world, ada_cio) == [
        {
            "attribute": kind,
            "value": None,
            "reason": f"{kind} can only be removed through a cio_ reference",
        }
        for kind in ("id", "email")
    ]


def test_i5_6_in_id_only_any_reference_removes_the_email_attribute(world: World) -> None:
    world.configure(identifier_mode="id_only")
    world.apply(identify(ID_ONLY, ADA.id, email=ADA.email))
    ada_cio = person(world, "id", ADA.id).cio_id

    world.apply(identify(ID_ONLY, ADA.id, email=None))

    assert identifiers_of(world) == [(ADA.id, None)]
    [_, removal] = of_type(world.activities(ada_cio), "attribute_change", "email")
    assert removal.data == {"from": ADA.email, "to": None}


def test_i5_4_an_email_change_without_the_right_reference_is_told_what_it_needs(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    ada_cio = person(world, "id", ADA.id).cio_id

    world.apply(identify(EMAIL_OR_ID, ADA.id, email="ada@new.example"))

    assert failures(world, ada_cio, "email") == [
        {
            "attribute": "email",
            "value": "ada@new.example",
            "reason": "email cannot be changed without a cio_ reference "
            "(or an id reference with allow_email_update_by_id on)",
        }
    ]


def test_i5_each_identifier_of_one_call_is_judged_on_its_own(world: World) -> None:
    # Whatever happens to the id (removed, unchanged, refused, in conflict), the email of the
    # same call is still considered, and the other way round.
    world.configure(allow_email_update_by_id=True)
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, email=GRACE.email))
    world.apply(identify(EMAIL_OR_ID, "third-1"))
    ada_cio, grace_cio = person(world, "id", ADA.id).cio_id, person(world, "id", GRACE.id).cio_id

    steps = [
        (
            identify(EMAIL_OR_ID, cio(ada_cio), id=ADA.id, email="ada@two.example"),
            "ada@two.example",
        ),
        (identify(EMAIL_OR_ID, ADA.id, id="ada-2", email="ada@three.example"), "ada@three.example"),
        (
            identify(EMAIL_OR_ID, cio(grace_cio), id="third-1", email="g@two.example"),
            "g@two.example",
        ),
        (
            identify(EMAIL_OR_ID, cio(grace_cio), id=None, email="g@three.example"),
            "g@three.example",
        ),
    ]
    for call, email in steps:
        outcome = world.apply(call)
        assert person(world, "cio_id", outcome.cio_id or "").email == email

    assert identifiers_of(world) == [
        (ADA.id, "ada@three.example"),
        (None, "g@three.example"),
        ("third-1", None),
    ]


def test_i4_9_a_stored_email_in_another_case_is_still_the_same_email(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email="Ada@Example.com"))
    ada_cio = person(world, "id", ADA.id).cio_id

    outcome = world.apply(identify(EMAIL_OR_ID, ADA.id, email="ada@example.COM"))

    assert identifiers_of(world) == [(ADA.id, "ada@example.COM")]
    assert (failures(world, ada_cio), outcome.conflicts) == ([], [])


def test_i5_4_an_email_in_capitals_is_set_changed_and_removed_by_its_folded_form(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, MARGARET.id))
    cio_id = person(world, "id", MARGARET.id).cio_id

    world.apply(identify(EMAIL_OR_ID, "Margaret@Example.COM", id=MARGARET.id))  # I3.3 assigns it
    assert person(world, "email", "margaret@example.com").cio_id == cio_id

    world.apply(identify(EMAIL_OR_ID, cio(cio_id), email="Maggie@Example.COM"))
    assert person(world, "email", "maggie@example.com").cio_id == cio_id
    assert world.person("email", "margaret@example.com") is None

    world.apply(identify(EMAIL_OR_ID, cio(cio_id), email=None))
    world.apply(identify(EMAIL_OR_ID, "maggie@example.com", plan="new"))
    assert identifiers_of(world) == [(MARGARET.id, None), (None, "maggie@example.com")]
