"""The servers a run measures: `roster serve` started exactly as the tests start it
(roster.testing.server.RunningRoster), with the no-op endpoint on and quiet logs."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import httpx

from bench import BenchError, console
from roster.testing.server import RunningRoster, WorkspaceKeys

# A server under load finishes the requests wrk left unanswered before it exits; SIGKILL before
# then would leave the store short of what was acknowledged.
STOP_TIMEOUT = 60.0


class Server(WorkspaceKeys):
    """One named `roster serve` process. SQLite in `folder` unless a database URL is given;
    servers that share a database share `data_dir` too (it holds the key that encrypts stored
    secrets) and the workspace's `credentials`."""

    def __init__(
        self,
        name: str,
        folder: Path,
        *,
        database_url: str | None = None,
        data_dir: Path | None = None,
        credentials: dict[str, Any] | None = None,
        sqlite_synchronous: str | None = None,
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.folder = folder
        self.database_url = database_url or f"sqlite:///{folder / 'roster.db'}"
        env = {"ROSTER_NOOP_ENDPOINT": "1", "ROSTER_LOG_LEVEL": "warning"}
        if sqlite_synchronous is not None:
            env["ROSTER_SQLITE_SYNCHRONOUS"] = sqlite_synchronous
        self.roster = RunningRoster(
            self.database_url,
            data_dir or folder / "data",
            credentials=credentials,
            extra_env=env,
        )

    def start(self) -> None:
        """Creates the workspace (unless given credentials), starts, waits for /healthz."""
        with console.status(f"Starting roster serve ({self.name}) ..."):
            try:
                self.roster.start()
            except (RuntimeError, OSError, subprocess.SubprocessError) as error:
                raise BenchError(f"`roster serve` ({self.name}) did not start: {error}") from error
        console.print(f"  {self.name}: pid {self.pid} at {self.url}")

    def stop(self) -> None:
        with console.status(f"Stopping {self.name} (it finishes what it was answering) ..."):
            self.roster.stop(timeout=STOP_TIMEOUT)

    @property
    def pid(self) -> int:
        return self.roster.pid

    @property
    def url(self) -> str:
        return self.roster.base_url

    # The running server's, once it has made the workspace: read, never set, here.
    @property
    def credentials(self) -> dict[str, Any]:  # type: ignore[override]
        return self.roster.credentials

    @property
    def basic(self) -> str:
        """site_id:track_api_key in base64, as put_customer.lua sends it."""
        pair = f"{self.site_id}:{self.track_api_key}"
        return base64.b64encode(pair.encode()).decode()

    def died(self) -> bool:
        return self.roster.process is not None and not self.roster.running()

    def log_tail(self, lines: int = 20) -> str:
        text = self.roster.output().strip()
        return "\n".join(text.splitlines()[-lines:]) or "(the server log is empty)"

    def segment_http(self) -> httpx.Client:
        """A client for Segment's API: the write key as Bearer."""
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.write_key}"}, timeout=30.0
        )
