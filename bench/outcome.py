"""What a run's figures add up to: bench/results.json's content, the targets of the product spec
judged against it, whether the run is valid, and the summary printed at the end."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from bench import console
from bench.load import Settings
from bench.read_side import figures as read_figures

SYNCHRONOUS = ("FULL", "NORMAL")  # ROSTER_SQLITE_SYNCHRONOUS, durable first
NOT_MEASURED = "not measured in this run"
PLANNED = "not measured yet: the feature is planned"


@dataclass(frozen=True)
class Target:
    """One row of the product spec's Targets, as `make bench` judges it: `figure` (a key of
    results.json, or None while the feature is planned) compared with `bound`."""

    key: str
    what: str  # the spec's row
    spec: str  # the spec's target, in its words
    label: str  # the figure judged, as the page and the summary name it
    figure: str | None
    compare: str  # one of COMPARE
    bound: float
    shown: str  # how the bound is printed: a format spec
    value_shown: str = ""  # how the figure is, when not as the bound

    @property
    def target(self) -> str:
        return f"{self.compare} {self.bound:{self.shown}}"

    def text(self, value: float | None) -> str:
        return "—" if value is None else f"{value:{self.value_shown or self.shown}}"

    def met(self, value: float) -> bool:
        return COMPARE[self.compare](value, self.bound)


COMPARE: dict[str, Callable[[float, float], bool]] = {
    "≥": operator.ge,
    "≤": operator.le,
    "<": operator.lt,
    "=": operator.eq,
}
SEGMENT_ROW = "Segment `/v1/batch` (100 messages, half identify half track), SQLite"
V2_ROW = "Track API v2 `/api/v2/batch` (100 operations, the same traffic), SQLite"
PUT_ROW = "Track v1 `PUT /api/v1/customers/{id}`, 32 concurrent connections"
POSTGRES_ROW = "PostgreSQL, 2 server processes, `/v1/batch`"
TARGETS: tuple[Target, ...] = (
    Target(
        "segment_batch_ratio", SEGMENT_ROW, "≥ 60% of the floor's events/s",
        "Segment `/v1/batch` SQLite events/s / floor events/s",
        "ratio_segment_batch_to_floor", "≥", 0.60, ".2f", ".3f",
    ),
    Target(
        "track_v2_batch_ratio", V2_ROW, "≥ 50% of the floor's events/s",
        "Track v2 `/api/v2/batch` SQLite events/s / floor events/s",
        "ratio_track_v2_batch_to_floor", "≥", 0.50, ".2f", ".3f",
    ),
    Target(
        "put_customer_ratio", PUT_ROW,
        "≥ 50% of a bare `GET /healthz`'s requests/s on the same server",
        "Track v1 customer PUT / `GET /healthz` requests/s",
        "ratio_put_customer_to_healthz", "≥", 0.50, ".2f", ".3f",
    ),
    Target(
        "put_customer_p99_over_p50", PUT_ROW, "p99 ≤ twice p50",
        "Track v1 customer PUT p99 / p50", "put_customer_p99_over_p50", "≤", 2.0, ".2f", ".3f",
    ),
    Target(
        "postgres_batch_ratio", POSTGRES_ROW,
        "≥ 30% of the SQLite floor's events/s in the same run",
        "Segment `/v1/batch` PostgreSQL, 2 servers: events/s / floor events/s",
        "ratio_postgres_batch_to_floor", "≥", 0.30, ".2f", ".3f",
    ),
    Target(
        "postgres_identity_violations", POSTGRES_ROW, "zero identity violations",
        "Segment `/v1/batch` PostgreSQL: identity violations",
        "postgres_identity_violations", "=", 0, ".0f",
    ),
    Target(
        "server_peak_rss_mb", "memory under sustained load", "< 300 MB RSS per server process",
        "peak RSS of the largest server process (MB)", "server_peak_rss_mb_max", "<", 300.0,
        ".0f",
    ),
    Target(
        "csv_export_rows_per_s", "CSV export of 1,000,000 people",
        "streamed, ≥ 100,000 rows/s, peak RSS < 200 MB", "CSV export of 1,000,000 people: rows/s",
        "csv_export_rows_per_s", "≥", 100_000, ",.0f",
    ),
    Target(
        "csv_export_peak_rss_mb", "CSV export of 1,000,000 people",
        "streamed, ≥ 100,000 rows/s, peak RSS < 200 MB",
        "CSV export of 1,000,000 people: server peak RSS (MB)",
        "csv_export_peak_rss_mb", "<", 200.0, ".0f",
    ),
    Target(
        "search_p95_ms",
        "search among 1,000,000 people (exact id / cio_id / email, email prefix, indexed "
        "attribute equality; keyset pages)",
        "p95 < 50 ms for page 1 and page 50",
        "search among 1,000,000 people: worst p95 (ms)",
        "search_p95_ms_max", "<", 50.0, ".0f", ".1f",
    ),
    Target(
        "people_page_p95_ms",
        "People page search among 1,000,000 people (the web UI, logged in: an exact email, an "
        "id, `attribute=value`, email but no id; keyset pages)",
        "p95 < 50 ms for page 1 and page 50, measured server side",
        "People page search among 1,000,000 people: worst p95 (ms)",
        "people_page_p95_ms_max", "<", 50.0, ".0f", ".1f",
    ),
    Target(
        "duplicate_pages_p95_ms", "duplicate finder among 1,000,000 people (keyset pages)",
        "p95 < 50 ms for page 1 and page 50",
        "duplicate finder among 1,000,000 people: worst p95 (ms)",
        "duplicate_pages_p95_ms_max", "<", 50.0, ".0f", ".1f",
    ),
)  # fmt: skip
# Not the product spec's Targets but the test set-up's (docs/testing.md): what a test suite
# waits for before its first test, and before each test.
SETUP_TARGETS: tuple[Target, ...] = (
    Target(
        "ephemeral_ready_s", "`roster serve --ephemeral --tls-self-signed`",
        "from spawn to its JSON line in under 1 s",
        "spawn to JSON line, median (s)", "ephemeral_ready_s", "<", 1.0, ".1f", ".2f",
    ),
    Target(
        "workspace_create_ms", "a workspace per test (the pytest plugin's `roster` fixture)",
        "under 20 ms", "per-test workspace, p95 (ms)", "workspace_create_ms", "<", 20.0, ".0f",
        ".1f",
    ),
)  # fmt: skip
TARGET_BY_KEY = {target.key: target for target in TARGETS + SETUP_TARGETS}
TARGET_RSS_MB = TARGET_BY_KEY["server_peak_rss_mb"].bound


def sqlite_runs(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The SQLite /v1/batch runs by their synchronous setting (the default's run is
    `segment_batch_sqlite`, the other's `segment_batch_sqlite_<setting>`)."""
    found = {}
    default = results["segment_batch_sqlite"]
    found[default.get("synchronous", "NORMAL")] = default
    for setting in SYNCHRONOUS:
        other = results.get(f"segment_batch_sqlite_{setting.lower()}")
        if other is not None:
            found[setting] = other
    return found


