"""Export → import into a new workspace reproduces every person, identifier and attribute value
with its type (docs/api.md §4, §5; docs/decisions.md, *Imports match cio_ids, never keep them*),
on SQLite and PostgreSQL: the real export's file, sent to POST /api/imports."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.api.parsing import identify_from
from roster.domain.attributes import SPECIAL_KEYS
from roster.domain.identifiers import NOT_GIVEN, IdentifierMode, Reference, is_blocked
from roster.domain.limits import RESERVED_PREFIXES, serialised_size
from roster.domain.operations import Ref
from roster.domain.people import Person
from roster.services.exports import FIXED_COLUMNS, Plan
from roster.services.ingestion import Message
from roster.services.system import System
from tests.api.calls import bearer

MODE = IdentifierMode.EMAIL_OR_ID
# Text as people write it into cells: separators, quotes, line breaks, JSON look-alikes.
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=12,
)
NAMES = st.text(st.sampled_from('abcXYZ019_- ,"\n\ré[]{}'), min_size=1, max_size=10).filter(
    lambda name: (
        "." not in name
        and name not in SPECIAL_KEYS
        and name not in FIXED_COLUMNS
        and not name.startswith(RESERVED_PREFIXES)
    )
)
NUMBERS = st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
SCALARS = st.booleans() | NUMBERS | TEXT | st.sampled_from(["123", "true", "null", '"q"', "[1]"])
NESTED = st.recursive(
    st.none()
    | st.booleans()
    | NUMBERS
    | st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text("abc_ ", max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
VALUES = (SCALARS | NESTED.filter(lambda value: value is not None)).filter(
    lambda value: serialised_size(value) <= 1000
)
ATTRIBUTES = st.dictionaries(NAMES, VALUES, max_size=5)
IDS = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=20,
).filter(lambda id_: bool(id_.strip()) and not is_blocked(id_) and len(id_.encode()) <= 150)
EMAILS = st.from_regex(r"[a-zA-Z0-9]{1,8}@example\.com", fullmatch=True)


@st.composite
def people(draw: st.DrawFn) -> list[dict[str, Any]]:
    """People, each with an id, an email or both (none shared), and random attributes."""
    count = draw(st.integers(1, 6))
    ids = draw(st.lists(IDS, min_size=count, max_size=count, unique=True))
    emails = draw(
        st.lists(EMAILS, min_size=count, max_size=count, unique_by=lambda e: e.casefold())
    )
    found = []
    for id_, email in zip(ids, emails, strict=True):
        which = draw(st.sampled_from(["id", "email", "both"]))
        attributes = draw(ATTRIBUTES)
        if draw(st.booleans()):
            attributes["created_at"] = draw(st.integers(0, 2**31))
        if draw(st.booleans()):
            attributes["unsubscribed"] = draw(st.booleans())
        found.append(
            {
                "id": None if which == "email" else id_,
                "email": None if which == "id" else email,
                "attributes": attributes,
            }
        )
    return found


def _create(system: System, workspace_id: int, person: dict[str, Any]) -> None:
    body = dict(person["attributes"])
    if person["email"] is not None:
        body["email"] = person["email"]
    ref: Ref = NOT_GIVEN if person["id"] is None else Reference("id", person["id"])
    op = identify_from(ref, body, MODE)
    (outcome,) = system.ingestion.apply_sync(workspace_id, [Message(op)], "track_v1", strict=True)
    assert not isinstance(outcome, Exception), outcome


def _found(system: System, workspace_id: int, person: dict[str, Any]) -> Person:
    kind, value = ("id", person["id"]) if person["id"] is not None else ("email", person["email"])
    found = system.lookups.find(workspace_id, Reference(kind, value))
    assert found is not None, (kind, value)
    return found


def _typed(person: Person) -> tuple[str | None, str | None, bytes]:
    """Identifiers and attributes, the values compared with their JSON types (1 is not 1.0 or
    true)."""
    return person.id, person.email, orjson.dumps(person.attributes, option=orjson.OPT_SORT_KEYS)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(source_people=people())
def test_export_then_import_into_a_new_workspace_reproduces_people_and_value_types(
    client, system: System, source_people: list[dict[str, Any]]
):
    source = int(system.workspaces.create(f"from-{uuid.uuid4().hex[:10]}")["workspace_id"])
    for person in source_people:
        _create(system, source, person)
    exported = b"".join(system.exports.file(source, Plan()))

    target = system.workspaces.create(f"into-{uuid.uuid4().hex[:10]}")
    answer = client.post(
        "/api/imports",
        content=exported,
        headers={**bearer(target["app_api_key"]), "Content-Type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    assert summary["failed"] == [] and summary["refused"] == [], summary
    assert summary["created"] == len(source_people)

    for person in source_people:
        before = _found(system, source, person)
        after = _found(system, int(target["workspace_id"]), person)
        assert _typed(after) == _typed(before)
        assert after.cio_id != before.cio_id  # roster draws cio_ids (docs/identity.md I1.1)
