"""The outbox (docs/api.md §4, §5): transactional messages accepted as Customer.io's
transactional API accepts them, recorded on the person, and never sent.

A send finds the person its identifiers name; an unknown id or email creates the person through
the identity rules first (docs/identity.md I8.1), as a Track call would, and a suppressed
identifier is answered like any other send with nothing recorded (I9.2). The message row and the
person's activity are written in one writer request, so a send is either listed and on the
person, or nowhere."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from roster.domain import cursors
from roster.domain.context import Clock, Context
from roster.domain.errors import InvalidInput, NotFound
from roster.domain.identifiers import Reference, normalise
from roster.domain.operations import Identify
from roster.domain.people import Activity
from roster.services.ingestion import Ingestion, Message
from roster.storage.outbox_rows import OutboxEntry, OutboxRows, add_delivery
from roster.storage.writer import Transaction, lock_key

KINDS = ("email", "push", "sms", "inbox_message", "in_app")
DOOR = "app"
# Activity types, as Customer.io names a message's activity: emails apart, every other channel
# is an "action"; a message queued as a draft (queue_draft) is drafted, not sent.
SENT = {"email": "sent_email"}
DRAFTED = {"email": "drafted_email"}
SENT_ACTION = "sent_action"
DRAFTED_ACTION = "drafted_action"
ACTIVITY_TYPES = ("sent_email", "drafted_email", SENT_ACTION, DRAFTED_ACTION)

__all__ = ["ACTIVITY_TYPES", "KINDS", "Delivery", "Outbox", "OutboxEntry", "Send"]


def new_delivery_id() -> str:
    """18 random bytes as unpadded base64url (24 characters): Customer.io's delivery ids are
    base64 strings too, and this one can sit in a URL path as it is."""
    return base64.urlsafe_b64encode(secrets.token_bytes(18)).decode()


def activity_type(kind: str, draft: bool) -> str:
    if draft:
        return DRAFTED.get(kind, DRAFTED_ACTION)
    return SENT.get(kind, SENT_ACTION)


@dataclass(frozen=True)
class Send:
    """A send request as read from the wire (api/outbox.py): the person's reference and the
    message to record. `to` is None for an email that named no recipient: the person's email
    is then the recipient."""

    kind: str
    reference: Reference
    message: dict[str, Any]
    to: str | None
    draft: bool


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    queued_at: int


def encode_cursor(entry: OutboxEntry) -> str:
    return cursors.encode([entry.pk])


def decode_cursor(start: str) -> int | None:
    match cursors.decode(start):
        case None:
            return None
        case [int() as pk] if not isinstance(pk, bool) and 0 < pk < 2**63:
            return pk
        case _:
            raise cursors.refused()


def _no_recipient() -> InvalidInput:
    return InvalidInput("to is required: the person has no email address", field="to")


class Outbox:
    def __init__(
        self,
        ingestion: Ingestion,
        rows: OutboxRows,
        clock: Clock = time.time,
        make_delivery_id: Callable[[], str] = new_delivery_id,
    ) -> None:
        self._ingestion = ingestion
        self._writer = ingestion.writer
        self._rows = rows
        self._clock = clock
        self._make_delivery_id = make_delivery_id

    def writing_through(self, ingestion: Ingestion) -> Outbox:
        """The same outbox, writing through another ingestion (a rehearsal's)."""
        return Outbox(ingestion, self._rows, self._clock, self._make_delivery_id)

    def now(self) -> float:
        return self._clock()

    def page(self, workspace_id: int, start: str, limit: int) -> tuple[list[OutboxEntry], str]:
        """A page of entries newest first, and the cursor of the next ("" after the last)."""
        entries = self._rows.page(workspace_id, decode_cursor(start), limit)
        return entries, encode_cursor(entries[-1]) if len(entries) == limit else ""

    async def send(self, workspace_id: int, send: Send) -> Delivery:
        """Record the message for the person its identifiers name. NotFound when a cio_id names
        nobody; InvalidInput when an email has no recipient."""
        delivery_id = self._make_delivery_id()
        recorded = await self._record(workspace_id, send, delivery_id)
        if recorded is not None:
            return recorded
        ref = send.reference
        if ref.kind == "id" and send.kind == "email" and send.to is None:
            raise _no_recipient()  # a person created from an id has no email: refuse first
        (outcome,) = await self._ingestion.apply(
            workspace_id, [Message(Identify(ref), f"send_{send.kind}")], DOOR
        )
        assert not isinstance(outcome, BaseException)  # without isolate, errors are raised
        if any(note.identifier_hash is not None for note in outcome.notes):
            # I9.2: a suppressed identifier gets no person and no message; the client is
            # answered as Customer.io answers, and only the ingestion log (a hash) says why.
            return Delivery(delivery_id, int(self._clock()))
        if outcome.cio_id is not None:
            recorded = await self._record(workspace_id, send, delivery_id)
            if recorded is not None:
                return recorded
        raise NotFound(f"no person has {ref.kind} '{ref.value}'")

    async def _record(self, workspace_id: int, send: Send, delivery_id: str) -> Delivery | None:
        """The delivery, written with its activity; None (nothing written) when nobody has the
        reference."""
        ref = send.reference

        def work(tx: Transaction) -> Delivery | None:
            store = tx.store(workspace_id, DOOR)
            person = Context(store, tx.rules(workspace_id), self._clock).find(ref)
            if person is None or person.pk is None:
                return None
            message = dict(send.message)
            if send.kind == "email" and send.to is None:
                if not person.email:
                    raise _no_recipient()
                message["to"] = person.email
            add_delivery(
                tx, workspace_id, delivery_id, send.kind, person.pk, person.cio_id, message
            )
            store.add_activity(
                Activity(
                    type=activity_type(send.kind, send.draft),
                    timestamp=tx.now,
                    person_pk=person.pk,
                    cio_id=person.cio_id,
                    # The delivery id names the activity: deleting the person finds the
                    # messages of everyone merged into them by it (storage/sql_store.py).
                    name=delivery_id,
                    data={
                        "delivery_id": delivery_id,
                        "delivery_type": send.kind,
                        "transactional_message_id": message.get("transactional_message_id"),
                    },
                )
            )
            store.flush()
            return Delivery(delivery_id, int(tx.now))

        keys: tuple[int, ...] = ()
        if self._writer.takes_locks and ref.kind != "cio_id":
            keys = (lock_key(workspace_id, ref.kind, normalise(ref.kind, ref.value)),)
        delivery: Delivery | None = await self._writer.run(work, keys)
        return delivery
