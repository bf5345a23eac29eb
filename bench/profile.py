"""Flame graphs of the servers under load: py-spy samples a server during one measured run and
writes DIR/NAME.svg (the flame graph) and DIR/NAME.txt (the same samples as collapsed stacks,
which flamegraph.pl, inferno or speedscope read); the results name the functions of src/roster
where the time went. `make bench` takes them in a pass of its own after the measured runs
(`--profiles DIR`, bench/profiles by default), so that sampling never slows a judged figure."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import REPO, BenchError, console
from bench.markdown import table

ROSTER_FRAME = re.compile(r"[(/]roster/")  # a py-spy frame in roster's own source
LINE_NUMBER = re.compile(r":\d+\)$")
FORMATS = {"raw": ".txt", "flamegraph": ".svg"}
# Where a sample's time goes, decided by its innermost frame that one of these matches (checked
# in this order for each frame, from the innermost outwards).
WHERE: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("SQL: statements, savepoints, COMMIT, checkpoints (the database and its driver)",
         r"\(roster/storage/statements\.py|\(sqlalchemy/|\(psycopg|_checkpoint \(roster|"
         r"_begin_postgres|\(roster/storage/database\.py"),
        ("validation: checks, messages into operations",
         r"\(roster/api/(parsing|segment_messages|segment|track_v1|track_v2|noop)\.py|"
         r"\(roster/domain/(limits|operations|identifiers)\.py"),
        ("identity rules (roster/domain)", r"\(roster/domain/"),
        ("the store and ingestion around the rules (caches, rows held back)",
         r"\(roster/storage/(sql_store|merge_rows)\.py|\(roster/services/ingestion\.py"),
        ("writer hand-off (queue, futures, wake-ups)",
         r"\(roster/storage/writer\.py|\(concurrent/futures|\(asyncio/futures\.py|\(queue\.py"),
        ("authentication (keys from the cache)",
         r"\(roster/api/(auth|rate_limit)\.py|\(roster/services/workspaces\.py|"
         r"\(roster/storage/vault\.py"),
        ("reading and decoding the body (JSON)",
         r"\(roster/api/bodies\.py|\(starlette/requests\.py"),
        ("encoding the answer", r"\(roster/api/answers\.py|\(starlette/responses\.py"),
        ("routing and dependency injection (FastAPI)",
         r"\(fastapi/(routing|dependencies)|\(starlette/routing\.py|\(anyio/|"
         r"\(starlette/concurrency\.py"),
        ("middleware: errors, request ids, metrics, raw paths",
         r"\(starlette/(middleware|_exception_handler)|\(fastapi/(middleware|_body_limit|telemetry)|"
         r"\(roster/(api/(telemetry|paths|errors)|services/telemetry)\.py|\(prometheus_client/|"
         r"\(uvicorn/middleware"),
        ("HTTP (uvicorn: parsing requests, writing answers)", r"\(uvicorn/|\(httptools"),
        ("the event loop (asyncio)", r"\(asyncio/"),
    )
)  # fmt: skip
OTHER = "other (threads, the interpreter)"


def py_spy() -> Path:
    """py-spy from the venv, or what to do to have it."""
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        raise BenchError(
            f"profiles need py-spy in the venv ({spy} is missing): "
            f"{Path(sys.executable).parent / 'pip'} install py-spy, or run with --no-profiles"
        )
    return spy


@dataclass(frozen=True)
class Profile:
    """Where one measured run's samples go: `folder`/`name`.svg and .txt."""

    folder: Path
    name: str

    def path(self, fmt: str) -> Path:
        return self.folder / f"{self.name}{FORMATS[fmt]}"

    def start(self, pid: int, seconds: float) -> list[subprocess.Popen[bytes]]:
        """Two py-spy samplers of the server for `seconds`, one per format (non-blocking: the
        server is never paused)."""
        spy = py_spy()
        self.folder.mkdir(parents=True, exist_ok=True)
        spies = []
        for fmt in FORMATS:
            command = [
                str(spy), "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
                "--rate", "200", "--format", fmt, "--output", str(self.path(fmt)),
                "--nonblocking", "--threads",
            ]  # fmt: skip
            spies.append(
                subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            )
        return spies

    def finish(self, spies: list[subprocess.Popen[bytes]]) -> dict[str, Any]:
        """The functions of src/roster with the most samples: anywhere on the stack, and as the
        innermost roster function (time in it or in the libraries it calls)."""
        errors = []
        for spy in spies:
            _, err = spy.communicate(timeout=60)
            if spy.returncode != 0:
                errors.append(err.decode(errors="replace")[-300:])
        raw = self.path("raw")
        if errors or not raw.exists():
            console.print(f"[yellow]warning:[/] py-spy failed: {' '.join(errors)}")
            return {"error": " ".join(errors) or f"{raw} was not written"}
        found = summarise(raw.read_text())
        svg = self.path("flamegraph")
        console.print(f"  py-spy: {found['samples']} samples, flame graph {svg}")
        for row in found["inclusive"][:5]:
            console.print(f"    {row['share']:6.1%}  {row['frame']}")
        return {**found, "svg": shown(svg), "stacks": shown(raw)}


