"""Delete by list: many people through the identity rules' DeletePerson (docs/identity.md I9.1),
in batches through the writer, so that each deletion is a `profile_delete` in the activity log
and a re-run finds nobody left to delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from roster.domain.context import Outcome
from roster.domain.errors import InvalidInput, RosterError
from roster.domain.identifiers import IdentifierMode, Reference, typed_reference
from roster.domain.operations import DeletePerson
from roster.services.ingestion import Ingestion, Message

ID_TYPES = ("id", "email", "cio_id")
# One writer request: small enough that other calls are not held up behind it for long, large
# enough that 10,000 deletions take a handful of commits.
BATCH = 500

Status = Literal["deleted", "not_found", "refused"]


@dataclass(frozen=True)
class Verdict:
    status: Status
    reason: str | None = None


@dataclass
class Summary:
    """What a deletion by list did; `refused` pairs each refused reference with why."""

    deleted: int = 0
    not_found: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)

    def count(self, ref: str, verdict: Verdict) -> None:
        if verdict.status == "deleted":
            self.deleted += 1
        elif verdict.status == "not_found":
            self.not_found += 1
        else:
            self.refused.append((ref, verdict.reason or "refused"))

    def as_json(self) -> dict[str, Any]:
        return {
            "deleted": self.deleted,
            "not_found": self.not_found,
            "refused": [{"ref": ref, "reason": reason} for ref, reason in self.refused],
        }


def check_id_type(id_type: object) -> str:
    if not isinstance(id_type, str) or id_type not in ID_TYPES:
        raise InvalidInput("id_type must be one of id, email, cio_id", field="id_type")
    return id_type


def read_reference(raw: str, id_type: str, mode: IdentifierMode) -> Reference | Verdict:
    """The reference a list entry means, or why it is refused (without touching anyone)."""
    if "\x00" in raw:
        return Verdict("refused", f"{id_type} cannot contain a NUL character")
    try:
        ref = typed_reference(id_type, raw, mode)
    except InvalidInput as error:
        return Verdict("refused", error.message)
    if isinstance(ref, Reference):
        return ref
    if ref.blocked is not None:
        return Verdict("refused", f"'{ref.blocked}' is a blocked placeholder value")
    return Verdict("refused", f"an empty {id_type}")


def _verdict(result: Outcome | RosterError) -> Verdict:
    if isinstance(result, RosterError):
        return Verdict("refused", result.message)
    if result.cio_id is not None:
        return Verdict("deleted")
    if any(note.identifier_hash is not None for note in result.notes):
        # I9.2: a suppressed identifier has no person, and a call about it is ignored.
        return Verdict("refused", "the identifier is suppressed")
    return Verdict("not_found")


class Deletion:
    def __init__(self, ingestion: Ingestion, batch: int = BATCH) -> None:
        self._ingestion = ingestion
        self._batch = batch

    def delete(
        self,
        workspace_id: int,
        raws: Sequence[str],
        id_type: str,
        mode: IdentifierMode,
        door: str,
    ) -> list[Verdict]:
        """One verdict per entry, in order. Entries are applied BATCH at a time, each batch
        committed before the next begins; each entry succeeds or fails alone, so the verdicts
        are the same whatever the batch (a rehearsal, which commits nothing, takes all at
        once: docs/api.md §5)."""
        check_id_type(id_type)
        verdicts: list[Verdict] = []
        for start in range(0, len(raws), self._batch):
            read = [read_reference(raw, id_type, mode) for raw in raws[start : start + self._batch]]
            messages = [
                Message(DeletePerson(ref), "delete") for ref in read if isinstance(ref, Reference)
            ]
            results = iter(
                self._ingestion.apply_sync(workspace_id, messages, door, isolate=True)
                if messages
                else []
            )
            verdicts.extend(
                _verdict(next(results)) if isinstance(ref, Reference) else ref for ref in read
            )
        return verdicts
