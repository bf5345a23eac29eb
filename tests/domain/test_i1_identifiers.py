"""I1. Identifiers and settings."""

from __future__ import annotations

import re

import pytest

from roster.domain.context import new_cio_id
from roster.domain.errors import (
    InvalidInput,
    LimitExceeded,
    MergeRefused,
    NotAnIdentifier,
    SettingRefused,
)
from roster.domain.identifiers import (
    BLOCKED_VALUES,
    Given,
    IdentifierMode,
    Reference,
    check_id,
    looks_like_email,
    read_given,
    read_reference,
    typed_reference,
)
from roster.domain.workspace import WorkspaceRules
from tests.domain.builders import (
    EMAIL_OR_ID,
    ID_ONLY,
    anonymous_event,
    cio,
    delete,
    event,
    identifiers_of,
    identify,
    merge,
    person,
)
from tests.domain.personas import ADA, EMAIL_SHAPED_ID, GRACE, MARGARET, PHONE
from tests.worlds import World

# -- I1.1 cio_id -----------------------------------------------------------------------------------


def test_i1_1_generated_cio_ids_are_twelve_lowercase_hex_characters() -> None:
    made = {new_cio_id() for _ in range(200)}
    assert len(made) == 200
    assert all(re.fullmatch(r"[0-9a-f]{12}", value) for value in made)


def test_i1_1_a_new_person_gets_a_cio_id_stored_without_prefix(
    world: World, any_mode: IdentifierMode
) -> None:
    outcome = world.apply(identify(any_mode, ADA.id))
    ada = person(world, "id", ADA.id)
    assert outcome.created is True
    assert outcome.cio_id == ada.cio_id
    assert re.fullmatch(r"[0-9a-z]+", ada.cio_id)
    assert not ada.cio_id.startswith("cio_")
    assert person(world, "cio_id", ada.cio_id).id == ADA.id


def test_i1_1_cio_id_never_changes_when_identifiers_and_attributes_do(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    cio_id = person(world, "id", ADA.id).cio_id

    world.apply(identify(EMAIL_OR_ID, cio(cio_id), id="ada-2", email="ada@new.example", plan="pro"))

    ada = person(world, "cio_id", cio_id)
    assert (ada.id, ada.email, ada.attributes) == ("ada-2", "ada@new.example", {"plan": "pro"})


def test_i1_1_cio_ids_of_deleted_and_merged_people_are_never_reused(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    deleted = person(world, "id", ADA.id).cio_id
    world.apply(delete(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, GRACE.id))
    world.apply(identify(EMAIL_OR_ID, MARGARET.email))
    merged_away = person(world, "email", MARGARET.email).cio_id
    world.apply(merge(EMAIL_OR_ID, ("id", GRACE.id), ("email", MARGARET.email)))

    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, "ada-2"))

    live = [p.cio_id for p in world.people()]
    assert len(set(live)) == 3
    assert deleted not in live
    assert merged_away not in live
    assert world.person("cio_id", deleted) is None
    assert world.person("cio_id", merged_away) is None


# -- I1.2 id ---------------------------------------------------------------------------------------


def test_i1_2_ids_are_case_sensitive(world: World, any_mode: IdentifierMode) -> None:
    world.apply(identify(any_mode, "ada-1", plan="pro"))
    world.apply(identify(any_mode, "ADA-1", plan="free"))

    assert person(world, "id", "ada-1").attributes == {"plan": "pro"}
    assert person(world, "id", "ADA-1").attributes == {"plan": "free"}
    assert len(world.people()) == 2


def test_i1_2_ids_are_never_trimmed(world: World, any_mode: IdentifierMode) -> None:
    world.apply(identify(any_mode, " ada-1 "))
    world.apply(identify(any_mode, "ada-1"))

    assert sorted(p.id or "" for p in world.people()) == [" ada-1 ", "ada-1"]
    assert person(world, "id", " ada-1 ").id == " ada-1 "


@pytest.mark.parametrize("mode", list(IdentifierMode))
def test_i1_2_an_id_is_at_most_150_bytes_of_utf8(mode: IdentifierMode) -> None:
    assert read_reference("x" * 150, mode) == Reference("id", "x" * 150)
    assert read_reference("é" * 75, mode) == Reference("id", "é" * 75)  # 150 bytes
    for too_long in ("x" * 151, "é" * 76):
        with pytest.raises(LimitExceeded) as raised:
            read_reference(too_long, mode)
        assert raised.value.limit == 150
        with pytest.raises(LimitExceeded):
            typed_reference("id", too_long, mode)
        with pytest.raises(LimitExceeded):
            identify(mode, ADA.email, id=too_long)


