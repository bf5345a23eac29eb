"""The README's "Send it something" commands, run as a new user would run them after `make run`,
print what the README says they print.

`make run` is `roster demo` then `roster serve --demo` on SQLite in the checkout, with the demo
credentials in `.roster/demo.json`; this test does the same in a temporary folder and runs the
README's shell blocks with bash from there, after putting the test server's address in place of
`http://127.0.0.1:8000`. In those blocks a `# → ` line is the expected output of the commands
above it (up to the previous `# → ` line); commands with no `# → ` line after them must print
nothing. JSON is compared as JSON, and `…` stands for any value."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server import RunningRoster, roster_environment, run_roster

pytestmark = pytest.mark.server

README = Path(__file__).parents[2] / "README.md"
SECTION = "## Send it something"
README_URL = "http://127.0.0.1:8000"
CREDENTIALS = ".roster/demo.json"
OUTPUT = "# → "
ANY = "…"
MARK = "<<<readme-step-{}>>>"


class MakeRun(RunningRoster):
    """`roster serve --demo`, as `make run` starts it."""

    def _command(self) -> list[str]:
        return [*super()._command(), "--demo"]


@dataclass(frozen=True)
class Step:
    commands: str
    expected: list[str]


def _section(markdown: str, heading: str) -> str:
    start = markdown.index(heading)
    following = markdown.find("\n## ", start + len(heading))
    return markdown[start : following if following != -1 else len(markdown)]


def shell_blocks(markdown: str) -> list[str]:
    """The ```sh fenced blocks of a Markdown text, in order."""
    return re.findall(r"^```sh\n(.*?)^```$", markdown, flags=re.MULTILINE | re.DOTALL)


def steps(block: str) -> list[Step]:
    """A block cut after each run of `# → ` lines: the commands, and what they print."""
    found: list[Step] = []
    commands: list[str] = []
    expected: list[str] = []
    for line in block.splitlines():
        if line.startswith(OUTPUT):
            expected.append(line.removeprefix(OUTPUT))
            continue
        if expected:
            found.append(Step("\n".join(commands), expected))
            commands, expected = [], []
        commands.append(line)
    if any(line.strip() for line in commands) or expected:
        found.append(Step("\n".join(commands), expected))
    return found


def _json_values(text: str) -> list[Any] | None:
    """Every JSON value in a text, one after another; None if it is not only JSON."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return values
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            return None
        values.append(value)


def _matches(expected: Any, actual: Any) -> bool:
    if expected == ANY:
        return True
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(_matches(expected[key], actual[key]) for key in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(_matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return type(expected) is type(actual) and expected == actual


def printed_as_said(expected: list[str], printed: str) -> bool:
    """Whether a command's output is what its `# → ` lines say (JSON compared as JSON)."""
    said = "\n".join(expected)
    wanted, got = _json_values(said), _json_values(printed)
    if wanted is not None and got is not None and said.strip():
        return _matches(wanted, got)
    pattern = ".*".join(re.escape(part) for part in said.strip().split(ANY))
    return re.fullmatch(pattern, printed.strip(), flags=re.DOTALL) is not None


# -- the reader itself, on texts whose answer is known ---------------------------------------------


def test_the_reader_pairs_commands_with_the_output_lines_after_them():
    block = "A=1\n# first\necho {}\n# → {}\necho 1\necho 2\n# → 1\n# → 2\ntrue\n"
    assert steps(block) == [
        Step("A=1\n# first\necho {}", ["{}"]),
        Step("echo 1\necho 2", ["1", "2"]),
        Step("true", []),
    ]


def test_output_matching_compares_json_as_json_and_reads_the_ellipsis_as_any_value():
    assert printed_as_said(['{"a": 1, "b": "…"}'], '{"b":"x7","a":1}')
    assert printed_as_said(['["x", null]', "[1]"], '["x",null]\n[1]\n')
    assert not printed_as_said(['{"a": 1}'], '{"a":1,"b":2}')
    assert not printed_as_said(['{"a": 1}'], '{"a":true}')
    assert not printed_as_said(["[1]", "[2]"], "[2]\n[1]")
    assert printed_as_said(["serving at …"], "serving at http://x")
    assert not printed_as_said([], "something")
    assert printed_as_said([], "\n")


# -- the README against a fresh `make run` ---------------------------------------------------------


def assert_demo_login_works(base_url: str, kept: Path) -> None:
    """The login `serve --demo` kept opens the People page (docs/web.md)."""
    login = json.loads(kept.read_text())
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        form = browser.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None, form
        answer = browser.post(
            "/login",
            data={"email": login["email"], "password": login["password"], "csrf_token": token[1]},
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/people"
        assert "<h1>People</h1>" in browser.get("/people").text


def test_the_readme_examples_print_what_the_readme_says_against_the_demo_workspace(tmp_path):
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the README's examples need {', '.join(missing)}, not installed here")
    section = _section(README.read_text(), SECTION)
    blocks = shell_blocks(section)
    assert blocks, f"no ```sh block under {SECTION!r} in README.md"
    all_steps = [step for block in blocks for step in steps(block)]
    assert sum(len(step.expected) for step in all_steps) >= 10, "the README shows its outputs"
    assert README_URL in section and CREDENTIALS in section

    # make run: `roster demo`, then `roster serve --demo`, both in the checkout's folder.
    data_dir = tmp_path / ".roster"
    database_url = f"sqlite:///{tmp_path / 'roster.db'}"
    loaded = run_roster("demo", "--database-url", database_url, data_dir=data_dir, timeout=120)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    credentials = json.loads((tmp_path / CREDENTIALS).read_text())
    with MakeRun(database_url, data_dir, credentials=credentials) as roster:
        # serve --demo found the workspace `roster demo` made and its kept credentials.
        assert "Demo workspace credentials:" in roster.output()
        # ... made a login for the web UI, and printed where the People page is.
        assert f"People page: {roster.base_url}/people" in roster.output()
        assert_demo_login_works(roster.base_url, data_dir / "demo-login.json")
        script = ["set -euo pipefail"]
        for number, step in enumerate(all_steps):
            script.append(step.commands.replace(README_URL, roster.base_url))
            script.append(f"printf '\\n%s\\n' '{MARK.format(number)}'")
        ran = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            cwd=tmp_path,
            env=roster_environment(data_dir),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert ran.returncode == 0, f"the README's commands failed:\n{ran.stdout}\n{ran.stderr}"
    printed = re.split(r"\n<<<readme-step-\d+>>>\n", ran.stdout)
    assert len(printed) == len(all_steps) + 1 and not printed[-1].strip(), ran.stdout
    for step, output in zip(all_steps, printed, strict=False):
        assert printed_as_said(step.expected, output), (
            f"README.md says\n{step.commands}\nprints\n{chr(10).join(step.expected) or '(nothing)'}"
            f"\nbut it printed\n{output}"
        )
