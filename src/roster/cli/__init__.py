"""The command line (docs/api.md §6: a contract that outside tests drive)."""

from __future__ import annotations

import importlib
import json
import os
import secrets
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from roster import logs
from roster.cli import startup
from roster.domain.errors import RosterError
from roster.domain.identifiers import IdentifierMode
from roster.settings import Settings

if TYPE_CHECKING:
    from roster.services.system import System

# The commands with modules of their own, by name: the module and its Typer command group or
# command function. Each module is imported when its command is run (or `--help` lists it), so
# that a command does not load, and wait for, what the others import: `roster serve
# --ephemeral` prints its line before anything loads the HTTP app (docs/testing.md). A new
# command module is added here.
COMMANDS: dict[str, tuple[str, str]] = {
    "delete": ("roster.cli.delete", "delete"),
    "duplicates": ("roster.cli.duplicates", "duplicates"),
    "merge": ("roster.cli.people", "merge"),
    "unmerge": ("roster.cli.people", "unmerge"),
    "explain": ("roster.cli.explain", "explain"),
    "backup": ("roster.cli.backup", "backup"),
    "restore": ("roster.cli.backup", "restore"),
    "suppressions": ("roster.cli.suppressions", "app"),
    "conflicts": ("roster.cli.conflicts", "app"),
    "import": ("roster.cli.imports", "app"),
    "export": ("roster.cli.export", "app"),
    "users": ("roster.cli.users", "app"),
    "credentials": ("roster.cli.credentials", "app"),
}
Command = Any  # a Click command, as Typer makes them


def _command(name: str) -> Command:
    module, attribute = COMMANDS[name]
    made = getattr(importlib.import_module(module), attribute)
    command: Command
    if isinstance(made, typer.Typer):
        command = typer.main.get_group(made)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(made)
        command = typer.main.get_command(single)
    command.name = name
    return command


