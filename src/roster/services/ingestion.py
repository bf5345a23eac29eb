"""Apply a request's operations through the writer, and log what was ignored or dropped."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from roster.domain.context import Clock, Context, IdMaker, Outcome, new_cio_id
from roster.domain.engine import apply
from roster.domain.errors import RosterError, Unavailable
from roster.domain.identifiers import normalise
from roster.domain.operations import Operation, TrackEvent, named_identifiers
from roster.domain.store import Store
from roster.domain.workspace import WorkspaceRules
from roster.services.telemetry import Telemetry
from roster.storage import conflict_rows
from roster.storage.writer import Transaction, Writer, lock_key


@dataclass(frozen=True)
class Message:
    """One call's operations (usually one), and what the ingestion log should say about where
    it came from. A message's operations succeed or fail together."""

    op: Operation
    type: str | None = None
    message_id: str | None = None
    more: tuple[Operation, ...] = ()

    @property
    def ops(self) -> tuple[Operation, ...]:
        return (self.op, *self.more)


@dataclass(frozen=True)
class Dropped:
    """A message refused before it became an operation, for the ingestion log."""

    reason: str
    type: str | None = None
    message_id: str | None = None


Result = Outcome | RosterError
# Work that must commit with the operations or not at all (a resolved conflict's mark, the
# people an unmerge leaves), given the operations' results.
Then = Callable[[Transaction, list[Result]], None]


