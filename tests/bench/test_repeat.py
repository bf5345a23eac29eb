"""`make bench` runs the throughput scenarios three times (bench/repeat.py): each ratio is judged
as the median of the runs' ratios, a figure that must hold in every run on its worst run, and
the detailed tables show the median run."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bench.outcome import finish
from bench.page import render
from bench.profile import OTHER, summarise, where_table
from bench.repeat import combine

SAMPLE = Path(__file__).with_name("results-sample.json")


def run(segment: float, put: float, violations: int = 0, rss: float = 120.0) -> dict[str, Any]:
    one: dict[str, Any] = copy.deepcopy(json.loads(SAMPLE.read_text()))
    one |= {
        "ratio_segment_batch_to_floor": segment,
        "ratio_put_customer_to_healthz": put,
        "postgres_identity_violations": violations,
        "server_peak_rss_mb_max": rss,
        "problems": [],
        "noisy": False,
        "marker": segment,  # which run's details the result holds
    }
    return one


def test_each_ratio_is_the_median_of_the_runs_and_the_details_are_the_median_runs() -> None:
    runs = [run(0.50, 0.30), run(0.70, 0.20), run(0.61, 0.55)]

    result = finish(combine(runs))

    assert result["ratio_segment_batch_to_floor"] == 0.61
    assert result["ratio_put_customer_to_healthz"] == 0.30  # its own median, not run 3's
    assert result["marker"] == 0.61 and result["median_run"] == 3
    assert result["targets"]["segment_batch_ratio"]["pass"] is True
    assert result["targets"]["put_customer_ratio"]["pass"] is False
    assert [one["ratio_segment_batch_to_floor"] for one in result["runs"]] == [0.50, 0.70, 0.61]


def test_a_figure_that_must_hold_in_every_run_is_judged_on_its_worst_run() -> None:
    runs = [run(0.5, 0.5), run(0.5, 0.5, violations=2, rss=310.0), run(0.5, 0.5)]

    result = finish(combine(runs))

    assert result["targets"]["postgres_identity_violations"]["value"] == 2
    assert result["targets"]["postgres_identity_violations"]["pass"] is False
    assert result["targets"]["server_peak_rss_mb"]["pass"] is False


def test_a_problem_in_any_run_makes_the_result_invalid_and_names_the_run() -> None:
    runs = [run(0.5, 0.5), run(0.6, 0.5), run(0.7, 0.5)]
    runs[2]["problems"] = ["customer PUT: 3 non-2xx answers"]
    runs[0]["noisy"] = True

    result = combine(runs)

    assert result["valid"] is False
    assert result["problems"] == ["run 3: customer PUT: 3 non-2xx answers"]
    assert result["noisy"] is True


def test_the_page_shows_every_run_and_the_median_judged() -> None:
    result = finish(combine([run(0.50, 0.30), run(0.70, 0.20), run(0.61, 0.55)]))

    page = render(result)

    section = page.split("### The runs\n")[1].split("\n### ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    assert rows[1].startswith("| 1 | ") and "| 0.500 |" in rows[1]
    assert rows[3].startswith("| 3 (median run: the tables below) |")
    assert rows[-1].startswith("| judged: the median") and "**0.610**" in rows[-1]
    assert "ran 3 times" in section


def test_no_runs_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one run"):
        combine([])


def test_a_flame_graphs_stacks_are_summed_per_roster_function_and_part_of_the_work() -> None:
    stacks = "\n".join(
        [
            "thread (1);run (uvicorn/main.py:1);apply (roster/domain/engine.py:10);"
            "one (roster/storage/statements.py:5) 6",
            "thread (1);run (uvicorn/main.py:1);apply (roster/domain/engine.py:12) 2",
            "thread (2);wait (threading.py:3) 2",
        ]
    )

    found = summarise(stacks)

    assert found["samples"] == 10
    assert found["inclusive"][0] == {"frame": "apply (roster/domain/engine.py)", "share": 0.8}
    assert {"frame": "one (roster/storage/statements.py)", "share": 0.6} in found["own"]
    assert {"frame": "apply (roster/domain/engine.py)", "share": 0.2} in found["own"]
    # Each sample counted once, to the part of the work its innermost named frame is in.
    assert (
        found["where"][
            "SQL: statements, savepoints, COMMIT, checkpoints (the database and its driver)"
        ]
        == 0.6
    )
    assert found["where"]["identity rules (roster/domain)"] == 0.2
    assert found["where"]["other (threads, the interpreter)"] == 0.2
    assert sum(found["where"].values()) == pytest.approx(1.0)


def test_each_part_of_the_work_is_shown_with_its_share_of_the_calls_cpu() -> None:
    found = summarise("thread (1);one (roster/storage/statements.py:5) 3\nthread (1);x (a.py:1) 1")
    profiles = {"`PUT /api/v1/customers/{id}`": found}

    lines = where_table(profiles, {"`PUT /api/v1/customers/{id}`": (200.0, "call")})

    sql = next(line for line in lines if line.startswith("| SQL"))
    other = next(line for line in lines if line.startswith(f"| {OTHER}"))
    assert sql.endswith("| 75% (150 µs) |") and other.endswith("| 25% (50 µs) |")
    assert lines[-1].endswith("| 200 µs a call |")