def test_i1_2_an_id_belongs_to_one_person(world: World, any_mode: IdentifierMode) -> None:
    world.apply(identify(any_mode, ADA.id, plan="pro"))
    world.apply(identify(any_mode, ADA.id, seats=3))
    world.apply(event(any_mode, ADA.id, "signed_in"))

    assert [p.attributes for p in world.people()] == [{"plan": "pro", "seats": 3}]


# -- I1.3 email ------------------------------------------------------------------------------------


def test_i1_3_email_is_trimmed_stored_as_sent_and_matched_case_folded(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, None, email="  Ada@Example.COM "))
    world.apply(identify(EMAIL_OR_ID, "ada@example.com", plan="pro"))
    world.apply(identify(EMAIL_OR_ID, "ADA@EXAMPLE.COM", seats=2))

    [ada] = world.people()
    assert ada.email == "Ada@Example.COM"
    assert ada.attributes == {"plan": "pro", "seats": 2}
    assert person(world, "email", "aDa@eXample.com").cio_id == ada.cio_id


@pytest.mark.parametrize(
    ("value", "is_email"),
    [
        ("ada@example.com", True),
        ("Ada.Lovelace+news@mail.example.co.uk", True),
        ("ada@localhost", False),
        ("ada example@example.com", False),
        ("ada@@example.com", False),
        ("@example.com", False),
        ("ada@", False),
        (PHONE, False),
        ("ada-1", False),
    ],
)
def test_i1_3_one_looks_like_an_email_test_decides_what_a_reference_is(
    value: str, is_email: bool
) -> None:
    assert looks_like_email(value) is is_email
    expected = "email" if is_email else "id"
    assert read_reference(value, EMAIL_OR_ID) == Reference(expected, value)  # type: ignore[arg-type]


def test_i1_3_an_email_belongs_to_one_person_in_email_or_id(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    world.apply(identify(EMAIL_OR_ID, GRACE.id))

    world.apply(identify(EMAIL_OR_ID, GRACE.id, email=ADA.email.upper()))

    assert identifiers_of(world) == [(ADA.id, ADA.email), (GRACE.id, None)]


# -- I1.4 identifier modes -------------------------------------------------------------------------


def test_i1_4_in_email_or_id_either_identifier_creates_or_finds_a_person(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id))
    world.apply(identify(EMAIL_OR_ID, MARGARET.email))
    world.apply(identify(EMAIL_OR_ID, ADA.id, plan="pro"))
    world.apply(identify(EMAIL_OR_ID, MARGARET.email, plan="lead"))

    assert [(p.id, p.email, p.attributes) for p in world.people()] == [
        (ADA.id, None, {"plan": "pro"}),
        (None, MARGARET.email, {"plan": "lead"}),
    ]


def test_i1_4_in_id_only_an_email_shaped_reference_is_an_id(world: World) -> None:
    world.configure(identifier_mode="id_only")

    world.apply(identify(ID_ONLY, EMAIL_SHAPED_ID, plan="pro"))

    [ken] = world.people()
    assert (ken.id, ken.email) == (EMAIL_SHAPED_ID, None)
    assert person(world, "id", EMAIL_SHAPED_ID).attributes == {"plan": "pro"}


def test_i1_4_in_id_only_an_email_may_repeat_across_people(world: World) -> None:
    world.configure(identifier_mode="id_only")

    world.apply(identify(ID_ONLY, ADA.id, email=ADA.email))
    outcome = world.apply(identify(ID_ONLY, GRACE.id, email=ADA.email.upper()))

    assert identifiers_of(world) == [(ADA.id, ADA.email), (GRACE.id, ADA.email.upper())]
    assert outcome.conflicts == []


def test_i1_4_in_id_only_email_is_an_ordinary_attribute_any_reference_may_change(
    world: World,
) -> None:
    world.configure(identifier_mode="id_only")
    world.apply(identify(ID_ONLY, ADA.id, email=ADA.email))

    world.apply(identify(ID_ONLY, ADA.id, email="ada@new.example"))

    assert person(world, "id", ADA.id).email == "ada@new.example"


def test_i1_4_in_id_only_email_cannot_name_a_person(world: World) -> None:
    world.configure(identifier_mode="id_only")
    world.apply(identify(ID_ONLY, ADA.id, email=ADA.email))

    with pytest.raises(NotAnIdentifier, match="email is not an identifier in this workspace"):
        typed_reference("email", ADA.email, ID_ONLY)
    with pytest.raises(MergeRefused, match="email is not an identifier in this workspace"):
        merge(ID_ONLY, ("id", ADA.id), ("email", GRACE.email))  # the merge's own error shape


