"""The tables and sections of docs/benchmarks.md (bench/page.py puts them in the page), each
rendered from a run's results as bench/results.json holds them."""

from __future__ import annotations

from typing import Any

from bench.checks import CHECK_MEANINGS
from bench.markdown import table
from bench.outcome import (
    NOT_MEASURED,
    SETUP_TARGETS,
    SYNCHRONOUS,
    TARGET_BY_KEY,
    TARGET_RSS_MB,
    TARGETS,
    judge,
    sqlite_runs,
)

TARGET_NAMES = {target.key: target.label for target in TARGETS}


def verdict(ok: bool | None) -> str:
    if ok is None:
        return "skipped"
    return "pass" if ok else "**FAIL**"


def target_row(results: dict[str, Any], key: str, label: str) -> list[str]:
    """A figures_table row of a target as the run judged it: its figure in bold."""
    judged, target = results["targets"][key], TARGET_BY_KEY[key]
    note = f" ({judged['skipped']})" if judged.get("skipped") else ""
    value = target.text(judged["value"])
    shown = value if judged["value"] is None else f"**{value}**"
    return [label, shown, judged["target"], verdict(judged["pass"]) + note]


def shown(value: Any) -> str:
    return "—" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


def put_table(results: dict[str, Any]) -> str:
    rows = []
    if "healthz" not in results:
        rows.append(["`GET /healthz` (bare)", NOT_MEASURED, *[""] * 9])
    for name, r in (
        *([("`GET /healthz` (bare)", results["healthz"])] if "healthz" in results else []),
        ("`PUT /bench/noop/{id}` (no-op)", results["noop"]),
        ("`PUT /api/v1/customers/{id}`", results["put_customer"]),
    ):
        lat = r["latency_ms"]
        rows.append(
            [
                name, f"{r['rps']:,.0f}", f"{lat['p50']:.2f}", f"{lat['p90']:.2f}",
                f"{lat['p99']:.2f}", f"{lat['max']:.1f}", str(r["non_2xx"]),
                f"{r['server_cpu_s']:.1f}", f"{r['server_cpu_per_request_ms']:.3f}",
                f"{r['wrk_cpu_s']:.1f}", f"{r['other_cpu_s']:.1f}",
            ]
        )  # fmt: skip
    header = [
        "endpoint", "requests/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "non-2xx",
        "server CPU s", "server CPU ms/request", "wrk CPU s", "other CPU s",
    ]  # fmt: skip
    return table(header, "lrrrrrrrrrr", rows)


def batch_table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """One row per run (or per server of a run); the CPU of wrk, PostgreSQL and the rest of
    the machine is known for a whole run only."""
    lines = []
    for name, r in rows:
        lat = r["latency_ms"]
        lines.append(
            [
                name, f"{r['events_per_s']:,.0f}", f"{r['rps']:,.1f}", f"{lat['p50']:.1f}",
                f"{lat['p90']:.1f}", f"{lat['p99']:.1f}", f"{lat['max']:.1f}", str(r["non_2xx"]),
                f"{r['server_cpu_s']:.1f}", shown(r.get("server_cpu_per_event_ms")),
                shown(r.get("wrk_cpu_s")), shown(r.get("postgres_cpu_s")),
                shown(r.get("other_cpu_s")), shown(r.get("server_peak_rss_mb")),
            ]
        )  # fmt: skip
    header = [
        "run", "events/s", "requests/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "non-2xx",
        "server CPU s", "server CPU ms/event", "wrk CPU s", "PostgreSQL CPU s", "other CPU s",
        "peak RSS MB",
    ]  # fmt: skip
    return table(header, "l" + "r" * 13, lines)


def store_table(columns: list[tuple[str, dict[str, Any]]]) -> str:
    """The store checks of one or more runs, a column each."""

    def bold_unless(ok: bool, text: str) -> str:
        return text if ok else f"**{text}**"

    stores = [run["store"] for _, run in columns]
    rows = []
    for key in stores[0]["violations"]:
        counts = [store["violations"].get(key) for store in stores]
        rows.append(
            [CHECK_MEANINGS.get(key, key)]
            + [bold_unless(not count, shown(count)) for count in counts]
            + ["0"]
        )
    rows.append(
        ["events stored"]
        + [
            bold_unless(store["events_match_acknowledged"], f"{store['events']:,}")
            + f" (acknowledged {store['tracks_acknowledged']:,}, sent {store['tracks_sent']:,})"
            for store in stores
        ]
        + ["between the track messages acknowledged and those sent (wrk stops without waiting "
           "for the last answers)"]
    )  # fmt: skip
    rows.append(
        ["people / id identifiers / email identifiers"]
        + [f"{s['people']:,} / {s['id_rows']:,} / {s['email_rows']:,}" for s in stores]
        + ["one person per user id sent"]
    )
    reads = [run.get("read_back") for _, run in columns]
    if all(read is not None for read in reads):
        checked = max(read["checked"] for read in reads if read is not None)
        rows.append(
            [f"App API read-back (`GET /v1/customers/user-<n>/attributes`, {checked} users)"]
            + [
                bold_unless(read["pass"], f"{read['consistent']} of {read['found']}")
                for read in reads
                if read is not None
            ]
            + ["all found as written"]
        )
    header = ["check", *(name for name, _ in columns), "must be"]
    return table(header, "l" + "r" * len(columns) + "l", rows)


