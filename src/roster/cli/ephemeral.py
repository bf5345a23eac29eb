"""`roster serve --ephemeral`: a throw-away roster for any language's test set-up (docs/testing.md).

It prints one JSON line on stdout once it listens, with its workspace made (its URL and the
workspace's credentials), and nothing else there (logs go to stderr). The HTTP app loads after
the line: a request sent meanwhile waits in the socket's queue and is answered once it has.
It stops, and removes its temporary folder, on SIGTERM, SIGINT, or when its standard input
reaches end of file: a parent that holds the other end of a pipe and dies closes it, so a crashed
test runner leaves nothing behind."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import stat
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING

from roster import logs

if TYPE_CHECKING:
    from roster.testing.ephemeral import EphemeralRoster


def stdin_is_watched() -> bool:
    """Whether end of file on stdin means "stop": a pipe, a socket or a terminal. Not /dev/null
    or a file (`roster serve --ephemeral &` in a shell script gets /dev/null, which is at end of
    file at once): those servers stop on SIGTERM only."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or sys.stdin.isatty()


def _watch_stdin(stop: threading.Event) -> None:
    try:
        descriptor = sys.stdin.fileno()
        while os.read(descriptor, 65536):
            pass  # what the parent writes means nothing; only its end does
    except (OSError, ValueError):
        pass
    stop.set()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while the server starts. What start-up loads
    (modules, the app's routes and models) lives as long as the process, so the full passes the
    collector makes as it grows find nothing to free and only delay the start (~0.1 s in all);
    the app's lifespan collects once, and freezes what is left, before it serves."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def run(host: str, port: int, tls: bool, log_level: str) -> None:
    """Serve until told to stop, then remove everything."""
    logs.configure(log_level, "text")
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {
        number: signal.signal(number, on_signal) for number in (signal.SIGTERM, signal.SIGINT)
    }
    server: EphemeralRoster | None = None
    try:
        with _collector_paused():
            from roster.testing.ephemeral import CannotListen, EphemeralRoster

            server = EphemeralRoster(host=host, port=port, tls=tls)
            try:
                server.listen()
            except CannotListen as error:
                sys.stderr.write(
                    f"error: {error.strerror}\nGive another --host or --port (without --port, "
                    "roster picks a free one).\n"
                )
                raise SystemExit(2) from None
            # As soon as the sockets listen and the workspace exists: the test suite starts its
            # clients while the app loads, and their first requests wait for it in the socket's
            # queue.
            sys.stdout.write(json.dumps(server.announcement()) + "\n")
            sys.stdout.flush()
            if stdin_is_watched():
                threading.Thread(target=_watch_stdin, args=(stop,), daemon=True).start()
            server.start()
        while not stop.wait(0.5):
            pass
    finally:
        if server is not None:
            server.stop()
        for number, handler in previous.items():
            signal.signal(number, handler)
