"""What a run's figures add up to: bench/results.json's content, the targets of the product spec
judged against it, whether the run is valid, and the summary printed at the end."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.table import Table

from bench import console
from bench.load import Settings

TARGET_RATIO = 0.50  # customer PUT >= 50% of the no-op endpoint's requests/s ...
TARGET_P99_MS = 50.0  # ... with p99 < 50 ms
TARGET_BATCH_RATIO = 0.40  # Segment /v1/batch on SQLite >= 40% of the floor's events/s
TARGET_POSTGRES_EVENTS = 3000.0  # PostgreSQL, 2 server processes: >= 3,000 events/s ...
# ... and zero identity violations
TARGET_RSS_MB = 300.0  # a server's peak RSS under sustained load
SYNCHRONOUS = ("FULL", "NORMAL")  # ROSTER_SQLITE_SYNCHRONOUS, durable first


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
) -> dict[str, Any]:
    """results.json: every figure of the run, its problems and the targets judged."""
    noop, put = track["noop"], track["put_customer"]
    problems = []
    for name, result in (("no-op", noop), ("customer PUT", put)):
        problems += run_problems(name, result) + run_problems(f"{name} warm-up", result["warmup"])
    batch_runs = [(f"/v1/batch SQLite {setting}", run) for setting, run in sqlite.items()]
    if not postgres.get("skipped"):
        batch_runs.append(("/v1/batch PostgreSQL", postgres))
    for name, result in batch_runs:
        problems += run_problems(name, result) + run_problems(f"{name} warm-up", result["warmup"])
    for name, result in batch_runs[: len(sqlite)]:
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
            "load_generator": "wrk + bench/put_customer.lua",
            "segment_batch": {
                "connections": batch_settings.connections,
                "threads": batch_settings.threads,
                "duration_s": batch_settings.duration,
                "warmup_s": batch_settings.warmup,
                "users": batch_settings.users,
                "batch": batch_settings.batch,
                "load_generator": "wrk + bench/segment_batch.lua (per server)",
                "postgres_servers": 2,
            },
        },
        "noop": noop,
        "put_customer": put,
        "ratio_put_customer_to_noop": round(put["rps"] / noop["rps"], 3) if noop["rps"] else 0.0,
        "put_customer_p99_ms": put["latency_ms"]["p99"],
        "server_peak_rss_mb": track["server_peak_rss_mb"],
        "server_cpu_total_s": track["server_cpu_total_s"],
        "floor": floor,
        "floor_events_per_s": floor_rate,
        "checks": track["checks"],
        "segment_batch_sqlite": default_run,
        "ratio_segment_batch_to_floor": (
            round(default_run["events_per_s"] / floor_rate, 3) if floor_rate else 0.0
        ),
        "segment_batch_postgres": postgres,
        # Other work took more than 10% of one core's time during a measured run.
        "noisy": any(
            r["other_cpu_s"] > 0.10 * r["duration_s"]
            for r in (noop, put, *(run for _, run in batch_runs))
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
    results["targets"] = judge(results)
    results["targets_met"] = all(t["pass"] is not False for t in results["targets"].values())
    results["targets_skipped"] = [
        name for name, t in results["targets"].items() if t["pass"] is None
    ]
    return results


def judge(results: dict[str, Any]) -> dict[str, Any]:
    ratio = results["ratio_put_customer_to_noop"]
    p99 = results["put_customer"]["latency_ms"]["p99"]
    batch_ratio = results["ratio_segment_batch_to_floor"]
    targets: dict[str, Any] = {
        "put_customer_ratio": {
            "target": f">= {TARGET_RATIO:.2f}",
            "value": ratio,
            "pass": ratio >= TARGET_RATIO,
        },
        "put_customer_p99_ms": {
            "target": f"< {TARGET_P99_MS:.0f}",
            "value": p99,
            "pass": p99 < TARGET_P99_MS,
        },
        "segment_batch_ratio": {
            "target": f">= {TARGET_BATCH_RATIO:.2f}",
            "value": batch_ratio,
            "pass": batch_ratio >= TARGET_BATCH_RATIO,
        },
    }
    pg = results["segment_batch_postgres"]
    events_target = f">= {TARGET_POSTGRES_EVENTS:,.0f}"
    if pg.get("skipped"):
        for name, target in (
            ("postgres_batch_events_per_s", events_target),
            ("postgres_identity_violations", "= 0"),
        ):
            targets[name] = {"target": target, "value": None, "pass": None, "skipped": pg["reason"]}
        return targets
    events, violations = pg["events_per_s"], pg["store"]["violation_total"]
    targets["postgres_batch_events_per_s"] = {
        "target": events_target,
        "value": events,
        "pass": events >= TARGET_POSTGRES_EVENTS,
    }
    targets["postgres_identity_violations"] = {
        "target": "= 0",
        "value": violations,
        "pass": violations == 0,
    }
    return targets


def summary_table(results: dict[str, Any]) -> Table:
    table = Table(title="roster benchmark" + (" (quick)" if results["settings"]["quick"] else ""))
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target")
    table.add_column("result")
    targets = results["targets"]

    def mark(ok: bool | None) -> str:
        if ok is None:
            return "[yellow]skipped[/]"
        return "[green]pass[/]" if ok else "[bold red]MISSED[/]"

    def target_row(label: str, key: str, shown: str) -> None:
        t = targets[key]
        table.add_row(label, "—" if t["value"] is None else shown, t["target"], mark(t["pass"]))

    table.add_row("no-op requests/s", f"{results['noop']['rps']:,.0f}", "", "")
    table.add_row("customer PUT requests/s", f"{results['put_customer']['rps']:,.0f}", "", "")
    ratio, p99 = targets["put_customer_ratio"]["value"], targets["put_customer_p99_ms"]["value"]
    target_row("ratio customer PUT / no-op", "put_customer_ratio", f"{ratio:.3f}")
    target_row("customer PUT p99 ms", "put_customer_p99_ms", f"{p99:.2f}")
    table.add_row("server peak RSS MB", f"{results['server_peak_rss_mb']:.0f}", "< 300", "")
    table.add_row("floor events/s", f"{results['floor']['floor_events_per_s']:,}", "baseline", "")
    for setting, run in sqlite_runs(results).items():
        table.add_row(f"/v1/batch SQLite {setting} events/s", f"{run['events_per_s']:,.0f}", "", "")
        table.add_row(
            f"/v1/batch SQLite {setting} stored as acknowledged",
            "yes" if run["store"]["pass"] else "NO",
            "yes",
            mark(run["store"]["pass"]),
        )
    batch_ratio = targets["segment_batch_ratio"]["value"]
    target_row("ratio /v1/batch / floor", "segment_batch_ratio", f"{batch_ratio:.3f}")
    if "ratio_sqlite_full_to_normal" in results:
        table.add_row(
            "ratio /v1/batch SQLite FULL / NORMAL",
            f"{results['ratio_sqlite_full_to_normal']:.3f}",
            "measured",
            "",
        )
    events = targets["postgres_batch_events_per_s"]["value"]
    violations = targets["postgres_identity_violations"]["value"]
    target_row(
        "/v1/batch PostgreSQL 2 servers events/s",
        "postgres_batch_events_per_s",
        f"{events or 0:,.0f}",
    )
    target_row("PostgreSQL identity violations", "postgres_identity_violations", f"{violations}")
    return table


def print_outcome(results: dict[str, Any]) -> None:
    console.print(summary_table(results))
    postgres = results["segment_batch_postgres"]
    if postgres.get("skipped"):
        console.print(f"[yellow]PostgreSQL /v1/batch skipped:[/] {postgres['reason']}")
    for name, target in results["targets"].items():
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
