"""Identifiers and references (docs/identity.md I1, I2): what a value means, and when it counts."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from roster.domain.errors import InvalidInput, LimitExceeded, NotAnIdentifier

ID_MAX_BYTES = 150  # Customer.io's limit for a person id
# Longest email (RFC 3696's 64 + 1 + 255) and anonymous id roster takes: identifiers are indexed,
# and a database index holds values of a few kilobytes at most (docs/decisions.md).
EMAIL_MAX_BYTES = 320
ANONYMOUS_ID_MAX_BYTES = 255
_GIVEN_MAX_BYTES = {
    "email": EMAIL_MAX_BYTES,
    "anonymous_id": ANONYMOUS_ID_MAX_BYTES,
    "anonymousId": ANONYMOUS_ID_MAX_BYTES,
    "previousId": ANONYMOUS_ID_MAX_BYTES,
}

# The "looks like an email" test of Segment's Customer.io Actions destination (ajv-formats'
# full email format), so that roster and the destination agree on what a reference is.
_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$",
    re.IGNORECASE,
)

# Placeholders that instrumentation sends when it has no real identifier. Accepting them would
# merge everyone who sent the same placeholder into one person. [decision]
BLOCKED_VALUES = frozenset(
    {
        "null",
        "undefined",
        "none",
        "nan",
        "0",
        "-1",
        "anonymous",
        "guest",
        "[object object]",
        "distinct_id",
        "id",
        "email",
        "user_id",
    }
)


class IdentifierMode(StrEnum):
    EMAIL_OR_ID = "email_or_id"
    ID_ONLY = "id_only"


Kind = Literal["id", "email", "cio_id", "anonymous_id"]


def looks_like_email(value: str) -> bool:
    return bool(_EMAIL.match(value))


def is_blocked(value: str) -> bool:
    return value.strip().lower() in BLOCKED_VALUES


def fold_email(email: str) -> str:
    """The form an email is matched by: trimmed and case-folded."""
    return email.strip().casefold()


def normalise(kind: str, value: str) -> str:
    """The form an identifier is stored and matched by."""
    return fold_email(value) if kind == "email" else value


@dataclass(frozen=True)
class Given:
    """An identifier value as a call carried it, after the "not given" rules (I1.6)."""

    value: str | None
    blocked: str | None = None  # the raw value that was ignored as blocked

    @property
    def present(self) -> bool:
        return self.value is not None


NOT_GIVEN = Given(None)


def read_given(raw: object, field: str) -> Given:
    """Missing, null, "" and blocked values all mean "not given" (I1.6)."""
    if raw is None:
        return NOT_GIVEN
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise InvalidInput(f"{field} must be a string", field=field)
    value = str(raw) if not isinstance(raw, str) else raw
    if field == "email":
        value = value.strip()
    if not value.strip():  # only spaces is "" once trimmed, as blocked values are compared
        return NOT_GIVEN
    if is_blocked(value):
        return Given(None, blocked=value)
    limit = _GIVEN_MAX_BYTES.get(field)
    if limit is not None and len(value.encode()) > limit:
        raise LimitExceeded(
            f"{field} cannot be longer than {limit} bytes", attribute=field, limit=limit
        )
    return Given(value)


def check_id(value: str, field: str = "id") -> None:
    if len(value.encode()) > ID_MAX_BYTES:
        raise LimitExceeded(
            f"{field} cannot be longer than {ID_MAX_BYTES} bytes",
            attribute=field,
            limit=ID_MAX_BYTES,
        )


@dataclass(frozen=True)
class Reference:
    """The value a call uses to address a person, already read (I2)."""

    kind: Kind
    value: str

    @property
    def raw(self) -> str:
        return f"cio_{self.value}" if self.kind == "cio_id" else self.value

    def __str__(self) -> str:
        return self.raw


def read_reference(raw: str, mode: IdentifierMode) -> Reference | Given:
    """Read a path or userId reference; a value that is not given comes back as Given."""
    given = read_given(raw, "reference")
    if given.value is None:
        return given
    value = given.value
    if value.startswith("cio_"):
        return Reference("cio_id", value[4:])
    check_id(value, "reference")
    if mode is IdentifierMode.EMAIL_OR_ID and looks_like_email(value):
        return Reference("email", value.strip())
    return Reference("id", value)


def typed_reference(kind: str, raw: object, mode: IdentifierMode) -> Reference | Given:
    """A reference whose kind the caller named (v2 identifiers, merge sides, id_type)."""
    if kind not in ("id", "email", "cio_id", "anonymous_id"):
        raise InvalidInput(f"unknown identifier type '{kind}'", field=kind)
    given = read_given(raw, kind)
    if given.value is None:
        return given
    if kind == "email":
        if mode is IdentifierMode.ID_ONLY:
            raise NotAnIdentifier("email")
        return Reference("email", given.value)
    if kind == "cio_id":
        value = given.value[4:] if given.value.startswith("cio_") else given.value
        return Reference("cio_id", value)
    check_id(given.value, kind)
    return Reference(kind, given.value)  # type: ignore[arg-type]


def suppression_hash(secret: bytes, kind: str, value: str) -> str:
    """Keyed hash of a suppressed identifier: the list never holds the value itself (I9.2)."""
    message = f"{kind}:{normalise(kind, value.strip())}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
