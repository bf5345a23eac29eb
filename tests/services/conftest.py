"""tests/domain's identity-rule tests, re-run here on SQLite and PostgreSQL: `make_world` makes
SqlWorlds (a fresh workspace each) instead of in-memory ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from roster.services.system import System
from tests.domain.conftest import any_mode, world  # noqa: F401  (the same fixtures, re-used)
from tests.services.sql_world import SqlWorld
from tests.worlds import World


@pytest.fixture
def make_world(system: System) -> Callable[[], World]:
    return lambda: SqlWorld(system)
