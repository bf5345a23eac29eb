"""Identifier conflicts and refused identifier changes, seen and resolved (docs/api.md §5).

Every call that wants an identifier someone else holds (docs/identity.md I5.2, I7.3), or an
identifier change the rules refuse (I3.3, I5.3, I5.4), is counted in the `conflicts` table by
the ingestion (storage/conflict_rows.py says what a row means). This lists those rows, newest
(last seen) first, and resolves one: the holder is merged into the person the calls were about
and the refused change is applied, in one transaction, undoable like any merge (I6.4)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal

from roster.domain import cursors
from roster.domain.errors import InvalidInput, NotFound, ResolveRefused, RosterError
from roster.domain.identifiers import Given, Reference
from roster.domain.operations import Identify, Merge, Operation
from roster.domain.people import Person
from roster.services.ingestion import Ingestion, Message, Result, Then
from roster.services.lookups import Lookups
from roster.storage.conflict_rows import ConflictRows, Row, Side, mark_resolved
from roster.storage.writer import Transaction

__all__ = ["STATUSES", "Conflicts", "Plan", "Row", "Side"]

STATUSES = {"unresolved": False, "resolved": True, "all": None}


def encode_cursor(row: Row) -> str:
    return cursors.encode([row.last_seen, row.pk])


def decode_cursor(start: str) -> tuple[float, int] | None:
    """The (last_seen, pk) a `next` cursor stands for; None when absent."""
    match cursors.decode(start):
        case None:
            return None
        case [float() | int() as at, int() as pk] if (
            not isinstance(at, bool) and not isinstance(pk, bool) and 0 < pk < 2**63
        ):
            return float(at), pk
        case _:
            raise cursors.refused()


def conflict_id(raw: Any) -> int:
    """A conflict's id as the list gives it (a decimal string; a whole number is taken too)."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise InvalidInput("conflict must be the id of a conflict, as listed", field="conflict")
    text = str(raw)
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**63:
        raise InvalidInput("conflict must be the id of a conflict, as listed", field="conflict")
    return int(text)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


@dataclass(frozen=True)
class Plan:
    """What resolving a conflict does: who merges into whom, and what changes on the person
    kept. `refused` says why it is not done without `force` (None: nothing against it)."""

    conflict: Row
    person: Side
    holder: Side | None  # merged into the person; None: no one holds the value now
    changes: list[tuple[str, str | None, str]] = field(default_factory=list)  # kind, from, to
    attributes: list[str] = field(default_factory=list)  # taken from the holder (I6.2)
    refused: str | None = None
    ops: tuple[Operation, ...] = ()


