"""The scenarios of a run, each on servers of its own: Track v1 customer PUTs against a bare
`GET /healthz` and the no-op endpoint (SQLite), Segment /v1/batch (with a given durability
setting) and Track v2 /api/v2/batch on SQLite, the raw-SQL floor, and /v1/batch on PostgreSQL with
two servers on a scratch database."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

from bench import BENCH, BenchError, console
from bench.checks import (
    batch_answers,
    check_store,
    read_back,
    report_store,
    track_calls_answer,
    track_puts_stored,
    tracks_range,
)
from bench.load import SEGMENT, BatchApi, Settings, measure_batch, measure_get, measure_put
from bench.machine import machine_cpu_seconds, proc_cpu_seconds, proc_memory_mb
from bench.profile import Profile
from bench.servers import Server

FLOOR = BENCH / "floor.py"


def profile(profiles: Path | None, name: str) -> Profile | None:
    """Where a measured run's flame graph goes, when this run takes them."""
    return Profile(profiles, name) if profiles is not None else None


def track_put(
    wrk: str, folder: Path, settings: Settings, synchronous: str, profiles: Path | None = None
) -> dict[str, Any]:
    """GET /healthz, PUT /bench/noop/{id} then PUT /api/v1/customers/{id}, on one SQLite
    server (the two PUTs under py-spy when given `profiles`)."""
    server = Server("track-sqlite", folder / "track-sqlite", sqlite_synchronous=synchronous)
    try:
        server.start()
        track_calls_answer(server)
        healthz = measure_get(wrk, server, "/healthz", "GET /healthz", settings)
        noop = measure_put(
            wrk, server, "/bench/noop", "PUT /bench/noop/{id}", settings,
            profile(profiles, "track-v1-noop"),
        )  # fmt: skip
        put = measure_put(
            wrk, server, "/api/v1/customers", "PUT /api/v1/customers/{id}", settings,
            profile(profiles, "track-v1-put-customer"),
        )  # fmt: skip
        checks = track_puts_stored(server)
        memory = proc_memory_mb(server.pid)
        cpu_total = proc_cpu_seconds(server.pid)
    finally:
        server.stop()
    # Each wrk run starts again at user-0, so the people made before the measured run are about
    # the warm-up's count; the measured run creates the ones past them.
    warm_requests = put["warmup"]["requests"] if put["warmup"] else 0
    new_people = max(0, min(settings.users, put["requests"]) - min(settings.users, warm_requests))
    put["new_people_estimate"] = new_people
    put["new_people_share"] = round(new_people / put["requests"], 3) if put["requests"] else 0.0
    return {
        "healthz": healthz,
        "noop": noop,
        "put_customer": put,
        "checks": checks,
        "server_peak_rss_mb": memory.get("VmHWM", 0.0),
        "server_cpu_total_s": round(cpu_total, 2),
    }


def sqlite_batch(
    wrk: str,
    folder: Path,
    settings: Settings,
    synchronous: str,
    profiles: Path | None = None,
    api: BatchApi = SEGMENT,
) -> dict[str, Any]:
    """Segment /v1/batch (or Track v2 /api/v2/batch) on a fresh SQLite database with the given
    ROSTER_SQLITE_SYNCHRONOUS: measured (under py-spy when given `profiles`), read back,
    counted."""
    name = f"{api.key}-sqlite-{synchronous.lower()}"
    server = Server(name, folder / name, sqlite_synchronous=synchronous)
    try:
        server.start()
        before = batch_answers(server, api)
        result = measure_batch(
            wrk, [server], settings, f"POST {api.path} (SQLite, {synchronous})", "s", False,
            profile(profiles, f"{api.key}-batch-sqlite"), api,
        )  # fmt: skip
        result["read_back"] = read_back(server, settings.users)
        result["server_peak_rss_mb"] = proc_memory_mb(server.pid).get("VmHWM", 0.0)
    finally:
        server.stop()
    low, high = tracks_range(result, before)
    with console.status("Counting what the SQLite file holds ..."):
        result["store"] = check_store(server.database_url, server.workspace_id, low, high)
    result["synchronous"] = synchronous
    result["api"] = api.key
    report_store(f"{api.title}, SQLite ({synchronous})", result)
    return result


