"""The load: wrk with bench/put_customer.lua (Track v1 customer PUTs), bench/get.lua (a bare GET,
the baseline of those) or bench/batch.lua (Segment /v1/batch or Track v2 /api/v2/batch), one wrk
per server, all started together; what each printed (its WRK_JSON line, from bench/report.lua)
with the CPU the servers, wrk and the rest of the machine used meanwhile."""

from __future__ import annotations

import contextlib
import json
import re
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from bench import BENCH, BenchError, console
from bench.machine import (
    machine_cpu_seconds,
    postgres_cpu_seconds,
    proc_cpu_seconds,
    proc_memory_mb,
)
from bench.profile import Profile
from bench.servers import Server

PUT_LUA = BENCH / "put_customer.lua"
GET_LUA = BENCH / "get.lua"
BATCH_LUA = BENCH / "batch.lua"


@dataclass(frozen=True)
class BatchApi:
    """An API that takes the batch traffic of bench/batch.lua: its name there, its path, how
    a server's credentials authorise it, and the name of a run and its servers."""

    key: str
    path: str
    bearer: bool  # the write key as Bearer (Segment); else Basic site_id:track_api_key
    title: str

    def authorization(self, server: Server) -> str:
        return f"Bearer {server.write_key}" if self.bearer else f"Basic {server.basic}"


SEGMENT = BatchApi("segment", "/v1/batch", True, "Segment /v1/batch")
TRACK_V2 = BatchApi("v2", "/api/v2/batch", False, "Track v2 /api/v2/batch")


@dataclass
class Settings:
    """A load: wrk connections and threads (per server), seconds, users; `batch` messages per
    request for /v1/batch."""

    connections: int
    threads: int
    duration: float
    warmup: float
    users: int
    batch: int = 0


@dataclass
class Drive:
    """What a group of wrk runs started together printed, and the CPU spent meanwhile."""

    raws: list[dict[str, Any]]
    wall_s: float
    wrk_cpu_s: float
    server_cpu_s: list[float]
    other_cpu_s: float
    steal_cpu_s: float
    postgres_cpu_s: float | None


def drive(
    commands: list[list[str]], servers: list[Server], seconds: float, label: str, postgres: bool
) -> Drive:
    """Run several wrk commands at once (one per server) with a Rich progress bar."""
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    servers_before = [proc_cpu_seconds(server.pid) for server in servers]
    postgres_before = postgres_cpu_seconds() if postgres else 0.0
    busy_before, steal_before = machine_cpu_seconds()
    wall_start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        outs = [stack.enter_context(tempfile.TemporaryFile("w+")) for _ in commands]
        progress = stack.enter_context(
            Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
                disable=not console.is_terminal,
            )
        )
        task = progress.add_task(label, total=seconds)
        processes = [
            subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, text=True)
            for command, out in zip(commands, outs, strict=True)
        ]
        while any(process.poll() is None for process in processes):
            progress.update(task, completed=min(seconds, time.perf_counter() - wall_start))
            time.sleep(0.1)
        outputs = []
        for out in outs:
            out.seek(0)
            outputs.append(out.read())
    wall = time.perf_counter() - wall_start
    server_cpu = [
        proc_cpu_seconds(server.pid) - before
        for server, before in zip(servers, servers_before, strict=True)
    ]
    postgres_cpu = postgres_cpu_seconds() - postgres_before if postgres else None
    busy_after, steal_after = machine_cpu_seconds()
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (after_children.ru_utime - before_children.ru_utime) + (
        after_children.ru_stime - before_children.ru_stime
    )
    raws = []
    for process, output in zip(processes, outputs, strict=True):
        if process.returncode != 0:
            raise BenchError(f"wrk exited with {process.returncode}:\n{output.strip()}")
        found = re.search(r"^WRK_JSON (.*)$", output, re.MULTILINE)
        if found is None:
            raise BenchError(
                f"wrk printed no WRK_JSON summary (is the Lua done() intact?):\n{output}"
            )
        raws.append(json.loads(found.group(1)))
    for server in servers:
        if server.died():
            raise BenchError(f"the server {server.name} died during the run:\n{server.log_tail()}")
    # CPU that neither the servers, wrk nor (when measured) PostgreSQL used during the run (other
    # processes, the kernel beyond their share) and CPU stolen by the hypervisor: a noisy run
    # shows up here.
    other = busy_after - busy_before - sum(server_cpu) - wrk_cpu - (postgres_cpu or 0.0)
    return Drive(
        raws=raws,
        wall_s=round(wall, 2),
        wrk_cpu_s=round(wrk_cpu, 2),
        server_cpu_s=[round(value, 2) for value in server_cpu],
        other_cpu_s=round(max(0.0, other), 2),
        steal_cpu_s=round(steal_after - steal_before, 2),
        postgres_cpu_s=round(postgres_cpu, 2) if postgres_cpu is not None else None,
    )


def latency_of(raw: dict[str, Any]) -> dict[str, float]:
    return {key: round(value / 1000, 3) for key, value in raw["latency_us"].items()}


