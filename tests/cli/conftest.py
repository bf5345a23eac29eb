"""Commands about one workspace, run as a user runs them against the test's database and
workspace, on SQLite and PostgreSQL.

Starting `roster` imports all of it (one to two seconds a command), so most tests run the command
in this process through Click's test runner, in the environment and with the streams a fresh
process would have (`roster_cli`); a few per command group start the installed `roster` entry
point for real (`roster_command`), with the same arguments and the same answer."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from roster.cli import app
from roster.domain.operations import Operation
from roster.services.ingestion import Message
from roster.services.system import System
from roster.storage.vault import KEY_FILE
from tests.server import ROSTER, roster_environment, run_roster

Roster = Callable[..., subprocess.CompletedProcess[str]]
Apply = Callable[..., None]


def _data_dir(tmp_path: Path) -> Path:
    """The data directory holds the `system` fixture's secret key, so the command reads the
    workspace's secrets (its suppression key) as the fixture's system does."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    (data_dir / KEY_FILE).write_text("test-secret\n")
    return data_dir


def _arguments(args: tuple[str, ...], database_url: str, workspace: dict[str, Any]) -> list[str]:
    chosen = () if "--workspace" in args else ("--workspace", str(workspace["name"]))
    return [*args, "--database-url", database_url, *chosen]


@pytest.fixture
def roster_command(database_url: str, workspace: dict[str, Any], tmp_path: Path) -> Roster:
    """`roster ARGS --database-url URL --workspace NAME` (unless ARGS name a workspace), the
    installed entry point in a subprocess."""
    data_dir = _data_dir(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_roster(*_arguments(args, database_url, workspace), data_dir=data_dir)

    return run


@pytest.fixture
def roster_cli(database_url: str, workspace: dict[str, Any], tmp_path: Path) -> Roster:
    """The same command as `roster_command`, run in this process: what it writes to stdout and
    stderr, and its exit code, as the subprocess would give them."""
    data_dir = _data_dir(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_in_process(_arguments(args, database_url, workspace), data_dir)

    return run


def run_in_process(argv: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    """`roster ARGV` through Click's test runner: the ROSTER_* variables a subprocess would
    have and no others, fresh Rich consoles, and the logging set-up put back afterwards."""
    environment = roster_environment(data_dir)
    # The runner only adds and overrides variables; None removes the developer's ROSTER_* ones.
    env: dict[str, str | None] = {
        **{key: None for key in os.environ if key.startswith("ROSTER_")},
        **{key: value for key, value in environment.items() if key.startswith("ROSTER_")},
    }
    with _fresh_consoles(), _logging_put_back():
        result = CliRunner().invoke(app, argv, env=env, prog_name=ROSTER.name)
    stderr = result.stderr
    code = result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # What the process would have printed on its way out.
        stderr += "".join(traceback.format_exception(result.exception))
        code = 1
    return subprocess.CompletedProcess([str(ROSTER), *argv], code, result.stdout, stderr)


@contextlib.contextmanager
def _fresh_consoles() -> Iterator[None]:
    """roster.cli's module-level Rich consoles decide on colour, width and interactivity when
    they are made; a process makes them with its streams piped. So each run gets consoles made
    the same way, now (COLUMNS as the test set it), and the old ones come back afterwards."""
    replaced: list[tuple[object, str, Console]] = []
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        made: dict[int, Console] = {}
        for name, module in list(sys.modules.items()):
            if name != "roster.cli" and not name.startswith("roster.cli."):
                continue
            for attribute, value in list(vars(module).items()):
                if isinstance(value, Console):
                    fresh = made.setdefault(
                        id(value), Console(stderr=value.stderr, highlight=value._highlight)
                    )
                    replaced.append((module, attribute, value))
                    setattr(module, attribute, fresh)
    try:
        yield
    finally:
        for module, attribute, value in replaced:
            setattr(module, attribute, value)


@contextlib.contextmanager
def _logging_put_back() -> Iterator[None]:
    """A command may set up logging for itself (its handlers write to the runner's streams);
    pytest's own handlers and levels come back after it."""
    loggers = [logging.getLogger(), *map(logging.getLogger, list(logging.root.manager.loggerDict))]
    kept = [(logger, logger.handlers[:], logger.level, logger.propagate) for logger in loggers]
    try:
        yield
    finally:
        for logger, handlers, level, propagate in kept:
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate


@pytest.fixture
def apply(system: System, workspace: dict[str, Any]) -> Apply:
    """Apply operations to the test's workspace as the Track API v1 would."""

    def run(*ops: Operation) -> None:
        results = system.ingestion.apply_sync(
            int(workspace["workspace_id"]), [Message(op) for op in ops], "track_v1"
        )
        assert all(not isinstance(result, Exception) for result in results), results

    return run
