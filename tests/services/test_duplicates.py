"""The duplicate finder's service on both databases (docs/api.md §5): bounded slices that never
skip or repeat a group, groups larger than a slice or than a page shows, emails too long for a
cursor, people who share an email in an email_or_id workspace through data written outside the
rules, which conflict records make a pair, and merging a group."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from roster.domain.identifiers import IdentifierMode, Reference
from roster.domain.operations import Operation
from roster.services.duplicates import SHOWN, Duplicates, Group, Merged
from roster.services.hygiene import Hygiene
from roster.services.ingestion import Message
from roster.services.system import System
from roster.storage.duplicate_groups import DuplicateGroups
from roster.storage.tables import conflicts, people
from tests.domain.builders import EMAIL_OR_ID, ID_ONLY, delete, identify
from tests.domain.personas import ADA, BARBARA, GRACE, LINUS


def _workspace(system: System, mode: IdentifierMode = IdentifierMode.ID_ONLY) -> int:
    return int(system.workspaces.create(f"dup-{uuid.uuid4().hex[:10]}", mode)["workspace_id"])


def _apply(system: System, workspace_id: int, *ops: Operation) -> None:
    done = system.ingestion.apply_sync(workspace_id, [Message(op) for op in ops], "track_v1")
    assert all(not isinstance(result, Exception) for result in done), done


def _finder(system: System, scan: int) -> Duplicates:
    """One slice a page: the smallest page the finder can read."""
    return Duplicates(DuplicateGroups(system.database), scan=scan, page_seconds=0.0)


def _walk(finder: Duplicates, workspace_id: int, limit: int) -> tuple[list[Group], int]:
    """Every group page by page, and how many pages came back empty with more to come."""
    found: list[Group] = []
    empty = 0
    start = ""
    while True:
        page, start = finder.page(workspace_id, start, limit)
        found += page
        if not start:
            return found, empty
        empty += not page


def test_sparse_groups_are_each_found_once_through_slices_that_may_come_back_empty(system):
    workspace_id = _workspace(system)
    for n in range(12):
        _apply(system, workspace_id, identify(ID_ONLY, f"single-{n}", email=f"m{n:02}@x.io"))
    for shared in ("m03@x.io", "m09@x.io"):
        _apply(system, workspace_id, identify(ID_ONLY, f"twin-{shared}", email=shared))

    found, empty = _walk(_finder(system, scan=3), workspace_id, limit=5)

    assert [g.email for g in found] == ["m03@x.io", "m09@x.io"]
    assert empty > 0  # slices without a duplicate answer a page of none, and go on
    everything, _ = _walk(Duplicates(DuplicateGroups(system.database)), workspace_id, limit=5)
    assert [g.email for g in everything] == ["m03@x.io", "m09@x.io"]


def test_a_group_larger_than_a_slice_is_one_group_with_everyone(system):
    workspace_id = _workspace(system)
    _apply(
        system,
        workspace_id,
        *(identify(ID_ONLY, f"ada-{n}", email=ADA.email) for n in range(7)),
        identify(ID_ONLY, GRACE.id, email=GRACE.email),
    )
    found, _ = _walk(_finder(system, scan=2), workspace_id, limit=1)
    (group,) = found
    assert (group.email, group.size) == (ADA.email, 7)
    assert [m.id for m in group.people] == [f"ada-{n}" for n in range(7)]


def test_a_group_larger_than_a_page_shows_lists_its_oldest_and_merging_takes_everyone(system):
    workspace_id = _workspace(system)
    _apply(
        system,
        workspace_id,
        *(identify(ID_ONLY, f"barbara-{n:03}", email=BARBARA.email) for n in range(SHOWN + 2)),
    )
    finder = system.duplicates
    ((group,), _) = finder.page(workspace_id, "", 10)
    assert (group.size, len(group.people)) == (SHOWN + 2, SHOWN)
    assert group.primary.id == "barbara-000"
    everyone = [m.id for m in finder.everyone(workspace_id, group)]
    assert everyone == [f"barbara-{n:03}" for n in range(SHOWN + 2)]


@pytest.mark.parametrize("stem", ["x" * 150, "é" * 80, "\u2603" * 45])
def test_emails_too_long_for_a_cursor_are_paged_without_skipping_one(system, stem):
    workspace_id = _workspace(system)
    emails = [f"{stem}{suffix}@example.com" for suffix in ("a", "b", "c")]
    for email in emails:
        _apply(
            system,
            workspace_id,
            identify(ID_ONLY, f"one-{email[-13]}", email=email),
            identify(ID_ONLY, f"two-{email[-13]}", email=email.upper()),
        )
    found, _ = _walk(system.duplicates, workspace_id, limit=1)
    assert [g.email for g in found] == emails
    assert [g.reason for g in found] == [
        "same_email" if email.upper() == email else "email_case" for email in emails
    ]


def test_a_long_email_cursor_whose_person_is_gone_since_skips_no_group(system):
    workspace_id = _workspace(system)
    stem = "y" * 150
    for suffix in ("a", "b", "c"):
        email = f"{stem}{suffix}@example.com"
        _apply(
            system,
            workspace_id,
            identify(ID_ONLY, f"first-{suffix}", email=email),
            identify(ID_ONLY, f"second-{suffix}", email=email),
            identify(ID_ONLY, f"third-{suffix}", email=email),
        )
    (first,), start = system.duplicates.page(workspace_id, "", 1)
    assert first.email == f"{stem}a@example.com"
    _apply(system, workspace_id, delete(ID_ONLY, "first-a"))  # the person the cursor names

    rest: list[Group] = []
    while start:
        page, start = system.duplicates.page(workspace_id, start, 1)
        rest += page
    emails = [g.email for g in rest]
    assert emails[-2:] == [f"{stem}b@example.com", f"{stem}c@example.com"]
    assert set(emails) <= {first.email, *emails[-2:]}  # the first may come again, nothing else


def _write_person(system: System, workspace_id: int, email: str, at: int) -> None:
    """A row as data written outside the identity rules leaves it (an old import)."""
    with system.database.writer.begin() as connection:
        connection.execute(
            sa.insert(people).values(
                workspace_id=workspace_id,
                cio_id=uuid.uuid4().hex[:12],
                id=None,
                email=email,
                email_folded=email.strip().casefold(),
                attributes={},
                attribute_times={},
                created_in_roster_at=at,
                updated_at=float(at),
            )
        )


def test_people_who_share_an_email_in_an_email_or_id_workspace_are_found_too(system):
    workspace_id = _workspace(system, IdentifierMode.EMAIL_OR_ID)
    _apply(system, workspace_id, identify(EMAIL_OR_ID, GRACE.id, email=GRACE.email))
    _write_person(system, workspace_id, "Grace@Example.com ", at=int(time.time()) - 86_400)

    ((group,), _) = system.duplicates.page(workspace_id, "", 10)

    assert (group.reason, group.email) == ("email_case", GRACE.email)
    assert [m.email for m in group.people] == ["Grace@Example.com ", GRACE.email]  # oldest first


def _conflict(system: System, workspace_id: int, person: Any, holder: Any, **values: Any) -> None:
    """A conflict record as the writer keeps it (docs/identity.md I5.2)."""
    with system.database.writer.begin() as connection:
        connection.execute(
            sa.insert(conflicts).values(
                workspace_id=workspace_id,
                kind=values.get("kind", "email"),
                value=values.get("value", LINUS.email),
                door=values.get("door", "track_v1"),
                person_pk=person.pk,
                holder_pk=holder.pk if holder is not None else None,
                reason="The identifier is already associated with a different profile.",
                count=1,
                first_seen=1.0,
                last_seen=1.0,
                resolved_at=values.get("resolved_at"),
            )
        )


def _find(system: System, workspace_id: int, kind: str, value: str) -> Any:
    return system.lookups.get(workspace_id, Reference(kind, value))  # type: ignore[arg-type]


def test_only_unresolved_records_between_an_id_only_and_an_email_only_person_are_pairs(system):
    workspace_id = _workspace(system, IdentifierMode.EMAIL_OR_ID)
    _apply(
        system,
        workspace_id,
        identify(EMAIL_OR_ID, LINUS.id),
        identify(EMAIL_OR_ID, LINUS.email),
        identify(EMAIL_OR_ID, ADA.id, email=ADA.email),
        identify(EMAIL_OR_ID, GRACE.id),
    )
    linus = _find(system, workspace_id, "id", LINUS.id)
    lead = _find(system, workspace_id, "email", LINUS.email)
    ada = _find(system, workspace_id, "id", ADA.id)
    grace = _find(system, workspace_id, "id", GRACE.id)
    _conflict(system, workspace_id, linus, None, door="app")  # nobody held it
    _conflict(system, workspace_id, ada, lead, door="segment")  # Ada has both identifiers
    _conflict(system, workspace_id, grace, linus, kind="id", value=LINUS.id)  # both id-only
    _conflict(system, workspace_id, linus, lead, door="track_v2", resolved_at=2.0)
    assert system.duplicates.page(workspace_id, "", 10) == ([], "")

    _conflict(system, workspace_id, linus, lead)
    _conflict(system, workspace_id, lead, linus, kind="id", value=LINUS.id)  # the same two
    ((pair,), _) = system.duplicates.page(workspace_id, "", 10)
    assert pair.reason == "conflict_pair"
    assert [m.cio_id for m in pair.people] == [linus.cio_id, lead.cio_id]

    hygiene = Hygiene(system.ingestion, system.lookups, system.database)
    merged = Merged()
    system.duplicates.merge(workspace_id, pair, hygiene, merged)
    assert (merged.groups, merged.people, merged.refused) == (1, 1, [])
    assert system.duplicates.page(workspace_id, "", 10) == ([], "")  # the lead is gone


def test_a_merge_the_rules_refuse_is_counted_with_its_reason_and_the_rest_go_on(system):
    workspace_id = _workspace(system)
    _apply(
        system,
        workspace_id,
        *(identify(ID_ONLY, f"ada-{n}", email=ADA.email) for n in range(3)),
    )
    ((group,), _) = system.duplicates.page(workspace_id, "", 10)
    hygiene = Hygiene(system.ingestion, system.lookups, system.database)
    first = Merged()
    system.duplicates.merge(
        workspace_id,
        Group(group.reason, 2, (group.people[0], group.people[1])),
        hygiene,
        first,
    )
    assert (first.groups, first.people) == (1, 1)

    again = Merged()
    system.duplicates.merge(workspace_id, group, hygiene, again)  # ada-1 was merged away since

    assert (again.groups, again.people) == (1, 1)
    ((cio_id, why),) = again.refused
    assert cio_id == group.people[1].cio_id and why


def test_a_group_read_again_is_the_same_group_only_while_it_holds_the_same_people(system):
    workspace_id = _workspace(system)
    _apply(
        system,
        workspace_id,
        *(
            identify(ID_ONLY, f"ada-{n}", email=ADA.email.upper() if n else ADA.email)
            for n in range(3)
        ),
    )
    finder = system.duplicates
    ((group,), _) = finder.page(workspace_id, "", 10)
    shown = [m.cio_id for m in group.people]

    again = finder.again(workspace_id, shown, 3, group.email)
    assert again is not None
    assert ([m.cio_id for m in again.people], again.reason) == (shown, "email_case")
    assert finder.again(workspace_id, shown[:2], 3, group.email) is not None  # a page lists some
    assert finder.again(workspace_id, shown, 2, group.email) is None  # someone joined since
    assert finder.again(workspace_id, shown[::-1], 3, group.email) is None  # not the oldest first

    hygiene = Hygiene(system.ingestion, system.lookups, system.database)
    hygiene.merge_sync(workspace_id, Reference("cio_id", shown[1]), Reference("cio_id", shown[2]))
    assert finder.again(workspace_id, shown, 3, group.email) is None  # one merged away
    assert finder.again(workspace_id, shown[:2], 2, None) is not None  # as a pair of two
    assert finder.again(workspace_id, shown, 3, None) is None
    assert finder.again(workspace_id, [shown[0], shown[0]], 2, None) is None
    _apply(system, workspace_id, delete(ID_ONLY, "ada-0"))
    assert finder.again(workspace_id, shown[:2], 2, None) is None  # one deleted
