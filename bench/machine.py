"""The machine a run is measured on, wrk, and CPU time from /proc (who used the cores while a
load ran: the server, wrk, PostgreSQL, or something else)."""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from bench import REPO, BenchError, console

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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


def _stat_cpu_seconds(stat: str) -> float:
    fields = stat[stat.rindex(")") + 2 :].split()  # the fields after "pid (comm)"
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


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
                total += _stat_cpu_seconds(handle.read())
        except OSError:
            continue
    return total


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
        if stat[stat.find("(") + 1 : stat.rindex(")")] == "postgres":
            total += _stat_cpu_seconds(stat)
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


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`, as /proc lists them now."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended since the listing
        # pid (comm) state ppid ...: the command name may hold spaces and parentheses.
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def proc_memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (the peak) of a process, in MB."""
    found: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                found[key] = round(int(value.split()[0]) / 1024, 1)
    return found
