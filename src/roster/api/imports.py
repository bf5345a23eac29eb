"""Importing people from CSV (docs/api.md §5, §6): how a row of the export format becomes an
identify, and `POST /api/imports`. A row is read as an identify body and handed to the one
parser of identify bodies (roster.api.parsing), so an imported value is checked as a Track API
call's would be; `roster import people` builds its operations with `identify_row` too."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from roster.api import doors, schemas
from roster.api.answers import JsonAnswer
from roster.api.auth import app_workspace, system_of
from roster.api.bodies import read_capped
from roster.api.parsing import identify_from
from roster.domain.csv_cells import decode_cell
from roster.domain.errors import InvalidInput
from roster.domain.identifiers import NOT_GIVEN, IdentifierMode, Reference, typed_reference
from roster.domain.limits import check_depth
from roster.domain.operations import Identify, Ref
from roster.services.imports import EmptyCells, Row, check_empty_cells, read_rows

router = doors.router("roster", tags=["roster"])
# The body is read whole and checked before anything is imported: larger files are sent in
# parts, or imported with `roster import people`, which streams.
MAX_BODY_BYTES = 20_000_000
CSV_TYPES = ("text/csv", "text/plain", "application/csv")

# Identifier cells are text, never JSON (an id "123" stays the string "123").
IDENTIFIER_COLUMNS = frozenset({"id", "email", "anonymous_id"})
# Never sent to the rules: the cio_id only finds a person (docs/decisions.md, *Imports match
# cio_ids, never keep them*), and `_created_in_roster_at` is roster's own (docs/identity.md I4.7).
NOT_SET_COLUMNS = frozenset({"cio_id", "_created_in_roster_at"})


def _has(body: dict[str, Any], key: str) -> bool:
    value = body.get(key)
    return isinstance(value, str) and bool(value.strip())


def identify_row(row: Row, mode: IdentifierMode, empty: EmptyCells, cio_id: str | None) -> Identify:
    """The identify a row means. `cio_id` is the person the row's cio_id cell found, if any: the
    row is then about that person, and may change (or with `clear`, remove) their id and email
    (docs/identity.md I5.3-I5.6). Otherwise the row's id is its reference, or with no id, its
    email finds or creates the person (I3.4)."""
    clear = empty == "clear"
    body: dict[str, Any] = {}
    for name, text in row.cells.items():
        if name in NOT_SET_COLUMNS:
            continue
        if name in IDENTIFIER_COLUMNS:
            if text:
                body[name] = text
            elif clear and cio_id is not None and name != "anonymous_id":
                body[name] = None  # I5.6: an identifier is removed only through a cio_ reference
            continue
        if text:
            body[name] = decode_cell(text)
            # A JSON body is refused past this depth as a whole (api/bodies.py); a cell alone.
            check_depth(body[name], f"value of '{name}'")
        elif clear:
            body[name] = None  # I4.2: no value removes the attribute
    ref: Ref
    if cio_id is not None:
        ref = Reference("cio_id", cio_id)
    elif _has(body, "id"):
        ref = typed_reference("id", body["id"], mode)
    elif mode is IdentifierMode.ID_ONLY:
        raise InvalidInput(
            "the row has no id, and in an id_only workspace an email is no identifier"
        )
    elif _has(body, "email"):
        ref = NOT_GIVEN
    else:
        raise InvalidInput("the row has neither an id nor an email")
    return identify_from(ref, body, mode)


def row_builder(mode: IdentifierMode, empty: EmptyCells) -> Callable[[Row, str | None], Identify]:
    return lambda row, cio_id: identify_row(row, mode, empty, cio_id)


def _check_type(request: Request) -> None:
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media not in CSV_TYPES:
        raise InvalidInput(
            f"Content-Type must be text/csv (the CSV file as the body), not '{media or 'none'}'"
        )


CSV_FILE = {
    "type": "string",
    "description": "A UTF-8 CSV file in the export format: a header line naming id and/or email "
    "and any attributes, then one person per row (docs/api.md §5)",
}


@router.post(
    "/api/imports",
    summary="Import people from a CSV file in the export format",
    openapi_extra=schemas.body(CSV_FILE, media="text/csv"),
)
async def import_people(
    request: Request, empty_cells: str = "keep", workspace_id: int = Depends(app_workspace)
) -> JsonAnswer:
    _check_type(request)
    empty = check_empty_cells(empty_cells)
    raw = await read_capped(request, MAX_BODY_BYTES)
    system = system_of(request)
    mode = system.workspaces.mode(workspace_id)
    imports = system.imports

    def run() -> dict[str, Any]:
        imports.check(io.BytesIO(raw))  # a bad file imports nothing
        rows = read_rows(io.BytesIO(raw))
        return imports.apply(workspace_id, rows, row_builder(mode, empty)).as_json()

    return JsonAnswer(await run_in_threadpool(run))