def figures_table(rows: list[list[str]]) -> str:
    return table(["figure", "value", "target", "result"], "lrll", rows)


def track_section(results: dict[str, Any]) -> str:
    put = results["put_customer"]
    rss = results["server_peak_rss_mb"]
    noop_share = results.get("ratio_noop_to_healthz")
    figures = figures_table(
        [
            target_row(results, "put_customer_ratio", "customer PUT / `GET /healthz` requests/s"),
            target_row(results, "put_customer_p99_over_p50",
                       f"customer PUT p99 / p50 ({put['latency_ms']['p99']:.2f} ms / "
                       f"{put['latency_ms']['p50']:.2f} ms)"),
            ["customer PUT / no-op requests/s (what the write costs)",
             f"{results['ratio_put_customer_to_noop']:.3f}", "—", "—"],
            ["no-op / `GET /healthz` requests/s (what authentication and parsing cost)",
             NOT_MEASURED if noop_share is None else f"{noop_share:.3f}", "—", "—"],
            ["server peak RSS (whole run)", f"{rss:.0f} MB",
             f"< {TARGET_RSS_MB:.0f} MB under sustained load", verdict(rss < TARGET_RSS_MB)],
        ]
    )  # fmt: skip
    return put_table(results) + "\n\n" + figures


def sqlite_section(results: dict[str, Any]) -> str:
    runs = sqlite_runs(results)
    default = results["settings"].get("sqlite_synchronous", "NORMAL")
    floor = results["floor"]
    rss = max(run["server_peak_rss_mb"] for run in runs.values())
    runs_table = batch_table(
        [
            (f"`POST /v1/batch`, SQLite {setting}{' (default)' if setting == default else ''}", run)
            for setting, run in runs.items()
        ]
    )
    figures = figures_table(
        [
            ["ingestion floor (bench/floor.py, same run)",
             f"{floor['floor_events_per_s']:,} events/s", "baseline", "—"],
            target_row(results, "segment_batch_ratio",
                       f"`/v1/batch` events/s ({default}) / floor events/s"),
            ["server peak RSS", f"{rss:.0f} MB", f"< {TARGET_RSS_MB:.0f} MB",
             verdict(rss < TARGET_RSS_MB)],
        ]
    )  # fmt: skip
    stores = store_table([(setting, run) for setting, run in runs.items()])
    return (
        f"{runs_table}\n\n{figures}\n\nWhat the SQLite file holds afterwards (counted in SQL once "
        f"the server had stopped):\n\n{stores}"
    )


def durability_section(results: dict[str, Any]) -> str:
    runs = sqlite_runs(results)
    if "ratio_sqlite_full_to_normal" not in results:
        return "Not measured in this run (only one SQLite durability setting was run)."
    default = results["settings"].get("sqlite_synchronous", "NORMAL")
    rows = []
    for setting in SYNCHRONOUS:
        run = runs[setting]
        rows.append(
            [
                f"`{setting}`{' (default)' if setting == default else ''}",
                f"{run['events_per_s']:,.0f}",
                f"{run['latency_ms']['p50']:.1f}",
                f"{run['latency_ms']['p99']:.1f}",
                shown(run.get("server_cpu_per_event_ms")),
            ]
        )
    ratio = results["ratio_sqlite_full_to_normal"]
    rows.append(["**FULL / NORMAL**", f"**{ratio:.3f}**", "", "", ""])
    header = ["ROSTER_SQLITE_SYNCHRONOUS", "events/s", "p50 ms", "p99 ms", "server CPU ms/event"]
    return table(header, "lrrrr", rows) + (
        f"\n\nOn this machine's disk, `/v1/batch` with `FULL` takes in **{ratio:.0%}** of the "
        "events per second it takes in with `NORMAL`."
    )


