"""The command line imports a command's module only when that command is run or `--help` lists
it (roster.cli COMMANDS): `roster serve` does not wait for what `roster export` imports, and
every command is still there, with its help."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from roster.cli import COMMANDS, app


def test_starting_the_command_line_loads_no_command_module_and_no_http_app() -> None:
    modules = sorted({module for module, _ in COMMANDS.values()})
    heavy = [*modules, "roster.app", "fastapi", "uvicorn", "alembic", "httpx"]
    code = (
        "import json, sys, roster.cli\n"
        f"print(json.dumps([name for name in {heavy!r} if name in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert json.loads(done.stdout) == []


def test_every_command_is_listed_and_answers_its_help() -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})

    assert listed.exit_code == 0, listed.output
    for name in ["serve", "demo", "workspaces", *COMMANDS]:
        assert f" {name} " in listed.output, name
    for name in COMMANDS:
        shown = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"}, prog_name="roster")
        assert shown.exit_code == 0, (name, shown.output)
        assert f"Usage: roster {name} " in shown.output, (name, shown.output)


def test_a_mistyped_command_is_refused_with_the_names_it_is_close_to() -> None:
    done = CliRunner().invoke(app, ["suppresions"], env={"COLUMNS": "200"})

    assert done.exit_code == 2
    assert "'suppressions'" in done.output
