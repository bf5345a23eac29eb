"""A real `roster serve` in a subprocess: the tests' names for what lives in
`roster.testing.server` (shared with `make bench`, which starts the same server)."""

from roster.testing.server import (
    ROSTER,
    START_TIMEOUT,
    STOP_TIMEOUT,
    AppApi,
    RunningRoster,
    create_workspace,
    free_port,
    path_ref,
    roster_environment,
    run_roster,
)

__all__ = [
    "ROSTER",
    "START_TIMEOUT",
    "STOP_TIMEOUT",
    "AppApi",
    "RunningRoster",
    "create_workspace",
    "free_port",
    "path_ref",
    "roster_environment",
    "run_roster",
]
