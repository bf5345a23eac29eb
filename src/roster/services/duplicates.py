"""The duplicate finder (docs/api.md §5, §6): groups of people who are probably one human, each
with the person a merge should keep, and merging a group into that person through the writer.

Groups come in two sections, in this order: people who share a case-folded email (`same_email`
when they spell it alike, `email_case` when only case or surrounding spaces differ), by email;
then id-only + email-only pairs tied by an unresolved conflict record (`conflict_pair`,
docs/identity.md I5.2), by record. A page reads bounded slices of the indexes for a bounded
time, so it may hold fewer groups than asked for, even none, while `next` goes on: every page
answers in about the same time however sparse the duplicates are (docs/decisions.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from roster.domain import cursors
from roster.domain.errors import RosterError
from roster.domain.identifiers import Reference
from roster.services.hygiene import Hygiene
from roster.storage.duplicate_groups import DuplicateGroups, Member

__all__ = ["Duplicates", "Group", "Member", "Merged"]

SAME_EMAIL = "same_email"
EMAIL_CASE = "email_case"
CONFLICT_PAIR = "conflict_pair"
# People (or conflict records) one slice looks through, and the time a page may take reading
# slices after its first: a page answers within about PAGE_SECONDS whatever the data and however
# busy the machine (measured on 1,000,000 people on both databases: docs/decisions.md).
SCAN = 5_000
PAGE_SECONDS = 0.025
SHOWN = 100  # people listed per group; `size` counts them all
KEPT_LISTED = 1000  # people kept that a merge's summary names
_EMAILS, _CONFLICTS = "e", "c"
# A cursor holds the last email looked at; one too long for a cursor holds its first characters
# and the row number of someone who had it (see _resume).
_PREFIX = 100


@dataclass(frozen=True)
class Group:
    reason: str
    size: int
    people: tuple[Member, ...]  # oldest first: people[0] is the suggested primary
    email: str | None = None  # the case-folded email an email group shares
    conflict: tuple[str, str] | None = None  # (kind, value) of a conflict pair's record

    @property
    def primary(self) -> Member:
        return self.people[0]

    def as_json(self) -> dict[str, Any]:
        """The group as GET /api/duplicates and `roster duplicates --json` show it."""
        answer: dict[str, Any] = {
            "reason": self.reason,
            "primary": self.primary.cio_id,
            "size": self.size,
            "people": [
                {
                    "cio_id": m.cio_id,
                    "id": m.id,
                    "email": m.email,
                    "created_in_roster_at": m.created_in_roster_at,
                }
                for m in self.people
            ],
        }
        if self.email is not None:
            answer["email"] = self.email
        if self.conflict is not None:
            answer["conflict"] = {"kind": self.conflict[0], "value": self.conflict[1]}
        return answer


@dataclass
class Merged:
    """What merging groups did: people merged away, each refusal with its reason, and the
    first KEPT_LISTED people kept with how many were merged into each (to undo them)."""

    groups: int = 0
    people: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (cio_id, why)
    kept: list[tuple[str, int]] = field(default_factory=list)  # (cio_id, people merged in)


@dataclass
class _Position:
    section: str
    email: str = ""
    inclusive: bool = False
    conflict: int = 0


def _email_reason(members: tuple[Member, ...]) -> str:
    return SAME_EMAIL if len({m.email for m in members}) == 1 else EMAIL_CASE


class Duplicates:
    def __init__(
        self, groups: DuplicateGroups, scan: int = SCAN, page_seconds: float = PAGE_SECONDS
    ) -> None:
        self._groups = groups
        self._scan = scan
        self._page_seconds = page_seconds

    # -- cursors ---------------------------------------------------------------------------------

    def _encode(self, workspace_id: int, at: _Position) -> str:
        if at.section == _CONFLICTS:
            return cursors.encode([_CONFLICTS, at.conflict])
        whole = cursors.encode([_EMAILS, at.email])
        if len(whole) <= cursors.MAX_CHARS:
            return whole
        holder = self._groups.oldest_with(workspace_id, at.email)
        length = min(_PREFIX, len(at.email))
        while True:  # fewer characters when they take several bytes each
            cursor = cursors.encode([_EMAILS, at.email[:length], holder or 0])
            if len(cursor) <= cursors.MAX_CHARS or length == 1:
                return cursor
            length -= 1

    def _decode(self, workspace_id: int, start: str) -> _Position:
        match cursors.decode(start):
            case None:
                return _Position(_EMAILS)
            case [str() as section, str() as email] if section == _EMAILS and "\x00" not in email:
                return _Position(_EMAILS, email)
            case [str() as section, str() as prefix, int() as pk] if (
                section == _EMAILS
                and not isinstance(pk, bool)
                and 0 < len(prefix) <= _PREFIX
                and "\x00" not in prefix  # no stored email has one: PostgreSQL cannot hold it
            ):
                return self._resume(workspace_id, prefix, pk)
            case [str() as section, int() as pk] if (
                section == _CONFLICTS and not isinstance(pk, bool) and 0 <= pk < 2**63
            ):
                return _Position(_CONFLICTS, conflict=pk)
            case _:
                raise cursors.refused()

    def _resume(self, workspace_id: int, prefix: str, pk: int) -> _Position:
        """After an email too long for a cursor: after the email of the person the cursor
        names while they still have it; else from its first characters on, which may show
        again a group with that beginning but never skips one."""
        email = self._groups.email_of(workspace_id, pk) if 0 < pk < 2**63 else None
        if email is not None and email.startswith(prefix):
            return _Position(_EMAILS, email)
        return _Position(_EMAILS, prefix, inclusive=True)

    # -- pages -----------------------------------------------------------------------------------

    def page(self, workspace_id: int, start: str, limit: int) -> tuple[list[Group], str]:
        """Up to `limit` groups after the cursor `start`, and the cursor of the next page ("" after
        the last)."""
        at = self._decode(workspace_id, start)
        found: list[Group] = []
        until = time.monotonic() + self._page_seconds
        took = 0.0  # the last slice's time: another is read only while one as long still fits
        read = 0  # slices: one at least (of each section the page reaches)
        while len(found) < limit and (read == 0 or time.monotonic() + took <= until):
            read += 1
            wanted = limit - len(found)
            began = time.monotonic()
            if at.section == _EMAILS:
                emails = self._groups.email_groups(
                    workspace_id, at.email, at.inclusive, wanted, self._scan, SHOWN
                )
                found += [
                    Group(_email_reason(g.members), g.size, g.members, email=g.email_folded)
                    for g in emails.found
                ]
                if emails.ended:  # a page that finishes the emails reads some conflicts too
                    at, read = _Position(_CONFLICTS), 0
                else:
                    at = _Position(_EMAILS, emails.upto or at.email)
            else:
                pairs = self._groups.conflict_pairs(workspace_id, at.conflict, wanted, self._scan)
                found += [
                    Group(CONFLICT_PAIR, 2, p.members, conflict=(p.kind, p.value))
                    for p in pairs.found
                ]
                if pairs.ended:
                    return found, ""
                at = _Position(_CONFLICTS, conflict=pairs.upto or at.conflict)
            took = time.monotonic() - began
        return found, self._encode(workspace_id, at)

    def walk(self, workspace_id: int, page_size: int = 500) -> Iterator[Group]:
        """Every group, page by page (never all in memory)."""
        start = ""
        while True:
            groups, start = self.page(workspace_id, start, page_size)
            yield from groups
            if not start:
                return

    # -- merging ---------------------------------------------------------------------------------

    def again(
        self, workspace_id: int, cio_ids: Sequence[str], size: int, email: str | None = None
    ) -> Group | None:
        """The group that was shown with the people `cio_ids` (oldest first, the first SHOWN of
        `size`; an email group's shared case-folded `email`) as it is now, while it holds
        exactly those people still; None when it changed since (someone merged away, deleted,
        or no longer sharing the email), so that nothing is merged on a stale view."""
        if not cio_ids or len(cio_ids) > SHOWN or len(set(cio_ids)) != len(cio_ids):
            return None
        if email is None:
            found = self._groups.with_cio_ids(workspace_id, cio_ids)
            if size != len(cio_ids) or [m.cio_id for m in found] != list(cio_ids):
                return None
            return Group(CONFLICT_PAIR, size, tuple(found))
        members = self._groups.oldest_members(workspace_id, email, size + 1)
        if len(members) != size or [m.cio_id for m in members[: len(cio_ids)]] != list(cio_ids):
            return None
        shown = tuple(members[:SHOWN])
        return Group(_email_reason(tuple(members)), size, shown, email=email)

    def everyone(self, workspace_id: int, group: Group) -> Iterator[Member]:
        """All the group's people oldest first: an email group may list only its SHOWN oldest."""
        if group.email is not None and group.size > len(group.people):
            return self._groups.members(workspace_id, group.email)
        return iter(group.people)

    def merge(self, workspace_id: int, group: Group, hygiene: Hygiene, merged: Merged) -> None:
        """Merge every person of the group into its oldest, one merge each (each undone by an
        unmerge of the primary, latest first: docs/identity.md I6.4), counting into `merged`."""
        people = self.everyone(workspace_id, group)
        primary = next(people, None)
        if primary is None:
            return
        kept = Reference("cio_id", primary.cio_id)
        count = 0
        for person in people:
            try:
                hygiene.merge_sync(workspace_id, kept, Reference("cio_id", person.cio_id))
            except RosterError as error:
                merged.refused.append((person.cio_id, error.message))
                continue
            count += 1
        if count:
            merged.groups += 1
            merged.people += count
            if len(merged.kept) < KEPT_LISTED:
                merged.kept.append((primary.cio_id, count))
