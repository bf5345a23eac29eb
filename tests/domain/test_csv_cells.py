"""CSV cells keep an attribute value's type through export and import (docs/api.md §4)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from roster.domain.csv_cells import decode_cell, encode_cell

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


# An attribute is never None or "" (both remove it, docs/identity.md I4.2).
@given(st.one_of(st.text(min_size=1), json_values.filter(lambda v: v not in (None, ""))))
def test_every_value_comes_back_from_its_cell_with_its_type(value):
    assert decode_cell(encode_cell(value)) == value
    assert type(decode_cell(encode_cell(value))) is type(value)


def test_plain_strings_are_written_as_they_are():
    assert encode_cell("Ada Lovelace") == "Ada Lovelace"
    assert decode_cell("Ada Lovelace") == "Ada Lovelace"


def test_strings_that_read_as_json_are_quoted():
    assert encode_cell("123") == '"123"'
    assert encode_cell("true") == '"true"'
    assert encode_cell('"quoted"') == '"\\"quoted\\""'


def test_non_strings_are_json():
    assert encode_cell(123) == "123"
    assert encode_cell(False) == "false"
    assert encode_cell({"plan": ["pro"]}) == '{"plan":["pro"]}'


def test_the_empty_cell_is_no_value():
    assert encode_cell(None) == ""
    assert decode_cell("") is None
