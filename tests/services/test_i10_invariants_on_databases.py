"""The I10 state machine of tests/domain, driven against SQLite and PostgreSQL through the
services layer and the writer (fewer examples: each step is a real transaction)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from roster.domain.identifiers import IdentifierMode
from tests.domain.test_i10_invariants import IdentityMachine
from tests.worlds import World

ON_DATABASES = settings(
    max_examples=8,
    stateful_step_count=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.parametrize("mode", list(IdentifierMode), ids=str)
def test_i10_invariants_hold_on_a_real_database(
    make_world: Callable[[], World], mode: IdentifierMode
) -> None:
    run_state_machine_as_test(lambda: IdentityMachine(make_world, mode), settings=ON_DATABASES)