def run_problems(name: str, run: dict[str, Any] | None) -> list[str]:
    if not run:
        return []
    found = []
    if run["non_2xx"]:
        first = run["first_non_2xx"]
        found.append(
            f"{name}: {run['non_2xx']} non-2xx answers (first: {first['status']} "
            f"{first['body'][:120]})"
        )
    if any(run.get("socket_errors", {}).values()):
        found.append(f"{name}: socket errors {run['socket_errors']}")
    return found


def assemble(
    info: dict[str, Any],
    put_settings: Settings,
    batch_settings: Settings,
    quick: bool,
    track: dict[str, Any],
    floor: dict[str, Any],
    sqlite: dict[str, dict[str, Any]],
    default_synchronous: str,
    postgres: dict[str, Any],
    v2: dict[str, Any],
    setup: dict[str, Any] | None = None,
    read_side: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """results.json: every figure of the run, its problems and the targets judged (`setup`:
    bench/scenarios.py setup_cost's figures, judged apart as SETUP_TARGETS)."""
    healthz, noop, put = track["healthz"], track["noop"], track["put_customer"]
    problems = []
    for name, result in (("GET /healthz", healthz), ("no-op", noop), ("customer PUT", put)):
        problems += run_problems(name, result) + run_problems(f"{name} warm-up", result["warmup"])
    sqlite_batches = [(f"/v1/batch SQLite {setting}", run) for setting, run in sqlite.items()]
    sqlite_batches.append((f"/api/v2/batch SQLite {default_synchronous}", v2))
    batch_runs = list(sqlite_batches)
    if not postgres.get("skipped"):
        batch_runs.append(("/v1/batch PostgreSQL", postgres))
    for name, result in batch_runs:
        problems += run_problems(name, result) + run_problems(f"{name} warm-up", result["warmup"])
    for name, result in sqlite_batches:
        store = result["store"]
        if not store["pass"]:
            bad = {key: value for key, value in store["violations"].items() if value}
            problems.append(
                f"{name}: not stored as acknowledged ({store['events']} events for "
                f"{store['tracks_acknowledged']} track messages acknowledged; violations {bad})"
            )
    floor_rate = floor["floor_events_per_s"]
    default_run = sqlite[default_synchronous]
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "machine": info,
        "settings": {
            "quick": quick,
            "connections": put_settings.connections,
            "threads": put_settings.threads,
            "duration_s": put_settings.duration,
            "warmup_s": put_settings.warmup,
            "users": put_settings.users,
            "database": "sqlite",
            "sqlite_synchronous": default_synchronous,
            "load_generator": "wrk + bench/get.lua (GET /healthz) and bench/put_customer.lua",
            "segment_batch": {
                "connections": batch_settings.connections,
                "threads": batch_settings.threads,
                "duration_s": batch_settings.duration,
                "warmup_s": batch_settings.warmup,
                "users": batch_settings.users,
                "batch": batch_settings.batch,
                "load_generator": "wrk + bench/batch.lua (per server)",
                "postgres_servers": 2,
            },
        },
        "healthz": healthz,
        "noop": noop,
        "put_customer": put,
        "ratio_put_customer_to_healthz": share(put["rps"], healthz["rps"]),
        "ratio_put_customer_to_noop": share(put["rps"], noop["rps"]),
        "ratio_noop_to_healthz": share(noop["rps"], healthz["rps"]),
        "put_customer_p50_ms": put["latency_ms"]["p50"],
        "put_customer_p99_ms": put["latency_ms"]["p99"],
        "put_customer_p99_over_p50": share(put["latency_ms"]["p99"], put["latency_ms"]["p50"]),
        "server_peak_rss_mb": track["server_peak_rss_mb"],
        "server_cpu_total_s": track["server_cpu_total_s"],
        "floor": floor,
        "floor_events_per_s": floor_rate,
        "checks": track["checks"],
        "segment_batch_sqlite": default_run,
        "ratio_segment_batch_to_floor": share(default_run["events_per_s"], floor_rate),
        "track_v2_batch_sqlite": v2,
        "ratio_track_v2_batch_to_floor": share(v2["events_per_s"], floor_rate),
        "segment_batch_postgres": postgres,
        # Other work took more than 10% of one core's time during a measured run.
        "noisy": any(
            r["other_cpu_s"] > 0.10 * r["duration_s"]
            for r in (healthz, noop, put, *(run for _, run in batch_runs))
        ),
        "valid": not problems,
        "problems": problems,
    }
    for setting, run in sqlite.items():
        if setting != default_synchronous:
            results[f"segment_batch_sqlite_{setting.lower()}"] = run
    full, normal = sqlite.get("FULL"), sqlite.get("NORMAL")
    if full is not None and normal is not None:
        results["ratio_sqlite_full_to_normal"] = (
            round(full["events_per_s"] / normal["events_per_s"], 3)
            if normal["events_per_s"]
            else 0.0
        )
    if not postgres.get("skipped"):
        results["ratio_postgres_batch_to_floor"] = share(postgres["events_per_s"], floor_rate)
        results["postgres_identity_violations"] = postgres["store"]["violation_total"]
    results["server_peak_rss_mb_max"] = max(peak_rss(results).values())
    return finish(results, setup, read_side)


