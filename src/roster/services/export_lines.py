"""The lines of an export's CSV file (docs/api.md §4), written here or in a helper process.

Each person's line is their cells (roster.domain.csv_cells.encode_cell's) with RFC 4180 quoting
and a CRLF line end, byte for byte as Python's csv module writes them
(tests/services/test_export_rows.py compares the two).

A large export shares its batches of people with a helper process (`python -m
roster.services.export_lines`): the server reads the people from the database, once and in
order, hands some batches to the helper as JSON and writes the others itself, and the file takes
each batch's lines in order, whoever wrote them (docs/decisions.md, *An export writes its file on
two cores*). The helper only turns rows into lines: it opens no database and holds no secret.
This module imports nothing of roster but the cells' encoding, so the helper starts in tens of
milliseconds.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import queue
import re
import select
import struct
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Any, BinaryIO

import orjson

from roster.domain.csv_cells import encode_cell

__all__ = ["FIXED_COLUMNS", "Helper", "header", "lines"]

# The columns every export starts with, in this order; attribute columns follow by name.
FIXED_COLUMNS = ("cio_id", "id", "email", "created_at", "_created_in_roster_at", "unsubscribed")
# A string can only read as JSON when it starts with one of these (JSON's grammar); the row loop
# hands every other string on as it is, without asking encode_cell (tests/services/
# test_export_rows.py checks that the cells are encode_cell's, whatever the values).
_JSON_STARTS = frozenset('{["-0123456789tfn \t\n\r')
_WORDS = ("true", "false", "null")
_NUMBER = re.compile(r"[ \t\n\r]*-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?[ \t\n\r]*")
_NEEDS_QUOTES = re.compile('["\r\n]')

# A person's row as storage reads it: cio_id, id, email, created_in_roster_at, attributes (JSON
# text); as a list when it came to the helper as JSON.
Row = Sequence[Any]


def _cell(value: Any) -> str:
    """encode_cell(value), cheaply for what is common. A string reads as JSON only when it is
    `true`, `false` or `null`, or a JSON number, give or take white space around it (encode_cell
    itself tries a JSON parse, whose failure costs microseconds). orjson.loads yields ints within
    64 bits, whose JSON is their decimal digits."""
    kind = value.__class__
    if kind is str:
        first = value[:1]
        if first in "tfn":
            if not value.startswith(_WORDS):
                return value  # type: ignore[no-any-return]
        elif first in "-0123456789":
            if _NUMBER.fullmatch(value) is None:
                return value  # type: ignore[no-any-return]
        elif first not in _JSON_STARTS:
            return value  # type: ignore[no-any-return]
    elif kind is int:
        return str(value)
    elif kind is bool:
        return "true" if value else "false"
    elif value is None:
        return ""
    return encode_cell(value)


def header(columns: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow((*FIXED_COLUMNS, *columns))
    return buffer.getvalue().encode()


def _fields(columns: Sequence[str], row: Row) -> tuple[str, ...]:
    """One person's cells, in the file's column order."""
    cio_id, id_, email, created_in_roster_at, attributes_json = row
    get = orjson.loads(attributes_json).get
    return (
        cio_id,
        id_ or "",
        email or "",
        _cell(get("created_at")),
        str(created_in_roster_at),
        _cell(get("unsubscribed")),
        *[_cell(value) for value in map(get, columns)],
    )


def _quoted_lines(columns: Sequence[str], batch: Sequence[Row]) -> str:
    """A batch's lines where some cell needs quoting: each person's line joined plainly when
    none of its cells does, and written by the csv module when one does."""
    buffer = io.StringIO()
    writerow = csv.writer(buffer).writerow
    separators = len(FIXED_COLUMNS) + len(columns) - 1
    for row in batch:
        fields = _fields(columns, row)
        line = ",".join(fields)
        if line.count(",") == separators and not _NEEDS_QUOTES.search(line):
            buffer.write(line)
            buffer.write("\r\n")
        else:
            writerow(fields)
    return buffer.getvalue()


def lines(columns: Sequence[str], batch: Sequence[Row]) -> str:
    """The batch's lines, as the csv module writes them.

    A cell needs quoting only when it holds a comma, a double quote, CR or LF. The lines are
    joined plainly and the batch is checked as a whole: with no double quote, one CR and one LF
    a line and exactly the commas that separate cells, no cell held any of them. Otherwise the
    batch is written again line by line (_quoted_lines)."""
    if not batch:
        return ""
    # The loop runs once per person: locals only, and most cells (strings that cannot read as
    # JSON, and ints, whose JSON is their digits) are made without a call.
    loads = orjson.loads
    cell = _cell
    starts = _JSON_STARTS
    join = ",".join
    text_ = str
    int_ = int
    text = "\r\n".join(
        [
            join(
                (
                    cio_id,
                    id_ or "",
                    email or "",
                    cell(get("created_at")),
                    str(created_in_roster_at),
                    cell(get("unsubscribed")),
                    *[
                        (value if value[:1] not in starts else cell(value))
                        if value.__class__ is text_
                        else (text_(value) if value.__class__ is int_ else cell(value))
                        for value in map(get, columns)
                    ],
                )
            )
            for cio_id, id_, email, created_in_roster_at, attributes_json in batch
            for get in (loads(attributes_json).get,)
        ]
    )
    text += "\r\n"
    count = len(batch)
    if (
        '"' in text
        or text.count("\n") != count
        or text.count("\r") != count
        or text.count(",") != (len(FIXED_COLUMNS) + len(columns) - 1) * count
    ):
        return _quoted_lines(columns, batch)
    return text


# -- the helper process ----------------------------------------------------------------------
#
# Frames both ways: an 8-byte big-endian length, then that many bytes. In: the attribute columns
# (a JSON array), then one JSON array of rows a batch. Out: each batch's lines, UTF-8, in order.
# End of input: the helper exits.

_LENGTH = struct.Struct(">Q")
# Batches handed to the helper and not yet taken back: it writes one while the next waits.
IN_FLIGHT = 4


class HelperFailed(RuntimeError):
    """The helper process ended or broke before it answered every batch."""


def _read_exact(fd: int, size: int) -> bytes | None:
    """`size` bytes from the pipe; None at its end (before the first byte)."""
    parts: list[bytes] = []
    left = size
    while left:
        part = os.read(fd, min(left, 1 << 20))
        if not part:
            if left == size:
                return None
            raise HelperFailed("the pipe ended inside a frame")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _read_frame(fd: int) -> bytes | None:
    head = _read_exact(fd, _LENGTH.size)
    if head is None:
        return None
    (size,) = _LENGTH.unpack(head)
    body = _read_exact(fd, size)
    if body is None:
        raise HelperFailed("the pipe ended inside a frame")
    return body


def _write_frame(out: BinaryIO, data: bytes) -> None:
    out.write(_LENGTH.pack(len(data)))
    out.write(data)
    out.flush()


def serve(source: BinaryIO, sink: BinaryIO) -> None:
    """The helper's work: batches in, lines out, until the input ends. A thread reads the
    input ahead, so the server's hand-over never waits for the batch being written."""
    waiting: queue.Queue[bytes | None] = queue.Queue(maxsize=IN_FLIGHT)

    def read_ahead() -> None:
        frame: bytes | None = b""
        try:
            while frame is not None:
                frame = _read_frame(source.fileno())
                waiting.put(frame)
        except (OSError, HelperFailed):
            waiting.put(None)  # the server is gone: the helper ends

    threading.Thread(target=read_ahead, daemon=True).start()
    first = waiting.get()
    if first is None:
        return
    columns = orjson.loads(first)
    while (frame := waiting.get()) is not None:
        _write_frame(sink, lines(columns, orjson.loads(frame)).encode())


