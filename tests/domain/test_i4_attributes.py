"""I4. Identify: what changes on the target."""

from __future__ import annotations

import time
from typing import Any

import pytest

from roster.domain.errors import InvalidInput, LimitExceeded
from roster.domain.identifiers import IdentifierMode
from roster.domain.limits import (
    JSON_MAX_DEPTH,
    check_attributes,
    check_depth,
    check_person_size,
    json_depth,
)
from roster.domain.times import EARLIEST, LATEST, iso_seconds, looks_like_time, read_timestamp
from tests.domain.builders import (
    EMAIL_OR_ID,
    anonymous_event,
    cio,
    identify,
    merge,
    of_type,
    person,
)
from tests.domain.exact import exact
from tests.domain.personas import ADA, DAY, GRACE, HOUR, LINUS, START
from tests.worlds import World

# -- I4.1, I4.2 merging and removing ---------------------------------------------------------------


def test_i4_1_attributes_are_merged_and_unmentioned_keys_stay(
    world: World, any_mode: IdentifierMode
) -> None:
    world.apply(identify(any_mode, ADA.id, plan="free", seats=1))

    world.apply(identify(any_mode, ADA.id, plan="pro", country="UK"))

    assert person(world, "id", ADA.id).attributes == {"plan": "pro", "seats": 1, "country": "UK"}


@pytest.mark.parametrize("removal", [None, ""])
def test_i4_2_null_or_empty_string_removes_an_attribute(
    world: World, any_mode: IdentifierMode, removal: str | None
) -> None:
    world.apply(identify(any_mode, ADA.id, plan="pro", seats=1))

    world.apply(identify(any_mode, ADA.id, plan=removal, never_set=removal))

    ada = person(world, "id", ADA.id)
    assert ada.attributes == {"seats": 1}
    [change] = of_type(world.activities(ada.cio_id), "attribute_change", "plan")[1:]
    assert change.data == {"from": "pro", "to": None}
    assert of_type(world.activities(ada.cio_id), "attribute_change", "never_set") == []


def test_i4_2_zero_false_and_empty_collections_are_values_not_removals(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, a=0, b=False, c=[], d={}, e=" "))

    assert exact(person(world, "id", ADA.id).attributes) == exact(
        {"a": 0, "b": False, "c": [], "d": {}, "e": " "}
    )


# -- I4.3 values, dot notation, limits -------------------------------------------------------------


def test_i4_3_values_may_be_any_json(world: World) -> None:
    values: dict[str, Any] = {
        "name": "Ada",
        "age": 36,
        "ratio": 0.5,
        "vip": True,
        "tags": ["math", {"nested": [1, 2]}],
        "address": {"city": "London", "geo": {"lat": 51.5}},
    }

    world.apply(identify(EMAIL_OR_ID, ADA.id, **values))

    assert exact(person(world, "id", ADA.id).attributes) == exact(values)


def test_i4_3_a_dot_notation_key_updates_one_nested_key(world: World) -> None:
    world.apply(
        identify(
            EMAIL_OR_ID,
            ADA.id,
            cio_subscription_preferences={"topics": {"topic_1": False, "topic_2": True}},
        )
    )

    world.apply(
        identify(EMAIL_OR_ID, ADA.id, **{"cio_subscription_preferences.topics.topic_1": True})
    )

    ada = person(world, "id", ADA.id)
    assert ada.attributes == {
        "cio_subscription_preferences": {"topics": {"topic_1": True, "topic_2": True}}
    }
    [_, change] = of_type(
        world.activities(ada.cio_id), "attribute_change", "cio_subscription_preferences"
    )
    assert change.data == {
        "from": {"topics": {"topic_1": False, "topic_2": True}},
        "to": {"topics": {"topic_1": True, "topic_2": True}},
    }


def test_i4_3_dot_notation_creates_missing_levels_and_null_removes_one_key(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, **{"prefs.topics.news": True, "prefs.lang": "en"}))
    assert person(world, "id", ADA.id).attributes == {
        "prefs": {"topics": {"news": True}, "lang": "en"}
    }

    world.apply(identify(EMAIL_OR_ID, ADA.id, **{"prefs.topics.news": None}))
    assert person(world, "id", ADA.id).attributes == {"prefs": {"topics": {}, "lang": "en"}}

    world.apply(identify(EMAIL_OR_ID, ADA.id, **{"prefs.lang": ""}))
    world.apply(identify(EMAIL_OR_ID, ADA.id, **{"prefs.topics": None}))
    assert person(world, "id", ADA.id).attributes == {}