def track_v2_section(results: dict[str, Any]) -> str:
    run = results.get("track_v2_batch_sqlite")
    if run is None:
        return f"{NOT_MEASURED.capitalize()}."
    figures = figures_table(
        [
            target_row(results, "track_v2_batch_ratio",
                       f"`/api/v2/batch` events/s ({run['synchronous']}) / floor events/s"),
            ["server peak RSS", f"{run['server_peak_rss_mb']:.0f} MB", f"< {TARGET_RSS_MB:.0f} MB",
             verdict(run["server_peak_rss_mb"] < TARGET_RSS_MB)],
        ]
    )  # fmt: skip
    runs_table = batch_table([(f"`POST /api/v2/batch`, SQLite {run['synchronous']}", run)])
    stores = store_table([(run["synchronous"], run)])
    return (
        f"{runs_table}\n\n{figures}\n\nWhat the SQLite file holds afterwards (counted in SQL once "
        f"the server had stopped):\n\n{stores}"
    )


def postgres_section(results: dict[str, Any]) -> str:
    pg = results["segment_batch_postgres"]
    if pg.get("skipped"):
        return f"**Skipped:** {pg['reason']}."
    rows = [(f"`{one['server']}`", one) for one in pg["instances"]]
    rows.append(("**both servers**", pg))
    rss = pg["server_peak_rss_mb"]
    figures = figures_table(
        [
            ["events/s, both servers", f"{pg['events_per_s']:,.0f}", "—", "—"],
            target_row(results, "postgres_batch_ratio",
                       "events/s, both servers / SQLite floor events/s"),
            target_row(results, "postgres_identity_violations", "identity violations"),
            ["server peak RSS (larger of the two)", f"{rss:.0f} MB",
             f"< {TARGET_RSS_MB:.0f} MB", verdict(rss < TARGET_RSS_MB)],
        ]
    )  # fmt: skip
    return (
        f"{batch_table(rows)}\n\n{figures}\n\nIdentity checks, in SQL on the scratch database "
        f"once both servers had stopped:\n\n{store_table([('found', pg)])}"
    )


def setup_section(results: dict[str, Any]) -> str:
    """What a test suite waits for (SETUP_TARGETS), judged again with today's targets."""
    judged = judge(results, SETUP_TARGETS)
    rows = []
    for target in SETUP_TARGETS:
        one = judged[target.key]
        note = f" ({one['skipped']})" if one.get("skipped") else ""
        rows.append(
            [
                f"{target.what}: {target.label}",
                target.text(one["value"]),
                one["target"],
                verdict(one["pass"]) + note,
            ]
        )
    setup = results.get("test_setup")
    spread = ""
    if setup:
        ready, made = setup["ephemeral_ready_s"], setup["workspace_create_ms"]
        spread = (
            f"\n\nOver {setup['spawns']} spawns: median {ready['median']:.2f} s, slowest "
            f"{ready['max']:.2f} s. Over {setup['workspaces']} workspaces: p50 "
            f"{made['p50']:.1f} ms, p95 {made['p95']:.1f} ms, slowest {made['max']:.1f} ms."
        )
        if "ephemeral_answered_s" in setup:  # runs since bench/spawn.py measures these too
            answered, python = setup["ephemeral_answered_s"], setup["python_s"]
            fastapi = setup["import_fastapi_s"]
            spread += (
                f" Its first answer (`GET /healthz`, sent right after the line): median "
                f"{answered['median']:.2f} s. Beside them in the same run, medians of as many "
                f"spawns to exit: `python -c pass` {python['median']:.3f} s, `python -c "
                f'"import fastapi"` {fastapi["median"]:.3f} s.'
            )
    return table(["what", "figure", "target", "result"], "lrll", rows) + spread


def targets_section(results: dict[str, Any]) -> str:
    """Every target of the product spec, as `make bench` judges it, with the run's verdict."""
    rows = []
    for target in TARGETS:
        judged = results["targets"][target.key]
        if target.figure is None:
            shown = judged.get("skipped", "")
        else:
            shown = (
                judged.get("skipped")
                or f"{target.text(judged['value'])}: {verdict(judged['pass'])}"
            )
        judged_as = "—" if target.figure is None else f"{target.label} {target.target}"
        rows.append([target.what, target.spec, judged_as, shown])
    return table(["what", "target", "judged as", "latest run"], "llll", rows)


