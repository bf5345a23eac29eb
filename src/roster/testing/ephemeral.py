"""A throw-away roster: a temporary folder holding a SQLite database, the generated secret key and
(when asked) a self-signed certificate, a server on a socket bound before it starts, and one
workspace. `roster serve --ephemeral` runs one for any language's test set-up; the pytest plugin
(`roster.testing.plugin`) runs one in the test process and creates a workspace per test.

    with EphemeralRoster(tls=True) as server:
        server.base_url, server.credentials, server.ca_bundle
        server.new_workspace()  # another empty workspace, in a few milliseconds

It starts in two steps, which `start()` takes one after the other: `listen()` makes what
`announcement()` tells (the sockets listening, the database with its workspace) without loading
the HTTP app, and the rest of `start()` loads the app and serves. `roster serve --ephemeral`
prints its line in between: a request sent then waits in the socket's queue (it is not refused)
until the app answers it.

Everything lives in the temporary folder, which `stop()` removes: nothing is left behind."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roster.services.system import System
from roster.settings import Settings
from roster.testing.server import CREDENTIAL_KEYS, StartStop

if TYPE_CHECKING:
    import uvicorn

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
# Connections the kernel queues on a listening socket before the server accepts them (uvicorn's
# default): the requests sent between the JSON line and the app's start wait there.
BACKLOG = 2048
# The temporary folder's name starts with this, so that a test can tell roster's folders apart.
FOLDER_PREFIX = "roster-ephemeral-"


class EphemeralRoster(StartStop):
    """A server in a thread of this process, on a temporary SQLite database."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
        plain_port: bool = False,
        parent: Path | None = None,
    ) -> None:
        """`port=0` picks a free port. `tls` serves HTTPS with a generated certificate;
        `plain_port` adds a plain-HTTP listener on the same app (clients that cannot be told to
        trust a certificate, such as segment-analytics-python, use that one)."""
        self.host = host
        self.requested_port = port
        self.tls = tls
        self.plain_port = plain_port
        self.parent = parent
        self.folder: Path | None = None
        self.system: System | None = None
        self.credentials: dict[str, Any] = {}
        self.ca_bundle: Path | None = None
        self.port = 0
        self.http_port = 0
        self._settings: Settings | None = None
        self._sockets: list[tuple[socket.socket, bool]] = []  # each with whether it is TLS's
        self._servers: list[uvicorn.Server] = []
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._context: ssl.SSLContext | None = None

    # -- what callers use -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The main listener: HTTPS when `tls`, else HTTP."""
        return f"{'https' if self.tls else 'http'}://{self._url_host}:{self.port}"

    @property
    def http_url(self) -> str:
        """Plain HTTP: the main listener without TLS, or the extra `plain_port` one."""
        if not self.tls:
            return self.base_url
        if not self.plain_port:
            raise RuntimeError("this roster serves HTTPS only (start it with plain_port=True)")
        return f"http://{self._url_host}:{self.http_port}"

    @property
    def _url_host(self) -> str:
        if self.host in ("0.0.0.0", "::", ""):
            return "127.0.0.1"
        return f"[{self.host}]" if ":" in self.host else self.host

    def new_workspace(self, **settings: Any) -> dict[str, Any]:
        """Another empty workspace, straight through the service (no HTTP round trip): its
        credentials, as `roster workspaces create --json` prints them."""
        if self.system is None:
            raise RuntimeError("the ephemeral roster is not running")
        created = self.system.workspaces.create(f"test-{uuid.uuid4().hex[:12]}")
        if settings:
            self.system.workspaces.change_settings(created["workspace_id"], **settings)
        return created

    def announcement(self) -> dict[str, Any]:
        """The JSON object `roster serve --ephemeral` prints once it listens."""
        line: dict[str, Any] = {
            "url": self.base_url,
            **{key: self.credentials[key] for key in CREDENTIAL_KEYS},
        }
        if self.ca_bundle is not None:
            line["ca_bundle"] = str(self.ca_bundle)
        return line

    # -- life cycle -------------------------------------------------------------------------------

    def listen(self) -> None:
        """The first step of start(): the temporary folder, the certificate, the sockets bound
        and listening, the database and its first workspace; what announcement() tells, without
        the HTTP app. Requests sent now wait in the sockets' queue until start() serves them."""
        try:
            self._listen()
        except BaseException:
            self.stop()  # never leave a folder or a socket behind, whatever went wrong
            raise

    def start(self) -> None:
        """listen() (unless done), then load the app and serve: returns once it answers."""
        try:
            if self.system is None:
                self._listen()
            self._serve()
        except BaseException:
            self.stop()  # never leave a folder or a thread behind, whatever went wrong
            raise

    def _listen(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=self.parent))
        cert = key = None
        if self.tls:
            from roster.tls import self_signed  # cryptography's x509, for TLS only

            cert, key = self_signed(self.folder / "tls", self._url_host.strip("[]"))
            self.ca_bundle = cert
        # Bound before the server starts: the port is known (and ours) before anything listens.
        main = _bind(self.host, self.requested_port)
        self._sockets.append((main, True))
        self.port = main.getsockname()[1]
        if self.tls and self.plain_port:
            plain = _bind(self.host, 0)
            self._sockets.append((plain, False))
            self.http_port = plain.getsockname()[1]
        settings = self._settings = Settings(
            database_url=f"sqlite:///{self.folder / 'roster.db'}",
            data_dir=self.folder / "data",
            host=self.host,
            port=self.port,
            tls_cert=cert,
            tls_key=key,
            tls_self_signed=False,
            public_url=None,
            # A database thrown away at the end needs no fsync per commit.
            sqlite_synchronous="NORMAL",
        )
        self.system = System.open(
            settings.database_url,
            settings.data_dir,
            None,  # generated into the temporary folder, and gone with it
            settings.sqlite_synchronous,
            settings.writer_batch,
            settings.write_timeout,
            new_database=True,  # created at the newest revision: nothing to migrate
        )
        self.credentials = self.new_workspace()

    def _serve(self) -> None:
        import uvicorn

        from roster.app import create_app

        assert self._settings is not None
        cert, key = self._settings.tls_cert, self._settings.tls_key
        app = create_app(self._settings, system=self.system)
        for index, (_, secure) in enumerate(self._sockets):
            config = uvicorn.Config(
                app,
                log_config=None,
                ws="none",  # roster has no websocket route: no websockets library to import
                # One lifespan for the app: the second listener serves the same running app.
                lifespan="on" if index == 0 else "off",
                ssl_certfile=str(cert) if secure and cert else None,
                ssl_keyfile=str(key) if secure and key else None,
                timeout_graceful_shutdown=5,
                backlog=BACKLOG,
            )
            self._servers.append(uvicorn.Server(config))
        self._thread = threading.Thread(
            target=self._run, args=([s for s, _ in self._sockets],), name="roster", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not all(server.started for server in self._servers):
            if self._failure is not None or not self._thread.is_alive():
                raise RuntimeError(f"the ephemeral roster did not start: {self._failure!r}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the ephemeral roster did not start in {START_TIMEOUT:.0f} s")
            time.sleep(0.005)

    def _run(self, sockets: list[socket.socket]) -> None:
        async def serve_all() -> None:
            await asyncio.gather(
                *(
                    server.serve(sockets=[bound])
                    for server, bound in zip(self._servers, sockets, strict=True)
                )
            )

        try:
            asyncio.run(serve_all())
        except BaseException as error:  # reported by start(), or ignored on the way out
            self._failure = error

    def stop(self) -> None:
        """Stop serving, close the database, remove the folder (safe to call twice)."""
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=STOP_TIMEOUT)
            self._thread = None
        self._servers = []
        for bound, _ in self._sockets:
            bound.close()  # closed already if a server served it; never served otherwise
        self._sockets = []
        if self.system is not None:
            self.system.close()
            self.system = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def ssl_context(self) -> ssl.SSLContext:
        """A context that trusts this server's certificate (the system's CAs when plain): made
        once, since making one costs tens of milliseconds and every test makes a client."""
        if self._context is None:
            cafile = None if self.ca_bundle is None else str(self.ca_bundle)
            self._context = ssl.create_default_context(cafile=cafile)
        return self._context


class CannotListen(OSError):
    """The address to listen on is taken or not this machine's."""


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio turns Nagle off (TCP_NODELAY) only on sockets that name it,
    # and with Nagle on, an answer written in two parts waits ~40 ms for the delayed ACK.
    bound = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        bound.bind((host, port))
    except OSError as error:
        bound.close()
        raise CannotListen(
            error.errno, f"cannot listen on {host}:{port}: {error.strerror}"
        ) from error
    bound.set_inheritable(True)
    bound.listen(BACKLOG)  # connections are taken (and wait) from now on, before the app starts
    return bound
