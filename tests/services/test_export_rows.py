"""The CSV file of an export (docs/api.md §4): its cells are encode_cell's for every value, and it
is streamed from the database, on SQLite and PostgreSQL, never read whole."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import tracemalloc
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roster.domain.csv_cells import decode_cell, encode_cell
from roster.domain.identifiers import IdentifierMode
from roster.services.export_lines import IN_FLIGHT, Helper, HelperFailed, lines
from roster.services.exports import (
    FIXED_COLUMNS,
    PIECES_WAITING,
    READ_BATCH,
    SHARE_AFTER,
    Exports,
    Plan,
    csv_pieces,
    link_key,
)
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


# Text made of what CSV quoting is about, and a little else.
CSVISH = st.text(alphabet=',"\r\n =+-@\t;x\u00e9\u2028\x00', max_size=8)
CELL_TEXT = CSVISH | JSONISH | st.text(max_size=12)
COLUMNS = ["a", "b,c", 'q"', "z"]
ROWS = st.lists(
    st.tuples(
        CELL_TEXT,
        st.none() | CELL_TEXT,
        st.none() | CELL_TEXT,
        st.integers(min_value=0, max_value=2**62),
        st.dictionaries(st.sampled_from([*COLUMNS, "created_at", "unsubscribed", "other"]), VALUES),
    ),
    max_size=12,
)


def _csv_module(columns: list[str], rows: list[tuple[Any, ...]]) -> bytes:
    """The file as Python's csv module writes it, each cell encode_cell's."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow((*FIXED_COLUMNS, *columns))
    for cio_id, id_, email, created_in_roster_at, attributes_json in rows:
        attributes = orjson.loads(attributes_json)
        writer.writerow(
            (
                cio_id,
                id_,
                email,
                encode_cell(attributes.get("created_at")),
                created_in_roster_at,
                encode_cell(attributes.get("unsubscribed")),
                *[encode_cell(attributes.get(name)) for name in columns],
            )
        )
    return buffer.getvalue().encode()


def _batches(rows: list[tuple[Any, ...]], cuts: list[int]) -> list[list[tuple[Any, ...]]]:
    raw = [(*row[:4], orjson.dumps(row[4]).decode()) for row in rows]
    bounds = [0, *sorted(min(cut, len(raw)) for cut in cuts), len(raw)]
    return [raw[start:stop] for start, stop in pairwise(bounds)]


# Batches of any sizes: some need no quoting at all, some mix rows that do and rows that do not,
# some are empty.
BATCHES = st.builds(_batches, ROWS, st.lists(st.integers(min_value=0, max_value=12), max_size=4))


@given(batches=BATCHES)
def test_the_file_is_byte_for_byte_what_the_csv_module_writes(batches):
    pieces = list(csv_pieces(COLUMNS, iter(batches)))
    rows = [row for batch in batches for row in batch]
    assert b"".join(data for _, data in pieces) == _csv_module(COLUMNS, rows)
    assert [count for count, _ in pieces] == [0, *map(len, batches)]


@settings(max_examples=20, deadline=None)  # a helper process each
@given(batches=BATCHES)
def test_the_file_shared_with_a_helper_process_is_the_same_bytes(batches):
    pieces = list(csv_pieces(COLUMNS, iter(batches), share_after=0))
    rows = [row for batch in batches for row in batch]
    assert b"".join(data for _, data in pieces) == _csv_module(COLUMNS, rows)
    assert [count for count, _ in pieces] == [0, *map(len, batches)]


def test_the_helper_is_started_without_roster_settings(monkeypatch):
    monkeypatch.setenv("ROSTER_SECRET_KEY", "not-for-the-helper")
    monkeypatch.setenv("ROSTER_DATABASE_URL", "postgresql://roster:password@db/roster")
    helper = Helper(COLUMNS)
    try:
        environment = Path(f"/proc/{helper.pid}/environ").read_bytes().split(b"\0")
    finally:
        helper.close()
    assert environment and not [entry for entry in environment if entry.startswith(b"ROSTER_")]
    assert helper.returncode() == 0


