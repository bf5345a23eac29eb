"""The product's targets as `make bench` judges them (bench/outcome.py TARGETS, the Targets of the
product spec) and as docs/benchmarks.md shows them: ratios of figures measured in the same run,
the planned features listed as not measured yet, and an older bench/results.json, written before
a figure existed, still rendered with that figure "not measured in this run"."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bench.load import Settings
from bench.outcome import NOT_MEASURED, PLANNED, TARGET_BY_KEY, TARGETS, assemble, judge
from bench.page import render

SAMPLE = Path(__file__).with_name("results-sample.json")
# The figures a results.json gained with the healthz baseline and the Track v2 batch.
NEWER_KEYS = (
    "healthz",
    "track_v2_batch_sqlite",
    "ratio_put_customer_to_healthz",
    "ratio_noop_to_healthz",
    "ratio_track_v2_batch_to_floor",
    "ratio_postgres_batch_to_floor",
    "postgres_identity_violations",
    "put_customer_p50_ms",
    "put_customer_p99_over_p50",
    "server_peak_rss_mb_max",
)


@pytest.fixture
def results() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SAMPLE.read_text())
    return loaded


def assembled(results: dict[str, Any], **figures: float) -> dict[str, Any]:
    """assemble() on the sample's runs, with some figures set: healthz_rps, put_rps, put_p50,
    put_p99, floor, segment, v2, postgres (events/s), postgres_rss."""
    sample = copy.deepcopy(results)
    healthz, put = sample["healthz"], sample["put_customer"]
    healthz["rps"] = figures.get("healthz_rps", healthz["rps"])
    put["rps"] = figures.get("put_rps", put["rps"])
    put["latency_ms"]["p50"] = figures.get("put_p50", put["latency_ms"]["p50"])
    put["latency_ms"]["p99"] = figures.get("put_p99", put["latency_ms"]["p99"])
    floor = {**sample["floor"], "floor_events_per_s": figures.get("floor", 10_000)}
    default, v2 = sample["segment_batch_sqlite"], sample["track_v2_batch_sqlite"]
    postgres = sample["segment_batch_postgres"]
    default["events_per_s"] = figures.get("segment", default["events_per_s"])
    v2["events_per_s"] = figures.get("v2", v2["events_per_s"])
    postgres["events_per_s"] = figures.get("postgres", postgres["events_per_s"])
    postgres["instances"][1]["server_peak_rss_mb"] = figures.get("postgres_rss", 100.0)
    track = {"healthz": healthz, "noop": sample["noop"], "put_customer": put}
    track |= {"checks": sample["checks"], "server_peak_rss_mb": 100.0, "server_cpu_total_s": 1.0}
    load = Settings(8, 2, 2.0, 1.0, 10_000, 100)
    return assemble(
        sample["machine"], load, load, True, track, floor,
        {"FULL": default, "NORMAL": sample["segment_batch_sqlite_normal"]}, "FULL", postgres, v2,
    )  # fmt: skip


def test_the_customer_put_is_judged_against_a_bare_healthz_on_the_same_server_not_the_no_op(
    results: dict[str, Any],
) -> None:
    at_half = assembled(results, healthz_rps=2000.0, put_rps=1000.0)
    below = assembled(results, healthz_rps=2000.0, put_rps=998.0)

    assert at_half["ratio_put_customer_to_healthz"] == 0.5
    assert at_half["targets"]["put_customer_ratio"]["pass"] is True
    assert below["targets"]["put_customer_ratio"]["pass"] is False
    # The no-op figure stays beside it: what authentication and parsing cost.
    assert below["ratio_noop_to_healthz"] == round(results["noop"]["rps"] / 2000.0, 3)


def test_the_customer_put_p99_may_be_twice_its_p50_and_no_more(results: dict[str, Any]) -> None:
    twice = assembled(results, put_p50=20.0, put_p99=40.0)
    more = assembled(results, put_p50=20.0, put_p99=40.1)

    assert twice["targets"]["put_customer_p99_over_p50"] == {
        "target": "≤ 2.00",
        "value": 2.0,
        "pass": True,
    }
    assert more["targets"]["put_customer_p99_over_p50"]["pass"] is False


@pytest.mark.parametrize(
    ("target", "figure", "share"),
    [("segment_batch_ratio", "segment", 0.60), ("track_v2_batch_ratio", "v2", 0.50),
     ("postgres_batch_ratio", "postgres", 0.30)],
)  # fmt: skip
def test_each_batch_is_judged_as_its_share_of_the_floor_of_the_same_run(
    results: dict[str, Any], target: str, figure: str, share: float
) -> None:
    met = assembled(results, floor=10_000, **{figure: 10_000 * share})
    missed = assembled(results, floor=10_000, **{figure: 10_000 * share - 20})

    assert met["targets"][target]["value"] == share
    assert met["targets"][target]["pass"] is True
    assert missed["targets"][target]["pass"] is False


def test_memory_is_judged_on_the_largest_server_process_of_the_run(
    results: dict[str, Any],
) -> None:
    one_over = assembled(results, postgres_rss=300.0)
    under = assembled(results, postgres_rss=120.0)

    assert one_over["targets"]["server_peak_rss_mb"]["value"] == 300.0
    assert one_over["targets"]["server_peak_rss_mb"]["pass"] is False
    assert under["targets"]["server_peak_rss_mb"]["pass"] is True


def test_the_targets_section_lists_every_product_target_and_the_planned_ones_as_not_yet_measured(
    results: dict[str, Any],
) -> None:
    page = render(results)

    section = page.split("\n## Targets\n")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + len(TARGETS)
    for target, row in zip(TARGETS, rows[1:], strict=True):
        assert row.startswith(f"| {target.what} | {target.spec} |")
        judged = judge(results)[target.key]  # today's targets, as the page judges them
        if target.figure is None:
            assert row.endswith(f"| — | {PLANNED} |")
        elif judged.get("skipped"):
            assert row.endswith(f"| {target.label} {target.target} | {judged['skipped']} |")
        else:
            assert f"{target.label} {target.target}" in row
            assert row.endswith(f"| {target.text(judged['value'])}: {verdict(judged['pass'])} |")


def verdict(ok: bool | None) -> str:
    return "pass" if ok else "**FAIL**"


def test_an_older_results_file_without_the_new_figures_renders_them_as_not_measured_in_this_run(
    results: dict[str, Any],
) -> None:
    older = copy.deepcopy(results)
    for key in NEWER_KEYS:
        del older[key]
    # What an older run judged, against the targets of its day.
    older["targets"] = {"put_customer_p99_ms": {"target": "< 50", "value": 9.0, "pass": True}}

    page = render(older)

    judged = judge(older)
    assert judged["put_customer_ratio"] == {
        "target": "≥ 0.50",
        "value": None,
        "pass": None,
        "skipped": NOT_MEASURED,
    }
    assert judged["track_v2_batch_ratio"]["skipped"] == NOT_MEASURED
    # Figures an older file holds the parts of are judged from them.
    floor = older["floor_events_per_s"]
    postgres_share = round(older["segment_batch_postgres"]["events_per_s"] / floor, 3)
    assert judged["postgres_batch_ratio"]["value"] == postgres_share
    runs = ("segment_batch_sqlite", "segment_batch_sqlite_normal", "segment_batch_postgres")
    largest = max(older["server_peak_rss_mb"], *(older[run]["server_peak_rss_mb"] for run in runs))
    assert judged["server_peak_rss_mb"]["value"] == largest
    assert "put_customer_p99_ms" not in page
    assert "### Track API v2 `POST /api/v2/batch` (SQLite)\n\nNot measured in this run." in page
    assert f"| `GET /healthz` (bare) | {NOT_MEASURED} |" in page
    assert (
        f"| {TARGET_BY_KEY['put_customer_ratio'].label} | — | ≥ 0.50 | skipped ({NOT_MEASURED}) |"
        in page
    )