def socket_errors_of(raw: dict[str, Any]) -> dict[str, int]:
    return {key: raw["errors"][key] for key in ("connect", "read", "write", "timeout")}


def first_non_2xx_of(raw: dict[str, Any]) -> dict[str, str] | None:
    if not raw["non_2xx"]:
        return None
    return {"status": raw["first_non_2xx_status"], "body": raw["first_non_2xx_body"]}


def wrk_command(
    wrk: str, script: Path, server: Server, settings: Settings, seconds: float, timeout: str
) -> list[str]:
    return [
        wrk,
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        timeout,
        "-s",
        str(script),
        server.url,
        "--",
    ]


# -- Track v1 customer PUTs and their baselines ---------------------------------------------------


def run_requests(
    wrk: str,
    server: Server,
    script: Path,
    arguments: list[str],
    seconds: float,
    settings: Settings,
    label: str,
) -> dict[str, Any]:
    """One wrk run of a one-request-at-a-time script; its parsed summary plus CPU use."""
    command = [*wrk_command(wrk, script, server, settings, seconds, "10s"), *arguments]
    result = drive([command], [server], seconds, label, postgres=False)
    raw = result.raws[0]
    server_cpu = result.server_cpu_s[0]
    duration = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "duration_s": round(duration, 3),
        "rps": round(raw["requests"] / duration, 1) if duration else 0.0,
        "latency_ms": latency_of(raw),
        "non_2xx": raw["non_2xx"],
        "first_non_2xx": first_non_2xx_of(raw),
        "socket_errors": socket_errors_of(raw),
        "wrk_cpu_s": result.wrk_cpu_s,
        "server_cpu_s": server_cpu,
        "wall_s": result.wall_s,
        "server_cpu_per_request_ms": (
            round(server_cpu / raw["requests"] * 1000, 4) if raw["requests"] else None
        ),
        "server_memory_mb": proc_memory_mb(server.pid),
        "other_cpu_s": result.other_cpu_s,
        "steal_cpu_s": result.steal_cpu_s,
    }


def measure_put(
    wrk: str,
    server: Server,
    prefix: str,
    name: str,
    settings: Settings,
    profile: Profile | None = None,
) -> dict[str, Any]:
    """bench/put_customer.lua's PUTs under `prefix`: a warm-up, then the measured run."""
    arguments = [prefix, str(settings.users), server.basic, str(settings.threads)]
    return measure_requests(wrk, server, PUT_LUA, arguments, name, settings, profile)


def measure_get(
    wrk: str, server: Server, path: str, name: str, settings: Settings
) -> dict[str, Any]:
    """A bare `GET path` (bench/get.lua): a warm-up, then the measured run."""
    return measure_requests(wrk, server, GET_LUA, [path], name, settings)


def measure_requests(
    wrk: str,
    server: Server,
    script: Path,
    arguments: list[str],
    name: str,
    settings: Settings,
    profile: Profile | None = None,
) -> dict[str, Any]:
    """A warm-up, then the measured run (under py-spy when given a `profile`)."""
    warm = None
    if settings.warmup > 0:
        warm = run_requests(
            wrk, server, script, arguments, settings.warmup, settings, f"{name}: warm-up"
        )
    spies = profile.start(server.pid, settings.duration) if profile else None
    result = run_requests(
        wrk, server, script, arguments, settings.duration, settings, f"{name}: measuring"
    )
    if spies is not None and profile is not None:
        result["profile"] = profile.finish(spies)
    result["warmup"] = (
        {key: warm[key] for key in ("requests", "rps", "non_2xx", "first_non_2xx")}
        if warm
        else None
    )
    console.print(
        f"  {name}: [bold]{result['rps']:,.0f} requests/s[/], "
        f"p50 {result['latency_ms']['p50']:.1f} ms, p99 {result['latency_ms']['p99']:.1f} ms, "
        f"non-2xx {result['non_2xx']}, CPU s: server {result['server_cpu_s']:.1f}, "
        f"wrk {result['wrk_cpu_s']:.1f}, other {result['other_cpu_s']:.1f}"
    )
    return result


# -- Segment /v1/batch and Track v2 /api/v2/batch ------------------------------------------------