def test_i1_4_in_id_only_an_identify_with_only_an_email_is_unusable(world: World) -> None:
    world.configure(identifier_mode="id_only")

    outcome = world.apply(identify(ID_ONLY, None, email=ADA.email, plan="pro"))

    assert world.people() == []
    assert outcome.notes, "the ingestion log must say why nothing happened"


def test_i1_4_switching_id_only_to_email_or_id_is_refused_while_emails_repeat(
    world: World,
) -> None:
    world.configure(identifier_mode="id_only")
    world.apply(identify(ID_ONLY, ADA.id, email=ADA.email))
    world.apply(identify(ID_ONLY, GRACE.id, email=ADA.email.upper()))
    holders = sorted(p.cio_id for p in world.people())

    with pytest.raises(SettingRefused) as refused:
        world.configure(identifier_mode="email_or_id")
    assert sorted(refused.value.holders) == holders

    world.apply(identify(ID_ONLY, GRACE.id, email=GRACE.email))
    world.configure(identifier_mode="email_or_id")
    world.apply(identify(EMAIL_OR_ID, GRACE.email, plan="pro"))
    assert person(world, "id", GRACE.id).attributes == {"plan": "pro"}
    assert len(world.people()) == 2


# -- I1.5 settings ---------------------------------------------------------------------------------


def test_i1_5_workspace_settings_have_the_documented_defaults() -> None:
    rules = WorkspaceRules(workspace_id=1)
    assert rules.identifier_mode is IdentifierMode.EMAIL_OR_ID
    assert rules.allow_email_update_by_id is False
    assert rules.auto_merge is True
    assert rules.strict_conflicts is False
    assert rules.anonymous_retention_days == 30


# -- I1.6 not given --------------------------------------------------------------------------------

BLOCKED_SPELLINGS = [*sorted(BLOCKED_VALUES), " NULL ", "Undefined", "[Object Object]", "GUEST"]


def test_i1_6_the_blocked_values_are_the_documented_ones() -> None:
    assert {
        "null",
        "undefined",
        "none",
        "nan",
        "0",
        "-1",
        "anonymous",
        "guest",
        "[object object]",
        "distinct_id",
        "id",
        "email",
        "user_id",
    } == BLOCKED_VALUES


@pytest.mark.parametrize("raw", [None, "", *BLOCKED_SPELLINGS, 0, -1])
def test_i1_6_missing_null_empty_and_blocked_values_mean_not_given(raw: object) -> None:
    for field in ("id", "email", "anonymous_id", "reference"):
        given = read_given(raw, field)
        assert given.present is False
        assert given.value is None


@pytest.mark.parametrize("raw", BLOCKED_SPELLINGS)
def test_i1_6_a_blocked_reference_creates_nobody_and_says_so(
    world: World, any_mode: IdentifierMode, raw: str
) -> None:
    outcome = world.apply(identify(any_mode, raw, plan="pro"))
    world.apply(event(any_mode, raw, "signed_in"))

    assert world.people() == []
    assert world.events(None) == []
    assert any("blocked" in note.reason for note in outcome.notes)


def test_i1_6_blocked_body_identifiers_are_ignored_not_stored(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, None, email=ADA.email, id="undefined", anonymous_id="guest"))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, email="null"))
    world.apply(identify(EMAIL_OR_ID, ADA.email, anonymous_id="anonymous"))

    assert identifiers_of(world) == [(None, ADA.email), (GRACE.id, None)]
    ada = person(world, "email", ADA.email)
    assert world.anonymous_ids(ada.cio_id) == []
    assert world.person("anonymous_id", "anonymous") is None


def test_i1_6_a_blocked_anonymous_id_stores_no_event(world: World) -> None:
    outcome = world.apply(anonymous_event("undefined", "page_viewed"))

    assert world.events(None) == []
    assert any("blocked" in note.reason for note in outcome.notes)


def test_i1_6_placeholders_do_not_merge_everyone_into_one_person(world: World) -> None:
    for persona in (ADA, GRACE, MARGARET):
        world.apply(identify(EMAIL_OR_ID, "0", email=persona.email, id="0"))

    assert identifiers_of(world) == [(None, ADA.email), (None, GRACE.email), (None, MARGARET.email)]


