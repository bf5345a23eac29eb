"""Reading times: unix seconds, digit strings, ISO-8601."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

# The times roster can store and show: years 1 to 9999 (what an ISO-8601 date can say).
EARLIEST = -62135596800
LATEST = 253402300799


def iso_seconds(text: str) -> float | None:
    """Unix seconds of an ISO-8601 date or time (UTC when it names no zone), else None."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def read_timestamp(value: Any) -> float | None:
    """Unix seconds from a number, a digit string or an ISO-8601 string, between years 1 and
    9999; None for anything else ("NaN", "Infinity", 1e300 and other non-times included)."""
    seconds: float | None = None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            seconds = iso_seconds(text)
    if seconds is None or not math.isfinite(seconds) or not EARLIEST <= seconds <= LATEST:
        return None
    return seconds


def looks_like_time(value: Any) -> bool:
    """A number or a digit string: something meant as unix seconds."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if not isinstance(value, str) or not value.isascii():  # "²" is a digit to str.isdigit
        return False
    return value.strip().lstrip("-").replace(".", "", 1).isdigit()
