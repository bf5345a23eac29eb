"""What the pytest plugin's `roster` fixture answers about a workspace: plain dataclasses built from
the App API's answers (docs/api.md §4, §5), so that a failed assertion prints the whole state.

Attribute values are what Customer.io's App API gives: text (`"3"`, `"true"`), as a client of the
real service would see them."""

from __future__ import annotations

import pprint
from dataclasses import asdict, dataclass, field
from typing import Any

from roster.api.app_api import _text as app_api_text


@dataclass(frozen=True)
class Device:
    id: str
    platform: str | None
    last_used: int | float | None
    attributes: dict[str, Any]


@dataclass(frozen=True)
class Person:
    """One person of the workspace, as `GET /v1/customers/{ref}/attributes` answers."""

    id: str | None
    email: str | None
    cio_id: str
    attributes: dict[str, Any]
    devices: list[Device]
    unsubscribed: bool
    anonymous_ids: list[str] = field(default_factory=list)
    timestamps: dict[str, int] = field(default_factory=dict)
    relationships: list[Any] = field(default_factory=list)

    @property
    def identifiers(self) -> dict[str, str | None]:
        return {"id": self.id, "email": self.email, "cio_id": self.cio_id}

    @property
    def device_ids(self) -> list[str]:
        return [device.id for device in self.devices]

    def expect(self, **attributes: Any) -> Person:
        """Check attribute values, compared as the App API gives them (`seats=3` matches "3",
        `trial=True` matches "true"; None means "not set"). The AssertionError lists every
        mismatch and then the whole person. Returns the person, to chain."""
        wrong = []
        for name, wanted in attributes.items():
            expected = None if wanted is None else app_api_text(wanted)
            actual = self.attributes.get(name)
            if actual != expected:
                shown = "not set" if actual is None else repr(actual)
                wrong.append(f"  {name}: expected {expected!r}, found {shown}")
        if wrong:
            raise AssertionError(
                f"person {self._name()} does not have the expected attributes:\n"
                + "\n".join(wrong)
                + f"\n{self.describe()}"
            )
        return self

    def describe(self) -> str:
        """The person's whole state, one field a line."""
        return f"person {self._name()}:\n{pprint.pformat(asdict(self), sort_dicts=True)}"

    def _name(self) -> str:
        return repr(self.id if self.id is not None else self.email or self.cio_id)

    def __str__(self) -> str:
        return self.describe()

    @classmethod
    def from_answer(cls, customer: dict[str, Any]) -> Person:
        identifiers = customer["identifiers"]
        return cls(
            id=identifiers.get("id"),
            email=identifiers.get("email"),
            cio_id=identifiers["cio_id"],
            attributes=dict(customer.get("attributes") or {}),
            devices=[
                Device(
                    id=device["id"],
                    platform=device.get("platform"),
                    last_used=device.get("last_used"),
                    attributes=dict(device.get("attributes") or {}),
                )
                for device in customer.get("devices") or []
            ],
            unsubscribed=bool(customer.get("unsubscribed")),
            anonymous_ids=list(customer.get("anonymous_ids") or []),
            timestamps=dict(customer.get("timestamps") or {}),
            relationships=list(customer.get("relationships") or []),
        )


@dataclass(frozen=True)
class Activity:
    """One entry of a person's activity log (`GET /v1/customers/{ref}/activities`)."""

    id: str
    type: str
    timestamp: int
    name: str | None = None
    data: Any = None

    @classmethod
    def from_answer(cls, answer: dict[str, Any]) -> Activity:
        return cls(
            id=answer["id"],
            type=answer["type"],
            timestamp=answer["timestamp"],
            name=answer.get("name"),
            data=answer.get("data"),
        )


@dataclass(frozen=True)
class Event:
    """A tracked event of a person (an activity of type `event`)."""

    name: str | None
    data: Any
    timestamp: int
    id: str

    @classmethod
    def from_activity(cls, activity: Activity) -> Event:
        return cls(
            name=activity.name, data=activity.data, timestamp=activity.timestamp, id=activity.id
        )