def test_the_helper_writes_the_lines_of_the_batches_handed_to_it_in_order():
    batches = [
        [("c", str(n), None, n, orjson.dumps({"a": value, "z": n}).decode())]
        for n, value in enumerate(ODD_VALUES)
    ]
    helper = Helper(COLUMNS)
    try:
        taken = []
        for batch in batches:
            helper.hand(batch)
            if helper.in_flight == 3:
                taken.append(helper.take())
        while helper.in_flight:
            taken.append(helper.take())
    finally:
        helper.close()
    assert taken == [lines(COLUMNS, batch).encode() for batch in batches]
    assert helper.returncode() == 0


def test_a_helper_that_dies_is_an_error_naming_it_and_a_closed_file_ends_the_helper(capfd):
    helper = Helper(COLUMNS)
    try:
        helper.hand([("c", "i", "e", 1, "{}")])
        assert helper.take() == b"c,i,e,,1,,,,,\r\n"
        os.kill(helper.pid, signal.SIGKILL)
        with pytest.raises(HelperFailed, match="helper process failed"):
            helper.hand([("c", "i", "e", 1, "{}")] * 50_000)
            helper.take()
    finally:
        helper.close()
    assert helper.returncode() == -signal.SIGKILL

    batch = [("c", "i", "e", 1, orjson.dumps({"a": "x" * 1000}).decode())] * 500
    pieces = csv_pieces(COLUMNS, iter([batch] * 20), share_after=0)
    next(pieces)
    next(pieces)
    pieces.close()  # a download given up half-way: its helper ends with it, quietly
    assert not _helpers()
    assert "Traceback" not in capfd.readouterr().err


def test_without_a_helper_the_server_writes_every_batch_and_says_so(monkeypatch, caplog):
    batches = [[("c", str(n), "e", n, orjson.dumps({"a": "x,y"}).decode())] for n in range(5)]
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")  # no helper can start
    data = b"".join(data for _, data in csv_pieces(COLUMNS, iter(batches), share_after=1))
    assert data == _csv_module(COLUMNS, [row for batch in batches for row in batch])
    assert "no helper process" in caplog.text and "writing the file in the server" in caplog.text


def test_a_helper_that_dies_ends_the_file_with_an_error():
    batch = [("c", "i", "e", 1, orjson.dumps({"a": "x" * 1000}).decode())] * 500
    pieces = csv_pieces(COLUMNS, iter([batch] * 20), share_after=1)
    with pytest.raises(HelperFailed, match="exit code -9"):
        for _ in pieces:
            for pid in _helpers():
                os.kill(pid, signal.SIGKILL)
    assert not _helpers()


def _helpers() -> list[int]:
    """The helper processes this process has running. `-ww`: whole command lines, which ps
    otherwise cuts at the terminal's width (COLUMNS), and a checkout's path can be long."""
    listed = subprocess.run(
        ["ps", "-ww", "-o", "pid=,args=", "--ppid", str(os.getpid())],
        capture_output=True,
        text=True,
    )
    return [
        int(line.split()[0])
        for line in listed.stdout.splitlines()
        if "-m roster.services.export_lines" in line
    ]


def test_a_batch_with_one_cell_to_quote_quotes_that_cell_only():
    clean = ("c1", "i1", "e1", 5, orjson.dumps({"a": "plain"}).decode())
    comma = ("c2", "i2", "e2", 6, orjson.dumps({"a": "x,y"}).decode())
    data = b"".join(data for _, data in csv_pieces(["a"], iter([[clean, comma, clean]])))
    assert data.split(b"\r\n")[1:] == [
        b"c1,i1,e1,,5,,plain",
        b'c2,i2,e2,,6,,"x,y"',
        b"c1,i1,e1,,5,,plain",
        b"",
    ]


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


ODD_VALUES: list[Any] = [
    "plain",
    "x,y",
    'say "hi"',
    "two\r\nlines",
    "line\nfeed",
    "=1+2",
    "-3",
    "@home",
    "12",
    "Zoë 🙂",
    "",
    0.5,
    -7,
    True,
    None,
    {"a": ["b,c", {"d": '"'}]},
    [1, "x\ny"],
]


