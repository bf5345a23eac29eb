"""CSV exports of people (docs/api.md §4, §6): make one, look at it, sign a download link for it,
and produce its file, the same bytes for the download and for `roster export people`.

An export is done when it is made: its total is counted then, and its file is read from the
people as they are when it is downloaded (docs/decisions.md, *Exports are done when made*).

The file's lines are written by roster.services.export_lines, with a helper process on a
second core past the first batches (docs/decisions.md, *An export writes its file on two cores*).

A download link is its own authorisation: it names the workspace, the export and an expiry,
signed with HMAC-SHA256 under a key derived from ROSTER_SECRET_KEY (docs/decisions.md,
*Signed export links*)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from roster.domain import filters
from roster.domain.context import Clock
from roster.domain.errors import InvalidInput, LinkRefused, NotFound
from roster.domain.limits import ATTRIBUTE_NAME_MAX_BYTES
from roster.services.export_lines import FIXED_COLUMNS, IN_FLIGHT, Helper, header, lines
from roster.storage.exports import ExportReads, ExportRecord, PersonRow, insert_export
from roster.storage.writer import Transaction, Writer

__all__ = ["FIXED_COLUMNS", "LINK_LIFETIME", "Export", "Exports", "Plan", "link_key"]

log = logging.getLogger(__name__)
LINK_LIFETIME = 15 * 60  # seconds
MAX_LISTED_ATTRIBUTES = 1000
# Rows read from the database at a time, and rows per piece of the file handed on.
READ_BATCH = 2000
# Batches written before a helper process shares the work (export_lines.Helper): an export of
# fewer people never starts one.
SHARE_AFTER = 4
# Pieces of the file kept while the helper's batch before them is not back yet.
PIECES_WAITING = 6
_LINK_PURPOSE = b"roster export download links v1"


def link_key(secret_key: str) -> bytes:
    """The key export links are signed with: derived from ROSTER_SECRET_KEY, used for nothing
    else, so a link never reveals anything about the secret or the vault's key."""
    return hmac.new(secret_key.encode(), _LINK_PURPOSE, hashlib.sha256).digest()


@dataclass(frozen=True)
class Export:
    id: int
    status: str
    total: int | None
    created_at: float

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "customers",
            "status": self.status,
            "total": self.total,
            "created_at": int(self.created_at),
        }


@dataclass(frozen=True)
class Plan:
    """What to export: the attribute columns asked for (None: every attribute the people
    hold), and the people: those the filter chooses (None: everyone), kept as it was given."""

    attributes: list[str] | None = None
    filter_json: Any = None
    filter: filters.Filter | None = None


def check_attributes(given: object) -> list[str] | None:
    """The `attributes` of an export: a list of attribute names, sorted, each once."""
    if given is None:
        return None
    if not isinstance(given, list) or not given:
        raise InvalidInput(
            "attributes must be a non-empty array of attribute names", field="attributes"
        )
    if len(given) > MAX_LISTED_ATTRIBUTES:
        raise InvalidInput(
            f"attributes can name at most {MAX_LISTED_ATTRIBUTES} attributes", field="attributes"
        )
    for name in given:
        if not isinstance(name, str) or not name:
            raise InvalidInput(
                "every entry of attributes must be a non-empty string", field="attributes"
            )
        if "\x00" in name:
            raise InvalidInput(
                "an attribute name cannot contain a NUL character", field="attributes"
            )
        if len(name.encode()) > ATTRIBUTE_NAME_MAX_BYTES:
            raise InvalidInput(
                f"attribute name '{name[:40]}' is longer than {ATTRIBUTE_NAME_MAX_BYTES} bytes",
                field="attributes",
            )
    return sorted(set(given))


def _attribute_columns(names: Sequence[str]) -> list[str]:
    # The fixed columns already hold created_at and unsubscribed; naming one adds nothing.
    return [name for name in names if name not in FIXED_COLUMNS]


def csv_pieces(
    columns: Sequence[str], batches: Iterator[Sequence[PersonRow]], share_after: int | None = None
) -> Iterator[tuple[int, bytes]]:
    """The file: its header, then one piece per batch of people (how many, and the UTF-8
    bytes). RFC 4180 quoting and CRLF line ends, byte for byte as Python's csv module writes
    them (roster.services.export_lines).

    With `share_after`, once that many batches are written a helper process is started and
    takes every batch it has room for (export_lines.IN_FLIGHT at a time) while this one writes
    the others; the pieces come out in the batches' order. Pieces waiting on the helper's
    batch before them are at most PIECES_WAITING."""
    yield 0, header(columns)
    helper: Helper | None = None
    waiting: deque[tuple[int, bytes | None]] = deque()  # None: the helper's, to take
    try:
        for number, batch in enumerate(batches):
            if helper is None and share_after is not None and number >= share_after:
                helper = _start_helper(columns)
                share_after = None  # started, or not to be tried again
            if helper is not None and helper.in_flight < IN_FLIGHT:
                helper.hand(batch)
                waiting.append((len(batch), None))
            else:
                waiting.append((len(batch), lines(columns, batch).encode()))
            while waiting:
                count, data = waiting[0]
                if data is None:
                    assert helper is not None
                    if len(waiting) <= PIECES_WAITING and not helper.ready():
                        break
                    data = helper.take()
                waiting.popleft()
                yield count, data
        while waiting:
            count, data = waiting.popleft()
            if data is None:
                assert helper is not None
                data = helper.take()
            yield count, data
    finally:
        if helper is not None:
            helper.close()


def _start_helper(columns: Sequence[str]) -> Helper | None:
    """A helper process, or None when none can be started (the file is written here)."""
    try:
        return Helper(columns)
    except OSError as error:
        log.warning("export: no helper process (%s); writing the file in the server alone", error)
        return None


