"""roster's benchmark (`make bench`, or `.venv/bin/python -m bench` from the repository): Track v1
`PUT /api/v1/customers/{id}` against a bare `GET /healthz` and a no-op endpoint on the same
server, Segment `POST /v1/batch` (with each SQLite durability setting) and Track v2
`POST /api/v2/batch` on SQLite against a raw-SQL ingestion floor (bench/floor.py), and `/v1/batch`
on PostgreSQL with two server processes, all on this machine. It writes bench/results.json and
renders docs/benchmarks.md from it, judged against the product's targets (bench/outcome.py).

The modules: `machine` (facts and CPU accounting), `servers` (`roster serve` through
roster.testing.server, as the tests start it), `load` (wrk and the bench/*.lua scripts), `floor`,
`checks` (what the store holds afterwards, with roster.testing.integrity), `scenarios`, `outcome`
(targets and verdicts), `repeat` (three runs judged on their median), `profile` (the flame
graphs in bench/profiles) and `report` and `page` (the docs page).
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
RESULTS = BENCH / "results.json"
DOC = REPO / "docs" / "benchmarks.md"

USERS = 10_000  # the people the traffic names, user-0 .. user-9999
BATCH = 100  # messages per /v1/batch request, as the floor commits them
PLANS = ("free", "pro", "team")
EMAIL_DOMAIN = "@example.com"

console = Console()


class BenchError(Exception):
    """Something failed to run: the benchmark has no valid result."""
