"""`make bench`: measure, check, write bench/results.json and docs/benchmarks.md.

    .venv/bin/python -m bench [--quick] [--runs 3] [--duration 10] [--warmup 3]
        [--connections 32] [--threads 2] [--batch-connections 8] [--batch-threads 2]
        [--floor-events 200000] [--postgres-url URL | --no-postgres]
        [--read-people N | --no-read-side] [--profiles DIR | --no-profiles] [--keep]
        [--results PATH] [--doc PATH] [--report-only]

Steps 1 to 4 are one run; they are run 3 times (`--runs`) and each ratio is judged as the median
of its runs (bench/repeat.py). Then, unless --no-profiles, a shorter pass of the same scenarios
under py-spy writes a flame graph of each server into bench/profiles (bench/profile.py): taken
apart from the judged runs, so that sampling slows none of their figures.

1. Track v1: `roster serve` on SQLite (with ROSTER_NOOP_ENDPOINT=1) driven by wrk, first a bare
   `GET /healthz` (bench/get.lua: the baseline of the target), then with bench/put_customer.lua
   `PUT /bench/noop/{id}` (authenticates and parses like the real call, writes nothing: what
   auth and parsing cost), then `PUT /api/v1/customers/{id}`.
2. Segment `POST /v1/batch` on a fresh SQLite server with roster's default
   ROSTER_SQLITE_SYNCHRONOUS, then again with the other setting (FULL and NORMAL), then Track v2
   `POST /api/v2/batch` (the same traffic, bench/batch.lua) with the default, each read back
   through the App API and counted in SQL.
3. bench/floor.py on the same disk: the SQLite batches' and PostgreSQL's baseline.
4. `/v1/batch` on a scratch PostgreSQL database with two servers, each with its own wrk; the
   identity checks in SQL. Recorded as skipped when PostgreSQL cannot be reached.
5. The test set-up: `roster serve --ephemeral` spawns and per-test workspaces.
6. The read side (bench/read_side.py) on 1,000,000 people with 20 attributes (bench/dataset.py):
   look-ups, filter and duplicate-finder pages, the People page's searches (logged in, timed by
   the server's Server-Timing), the CSV export, delete by list of 10,000.

Exits 0 when everything ran, whether or not the targets were met (a missed target is printed in
bold and written to both files); 1 when something failed to run, answered other than 2xx, or a
SQLite batch was not stored as acknowledged.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import BATCH, BENCH, DOC, RESULTS, USERS, BenchError, console
from bench.dataset import PEOPLE
from bench.load import TRACK_V2, Settings
from bench.machine import ensure_wrk, machine
from bench.outcome import SYNCHRONOUS, assemble, finish, print_outcome
from bench.page import write_doc
from bench.profile import clear, py_spy
from bench.read_side import read_side
from bench.repeat import combine
from bench.scenarios import floor, postgres_batch, setup_cost, sqlite_batch, track_put
from roster.settings import Settings as RosterSettings

POSTGRES_URL = os.environ.get(
    "ROSTER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
FULL_RUN = {
    "duration": 10.0,
    "warmup": 3.0,
    "floor_events": 200_000,
    "read_people": PEOPLE,
    "runs": 3,
    "profiles": BENCH / "profiles",
}
QUICK_RUN = {
    "duration": 2.0,
    "warmup": 1.0,
    "floor_events": 20_000,
    "read_people": 20_000,
    "runs": 1,
    "profiles": None,
}
# roster's own ROSTER_SQLITE_SYNCHRONOUS, which the judged runs measure.
DEFAULT_SYNCHRONOUS = str(RosterSettings.model_fields["sqlite_synchronous"].default)
PROFILED_SECONDS = 5.0  # the profiled pass's measured seconds per scenario (its warm-up: 2)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="seconds-long loads that check the benchmark works (about a minute); results "
        "go to a temporary folder unless --results/--doc are given",
    )
    parser.add_argument(
        "--runs",
        type=int,
        help="runs of the throughput scenarios, judged on their median (default 3; --quick 1)",
    )
    parser.add_argument("--duration", type=float, help="measured seconds per run (default 10)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per run (default 3)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--batch-connections", type=int, default=8, help="wrk connections for /v1/batch, per server"
    )
    parser.add_argument(
        "--batch-threads", type=int, default=2, help="wrk threads for /v1/batch, per server"
    )
    parser.add_argument(
        "--floor-events", type=int, help="events the raw-SQL floor writes (default 200,000)"
    )
    parser.add_argument(
        "--read-people",
        type=int,
        help=f"people in the read side's data set (default {PEOPLE:,}; --quick 20,000)",
    )
    parser.add_argument(
        "--no-read-side",
        action="store_true",
        help="skip the read side (search, filters, duplicates, export, delete by list)",
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
        "--profiles",
        type=Path,
        default=None,
        metavar="DIR",
        help="flame graphs of each scenario's server (py-spy, a pass of their own) into DIR "
        f"(default {BENCH / 'profiles'}; --quick none)",
    )
    parser.add_argument("--no-profiles", action="store_true", help="take no flame graphs")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (databases, server logs)"
    )
    parser.add_argument("--results", type=Path, help=f"where to write results (default {RESULTS})")
    parser.add_argument("--doc", type=Path, help=f"where to write the page (default {DOC})")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: render the page from the results file",
    )
    args = parser.parse_args(argv)
    run = QUICK_RUN if args.quick else FULL_RUN
    for key, value in run.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.no_profiles:
        args.profiles = None
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.quick and (args.results is None or args.doc is None):
        # A check's figures must not replace the measured ones kept in the repository.
        out = Path(tempfile.mkdtemp(prefix="roster-bench-quick-"))
        args.results = args.results or out / "results.json"
        args.doc = args.doc or out / "benchmarks.md"
    args.results = args.results or RESULTS
    args.doc = args.doc or DOC
    return args


def measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    put_settings = Settings(args.connections, args.threads, args.duration, args.warmup, USERS)
    batch_settings = Settings(
        args.batch_connections, args.batch_threads, args.duration, args.warmup, USERS, BATCH
    )
    if args.profiles is not None:
        py_spy()  # before minutes of measuring, not after
    wrk = ensure_wrk()
    info = machine()
    console.print(
        f"[bold]roster benchmark[/]{' (quick)' if args.quick else ''} on {info['nproc']} x "
        f"{info['cpu_model']}, {info['memory_mb']:,} MB; Python {info['python']}, "
        f"SQLite {info['sqlite']}, {info['wrk']}; {args.runs} run(s)"
    )
    runs = []
    for index in range(args.runs):
        console.rule(f"Run {index + 1} of {args.runs}")
        runs.append(
            one_run(args, wrk, folder / f"run-{index + 1}", info, put_settings, batch_settings)
        )
    results = combine(runs)
    if args.profiles is not None:
        console.rule("Flame graphs (a pass of their own, not judged)")
        results["profiles"] = profiled_pass(
            args, wrk, folder / "profiled", put_settings, batch_settings
        )
    setup = setup_cost(folder, spawns=3 if args.quick else 5)
    read = None if args.no_read_side else read_side(folder, args.read_people)
    return finish(results, setup, read)


def one_run(
    args: argparse.Namespace,
    wrk: str,
    folder: Path,
    info: dict[str, Any],
    put_settings: Settings,
    batch_settings: Settings,
) -> dict[str, Any]:
    """Steps 1 to 4: every throughput figure of one run, against that run's floor."""
    folder.mkdir(parents=True, exist_ok=True)
    track = track_put(wrk, folder, put_settings, DEFAULT_SYNCHRONOUS)
    sqlite = {DEFAULT_SYNCHRONOUS: sqlite_batch(wrk, folder, batch_settings, DEFAULT_SYNCHRONOUS)}
    for other in SYNCHRONOUS:
        if other != DEFAULT_SYNCHRONOUS:
            sqlite[other] = sqlite_batch(wrk, folder, batch_settings, other)
    v2 = sqlite_batch(wrk, folder, batch_settings, DEFAULT_SYNCHRONOUS, api=TRACK_V2)
    baseline = floor(folder, args.floor_events)
    if args.no_postgres:
        postgres: dict[str, Any] = {"skipped": True, "reason": "--no-postgres was given"}
    else:
        postgres = postgres_batch(wrk, folder, batch_settings, args.postgres_url)
    if postgres.get("server_version"):
        info["postgresql"] = postgres["server_version"]
    return assemble(
        info, put_settings, batch_settings, args.quick, track, baseline, sqlite,
        DEFAULT_SYNCHRONOUS, postgres, v2,
    )  # fmt: skip


