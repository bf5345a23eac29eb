"""Several runs of the throughput scenarios, one result (`make bench` runs them 3 times): each
ratio is measured within one run, against that run's own baseline, and the figure judged is the
median of the runs' ratios; a figure that must hold in every run (identity violations, peak
RSS) is judged on its worst run. The page's detailed tables show the median run: the run whose
Segment `/v1/batch` ratio is the median."""

from __future__ import annotations

import statistics
from typing import Any

from bench.markdown import table

# Judged as the median of the runs.
MEDIAN = (
    "ratio_segment_batch_to_floor",
    "ratio_track_v2_batch_to_floor",
    "ratio_put_customer_to_healthz",
    "ratio_put_customer_to_noop",
    "ratio_noop_to_healthz",
    "put_customer_p99_over_p50",
    "ratio_postgres_batch_to_floor",
    "ratio_sqlite_full_to_normal",
    "floor_events_per_s",
)
# Judged on the worst run.
WORST = ("postgres_identity_violations", "server_peak_rss_mb_max")
# Each run's own figures, kept in results.json under "runs".
PER_RUN = (*MEDIAN, *WORST)
ORDER_BY = "ratio_segment_batch_to_floor"


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from the runs' (each assembled by bench.outcome.assemble): the median run's
    details, the median of each ratio, the worst of each must-hold figure, every run's problems.
    The targets are judged again by the caller (bench.outcome.finish)."""
    if not runs:
        raise ValueError("combine() needs at least one run")
    order = sorted(range(len(runs)), key=lambda index: runs[index].get(ORDER_BY, 0.0))
    middle = order[len(runs) // 2]
    results = dict(runs[middle])
    for figure in MEDIAN:
        values = [run[figure] for run in runs if run.get(figure) is not None]
        if values:
            results[figure] = round(statistics.median(values), 3)
    for figure in WORST:
        values = [run[figure] for run in runs if run.get(figure) is not None]
        if values:
            results[figure] = max(values)
    problems = [
        f"run {index + 1}: {problem}" if len(runs) > 1 else problem
        for index, run in enumerate(runs)
        for problem in run["problems"]
    ]
    results |= {
        "runs": [{figure: run[figure] for figure in PER_RUN if figure in run} for run in runs],
        "median_run": middle + 1,
        "problems": problems,
        "valid": not problems,
        "noisy": any(run["noisy"] for run in runs),
    }
    return results


RUN_COLUMNS = (
    ("floor_events_per_s", "floor events/s", ",.0f"),
    ("ratio_segment_batch_to_floor", "`/v1/batch` / floor", ".3f"),
    ("ratio_track_v2_batch_to_floor", "`/api/v2/batch` / floor", ".3f"),
    ("ratio_put_customer_to_healthz", "PUT / `GET /healthz`", ".3f"),
    ("ratio_noop_to_healthz", "no-op / `GET /healthz`", ".3f"),
    ("put_customer_p99_over_p50", "PUT p99 / p50", ".3f"),
    ("ratio_postgres_batch_to_floor", "PostgreSQL / floor", ".3f"),
    ("postgres_identity_violations", "identity violations", ".0f"),
    ("server_peak_rss_mb_max", "peak RSS MB", ".0f"),
)


def runs_section(results: dict[str, Any]) -> str:
    """Each run's figures, and what is judged: the median (the worst for the last two)."""
    runs = results.get("runs")
    if not runs:
        return (
            "The throughput scenarios were measured once (a results file from before runs "
            "were repeated)."
        )
    columns = [(key, title, fmt) for key, title, fmt in RUN_COLUMNS if key in results]

    def cell(value: Any, fmt: str) -> str:
        return "—" if value is None else f"{value:{fmt}}"

    rows = []
    for index, run in enumerate(runs, start=1):
        mark = " (median run: the tables below)" if index == results.get("median_run") else ""
        rows.append([f"{index}{mark}", *(cell(run.get(key), fmt) for key, _, fmt in columns)])
    judged = [f"**{cell(results.get(key), fmt)}**" for key, _, fmt in columns]
    rows.append(["judged: the median; the worst for the last two", *judged])
    header = ["run", *(title for _, title, _ in columns)]
    return (
        f"The throughput scenarios (everything before the read side) ran {len(runs)} "
        f"{'time' if len(runs) == 1 else 'times'}: each ratio judged above is the median of "
        "the runs' ratios, each measured against its own run's baseline "
        "([`bench/repeat.py`](../bench/repeat.py)).\n\n"
        + table(header, "l" + "r" * len(columns), rows)
    )
