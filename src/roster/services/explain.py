"""`POST /api/explain` and `roster explain` (docs/api.md §5): what a call would do, found by
doing it and rolling it back (docs/decisions.md, "Explain rehearses the call").

A rehearsal is the running system with two things swapped: the workspace the explained call is
about is the one every door's credentials resolve to (a webhook's signature is checked against
its own secret), and every write (ingestion, and the outbox, suppression list, deletion and
exports that the App API writes through) runs each request's work on the real writer inside a
savepoint that is rolled back (storage/rehearsal.py). Everything else (the door's parser, the
handlers, the identity rules, the writer's locks and batch) is the code a real call runs, so the
explanation cannot drift from what the call does."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from roster.domain.context import Outcome
from roster.domain.errors import Citation, Conflict, ConflictError, RosterError
from roster.domain.people import Activity
from roster.domain.store import Store
from roster.domain.workspace import WorkspaceRules
from roster.services.deletion import Deletion
from roster.services.ingestion import Dropped, Ingestion, Message, Result, Then
from roster.services.workspaces import Workspaces
from roster.storage.rehearsal import RehearsingWriter, Rows
from roster.storage.writer import Writer

if TYPE_CHECKING:
    from roster.services.system import System

# How a person the call would create is shown: the cio_id the rehearsal drew is not theirs.
_NEW = {"cio_id": None, "new": True}
Who = Callable[[str | None], dict[str, Any] | None]


class _PinnedWorkspaces(Workspaces):
    """The workspaces service with every door credential meaning one workspace: the explain
    call was authenticated with that workspace's App API key."""

    def __init__(self, real: Workspaces, workspace_id: int) -> None:
        self.__dict__.update(real.__dict__)  # the same database, writer and caches
        self._pinned = workspace_id

    # Every key look-up (for_track, for_write_key, for_app_key and the doors' own) ends here.
    def cached(self, kind: str, scope: str, secret: str) -> int | None:
        return self._pinned

    def authenticate(self, kind: str, scope: str, secret: str) -> int:
        return self._pinned

    def for_webhook(self, webhook_id: str) -> tuple[int, bytes]:
        # The workspace's own webhook, secret included: a signature the call carries is
        # checked against it, as the workspace's webhook URL would check it.
        own: str = self.get(self._pinned)["webhook_id"]
        return super().for_webhook(own)


@dataclass
class _Asked:
    """One request's messages as a door handed them to ingestion, and what came of them."""

    messages: Sequence[Message]
    dropped: Sequence[Dropped]
    results: list[Result] | None = None
    error: RosterError | None = None
    failed: Message | None = None  # the message whose error refused the whole request


class _RehearsingIngestion(Ingestion):
    def __init__(self, real: Ingestion, writer: RehearsingWriter) -> None:
        # Ingestion asks a writer only for takes_locks, run and run_sync: what a
        # RehearsingWriter has.
        super().__init__(cast(Writer, writer), real.clock, real.make_cio_id)
        self.asked: list[_Asked] = []

    def _one(self, store: Store, rules: WorkspaceRules, message: Message, strict: bool) -> Outcome:
        try:
            return super()._one(store, rules, message, strict)
        except RosterError:
            if self.asked:  # a call's requests run one after the other
                self.asked[-1].failed = message
            raise

    def apply_sync(
        self,
        workspace_id: int,
        messages: Sequence[Message],
        door: str,
        strict: bool = False,
        isolate: bool = False,
        then: Then | None = None,
    ) -> list[Result]:
        asked = _Asked(messages, ())
        self.asked.append(asked)
        try:
            asked.results = super().apply_sync(workspace_id, messages, door, strict, isolate, then)
        except RosterError as error:
            asked.error = error
            raise
        return asked.results

    async def apply(
        self,
        workspace_id: int,
        messages: Sequence[Message],
        door: str,
        strict: bool = False,
        isolate: bool = False,
        dropped: Sequence[Dropped] = (),
        then: Then | None = None,
    ) -> list[Result]:
        asked = _Asked(messages, dropped)
        self.asked.append(asked)
        try:
            asked.results = await super().apply(
                workspace_id, messages, door, strict, isolate, dropped, then
            )
        except RosterError as error:
            asked.error = error
            raise
        return asked.results


