"""Import people from a CSV file in the export format (docs/api.md §4, §5, §6): every row becomes
an identify through the identity rules, so imported rows follow them all (docs/identity.md
I3-I5, I9.2) and appear in the activity log.

A file is read twice: once whole to check it (its encoding, its header, every row's cells), so
that a bad file imports nothing, then in batches, each committed before the next. Neither pass
holds the file in memory. A row the rules refuse is reported with its line and does not stop
the others."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Literal

from roster.domain.errors import InvalidInput, RosterError
from roster.domain.operations import Identify
from roster.services.csv_text import BadFile, decoded_lines
from roster.services.ingestion import Ingestion, Message, Result
from roster.storage.database import Database
from roster.storage.import_reads import known_cio_ids

# One writer request, as delete by list: short enough that other calls are not held up behind
# it for long, large enough that 100,000 rows take a few hundred commits.
BATCH = 500
# Failures and refusals listed in a summary; past these only their number is kept.
SHOWN = 10_000
DOOR = "import"

EmptyCells = Literal["keep", "clear"]
EMPTY_CELLS: tuple[EmptyCells, ...] = ("keep", "clear")


def check_empty_cells(value: object) -> EmptyCells:
    for choice in EMPTY_CELLS:
        if value == choice:
            return choice
    raise InvalidInput("empty_cells must be keep or clear", field="empty_cells")


def _check_header(header: list[str]) -> list[str]:
    seen: set[str] = set()
    for number, name in enumerate(header, start=1):
        if not name:
            raise BadFile(f"line 1: column {number} of the header has no name")
        if name in seen:
            raise BadFile(f"line 1: the header names the '{name}' column more than once")
        seen.add(name)
    if not seen & {"id", "email"}:
        found = ", ".join(f"'{name}'" for name in header[:10])
        raise BadFile(
            f"line 1: the header has neither an 'id' nor an 'email' column (it has {found}); "
            "column names are matched exactly, in lower case"
        )
    return header


@dataclass(frozen=True)
class Row:
    """A row of the file: the line it starts on, and its cells by column name."""

    line: int
    cells: dict[str, str]


# How a row becomes an identify: the CSV door's parser (roster.api.imports), given the row and
# the cio_id of the person the row's cio_id cell found, if any. InvalidInput fails the row.
Build = Callable[[Row, str | None], Identify]


def read_rows(lines: Iterable[bytes]) -> Iterator[Row]:
    """Every row of a CSV file given as its lines of bytes, or BadFile naming the line."""
    reader = csv.reader(decoded_lines(lines), strict=True)
    start = 1
    try:
        header = next(reader, None)
        if header is None:
            raise BadFile("the file is empty: line 1 must be a header naming the columns")
        columns = _check_header(header)
        start = reader.line_num + 1
        for cells in reader:
            # A quoted cell may hold line breaks: a row is named by the line it starts on.
            line, start = start, reader.line_num + 1
            if not cells:
                continue  # a blank line
            if len(cells) != len(columns):
                raise BadFile(
                    f"line {line}: the row has {len(cells)} cells where the header has "
                    f"{len(columns)}"
                )
            yield Row(line, dict(zip(columns, cells, strict=True)))
    except csv.Error as error:
        if reader.line_num >= start and "unexpected end of data" in str(error):
            raise BadFile(
                f'line {start}: a quoted cell is never closed (a " opens it on this row, and '
                'no " before the end of the file closes it)'
            ) from None
        raise BadFile(f"line {reader.line_num}: {error}") from None


@dataclass
class Summary:
    """What an import did. `updated` counts rows that found an existing person (whether or not
    a value changed); `failed` rows changed nobody; `refused` rows were imported but one of
    their identifiers was not (a conflict, I5.2, or a change the rules do not allow, I5.3)."""

    created: int = 0
    updated: int = 0
    failed_count: int = 0
    refused_count: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, line: int, reason: str) -> None:
        self.failed_count += 1
        if len(self.failed) < SHOWN:
            self.failed.append({"line": line, "reason": reason})

    def count(self, line: int, result: Result) -> None:
        if isinstance(result, RosterError):
            self.fail(line, result.message)
            return
        if result.cio_id is None:
            reasons = [note.reason for note in result.notes] or ["nothing was imported"]
            self.fail(line, "; ".join(reasons))
            return
        if result.created:
            self.created += 1
        else:
            self.updated += 1
        for refusal in result.refused:
            self.refused_count += 1
            if len(self.refused) < SHOWN:
                self.refused.append({"line": line, "field": refusal.kind, "reason": refusal.reason})

    def as_json(self) -> dict[str, Any]:
        return {
            "imported": self.created + self.updated,
            "created": self.created,
            "updated": self.updated,
            "failed": self.failed,
            "failed_count": self.failed_count,
            "refused": self.refused,
            "refused_count": self.refused_count,
        }


def _cio_id(row: Row) -> str | None:
    """The row's cio_id cell as a cio_id (the export writes it bare; `cio_…` is taken too)."""
    value = row.cells.get("cio_id", "").strip().removeprefix("cio_")
    return value or None


class Imports:
    def __init__(self, ingestion: Ingestion, database: Database) -> None:
        self._ingestion = ingestion
        self._database = database

    @staticmethod
    def check(lines: Iterable[bytes]) -> int:
        """How many rows the file holds, or BadFile naming the first line at fault."""
        return sum(1 for _ in read_rows(lines))

    def _known_cio_ids(self, workspace_id: int, batch: list[Row]) -> set[str]:
        """The batch's cio_ids that people of the workspace have: one query for the batch."""
        wanted = {value for row in batch if (value := _cio_id(row)) is not None}
        return known_cio_ids(self._database, workspace_id, wanted)

    def apply(
        self,
        workspace_id: int,
        rows: Iterable[Row],
        build: Build,
        done: Callable[[int], None] | None = None,
    ) -> Summary:
        """Import checked rows, each made an identify by `build`, BATCH at a time, each batch
        committed before the next; each row succeeds or fails alone. `done` hears how many rows
        each batch held."""
        summary = Summary()
        pending = iter(rows)
        while batch := list(islice(pending, BATCH)):
            lines: list[int] = []
            messages: list[Message] = []
            known = self._known_cio_ids(workspace_id, batch)
            for row in batch:
                cio_id = _cio_id(row)
                try:
                    op = build(row, cio_id if cio_id in known else None)
                except InvalidInput as error:
                    summary.fail(row.line, error.message)
                    continue
                lines.append(row.line)
                messages.append(Message(op, "identify"))
            if messages:
                results = self._ingestion.apply_sync(workspace_id, messages, DOOR, isolate=True)
                for line, result in zip(lines, results, strict=True):
                    summary.count(line, result)
            if done is not None:
                done(len(batch))
        return summary
