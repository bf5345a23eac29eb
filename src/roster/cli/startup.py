"""What the command line checks before it starts anything (docs/operations.md "When roster
refuses to start"): a mistake in the configuration is one line on stderr that names the problem
and says what to do, with exit code 2, never a traceback. A traceback tells a new user that
roster broke, when it was the configuration that needed a change."""

from __future__ import annotations

import errno
import socket
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from roster.settings import Settings
from roster.storage.database import hide_password

EXIT_CONFIGURATION = 2
_err = Console(stderr=True, highlight=False)


def fail(message: str, hint: str | None = None) -> NoReturn:
    """Print `error: MESSAGE. HINT` as one line (never wrapped to the terminal's width, so that
    scripts and log collectors see one line) and exit with code 2."""
    text = " ".join(message.split())
    if hint:
        text = f"{text if text.endswith(('.', '?', '!')) else text + '.'} {' '.join(hint.split())}"
    _err.print(f"[bold red]error:[/] {escape(text)}", soft_wrap=True)
    raise typer.Exit(EXIT_CONFIGURATION)


def settings(**values: Any) -> Settings:
    """Settings from the options given and ROSTER_* variables; a value pydantic refuses is named
    with both places it can come from."""
    try:
        return Settings(**values)
    except ValidationError as error:
        problems = []
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"])
            given = problem.get("input")
            problems.append(f"{name} {given!r}: {problem['msg']}")
        names = sorted({str(problem["loc"][0]) for problem in error.errors() if problem["loc"]})
        places = ", ".join(f"ROSTER_{name.upper()}" for name in names)
        fail(
            f"invalid setting {'; '.join(problems)}",
            f"Fix {places} or the command-line option of the same name "
            "(docs/configuration.md lists each setting).",
        )


def check_serve(chosen: Settings) -> None:
    """Everything `roster serve` can find wrong before opening the database: the options that
    cannot go together, the data directory, the TLS files and the port."""
    if chosen.workers < 1:
        fail("--workers must be at least 1", "Give --workers 1 or more.")
    if chosen.workers > 1 and chosen.is_sqlite:
        fail(
            "--workers above 1 needs PostgreSQL: SQLite has a single writer",
            "Use --database-url postgresql://USER@HOST/DB, or run one worker.",
        )
    if (chosen.tls_cert is None) != (chosen.tls_key is None):
        fail(
            "--tls-cert and --tls-key go together",
            "Give both (or --tls-self-signed for a generated certificate).",
        )
    if not 1 <= chosen.port <= 65535:
        fail(f"--port {chosen.port} is not a port", "Give one from 1 to 65535.")
    _check_data_dir(chosen)
    if chosen.tls_cert is not None and chosen.tls_key is not None:
        from roster.tls import TlsFilesRefused, check_pair  # cryptography's x509: for TLS only

        try:
            check_pair(chosen.tls_cert, chosen.tls_key)
        except TlsFilesRefused as refused:
            fail(str(refused))
    _check_port(chosen.host, chosen.port)


def _check_data_dir(chosen: Settings) -> None:
    folder = chosen.data_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        fail(
            f"the data directory {folder} is a file, not a folder",
            "Give a folder with ROSTER_DATA_DIR (roster keeps its secret key there).",
        )
    except OSError as error:
        fail(
            f"cannot create the data directory {folder}: {error.strerror}",
            "Create it for the user roster runs as, or give another folder with ROSTER_DATA_DIR.",
        )


def _check_port(host: str, port: int) -> None:
    """Bind the address once before the server does, to say why it cannot listen in one line
    (the server's own message is a log record after the database is already open)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        fail(
            f"cannot listen on --host {host}: no such address",
            "Give an address of this machine: 127.0.0.1, or 0.0.0.0 for every interface.",
        )
    family, kind, proto, _, address = found[0]
    with socket.socket(family, kind, proto) as probe:
        # As the server binds: a port left in TIME_WAIT by a stopped server is free to reuse.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                fail(
                    f"port {port} on {host} is taken (address already in use)",
                    "Stop what listens there, or choose another port with --port.",
                )
            if error.errno == errno.EACCES:
                fail(
                    f"not allowed to listen on port {port} (ports below 1024 need privileges)",
                    "Choose a port from 1024 up with --port, or put a proxy in front.",
                )
            fail(
                f"cannot listen on {host} port {port}: {error.strerror}",
                "Give an address of this machine with --host: 127.0.0.1, or 0.0.0.0.",
            )


def open_failure(database_url: str, error: Exception) -> NoReturn:
    """Why the database could not be opened, for an error other than roster's own (those carry
    their message): the driver's first words, without the password in the URL."""
    shown = hide_password(database_url)
    if isinstance(error, FileExistsError):  # a file where a folder was to be made
        fail(
            f"{error.filename} is a file, not a folder",
            "Give a path under a folder (--database-url, ROSTER_DATA_DIR).",
        )
    if isinstance(error, OSError) and not hasattr(error, "orig"):
        where = f" {error.filename}" if error.filename else ""
        fail(
            f"cannot create{where}: {error.strerror or error}",
            "Let the user roster runs as write there, or give another path "
            "(--database-url, ROSTER_DATA_DIR).",
        )
    cause: BaseException = getattr(error, "orig", None) or error
    reason = " ".join(str(cause).split()) or type(cause).__name__
    if database_url.startswith("sqlite"):
        fail(
            f"cannot open the SQLite database {shown}: {reason}",
            "Check that its folder exists and roster may write there, or give another path "
            "with --database-url.",
        )
    fail(
        f"cannot reach the database {shown}: {reason}",
        "Check --database-url / ROSTER_DATABASE_URL, and that PostgreSQL is running and "
        "accepts connections from this host.",
    )