@dataclass
class Rehearsal:
    """A system to run one call through, and what the call did there."""

    system: System
    rows: Rows
    asked: list[_Asked] = field(default_factory=list)

    def report(self, status: int, answer: Any) -> dict[str, Any]:
        """The explanation, given the status and body the call was answered with."""
        refused = status >= 400
        created = self.rows.created

        def who(cio_id: str | None) -> dict[str, Any] | None:
            if cio_id is None:
                return None
            return dict(_NEW) if cio_id in created else {"cio_id": cio_id, "new": False}

        messages = [
            _message(message, result, cited, who, refused)
            for asked in self.asked
            for message, result, cited in _pairs(asked)
        ]
        activities = [] if refused else self.rows.activities
        report = {
            "answer": {"status": status, "body": answer},
            "written": False,
            "messages": messages,
            "changes": [
                {"person": who(a.cio_id), "attribute": a.name, **(a.data or {})}
                for a in activities
                if a.type == "attribute_change"
            ],
            "refused": [
                {"person": who(a.cio_id), "attribute": a.name, **(a.data or {})}
                for a in activities
                if a.type == "failed_attribute_change"
            ],
            "activities": [_activity(a, who) for a in activities],
            "events": [
                {
                    "person": who(cio_id),
                    "name": e.name,
                    "type": e.type,
                    "event_id": e.event_id,
                    "anonymous_id": e.anonymous_id,
                }
                for e, cio_id in ([] if refused else self.rows.events)
            ],
            "ingestion_log": [
                {
                    "reason": row.reason,
                    "type": row.type,
                    "message_id": row.message_id,
                    "identifier_hash": row.identifier_hash,
                }
                for row in ([] if refused else self.rows.log)
            ],
            "suppressions": [
                {"change": entry.change, "hash": entry.hash, "group": entry.group}
                for entry in ([] if refused else self.rows.suppressions)
            ],
        }
        return cast(dict[str, Any], _unnamed(report, created))


def _unnamed(value: Any, created: set[str]) -> Any:
    """`value` with the cio_id of every person the call created read as `new`: the rehearsal's
    cio_ids are random, and the call itself would draw others."""
    if not created:
        return value
    if isinstance(value, str):
        for cio_id in created:
            value = value.replace(cio_id, "new")
        return value
    if isinstance(value, dict):
        return {key: _unnamed(item, created) for key, item in value.items()}
    if isinstance(value, list):
        return [_unnamed(item, created) for item in value]
    return value


def _pairs(asked: _Asked) -> list[tuple[Message | Dropped, Result | None, bool]]:
    """Each message with what came of it, and whether that result is its own (a message
    refused with the request another one failed is not what its rules decided)."""
    pairs: list[tuple[Message | Dropped, Result | None, bool]] = [
        (d, None, True) for d in asked.dropped
    ]
    if asked.results is not None:
        pairs += [(m, r, True) for m, r in zip(asked.messages, asked.results, strict=True)]
    else:
        pairs += [(m, asked.error, m is asked.failed) for m in asked.messages]
    return pairs


def _message(
    message: Message | Dropped, result: Result | None, own: bool, who: Who, refused: bool
) -> dict[str, Any]:
    shown: dict[str, Any] = {"type": message.type, "message_id": message.message_id}
    if isinstance(message, Dropped):
        return {**shown, "applied": False, "reason": message.reason}
    if isinstance(result, RosterError) or result is None:
        reason = result.message if result is not None else "the call was refused"
        shown = {**shown, "applied": False, "reason": reason}
        if isinstance(result, RosterError) and own:
            # What led there: the rules cited up to the refusal (a strict-mode 409's I5.2).
            conflicts = result.conflicts if isinstance(result, ConflictError) else []
            shown["person"] = who(conflicts[0].wanted_by) if conflicts else None
            shown["rules"] = _rules(result.rules)
            shown["conflicts"] = _conflicts(conflicts)
        return shown
    outcome: Outcome = result
    return {
        **shown,
        "applied": not refused,
        "person": who(outcome.cio_id),
        "rules": _rules(outcome.rules),
        "conflicts": _conflicts(outcome.conflicts),
        "notes": [note.reason for note in outcome.notes],
    }


def _rules(cited: Sequence[Citation]) -> list[dict[str, str]]:
    return [{"rule": c.rule, "why": c.why} for c in cited]


def _conflicts(found: Sequence[Conflict]) -> list[dict[str, str]]:
    return [
        {"kind": c.kind, "value": c.value, "cio_id": c.wanted_by, "held_by": c.held_by}
        for c in found
    ]


def _activity(activity: Activity, who: Who) -> dict[str, Any]:
    return {
        "person": who(activity.cio_id),
        "type": activity.type,
        "name": activity.name,
        "data": activity.data,
    }


class Explain:
    def __init__(self, writer: Writer) -> None:
        self._writer = writer

    def rehearsal(self, system: System, workspace_id: int) -> Rehearsal:
        """A copy of `system` whose doors all mean `workspace_id` and whose every write (the
        ingestion, and the services the doors write through) rolls back: run one call through
        it, then ask the rehearsal for its report."""
        rows = Rows()
        rehearsing = RehearsingWriter(self._writer, rows)
        writer = cast(Writer, rehearsing)  # it has what the services ask of a writer
        ingestion = _RehearsingIngestion(system.ingestion, rehearsing)
        rehearsed = dataclasses.replace(
            system,
            ingestion=ingestion,
            workspaces=_PinnedWorkspaces(system.workspaces, workspace_id),
            # Nothing commits between a rehearsal's batches: the whole list in one request.
            deletion=Deletion(ingestion, batch=sys.maxsize),
            outbox=system.outbox.writing_through(ingestion),
            suppressions=system.suppressions.writing_through(writer),
            exports=system.exports.writing_through(writer),
        )
        return Rehearsal(rehearsed, rows, ingestion.asked)
