"""How an attribute value is written into a CSV cell and read back (docs/api.md §4, exports and
imports), so that export → import reproduces every value with its type.

Non-string values are written as JSON (WIRE's export format). A string is written as it is,
unless reading it back as JSON would succeed (`123`, `true`, `"quoted"`, `[1]`): then it is
written as a JSON string, so that it cannot come back as a number, a boolean or an unquoted
string. Reading a cell: JSON if it parses, the text itself otherwise. An empty cell is no value.
"""

from __future__ import annotations

from typing import Any

import orjson


def _parses(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def encode_cell(value: Any) -> str:
    """The cell for an attribute value; None (no value) is the empty cell."""
    if value is None:
        return ""
    if isinstance(value, str):
        return orjson.dumps(value).decode() if _parses(value) else value
    return orjson.dumps(value).decode()


def decode_cell(text: str) -> Any:
    """The attribute value a cell holds; the empty cell is None (no value)."""
    if text == "":
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
