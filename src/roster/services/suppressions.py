"""The suppression list (docs/identity.md I9.2, I9.3): list it, check an identifier, unsuppress.

Identifiers are hashed here with the workspace's secret, as the rules hash them when they
suppress; the values themselves are never stored or logged. Pages are keyset pages on
(created_at, hash), newest first, behind an opaque cursor."""

from __future__ import annotations

import re
from dataclasses import dataclass

from roster.domain import cursors
from roster.domain.errors import InvalidInput, NotFound
from roster.domain.identifiers import (
    Reference,
    normalise,
    suppression_hash,
    typed_reference,
)
from roster.storage.suppression_list import Entry, SuppressionList
from roster.storage.writer import Transaction, Writer, lock_key

KINDS = ("id", "email", "cio_id")
_HASH = re.compile(r"[0-9a-f]{64}")

__all__ = ["KINDS", "Check", "Entry", "Suppressions", "check_hash"]


@dataclass(frozen=True)
class Check:
    """Whether an identifier is suppressed: its hash, and its list entry when it is."""

    hash: str
    entry: Entry | None


def check_hash(raw: str) -> str:
    """A hash as the list shows it (64 lowercase hex digits), or InvalidInput."""
    if not _HASH.fullmatch(raw):
        raise InvalidInput("a suppression hash is 64 lowercase hexadecimal digits", field="hash")
    return raw


def encode_cursor(entry: Entry) -> str:
    return cursors.encode([entry.created_at, entry.hash])


def decode_cursor(start: str) -> tuple[float, str] | None:
    """The (created_at, hash) a `next` cursor stands for; None when absent."""
    match cursors.decode(start):
        case None:
            return None
        case [float() | int() as at, str() as hash_] if not isinstance(
            at, bool
        ) and _HASH.fullmatch(hash_):
            return float(at), hash_
        case _:
            raise cursors.refused()


class Suppressions:
    def __init__(self, listing: SuppressionList, writer: Writer) -> None:
        self._listing = listing
        self._writer = writer

    def writing_through(self, writer: Writer) -> Suppressions:
        """The same list, written through another writer (a rehearsal's)."""
        return Suppressions(self._listing, writer)

    def page(self, workspace_id: int, start: str, limit: int) -> tuple[list[Entry], str]:
        """A page of entries newest first, and the cursor of the next ("" after the last)."""
        entries = self._listing.page(workspace_id, decode_cursor(start), limit)
        return entries, encode_cursor(entries[-1]) if len(entries) == limit else ""

    def _reference(self, workspace_id: int, kind: str, raw: str) -> tuple[Reference, str]:
        """The identifier as the rules read it, and its keyed hash."""
        if kind not in KINDS:
            raise InvalidInput("the identifier must be one of id, email, cio_id", field=kind)
        if "\x00" in raw:
            raise InvalidInput(f"{kind} cannot contain a NUL character", field=kind)
        rules = self._listing.rules(workspace_id)
        ref = typed_reference(kind, raw, rules.identifier_mode)
        if not isinstance(ref, Reference):
            raise InvalidInput(f"{kind} '{raw}' is not a usable identifier", field=kind)
        return ref, suppression_hash(rules.suppression_secret, ref.kind, ref.value)

    def check(self, workspace_id: int, kind: str, raw: str) -> Check:
        _, hash_ = self._reference(workspace_id, kind, raw)
        return Check(hash_, self._listing.entry(workspace_id, hash_))

    def entry(self, workspace_id: int, hash_: str) -> Entry | None:
        return self._listing.entry(workspace_id, check_hash(hash_))

    def unsuppress(self, workspace_id: int, kind: str, raw: str) -> int:
        """I9.3: free every identifier suppressed with this one; how many entries went.
        NotFound when it is not on the list."""
        ref, hash_ = self._reference(workspace_id, kind, raw)
        keys: tuple[int, ...] = ()
        if self._writer.takes_locks:  # a suppression of the same identifier takes turns
            keys = (lock_key(workspace_id, ref.kind, normalise(ref.kind, ref.value)),)
        freed = self._free(workspace_id, hash_, keys)
        if freed == 0:
            raise NotFound(f"{kind} is not suppressed")
        return freed

    def unsuppress_hash(self, workspace_id: int, hash_: str) -> int:
        """I9.3 by an entry's hash (the identifier itself may be long forgotten)."""
        freed = self._free(workspace_id, check_hash(hash_), ())
        if freed == 0:
            raise NotFound("no suppression has that hash")
        return freed

    def _free(self, workspace_id: int, hash_: str, keys: tuple[int, ...]) -> int:
        def work(tx: Transaction) -> int:
            return tx.store(workspace_id).remove_suppression_group(hash_)

        freed: int = self._writer.run_sync(work, keys)
        return freed
