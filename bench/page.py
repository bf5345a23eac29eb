"""docs/benchmarks.md: what is measured and how, the machine, and every figure of a run against
its target, rendered from the run's results (bench/results.json).

    .venv/bin/python -m bench --report-only      # re-render from bench/results.json
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import BENCH
from bench.outcome import TARGET_BY_KEY, judge
from bench.profile import profiles_section
from bench.repeat import runs_section
from bench.report import (
    durability_section,
    headline,
    postgres_section,
    read_side_section,
    setup_section,
    sqlite_section,
    targets_section,
    track_section,
    track_v2_section,
)

# Written by hand from the flame graphs and bench/writer_cost.py: what each change bought.
WHERE_TIME_GOES = BENCH / "where_the_time_goes.md"


def write_doc(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(results))


def bound(key: str) -> str:
    """A ratio target's bound as a share: "60%"."""
    return f"{TARGET_BY_KEY[key].bound:.0%}"


def render(results: dict[str, Any]) -> str:
    # Judged again with today's targets, so that a results.json written before a target changed
    # (or was added) is shown against the product's targets, its missing figures as such.
    results = {**results, "targets": judge(results)}
    m, s = results["machine"], results["settings"]
    b, floor = s["segment_batch"], results["floor"]
    default = s.get("sqlite_synchronous", "NORMAL")
    other = "NORMAL" if default == "FULL" else "FULL"
    mix = f"{results['put_customer']['new_people_share']:.0%}"
    source = f"commit {m['commit']}{', src/ modified' if m['src_dirty'] else ''}"
    return f"""# Benchmarks

This page is rewritten by `make bench` (`.venv/bin/python -m bench`); the same figures, and
more, are in [`bench/results.json`](../bench/results.json). The targets are the product's (its
specification's Targets), defined once in [`bench/outcome.py`](../bench/outcome.py).

## Targets

Ratios are measured in the same run, on the same machine; the floor is the raw-SQL ingestion
floor below.

{targets_section(results)}

## What is measured

- **Track v1 `PUT /api/v1/customers/{{id}}`** — an identify call, acknowledged after its SQLite
  transaction commits, against a bare **`GET /healthz`** on the same server (it answers
  `{{"status": "ok"}}` without credentials or the database: HTTP alone). Target: **customer PUT
  requests/s ≥ {bound("put_customer_ratio")} of `GET /healthz`'s** and **p99 at most
  {TARGET_BY_KEY["put_customer_p99_over_p50"].bound:g} times p50** for the customer PUT. Beside
  them, **`PUT /bench/noop/{{id}}`**, an endpoint on the same server (exposed only with
  `ROSTER_NOOP_ENDPOINT=1`) that authenticates and parses exactly like the real call but writes
  nothing: no-op over `/healthz` is what authentication and parsing cost, customer PUT over
  no-op what roster's write path costs on top of them.
- Load: [wrk](https://github.com/wg/wrk) with [`bench/get.lua`](../bench/get.lua) for
  `/healthz` and [`bench/put_customer.lua`](../bench/put_customer.lua) for the PUTs,
  {s["connections"]} connections and {s["threads"]} threads; per endpoint a
  {s["warmup_s"]:g} s warm-up, then {s["duration_s"]:g} s measured, all on one server.
  Each request is `PUT …/user-<n>` with Basic auth and the body
  `{{"email": "user-<n>@example.com", "plan": "pro", "seen": <counter>}}`,
  cycling over {s["users"]:,} users from user-0 in each wrk run. A user's first customer PUT
  creates the person, later ones update them (`seen` changes on every call); in the latest run
  about {mix} of the measured customer PUTs created a person. Non-2xx answers are counted and must
  be zero. SQLite runs with roster's default durability, `ROSTER_SQLITE_SYNCHRONOUS={default}`.
- **Segment `POST /v1/batch` on SQLite** — a fresh server and database; each request carries
  {b["batch"]} messages, alternately an identify and a track:

  ```json
  {{"type":"identify","userId":"user-<n>","messageId":"…",
   "traits":{{"email":"user-<n>@example.com","plan":"<free|pro|team>","seen":<counter>}}}}
  {{"type":"track","userId":"user-<n>","event":"Order Completed","messageId":"…",
   "properties":{{"revenue":9.99,"sku":"sku-1","n":<counter>}}}}
  ```

  with users drawn at random from {s["users"]:,}: the traffic the floor writes. The write key
  is sent as Bearer. Load: wrk with [`bench/batch.lua`](../bench/batch.lua),
  which builds each body (every messageId carries the wrk run, thread and request, so none is
  de-duplicated away), {b["connections"]} connections and {b["threads"]} threads;
  a {b["warmup_s"]:g} s warm-up then {b["duration_s"]:g} s measured.
  **events/s = 2xx requests/s x {b["batch"]}**; the answer comes after the commit.
  Target, with the default `ROSTER_SQLITE_SYNCHRONOUS={default}`: **≥ {bound("segment_batch_ratio")}
  of the floor's events/s** (the floor measured in the same run). Afterwards a sample of users is
  read back through the App API, and the SQLite file is counted: the events stored must be the
  track messages acknowledged (up to those wrk sent but stopped waiting for), and the identity
  checks below must find nothing.
- **Track API v2 `POST /api/v2/batch` on SQLite** — the same traffic, load and checks, on a
  fresh server and database with the default `ROSTER_SQLITE_SYNCHRONOUS={default}`: each request
  carries {b["batch"]} operations, alternately
  `{{"type":"person","action":"identify","identifiers":{{"id":"user-<n>"}},"attributes":{{…}}}}`
  and `{{"type":"person","action":"event","identifiers":{{"id":"user-<n>"}},"name":"Order
  Completed","id":"…","attributes":{{…}}}}` with the same attributes as the Segment traits and
  properties, sent with Basic `site_id:track_api_key` (`bench/batch.lua` builds both APIs'
  bodies). A 207 (some operations refused) counts as not acknowledged, like a non-2xx. Target:
  **≥ {bound("track_v2_batch_ratio")} of the floor's events/s**.
- **What durability costs** — the same `/v1/batch` scenario again, on a fresh server and
  database with `ROSTER_SQLITE_SYNCHRONOUS={other}`, in the same run: FULL's events/s over
  NORMAL's. With `FULL` SQLite syncs its write-ahead log to the disk at every commit, so an
  acknowledged write survives a power cut; with `NORMAL` it syncs at checkpoints only, and an
  operating-system crash may lose the last commits (the database stays intact). roster commits
  a group of requests at once, so a sync is paid per group, not per request.
- **Segment `POST /v1/batch` on PostgreSQL, 2 server processes** — a scratch database (created,
  then dropped), two `roster serve --database-url postgresql://…` processes on two ports, each
  driven by its own wrk ({b["connections"]} connections, {b["threads"]} threads each) at the same
  time with the same traffic over the same {s["users"]:,} users; their events/s are added. Target:
  **≥ {bound("postgres_batch_ratio")} of the SQLite floor's events/s in the same run** and **zero
  identity violations**, checked in SQL
  once both servers have stopped: no identifier on two people, every person has exactly one id
  (so one person per user id sent), each email identifier on the person of its user id, no
  identifier or event without a person, nothing dropped, and as many events as track messages
  acknowledged. The identity checks are those roster's own tests run
  (`src/roster/testing/integrity.py`), plus those of the bench's traffic (`bench/checks.py`).
- CPU: wrk shares the machine's cores with the server, so the CPU time of both is recorded (wrk
  from `getrusage(RUSAGE_CHILDREN)`, the server from `/proc/<pid>/stat`; PostgreSQL's processes
  from `/proc` too), with the server's peak RSS (`VmHWM`); "other CPU s" is what the rest of the
  machine used meanwhile (from `/proc/stat`), so a run disturbed by other work can be told apart.
  Target: **every server process's peak RSS < {TARGET_BY_KEY["server_peak_rss_mb"].bound:.0f} MB**
  under this sustained load (the largest of the run is judged).
  wrk is a closed-loop generator: latencies are those of its connections each waiting for its
  answer, not of an open arrival rate.
- **The read side** — [`bench/dataset.py`](../bench/dataset.py) writes 1,000,000 people with
  20 attributes each straight into a migrated SQLite database (90% with an id and an email, 9%
  leads with an email only, 1% with an id only, each tied by a conflict record to a lead: the
  duplicate finder's id-only + email-only pairs), then one `roster serve` answers, one request
  at a time ([`bench/read_side.py`](../bench/read_side.py)): look-ups by id, cio_id and email;
  keyset pages of "people with an email but no id" and of an attribute equality, and of the
  duplicate finder (50 a page), page 1 and page 50 (its cursor found by walking), each asked 20
  times (p95); the CSV export of everyone through its signed link (rows/s, and the server's peak
  RSS, which must stay < {TARGET_BY_KEY["csv_export_peak_rss_mb"].bound:.0f} MB); delete by list
  of 10,000 people. Targets: **export ≥ {TARGET_BY_KEY["csv_export_rows_per_s"].bound:,.0f}
  rows/s**, **every page's p95 < 50 ms**. Prefix search of emails has no API yet (the People
  page's search will), so it is not measured.
- **The People page** (the web UI, [web.md](web.md)) on the same data set and server
  ([`bench/people_page.py`](../bench/people_page.py)): a login made with `roster users create`
  logs in through `/login` as a browser does, then `GET /people` is asked with an exact email
  in the search box and with an id (a different person each time; one match, so one page),
  with `plan=pro`, and with "Show: email but no id", these two page 1 and page 50 (the cursor
  to page 50 found by following each page's "Next page" link), each 20 times. **What is
  measured** is the server's own time, which every answer gives in its `Server-Timing:
  app;dur=<ms>` header ([operations.md](operations.md), "Logs"): from the request's arrival
  to the rendered page's headers, without the network; the client's p95 on loopback is shown
  beside it. Target: **every page's p95 <
  {TARGET_BY_KEY["people_page_p95_ms"].bound:.0f} ms**.
- **Ingestion floor**: [`bench/floor.py`](../bench/floor.py), the same writes as the Segment
  batch benchmark ({floor["events"]:,} events, {floor["batch"]} per transaction) done by a bare
  sqlite3 script (WAL, `synchronous=NORMAL`; no HTTP, no rules), run in the same run on the same
  disk.

## How to run

```sh
make bench                                  # or: .venv/bin/python -m bench
make bench BENCH_ARGS=--quick               # a check in about a minute; writes to a temp folder
.venv/bin/python -m bench --help            # durations, connections, --postgres-url, --keep
.venv/bin/python -m bench --no-postgres     # SQLite parts only
.venv/bin/python -m bench --runs 1 --no-profiles   # one run, no flame graphs: about 4 minutes
.venv/bin/python -m bench --report-only     # re-render this page from bench/results.json
```

It needs wrk (`apt-get install -y wrk`; run as root with apt available, it installs wrk itself).
The PostgreSQL part needs a server where the URL given by `--postgres-url` (default
`ROSTER_BENCH_POSTGRES_URL` or `postgresql://postgres@127.0.0.1:5432/test`) may create and drop a
database, and is recorded as skipped when it cannot connect. It exits non-zero only when
something failed to run (or answered non-2xx, or a SQLite batch was not stored as acknowledged);
a missed target is printed in bold and recorded here. The whole run (three runs, the flame
graphs, the read side) takes about twelve minutes.

## Machine

| | |
|---|---|
| CPUs | {m["nproc"]} x {m["cpu_model"]} ({m["cpus_usable"]} usable) |
| memory | {m["memory_mb"]:,} MB |
| kernel | {m["kernel"]} |
| Python / SQLite / PostgreSQL | {m["python"]} / {m["sqlite"]} / {m.get("postgresql", "—")} |
| wrk | {m["wrk"]} |
| roster | {m["roster"]} ({source}) |
| date (UTC) | {results["date"]} |

## Latest results
{headline(results)}

### The runs

{runs_section(results)}

### Track v1 `PUT /api/v1/customers/{{id}}` (SQLite)

{track_section(results)}

### Segment `POST /v1/batch` (SQLite)

{sqlite_section(results)}

### Track API v2 `POST /api/v2/batch` (SQLite)

{track_v2_section(results)}

### What `synchronous=FULL` costs (Segment `POST /v1/batch`, SQLite)

{durability_section(results)}

### Segment `POST /v1/batch` (PostgreSQL, 2 server processes)

{postgres_section(results)}

### The read side: 1,000,000 people (SQLite)

{read_side_section(results)}

### Test set-up: `roster serve --ephemeral` and the pytest plugin

What a test suite waits for ([testing.md](testing.md)): from spawning `roster serve --ephemeral
--tls-self-signed` to the JSON line it prints once it listens with its workspace made (a new
process each time: Python's start, imports, a new SQLite database created at the newest revision,
a certificate; the HTTP app loads after the line, and the first answer says when it has), and the
`roster` fixture's workspace for one test (created through the service in the test process, with
its clients). `.venv/bin/python -m bench.spawn` measures the spawns alone.

{setup_section(results)}

## Where the time goes

{WHERE_TIME_GOES.read_text().strip()}

### Flame graphs of this run

{profiles_section(results)}

## Reading these numbers

Absolute numbers on shared or virtual machines are noisy: neighbours, CPU steal and turbo can move
requests/s by tens of percent from one run to the next. The **ratios** (customer PUT against
`GET /healthz`, measured minutes apart on the same server; `/v1/batch`, `/api/v2/batch` and
PostgreSQL against the floor; FULL against NORMAL) are the binding figures, because both sides of
each see the same machine. Compare absolute figures only between runs on the same machine. On
SQLite the server is one process (one writer), so its Python work can use one core at most:
"server CPU s" near the measured seconds means that core was full, and "server CPU ms/request"
(or per event) is then the cost that bounds throughput. The cost of `FULL` is the time the disk
takes to sync, so it differs most between machines. On PostgreSQL the two servers, the two wrk
and PostgreSQL itself share the same cores.
"""
