"""roster's pytest plugin (registered through the `pytest11` entry point; docs/testing.md).

It does nothing until a test asks for one of its fixtures:

- `roster_server` (session): an ephemeral roster in this process, HTTPS with a generated
  certificate plus a plain-HTTP listener, on a temporary SQLite database. Under pytest-xdist
  every worker process has its own.
- `roster` (function): a `RosterWorkspace`, an empty workspace of the test's own with ready
  clients and readable state.

The server runs in a thread of the test process rather than in a subprocess: a workspace per test
is then a direct call to the service (a few milliseconds, no HTTP door to create workspaces), and
the server dies with the test process. Nothing heavy is imported until a fixture is used, so the
plugin costs nothing to the test suites that do not use it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from roster.testing.ephemeral import EphemeralRoster
    from roster.testing.workspace import RosterWorkspace


@pytest.fixture(scope="session")
def roster_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EphemeralRoster]:
    """One ephemeral roster for the whole session (per xdist worker)."""
    from roster.testing.ephemeral import EphemeralRoster

    with EphemeralRoster(
        tls=True, plain_port=True, parent=tmp_path_factory.getbasetemp()
    ) as server:
        yield server


@pytest.fixture
def roster(roster_server: EphemeralRoster) -> Iterator[RosterWorkspace]:
    """An empty workspace of this test's own on the session's roster."""
    from roster.testing.workspace import RosterWorkspace

    workspace = RosterWorkspace(roster_server, roster_server.new_workspace())
    try:
        yield workspace
    finally:
        workspace.close()
