"""`make bench`'s report: docs/benchmarks.md rendered from a run's results (results-sample.json is
the bench/results.json of a real `python -m bench --quick` run), and the raw-SQL floor running on
its own, as it must in a fresh clone."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import REPO
from bench.checks import STORE_CHECKS
from bench.load import Settings
from bench.outcome import TARGETS, assemble, judge
from bench.page import write_doc
from bench.report import TARGET_NAMES

SAMPLE = Path(__file__).with_name("results-sample.json")


@pytest.fixture
def results() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SAMPLE.read_text())
    return loaded


def rendered(results: dict[str, Any], tmp_path: Path) -> str:
    page = tmp_path / "docs" / "benchmarks.md"
    write_doc(results, page)
    return page.read_text()


def test_the_page_shows_every_target_and_the_figures_of_the_run(
    results: dict[str, Any], tmp_path: Path
) -> None:
    page = rendered(results, tmp_path)

    for target in TARGETS:
        assert target.what in page and target.spec in page
        if target.figure is not None:
            assert TARGET_NAMES[target.key] in page
    assert f"| **{results['ratio_put_customer_to_healthz']:.3f}** |" in page
    assert f"| {results['ratio_put_customer_to_noop']:.3f} |" in page
    assert f"{results['floor']['floor_events_per_s']:,} events/s" in page
    assert f"**{results['ratio_segment_batch_to_floor']:.3f}**" in page
    assert f"**{results['ratio_track_v2_batch_to_floor']:.3f}**" in page
    assert f"**{results['ratio_postgres_batch_to_floor']:.3f}**" in page
    for run in ("healthz", "noop", "put_customer"):
        assert f"| {results[run]['rps']:,.0f} |" in page
    assert f"| {results['track_v2_batch_sqlite']['events_per_s']:,.0f} |" in page
    assert f"| {results['segment_batch_postgres']['events_per_s']:,.0f} |" in page
    for check in STORE_CHECKS:
        assert f"| {check.meaning} |" in page
    assert results["machine"]["commit"] in page
    assert "**Quick run**" in page  # the sample's figures are a check's, and say so
    assert "../shared" not in page


def test_the_page_shows_what_synchronous_full_costs_against_normal_in_the_same_run(
    results: dict[str, Any], tmp_path: Path
) -> None:
    full = results["segment_batch_sqlite"]
    normal = results["segment_batch_sqlite_normal"]
    assert full["synchronous"] == "FULL" and normal["synchronous"] == "NORMAL"

    page = rendered(results, tmp_path)

    section = page.split("### What `synchronous=FULL` costs")[1].split("\n### ")[0]
    assert f"| `FULL` (default) | {full['events_per_s']:,.0f} |" in section
    assert f"| `NORMAL` | {normal['events_per_s']:,.0f} |" in section
    assert f"| **FULL / NORMAL** | **{results['ratio_sqlite_full_to_normal']:.3f}** |" in section


def test_the_results_of_a_run_carry_full_over_normal_and_judge_the_floor_by_the_default(
    results: dict[str, Any],
) -> None:
    full = copy.deepcopy(results["segment_batch_sqlite"])
    normal = copy.deepcopy(results["segment_batch_sqlite_normal"])
    full["events_per_s"], normal["events_per_s"] = 4000.0, 5000.0
    floor = {**results["floor"], "floor_events_per_s": 10000}
    track = {key: results[key] for key in ("healthz", "noop", "put_customer", "checks")}
    track |= {"server_peak_rss_mb": 100.0, "server_cpu_total_s": 1.0}
    load = Settings(8, 2, 2.0, 1.0, 10_000, 100)

    assembled = assemble(
        results["machine"], load, load, True, track, floor, {"FULL": full, "NORMAL": normal},
        "FULL", {"skipped": True, "reason": "--no-postgres was given"},
        results["track_v2_batch_sqlite"],
    )  # fmt: skip

    assert assembled["ratio_sqlite_full_to_normal"] == 0.8
    assert assembled["segment_batch_sqlite"] is full
    assert assembled["segment_batch_sqlite_normal"] is normal
    assert assembled["ratio_segment_batch_to_floor"] == 0.4
    assert assembled["targets"]["segment_batch_ratio"]["pass"] is False  # 0.40 < 0.60
    assert assembled["targets"]["postgres_batch_ratio"]["pass"] is None
    assert assembled["targets_skipped"] == [
        "postgres_batch_ratio",
        "postgres_identity_violations",
        "csv_export_rows_per_s",
        "csv_export_peak_rss_mb",
        "search_p95_ms",
        "people_page_p95_ms",
        "duplicate_pages_p95_ms",
    ]


def test_a_run_without_postgresql_is_shown_as_skipped_with_its_reason(
    results: dict[str, Any], tmp_path: Path
) -> None:
    results["segment_batch_postgres"] = {"skipped": True, "reason": "--no-postgres was given"}
    results["targets"] = judge(results)

    page = rendered(results, tmp_path)

    assert "**Skipped:** --no-postgres was given." in page
    assert "skipped (--no-postgres was given)" in page
    assert "Not measured: " + TARGET_NAMES["postgres_batch_ratio"] in page


def test_a_run_that_stored_less_than_it_acknowledged_is_shown_as_invalid(
    results: dict[str, Any], tmp_path: Path
) -> None:
    problem = "/v1/batch SQLite FULL: not stored as acknowledged"
    results["valid"], results["problems"] = False, [problem]
    results["segment_batch_sqlite"]["store"]["events_match_acknowledged"] = False

    page = rendered(results, tmp_path)

    assert f"**This run is not valid:** {problem}." in page
    events = results["segment_batch_sqlite"]["store"]["events"]
    assert f"| **{events:,}** (acknowledged" in page


def test_the_floor_runs_on_its_own_and_prints_its_rate(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "floor.py"), "--path", str(tmp_path),
         "--events", "2000", "--users", "100"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["events"] == 2000 and found["batch"] == 100
    assert found["floor_events_per_s"] > 0
    assert list(tmp_path.iterdir()) == []  # its database was temporary