class _LazyCommands(MutableMapping[str, Command]):
    """The commands of the main group: those of COMMANDS made on first use."""

    def __init__(self, made: Mapping[str, Command]) -> None:
        self._made = dict(made)

    def __getitem__(self, name: str) -> Command:
        if name not in self._made:
            if name not in COMMANDS:
                raise KeyError(name)
            self._made[name] = _command(name)
        return self._made[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._made[name] = command

    def __delitem__(self, name: str) -> None:
        del self._made[name]

    def __iter__(self) -> Iterator[str]:
        yield from self._made
        yield from (name for name in COMMANDS if name not in self._made)

    def __len__(self) -> int:
        return len(self._made.keys() | COMMANDS.keys())


class _Commands(TyperGroup):
    """roster's main group: Typer's, with the commands of COMMANDS imported when named."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands(self.commands)


app = typer.Typer(
    help="roster: people & events that speak Customer.io and Segment.",
    no_args_is_help=True,
    cls=_Commands,
)
workspaces_app = typer.Typer(help="Create and list workspaces.", no_args_is_help=True)
app.add_typer(workspaces_app, name="workspaces")

out = Console()
err = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="ROSTER_DATABASE_URL",
        help="sqlite:///PATH or postgresql://USER@HOST/DB (default sqlite:///./roster.db).",
    ),
]


def _settings(database_url: str | None, **overrides: Any) -> Settings:
    values = {key: value for key, value in overrides.items() if value is not None}
    if database_url:
        values["database_url"] = database_url
    return startup.settings(**values)


def _fail(message: str, hint: str | None = None) -> None:
    startup.fail(message, hint)


def _open(settings: Settings) -> System:
    from roster.services.system import System

    try:
        return System.open(
            settings.database_url,
            settings.data_dir,
            settings.secret_key,
            settings.sqlite_synchronous,
        )
    except RosterError as error:
        _fail(error.message)
        raise
    except Exception as error:
        startup.open_failure(settings.database_url, error)


def _ensure_demo_login(system: System, settings: Settings) -> None:
    """`make run`: a login for the web UI when there is none, its password kept for the user
    beside the demo workspace's credentials."""
    path = settings.data_dir / "demo-login.json"
    if path.exists():
        out.print(f"Demo login for the web UI: {path}")
        return
    if system.logins.users():
        return
    login = {"email": "demo@example.com", "password": secrets.token_urlsafe(12)}
    system.logins.create_user(login["email"], login["password"])
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(login, handle, indent=2)
    out.print(
        f"[bold]Created a login for the web UI:[/] {login['email']} with password "
        f"{login['password']} (kept in {path})",
        soft_wrap=True,
    )


def _ensure_demo(system: System, settings: Settings) -> dict[str, Any]:
    """`make run`: a demo workspace on first start, its credentials kept for the user."""
    path = settings.data_dir / "demo.json"
    names = {w["name"] for w in system.workspaces.list()}
    if path.exists():
        kept: dict[str, Any] = json.loads(path.read_text())
        if kept.get("name") in names:
            out.print(f"Demo workspace credentials: {path}")
            return kept
    name = "demo"
    while name in names:  # a demo workspace whose keys were lost: start another
        name = f"demo-{len(names)}"
        names.add(name)
    created = system.workspaces.create(name)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(created, handle, indent=2)
    out.print(
        f"[bold]Created the demo workspace.[/] Its credentials (shown this once, kept in {path}):"
    )
    out.print_json(data=created)
    return created


@app.command()
def serve(
    database_url: DatabaseUrl = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Server processes (more than 1 needs PostgreSQL).")
    ] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate: serve HTTPS.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key for --tls-cert.")] = None,
    tls_self_signed: Annotated[
        bool, typer.Option("--tls-self-signed", help="HTTPS with a generated certificate.")
    ] = False,
    demo: Annotated[
        bool, typer.Option("--demo", help="Create a 'demo' workspace on first start.")
    ] = False,
    ephemeral: Annotated[
        bool,
        typer.Option(
            "--ephemeral",
            help="A throw-away server for tests: temporary database, free port, one workspace, "
            "one JSON line on stdout; gone on SIGTERM or end of stdin (docs/testing.md).",
        ),
    ] = False,
) -> None:
    """Apply migrations and serve the APIs; stops cleanly on Ctrl-C or SIGTERM."""
    if ephemeral:
        from roster.cli.ephemeral import run as run_ephemeral

        run_ephemeral(host or "127.0.0.1", port or 0, tls_self_signed, _settings(None).log_level)
        return
    import uvicorn

    settings = _settings(
        database_url,
        host=host,
        port=port,
        workers=workers,
        tls_cert=tls_cert,
        tls_key=tls_key,
        tls_self_signed=tls_self_signed or None,
    )
    startup.check_serve(settings)
    logs.configure(settings.log_level, settings.log_format)
    system = _open(settings)
    try:
        if demo:
            _ensure_demo(system, settings)
            _ensure_demo_login(system, settings)
        has_logins = bool(system.logins.users())
    finally:
        system.close()

    cert, key = settings.tls_cert, settings.tls_key
    if settings.tls_self_signed and cert is None:
        from roster.tls import self_signed

        cert, key = self_signed(settings.data_dir / "tls", settings.host)
        out.print(
            f"Self-signed certificate: {cert} (trust it with REQUESTS_CA_BUNDLE={cert})",
            soft_wrap=True,
        )
    # Worker processes read their settings from the environment.
    os.environ["ROSTER_DATABASE_URL"] = settings.database_url
    os.environ["ROSTER_DATA_DIR"] = str(settings.data_dir)
    os.environ["ROSTER_PUBLIC_URL"] = settings.base_url()
    os.environ["ROSTER_PORT"] = str(settings.port)
    os.environ["ROSTER_HOST"] = settings.host
    if cert is not None:
        os.environ["ROSTER_TLS_CERT"] = str(cert)
        os.environ["ROSTER_TLS_KEY"] = str(key)
    out.print(
        f"[bold green]roster is serving[/] at {settings.base_url()}  "
        f"(API docs: {settings.base_url()}/docs, health: {settings.base_url()}/healthz)",
        soft_wrap=True,
    )
    out.print(f"People page: {settings.base_url()}/people", soft_wrap=True)
    if not has_logins:
        out.print(
            "  No login yet: make one with "
            "[bold]roster users create you@example.com --password-stdin[/]",
            soft_wrap=True,
        )
    sys.stdout.flush()
    uvicorn.run(
        "roster.app:create_app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        ssl_certfile=str(cert) if cert else None,
        ssl_keyfile=str(key) if key else None,
        log_config=None,
        timeout_graceful_shutdown=30,
    )