def run_batch(
    wrk: str,
    servers: list[Server],
    settings: Settings,
    seconds: float,
    label: str,
    tag: str,
    seed: int,
    postgres: bool,
    api: BatchApi,
) -> dict[str, Any]:
    """One wrk run of bench/batch.lua per server, all at once; the figures of each and their
    sum. Every wrk run has its own messageId tag, so no message is a duplicate."""
    commands = [
        [
            *wrk_command(wrk, BATCH_LUA, server, settings, seconds, "20s"),
            *(api.authorization(server), str(settings.users), str(settings.batch)),
            *(f"{tag}{n + 1}", str(seed + n), api.key),
        ]
        for n, server in enumerate(servers)
    ]
    result = drive(commands, servers, seconds, label, postgres)
    instances = []
    for server, raw, cpu in zip(servers, result.raws, result.server_cpu_s, strict=True):
        duration = raw["duration_us"] / 1e6
        acknowledged = raw["requests"] - raw["non_2xx"]
        events = acknowledged * raw["batch"]
        instances.append(
            {
                "server": server.name,
                "requests": raw["requests"],
                "acknowledged": acknowledged,
                "duration_s": round(duration, 3),
                "rps": round(raw["requests"] / duration, 1) if duration else 0.0,
                "events_per_s": round(events / duration, 1) if duration else 0.0,
                "latency_ms": latency_of(raw),
                "non_2xx": raw["non_2xx"],
                "first_non_2xx": first_non_2xx_of(raw),
                "socket_errors": socket_errors_of(raw),
                "requests_built": raw["requests_built"],
                "tracks_acknowledged": acknowledged * (raw["batch"] // 2),
                "tracks_built": raw["tracks_built"],
                "server_cpu_s": cpu,
                "server_cpu_per_event_ms": round(cpu / events * 1000, 4) if events else None,
                "server_memory_mb": proc_memory_mb(server.pid),
            }
        )
    acknowledged_events = sum(one["acknowledged"] for one in instances) * settings.batch
    server_cpu = round(sum(result.server_cpu_s), 2)
    return {
        "servers": len(servers),
        "requests": sum(one["requests"] for one in instances),
        "acknowledged": sum(one["acknowledged"] for one in instances),
        "duration_s": max(one["duration_s"] for one in instances),
        "rps": round(sum(one["rps"] for one in instances), 1),
        "events_per_s": round(sum(one["events_per_s"] for one in instances), 1),
        # With several servers: each percentile of the slower of them.
        "latency_ms": {
            key: max(one["latency_ms"][key] for one in instances)
            for key in instances[0]["latency_ms"]
        },
        "non_2xx": sum(one["non_2xx"] for one in instances),
        "first_non_2xx": next(
            (one["first_non_2xx"] for one in instances if one["first_non_2xx"]), None
        ),
        "socket_errors": {
            key: sum(one["socket_errors"][key] for one in instances)
            for key in instances[0]["socket_errors"]
        },
        "requests_built": sum(one["requests_built"] for one in instances),
        "tracks_acknowledged": sum(one["tracks_acknowledged"] for one in instances),
        "tracks_built": sum(one["tracks_built"] for one in instances),
        "wrk_cpu_s": result.wrk_cpu_s,
        "server_cpu_s": server_cpu,
        "server_cpu_per_event_ms": (
            round(server_cpu / acknowledged_events * 1000, 4) if acknowledged_events else None
        ),
        "postgres_cpu_s": result.postgres_cpu_s,
        "other_cpu_s": result.other_cpu_s,
        "steal_cpu_s": result.steal_cpu_s,
        "wall_s": result.wall_s,
        "instances": instances,
    }


WARMUP_KEYS = (
    "requests",
    "acknowledged",
    "events_per_s",
    "non_2xx",
    "first_non_2xx",
    "socket_errors",
    "tracks_acknowledged",
    "tracks_built",
)


def measure_batch(
    wrk: str,
    servers: list[Server],
    settings: Settings,
    name: str,
    tag: str,
    postgres: bool = False,
    profile: Profile | None = None,
    api: BatchApi = SEGMENT,
) -> dict[str, Any]:
    """A warm-up, then the measured run (under py-spy when given a `profile`: the first
    server)."""
    warm = None
    if settings.warmup > 0:
        warm = run_batch(
            wrk, servers, settings, settings.warmup, f"{name}: warm-up", f"{tag}w", 101,
            postgres, api,
        )  # fmt: skip
        settle(servers)
    spies = profile.start(servers[0].pid, settings.duration) if profile else None
    result = run_batch(
        wrk, servers, settings, settings.duration, f"{name}: measuring", f"{tag}m", 201,
        postgres, api,
    )  # fmt: skip
    if spies is not None and profile is not None:
        result["profile"] = profile.finish(spies)
    result["warmup"] = {key: warm[key] for key in WARMUP_KEYS} if warm else None
    postgres_cpu = (
        f", postgres {result['postgres_cpu_s']:.1f}" if result["postgres_cpu_s"] is not None else ""
    )
    console.print(
        f"  {name}: [bold]{result['events_per_s']:,.0f} events/s[/] "
        f"({result['rps']:,.1f} requests/s of {settings.batch}), "
        f"p50 {result['latency_ms']['p50']:.1f} ms, p99 {result['latency_ms']['p99']:.1f} ms, "
        f"non-2xx {result['non_2xx']}, CPU s: server {result['server_cpu_s']:.1f}, "
        f"wrk {result['wrk_cpu_s']:.1f}{postgres_cpu}, other {result['other_cpu_s']:.1f}"
    )
    return result


def settle(servers: list[Server], timeout: float = 30.0) -> float:
    """Wait until the servers have finished the requests wrk left unanswered when it stopped
    (their CPU use stops growing), so a run does not start with the previous one's work."""
    start = time.monotonic()
    last = sum(proc_cpu_seconds(server.pid) for server in servers)
    while time.monotonic() - start < timeout:
        time.sleep(0.25)
        now = sum(proc_cpu_seconds(server.pid) for server in servers)
        if now - last < 0.02:
            break
        last = now
    return time.monotonic() - start
