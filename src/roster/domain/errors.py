"""The one tree of roster's errors. Exceptions carry data, never HTTP.

    RosterError
    ├── InvalidInput            a call is malformed (field, message)
    │   ├── LimitExceeded       a Customer.io limit is crossed (attribute, limit)
    │   └── NotAnIdentifier     email used as a reference in an id_only workspace
    ├── ConflictError           strict mode: an identifier belongs to someone else
    ├── MergeRefused            a merge cannot happen (reason)
    ├── UnmergeRefused          a merge cannot be undone now (reason)
    ├── ResolveRefused          a recorded conflict cannot be resolved now (reason)
    ├── NotFound                a person, object or workspace does not exist
    ├── Unauthorized            missing or wrong credentials
    ├── LinkRefused             a signed download link was altered or has expired
    ├── SettingRefused          a workspace setting cannot change now (holders)
    ├── Unavailable             the database cannot be read or written now; nothing of the
    │                           call was stored, so sending it again is safe (retry_after)
    └── RateLimited             a workspace called a door faster than the rate limit allows;
                                nothing of the call was stored (retry_after)

api/errors.py is the one place where these become status codes and bodies.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Citation:
    """A rule of docs/identity.md that decided part of a call, and what it decided there: how
    `roster explain` says why a call went where it did."""

    rule: str
    why: str


class RosterError(Exception):
    """Base of every error roster raises on purpose. `rules` are the rules a call had cited
    when it was refused (the identity rules fill them in): why a strict-mode 409 or a refused
    merge came about, for `roster explain`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.rules: list[Citation] = []


class InvalidInput(RosterError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class LimitExceeded(InvalidInput):
    def __init__(self, message: str, attribute: str | None, limit: int) -> None:
        super().__init__(message, field=attribute)
        self.attribute = attribute
        self.limit = limit


class NotAnIdentifier(InvalidInput):
    def __init__(self, field: str = "email") -> None:
        super().__init__(f"{field} is not an identifier in this workspace", field=field)


@dataclass(frozen=True)
class Conflict:
    """An identifier that a call wanted for one person but another person holds."""

    kind: str
    value: str
    wanted_by: str  # cio_id of the person the call was about
    held_by: str  # cio_id of the person holding the value


class ConflictError(RosterError):
    def __init__(self, conflicts: list[Conflict]) -> None:
        first = conflicts[0]
        super().__init__(
            f"The identifier {first.kind} '{first.value}' is already associated with a "
            f"different profile (cio_{first.held_by}), not cio_{first.wanted_by}."
        )
        self.conflicts = conflicts


class MergeRefused(RosterError):
    def __init__(self, message: str, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


class UnmergeRefused(RosterError):
    """No merge to undo, or an identifier of the secondary went elsewhere since (I6.4)."""


class ResolveRefused(RosterError):
    """A recorded conflict cannot be resolved now: the holder is no orphan, or a side is gone."""


class NotFound(RosterError):
    pass


class Unauthorized(RosterError):
    def __init__(self, message: str = "Unauthorized request") -> None:
        super().__init__(message)


class LinkRefused(RosterError):
    """A signed link (an export download) that was altered, not made here, or expired: the
    link is its own authorisation, so this is a refusal, not a missing credential."""


class SettingRefused(RosterError):
    def __init__(self, message: str, holders: list[str] | None = None) -> None:
        super().__init__(message)
        self.holders = holders or []


class Unavailable(RosterError):
    """The database is unreachable, full or read-only, or the writer could not take the call in
    time. Raised only when nothing of the call was committed: clients retry it."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(RosterError):
    """A workspace made more calls through one door than ROSTER_RATE_LIMIT allows; refused
    before anything of the call was read or stored, so sending it later is safe."""

    def __init__(self, door: str, retry_after: int) -> None:
        super().__init__(
            f"too many calls: this workspace's rate limit on this door is reached; nothing of "
            f"this call was stored. Send it again in {retry_after} second"
            f"{'' if retry_after == 1 else 's'}."
        )
        self.door = door
        self.retry_after = retry_after


class TooManyLogins(RosterError):
    """Failed logins for one email or from one address went over the limit (docs/web.md):
    refused without checking the password, until the oldest failure is old enough."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many failed logins: try again in {retry_after} second"
            f"{'' if retry_after == 1 else 's'}"
        )
        self.retry_after = retry_after
