"""Stopping on SIGTERM without losing or half-taking a call (docs/operations.md, "Stopping").

uvicorn's own SIGTERM handling stops listening at once and finishes the requests in flight.
roster puts a drain in front of it: the writer refuses new work (503 with Retry-After, nothing
stored: the client sends it again, to another server or later) while what it queued commits, and
/readyz answers 503; after `drain_seconds` uvicorn's handler runs as before. A second SIGTERM
skips the rest of the drain.

Only a server in the main thread can handle signals: a server run in a thread (the pytest
plugin, `roster demo`) stops as its owner says, and this does nothing there.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from roster.services.system import System

Restore = Callable[[], None]


def install(system: System, seconds: float) -> Restore:
    """Drain the system's writer on SIGTERM, then hand the signal to the handler installed
    before (the server's). Returns what puts that handler back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    writer = system.writer
    loop = asyncio.get_running_loop()
    previous: Any = signal.getsignal(signal.SIGTERM)

    def stop(frame: FrameType | None) -> None:
        if callable(previous):
            previous(signal.SIGTERM, frame)
        else:  # no server handler: stop the way SIGTERM stops a process by default
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.raise_signal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        if writer.status().draining:
            stop(frame)
            return
        writer.drain()
        loop.call_soon_threadsafe(loop.call_later, seconds, stop, frame)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    signal.signal(signal.SIGTERM, on_sigterm)
    return restore
