"""The filter grammar of docs/api.md §4: what parses, what is refused and how the refusal names
the offending part, and what `eq` means."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roster.domain.errors import InvalidInput
from roster.domain.filters import (
    MAX_NODES,
    And,
    Attribute,
    Not,
    Or,
    equal_values,
    everyone,
    identifier_value,
    matches,
    parse,
    string_form,
)

EMAIL_BUT_NO_ID = {
    "and": [
        {"attribute": {"field": "email", "operator": "exists"}},
        {"not": {"attribute": {"field": "id", "operator": "exists"}}},
    ]
}


def refusal(raw: object) -> str:
    with pytest.raises(InvalidInput) as refused:
        parse(raw)
    assert refused.value.field == "filter"
    return refused.value.message


def test_the_people_with_an_email_but_no_id_example_parses_to_its_tree():
    assert parse(EMAIL_BUT_NO_ID) == And(
        (Attribute("email", "exists"), Not(Attribute("id", "exists")))
    )


def test_or_and_eq_parse_with_their_values():
    parsed = parse(
        {
            "or": [
                {"attribute": {"field": "plan", "operator": "eq", "value": "pro"}},
                {"attribute": {"field": "seats", "operator": "eq", "value": 5}},
                {"attribute": {"field": "trial", "operator": "eq", "value": False}},
            ]
        }
    )
    assert parsed == Or(
        (
            Attribute("plan", "eq", "pro"),
            Attribute("seats", "eq", 5),
            Attribute("trial", "eq", False),
        )
    )


def test_id_email_and_cio_id_are_identifier_fields_and_others_attributes():
    assert Attribute("id", "exists").is_identifier
    assert Attribute("email", "exists").is_identifier
    assert Attribute("cio_id", "exists").is_identifier
    assert not Attribute("plan", "exists").is_identifier


def test_an_unknown_operator_is_named_with_its_path():
    message = refusal(
        {
            "and": [
                {"attribute": {"field": "a", "operator": "exists"}},
                {"attribute": {"field": "b", "operator": "gt", "value": 1}},
            ]
        }
    )
    assert message == "filter.and[1].attribute.operator: unknown operator 'gt' (use eq or exists)"


def test_an_unknown_key_is_named():
    assert "unknown key 'nand'" in refusal({"nand": []})
    assert refusal({"attribute": {"field": "a", "operator": "exists", "op": 1}}) == (
        "filter.attribute: unknown key 'op' (use field, operator and value)"
    )


def test_eq_without_a_value_is_refused():
    assert refusal({"attribute": {"field": "plan", "operator": "eq"}}) == (
        "filter.attribute.value: eq needs a value"
    )


def test_exists_with_a_value_is_refused():
    assert refusal({"attribute": {"field": "plan", "operator": "exists", "value": "x"}}) == (
        "filter.attribute.value: exists takes no value"
    )


@pytest.mark.parametrize("key", ["and", "or"])
def test_empty_and_or_lists_are_refused(key):
    assert refusal({key: []}) == f"filter.{key}: must be a non-empty array of filters"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([], "filter: must be an object"),
        ("email", "filter: must be an object"),
        (None, "not null"),
        ({}, "found: none"),
        ({"and": [], "or": []}, "found: and, or"),
        ({"and": {"attribute": {}}}, "filter.and: must be a non-empty array"),
        ({"not": [1]}, "filter.not: must be an object"),
        ({"or": [{"not": 3}]}, "filter.or[0].not: must be an object"),
        ({"attribute": "email"}, "filter.attribute: must be an object"),
        ({"attribute": {"operator": "exists"}}, "filter.attribute.field: must be a non-empty"),
        ({"attribute": {"field": 3, "operator": "exists"}}, "filter.attribute.field"),
        ({"attribute": {"field": "", "operator": "exists"}}, "filter.attribute.field"),
        ({"attribute": {"field": "a\x00", "operator": "exists"}}, "field: cannot contain a NUL"),
        ({"attribute": {"field": "a", "operator": "eq", "value": "\x00"}}, "value: cannot contain"),
        ({"attribute": {"field": "a" * 151, "operator": "exists"}}, "longer than 150 bytes"),
        ({"attribute": {"field": "a"}}, "filter.attribute.operator: is required"),
        ({"attribute": {"field": "a", "operator": 1}}, "unknown operator '1'"),
        ({"attribute": {"field": "a", "operator": "EQ", "value": 1}}, "unknown operator 'EQ'"),
        ({"attribute": {"field": "a", "operator": "eq", "value": None}}, "not null"),
        ({"attribute": {"field": "a", "operator": "eq", "value": [1]}}, "not an array"),
        ({"attribute": {"field": "a", "operator": "eq", "value": {}}}, "not an object"),
    ],
)
def test_malformed_filters_are_refused_naming_the_part(raw, expected):
    assert expected in refusal(raw)


def test_a_filter_may_hold_up_to_the_node_cap_and_no_more():
    leaf = {"attribute": {"field": "a", "operator": "exists"}}
    assert isinstance(parse({"and": [leaf] * (MAX_NODES - 1)}), And)
    assert f"at most {MAX_NODES} conditions" in refusal({"and": [leaf] * MAX_NODES})


def test_deep_nesting_is_refused_by_the_node_cap_without_recursing_further():
    deep: object = {"attribute": {"field": "a", "operator": "exists"}}
    for _ in range(10_000):
        deep = {"not": deep}
    assert f"at most {MAX_NODES} conditions" in refusal(deep)


def test_a_long_unknown_operator_is_shortened_in_the_message():
    message = refusal({"attribute": {"field": "a", "operator": "x" * 500}})
    assert len(message) < 200


def test_string_forms_are_customerio_s():
    assert string_form("5") == "5"
    assert string_form(5) == "5"
    assert string_form(5.0) == "5"
    assert string_form(5.5) == "5.5"
    assert string_form(True) == "true"
    assert string_form([1, "a"]) == '[1,"a"]'


def test_eq_matches_every_scalar_with_the_same_string_form():
    assert equal_values("5") == ("5", 5)
    assert equal_values(5) == ("5", 5)
    assert equal_values(5.0) == ("5", 5)
    assert equal_values("5.5") == ("5.5", 5.5)
    assert equal_values("true") == ("true", True)
    assert equal_values(False) == ("false", False)
    assert equal_values("5.0") == ("5.0",)  # a stored 5.0 shows as "5"
    assert equal_values(" 5") == (" 5",)
    assert equal_values("1e3") == ("1e3",)
    assert equal_values("nan") == ("nan",)
    assert equal_values("pro") == ("pro",)
    assert equal_values(str(2**64)) == (str(2**64),)


@given(st.one_of(st.text(max_size=8), st.integers(-(2**53), 2**53), st.booleans()))
def test_every_equal_value_has_the_string_form_of_the_filter_value(value):
    for candidate in equal_values(value):
        assert string_form(candidate) == string_form(value)


def test_identifier_values_are_compared_in_their_stored_form():
    assert identifier_value("email", "  Ada@Example.COM ") == "ada@example.com"
    assert identifier_value("id", 42) == "42"
    assert identifier_value("cio_id", "cio_abc") == "abc"
    assert identifier_value("cio_id", "abc") == "abc"


def test_matches_follows_the_example():
    f = parse(EMAIL_BUT_NO_ID)
    assert matches(f, {"id": None, "email": "a@x.io", "cio_id": "c1"}, {})
    assert not matches(f, {"id": "1", "email": "a@x.io", "cio_id": "c1"}, {})
    assert not matches(f, {"id": None, "email": None, "cio_id": "c1"}, {})


def test_matches_compares_attributes_by_string_form_and_never_matches_json_values():
    seats = parse({"attribute": {"field": "seats", "operator": "eq", "value": "5"}})
    who = {"id": "1", "email": None, "cio_id": "c"}
    assert matches(seats, who, {"seats": 5})
    assert matches(seats, who, {"seats": "5"})
    assert not matches(seats, who, {"seats": [5]})
    assert not matches(seats, who, {})
    assert matches(
        parse({"attribute": {"field": "seats", "operator": "exists"}}), who, {"seats": [5]}
    )


def test_everyone_matches_everyone():
    assert matches(everyone(), {"id": None, "email": None, "cio_id": "c"}, {})