class Conflicts:
    def __init__(self, rows: ConflictRows, ingestion: Ingestion, lookups: Lookups) -> None:
        self._rows = rows
        self._ingestion = ingestion
        self._lookups = lookups

    def page(
        self, workspace_id: int, start: str, limit: int, status: str = "unresolved"
    ) -> tuple[list[Row], str]:
        """A page, latest seen first, and the cursor of the next ("" after the last)."""
        if status not in STATUSES:
            raise InvalidInput("status must be one of unresolved, resolved, all", field="status")
        rows = self._rows.page(workspace_id, decode_cursor(start), limit, STATUSES[status])
        return rows, encode_cursor(rows[-1]) if len(rows) == limit else ""

    def get(self, workspace_id: int, pk: int) -> Row:
        row = self._rows.one(workspace_id, pk)
        if row is None:
            raise NotFound(f"no conflict {pk} in this workspace")
        return row

    def _person(self, workspace_id: int, side: Side) -> Person:
        return self._lookups.get(workspace_id, Reference("cio_id", side.cio_id))

    def plan(self, workspace_id: int, pk: int) -> Plan:
        """What resolving conflict `pk` would do, reading only. NotFound for no such conflict in
        the workspace; ResolveRefused when it cannot be resolved at all."""
        row = self.get(workspace_id, pk)
        if row.resolved_at is not None:
            raise ResolveRefused(f"conflict {pk} is resolved already")
        if row.person is None:
            raise ResolveRefused(
                f"conflict {pk} cannot be resolved: the person it was about has been deleted "
                "or merged into someone else"
            )
        person = self._person(workspace_id, row.person)
        holder = row.holder if row.holder is not None and row.holder.pk != row.person.pk else None
        me = Reference("cio_id", person.cio_id)
        kind, value = row.kind, row.value
        current = getattr(person, kind) if kind in ("id", "email") else None
        if row.holder is not None and row.holder.pk == row.person.pk:
            return Plan(row, row.person, None)  # the person holds it now: only the mark is left
        if holder is None:
            # No one holds the value now: the refused change itself, through a cio_ reference.
            op = Identify(me, body_id=Given(value)) if kind == "id" else None
            if kind == "email":
                op = Identify(me, body_email=Given(value))
            if kind == "anonymous_id":
                op = Identify(me, anonymous_id=Given(value))
            assert op is not None
            return Plan(row, row.person, None, [(kind, current, value)], ops=(op,))
        secondary = self._person(workspace_id, holder)
        # The person takes the holder's value through the merge, in place of its own (if it has
        # one): the record keeps both, so an unmerge gives each back to its owner (I6.4).
        replace: Literal["id", "email"] | None = None
        if current is not None:
            replace = "id" if kind == "id" else "email"
        merge = Merge(me, Reference("cio_id", secondary.cio_id), replace=replace)
        changes: list[tuple[str, str | None, str]] = []
        if kind == "anonymous_id":
            changes.append((kind, None, value))
        for other in ("id", "email"):
            mine = None if other == kind else getattr(person, other)
            theirs = getattr(secondary, other)
            if theirs is not None and mine is None:
                changes.append((other, getattr(person, other), theirs))
        taken = [
            name
            for name, had in secondary.attributes.items()
            if _empty(person.attributes.get(name)) and not _empty(had)
        ]
        return Plan(
            row,
            row.person,
            holder,
            changes,
            sorted(taken),
            self._objection(workspace_id, row, secondary),
            (merge,),
        )

    def _objection(self, workspace_id: int, row: Row, holder: Person) -> str | None:
        """Why merging the holder away needs `force`: it is not an orphan."""
        own = {"email": ("id",), "id": ("email",), "anonymous_id": ("id", "email")}[row.kind]
        for kind in own:
            if getattr(holder, kind) is not None:
                return (
                    f"the holder cio_{holder.cio_id} has its own {kind} "
                    f"'{getattr(holder, kind)}': it is not an orphan profile"
                )
        assert holder.pk is not None
        if self._rows.active_since(workspace_id, holder.pk, row.last_seen):
            return (
                f"the holder cio_{holder.cio_id} has activity newer than the conflict's last "
                "call: it is not an orphan profile"
            )
        return None

    def _checked(self, workspace_id: int, pk: int, force: bool) -> tuple[Plan, list[Message]]:
        plan = self.plan(workspace_id, pk)
        if plan.refused is not None and not force:
            raise ResolveRefused(f"conflict {pk} was not resolved: {plan.refused} (force it)")
        return plan, [Message(plan.ops[0], "resolve", more=plan.ops[1:])] if plan.ops else []

    @staticmethod
    def _mark(workspace_id: int, pk: int) -> Then:
        def then(tx: Transaction, _results: list[Result]) -> None:
            if not mark_resolved(tx.connection, workspace_id, pk, tx.now):
                # Another resolve got there first: this one's changes are undone with it.
                raise ResolveRefused(f"conflict {pk} was resolved meanwhile")

        return then

    async def resolve(self, workspace_id: int, pk: int, force: bool, door: str) -> Plan:
        """Resolve: one transaction merges, changes and marks the conflict resolved."""
        plan, messages = await asyncio.to_thread(self._checked, workspace_id, pk, force)
        await self._ingestion.apply(
            workspace_id, messages, door, strict=True, then=self._mark(workspace_id, pk)
        )
        return plan

    def resolve_sync(self, workspace_id: int, pk: int, force: bool, door: str) -> Plan:
        plan, messages = self._checked(workspace_id, pk, force)
        results = self._ingestion.apply_sync(
            workspace_id, messages, door, strict=True, then=self._mark(workspace_id, pk)
        )
        for result in results:
            if isinstance(result, RosterError):
                raise result
        return plan

    def person_now(self, workspace_id: int, side: Side) -> Person:
        return self._person(workspace_id, side)