def test_an_export_read_from_the_database_is_what_the_csv_module_writes(system: System):
    workspace_id = int(system.workspaces.create("export-bytes")["workspace_id"])
    messages = []
    for n, value in enumerate(ODD_VALUES):
        reference = ("plain-", "comma,", 'quote"', "line\n")[n % 4] + str(n)
        attributes = {"v": value, "w": "same", "created_at": value}
        if n % 3 == 0:
            attributes["email"] = f"p{n}@example.com"
        messages.append(Message(identify(IdentifierMode.EMAIL_OR_ID, reference, **attributes)))
    results = system.ingestion.apply_sync(workspace_id, messages, "track_v1")
    assert not any(isinstance(result, Exception) for result in results)
    reads = ExportReads(system.database)
    # Three people a batch: some batches need no quoting, others mix people who do and do not.
    plan = Plan()
    rows = [row for batch in reads.people(workspace_id, None, 100) for row in batch]
    assert len(rows) == len(ODD_VALUES)
    # The file written in this process alone, and shared with a helper process from the
    # second batch on.
    for share_after in (None, 1):
        exports = Exports(reads, system.writer, link_key("k"), float, 3, share_after)
        columns = exports.columns(workspace_id, plan)
        assert columns == ["v", "w"]

        data = b"".join(exports.file(workspace_id, plan, columns))

        assert data == _csv_module(columns, rows)
        assert data.count(b'"') > 10 and b"plain-0,p0@example.com" in data


def test_an_export_starts_its_helper_past_its_fourth_batch_and_ends_it_with_the_file(
    system: System,
):
    # docs/api.md §4 and docs/decisions.md: past 8,000 people; 4 batches out at the helper, 6
    # pieces waiting for it at most.
    assert SHARE_AFTER * READ_BATCH == 8000 and IN_FLIGHT == 4 and PIECES_WAITING == 6
    workspace_id = int(system.workspaces.create("export-helper")["workspace_id"])
    messages = [Message(identify(IdentifierMode.EMAIL_OR_ID, f"h{n}", n=n)) for n in range(12)]
    results = system.ingestion.apply_sync(workspace_id, messages, "track_v1")
    assert not any(isinstance(result, Exception) for result in results)
    exports = Exports(ExportReads(system.database), system.writer, link_key("k"), float, 2)

    running = []
    for _ in exports.pieces(workspace_id, Plan()):
        running.append(len(_helpers()))

    # The header, four batches written here, then two through the helper; none left after.
    assert running == [0, 0, 0, 0, 0, 1, 1]
    assert not _helpers()


def test_the_columns_gathered_in_two_halves_are_every_name_the_chosen_people_hold(
    system: System,
):
    # The names are gathered over the two halves of the row numbers: the first person's and the
    # last one's are both found, another workspace's (its rows in between) are not.
    first = int(system.workspaces.create("export-names-a")["workspace_id"])
    other = int(system.workspaces.create("export-names-b")["workspace_id"])

    def add(workspace_id: int, reference: str, **attributes: Any) -> None:
        message = Message(identify(IdentifierMode.EMAIL_OR_ID, reference, **attributes))
        (result,) = system.ingestion.apply_sync(workspace_id, [message], "track_v1")
        assert not isinstance(result, Exception)

    add(first, "n-first", first_only=1, shared="x")
    for n in range(6):
        add(other, f"n-other-{n}", other_only=n)
    add(first, "n-last", last_only=True, shared="y")
    exports = Exports(ExportReads(system.database), system.writer, link_key("k"), float)

    assert exports.columns(first, Plan()) == ["first_only", "last_only", "shared"]
    last = exports.plan({"attribute": {"field": "last_only", "operator": "exists"}})
    assert exports.columns(first, last) == ["last_only", "shared"]
    empty = int(system.workspaces.create("export-names-c")["workspace_id"])
    assert exports.columns(empty, Plan()) == []