class ReplayingCioIds:
    """Offers every cio_id it issued before, oldest first, and only then a new one: the n-th
    person's cio_id clashes n - 1 times before it is free."""

    def __init__(self) -> None:
        self.issued: list[str] = []
        self.draws = 0
        self._queue: list[str] = []

    def __call__(self) -> str:
        if not self._queue:
            fresh = f"c1a5{len(self.issued) + 1:08x}"
            self._queue = [*self.issued, fresh]
            self.issued.append(fresh)
        self.draws += 1
        return self._queue.pop(0)


def test_i1_1_a_clashing_cio_id_is_drawn_again_until_it_is_free_however_often_it_clashes(
    world: World,
) -> None:
    drawn = ReplayingCioIds()
    world.make_cio_id = drawn
    for n in range(4):
        world.apply(identify(EMAIL_OR_ID, f"person-{n}"))
    gone = person(world, "id", "person-0").cio_id
    world.apply(delete(EMAIL_OR_ID, "person-0"))  # a deleted person's cio_id stays taken

    world.apply(identify(EMAIL_OR_ID, "person-4"))
    world.apply(event(EMAIL_OR_ID, "person-5", "signed_up"))

    cio_ids = [p.cio_id for p in world.people()]
    assert cio_ids == drawn.issued[1:]
    assert gone == drawn.issued[0] not in cio_ids
    assert drawn.draws == sum(range(1, 7))  # 1 + 2 + ... + 6: every clash was drawn again


# -- what a refused identifier is told -------------------------------------------------------------


@pytest.mark.parametrize("raw", [True, False, [ADA.id], {"id": ADA.id}])
def test_i1_6_an_identifier_that_is_not_a_string_or_number_is_refused(raw: object) -> None:
    for field in ("id", "email", "anonymous_id"):
        with pytest.raises(InvalidInput) as raised:
            read_given(raw, field)
        assert (raised.value.message, raised.value.field) == (f"{field} must be a string", field)
    with pytest.raises(InvalidInput) as raised:
        read_reference(raw, EMAIL_OR_ID)  # type: ignore[arg-type]
    assert (raised.value.message, raised.value.field) == ("reference must be a string", "reference")


@pytest.mark.parametrize(("raw", "value"), [(12345, "12345"), (1.5, "1.5"), (-7, "-7")])
def test_i1_2_a_numeric_id_is_read_as_its_digits(raw: object, value: str) -> None:
    assert read_given(raw, "id") == Given(value)


def test_i1_2_a_long_id_is_refused_naming_where_it_came_from() -> None:
    too_long = "x" * 151
    for call, field in (
        (lambda: read_reference(too_long, EMAIL_OR_ID), "reference"),
        (lambda: typed_reference("id", too_long, EMAIL_OR_ID), "id"),
        (lambda: typed_reference("anonymous_id", too_long, EMAIL_OR_ID), "anonymous_id"),
        (lambda: check_id(too_long), "id"),
    ):
        with pytest.raises(LimitExceeded) as raised:
            call()
        refused = raised.value
        assert (refused.message, refused.field, refused.attribute, refused.limit) == (
            f"{field} cannot be longer than 150 bytes",
            field,
            field,
            150,
        )


def test_i1_4_a_v2_identifier_of_an_unknown_type_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput) as raised:
        typed_reference("phone", PHONE, EMAIL_OR_ID)

    assert (raised.value.message, raised.value.field) == (
        "unknown identifier type 'phone'",
        "phone",
    )


def test_i1_3_a_v2_email_identifier_is_trimmed() -> None:
    assert typed_reference("email", "  Ada@Example.com ", EMAIL_OR_ID) == Reference(
        "email", "Ada@Example.com"
    )


def test_i1_4_email_is_not_an_identifier_in_id_only_names_the_field() -> None:
    refused = NotAnIdentifier()
    assert (refused.message, refused.field) == (
        "email is not an identifier in this workspace",
        "email",
    )
    with pytest.raises(NotAnIdentifier) as raised:
        typed_reference("email", ADA.email, ID_ONLY)
    assert raised.value.field == "email"


def test_i1_4_switching_to_email_or_id_is_refused_with_the_reason(world: World) -> None:
    world.configure(identifier_mode="id_only")
    world.apply(identify(ID_ONLY, ADA.id, email=ADA.email))
    world.apply(identify(ID_ONLY, GRACE.id, email=ADA.email))

    with pytest.raises(SettingRefused) as refused:
        world.configure(identifier_mode="email_or_id")

    assert "email" in refused.value.message  # each store words it its own way
    assert str(refused.value) == refused.value.message