@dataclass(frozen=True)
class LogEntry:
    """A call accepted but not used, and why (`GET /api/ingestion-log`, docs/api.md §5)."""

    id: str
    received_at: float
    door: str
    reason: str
    type: str | None = None
    message_id: str | None = None
    identifier_hash: str | None = None

    @classmethod
    def from_answer(cls, answer: dict[str, Any]) -> LogEntry:
        return cls(
            id=answer["id"],
            received_at=answer["received_at"],
            door=answer["door"],
            reason=answer["reason"],
            type=answer.get("type"),
            message_id=answer.get("message_id"),
            identifier_hash=answer.get("identifier_hash"),
        )


@dataclass(frozen=True)
class OutboxMessage:
    """A transactional message roster recorded instead of sending (`GET /api/outbox`,
    docs/api.md §5): who it was for and the request body as the app sent it."""

    delivery_id: str
    kind: str  # email | push | sms | inbox_message | in_app
    queued_at: float
    cio_id: str | None
    id: str | None
    email: str | None
    message: dict[str, Any]

    @property
    def to(self) -> Any:
        return self.message.get("to")

    @property
    def transactional_message_id(self) -> Any:
        return self.message.get("transactional_message_id")

    @property
    def message_data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.message.get("message_data") or {}
        return data

    @classmethod
    def from_answer(cls, answer: dict[str, Any]) -> OutboxMessage:
        customer = answer.get("customer") or {}
        return cls(
            delivery_id=answer["delivery_id"],
            kind=answer["kind"],
            queued_at=answer["queued_at"],
            cio_id=customer.get("cio_id"),
            id=customer.get("id"),
            email=customer.get("email"),
            message=answer["message"],
        )


@dataclass(frozen=True)
class Explanation:
    """What roster would do with a call, and why (`POST /api/explain`, docs/api.md §5): nothing
    of it was written. `rules` are the numbers of docs/identity.md that decided, in order."""

    status: int  # the answer the call would get
    body: Any
    messages: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    refused: list[dict[str, Any]]
    activities: list[dict[str, Any]]
    events: list[dict[str, Any]]
    ingestion_log: list[dict[str, Any]]
    suppressions: list[dict[str, Any]]  # entries added or freed, by hash

    @property
    def rules(self) -> list[str]:
        """The rules cited, refused messages' included (a strict-mode 409 ends on I5.2)."""
        return [cited["rule"] for message in self.messages for cited in message.get("rules", [])]

    @property
    def reasons(self) -> list[str]:
        """Each rule with what it decided: `I3.3: no person has id 'bob'; …`."""
        return [
            f"{cited['rule']}: {cited['why']}"
            for message in self.messages
            for cited in message.get("rules", [])
        ]

    @property
    def not_applied(self) -> list[str]:
        """Why each message that would not be applied is not (dropped, refused)."""
        return [message["reason"] for message in self.messages if not message["applied"]]

    def _people(self) -> list[dict[str, Any]]:
        return [m["person"] for m in self.messages if m["applied"] and m.get("person")]

    @property
    def creates_person(self) -> bool:
        return any(person.get("new") for person in self._people())

    @property
    def cio_ids(self) -> list[str]:
        """The existing people the call's applied messages end on."""
        return [person["cio_id"] for person in self._people() if person.get("cio_id")]

    def __str__(self) -> str:
        lines = [f"answer {self.status}", *self.reasons]
        lines += [f"not applied: {reason}" for reason in self.not_applied]
        lines += [f"{c['attribute']}: {c['from']!r} -> {c['to']!r}" for c in self.changes]
        lines += [f"refused {r['attribute']} {r['value']!r}: {r['reason']}" for r in self.refused]
        return "\n".join(lines)

    @classmethod
    def from_answer(cls, answer: dict[str, Any]) -> Explanation:
        return cls(
            status=answer["answer"]["status"],
            body=answer["answer"].get("body"),
            messages=answer.get("messages", []),
            changes=answer.get("changes", []),
            refused=answer.get("refused", []),
            activities=answer.get("activities", []),
            events=answer.get("events", []),
            ingestion_log=answer.get("ingestion_log", []),
            suppressions=answer.get("suppressions", []),
        )