@app.command()
def demo(
    database_url: DatabaseUrl = None,
    url: Annotated[
        str | None,
        typer.Option(help="Send to this running roster instead of a temporary one."),
    ] = None,
) -> None:
    """Load sample people through the real HTTP APIs: leads that sign up, anonymous visitors
    who log in, an unsubscribe, a duplicate pair, a company group."""
    import threading

    import uvicorn
    from rich.progress import Progress

    from roster import demo as sample
    from roster.app import create_app

    settings = _settings(database_url)
    logs.configure("warning", "text")
    system = _open(settings)
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    try:
        credentials = _ensure_demo(system, settings)
        base_url = url
        if base_url is None:  # a temporary server on a free port, on the same database
            server = uvicorn.Server(
                uvicorn.Config(
                    create_app(settings, system=system),
                    host="127.0.0.1",
                    port=0,
                    log_config=None,
                    lifespan="on",
                )
            )
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            while not server.started:
                if not thread.is_alive():
                    _fail("the temporary server did not start")
                threading.Event().wait(0.05)
            port = server.servers[0].sockets[0].getsockname()[1]
            base_url = f"http://127.0.0.1:{port}"
        calls = sample.plan()
        with Progress(console=err) as progress:
            task = progress.add_task("Loading sample people", total=len(calls))
            sent = sample.load(base_url, credentials, step=lambda: progress.advance(task))
    except RuntimeError as error:
        _fail(str(error), "Is the roster at --url running, and is it this database?")
        return
    finally:
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(timeout=30)
        system.close()
    public = settings.base_url()
    app_key = credentials["app_api_key"]
    out.print(f"[bold green]Loaded[/] {sent} calls into workspace '{credentials['name']}'.")
    out.print("Start roster with [bold]roster serve[/] (or [bold]make run[/]) and look:")
    out.print(
        f"  curl -H 'Authorization: Bearer {app_key}' {public}/v1/customers/user-1/attributes"
    )
    out.print(
        f"  curl -H 'Authorization: Bearer {app_key}' {public}/v1/customers/user-10/activities"
    )
    out.print(f"  curl -H 'Authorization: Bearer {app_key}' {public}/v1/objects/1/acme")
    out.print(f"  API reference: {public}/docs")


@workspaces_app.command("create")
def workspaces_create(
    name: Annotated[str, typer.Argument(help="The workspace's name.")],
    database_url: DatabaseUrl = None,
    identifiers: Annotated[
        IdentifierMode,
        typer.Option("--identifiers", help="email_or_id (default) or id_only."),
    ] = IdentifierMode.EMAIL_OR_ID,
    allow_email_update_by_id: Annotated[
        bool,
        typer.Option(
            "--allow-email-update-by-id", help="Let an id reference change a person's email."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create a workspace and print its credentials (shown only this once)."""
    system = _open(_settings(database_url))
    try:
        created = system.workspaces.create(name, identifiers, allow_email_update_by_id)
    except RosterError as error:
        _fail(error.message)
        return
    finally:
        system.close()
    if as_json:
        sys.stdout.write(json.dumps(created) + "\n")
        return
    from rich.table import Table

    table = Table(title=f"Workspace '{name}' (keep these: they are not shown again)")
    table.add_column("credential")
    table.add_column("value")
    for key, value in created.items():
        table.add_row(key, str(value))
    out.print(table)


@workspaces_app.command("list")
def workspaces_list(
    database_url: DatabaseUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List workspaces and their settings (never their keys)."""
    system = _open(_settings(database_url))
    try:
        rows = system.workspaces.list()
    finally:
        system.close()
    if as_json:
        sys.stdout.write(json.dumps(rows) + "\n")
        return
    from rich.table import Table

    table = Table(title="Workspaces")
    for column in ("workspace_id", "name", "identifier_mode", "site_id"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            *(str(row[column]) for column in ("workspace_id", "name", "identifier_mode", "site_id"))
        )
    out.print(table)


def main() -> None:
    app()
