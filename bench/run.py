#!/usr/bin/env python3
"""roster's benchmark (`make bench`): Track v1 `PUT /api/v1/customers/{id}` against a no-op
endpoint on the same server, Segment `POST /v1/batch` on SQLite against the raw-SQL ingestion
floor, and `/v1/batch` on PostgreSQL with two server processes, on this machine.

    .venv/bin/python bench/run.py [--duration 10] [--warmup 3] [--connections 32] [--threads 2]
        [--batch-connections 8] [--batch-threads 2] [--postgres-url URL | --no-postgres]
        [--profile DIR] [--keep]

1. Starts `roster serve` (SQLite in a temporary folder, ROSTER_NOOP_ENDPOINT=1) on a free port,
   after creating a workspace with `roster workspaces create bench --json`.
2. Drives it with wrk and bench/put_customer.lua (10,000 users, Basic auth, a small JSON body):
   first `PUT /bench/noop/{id}` (authenticates and parses like the real call, writes nothing),
   then `PUT /api/v1/customers/{id}`; each a short warm-up, then the measured run. It records
   requests/s, latency percentiles, non-2xx answers, the CPU time of wrk and of the server, and
   the server's peak RSS.
3. Starts a fresh SQLite server and drives `POST /v1/batch` with wrk and bench/segment_batch.lua
   (100 messages a request, half identify half track, users drawn from 10,000: the traffic
   floor.py writes); events/s = 2xx requests/s x 100. Then reads users back through the App API
   and counts, in the SQLite file, that the events stored are the track messages acknowledged and
   that no identity is broken.
4. Runs ../shared/bench/floor.py on the same disk and records its events/s: the SQLite batch's
   baseline (target: >= 40% of it).
5. Creates a scratch PostgreSQL database, starts two `roster serve` processes on it, drives each
   with its own wrk at the same time, adds their events/s (target: >= 3,000), checks identities
   in SQL (target: zero violations) and drops the database. Skipped, and recorded as skipped,
   when PostgreSQL cannot be reached.
6. Writes bench/results.json and rewrites docs/benchmarks.md.

Exits 0 when everything ran, whether or not the targets were met (a missed target is printed in
bold and written to both files); 1 when something failed to run, answered other than 2xx, or the
SQLite batch was not stored as acknowledged.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
LUA = BENCH / "put_customer.lua"
BATCH_LUA = BENCH / "segment_batch.lua"
RESULTS = BENCH / "results.json"
DOC = REPO / "docs" / "benchmarks.md"
FLOOR = (REPO / ".." / "shared" / "bench" / "floor.py").resolve()

USERS = 10_000
TARGET_RATIO = 0.50  # PRODUCT.md Targets: customer PUT >= 50% of the no-op endpoint's requests/s
TARGET_P99_MS = 50.0  # ... with p99 < 50 ms
BATCH = 100  # messages per /v1/batch request, as floor.py commits them
TARGET_BATCH_RATIO = 0.40  # Segment /v1/batch on SQLite >= 40% of the floor's events/s
TARGET_POSTGRES_EVENTS = 3000.0  # PostgreSQL, 2 server processes: >= 3,000 events/s ...
# ... and zero identity violations
PLANS = ("free", "pro", "team")
EMAIL_DOMAIN = "@example.com"
ROSTER_FRAME = re.compile(r"[(/]roster/")  # a py-spy frame in roster's own source
LINE_NUMBER = re.compile(r":\d+\)$")
POSTGRES_URL = os.environ.get(
    "ROSTER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

console = Console()


class BenchError(Exception):
    """Something failed to run: the benchmark has no valid result."""


# -- the machine ----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu_model = "unknown"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
                break
    return {
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "memory_mb": round(memory_kb / 1024),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": wrk_version(),
        "roster": roster_version(),
        **source_state(),
    }


def roster_version() -> str:
    try:
        from roster import __version__
    except ImportError:
        return "unknown"
    return str(__version__)


def source_state() -> dict[str, Any]:
    """The commit measured, and whether src/ had uncommitted changes then."""

    def git(*args: str) -> str:
        answer = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=False
        )
        return answer.stdout.strip() if answer.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    return {"commit": commit or "unknown", "src_dirty": bool(git("status", "--porcelain", "src"))}


def wrk_version() -> str:
    found = shutil.which("wrk")
    if found is None:
        return "missing"
    answer = subprocess.run([found, "-v"], capture_output=True, text=True, check=False)
    first = (answer.stdout or answer.stderr).strip().splitlines()
    return first[0].split(" [")[0] if first else "unknown"


# -- wrk ------------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """The path of wrk; installed with apt-get when missing and this runs as root."""
    found = shutil.which("wrk")
    if found:
        return found
    console.print("[bold yellow]wrk is not installed.[/] Install it with: apt-get install -y wrk")
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BenchError("wrk is missing: install it with `apt-get install -y wrk` (as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "update"], ["apt-get", "install", "-y", "wrk"]):
        with console.status(f"Running {' '.join(step)} ..."):
            answer = subprocess.run(step, capture_output=True, text=True, env=env, check=False)
        if answer.returncode != 0:
            tail = "\n".join((answer.stdout + answer.stderr).strip().splitlines()[-10:])
            raise BenchError(f"`{' '.join(step)}` failed (exit {answer.returncode}):\n{tail}")
    found = shutil.which("wrk")
    if found is None:
        raise BenchError("apt-get installed wrk but it is not on PATH")
    console.print(f"Installed {wrk_version()}.")
    return found


# -- the server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def roster_command() -> list[str]:
    script = Path(sys.executable).parent / "roster"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from roster.cli import main; main()"]


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads) and of its live children."""
    total = 0.0
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                pids.extend(int(child) for child in handle.read().split())
    except OSError:
        pass
    for one in pids:
        try:
            with open(f"/proc/{one}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # fields after "pid (comm)"
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return total


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is inside user already)
    idle = fields[3] + fields[4]
    steal = fields[7] if len(fields) > 7 else 0
    busy = sum(fields[:8]) - idle - steal
    return busy / CLOCK_TICKS, steal / CLOCK_TICKS


def proc_memory_mb(pid: int) -> dict[str, float]:
    found: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                found[key] = round(int(value.split()[0]) / 1024, 1)
    return found