def test_i4_3_an_attribute_name_is_at_most_150_bytes() -> None:
    check_attributes({"n" * 150: 1})
    with pytest.raises(LimitExceeded) as raised:
        check_attributes({"n" * 151: 1})
    assert raised.value.limit == 150
    with pytest.raises(LimitExceeded):
        check_attributes({"é" * 76: 1})


def test_i4_3_a_value_is_at_most_1000_bytes_serialised() -> None:
    check_attributes({"bio": "x" * 1000, "list": ["y" * 994]})  # ["..."] is 998 bytes
    for too_big in ("x" * 1001, "é" * 501, ["y" * 999], {"k": "z" * 995}):
        with pytest.raises(LimitExceeded) as raised:
            check_attributes({"bio": too_big})
        assert (raised.value.attribute, raised.value.limit) == ("bio", 1000)


def test_i4_3_a_call_carries_at_most_300_attributes() -> None:
    check_attributes({f"a{i}": i for i in range(300)})
    with pytest.raises(LimitExceeded) as raised:
        check_attributes({f"a{i}": i for i in range(301)})
    assert raised.value.limit == 300
    with pytest.raises(LimitExceeded):
        identify(EMAIL_OR_ID, ADA.id, **{f"a{i}": i for i in range(301)})


def test_i4_3_a_person_holds_at_most_300_attributes_and_a_call_over_it_writes_nothing(
    world: World, any_mode: IdentifierMode
) -> None:
    world.apply(identify(any_mode, ADA.id, **{f"a{i}": i for i in range(295)}))
    world.apply(anonymous_event(LINUS.anonymous_id, "page_viewed"))
    ada = person(world, "id", ADA.id)
    activities_before = world.activities(ada.cio_id)

    with pytest.raises(LimitExceeded) as raised:
        world.apply(
            identify(
                any_mode,
                ADA.id,
                email=ADA.email,
                anonymous_id=LINUS.anonymous_id,
                **{f"b{i}": i for i in range(6)},
            )
        )

    assert raised.value.limit == 300
    assert world.people() == [ada]
    assert world.activities(ada.cio_id) == activities_before
    assert world.anonymous_ids(ada.cio_id) == []
    assert [e.anonymous_id for e in world.events(None)] == [LINUS.anonymous_id]


def test_i4_3_a_call_may_fill_a_person_to_exactly_300_or_swap_attributes_at_the_limit(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, **{f"a{i}": i for i in range(295)}))

    world.apply(identify(EMAIL_OR_ID, ADA.id, **{f"b{i}": i for i in range(5)}))
    assert len(person(world, "id", ADA.id).attributes) == 300

    world.apply(identify(EMAIL_OR_ID, ADA.id, a0=None, a1=None, c0=0, c1=1))
    attributes = person(world, "id", ADA.id).attributes
    assert len(attributes) == 300
    assert "a0" not in attributes and attributes["c1"] == 1


# -- I4.4 created_at -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (1_600_000_000, 1_600_000_000),
        (1_600_000_000.75, 1_600_000_000),
        ("1600000000", 1_600_000_000),
        (" 1600000000 ", 1_600_000_000),
        ("2020-09-13T12:26:40Z", 1_600_000_000),
        ("2020-09-13T14:26:40+02:00", 1_600_000_000),
        ("2020-09-13T12:26:40", 1_600_000_000),
        ("2020-09-13", 1_599_955_200),
        ("last tuesday", "last tuesday"),
        ("NaN", "NaN"),
        ("Infinity", "Infinity"),
        ("1e999", "1e999"),
        (True, True),
        ({"when": "later"}, {"when": "later"}),
    ],
)
def test_i4_4_created_at_is_stored_as_unix_seconds_when_it_reads_as_a_time(
    world: World, given: Any, stored: Any
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, created_at=given))

    # exact: True == 1, so `==` alone would take a boolean read as a time for the boolean
    assert exact(person(world, "id", ADA.id).attributes) == exact({"created_at": stored})


