"""The CSV file of an export (docs/api.md §4): its cells are encode_cell's for every value, and it
is streamed from the database, on SQLite and PostgreSQL, never read whole."""

from __future__ import annotations

import csv
import io
import tracemalloc
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from roster.domain.csv_cells import decode_cell, encode_cell
from roster.domain.identifiers import IdentifierMode
from roster.services.exports import FIXED_COLUMNS, Exports, Plan, csv_pieces, link_key
from roster.services.ingestion import Message
from roster.services.system import System
from roster.storage.exports import ExportReads
from tests.domain.builders import identify

# Strings made of what JSON is made of, so that many of them read as JSON and some nearly do.
JSONISH = st.text(alphabet='0123456789-+.eE tfnrulasN"[]{},: \t\n\rx\u00a0\ufeffé', max_size=12)
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)  # what orjson reads and writes
    | st.floats(allow_nan=False, allow_infinity=False)
    | JSONISH
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


def _rows(*attributes: dict[str, Any]) -> list[list[str]]:
    batch = [("c1", "i1", None, 17, orjson.dumps(a).decode()) for a in attributes]
    text = b"".join(data for _, data in csv_pieces(["v"], iter([batch]))).decode()
    return list(csv.reader(io.StringIO(text, newline="")))


@given(value=VALUES)
def test_every_cell_is_what_encode_cell_makes_of_the_value(value):
    header, row = _rows({"v": value, "created_at": value, "unsubscribed": value})
    assert header == [*FIXED_COLUMNS, "v"]
    assert row == ["c1", "i1", "", encode_cell(value), "17", encode_cell(value), encode_cell(value)]
    assert decode_cell(row[-1]) == (None if value == "" else value)


def test_a_string_that_cannot_read_as_json_is_written_as_it_is():
    for text in ("02134", "tru", "nulls", "1.", "-", "+1", "Zoë", "fox", "1 2"):
        assert _rows({"v": text})[1][-1] == text == encode_cell(text)
    for text in ("12", " true", "null ", "-0.5e3", '"q"'):
        assert _rows({"v": text})[1][-1] == orjson.dumps(text).decode() == encode_cell(text)


PEOPLE = 1500
PADDING = 900  # characters of each of two attributes of each person
BATCH = 10


def test_an_export_streams_people_in_batches_and_never_holds_them_all(system: System):
    workspace = system.workspaces.create("export-streaming")
    workspace_id = int(workspace["workspace_id"])
    for start in range(0, PEOPLE, 500):
        messages = [
            Message(identify(IdentifierMode.EMAIL_OR_ID, f"s{n}", a="x" * PADDING, b="y" * PADDING))
            for n in range(start, start + 500)
        ]
        results = system.ingestion.apply_sync(workspace_id, messages, "track_v1")
        assert not any(isinstance(result, Exception) for result in results)
    exports = Exports(ExportReads(system.database), system.writer, link_key("k"), float, BATCH)
    plan = Plan()
    columns = exports.columns(workspace_id, plan)
    for _ in exports.pieces(workspace_id, plan, columns):
        pass  # once before measuring: statements compiled and cached, connections pooled

    tracemalloc.start()
    try:
        people = size = 0
        pieces = 0
        for count, data in exports.pieces(workspace_id, plan, columns):
            people, size, pieces = people + count, size + len(data), pieces + 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert people == PEOPLE and pieces == 1 + PEOPLE // BATCH
    assert size > PEOPLE * PADDING * 2
    # Everyone at once would hold more than the file's size (their rows, then the file); a
    # batch holds a hundred-and-fiftieth of them, and the reading machinery its own little.
    assert peak < size / 4, (peak, size)
