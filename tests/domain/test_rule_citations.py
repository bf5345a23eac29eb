"""Every call says which rules of docs/identity.md decided it (Outcome.rules): what `roster
explain` shows. Each test reads the rule numbers a flow must cite, in order."""

from __future__ import annotations

import re
from pathlib import Path

from roster.domain.context import Outcome
from tests.docs.test_rule_numbers import IDENTITY, numbered_rules
from tests.domain.builders import (
    EMAIL_OR_ID,
    ID_ONLY,
    alias,
    anonymous_event,
    cio,
    delete,
    event,
    identify,
    merge,
    person,
    suppress,
)
from tests.domain.personas import ADA, GRACE, LINUS, MARGARET
from tests.worlds import World

DOMAIN = Path(__file__).parents[2] / "src" / "roster" / "domain"


def cited(outcome: Outcome) -> list[str]:
    return [citation.rule for citation in outcome.rules]


def test_i3_2_a_known_id_cites_the_person_who_matches_the_reference(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))

    outcome = world.apply(identify(EMAIL_OR_ID, ADA.id, plan="pro"))

    assert cited(outcome) == ["I3.2", "I4.1"]
    assert outcome.rules[0].why == f"the person with id '{ADA.id}'"


def test_i3_3_the_lead_who_becomes_a_customer_cites_i3_3_and_what_she_gained(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, None, email=MARGARET.email))

    outcome = world.apply(identify(EMAIL_OR_ID, MARGARET.id, email=MARGARET.email))

    assert cited(outcome) == ["I3.3"]
    assert MARGARET.email in outcome.rules[0].why


def test_i3_3_a_second_id_for_someone_with_an_id_cites_why_it_was_not_given(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))

    outcome = world.apply(identify(EMAIL_OR_ID, "ada-2", email=ADA.email))

    assert cited(outcome) == ["I3.3", "I3.3"]
    assert "cio_ reference" in outcome.rules[1].why


def test_i3_4_and_i3_5_a_new_lead_and_a_new_person_cite_their_creation(world: World) -> None:
    assert cited(world.apply(identify(EMAIL_OR_ID, None, email=MARGARET.email))) == ["I3.4"]
    assert cited(world.apply(identify(EMAIL_OR_ID, ADA.id))) == ["I3.5"]
    assert cited(world.apply(identify(EMAIL_OR_ID, GRACE.id, _update=True))) == ["I3.5"]


def test_i3_1_a_cio_reference_cites_i3_1_found_or_not(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    ada = person(world, "id", ADA.id)

    assert cited(world.apply(identify(EMAIL_OR_ID, cio(ada.cio_id)))) == ["I3.1"]
    assert cited(world.apply(identify(EMAIL_OR_ID, "cio_0000000000ff"))) == ["I3.1"]


def test_i3_6_only_an_anonymous_id_cites_i3_6(world: World) -> None:
    outcome = world.apply(identify(EMAIL_OR_ID, None, anonymous_id=LINUS.anonymous_id))

    assert cited(outcome) == ["I3.6"]


def test_i5_2_a_conflict_cites_i5_2_with_the_holder(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.id))
    ada = person(world, "id", ADA.id)

    outcome = world.apply(identify(EMAIL_OR_ID, GRACE.id, email=ADA.email))

    assert cited(outcome) == ["I3.2", "I5.2"]
    assert f"cio_{ada.cio_id}" in outcome.rules[1].why


def test_i5_1_and_i5_3_gaining_an_email_and_changing_an_id(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    ada = person(world, "id", ADA.id)

    assert cited(world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))) == ["I3.2", "I5.1"]
    assert cited(world.apply(identify(EMAIL_OR_ID, ADA.id, id="ada-2"))) == ["I3.2", "I5.3"]
    assert cited(world.apply(identify(EMAIL_OR_ID, cio(ada.cio_id), id="ada-2"))) == [
        "I3.1",
        "I5.3",
    ]


def test_i5_6_a_removal_cites_i5_6_whether_or_not_it_is_allowed(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    ada = person(world, "id", ADA.id)

    assert cited(world.apply(identify(EMAIL_OR_ID, ADA.id, email=None))) == ["I3.2", "I5.6"]
    assert cited(world.apply(identify(EMAIL_OR_ID, cio(ada.cio_id), email=None))) == [
        "I3.1",
        "I5.6",
    ]


def test_i1_4_an_email_in_an_id_only_workspace_cites_that_it_is_an_attribute(
    world: World,
) -> None:
    world.configure(identifier_mode="id_only")
    world.apply(identify(ID_ONLY, ADA.id))

    assert cited(world.apply(identify(ID_ONLY, ADA.id, email=ADA.email))) == ["I3.2", "I1.4"]
    assert cited(world.apply(identify(ID_ONLY, ADA.id, email=ADA.email))) == ["I3.2"]
    assert cited(world.apply(identify(ID_ONLY, ADA.id, email=None))) == ["I3.2", "I1.4"]


def test_i6_5_two_halves_of_one_person_cite_the_auto_merge(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, None, email=ADA.email))

    outcome = world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))

    assert cited(outcome)[:3] == ["I6.5", "I6.2", "I3.2"]


def test_i7_anonymous_events_cite_i7_1_then_i7_2_once_linked(world: World) -> None:
    assert cited(world.apply(anonymous_event(LINUS.anonymous_id, "viewed"))) == ["I7.1"]
    linked = world.apply(identify(EMAIL_OR_ID, LINUS.id, anonymous_id=LINUS.anonymous_id))
    assert cited(linked) == ["I3.5", "I7.2"]
    assert cited(world.apply(anonymous_event(LINUS.anonymous_id, "again"))) == ["I7.2"]


def test_i8_events_cite_i8_1_and_a_repeated_event_id_i8_2(world: World) -> None:
    first = world.apply(event(EMAIL_OR_ID, ADA.id, "signed_up", event_id="evt-1"))
    again = world.apply(event(EMAIL_OR_ID, ADA.id, "signed_up", event_id="evt-1"))

    assert cited(first) == ["I8.1"]
    assert "a new person is created" in first.rules[0].why
    assert cited(again) == ["I8.1", "I8.2"]


def test_i9_delete_and_suppress_cite_i9_1_and_i9_2(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, GRACE.id))

    assert cited(world.apply(delete(EMAIL_OR_ID, ADA.id))) == ["I8.1", "I9.1"]
    assert cited(world.apply(suppress(EMAIL_OR_ID, GRACE.id))) == ["I9.2"]
    assert cited(world.apply(identify(EMAIL_OR_ID, GRACE.id))) == ["I9.2"]


def test_i6_merges_cite_i6_2_and_aliases_i6_6(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, GRACE.id))

    assert cited(world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))) == ["I6.2"]
    assert cited(world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", "nobody")))) == ["I6.1"]
    assert cited(world.apply(alias(EMAIL_OR_ID, ADA.id, "visitor-7")))[0] == "I6.6"


def test_every_rule_the_domain_cites_is_a_rule_of_docs_identity_md() -> None:
    rules = numbered_rules(IDENTITY.read_text())
    cited_in_code = {
        number
        for path in DOMAIN.glob("*.py")
        for number in re.findall(r"cite\(\s*\"(I\d+\.\d+)\"", path.read_text())
    }
    assert cited_in_code, "the domain cites no rule"
    assert cited_in_code <= set(rules)
