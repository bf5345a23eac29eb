"""CSV files people make (a spreadsheet's export), read as text one line at a time, so that a
file that is not UTF-8 text is refused naming its line: `roster delete --from-csv` and imports
both read them this way."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from roster.domain.errors import InvalidInput


class BadFile(InvalidInput):
    """What is wrong with a CSV file, and on which line; nothing of it has been used."""


def decoded_lines(lines: Iterable[bytes]) -> Iterator[str]:
    """The file's lines decoded one by one, so that an encoding error names its line."""
    for number, raw in enumerate(lines, start=1):
        if b"\x00" in raw:
            raise BadFile(
                f"line {number} holds a NUL byte: the file is not text (save it as UTF-8 CSV)"
            )
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # the byte-order mark spreadsheets write
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise BadFile(
                f"line {number} is not valid UTF-8 (byte {error.start + 1} of the line): "
                "save the file as UTF-8 CSV"
            ) from None
