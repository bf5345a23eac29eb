#!/usr/bin/env python3
"""roster's benchmark (`make bench`): Track v1 `PUT /api/v1/customers/{id}` against a no-op
endpoint on the same server, plus the raw-SQL ingestion floor, on this machine.

    .venv/bin/python bench/run.py [--duration 10] [--warmup 3] [--connections 32] [--threads 2]

1. Starts `roster serve` (SQLite in a temporary folder, ROSTER_NOOP_ENDPOINT=1) on a free port,
   after creating a workspace with `roster workspaces create bench --json`.
2. Drives it with wrk and bench/put_customer.lua (10,000 users, Basic auth, a small JSON body):
   first `PUT /bench/noop/{id}` (authenticates and parses like the real call, writes nothing),
   then `PUT /api/v1/customers/{id}`; each a short warm-up, then the measured run. It records
   requests/s, latency percentiles, non-2xx answers, the CPU time of wrk and of the server, and
   the server's peak RSS.
3. Runs ../shared/bench/floor.py (the baseline of the later Segment batch benchmark) on the same
   disk and records its events/s.
4. Writes bench/results.json and rewrites docs/benchmarks.md.

Exits 0 when everything ran, whether or not the targets were met (a missed target is printed in
bold and written to both files); 1 when something failed to run or answered other than 2xx.
"""

from __future__ import annotations

import argparse
import base64
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
RESULTS = BENCH / "results.json"
DOC = REPO / "docs" / "benchmarks.md"
FLOOR = (REPO / ".." / "shared" / "bench" / "floor.py").resolve()

USERS = 10_000
TARGET_RATIO = 0.50  # PRODUCT.md Targets: customer PUT >= 50% of the no-op endpoint's requests/s
TARGET_P99_MS = 50.0  # ... with p99 < 50 ms
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
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {key: value for key, value in os.environ.items() if not key.startswith("ROSTER_")}
        env.update(
            ROSTER_DATABASE_URL=f"sqlite:///{folder / 'roster.db'}",
            ROSTER_DATA_DIR=str(folder / "data"),
            ROSTER_HOST="127.0.0.1",
            ROSTER_PORT=str(self.port),
            ROSTER_NOOP_ENDPOINT="1",
            ROSTER_LOG_LEVEL="warning",
        )
        self.env = env
        self.log_path = folder / "server.log"
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
            if not {"site_id", "track_api_key"} <= set(self.credentials):
                raise KeyError("site_id")
        except (ValueError, IndexError, KeyError) as error:
            raise BenchError(
                f"`roster workspaces create --json` printed no credentials: {answer.stdout!r}"
            ) from error

    @property
    def basic(self) -> str:
        pair = f"{self.credentials['site_id']}:{self.credentials['track_api_key']}"
        return base64.b64encode(pair.encode()).decode()

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
                    f"`roster serve` exited with {self.process.returncode}:\n{self.log_tail()}"
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


def run_wrk(
    wrk: str, server: Server, prefix: str, seconds: float, settings: Settings, label: str
) -> dict[str, Any]:
    """One wrk run with a Rich progress bar; its parsed summary plus CPU use."""
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
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = proc_cpu_seconds(server.pid)
    busy_before, steal_before = machine_cpu_seconds()
    wall_start = time.perf_counter()
    with (
        tempfile.TemporaryFile("w+") as out,
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ) as progress,
    ):
        task = progress.add_task(label, total=seconds)
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, text=True)
        while process.poll() is None:
            progress.update(task, completed=min(seconds, time.perf_counter() - wall_start))
            time.sleep(0.1)
        out.seek(0)
        output = out.read()
    wall = time.perf_counter() - wall_start
    server_cpu = proc_cpu_seconds(server.pid) - server_before
    busy_after, steal_after = machine_cpu_seconds()
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (after_children.ru_utime - before_children.ru_utime) + (
        after_children.ru_stime - before_children.ru_stime
    )
    if process.returncode != 0:
        raise BenchError(f"wrk exited with {process.returncode}:\n{output.strip()}")
    found = re.search(r"^WRK_JSON (.*)$", output, re.MULTILINE)
    if found is None:
        raise BenchError(f"wrk printed no WRK_JSON summary (is the Lua done() intact?):\n{output}")
    raw = json.loads(found.group(1))
    if server.process is not None and server.process.poll() is not None:
        raise BenchError(f"the server died during the run:\n{server.log_tail()}")
    duration = raw["duration_us"] / 1e6
    latency = {key: round(value / 1000, 3) for key, value in raw["latency_us"].items()}
    socket_errors = {key: raw["errors"][key] for key in ("connect", "read", "write", "timeout")}
    return {
        "requests": raw["requests"],
        "duration_s": round(duration, 3),
        "rps": round(raw["requests"] / duration, 1) if duration else 0.0,
        "latency_ms": latency,
        "non_2xx": raw["non_2xx"],
        "first_non_2xx": (
            {"status": raw["first_non_2xx_status"], "body": raw["first_non_2xx_body"]}
            if raw["non_2xx"]
            else None
        ),
        "socket_errors": socket_errors,
        "wrk_cpu_s": round(wrk_cpu, 2),
        "server_cpu_s": round(server_cpu, 2),
        "wall_s": round(wall, 2),
        "server_cpu_per_request_ms": (
            round(server_cpu / raw["requests"] * 1000, 4) if raw["requests"] else None
        ),
        "server_memory_mb": proc_memory_mb(server.pid),
        # CPU that neither the server nor wrk used during the run (other processes, the kernel
        # beyond their share) and CPU stolen by the hypervisor: a noisy run shows up here.
        "other_cpu_s": round(max(0.0, busy_after - busy_before - server_cpu - wrk_cpu), 2),
        "steal_cpu_s": round(steal_after - steal_before, 2),
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
    return {
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


def verdict(ok: bool) -> str:
    return "pass" if ok else "**FAIL**"


def write_doc(results: dict[str, Any]) -> None:
    m = results["machine"]
    s = results["settings"]
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
            f"| ingestion floor (floor.py) | {floor['floor_events_per_s']:,} events/s "
            "| baseline for `/v1/batch` | — |",
        ]
    )
    mix = f"{put['new_people_share']:.0%}"
    noisy = ""
    if results["noisy"]:
        noisy = (
            "\n> **Noisy run:** other processes used CPU during the measured runs (see"
            '\n> "other CPU s"), so these figures understate roster; run `make bench` again on a'
            "\n> quiet machine.\n"
        )
    missed = [name for name, t in targets.items() if not t["pass"]]
    status_line = (
        "**All Track v1 targets met.**"
        if not missed
        else "**Targets missed: " + ", ".join(missed) + ".**"
    )
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
- CPU: wrk shares the machine's cores with the server, so the CPU time of both is recorded (wrk
  from `getrusage(RUSAGE_CHILDREN)`, the server from `/proc/<pid>/stat`), with the server's peak
  RSS (`VmHWM`); "other CPU s" is what the rest of the machine used meanwhile (from
  `/proc/stat`), so a run disturbed by other work can be told apart. wrk is a closed-loop
  generator: latencies are those of {s["connections"]} callers each waiting for its answer, not
  of an open arrival rate.
