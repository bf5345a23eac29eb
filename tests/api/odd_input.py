"""Any JSON a client could send, for the tests that check a door refuses it with a 4xx naming
the problem and writes nothing (docs/api.md §1)."""

from __future__ import annotations

from hypothesis import strategies as st

# Surrogates cannot be encoded as UTF-8, so no client can send them.
ODD_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
ODD_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | ODD_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ODD_TEXT, inner, max_size=4),
    max_leaves=12,
)
