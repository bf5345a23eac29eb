"""Commands about one workspace, run as a user runs them (`roster ...` in a subprocess) against
the test's database and workspace, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from roster.domain.operations import Operation
from roster.services.ingestion import Message
from roster.services.system import System
from roster.storage.vault import KEY_FILE
from tests.server import run_roster

Roster = Callable[..., subprocess.CompletedProcess[str]]
Apply = Callable[..., None]


@pytest.fixture
def roster_cli(database_url: str, workspace: dict[str, Any], tmp_path: Path) -> Roster:
    """`roster ARGS --database-url URL --workspace NAME` (unless ARGS name a workspace) on the
    `system` fixture's database. The data directory holds the fixture's secret key, so the
    command reads the workspace's secrets (its suppression key) as the fixture's system does."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / KEY_FILE).write_text("test-secret\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        chosen = () if "--workspace" in args else ("--workspace", str(workspace["name"]))
        return run_roster(*args, "--database-url", database_url, *chosen, data_dir=data_dir)

    return run


@pytest.fixture
def apply(system: System, workspace: dict[str, Any]) -> Apply:
    """Apply operations to the test's workspace as the Track API v1 would."""

    def run(*ops: Operation) -> None:
        results = system.ingestion.apply_sync(
            int(workspace["workspace_id"]), [Message(op) for op in ops], "track_v1"
        )
        assert all(not isinstance(result, Exception) for result in results), results

    return run
