"""What a test suite waits for before its first test (docs/testing.md "Start-up time"): from
spawning `roster serve --ephemeral --tls-self-signed` to the JSON line it prints, and to its first
answer (`GET /healthz`), each the median of new processes. Beside them, interleaved in the same
run, the spawn-to-exit times of `python -c pass` and `python -c "import fastapi"` from the same
venv: the machine is shared and its speed moves between runs, and these two say how fast it was
during this one.

    .venv/bin/python -m bench.spawn [--spawns 10] [--plain]

`make bench` measures the same (bench/scenarios.py setup_cost), with fewer spawns."""

from __future__ import annotations

import argparse
import json
import os
import select
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import BenchError
from roster.testing.server import ROSTER, roster_environment

PYTHON = Path(sys.executable)
# The baselines: Python's own start, and the start plus FastAPI's import (which roster's app needs).
BASELINES = {"python_s": "pass", "import_fastapi_s": "import fastapi"}
WAIT = 60.0


def spawn_ephemeral(env: dict[str, str], tls: bool = True) -> tuple[float, float]:
    """One `roster serve --ephemeral`: seconds from spawn to its JSON line, and to its first
    `GET /healthz` answered 200 (sent right after the line). It stops (end of its stdin) and must
    exit 0."""
    command = [str(ROSTER), "serve", "--ephemeral", *(["--tls-self-signed"] if tls else [])]
    started = time.perf_counter()
    with subprocess.Popen(
        command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        try:
            line = b""
            while not line.endswith(b"\n"):
                if not select.select([process.stdout], [], [], WAIT)[0]:
                    raise BenchError(f"roster serve --ephemeral printed nothing in {WAIT:.0f} s")
                chunk = os.read(process.stdout.fileno(), 4096)
                if not chunk:
                    raise BenchError("roster serve --ephemeral exited before its JSON line")
                line += chunk
            ready = time.perf_counter() - started
            announced = json.loads(line)
            verify: ssl.SSLContext | bool = True
            if "ca_bundle" in announced:
                verify = ssl.create_default_context(cafile=announced["ca_bundle"])
            answer = httpx.get(f"{announced['url']}/healthz", verify=verify, timeout=WAIT)
            answered = time.perf_counter() - started
            if answer.status_code != 200:
                raise BenchError(f"GET /healthz answered {answer.status_code}: {answer.text}")
        except BaseException:
            process.kill()
            raise
        process.stdin.close()
        if process.wait(timeout=WAIT) != 0:
            assert process.stderr is not None
            raise BenchError(
                f"roster serve --ephemeral exited with {process.returncode}:\n"
                f"{process.stderr.read().decode(errors='replace')}"
            )
    return ready, answered


def spawn_python(code: str, env: dict[str, str]) -> float:
    """Seconds from spawning `python -c CODE` (this venv's) to its exit."""
    started = time.perf_counter()
    subprocess.run([str(PYTHON), "-c", code], env=env, check=True, timeout=WAIT)
    return time.perf_counter() - started


def spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "max": round(max(values), 3)}


def measure(folder: Path, spawns: int, tls: bool = True) -> dict[str, Any]:
    """`spawns` rounds, each one spawn of every baseline then one of `roster serve --ephemeral`
    (interleaved, so that a slow minute of the machine weighs on all of them alike). Temporary
    folders go under `folder`."""
    env = roster_environment(folder / "ephemeral-data")
    env["TMPDIR"] = str(folder)
    times: dict[str, list[float]] = {key: [] for key in [*BASELINES, "ready_s", "answered_s"]}
    for _ in range(spawns):
        for key, code in BASELINES.items():
            times[key].append(spawn_python(code, env))
        ready, answered = spawn_ephemeral(env, tls)
        times["ready_s"].append(ready)
        times["answered_s"].append(answered)
    return {
        "spawns": spawns,
        "ephemeral_ready_s": spread(times["ready_s"]),
        "ephemeral_answered_s": spread(times["answered_s"]),
        **{key: spread(times[key]) for key in BASELINES},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.spawn", description=__doc__)
    parser.add_argument("--spawns", type=int, default=10)
    parser.add_argument("--plain", action="store_true", help="without --tls-self-signed")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="roster-bench-spawn-") as folder:
        measured = measure(Path(folder), args.spawns, tls=not args.plain)
    print(f"over {args.spawns} spawns, median (slowest):")
    for key, label in (
        ("python_s", "python -c pass"),
        ("import_fastapi_s", 'python -c "import fastapi"'),
        ("ephemeral_ready_s", "roster serve --ephemeral: JSON line"),
        ("ephemeral_answered_s", "roster serve --ephemeral: first answer"),
    ):
        print(f"  {label:42} {measured[key]['median']:.3f} s ({measured[key]['max']:.3f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
