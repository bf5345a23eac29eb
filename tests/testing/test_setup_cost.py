"""`make bench`'s test set-up figures (bench/scenarios.py setup_cost, docs/benchmarks.md "Test
set-up"): spawn to JSON line and to first answer of `roster serve --ephemeral` with the baselines
beside them (bench/spawn.py), and the plugin's per-test workspace, measured for real (a short
version), judged and shown. Not timed: what the figures are is `make bench`'s to say."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.outcome import SETUP_TARGETS, judge
from bench.report import setup_section
from bench.scenarios import setup_cost

pytestmark = pytest.mark.server


def test_setup_cost_measures_both_figures_and_leaves_nothing_behind(tmp_path: Path) -> None:
    measured = setup_cost(tmp_path, spawns=1, workspaces=5)

    ready, made = measured["ephemeral_ready_s"], measured["workspace_create_ms"]
    assert 0 < ready["median"] <= ready["max"] < 60
    answered = measured["ephemeral_answered_s"]
    assert ready["median"] < answered["median"] <= answered["max"] < 60
    for baseline in ("python_s", "import_fastapi_s"):
        assert 0 < measured[baseline]["median"] <= measured[baseline]["max"] < 60
    assert 0 < made["p50"] <= made["p95"] <= made["max"]
    assert list(tmp_path.glob("roster-ephemeral-*")) == []

    results = {
        "test_setup": measured,
        "ephemeral_ready_s": ready["median"],
        "workspace_create_ms": made["p95"],
    }
    judged = judge(results, SETUP_TARGETS)
    assert judged["workspace_create_ms"]["pass"] is (made["p95"] < 20)
    assert judged["ephemeral_ready_s"]["pass"] is (ready["median"] < 1)
    section = setup_section(results)
    assert f"{made['p95']:.1f}" in section and "Over 1 spawns" in section
    assert f"`python -c pass` {measured['python_s']['median']:.3f} s" in section
    assert f"{answered['median']:.2f} s" in section


def test_a_run_without_the_setup_figures_shows_them_as_not_measured() -> None:
    judged = judge({}, SETUP_TARGETS)

    assert {one["pass"] for one in judged.values()} == {None}
    assert setup_section({}).count("skipped (not measured in this run)") == len(SETUP_TARGETS)