def shown(path: Path) -> str:
    """A file's path as results.json keeps it: from the repository's root when inside it."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path.resolve())


def clear(folder: Path) -> None:
    """Removes the flame graphs an earlier run left in `folder` (and nothing else)."""
    for suffix in FORMATS.values():
        for old in folder.glob(f"*{suffix}"):
            old.unlink()


def profiles_section(results: dict[str, Any]) -> str:
    """The flame graphs of the run, each with the roster functions most on its stacks."""
    profiles = results.get("profiles")
    if not profiles:
        return "No flame graphs were taken in this run (`--no-profiles`, or `--quick`)."
    lines = [
        "Taken in a pass of their own after the judged runs (py-spy, 200 samples/s, without "
        "pausing the server; every thread; `--no-profiles` skips it), each over "
        f"{next(iter(profiles.values())).get('seconds', 5):.0f} s of the same load. Shares are "
        "of all the server's samples, each counted to the innermost roster function on its "
        "stack (time in it and in the libraries it calls: SQLite's, FastAPI's, uvicorn's).",
        "",
    ]
    rows = []
    for what, found in profiles.items():
        if "error" in found:
            rows.append([what, f"py-spy failed: {found['error'][:80]}", "", ""])
            continue
        top = "; ".join(
            f"`{row['frame'].split(' (')[0]}` {row['share']:.0%}" for row in found["own"][:6]
        )
        svg, stacks = (
            path if path.startswith("/") else f"../{path}"
            for path in (found["svg"], found["stacks"])
        )
        rows.append([what, f"[svg]({svg}), [stacks]({stacks})", f"{found['samples']:,}", top])
    header = ["server under", "flame graph", "samples", "innermost roster functions"]
    lines += [table(header, "llrl", rows), "", *where_table(profiles, cpu_costs(results))]
    return "\n".join(lines)


# The judged runs' server CPU for one call or message of the scenario each flame graph is of:
# (results key, figure, what it is per).
CPU_OF = {
    "track-v1-noop": ("noop", "server_cpu_per_request_ms", "call"),
    "track-v1-put-customer": ("put_customer", "server_cpu_per_request_ms", "call"),
    "segment-batch-sqlite": ("segment_batch_sqlite", "server_cpu_per_event_ms", "message"),
    "v2-batch-sqlite": ("track_v2_batch_sqlite", "server_cpu_per_event_ms", "message"),
    "segment-batch-postgres": ("segment_batch_postgres", "server_cpu_per_event_ms", "message"),
}


def cpu_costs(results: dict[str, Any]) -> dict[str, tuple[float, str]]:
    """Each flame graph's scenario: its server CPU µs a call or message in the judged (median)
    run, and what it is per."""
    found = {}
    for what, profile in (results.get("profiles") or {}).items():
        key = Path(str(profile.get("svg", ""))).stem
        if key in CPU_OF:
            name, figure, per = CPU_OF[key]
            value = (results.get(name) or {}).get(figure)
            if value:
                found[what] = (float(value) * 1000, per)
    return found


def where_table(
    profiles: dict[str, Any], costs: dict[str, tuple[float, str]] | None = None
) -> list[str]:
    """Each flame graph's samples by the part of the work they are in (WHERE): the share of
    the server's samples, and that share of its server CPU per call or message (`costs`)."""
    shown = {what: found for what, found in profiles.items() if "where" in found}
    if not shown:
        return []
    costs = costs or {}
    lines = [
        "Where the samples of each flame graph are, by their innermost frame that names a part "
        "of the work (`bench/profile.py` WHERE), as a share of all the server's samples and, in "
        "brackets, that share of the server CPU a call or message took in the judged run. An "
        "estimate: py-spy samples every thread that is not idle, a COMMIT waiting for its fsync "
        "included, so a share is of the server's busy time, not of its CPU alone.",
        "",
    ]
    rows = []
    for name in [*(name for name, _ in WHERE), OTHER]:
        cells = []
        for what, found in shown.items():
            share = found["where"].get(name, 0.0)
            cost = costs.get(what)
            cells.append(f"{share:.0%}" + (f" ({share * cost[0]:.0f} µs)" if cost else ""))
        rows.append([name, *cells])
    totals = [
        f"{costs[what][0]:.0f} µs a {costs[what][1]}" if what in costs else "—" for what in shown
    ]
    rows.append(["**server CPU in the judged run (µs in brackets: that share of it)**", *totals])
    lines += table(["part of the work", *shown], "l" + "r" * len(shown), rows).splitlines()
    return lines


def summarise(stacks: str, among: int = 15) -> dict[str, Any]:
    """Collapsed stacks (py-spy's raw format) summed per roster function."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    where: dict[str, int] = {}
    total = 0
    for line in stacks.splitlines():
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
        place = where_of(stack.split(";"))
        where[place] = where.get(place, 0) + count

    def top(counts: dict[str, int]) -> list[dict[str, Any]]:
        ranked = sorted(counts.items(), key=lambda item: -item[1])[:among]
        return [
            {"frame": frame, "share": round(count / total, 3) if total else 0.0}
            for frame, count in ranked
        ]

    shares = {
        name: round(where.get(name, 0) / total, 3) if total else 0.0
        for name in [*(name for name, _ in WHERE), OTHER]
    }
    return {"samples": total, "inclusive": top(inclusive), "own": top(own), "where": shares}


def where_of(frames: list[str]) -> str:
    """The part of the work a sample is in: its innermost frame that a WHERE rule matches."""
    for frame in reversed(frames):
        for name, pattern in WHERE:
            if pattern.search(frame):
                return name
    return OTHER