def floor(folder: Path, events: int) -> dict[str, Any]:
    """bench/floor.py in a process of its own, on the same disk as the servers."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before, _ = machine_cpu_seconds()
    with console.status(f"Running the raw-SQL floor (bench/floor.py, {events:,} events) ..."):
        answer = subprocess.run(
            [sys.executable, str(FLOOR), "--path", str(folder), "--events", str(events)],
            capture_output=True,
            text=True,
            check=False,
        )
    if answer.returncode != 0:
        raise BenchError(f"floor.py failed (exit {answer.returncode}):\n{answer.stderr.strip()}")
    try:
        line = [text for text in answer.stdout.splitlines() if text.startswith("{")][-1]
        found: dict[str, Any] = json.loads(line)
        if "floor_events_per_s" not in found:
            raise KeyError("floor_events_per_s")
    except (IndexError, ValueError, KeyError) as error:
        raise BenchError(f"floor.py printed no result: {answer.stdout!r}") from error
    busy_after, _ = machine_cpu_seconds()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    found["script"] = "bench/floor.py"
    found["cpu_s"] = round(own, 2)
    found["other_cpu_s"] = round(max(0.0, busy_after - busy_before - own), 2)
    console.print(
        f"  floor: [bold]{found['floor_events_per_s']:,} events/s[/] "
        f"(CPU s: floor {found['cpu_s']:.1f}, other {found['other_cpu_s']:.1f})"
    )
    return found


# -- PostgreSQL -----------------------------------------------------------------------------------


def postgres_batch(
    wrk: str, folder: Path, settings: Settings, admin_url: str, profiles: Path | None = None
) -> dict[str, Any]:
    """Segment /v1/batch on a scratch PostgreSQL database served by two `roster serve`
    processes, each driven by its own wrk at the same time (the first under py-spy when given
    `profiles`); then the identity checks in SQL. Skipped (with the reason) when PostgreSQL
    cannot be reached."""
    import psycopg

    # libpq takes postgresql:// only; roster serve takes either.
    admin_url = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.Error as error:
        reason = f"PostgreSQL at {safe_url(admin_url)} is not reachable: {error}".strip()
        return {"skipped": True, "reason": reason.splitlines()[0]}
    parts = urllib.parse.urlsplit(admin_url)
    name = f"roster_bench_{os.getpid()}_{int(time.time())}"
    url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))
    servers: list[Server] = []
    try:
        admin.execute(f'create database "{name}"')
        console.print(f"  scratch database {name} on {parts.hostname}:{parts.port or 5432}")
        result = two_servers(wrk, folder, settings, url, servers, profiles)
        version = admin.execute("show server_version").fetchone()
        result["server_version"] = str(version[0]).split()[0] if version else "unknown"
        return result
    except psycopg.Error as error:
        raise BenchError(f"PostgreSQL failed during the benchmark: {error}") from error
    finally:
        for server in servers:
            server.stop()
        try:
            admin.execute(f'drop database if exists "{name}" with (force)')
        except psycopg.Error as error:  # report it, do not hide the run's result
            console.print(
                f"[yellow]warning:[/] could not drop the scratch database {name}: {error}"
            )
        else:
            console.print(f"  dropped the scratch database {name}")
        admin.close()


def two_servers(
    wrk: str,
    folder: Path,
    settings: Settings,
    url: str,
    servers: list[Server],
    profiles: Path | None = None,
) -> dict[str, Any]:
    shared = folder / "segment-postgres-data"
    first = Server(
        "segment-postgres-1", folder / "segment-postgres-1", database_url=url, data_dir=shared
    )
    servers.append(first)
    first.start()  # creates the workspace the second server serves too
    second = Server(
        "segment-postgres-2",
        folder / "segment-postgres-2",
        database_url=url,
        data_dir=shared,
        credentials=first.credentials,
    )
    servers.append(second)
    second.start()
    before = sum(batch_answers(server) for server in servers)
    result = measure_batch(
        wrk, servers, settings, "POST /v1/batch (PostgreSQL, 2 servers)", "p", True,
        profile(profiles, "segment-batch-postgres"),
    )  # fmt: skip
    result["read_back"] = read_back(first, settings.users)
    for one, server in zip(result["instances"], servers, strict=True):
        one["server_peak_rss_mb"] = proc_memory_mb(server.pid).get("VmHWM", 0.0)
    result["server_peak_rss_mb"] = max(one["server_peak_rss_mb"] for one in result["instances"])
    for server in servers:
        server.stop()
    low, high = tracks_range(result, before)
    with console.status("Checking identities in PostgreSQL ..."):
        result["store"] = check_store(url, first.workspace_id, low, high)
    result["database"] = safe_url(url) + " (a scratch database, dropped after the run)"
    result["skipped"] = False
    report_store("PostgreSQL", result)
    return result


def safe_url(url: str) -> str:
    """A database URL without its password."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def setup_cost(folder: Path, spawns: int = 5, workspaces: int = 50) -> dict[str, Any]:
    """What a test suite waits for (docs/testing.md): from spawning `roster serve --ephemeral
    --tls-self-signed` to its JSON line and to its first answer, `spawns` times, with Python's
    start and FastAPI's import measured beside them (bench/spawn.py); and the pytest plugin's
    per-test workspace (the `roster` fixture's set-up and tear-down), `workspaces` times on one
    server."""
    import statistics

    from bench.spawn import measure
    from roster.testing.ephemeral import EphemeralRoster
    from roster.testing.workspace import RosterWorkspace

    with console.status(f"Spawning roster serve --ephemeral {spawns} times ..."):
        spawned = measure(folder, spawns)
    created: list[float] = []
    with (
        console.status(f"Creating {workspaces} workspaces for tests ..."),
        EphemeralRoster(tls=True, plain_port=True, parent=folder) as server,
    ):
        for index in range(workspaces + 3):  # the first three warm up
            started = time.perf_counter()
            RosterWorkspace(server, server.new_workspace()).close()
            if index >= 3:
                created.append((time.perf_counter() - started) * 1000)
    created.sort()
    return {
        **spawned,
        "workspaces": workspaces,
        "workspace_create_ms": {
            "p50": round(statistics.median(created), 2),
            "p95": round(created[max(0, round(0.95 * len(created)) - 1)], 2),
            "max": round(created[-1], 2),
        },
    }