class Ingestion:
    def __init__(
        self,
        writer: Writer,
        clock: Clock = time.time,
        make_cio_id: IdMaker = new_cio_id,
        telemetry: Telemetry | None = None,
    ):
        self.writer = writer
        self.clock = clock
        self.make_cio_id = make_cio_id
        self.telemetry = telemetry

    def _count(
        self, door: str, messages: Sequence[Message], results: list[Result], dropped: int = 0
    ) -> None:
        """What /metrics counts of an answered request (docs/operations.md, "Metrics")."""
        if self.telemetry is not None:
            self.telemetry.applied(door, [message.ops for message in messages], results)
            self.telemetry.dropped(door, dropped)

    def _lost(self) -> None:
        if self.telemetry is not None:
            self.telemetry.database_errors.inc()

    def _keys(self, workspace_id: int, messages: Sequence[Message]) -> tuple[int, ...]:
        if not self.writer.takes_locks:
            return ()  # one writer (SQLite): no one to take turns with
        return tuple(
            lock_key(workspace_id, kind, normalise(kind, value))
            for message in messages
            for op in message.ops
            for kind, value in named_identifiers(op)
        )

    def _work(
        self,
        workspace_id: int,
        messages: Sequence[Message],
        door: str,
        strict: bool,
        isolate: bool,
        dropped: Sequence[Dropped],
        then: Then | None = None,
    ) -> Callable[[Transaction], list[Result]]:
        def log_notes(tx: Transaction, message: Message, outcome: Outcome) -> None:
            for note in outcome.notes:
                tx.log(
                    workspace_id,
                    door,
                    note.reason,
                    message.type,
                    message.message_id,
                    note.identifier_hash,
                )
            if outcome.refused:  # rare: most calls add no statement here
                conflict_rows.record(tx.connection, workspace_id, door, outcome.refused, tx.now)

        def all_together(tx: Transaction) -> list[Result]:
            store = tx.store(workspace_id, door)
            rules = tx.rules(workspace_id)
            if len(messages) > 1:
                self._prefetch(store, messages, rules.emails_identify)
            outcomes = [self._one(store, rules, message, strict) for message in messages]
            store.flush()
            return list(outcomes)

        def one_by_one(tx: Transaction) -> list[Result]:
            rules = tx.rules(workspace_id)
            results: list[Result] = []
            for message in messages:
                try:
                    with tx.savepoint():
                        # A fresh store for each message: what a failed one held back is void.
                        store = tx.store(workspace_id, door)
                        outcome = self._one(store, rules, message, strict)
                        store.flush()
                except RosterError as error:
                    tx.log(workspace_id, door, error.message, message.type, message.message_id)
                    results.append(error)
                else:
                    results.append(outcome)
            return results

        def work(tx: Transaction) -> list[Result]:
            for gone in dropped:
                tx.log(workspace_id, door, gone.reason, gone.type, gone.message_id)
            if not isolate:  # one failure rejects the request: the writer's savepoint undoes it
                results = all_together(tx)
            elif len(messages) < 2:
                results = one_by_one(tx)
            else:
                # Most batches apply cleanly: try them under one savepoint, and only when a
                # message fails, undo and apply each under its own (savepoints cost a round
                # trip each, and the rules are deterministic, so the retry is the same work).
                try:
                    with tx.savepoint():
                        results = all_together(tx)
                except RosterError:
                    results = one_by_one(tx)
            for message, result in zip(messages, results, strict=True):
                if isinstance(result, Outcome):
                    log_notes(tx, message, result)
            if then is not None:
                then(tx, results)
            return results

        return work

    @staticmethod
    def _prefetch(store: Store, messages: Sequence[Message], emails_identify: bool) -> None:
        """Fetch the people a batch names in one query per kind, not one per message, and
        learn which of its event ids are stored."""
        wanted: dict[str, list[str]] = {"id": [], "email": [], "event_id": []}
        for message in messages:
            for op in message.ops:
                if isinstance(op, TrackEvent) and op.event_id is not None:
                    wanted["event_id"].append(op.event_id)
                for kind, value in named_identifiers(op):
                    if kind == "id" or (kind == "email" and emails_identify):
                        wanted[kind].append(normalise(kind, value))
        for kind, values in wanted.items():
            if values:
                store.prefetch(kind, values)

    def _one(self, store: Store, rules: WorkspaceRules, message: Message, strict: bool) -> Outcome:
        """All of a message's operations; the outcome says what each said."""
        outcome = Outcome()
        for op in message.ops:
            ctx = Context(store, rules, self.clock, self.make_cio_id, strict)
            try:
                step = apply(ctx, op)
            except RosterError as error:
                # What led to the refusal (a strict-mode 409 cites I3.x, then I5.2).
                error.rules = [*outcome.rules, *ctx.outcome.rules]
                raise
            outcome.notes.extend(step.notes)
            outcome.conflicts.extend(step.conflicts)
            outcome.refused.extend(step.refused)
            outcome.rules.extend(step.rules)
            outcome.created = outcome.created or step.created
            outcome.cio_id = step.cio_id or outcome.cio_id
        return outcome

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
        """Apply in order, acknowledged after commit. Without `isolate` the first error
        rejects the whole request (nothing written) and is raised; with it, each message
        succeeds or fails alone and failures come back in the list (and in the log).
        `dropped` are messages refused before they became operations: logged only. `then`
        runs in the same transaction after the operations (without `isolate`: only if all
        of them succeeded)."""
        work = self._work(workspace_id, messages, door, strict, isolate, dropped, then)
        try:
            results: list[Result] = await self.writer.run(
                work, self._keys(workspace_id, messages), weight=max(1, len(messages))
            )
        except Unavailable:
            self._lost()
            raise
        self._count(door, messages, results, len(dropped))
        return results

    def apply_sync(
        self,
        workspace_id: int,
        messages: Sequence[Message],
        door: str,
        strict: bool = False,
        isolate: bool = False,
        then: Then | None = None,
    ) -> list[Result]:
        """As `apply`, from a thread that may wait (the command line)."""
        work = self._work(workspace_id, messages, door, strict, isolate, (), then)
        try:
            results: list[Result] = self.writer.run_sync(work, self._keys(workspace_id, messages))
        except Unavailable:
            self._lost()
            raise
        self._count(door, messages, results)
        return results

    async def one(self, workspace_id: int, message: Message, door: str, strict: bool) -> Outcome:
        """A single-operation call (Track API): errors are raised, the outcome returned."""
        (outcome,) = await self.apply(workspace_id, [message], door, strict)
        assert isinstance(outcome, Outcome)
        return outcome