def test_i4_4_roster_records_its_own_creation_time(world: World) -> None:
    world.set_time(START + 5)
    world.apply(identify(EMAIL_OR_ID, ADA.id, created_at=1_500_000_000))
    world.set_time(START + DAY)
    world.apply(identify(EMAIL_OR_ID, ADA.id, plan="pro"))

    ada = person(world, "id", ADA.id)
    assert ada.created_in_roster_at == int(START + 5)
    assert ada.attributes["created_at"] == 1_500_000_000
    assert "_created_in_roster_at" not in ada.attributes


# -- I4.5 unsubscribed -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "unsubscribed"),
    [
        (True, True),
        ("true", True),
        ("TRUE", True),
        ("True", True),
        (1, True),
        ("1", True),
        (False, False),
        ("false", False),
        (0, False),
        ("0", False),
        ("yes", False),
        (2, False),
        ("unsubscribed", False),
    ],
)
def test_i4_5_true_in_any_case_1_and_quoted_1_mean_unsubscribed(
    world: World, given: Any, unsubscribed: bool
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, unsubscribed=given))

    ada = person(world, "id", ADA.id)
    assert exact(ada.attributes) == exact({"unsubscribed": unsubscribed})
    assert ada.unsubscribed is unsubscribed


# -- I4.6 anonymous_id -----------------------------------------------------------------------------


def test_i4_6_an_anonymous_id_in_the_body_links_it_and_is_not_an_attribute(
    world: World, any_mode: IdentifierMode
) -> None:
    world.apply(identify(any_mode, LINUS.id, anonymous_id=LINUS.anonymous_id, plan="pro"))

    linus = person(world, "id", LINUS.id)
    assert world.anonymous_ids(linus.cio_id) == [LINUS.anonymous_id]
    assert person(world, "anonymous_id", LINUS.anonymous_id).cio_id == linus.cio_id
    assert linus.attributes == {"plan": "pro"}


# -- I4.7 reserved names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["_created_in_roster_at", "_cio", "_cio_id", "_cioanything", "_roster", "_roster_pk"]
)
def test_i4_7_reserved_names_cannot_be_set(name: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_attributes({name: 1})
    assert raised.value.field == name
    with pytest.raises(InvalidInput):
        identify(EMAIL_OR_ID, ADA.id, **{name: 1})


def test_i4_7_instructions_are_not_attributes_and_other_underscores_are(world: World) -> None:
    check_attributes({"_last_visit": 1, "_cart": []})

    world.apply(identify(EMAIL_OR_ID, ADA.id, _update=False, _timestamp=START - 1, _last_visit=7))

    assert person(world, "id", ADA.id).attributes == {"_last_visit": 7}


# -- I4.8 ordering ---------------------------------------------------------------------------------


def test_i4_8_an_older_timestamp_does_not_overwrite_a_newer_one(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START - 10, plan="pro"))

    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START - 20, plan="free", seats=2))

    assert person(world, "id", ADA.id).attributes == {"plan": "pro", "seats": 2}


def test_i4_8_a_newer_timestamp_overwrites(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START - 20, plan="free"))

    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START - 10, plan="pro"))

    assert person(world, "id", ADA.id).attributes == {"plan": "pro"}


def test_i4_8_timestamps_may_be_given_as_digit_or_iso_strings(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp="2023-11-14T22:13:10Z", plan="pro"))

    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=str(int(START - 20)), plan="free"))

    assert person(world, "id", ADA.id).attributes == {"plan": "pro"}


@pytest.mark.parametrize("unreadable", ["soon", "NaN", "Infinity", "", True, [START]])
def test_i4_8_an_unreadable_timestamp_refuses_the_call_rather_than_reading_it_as_now(
    world: World, unreadable: Any
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START - 10, plan="pro"))

    with pytest.raises(InvalidInput, match="_timestamp must be unix seconds") as refused:
        world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=unreadable, plan="free"))

    assert refused.value.field == "_timestamp"
    assert person(world, "id", ADA.id).attributes == {"plan": "pro"}