def profiled_pass(
    args: argparse.Namespace,
    wrk: str,
    folder: Path,
    put_settings: Settings,
    batch_settings: Settings,
) -> dict[str, Any]:
    """The customer PUT and its no-op, /v1/batch and /api/v2/batch on SQLite, and /v1/batch on
    PostgreSQL again, shorter, each server under py-spy: their flame graphs, by name."""
    seconds = {"duration": min(args.duration, PROFILED_SECONDS), "warmup": min(args.warmup, 2.0)}
    put_settings = dataclasses.replace(put_settings, **seconds)
    batch_settings = dataclasses.replace(batch_settings, **seconds)
    profiles: Path = args.profiles
    clear(profiles)  # only this run's graphs stay
    track = track_put(wrk, folder, put_settings, DEFAULT_SYNCHRONOUS, profiles)
    runs = {
        "`PUT /bench/noop/{id}` (no-op)": track["noop"],
        "`PUT /api/v1/customers/{id}`": track["put_customer"],
        "Segment `POST /v1/batch`, SQLite": sqlite_batch(
            wrk, folder, batch_settings, DEFAULT_SYNCHRONOUS, profiles
        ),
        "Track v2 `POST /api/v2/batch`, SQLite": sqlite_batch(
            wrk, folder, batch_settings, DEFAULT_SYNCHRONOUS, profiles, TRACK_V2
        ),
    }
    if not args.no_postgres:
        runs["Segment `POST /v1/batch`, PostgreSQL (the first of 2 servers)"] = postgres_batch(
            wrk, folder, batch_settings, args.postgres_url, profiles
        )
    return {
        what: {"seconds": seconds["duration"], **run["profile"]}
        for what, run in runs.items()
        if "profile" in run
    }


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.report_only:
        try:
            results = json.loads(args.results.read_text())
        except (OSError, ValueError) as error:
            console.print(f"[bold red]Cannot read {args.results}:[/] {error}. Run `make bench`.")
            return 1
        write_doc(results, args.doc)
        console.print(f"Wrote {args.doc} from {args.results}.")
        return 0
    folder = Path(tempfile.mkdtemp(prefix="roster-bench-"))
    try:
        results = measure(args, folder)
    except BenchError as error:
        console.print(f"[bold red]The benchmark failed to run:[/] {error}")
        return 1
    except KeyboardInterrupt:
        console.print("[bold red]Interrupted.[/]")
        return 130
    finally:
        if args.keep:
            console.print(f"Kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=2) + "\n")
    write_doc(results, args.doc)
    print_outcome(results)
    console.print(f"Wrote {args.results} and {args.doc}.")
    return 1 if results["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