def headline(results: dict[str, Any]) -> str:
    """The warnings, every measured target's figure, and the verdict."""
    targets = results["targets"]
    rows = []
    for target in TARGETS:
        if target.figure is not None:
            rows.append(target_row(results, target.key, target.label))
    if "ratio_sqlite_full_to_normal" in results:
        full_normal = f"{results['ratio_sqlite_full_to_normal']:.3f}"
        rows.append(["Segment `/v1/batch` SQLite events/s, FULL / NORMAL", full_normal, "—", "—"])
    missed = [TARGET_NAMES[name] for name, t in targets.items() if t["pass"] is False]
    skipped = [
        TARGET_NAMES[target.key]
        for target in TARGETS
        if target.figure is not None and targets[target.key]["pass"] is None
    ]
    planned = [target.what.split(" (")[0] for target in TARGETS if target.figure is None]
    status = (
        "**Every target measured in this run is met.**"
        if not missed
        else f"**Targets missed: {'; '.join(missed)}.**"
    )
    if skipped:
        status += " Not measured: " + "; ".join(skipped) + "."
    if planned:
        status += " Not measured yet, the features are planned: " + "; ".join(planned) + "."
    warnings = ""
    if results["settings"].get("quick"):
        warnings += (
            "\n> **Quick run** (`--quick`): seconds-long loads that check the benchmark works; "
            "its\n> figures are not measurements.\n"
        )
    if not results["valid"]:
        warnings += (
            "\n> **This run is not valid:** "
            + "; ".join(results["problems"])
            + ". Its figures are shown for diagnosis only.\n"
        )
    if results["noisy"]:
        warnings += (
            "\n> **Noisy run:** other processes used CPU during the measured runs (see"
            '\n> "other CPU s"), so these figures understate roster; run `make bench` again on a'
            "\n> quiet machine.\n"
        )
    return f"{warnings}\n{figures_table(rows)}\n\n{status}"


def read_side_section(results: dict[str, Any]) -> str:
    """Look-ups, filter and duplicate-finder pages, the export and delete by list, on the read
    side's data set; a part the run skipped says why."""
    read = results.get("read_side")
    if not read:
        return NOT_MEASURED + "."
    rows = []
    names = {
        "lookups": "look-up",
        "filter_email_but_no_id": "filter: an email but no id",
        "filter_attribute_eq": "filter: `plan` = `pro`",
        "duplicates": "duplicate finder",
    }
    for part, name in names.items():
        found = read.get(part, {})
        if found.get("skipped"):
            rows.append([name, "skipped", "—", found.get("reason", "")])
            continue
        for what, timing in found.items():
            label = what.replace("_", " ")
            rows.append([f"{name}: {label}", f"{timing['p50_ms']:.1f}", f"{timing['p95_ms']:.1f}",
                         verdict(timing["p95_ms"] < 50.0)])  # fmt: skip
    rows += people_page_rows(read.get("people_page", {}))
    pages = table(["what", "p50 ms", "p95 ms", "p95 < 50 ms"], "lrrl", rows)
    lines = [f"{read['people']:,} people with {read['attributes']} attributes each, written in "
             f"{read['build_s']:.0f} s; one request at a time."]  # fmt: skip
    export = read.get("export", {})
    if "rows_per_s" in export:
        lines.append(
            f"CSV export: {export['rows']:,} rows ({export['bytes'] / 1e6:,.0f} MB) in "
            f"{export['seconds']:.1f} s, **{export['rows_per_s']:,} rows/s**; the server's peak "
            f"RSS {export['server_peak_rss_mb']:.0f} MB."
        )
    else:
        lines.append(f"CSV export: skipped ({export.get('reason', NOT_MEASURED)}).")
    deleted = read.get("delete_by_list", {})
    if "seconds" in deleted:
        lines.append(
            f"Delete by list: {deleted['deleted']:,} people in {deleted['seconds']:.1f} s."
        )
    else:
        lines.append(f"Delete by list: skipped ({deleted.get('reason', NOT_MEASURED)}).")
    return pages + "\n\n" + "\n".join(f"- {line}" for line in lines)


PEOPLE_PAGE_SEARCHES = {
    "email_term": "an email",
    "id_term": "an id",
    "attribute_eq": "`plan=pro`",
    "email_but_no_id": "Show: email but no id",
}


def people_page_rows(found: dict[str, Any]) -> list[list[str]]:
    """The People page's searches (bench/people_page.py): the server's own time (its
    `Server-Timing`), the client's p95 on loopback beside it."""
    if found.get("skipped"):
        return [["People page", "skipped", "—", found.get("reason", "")]]
    rows = []
    for part, name in PEOPLE_PAGE_SEARCHES.items():
        for what, timing in found.get(part, {}).items():
            label = f"People page, server time: {name}, {what.replace('_', ' ')}"
            rows.append([f"{label} (client p95 {timing['client_p95_ms']:.1f})",
                         f"{timing['p50_ms']:.1f}", f"{timing['p95_ms']:.1f}",
                         verdict(timing["p95_ms"] < 50.0)])  # fmt: skip
    return rows
