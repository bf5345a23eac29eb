"""customerio-node (from npm, tests/node/package-lock.json) against
`roster serve --ephemeral --tls-self-signed`, started from Node the way a Jest or Vitest global
set-up starts it (tests/node/roster.mjs, docs/testing.md): an identify sent and read back, and
nothing left once roster's stdin closes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.server import ROSTER, roster_environment

pytestmark = pytest.mark.server

NODE_PROJECT = Path(__file__).parent.parent / "node"


@pytest.fixture(scope="module")
def node_project() -> Path:
    """tests/node with its locked npm packages installed (into its git-ignored node_modules)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the customerio-node test (Node 20 or later)")
    installed = NODE_PROJECT / "node_modules" / ".package-lock.json"
    lock = NODE_PROJECT / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=NODE_PROJECT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    return NODE_PROJECT


def test_customerio_node_identifies_a_person_through_an_ephemeral_roster_it_started(
    node_project: Path, tmp_path: Path
) -> None:
    env = roster_environment(tmp_path / "unused-data-dir")
    env["ROSTER_BIN"] = str(ROSTER)
    env["TMPDIR"] = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()

    done = subprocess.run(
        ["node", "--test"],
        cwd=node_project,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert done.returncode == 0, f"node --test failed:\n{done.stdout}\n{done.stderr}"
    assert "# pass 2" in done.stdout
    assert list((tmp_path / "tmp").iterdir()) == []  # both rosters removed their files