def test_i4_8_a_null_timestamp_is_absent_and_the_call_counts_as_now(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START - 10, plan="pro"))

    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=None, plan="free"))

    ada = person(world, "id", ADA.id)
    assert (ada.attributes, ada.attribute_times) == ({"plan": "free"}, {"plan": START})


def test_i4_8_a_removal_keeps_its_timestamp_as_a_tombstone(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START - 30, plan="pro"))
    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START - 10, plan=None))

    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START - 20, plan="free"))

    assert person(world, "id", ADA.id).attributes == {}


def test_i4_8_a_call_without_timestamp_always_applies_as_now(world: World) -> None:
    world.set_time(START + HOUR)
    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START + HOUR - 1, plan="pro"))

    world.apply(identify(EMAIL_OR_ID, ADA.id, plan="free"))
    assert person(world, "id", ADA.id).attributes == {"plan": "free"}

    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START + HOUR - 2, plan="team"))
    assert person(world, "id", ADA.id).attributes == {"plan": "free"}


def test_i4_8_a_future_timestamp_is_clamped_to_the_time_received(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START + 365 * DAY, plan="pro"))
    ada = person(world, "id", ADA.id)
    assert ada.attributes == {"plan": "pro"}
    assert ada.attribute_times["plan"] == START

    world.set_time(START + 1)
    world.apply(identify(EMAIL_OR_ID, ADA.id, plan="free"))

    assert person(world, "id", ADA.id).attributes == {"plan": "free"}


@pytest.mark.parametrize("beyond", [1e300, "99999999999999", 10**20])
def test_i4_8_a_timestamp_past_the_year_9999_is_clamped_too(world: World, beyond: Any) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=beyond, plan="pro"))

    ada = person(world, "id", ADA.id)
    assert (ada.attributes, ada.attribute_times) == ({"plan": "pro"}, {"plan": START})


def test_i4_8_a_nested_key_follows_its_top_level_attribute_timestamp(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START - 10, prefs={"lang": "en"}))

    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START - 20, **{"prefs.lang": "fr"}))

    assert person(world, "id", ADA.id).attributes == {"prefs": {"lang": "en"}}


def test_i4_8_identifiers_change_in_arrival_order_whatever_the_timestamp(world: World) -> None:
    world.configure(allow_email_update_by_id=True)
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))

    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START - 10, email="ada@two.example"))
    world.apply(identify(EMAIL_OR_ID, ADA.id, _timestamp=START - 20, email="ada@three.example"))

    assert person(world, "id", ADA.id).email == "ada@three.example"
    assert world.person("email", "ada@two.example") is None


# -- I4.9 email letter case ------------------------------------------------------------------------


def test_i4_9_an_email_differing_only_in_case_updates_the_stored_form(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    cio_id = person(world, "id", ADA.id).cio_id

    outcome = world.apply(identify(EMAIL_OR_ID, ADA.id, email=" ADA@Example.com "))

    ada = person(world, "email", ADA.email)
    assert ada.cio_id == cio_id
    assert ada.email == "ADA@Example.com"
    assert outcome.conflicts == []
    assert of_type(world.activities(cio_id), "failed_attribute_change") == []
    [_, change] = of_type(world.activities(cio_id), "attribute_change", "email")
    assert change.data == {"from": ADA.email, "to": "ADA@Example.com"}


def test_i4_9_the_same_email_with_spaces_is_no_change_at_all(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    cio_id = person(world, "id", ADA.id).cio_id

    world.apply(identify(EMAIL_OR_ID, cio(cio_id), email=f"  {ADA.email}\t"))

    assert person(world, "id", ADA.id).email == ADA.email
    assert len(of_type(world.activities(cio_id), "attribute_change", "email")) == 1


# -- I4.10 activity log ----------------------------------------------------------------------------


def test_i4_10_every_applied_change_is_logged_with_from_and_to(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, plan="free"))
    world.apply(identify(EMAIL_OR_ID, ADA.id, plan="free"))
    world.apply(identify(EMAIL_OR_ID, ADA.id, plan="pro", seats=2))
    world.apply(identify(EMAIL_OR_ID, ADA.id, plan=None))
    cio_id = person(world, "id", ADA.id).cio_id

    changes = [(a.name, a.data) for a in of_type(world.activities(cio_id), "attribute_change")]

    assert changes == [
        ("id", {"from": None, "to": ADA.id}),
        ("plan", {"from": None, "to": "free"}),
        ("plan", {"from": "free", "to": "pro"}),
        ("seats", {"from": None, "to": 2}),
        ("plan", {"from": "pro", "to": None}),
    ]


@pytest.mark.parametrize("name", ["a..b", ".c", "d.", ".", "..", "x..y.z"])
def test_i4_3_a_name_with_an_empty_dot_segment_is_a_literal_name_not_a_path(
    world: World, name: str
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, a={"b": 1}, d={"e": 2}, x={"y": {"z": 3}}))

    world.apply(identify(EMAIL_OR_ID, ADA.id, **{name: "literal"}))
    ada = person(world, "id", ADA.id)
    assert ada.attributes == {"a": {"b": 1}, "d": {"e": 2}, "x": {"y": {"z": 3}}, name: "literal"}
    [change] = of_type(world.activities(ada.cio_id), "attribute_change", name)
    assert change.data == {"from": None, "to": "literal"}

    world.apply(identify(EMAIL_OR_ID, ADA.id, **{name: None}))
    assert person(world, "id", ADA.id).attributes == {
        "a": {"b": 1},
        "d": {"e": 2},
        "x": {"y": {"z": 3}},
    }


