"""Dispatch on operation types is exhaustive: a new `Operation` that `engine.apply` or
`named_identifiers` does not handle is refused by mypy, so it can neither do nothing nor take no
PostgreSQL locks. The test adds such an operation to a copy of the domain and type-checks it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import roster.domain

DOMAIN = Path(roster.domain.__file__).parent

NEW_OPERATION = '''

@dataclass(frozen=True)
class Forgotten:
    """An operation nobody taught the engine."""

    reference: Ref
'''


def _type_check(tmp_path: Path, extend: bool) -> subprocess.CompletedProcess[str]:
    package = tmp_path / "src" / "roster"
    shutil.copytree(DOMAIN, package / "domain", ignore=shutil.ignore_patterns("__pycache__"))
    (package / "__init__.py").write_text("")
    operations = package / "domain" / "operations.py"
    text = operations.read_text()
    if extend:
        head = "\nOperation = (\n    "
        text = text.replace(head, NEW_OPERATION + head + "Forgotten\n    | ")
        assert "Forgotten\n    | Identify" in text, "the Operation union changed shape"
    operations.write_text(text)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--config-file",
            "/dev/null",
            "-p",
            "roster.domain",
        ],
        cwd=tmp_path / "src",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_mypy_refuses_an_operation_that_engine_and_lock_keys_do_not_handle(
    tmp_path: Path,
) -> None:
    done = _type_check(tmp_path, extend=True)
    assert done.returncode == 1, done.stdout + done.stderr
    refused = [line for line in done.stdout.splitlines() if "assert_never" in line]
    files = {line.split(":", 1)[0].replace("\\", "/") for line in refused}
    assert files == {"roster/domain/engine.py", "roster/domain/operations.py"}, done.stdout


def test_the_unchanged_domain_type_checks(tmp_path: Path) -> None:
    """The control: the copy itself is clean, so the refusal above is the new operation's."""
    done = _type_check(tmp_path, extend=False)
    assert done.returncode == 0, done.stdout + done.stderr