def finish(
    results: dict[str, Any],
    setup: dict[str, Any] | None = None,
    read_side: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The test set-up's and the read side's figures added (each measured once a run), and
    every target judged on the result's figures."""
    if setup is not None:
        results["test_setup"] = setup
        results["ephemeral_ready_s"] = setup["ephemeral_ready_s"]["median"]
        results["workspace_create_ms"] = setup["workspace_create_ms"]["p95"]
    if read_side is not None:
        results["read_side"] = read_side
        results |= read_figures(read_side)
    results["setup_targets"] = judge(results, SETUP_TARGETS)
    results["targets"] = judge(results)
    results["targets_met"] = all(t["pass"] is not False for t in results["targets"].values())
    results["targets_skipped"] = [
        name for name, t in results["targets"].items() if t["pass"] is None
    ]
    return results


def share(part: float, whole: float) -> float:
    return round(part / whole, 3) if whole else 0.0


def peak_rss(results: dict[str, Any]) -> dict[str, float]:
    """The peak RSS (MB) of every server process the run measured, by its name."""
    found = {"track-sqlite": results["server_peak_rss_mb"]}
    runs = [run for run in sqlite_runs(results).values()]
    runs += [results[key] for key in ("track_v2_batch_sqlite",) if key in results]
    postgres = results["segment_batch_postgres"]
    for run in runs + ([] if postgres.get("skipped") else [postgres]):
        for one in run.get("instances", []):
            found[one["server"]] = one.get("server_peak_rss_mb", run["server_peak_rss_mb"])
    return found


def measured(results: dict[str, Any], target: Target) -> tuple[float | None, str | None]:
    """A target's figure in a run's results, or why there is none. Older results.json files
    lack the figures added since: they are judged on what they hold."""
    if target.figure is None:
        return None, PLANNED
    postgres = results.get("segment_batch_postgres") or {}
    if target.figure.startswith(("ratio_postgres", "postgres_")) and postgres.get("skipped"):
        return None, str(postgres.get("reason", NOT_MEASURED))
    if target.figure in results:
        return results[target.figure], None
    # Figures an older file holds the parts of.
    floor = results.get("floor_events_per_s")
    match target.figure:
        case "ratio_postgres_batch_to_floor" if floor and "events_per_s" in postgres:
            return share(postgres["events_per_s"], floor), None
        case "postgres_identity_violations" if "store" in postgres:
            return postgres["store"]["violation_total"], None
        case "put_customer_p99_over_p50" if "put_customer" in results:
            latency = results["put_customer"]["latency_ms"]
            return share(latency["p99"], latency["p50"]), None
        case "server_peak_rss_mb_max" if "server_peak_rss_mb" in results:
            return max(peak_rss(results).values()), None
    return None, NOT_MEASURED


def judge(results: dict[str, Any], among: tuple[Target, ...] = TARGETS) -> dict[str, Any]:
    """Every target of `among` against the run's figures: pass True or False, or None (with the
    reason under "skipped") when the run has no such figure."""
    targets: dict[str, Any] = {}
    for target in among:
        value, missing = measured(results, target)
        judged: dict[str, Any] = {"target": target.target, "value": value}
        if value is None:
            judged |= {"pass": None, "skipped": missing}
        else:
            judged["pass"] = target.met(value)
        targets[target.key] = judged
    return targets


def summary_table(results: dict[str, Any]) -> Table:
    table = Table(title="roster benchmark" + (" (quick)" if results["settings"]["quick"] else ""))
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target")
    table.add_column("result")
    targets = results["targets"]

    def mark(ok: bool | None, why: str | None = None) -> str:
        if ok is None:
            return "[dim]planned[/]" if why == PLANNED else "[yellow]skipped[/]"
        return "[green]pass[/]" if ok else "[bold red]MISSED[/]"

    for name in ("healthz", "noop", "put_customer"):
        table.add_row(f"{name} requests/s", f"{results[name]['rps']:,.0f}", "", "")
    table.add_row("floor events/s", f"{results['floor']['floor_events_per_s']:,}", "baseline", "")
    runs = [(f"/v1/batch SQLite {setting}", run) for setting, run in sqlite_runs(results).items()]
    runs.append(("/api/v2/batch SQLite", results["track_v2_batch_sqlite"]))
    for name, run in runs:
        table.add_row(f"{name} events/s", f"{run['events_per_s']:,.0f}", "", "")
        table.add_row(
            f"{name} stored as acknowledged",
            "yes" if run["store"]["pass"] else "NO",
            "yes",
            mark(run["store"]["pass"]),
        )
    if "ratio_sqlite_full_to_normal" in results:
        table.add_row(
            "ratio /v1/batch SQLite FULL / NORMAL",
            f"{results['ratio_sqlite_full_to_normal']:.3f}",
            "measured",
            "",
        )
    setup = judge(results, SETUP_TARGETS)
    for target in TARGETS + SETUP_TARGETS:
        judged = {**targets, **setup}[target.key]
        table.add_row(
            target.label,
            target.text(judged["value"]),
            judged["target"],
            mark(judged["pass"], judged.get("skipped")),
        )
    return table


def print_outcome(results: dict[str, Any]) -> None:
    console.print(summary_table(results))
    postgres = results["segment_batch_postgres"]
    if postgres.get("skipped"):
        console.print(f"[yellow]PostgreSQL /v1/batch skipped:[/] {postgres['reason']}")
    for name, target in {**results["targets"], **results.get("setup_targets", {})}.items():
        if target["pass"] is False:
            console.print(
                f"[bold red]Target missed: {name} = {target['value']} (target {target['target']})"
            )
    if results["noisy"]:
        console.print(
            "[bold yellow]Noisy run:[/] other processes used CPU during the measured runs (see "
            '"other CPU s"); run `make bench` again on a quiet machine.'
        )
    if results["problems"]:
        console.print("[bold red]The run is not valid:[/] " + "; ".join(results["problems"]))