class Helper:
    """A helper process writing the lines of the batches handed to it, in order."""

    def __init__(self, columns: Sequence[str]) -> None:
        # The server's environment without roster's settings: the helper needs none of them,
        # and so holds no secret (ROSTER_SECRET_KEY, a database URL's password).
        environment = {
            name: value for name, value in os.environ.items() if not name.startswith("ROSTER_")
        }
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
            env=environment,
        )
        self._stdin = self._process.stdin
        self._stdout = self._process.stdout
        assert self._stdout is not None
        # poll, not select: a busy server's descriptors can number past select's 1024.
        self._output = select.poll()
        self._output.register(self._stdout.fileno(), select.POLLIN)
        self.in_flight = 0
        self._send(orjson.dumps(list(columns)))

    @property
    def pid(self) -> int:
        return self._process.pid

    def _send(self, data: bytes) -> None:
        assert self._stdin is not None
        try:
            _write_frame(self._stdin, data)  # type: ignore[arg-type]
        except OSError as error:
            raise self._failed(str(error)) from None

    def hand(self, batch: Sequence[Row]) -> None:
        """Hand a batch over; its lines come back from `take`, in the order handed."""
        # Rows are tuples (SQLite's) or row objects (PostgreSQL's): both go as JSON arrays.
        self._send(orjson.dumps(batch, default=tuple))
        self.in_flight += 1

    def ready(self) -> bool:
        """Whether the oldest batch's lines are (starting to) come back."""
        # Readable, or ended (which `take` then tells as a failure).
        return bool(self._output.poll(0))

    def take(self) -> bytes:
        """The oldest handed batch's lines, waiting for them."""
        assert self._stdout is not None
        try:
            data = _read_frame(self._stdout.fileno())
        except (OSError, HelperFailed) as error:
            raise self._failed(str(error)) from None
        if data is None:
            raise self._failed("its output ended")
        self.in_flight -= 1
        return data

    def returncode(self) -> int | None:
        """The helper's exit code once it has ended."""
        return self._process.poll()

    def _failed(self, what: str) -> HelperFailed:
        try:  # a broken pipe comes a moment before the helper's end can be seen
            code: int | None = self._process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            code = None
        ended = "" if code is None else f" (exit code {code})"
        return HelperFailed(f"the export's helper process failed{ended}: {what}")

    def close(self) -> None:
        """End the helper: its input ends, and its output is not read any more."""
        for pipe in (self._stdin, self._stdout):
            if pipe is not None:
                # A helper that died first leaves a broken pipe: nothing to flush.
                with contextlib.suppress(OSError):
                    pipe.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def main() -> None:
    try:
        serve(sys.stdin.buffer, sys.stdout.buffer)
    except BrokenPipeError:
        # The server stopped reading: the download was given up. Nothing is left to say, and
        # nothing to flush into the closed pipe on the way out.
        os._exit(0)


if __name__ == "__main__":
    main()
