"""The README's "Commands" section names commands and options that exist: each `roster …` line
(continued on the indented lines under it) is asked for its `--help`, which must succeed and
name every option the line shows."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from typer.testing import CliRunner

from roster.cli import app
from tests.cli.test_readme import _section, shell_blocks

README = Path(__file__).parents[2] / "README.md"
WORD = re.compile(r"^[a-z][a-z|-]*$")


def readme_commands() -> list[str]:
    lines: list[str] = []
    for block in shell_blocks(_section(README.read_text(), "## Commands")):
        for line in block.splitlines():
            if line.startswith(" ") and lines:
                lines[-1] += " " + line.strip()
            elif line.startswith("roster "):
                lines.append(line)
    commands = []
    for line in lines:
        line = line.split("  #")[0]
        commands += [part.strip() for part in line.split(" / ")]
    return commands


def test_every_command_and_option_the_readme_shows_exists():
    runner = CliRunner()
    commands = readme_commands()
    assert len(commands) >= 12
    for command in commands:
        tokens = command.split()[1:]
        words = list(itertools.takewhile(WORD.match, tokens))
        options = set(re.findall(r"--[a-z][a-z-]*", command))
        shown = ""
        for chosen in itertools.product(*(word.split("|") for word in words)):
            done = runner.invoke(app, [*chosen, "--help"], env={"COLUMNS": "240"})
            assert done.exit_code == 0, (command, chosen, done.output)
            shown += done.output
        missing = {option for option in options if option not in shown}
        assert missing == set(), f"{command}: no {sorted(missing)} in its --help"