class Exports:
    def __init__(
        self,
        reads: ExportReads,
        writer: Writer,
        key: bytes,
        clock: Clock,
        read_batch: int = READ_BATCH,
        share_after: int | None = SHARE_AFTER,
    ) -> None:
        self._reads = reads
        self._writer = writer
        self._key = key
        self._clock = clock
        self._read_batch = read_batch
        # None: never a helper process; the file is written in this one.
        self._share_after = share_after

    # -- the export records ------------------------------------------------------------------

    def writing_through(self, writer: Writer) -> Exports:
        """The same exports, recorded through another writer (a rehearsal's)."""
        return Exports(
            self._reads, writer, self._key, self._clock, self._read_batch, self._share_after
        )

    def plan(
        self, filter_json: Any = None, attributes: object = None, given_as: str = "filters"
    ) -> Plan:
        """What a call or command asks to export, checked: InvalidInput naming what is wrong,
        the filter's problems under the name it was `given_as` (the filter is read by the one
        filter parser, roster.domain.filters)."""
        chosen = None if filter_json is None else filters.parse(filter_json, given_as)
        return Plan(check_attributes(attributes), filter_json, chosen)

    def count(self, workspace_id: int, plan: Plan) -> int:
        return self._reads.count(workspace_id, plan.filter)

    async def create(self, workspace_id: int, plan: Plan) -> Export:
        """A new export, done as it is made: its total is the people it covers now."""
        total = await asyncio.to_thread(self.count, workspace_id, plan)  # a blocking read
        now = self._clock()

        def work(tx: Transaction) -> int:
            return insert_export(
                tx.connection, workspace_id, plan.filter_json, plan.attributes, total, now
            )

        export_id: int = await self._writer.run(work)
        return Export(export_id, "done", total, now)

    def _record(self, workspace_id: int, export_id: str | int) -> ExportRecord:
        number = _export_number(export_id)
        record = None if number is None else self._reads.record(workspace_id, number)
        if record is None:
            raise NotFound(f"no export with id '{export_id}'")
        return record

    def get(self, workspace_id: int, export_id: str | int) -> Export:
        record = self._record(workspace_id, export_id)
        return Export(record.id, record.status, record.total, record.created_at)

    # -- download links ----------------------------------------------------------------------

    def _signature(self, workspace_id: int, export_id: int, expires: int) -> str:
        message = f"{workspace_id}:{export_id}:{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def link(self, workspace_id: int, export_id: str | int, base_url: str) -> str:
        """A link to the export's file, valid for LINK_LIFETIME seconds, needing no key."""
        record = self._record(workspace_id, export_id)
        expires = int(self._clock()) + LINK_LIFETIME
        query = urlencode(
            {
                "workspace": workspace_id,
                "expires": expires,
                "signature": self._signature(workspace_id, record.id, expires),
            }
        )
        return f"{base_url}/v1/exports/{record.id}/file?{query}"

    def open_link(
        self, export_id: str, workspace: str, expires: str, signature: str
    ) -> tuple[int, Plan]:
        """The workspace and the plan a download link stands for; LinkRefused when it was
        altered, was not made here, or has expired."""
        number = _export_number(export_id)
        if number is None or not workspace.isascii() or not workspace.isdigit():
            raise LinkRefused(_ALTERED)
        if not expires.isascii() or not expires.isdigit() or len(expires) > 12:
            raise LinkRefused(_ALTERED)
        workspace_id, until = int(workspace), int(expires)
        expected = self._signature(workspace_id, number, until)
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            raise LinkRefused(_ALTERED)
        if self._clock() >= until:
            at = datetime.fromtimestamp(until, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            raise LinkRefused(
                f"this download link expired at {at} (links last {LINK_LIFETIME // 60} "
                f"minutes): ask for a new one with GET /v1/exports/{number}/download"
            )
        record = self._record(workspace_id, number)
        return workspace_id, self.plan(record.filter, record.attributes)

    # -- the file ----------------------------------------------------------------------------

    def columns(self, workspace_id: int, plan: Plan) -> list[str]:
        """The attribute columns: those asked for, or every name the people hold."""
        names = plan.attributes
        if names is None:
            names = self._reads.attribute_names(workspace_id, plan.filter)
        return _attribute_columns(names)

    def pieces(
        self, workspace_id: int, plan: Plan, columns: Sequence[str] | None = None
    ) -> Generator[tuple[int, bytes], None, None]:
        """The CSV file in pieces: (people in the piece, its bytes). Streamed from the
        database as it is consumed; nothing is read before the first piece is asked for."""
        chosen = self.columns(workspace_id, plan) if columns is None else columns
        batches = self._reads.people(workspace_id, plan.filter, self._read_batch)
        try:
            yield from csv_pieces(chosen, batches, self._share_after)
        finally:
            batches.close()  # a download given up half-way gives its connection back now

    def file(
        self, workspace_id: int, plan: Plan, columns: Sequence[str] | None = None
    ) -> Generator[bytes, None, None]:
        """The file's bytes in pieces; closing it (a download given up) ends its reading."""
        with closing(self.pieces(workspace_id, plan, columns)) as pieces:
            for _, data in pieces:
                yield data


_ALTERED = (
    "this download link is not valid: it was altered or not made by this server; "
    "ask for a new one with GET /v1/exports/{id}/download"
)


def _export_number(export_id: str | int) -> int | None:
    """An export id as its row number; None when it cannot be one."""
    if isinstance(export_id, int):
        return export_id
    if not export_id.isascii() or not export_id.isdigit() or len(export_id) > 19:
        return None
    return int(export_id)