# -- what a refused call is told (the 4xx message names the problem) -------------------------------

ATTRIBUTE_REFUSALS: list[tuple[dict[str, Any], type[InvalidInput], str, str | None, int | None]] = [
    ({"": 1}, InvalidInput, "attribute names cannot be empty", "", None),
    (
        {"n" * 151: 1},
        LimitExceeded,
        f"attribute name '{'n' * 40}...' cannot be longer than 150 bytes",
        "n" * 151,
        150,
    ),
    (
        {"_cio_x": 1},
        InvalidInput,
        "attribute '_cio_x' is reserved and cannot be set",
        "_cio_x",
        None,
    ),
    (
        {"bio": "x" * 1001},
        LimitExceeded,
        "value for attribute 'bio' cannot be longer than 1000 bytes",
        "bio",
        1000,
    ),
    (
        {f"a{i}": i for i in range(301)},
        LimitExceeded,
        "a call cannot carry more than 300 attributes (this one has 301)",
        None,
        300,
    ),
    (
        {"plan": "pro", "created_at": 1e300},
        InvalidInput,
        "created_at must be unix seconds between years 1 and 9999",
        "created_at",
        None,
    ),
]


@pytest.mark.parametrize(
    ("attributes", "error", "message", "field", "limit"),
    ATTRIBUTE_REFUSALS,
    ids=["empty name", "long name", "reserved", "long value", "301 attributes", "created_at"],
)
def test_i4_3_a_refused_attribute_is_named_with_the_limit_it_crosses(
    attributes: dict[str, Any],
    error: type[InvalidInput],
    message: str,
    field: str | None,
    limit: int | None,
) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_attributes(attributes)

    refused = raised.value
    assert (type(refused), refused.message, str(refused), refused.field) == (
        error,
        message,
        message,
        field,
    )
    if isinstance(refused, LimitExceeded):
        assert (refused.attribute, refused.limit) == (field, limit)


def test_i4_3_a_person_over_300_attributes_is_refused_with_the_count_it_would_reach() -> None:
    check_person_size(300)
    with pytest.raises(LimitExceeded) as raised:
        check_person_size(301)

    assert raised.value.message == (
        "a person cannot have more than 300 attributes (this call would make 301)"
    )
    assert (raised.value.attribute, raised.value.limit) == (None, 300)


def test_i4_3_a_person_a_merge_left_over_300_attributes_may_still_change_and_lose_them(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, **{f"a{i}": i for i in range(200)}))
    world.apply(identify(EMAIL_OR_ID, GRACE.id, **{f"g{i}": i for i in range(200)}))
    world.apply(merge(EMAIL_OR_ID, ("id", ADA.id), ("id", GRACE.id)))

    world.apply(identify(EMAIL_OR_ID, ADA.id, a0="changed", g0=None))

    attributes = person(world, "id", ADA.id).attributes
    assert (len(attributes), attributes["a0"], "g0" in attributes) == (399, "changed", False)
    world.apply(identify(EMAIL_OR_ID, ADA.id, a1="changed"))  # as many as before: applies
    assert person(world, "id", ADA.id).attributes["a1"] == "changed"
    with pytest.raises(LimitExceeded):
        world.apply(identify(EMAIL_OR_ID, ADA.id, new_one=1))


