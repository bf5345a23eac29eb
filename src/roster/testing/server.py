"""A real `roster serve` in a subprocess, for the tests that drive roster over HTTP(S) the way
its users' clients do (tests marked `@pytest.mark.server`) and for `make bench`, which measures the
same server the tests start.

    with RunningRoster(f"sqlite:///{tmp_path / 'roster.db'}", tmp_path / "data", tls=True) as r:
        r.base_url, r.credentials, r.cert_path
        with r.app_api() as app: app.customer("user-1")

The workspace is created with the `roster workspaces create NAME --json` command against the same
database and data directory (the data directory holds the generated secret key that encrypts the
workspace's secrets, so servers sharing a database must share it too, or share
ROSTER_SECRET_KEY)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote

if TYPE_CHECKING:
    import httpx

ROSTER = Path(sys.executable).parent / "roster"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


# What `roster workspaces create --json` prints of a workspace besides its id and name: what a
# client needs to reach it.
CREDENTIAL_KEYS = (
    "site_id",
    "track_api_key",
    "app_api_key",
    "write_key",
    "webhook_id",
    "webhook_secret",
)


class WorkspaceKeys:
    """A workspace's credentials by name, read from `credentials` (what `roster workspaces create
    --json` printed)."""

    credentials: dict[str, Any]

    @property
    def workspace_id(self) -> int:
        return int(self.credentials["workspace_id"])

    @property
    def site_id(self) -> str:
        return str(self.credentials["site_id"])

    @property
    def track_api_key(self) -> str:
        return str(self.credentials["track_api_key"])

    @property
    def app_api_key(self) -> str:
        return str(self.credentials["app_api_key"])

    @property
    def write_key(self) -> str:
        return str(self.credentials["write_key"])

    @property
    def webhook_id(self) -> str:
        return str(self.credentials["webhook_id"])

    @property
    def webhook_secret(self) -> str:
        return str(self.credentials["webhook_secret"])


class StartStop:
    """A server that a `with` block starts and stops, whatever happens inside it."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> object:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def free_port() -> int:
    """A port nobody listens on right now (the server may still lose a race for it: RunningRoster
    tries again on another port if it does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def roster_environment(data_dir: Path) -> dict[str, str]:
    """The environment every roster command of a test runs with: no ROSTER_* setting of the
    developer's leaks in."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ROSTER_")}
    env["ROSTER_DATA_DIR"] = str(data_dir)
    env["ROSTER_LOG_FORMAT"] = "text"
    return env


def run_roster(
    *args: str,
    data_dir: Path,
    timeout: float = 60.0,
    extra_env: dict[str, str] | None = None,
    roster: Path = ROSTER,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """One `roster ...` command to completion (not checked: the caller looks at returncode),
    with `input` on its standard input. `roster` is the command of another installation (the
    packaging test's venv)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [str(roster), *args],
        input=input,
        env={**roster_environment(data_dir), **(extra_env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def create_workspace(
    database_url: str, data_dir: Path, name: str | None = None, *options: str
) -> dict[str, Any]:
    """`roster workspaces create NAME --json`: the new workspace's credentials."""
    name = name or f"ws-{uuid.uuid4().hex[:10]}"
    done = run_roster(
        "workspaces", "create", name, "--json", "--database-url", database_url, *options,
        data_dir=data_dir,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(
            f"roster workspaces create failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    created: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return created


def path_ref(value: str) -> str:
    """A reference as one percent-encoded path segment."""
    return quote(value, safe="")


class AppApi:
    """Customer.io's App API of a running roster (Bearer app_api_key)."""

    def __init__(self, base_url: str, app_api_key: str, verify: ssl.SSLContext | bool) -> None:
        # Imported where used: `roster serve --ephemeral` imports this module (StartStop,
        # CREDENTIAL_KEYS) and needs no HTTP client.
        import httpx

        self.http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {app_api_key}"},
            verify=verify,
            timeout=30.0,
        )

    def __enter__(self) -> AppApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _ok(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code != 200:
            raise AssertionError(
                f"App API {response.request.method} {response.request.url} answered "
                f"{response.status_code}: {response.text}"
            )
        answer: dict[str, Any] = response.json()
        return answer

    def customer(self, ref: str, id_type: str = "id") -> dict[str, Any] | None:
        """`GET /v1/customers/{ref}/attributes`: the "customer" object, or None on 404."""
        response = self.http.get(
            f"/v1/customers/{path_ref(ref)}/attributes", params={"id_type": id_type}
        )
        if response.status_code == 404:
            return None
        found: dict[str, Any] = self._ok(response)["customer"]
        return found

    def must(self, ref: str, id_type: str = "id") -> dict[str, Any]:
        """Like customer(), but the person must exist."""
        found = self.customer(ref, id_type)
        assert found is not None, f"no person with {id_type} {ref!r}"
        return found

    def with_email(self, email: str) -> list[dict[str, Any]]:
        """`GET /v1/customers?email=`: the identifiers of every person with that email."""
        results: list[dict[str, Any]] = self._ok(
            self.http.get("/v1/customers", params={"email": email})
        )["results"]
        return results

    def activities(
        self,
        ref: str,
        id_type: str = "id",
        type: str | None = None,
        deleted: bool = False,
    ) -> list[dict[str, Any]]:
        """`GET /v1/customers/{ref}/activities`, every page, newest first."""
        found: list[dict[str, Any]] = []
        start = ""
        while True:
            params: dict[str, Any] = {"id_type": id_type, "limit": 1000}
            if type is not None:
                params["type"] = type
            if start:
                params["start"] = start
            if deleted:
                params["deleted"] = "true"
            page = self._ok(
                self.http.get(f"/v1/customers/{path_ref(ref)}/activities", params=params)
            )
            found.extend(page["activities"])
            start = page.get("next") or ""
            if not start:
                return found

    def events(self, ref: str, id_type: str = "id") -> list[dict[str, Any]]:
        """The person's events, pages and screens (activities of those types)."""
        return [
            activity
            for activity in self.activities(ref, id_type)
            if activity["type"] in ("event", "page", "screen")
        ]


class RunningRoster(WorkspaceKeys, StartStop):
    """`roster serve` in a subprocess, from start to a clean stop."""

    def __init__(
        self,
        database_url: str,
        data_dir: Path,
        *,
        credentials: dict[str, Any] | None = None,
        tls: bool = False,
        workers: int | None = None,
        extra_env: dict[str, str] | None = None,
        roster: Path = ROSTER,
    ) -> None:
        """Without `credentials`, a new workspace is created first. `roster` is the command of
        another installation (the packaging test's venv)."""
        self.roster = roster
        self.database_url = database_url
        self.data_dir = data_dir
        self.tls = tls
        self.workers = workers
        self.extra_env = extra_env or {}
        self.credentials: dict[str, Any] = credentials or {}
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"serve-{uuid.uuid4().hex[:8]}.log"
        self._context: ssl.SSLContext | None = None
        self.killed = False  # whether the last stop() needed SIGKILL

    # -- what tests use ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def cert_path(self) -> Path | None:
        """The self-signed certificate `--tls-self-signed` made (None for plain HTTP)."""
        return self.data_dir / "tls" / "self-signed.pem" if self.tls else None

    @property
    def verify(self) -> ssl.SSLContext:
        """What httpx's `verify=` needs to trust this server: one context, made once (making one
        costs ~50 ms, and tests make a client each)."""
        if self._context is None:
            if self.cert_path is None:
                self._context = ssl.create_default_context()
            else:
                self._context = ssl.create_default_context(cafile=str(self.cert_path))
        return self._context

    def app_api(self) -> AppApi:
        return AppApi(self.base_url, self.app_api_key, self.verify)

    def track_http(self) -> httpx.Client:
        """An httpx client with the Track API's Basic credentials."""
        import httpx

        return httpx.Client(
            base_url=self.base_url,
            auth=(self.site_id, self.track_api_key),
            verify=self.verify,
            timeout=30.0,
        )

    def output(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # -- life cycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.credentials:
            self.credentials = create_workspace(self.database_url, self.data_dir)
        for attempt in range(3):
            self.port = free_port()
            self._spawn()
            try:
                self._wait_until_healthy()
                return
            except BaseException:
                lost_port_race = "address already in use" in self.output().lower()
                self.stop()  # never leave a server behind, whatever went wrong
                if not lost_port_race or attempt == 2:
                    raise

    def _command(self) -> list[str]:
        command = [
            str(self.roster), "serve",
            "--database-url", self.database_url, "--port", str(self.port),
        ]  # fmt: skip
        if self.tls:
            command.append("--tls-self-signed")
        if self.workers is not None:
            command += ["--workers", str(self.workers)]
        return command

    def _spawn(self) -> None:
        env = roster_environment(self.data_dir)
        env.update(self.extra_env)
        with self.log_path.open("ab") as log:
            log.write(f"$ {' '.join(self._command())}\n".encode())
            log.flush()
            # A session of its own: on a hard stop, uvicorn's worker processes go too.
            self.process = subprocess.Popen(
                self._command(),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def _wait_until_healthy(self) -> None:
        import httpx

        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"roster serve exited with {self.process.returncode} before answering "
                    f"/healthz. Its output:\n{self.output()}"
                )
            # The self-signed certificate appears once the server has made it.
            if self.cert_path is None or self.cert_path.exists():
                try:
                    with httpx.Client(verify=self.verify, timeout=2.0) as client:
                        if client.get(f"{self.base_url}/healthz").status_code == 200:
                            return
                except (httpx.TransportError, OSError, ssl.SSLError):
                    pass
            time.sleep(0.1)
        raise RuntimeError(
            f"roster serve did not answer /healthz within {START_TIMEOUT:.0f} s. "
            f"Its output:\n{self.output()}"
        )

    @property
    def pid(self) -> int:
        """The server's process id (with one worker, the process that answers requests)."""
        if self.process is None:
            raise RuntimeError("roster serve is not running")
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole session, as a crash or an out-of-memory killer would: nothing
        is finished or flushed."""
        process, self.process = self.process, None
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, then SIGKILL (to the whole session) after `timeout` seconds. The exit code.
        A server under load finishes the requests it was answering first, hence the timeout."""
        process, self.process = self.process, None
        if process is None:
            return None
        self.killed = False
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT)
        return process.returncode