class Server:
    """One `roster serve` process. SQLite in `folder` unless a database URL is given; servers
    that share a database share `data_dir` too (it holds the key that encrypts stored secrets)."""

    def __init__(
        self,
        folder: Path,
        database_url: str | None = None,
        data_dir: Path | None = None,
        name: str = "server",
        avoid_ports: tuple[int, ...] = (),
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.name = name
        self.port = free_port()
        while self.port in avoid_ports:
            self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url or f"sqlite:///{folder / 'roster.db'}"
        env = {key: value for key, value in os.environ.items() if not key.startswith("ROSTER_")}
        env.update(
            ROSTER_DATABASE_URL=self.database_url,
            ROSTER_DATA_DIR=str(data_dir or folder / "data"),
            ROSTER_HOST="127.0.0.1",
            ROSTER_PORT=str(self.port),
            ROSTER_NOOP_ENDPOINT="1",
            ROSTER_LOG_LEVEL="warning",
        )
        self.env = env
        self.log_path = folder / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.credentials: dict[str, Any] = {}

    def create_workspace(self) -> None:
        answer = subprocess.run(
            [*roster_command(), "workspaces", "create", "bench", "--json"],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.folder,
            check=False,
        )
        if answer.returncode != 0:
            raise BenchError(
                f"`roster workspaces create bench --json` failed (exit {answer.returncode}):\n"
                f"{answer.stderr.strip() or answer.stdout.strip()}"
            )
        try:
            self.credentials = json.loads(answer.stdout.strip().splitlines()[-1])
            needed = {"workspace_id", "site_id", "track_api_key", "app_api_key", "write_key"}
            if not needed <= set(self.credentials):
                raise KeyError(", ".join(sorted(needed - set(self.credentials))))
        except (ValueError, IndexError, KeyError) as error:
            raise BenchError(
                f"`roster workspaces create --json` printed no credentials: {answer.stdout!r}"
            ) from error

    @property
    def basic(self) -> str:
        pair = f"{self.credentials['site_id']}:{self.credentials['track_api_key']}"
        return base64.b64encode(pair.encode()).decode()

    @property
    def bearer(self) -> str:
        """Segment's write key as a Bearer token (what POST /v1/batch takes)."""
        return "Bearer " + str(self.credentials["write_key"])

    @property
    def app_bearer(self) -> str:
        return "Bearer " + str(self.credentials["app_api_key"])

    @property
    def sqlite_path(self) -> Path:
        return self.folder / "roster.db"

    def start(self, timeout: float = 60.0) -> None:
        log = open(self.log_path, "wb")  # noqa: SIM115 (kept open for the server's life)
        self.process = subprocess.Popen(
            [*roster_command(), "serve"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.folder,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"`roster serve` ({self.name}) exited with {self.process.returncode}:\n"
                    f"{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        raise BenchError(
            f"`roster serve` did not answer /healthz in {timeout:.0f} s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.strip().splitlines()[-lines:]) or "(the server log is empty)"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def call(
        self, method: str, path: str, body: dict[str, Any] | None, auth: str
    ) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": auth, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, raw.decode(errors="replace")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- one measurement ------------------------------------------------------------------------------


@dataclass
class Settings:
    connections: int
    threads: int
    duration: float
    warmup: float
    users: int


def postgres_cpu_seconds() -> float:
    """utime + stime of every PostgreSQL process on this machine (server and backends)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        if stat[stat.find("(") + 1 : stat.rindex(")")] != "postgres":
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


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
    commands: list[list[str]],
    servers: list[Server],
    seconds: float,
    label: str,
    postgres: bool = False,
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
        if server.process is not None and server.process.poll() is not None:
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


def run_wrk(
    wrk: str, server: Server, prefix: str, seconds: float, settings: Settings, label: str
) -> dict[str, Any]:
    """One wrk run of bench/put_customer.lua; its parsed summary plus CPU use."""
    command = [
        wrk,
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        server.url,
        "--",
        prefix,
        str(settings.users),
        server.basic,
        str(settings.threads),
    ]
    result = drive([command], [server], seconds, label)
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


def measure(wrk: str, server: Server, prefix: str, name: str, settings: Settings) -> dict[str, Any]:
    warm = None
    if settings.warmup > 0:
        warm = run_wrk(wrk, server, prefix, settings.warmup, settings, f"{name}: warm-up")
    result = run_wrk(wrk, server, prefix, settings.duration, settings, f"{name}: measuring")
    result["warmup"] = (
        {key: warm[key] for key in ("requests", "rps", "non_2xx", "first_non_2xx")}
        if warm
        else None
    )
    line = (
        f"  {name}: [bold]{result['rps']:,.0f} requests/s[/], "
        f"p50 {result['latency_ms']['p50']:.1f} ms, p99 {result['latency_ms']['p99']:.1f} ms, "
        f"non-2xx {result['non_2xx']}, CPU s: server {result['server_cpu_s']:.1f}, "
        f"wrk {result['wrk_cpu_s']:.1f}, other {result['other_cpu_s']:.1f}"
    )
    console.print(line)
    return result


# -- the Segment batch ----------------------------------------------------------------------------


@dataclass
class BatchSettings:
    connections: int  # per server
    threads: int  # per server
    duration: float
    warmup: float
    users: int
    batch: int


def batch_command(
    wrk: str, server: Server, settings: BatchSettings, seconds: float, tag: str, seed: int
) -> list[str]:
    return [
        wrk,
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "20s",
        "-s",
        str(BATCH_LUA),
        server.url,
        "--",
        str(server.credentials["write_key"]),
        str(settings.users),
        str(settings.batch),
        tag,
        str(seed),
    ]


def run_batch(
    wrk: str,
    servers: list[Server],
    settings: BatchSettings,
    seconds: float,
    label: str,
    tag: str,
    seed: int,
    postgres: bool,
) -> dict[str, Any]:
    """One wrk run of bench/segment_batch.lua per server, all at once; the figures of each and
    their sum. Every wrk run has its own messageId tag, so no message is a duplicate."""
    commands = [
        batch_command(wrk, server, settings, seconds, f"{tag}{index + 1}", seed + index)
        for index, server in enumerate(servers)
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


def measure_batch(
    wrk: str,
    servers: list[Server],
    settings: BatchSettings,
    name: str,
    tag: str,
    postgres: bool = False,
    profile: Path | None = None,
) -> dict[str, Any]:
    """A warm-up, then the measured run (optionally under py-spy, SQLite only)."""
    warm = None
    if settings.warmup > 0:
        warm = run_batch(
            wrk, servers, settings, settings.warmup, f"{name}: warm-up", f"{tag}w", 101, postgres
        )
    if warm is not None:
        settle(servers)
    spy = start_profile(servers[0], profile, settings.duration) if profile else None
    result = run_batch(
        wrk, servers, settings, settings.duration, f"{name}: measuring", f"{tag}m", 201, postgres
    )
    if spy is not None and profile is not None:
        result["profile"] = finish_profile(spy, profile)
    result["warmup"] = (
        {
            key: warm[key]
            for key in (
                "requests",
                "acknowledged",
                "events_per_s",
                "non_2xx",
                "first_non_2xx",
                "socket_errors",
                "tracks_acknowledged",
                "tracks_built",
            )
        }
        if warm
        else None
    )
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


def start_profile(server: Server, folder: Path, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy (from the venv) sampling the server for the measured run, as collapsed stacks."""
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        raise BenchError(f"--profile needs py-spy in the venv ({spy} is missing)")
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            str(spy),
            "record",
            "--pid",
            str(server.pid),
            "--duration",
            str(max(1, round(seconds))),
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(folder / "segment-batch-sqlite.txt"),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish_profile(spy: subprocess.Popen[bytes], folder: Path) -> dict[str, Any]:
    """The functions of src/roster with the most samples: anywhere on the stack, and as the
    innermost roster function (time in it or in the libraries it calls)."""
    _, err = spy.communicate(timeout=60)
    path = folder / "segment-batch-sqlite.txt"
    if spy.returncode != 0 or not path.exists():
        console.print(f"[yellow]warning:[/] py-spy failed: {err.decode(errors='replace')[-300:]}")
        return {"error": err.decode(errors="replace")[-300:]}
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [  # per function: "name (roster/file.py:123)" -> "name (roster/file.py)"
            LINE_NUMBER.sub(")", frame) for frame in stack.split(";") if ROSTER_FRAME.search(frame)
        ]
        for frame in dict.fromkeys(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        if frames:
            own[frames[-1]] = own.get(frames[-1], 0) + count

    def top(counts: dict[str, int]) -> list[dict[str, Any]]:
        ranked = sorted(counts.items(), key=lambda item: -item[1])[:15]
        return [
            {"frame": frame, "share": round(count / total, 3) if total else 0.0}
            for frame, count in ranked
        ]

    on_stack, on_top = top(inclusive), top(own)
    console.print(f"  py-spy: {total} samples in {path}; roster frames with most samples:")
    for row in on_stack[:10]:
        console.print(f"    {row['share']:6.1%}  {row['frame']}")
    console.print("  ... and those innermost in roster (the roster frame nearest the top):")
    for row in on_top[:10]:
        console.print(f"    {row['share']:6.1%}  {row['frame']}")
    return {"samples": total, "file": str(path), "inclusive": on_stack, "own": on_top}


def post_check_batch(server: Server) -> dict[str, Any]:
    """One small batch before the run: the write key works and a batch is acknowledged."""
    body = {
        "batch": [
            {
                "type": "identify",
                "userId": "user-0",
                "messageId": "check-identify",
                "traits": {"email": "user-0@example.com", "plan": "free", "seen": 0},
            },
            {
                "type": "track",
                "userId": "user-0",
                "event": "Order Completed",
                "messageId": "check-track",
                "properties": {"revenue": 9.99, "sku": "sku-1", "n": 0},
            },
        ]
    }
    status, answer = server.call("POST", "/v1/batch", body, server.bearer)
    if not 200 <= status < 300 or answer != {"success": True}:
        raise BenchError(
            f"POST /v1/batch on {server.name} answered {status} before the benchmark: {answer}"
        )
    return {"tracks": 1}


def read_back(server: Server, users: int, sample: int = 25) -> dict[str, Any]:
    """Through the App API: some users (spread over the set) read back as the traffic wrote
    them: their id, their own email, a plan from the traffic's three, a `seen` counter."""
    found = consistent = with_email = 0
    problems: list[str] = []
    for n in range(0, users, max(1, users // sample)):
        status, body = server.call(
            "GET", f"/v1/customers/user-{n}/attributes", None, server.app_bearer
        )
        if status == 404:  # never drawn, or only in requests still unanswered at the end
            continue
        if status != 200 or not isinstance(body, dict):
            problems.append(f"user-{n}: {status} {str(body)[:120]}")
            continue
        found += 1
        attributes = body.get("customer", {}).get("attributes", {})
        email = attributes.get("email")
        good = attributes.get("id") == f"user-{n}"
        if email is not None:
            with_email += 1
            good = (
                good
                and email == f"user-{n}@example.com"
                and attributes.get("plan") in PLANS
                and str(attributes.get("seen", "")).isdigit()
            )
        if good:
            consistent += 1
        else:
            problems.append(f"user-{n}: {str(attributes)[:160]}")
    return {
        "checked": len(range(0, users, max(1, users // sample))),
        "found": found,
        "with_email": with_email,
        "consistent": consistent,
        "pass": found > 0 and consistent == found and not problems,
        "problems": problems[:5],
    }


def store_queries(workspace_id: int) -> dict[str, str]:
    """SQL counting what must be zero after the benchmark's traffic (one workspace, people
    user-<n> with email user-<n>@example.com), in SQL both SQLite and PostgreSQL run."""
    w = int(workspace_id)
    domain = len(EMAIL_DOMAIN)
    return {
        # The primary key forbids it; asserted anyway.
        "identifier_on_two_people": (
            "select count(*) from (select workspace_id, kind, value from identifiers "
            "group by workspace_id, kind, value having count(distinct person_pk) > 1) as d"
        ),
        "person_without_id": (
            f"select count(*) from people p where p.workspace_id = {w} and not exists "
            "(select 1 from identifiers i where i.workspace_id = p.workspace_id "
            "and i.kind = 'id' and i.person_pk = p.pk)"
        ),
        "person_with_several_ids": (
            f"select count(*) from (select person_pk from identifiers where workspace_id = {w} "
            "and kind = 'id' group by person_pk having count(*) > 1) as d"
        ),
        "id_row_not_the_person_id": (
            "select count(*) from identifiers i left join people p on p.pk = i.person_pk "
            f"where i.workspace_id = {w} and i.kind = 'id' "
            "and (p.pk is null or p.id is null or p.id <> i.value)"
        ),
        "id_not_of_the_traffic": (
            f"select count(*) from identifiers where workspace_id = {w} and kind = 'id' "
            "and value not like 'user-%'"
        ),
        "email_row_on_another_person": (
            "select count(*) from identifiers e left join identifiers i "
            "on i.workspace_id = e.workspace_id and i.kind = 'id' "
            f"and i.value = substr(e.value, 1, length(e.value) - {domain}) "
            f"where e.workspace_id = {w} and e.kind = 'email' "
            "and (i.person_pk is null or i.person_pk <> e.person_pk)"
        ),
        "identifier_without_person": (
            f"select count(*) from identifiers i where i.workspace_id = {w} and not exists "
            "(select 1 from people p where p.pk = i.person_pk)"
        ),
        "event_without_person": (
            f"select count(*) from events e where e.workspace_id = {w} and (e.person_pk is null "
            "or not exists (select 1 from people p where p.pk = e.person_pk))"
        ),
        "ingestion_log_entries": f"select count(*) from ingestion_log where workspace_id = {w}",
    }


def store_figures(workspace_id: int) -> dict[str, str]:
    w = int(workspace_id)
    return {
        "people": f"select count(*) from people where workspace_id = {w}",
        "id_rows": f"select count(*) from identifiers where workspace_id = {w} and kind = 'id'",
        "email_rows": (
            f"select count(*) from identifiers where workspace_id = {w} and kind = 'email'"
        ),
        "events": f"select count(*) from events where workspace_id = {w}",
    }


def check_store(
    count: Callable[[str], int], workspace_id: int, tracks_low: int, tracks_high: int
) -> dict[str, Any]:
    """Every violation count (each must be 0), the store's figures, and whether the events
    stored are the track messages acknowledged, give or take those wrk sent but saw no answer
    to before it stopped (they may or may not have been stored)."""
    violations = {name: count(sql) for name, sql in store_queries(workspace_id).items()}
    figures = {name: count(sql) for name, sql in store_figures(workspace_id).items()}
    events_ok = tracks_low <= figures["events"] <= tracks_high
    return {
        **figures,
        "tracks_acknowledged": tracks_low,
        "tracks_sent": tracks_high,
        "events_match_acknowledged": events_ok,
        "violations": violations,
        "violation_total": sum(violations.values()) + (0 if events_ok else 1),
        "pass": events_ok and not any(violations.values()),
    }


def sqlite_counter(path: Path) -> Callable[[str], int]:
    def count(sql: str) -> int:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return int(db.execute(sql).fetchone()[0])

    return count


def tracks_range(result: dict[str, Any], before: int) -> tuple[int, int]:
    """(acknowledged, sent) track messages of the warm-up, the measured run and the checks."""
    runs = [result] + ([result["warmup"]] if result.get("warmup") else [])
    low = before + sum(run["tracks_acknowledged"] for run in runs)
    high = before + sum(run["tracks_built"] for run in runs)
    return low, high


def sqlite_batch(
    wrk: str, folder: Path, settings: BatchSettings, profile: Path | None
) -> dict[str, Any]:
    """Segment /v1/batch on a fresh SQLite database: measured, read back, counted."""
    server = Server(folder / "segment-sqlite", name="segment-sqlite")
    try:
        step("Creating a workspace for the Segment batch (SQLite) ...", server.create_workspace)
        step("Starting roster serve (SQLite) ...", server.start)
        console.print(f"  server pid {server.pid} at {server.url}, data in {server.folder}")
        before = post_check_batch(server)["tracks"]
        result = measure_batch(
            wrk, [server], settings, "POST /v1/batch (SQLite)", "s", False, profile
        )
        result["read_back"] = read_back(server, settings.users)
        result["server_peak_rss_mb"] = proc_memory_mb(server.pid).get("VmHWM", 0.0)
        step("Stopping the server (it finishes what it was answering) ...", server.stop)
        low, high = tracks_range(result, before)
        result["store"] = step(
            "Counting what the SQLite file holds ...",
            lambda: check_store(
                sqlite_counter(server.sqlite_path), server.credentials["workspace_id"], low, high
            ),
        )
    finally:
        server.stop()
    report_store("SQLite", result)
    return result


def report_store(name: str, result: dict[str, Any]) -> None:
    store = result["store"]
    read = result.get("read_back")
    bad = {key: value for key, value in store["violations"].items() if value}
    console.print(
        f"  {name} store: {store['people']:,} people, {store['events']:,} events for "
        f"{store['tracks_acknowledged']:,} track messages acknowledged "
        f"({store['tracks_sent']:,} sent); "
        + ("[green]consistent[/]" if store["pass"] else f"[bold red]violations {bad}[/]")
        + (f"; App API read-back {read['consistent']}/{read['found']}" if read is not None else "")
    )


def postgres_batch(
    wrk: str, folder: Path, settings: BatchSettings, admin_url: str
) -> dict[str, Any]:
    """Segment /v1/batch on a scratch PostgreSQL database served by two `roster serve`
    processes, each driven by its own wrk at the same time; then the identity checks in SQL.
    Skipped (with the reason) when PostgreSQL cannot be reached."""
    try:
        import psycopg
    except ImportError as error:
        return {"skipped": True, "reason": f"psycopg is not installed ({error})"}
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except Exception as error:  # any failure to connect means: skip
        reason = f"PostgreSQL at {safe_url(admin_url)} is not reachable: {error}".strip()
        return {"skipped": True, "reason": reason.splitlines()[0]}
    parts = urllib.parse.urlsplit(admin_url)
    name = f"roster_bench_{os.getpid()}_{int(time.time())}"
    url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))
    servers: list[Server] = []
    try:
        return run_postgres(wrk, folder, settings, admin, url, name, servers)
    except psycopg.Error as error:
        raise BenchError(f"PostgreSQL failed during the benchmark: {error}") from error
    finally:
        for server in servers:
            server.stop()
        try:
            admin.execute(f'drop database if exists "{name}" with (force)')
        except Exception as error:  # report it, do not hide the run's result
            console.print(
                f"[yellow]warning:[/] could not drop the scratch database {name}: {error}"
            )
        else:
            console.print(f"  dropped the scratch database {name}")
        admin.close()


def run_postgres(
    wrk: str,
    folder: Path,
    settings: BatchSettings,
    admin: Any,
    url: str,
    name: str,
    servers: list[Server],
) -> dict[str, Any]:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    admin.execute(f'create database "{name}"')
    console.print(f"  scratch database {name} on {parts.hostname}:{parts.port or 5432}")
    shared = folder / "segment-postgres-data"
    for index in (1, 2):
        servers.append(
            Server(
                folder / f"segment-postgres-{index}",
                database_url=url,
                data_dir=shared,
                name=f"segment-postgres-{index}",
                avoid_ports=tuple(server.port for server in servers),
            )
        )
    step("Creating a workspace for the Segment batch (PostgreSQL) ...", servers[0].create_workspace)
    servers[1].credentials = servers[0].credentials
    for server in servers:
        step(f"Starting {server.name} ...", server.start)
        console.print(f"  {server.name} pid {server.pid} at {server.url}")
    before = sum(post_check_batch(server)["tracks"] for server in servers)
    result = measure_batch(
        wrk, servers, settings, "POST /v1/batch (PostgreSQL, 2 servers)", "p", True
    )
    result["read_back"] = read_back(servers[0], settings.users)
    for one, server in zip(result["instances"], servers, strict=True):
        one["server_peak_rss_mb"] = proc_memory_mb(server.pid).get("VmHWM", 0.0)
    result["server_peak_rss_mb"] = max(one["server_peak_rss_mb"] for one in result["instances"])
    for server in servers:
        step(f"Stopping {server.name} (it finishes what it was answering) ...", server.stop)
    low, high = tracks_range(result, before)

    def count(sql: str) -> int:
        with psycopg.connect(url, autocommit=True) as db:
            row = db.execute(sql).fetchone()
            assert row is not None
            return int(row[0])

    result["store"] = step(
        "Checking identities in PostgreSQL ...",
        lambda: check_store(count, servers[0].credentials["workspace_id"], low, high),
    )
    result["database"] = safe_url(url) + " (a scratch database, dropped after the run)"
    version = admin.execute("show server_version").fetchone()
    result["server_version"] = str(version[0]).split()[0] if version else "unknown"
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


# -- the floor ------------------------------------------------------------------------------------


def run_floor(folder: Path) -> dict[str, Any]:
    if not FLOOR.exists():
        raise BenchError(
            f"the ingestion floor script is missing: {FLOOR} (expected at ../shared/bench/"
            "floor.py beside this repository)"
        )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before, _ = machine_cpu_seconds()
    with console.status("Running the raw-SQL floor (../shared/bench/floor.py) ..."):
        answer = subprocess.run(
            [sys.executable, str(FLOOR), "--path", str(folder)],
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
    found["cpu_s"] = round(own, 2)
    found["other_cpu_s"] = round(max(0.0, busy_after - busy_before - own), 2)
    console.print(
        f"  floor: [bold]{found['floor_events_per_s']:,} events/s[/] "
        f"(CPU s: floor {found['cpu_s']:.1f}, other {found['other_cpu_s']:.1f})"
    )
    return found


# -- checks ---------------------------------------------------------------------------------------


def check_calls(server: Server, stage: str) -> dict[str, Any]:
    """Before: both endpoints answer 2xx once. After: the customer PUTs were stored."""
    auth = "Basic " + server.basic
    bearer = "Bearer " + str(server.credentials.get("app_api_key", ""))
    if stage == "before":
        for path in ("/bench/noop/user-check", "/api/v1/customers/user-check"):
            status, body = server.call(
                "PUT", path, {"email": "user-check@example.com", "plan": "pro", "seen": 0}, auth
            )
            if not 200 <= status < 300:
                raise BenchError(
                    f"PUT {path} answered {status} before the benchmark: {body}\n"
                    "Is ROSTER_NOOP_ENDPOINT honoured, and do the workspace's keys work?"
                )
        return {}
    status, body = server.call("GET", "/v1/customers/user-1/attributes", None, bearer)
    attributes = body.get("customer", {}).get("attributes", {}) if isinstance(body, dict) else {}
    stored = status == 200 and attributes.get("plan") == "pro" and "seen" in attributes
    if not stored:
        console.print(
            f"[yellow]warning:[/] user-1 does not read back as written "
            f"(GET /v1/customers/user-1/attributes answered {status}: {str(body)[:200]})"
        )
    return {"customer_put_read_back": stored}


# -- the report -----------------------------------------------------------------------------------


def judge(results: dict[str, Any]) -> dict[str, Any]:
    ratio = results["ratio_put_customer_to_noop"]
    p99 = results["put_customer"]["latency_ms"]["p99"]
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
    }
    batch_ratio = results.get("ratio_segment_batch_to_floor")
    if batch_ratio is not None:
        targets["segment_batch_ratio"] = {
            "target": f">= {TARGET_BATCH_RATIO:.2f}",
            "value": batch_ratio,
            "pass": batch_ratio >= TARGET_BATCH_RATIO,
        }
    pg = results.get("segment_batch_postgres")
    if pg is not None:
        if pg.get("skipped"):
            for name, target in (
                ("postgres_batch_events_per_s", f">= {TARGET_POSTGRES_EVENTS:,.0f}"),
                ("postgres_identity_violations", "= 0"),
            ):
                targets[name] = {
                    "target": target,
                    "value": None,
                    "pass": None,
                    "skipped": pg["reason"],
                }
        else:
            events = pg["events_per_s"]
            violations = pg["store"]["violation_total"]
            targets["postgres_batch_events_per_s"] = {
                "target": f">= {TARGET_POSTGRES_EVENTS:,.0f}",
                "value": events,
                "pass": events >= TARGET_POSTGRES_EVENTS,
            }
            targets["postgres_identity_violations"] = {
                "target": "= 0",
                "value": violations,
                "pass": violations == 0,
            }
    return targets


def verdict(ok: bool | None) -> str:
    if ok is None:
        return "skipped"
    return "pass" if ok else "**FAIL**"


TARGET_NAMES = {
    "put_customer_ratio": "Track v1 customer PUT / no-op requests/s",
    "put_customer_p99_ms": "Track v1 customer PUT p99 (ms)",
    "segment_batch_ratio": "Segment `/v1/batch` SQLite events/s / floor events/s",
    "postgres_batch_events_per_s": "Segment `/v1/batch` PostgreSQL, 2 servers: events/s",
    "postgres_identity_violations": "Segment `/v1/batch` PostgreSQL: identity violations",
}

CHECK_NAMES = {
    "identifier_on_two_people": "an identifier (workspace, kind, value) on two people",
    "person_without_id": "a person without an id identifier",
    "person_with_several_ids": "a person with several id identifiers",
    "id_row_not_the_person_id": "an id identifier that is not its person's id",
    "id_not_of_the_traffic": "an id the traffic never sent",
    "email_row_on_another_person": "an email identifier not on the person of its user id",
    "identifier_without_person": "an identifier of no person",
    "event_without_person": "an event of no person",
    "ingestion_log_entries": "a message dropped or noted in the ingestion log",
}


def value_text(name: str, target: dict[str, Any]) -> str:
    value = target["value"]
    if value is None:
        return "—"
    if name.endswith("_per_s"):
        return f"{value:,.0f}"
    if name.endswith("_ms"):
        return f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else f"{value:.3f}"


def batch_table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """One row per run (or per server of a run); the CPU of wrk, PostgreSQL and the rest of
    the machine is known for a whole run only."""
    lines = [
        "| run | events/s | requests/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx "
        "| server CPU s | server CPU ms/event | wrk CPU s | PostgreSQL CPU s | other CPU s "
        "| peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def shown(value: Any) -> str:
        return "—" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)

    for name, r in rows:
        lat = r["latency_ms"]
        lines.append(
            f"| {name} | {r['events_per_s']:,.0f} | {r['rps']:,.1f} | {lat['p50']:.1f} "
            f"| {lat['p90']:.1f} | {lat['p99']:.1f} | {lat['max']:.1f} | {r['non_2xx']} "
            f"| {r['server_cpu_s']:.1f} | {shown(r.get('server_cpu_per_event_ms'))} "
            f"| {shown(r.get('wrk_cpu_s'))} | {shown(r.get('postgres_cpu_s'))} "
            f"| {shown(r.get('other_cpu_s'))} | {shown(r.get('server_peak_rss_mb'))} |"
        )
    return "\n".join(lines)


def store_table(store: dict[str, Any], read: dict[str, Any] | None) -> str:
    lines = ["| check | found | must be |", "|---|---:|---|"]
    for key, count in store["violations"].items():
        shown = str(count) if not count else f"**{count}**"
        lines.append(f"| {CHECK_NAMES.get(key, key)} | {shown} | 0 |")
    events = f"{store['events']:,}"
    lines.append(
        f"| events stored | {events if store['events_match_acknowledged'] else f'**{events}**'} "
        f"| between {store['tracks_acknowledged']:,} (track messages acknowledged) and "
        f"{store['tracks_sent']:,} (sent; wrk stops without waiting for the last answers) |"
    )
    lines.append(
        f"| people / id identifiers / email identifiers | {store['people']:,} / "
        f"{store['id_rows']:,} / {store['email_rows']:,} | one person per user id sent |"
    )
    if read is not None:
        shown = f"{read['consistent']} of {read['found']}"
        lines.append(
            f"| App API read-back (`GET /v1/customers/user-<n>/attributes`, {read['checked']} "
            f"users) | {shown if read['pass'] else f'**{shown}**'} | all found as written |"
        )
    return "\n".join(lines)


def write_doc(results: dict[str, Any]) -> None:
    m = results["machine"]
    s = results["settings"]
    b = s["segment_batch"]
    noop, put = results["noop"], results["put_customer"]
    targets = results["targets"]
    floor = results["floor"]
    ratio = results["ratio_put_customer_to_noop"]

    def row(name: str, r: dict[str, Any]) -> str:
        lat = r["latency_ms"]
        return (
            f"| {name} | {r['rps']:,.0f} | {lat['p50']:.2f} | {lat['p90']:.2f} | "
            f"{lat['p99']:.2f} | {lat['max']:.1f} | {r['non_2xx']} | {r['server_cpu_s']:.1f} | "
            f"{r['server_cpu_per_request_ms']:.3f} | {r['wrk_cpu_s']:.1f} | "
            f"{r['other_cpu_s']:.1f} |"
        )

    results_table = "\n".join(
        [
            "| endpoint | requests/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx "
            "| server CPU s | server CPU ms/request | wrk CPU s | other CPU s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            row("`PUT /bench/noop/{id}` (no-op)", noop),
            row("`PUT /api/v1/customers/{id}`", put),
        ]
    )
    ratio_t, p99_t = targets["put_customer_ratio"], targets["put_customer_p99_ms"]
    rss = results["server_peak_rss_mb"]
    targets_table = "\n".join(
        [
            "| figure | value | target | result |",
            "|---|---:|---|---|",
            f"| customer PUT / no-op requests/s | **{ratio:.3f}** | {ratio_t['target']} "
            f"| {verdict(ratio_t['pass'])} |",
            f"| customer PUT p99 | {put['latency_ms']['p99']:.2f} ms | {p99_t['target']} ms "
            f"| {verdict(p99_t['pass'])} |",
            f"| server peak RSS (whole run) | {rss:.0f} MB | < 300 MB under sustained load "
            f"| {verdict(rss < 300)} |",
        ]
    )

    sq = results["segment_batch_sqlite"]
    batch_ratio = results["ratio_segment_batch_to_floor"]
    batch_t = targets["segment_batch_ratio"]
    sqlite_section = "\n\n".join(
        [
            batch_table([("`POST /v1/batch`, SQLite, 1 server", sq)]),
            "\n".join(
                [
                    "| figure | value | target | result |",
                    "|---|---:|---|---|",
                    f"| ingestion floor (floor.py, same run) | "
                    f"{floor['floor_events_per_s']:,} events/s | baseline | — |",
                    f"| `/v1/batch` events/s / floor events/s | **{batch_ratio:.3f}** "
                    f"| {batch_t['target']} | {verdict(batch_t['pass'])} |",
                    f"| server peak RSS | {sq['server_peak_rss_mb']:.0f} MB | < 300 MB "
                    f"| {verdict(sq['server_peak_rss_mb'] < 300)} |",
                ]
            ),
            "What the SQLite file holds afterwards (counted with sqlite3 once the server had "
            "stopped):\n\n" + store_table(sq["store"], sq.get("read_back")),
        ]
    )

    pg = results["segment_batch_postgres"]
    if pg.get("skipped"):
        postgres_section = f"**Skipped:** {pg['reason']}."
    else:
        ev_t = targets["postgres_batch_events_per_s"]
        id_t = targets["postgres_identity_violations"]
        rows = [(f"`{one['server']}`", one) for one in pg["instances"]]
        rows.append(("**both servers**", pg))
        postgres_section = "\n\n".join(
            [
                batch_table(rows),
                "\n".join(
                    [
                        "| figure | value | target | result |",
                        "|---|---:|---|---|",
                        f"| events/s, both servers | **{pg['events_per_s']:,.0f}** "
                        f"| {ev_t['target']} | {verdict(ev_t['pass'])} |",
                        f"| identity violations | **{pg['store']['violation_total']}** "
                        f"| {id_t['target']} | {verdict(id_t['pass'])} |",
                        f"| server peak RSS (larger of the two) "
                        f"| {pg['server_peak_rss_mb']:.0f} MB "
                        f"| < 300 MB | {verdict(pg['server_peak_rss_mb'] < 300)} |",
                    ]
                ),
                "Identity checks, in SQL on the scratch database once both servers had "
                "stopped:\n\n" + store_table(pg["store"], pg.get("read_back")),
            ]
        )

    all_rows = ["| figure | value | target | result |", "|---|---:|---|---|"]
    for key, target in targets.items():
        note = f" ({target['skipped']})" if target.get("skipped") else ""
        shown = value_text(key, target)
        if target["pass"] is False:
            shown = f"**{shown}**"
        all_rows.append(
            f"| {TARGET_NAMES.get(key, key)} | {shown} | {target['target']} "
            f"| {verdict(target['pass'])}{note} |"
        )
    all_table = "\n".join(all_rows)

    mix = f"{put['new_people_share']:.0%}"
    noisy = ""
    if results["noisy"]:
        noisy = (
            "\n> **Noisy run:** other processes used CPU during the measured runs (see"
            '\n> "other CPU s"), so these figures understate roster; run `make bench` again on a'
            "\n> quiet machine.\n"
        )
    missed = [TARGET_NAMES.get(name, name) for name, t in targets.items() if t["pass"] is False]
    skipped = [TARGET_NAMES.get(name, name) for name, t in targets.items() if t["pass"] is None]
    status_line = (
        "**All targets met.**" if not missed else "**Targets missed: " + "; ".join(missed) + ".**"
    )
    if skipped:
        status_line += " Not measured: " + "; ".join(skipped) + "."
    invalid = ""
    if not results["valid"]:
        invalid = (
            "\n> **This run is not valid:** "
            + "; ".join(results["problems"])
            + ". Its figures are shown for diagnosis only.\n"
        )
    text = f"""# Benchmarks

This page is rewritten by `make bench` (`.venv/bin/python bench/run.py`); the same figures, and
more, are in [`bench/results.json`](../bench/results.json). The targets come from the Targets
section of the product spec.

## What is measured

- **Track v1 `PUT /api/v1/customers/{{id}}`** — an identify call, acknowledged after its SQLite
  transaction commits, against **`PUT /bench/noop/{{id}}`**, an endpoint on the same server
  (exposed only with `ROSTER_NOOP_ENDPOINT=1`) that authenticates and parses exactly like the real
  call but writes nothing. The ratio of the two throughputs is what roster's write path costs on
  top of HTTP, auth and parsing.
  Target: **ratio ≥ {TARGET_RATIO:.2f}** and **p99 < {TARGET_P99_MS:.0f} ms** for the customer PUT.
- Load: [wrk](https://github.com/wg/wrk) with [`bench/put_customer.lua`](../bench/put_customer.lua),
  {s["connections"]} connections and {s["threads"]} threads; per endpoint a
  {s["warmup_s"]:g} s warm-up, then {s["duration_s"]:g} s measured, all on one server.
  Each request is `PUT …/user-<n>` with Basic auth and the body
  `{{"email": "user-<n>@example.com", "plan": "pro", "seen": <counter>}}`,
  cycling over {s["users"]:,} users from user-0 in each wrk run. A user's first customer PUT
  creates the person, later ones update them (`seen` changes on every call); in the latest run
  about {mix} of the measured customer PUTs created a person. Non-2xx answers are counted and must
  be zero.
- **Segment `POST /v1/batch` on SQLite** — a fresh server and database; each request carries
  {b["batch"]} messages, alternately an identify and a track:

  ```json
  {{"type":"identify","userId":"user-<n>","messageId":"…",
   "traits":{{"email":"user-<n>@example.com","plan":"<free|pro|team>","seen":<counter>}}}}
  {{"type":"track","userId":"user-<n>","event":"Order Completed","messageId":"…",
   "properties":{{"revenue":9.99,"sku":"sku-1","n":<counter>}}}}
  ```

  with users drawn at random from {s["users"]:,}: the traffic `floor.py` writes. The write key
  is sent as Bearer. Load: wrk with [`bench/segment_batch.lua`](../bench/segment_batch.lua),
  which builds each body (every messageId carries the wrk run, thread and request, so none is
  de-duplicated away), {b["connections"]} connections and {b["threads"]} threads;
  a {b["warmup_s"]:g} s warm-up then {b["duration_s"]:g} s measured.
  **events/s = 2xx requests/s x {b["batch"]}**; the answer comes after the commit.
  Target: **≥ {TARGET_BATCH_RATIO:.0%} of the floor's events/s** (the floor measured in the same
  run). Afterwards a sample of users is read back through the App API, and the SQLite file is
  counted: the events stored must be the track messages acknowledged (up to those wrk sent but
  stopped waiting for), and the identity checks below must find nothing.
- **Segment `POST /v1/batch` on PostgreSQL, 2 server processes** — a scratch database (created,
  then dropped), two `roster serve --database-url postgresql://…` processes on two ports, each
  driven by its own wrk ({b["connections"]} connections, {b["threads"]} threads each) at the same
  time with the same traffic over the same {s["users"]:,} users; their events/s are added. Target:
  **≥ {TARGET_POSTGRES_EVENTS:,.0f} events/s** and **zero identity violations**, checked in SQL
  once both servers have stopped: no identifier on two people, every person has exactly one id
  (so one person per user id sent), each email identifier on the person of its user id, no
  identifier or event without a person, nothing dropped, and as many events as track messages
  acknowledged.
- CPU: wrk shares the machine's cores with the server, so the CPU time of both is recorded (wrk
  from `getrusage(RUSAGE_CHILDREN)`, the server from `/proc/<pid>/stat`; PostgreSQL's processes
  from `/proc` too), with the server's peak RSS (`VmHWM`); "other CPU s" is what the rest of the
  machine used meanwhile (from `/proc/stat`), so a run disturbed by other work can be told apart.
  wrk is a closed-loop generator: latencies are those of its connections each waiting for its
  answer, not of an open arrival rate.
- **Ingestion floor**: `../shared/bench/floor.py`, the same writes as the Segment batch benchmark
  ({floor["events"]:,} events, {floor["batch"]} per transaction) done by a bare sqlite3 script (no
  HTTP, no rules), run in the same run on the same disk.

## How to run

```sh
make bench                      # or: .venv/bin/python bench/run.py
.venv/bin/python bench/run.py --help   # durations, connections, threads, --postgres-url, --keep
.venv/bin/python bench/run.py --no-postgres             # SQLite parts only
.venv/bin/python bench/run.py --profile /tmp/roster-profile   # py-spy on the SQLite batch run
```

It needs wrk (`apt-get install -y wrk`; run as root with apt available, it installs wrk itself)
and `../shared/bench/floor.py` beside the repository; the PostgreSQL part needs a server where
the URL given by `--postgres-url` (default `ROSTER_BENCH_POSTGRES_URL` or
`postgresql://postgres@127.0.0.1:5432/test`) may create and drop a database, and is recorded as
skipped when it cannot connect. It exits non-zero only when something failed to run (or answered
non-2xx, or the SQLite batch was not stored as acknowledged); a missed target is printed in bold
and recorded here. The whole run takes about two minutes.

## Machine

| | |
|---|---|
| CPUs | {m["nproc"]} x {m["cpu_model"]} ({m["cpus_usable"]} usable) |
| memory | {m["memory_mb"]:,} MB |
| kernel | {m["kernel"]} |
| Python / SQLite / PostgreSQL | {m["python"]} / {m["sqlite"]} / {m.get("postgresql", "—")} |
| wrk | {m["wrk"]} |
| roster | {m["roster"]} (commit {m["commit"]}{", src/ modified" if m["src_dirty"] else ""}) |
| date (UTC) | {results["date"]} |

## Latest results
{invalid}{noisy}
{all_table}

{status_line}

### Track v1 `PUT /api/v1/customers/{{id}}` (SQLite)

{results_table}

{targets_table}

### Segment `POST /v1/batch` (SQLite)

{sqlite_section}

### Segment `POST /v1/batch` (PostgreSQL, 2 server processes)

{postgres_section}

## Reading these numbers

Absolute numbers on shared or virtual machines are noisy: neighbours, CPU steal and turbo can move
requests/s by tens of percent from one run to the next. The **ratios** (customer PUT against the
no-op endpoint, measured minutes apart on the same server; `/v1/batch` against the floor) are the
binding figures, because both sides of each see the same machine. Compare absolute figures only
between runs on the same machine. On SQLite the server is one process (one writer), so its Python
work can use one core at most: "server CPU s" near the measured seconds means that core was full,
and "server CPU ms/request" (or per event) is then the cost that bounds throughput. On
PostgreSQL the two servers, the two wrk and PostgreSQL itself share the same cores.
"""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)


def summary_table(results: dict[str, Any]) -> Table:
    table = Table(title="roster benchmark")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target")
    table.add_column("result")
    targets = results["targets"]

    def mark(ok: bool | None) -> str:
        if ok is None:
            return "[yellow]skipped[/]"
        return "[green]pass[/]" if ok else "[bold red]MISSED[/]"

    table.add_row("no-op requests/s", f"{results['noop']['rps']:,.0f}", "", "")
    table.add_row("customer PUT requests/s", f"{results['put_customer']['rps']:,.0f}", "", "")
    t = targets["put_customer_ratio"]
    table.add_row("ratio customer PUT / no-op", f"{t['value']:.3f}", t["target"], mark(t["pass"]))
    t = targets["put_customer_p99_ms"]
    table.add_row("customer PUT p99 ms", f"{t['value']:.2f}", t["target"], mark(t["pass"]))
    table.add_row("server peak RSS MB", f"{results['server_peak_rss_mb']:.0f}", "< 300", "")
    table.add_row("floor events/s", f"{results['floor']['floor_events_per_s']:,}", "baseline", "")
    sq = results["segment_batch_sqlite"]
    table.add_row("/v1/batch SQLite events/s", f"{sq['events_per_s']:,.0f}", "", "")
    t = targets["segment_batch_ratio"]
    table.add_row("ratio /v1/batch / floor", f"{t['value']:.3f}", t["target"], mark(t["pass"]))
    table.add_row(
        "/v1/batch SQLite stored as acknowledged",
        "yes" if sq["store"]["pass"] else "NO",
        "yes",
        mark(sq["store"]["pass"]),
    )
    t = targets["postgres_batch_events_per_s"]
    value = "—" if t["value"] is None else f"{t['value']:,.0f}"
    table.add_row("/v1/batch PostgreSQL 2 servers events/s", value, t["target"], mark(t["pass"]))
    t = targets["postgres_identity_violations"]
    value = "—" if t["value"] is None else str(t["value"])
    table.add_row("PostgreSQL identity violations", value, t["target"], mark(t["pass"]))
    return table


# -- main -----------------------------------------------------------------------------------------


def step(title: str, action: Callable[[], Any]) -> Any:
    with console.status(title):
        return action()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--batch-connections",
        type=int,
        default=8,
        help="wrk connections for /v1/batch, per server",
    )
    parser.add_argument(
        "--batch-threads", type=int, default=2, help="wrk threads for /v1/batch, per server"
    )
    parser.add_argument(
        "--postgres-url",
        default=POSTGRES_URL,
        help="a PostgreSQL database to connect to for creating (and dropping) a scratch one",
    )
    parser.add_argument(
        "--no-postgres", action="store_true", help="skip the PostgreSQL /v1/batch benchmark"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="record the SQLite /v1/batch server with py-spy into DIR (collapsed stacks)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (database, server log)"
    )
    args = parser.parse_args()
    settings = Settings(args.connections, args.threads, args.duration, args.warmup, USERS)
    batch_settings = BatchSettings(
        args.batch_connections, args.batch_threads, args.duration, args.warmup, USERS, BATCH
    )

    try:
        if not FLOOR.exists():  # fail before spending a minute on the HTTP runs
            raise BenchError(
                f"the ingestion floor script is missing: {FLOOR} (expected at "
                "../shared/bench/floor.py relative to the repository)"
            )
        wrk = ensure_wrk()
        info = machine()
        console.print(
            f"[bold]roster benchmark[/] on {info['nproc']} x {info['cpu_model']}, "
            f"{info['memory_mb']:,} MB; Python {info['python']}, SQLite {info['sqlite']}, "
            f"{info['wrk']}"
        )
        folder = Path(tempfile.mkdtemp(prefix="roster-bench-"))
        server = Server(folder)
        try:
            step("Creating the bench workspace ...", server.create_workspace)
            step("Starting roster serve ...", server.start)
            console.print(f"  server pid {server.pid} at {server.url}, data in {folder}")
            check_calls(server, "before")
            noop = measure(wrk, server, "/bench/noop", "PUT /bench/noop/{id}", settings)
            put = measure(wrk, server, "/api/v1/customers", "PUT /api/v1/customers/{id}", settings)
            checks = check_calls(server, "after")
            memory = proc_memory_mb(server.pid)
            server_cpu_total = proc_cpu_seconds(server.pid)
            step("Stopping the server ...", server.stop)
            segment_sqlite = sqlite_batch(wrk, folder, batch_settings, args.profile)
            floor = run_floor(folder)
            if args.no_postgres:
                segment_postgres: dict[str, Any] = {
                    "skipped": True,
                    "reason": "--no-postgres was given",
                }
            else:
                segment_postgres = postgres_batch(wrk, folder, batch_settings, args.postgres_url)
            if segment_postgres.get("server_version"):
                info["postgresql"] = segment_postgres["server_version"]
        finally:
            server.stop()
            if args.keep:
                console.print(f"Kept {folder}")
            else:
                shutil.rmtree(folder, ignore_errors=True)
    except BenchError as error:
        console.print(f"[bold red]The benchmark failed to run:[/] {error}")
        return 1
    except KeyboardInterrupt:
        console.print("[bold red]Interrupted.[/]")
        return 130

    problems = []
    for name, result in (("no-op", noop), ("customer PUT", put)):
        if result["non_2xx"]:
            first = result["first_non_2xx"]
            problems.append(
                f"{name}: {result['non_2xx']} non-2xx answers (first: {first['status']} "
                f"{first['body'][:120]})"
            )
        if any(result["socket_errors"].values()):
            problems.append(f"{name}: socket errors {result['socket_errors']}")
        if result["warmup"] and result["warmup"]["non_2xx"]:
            problems.append(f"{name} warm-up: {result['warmup']['non_2xx']} non-2xx answers")
    batch_runs = [("/v1/batch SQLite", segment_sqlite)]
    if not segment_postgres.get("skipped"):
        batch_runs.append(("/v1/batch PostgreSQL", segment_postgres))
    for name, result in batch_runs:
        for label, run in ((name, result), (f"{name} warm-up", result["warmup"])):
            if not run:
                continue
            if run["non_2xx"]:
                first = run["first_non_2xx"]
                problems.append(
                    f"{label}: {run['non_2xx']} non-2xx answers (first: {first['status']} "
                    f"{first['body'][:120]})"
                )
            if any(run["socket_errors"].values()):
                problems.append(f"{label}: socket errors {run['socket_errors']}")
    if not segment_sqlite["store"]["pass"]:
        bad = {k: v for k, v in segment_sqlite["store"]["violations"].items() if v}
        problems.append(
            "/v1/batch SQLite: not stored as acknowledged "
            f"({segment_sqlite['store']['events']} events for "
            f"{segment_sqlite['store']['tracks_acknowledged']} track messages acknowledged; "
            f"violations {bad})"
        )

    ratio = round(put["rps"] / noop["rps"], 3) if noop["rps"] else 0.0
    # Each wrk run starts again at user-0, so the people made before the measured run are about
    # the warm-up's count; the measured run creates the ones past them.
    warm_requests = put["warmup"]["requests"] if put["warmup"] else 0
    new_people = max(0, min(USERS, put["requests"]) - min(USERS, warm_requests))
    put["new_people_estimate"] = new_people
    put["new_people_share"] = round(new_people / put["requests"], 3) if put["requests"] else 0.0
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "machine": info,
        "settings": {
            "connections": settings.connections,
            "threads": settings.threads,
            "duration_s": settings.duration,
            "warmup_s": settings.warmup,
            "users": settings.users,
            "database": "sqlite",
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
        "ratio_put_customer_to_noop": ratio,
        "put_customer_p99_ms": put["latency_ms"]["p99"],
        "server_peak_rss_mb": memory.get("VmHWM", 0.0),
        "server_cpu_total_s": round(server_cpu_total, 2),
        "floor": floor,
        "floor_events_per_s": floor["floor_events_per_s"],
        "checks": checks,
        "segment_batch_sqlite": segment_sqlite,
        "ratio_segment_batch_to_floor": (
            round(segment_sqlite["events_per_s"] / floor["floor_events_per_s"], 3)
            if floor["floor_events_per_s"]
            else 0.0
        ),
        "segment_batch_postgres": segment_postgres,
        # Other work took more than 10% of one core's time during a measured run.
        "noisy": any(
            r["other_cpu_s"] > 0.10 * r["duration_s"]
            for r in (noop, put, *(run for _, run in batch_runs))
        ),
        "valid": not problems,
        "problems": problems,
    }
    results["targets"] = judge(results)
    results["targets_met"] = all(t["pass"] is not False for t in results["targets"].values())
    results["targets_skipped"] = [
        name for name, t in results["targets"].items() if t["pass"] is None
    ]

    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    write_doc(results)
    console.print(summary_table(results))
    if segment_postgres.get("skipped"):
        console.print(f"[yellow]PostgreSQL /v1/batch skipped:[/] {segment_postgres['reason']}")
    for name, target in results["targets"].items():
        if target["pass"] is False:
            console.print(
                f"[bold red]Target missed: {name} = {target['value']} (target {target['target']})"
            )
    if results["noisy"]:
        console.print(
            "[bold yellow]Noisy run:[/] other processes used CPU during the measured runs "
            f"(other CPU s: no-op {noop['other_cpu_s']}, customer PUT {put['other_cpu_s']}, "
            + ", ".join(f"{name} {run['other_cpu_s']}" for name, run in batch_runs)
            + ")."
        )
    console.print(f"Wrote {RESULTS.relative_to(REPO)} and {DOC.relative_to(REPO)}.")
    if problems:
        console.print("[bold red]The run is not valid:[/] " + "; ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