def test_i4_1_an_attribute_that_does_not_change_does_not_stop_the_ones_after_it(
    world: World,
) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, plan="pro"))

    world.apply(identify(EMAIL_OR_ID, ADA.id, plan="pro", seats=2, gone=None))

    assert person(world, "id", ADA.id).attributes == {"plan": "pro", "seats": 2}


def test_i4_3_removing_a_nested_key_that_is_not_there_changes_nothing(world: World) -> None:
    world.apply(identify(EMAIL_OR_ID, ADA.id, prefs={"lang": "en"}))

    world.apply(identify(EMAIL_OR_ID, ADA.id, **{"prefs.missing": None, "prefs.deep.er": None}))

    assert person(world, "id", ADA.id).attributes == {"prefs": {"lang": "en", "deep": {}}}


# -- I4.4 what reads as a time ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "meant_as_time"),
    [
        (5, True),
        (1.5, True),
        ("1600000000", True),
        (" -5 ", True),
        ("1.5", True),
        ("-1.5", True),
        ("1..5", False),
        ("1.2.3", False),
        ("5-", False),
        ("X5", False),
        ("1e5", False),
        ("²", False),
        (True, False),
        (None, False),
        ([1], False),
    ],
)
def test_i4_4_a_number_or_digit_string_is_meant_as_unix_seconds(
    value: Any, meant_as_time: bool
) -> None:
    assert looks_like_time(value) is meant_as_time


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (EARLIEST, EARLIEST),
        (EARLIEST - 1, None),
        (LATEST, LATEST),
        (LATEST + 1, None),
        (1e300, None),
        (-1e300, None),
        (float("nan"), None),
        (float("inf"), None),
        ("0001-01-01T00:00:00Z", EARLIEST),
        ("9999-12-31T23:59:59Z", LATEST),
    ],
)
def test_i4_4_times_are_read_between_the_years_1_and_9999_inclusive(
    value: Any, seconds: float | None
) -> None:
    assert read_timestamp(value) == seconds


def test_i4_4_an_iso_time_without_a_zone_is_utc_whatever_the_servers_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert iso_seconds("2020-09-13T12:26:40") == 1_600_000_000
        assert read_timestamp("2020-09-13") == 1_599_955_200
    finally:
        monkeypatch.undo()
        time.tzset()


# -- how deep a value may nest (docs/api.md §5) ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "depth"),
    [
        (1, 0),
        ("text", 0),
        (None, 0),
        ({}, 1),
        ([], 1),
        ({"a": 1, "b": "x"}, 1),
        ({"a": {"b": {}}}, 3),
        ([[1], {"k": [2, {"deep": []}]}], 5),
        ({"a": [1, 2], "b": {"c": {"d": [3]}}}, 4),
        ((1, 2), 0),  # decoded JSON has no tuples: only dicts and lists nest
    ],
)
def test_i4_3_the_depth_of_a_value_counts_nested_objects_and_arrays(value: Any, depth: int) -> None:
    assert json_depth(value) == depth


def test_i4_3_measuring_depth_stops_once_past_the_limit_it_was_given() -> None:
    deep: Any = []
    for _ in range(10):
        deep = [deep]

    assert [json_depth(deep, stop) for stop in (None, 11, 10, 3, 0)] == [11, 11, 11, 4, 1]


def test_i4_3_a_value_nested_deeper_than_32_levels_is_refused() -> None:
    nested: Any = {}
    for _ in range(JSON_MAX_DEPTH - 1):
        nested = {"k": nested}
    assert json_depth(nested) == 32
    check_depth(nested)
    check_depth(nested, "message")

    with pytest.raises(InvalidInput) as body:
        check_depth([nested])
    with pytest.raises(InvalidInput) as message:
        check_depth({"a": nested}, "message")

    assert (
        body.value.message == "the request body nests objects and arrays more than 32 levels deep"
    )
    assert message.value.message == "the message nests objects and arrays more than 32 levels deep"