- **Ingestion floor**: `../shared/bench/floor.py`, the same writes as the Segment batch benchmark
  done by a bare sqlite3 script (no HTTP, no rules), run in the same run on the same disk. It is
  the baseline of the Segment `/v1/batch` benchmark that comes later (target: ≥ 40% of it).

## How to run

```sh
make bench                      # or: .venv/bin/python bench/run.py
.venv/bin/python bench/run.py --help   # duration, warm-up, connections, threads, --keep
```

It needs wrk (`apt-get install -y wrk`; run as root with apt available, it installs wrk itself)
and `../shared/bench/floor.py` beside the repository. It exits non-zero only when something failed
to run (or answered non-2xx); a missed target is printed in bold and recorded here.

## Machine

| | |
|---|---|
| CPUs | {m["nproc"]} x {m["cpu_model"]} ({m["cpus_usable"]} usable) |
| memory | {m["memory_mb"]:,} MB |
| kernel | {m["kernel"]} |
| Python / SQLite | {m["python"]} / {m["sqlite"]} |
| wrk | {m["wrk"]} |
| roster | {m["roster"]} (commit {m["commit"]}{", src/ modified" if m["src_dirty"] else ""}) |
| date (UTC) | {results["date"]} |

## Latest results
{invalid}{noisy}
{results_table}

{targets_table}

{status_line}

## Reading these numbers

Absolute numbers on shared or virtual machines are noisy: neighbours, CPU steal and turbo can move
requests/s by tens of percent from one run to the next. The **ratios** (customer PUT against the
no-op endpoint, measured minutes apart on the same server; `/v1/batch` against the floor) are the
binding figures, because both sides of each see the same machine. Compare absolute figures only
between runs on the same machine. On SQLite the server is one process (one writer), so its Python
work can use one core at most: "server CPU s" near the measured seconds means that core was full,
and "server CPU ms/request" is then the cost that bounds requests/s.
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

    def mark(ok: bool) -> str:
        return "[green]pass[/]" if ok else "[bold red]MISSED[/]"

    table.add_row("no-op requests/s", f"{results['noop']['rps']:,.0f}", "", "")
    table.add_row("customer PUT requests/s", f"{results['put_customer']['rps']:,.0f}", "", "")
    t = targets["put_customer_ratio"]
    table.add_row("ratio customer PUT / no-op", f"{t['value']:.3f}", t["target"], mark(t["pass"]))
    t = targets["put_customer_p99_ms"]
    table.add_row("customer PUT p99 ms", f"{t['value']:.2f}", t["target"], mark(t["pass"]))
    table.add_row("server peak RSS MB", f"{results['server_peak_rss_mb']:.0f}", "< 300", "")
    table.add_row("floor events/s", f"{results['floor']['floor_events_per_s']:,}", "baseline", "")
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
        "--keep", action="store_true", help="keep the temporary folder (database, server log)"
    )
    args = parser.parse_args()
    settings = Settings(args.connections, args.threads, args.duration, args.warmup, USERS)

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
            floor = run_floor(folder)
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
        # Other work took more than 10% of one core's time during a measured run.
        "noisy": any(r["other_cpu_s"] > 0.10 * r["duration_s"] for r in (noop, put)),
        "valid": not problems,
        "problems": problems,
    }
    results["targets"] = judge(results)
    results["targets_met"] = all(t["pass"] for t in results["targets"].values())

    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    write_doc(results)
    console.print(summary_table(results))
    for name, target in results["targets"].items():
        if not target["pass"]:
            console.print(
                f"[bold red]Target missed: {name} = {target['value']} (target {target['target']})"
            )
    if results["noisy"]:
        console.print(
            "[bold yellow]Noisy run:[/] other processes used CPU during the measured runs "
            f"(other CPU s: no-op {noop['other_cpu_s']}, customer PUT {put['other_cpu_s']})."
        )
    console.print(f"Wrote {RESULTS.relative_to(REPO)} and {DOC.relative_to(REPO)}.")
    if problems:
        console.print("[bold red]The run is not valid:[/] " + "; ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
