"""What the writer spends on Segment `/v1/batch` traffic, in process and without HTTP: a fresh
SQLite system, the traffic of bench/batch.lua (alternately an identify with traits email, plan
and seen and a track "Order Completed" of a user drawn from USERS, BATCH messages a request)
read by the Segment parser the API uses, and applied through the ingestion service and the
writer as the API applies it (isolated messages, one request a transaction).

    .venv/bin/python -m bench.writer_cost [--warm N] [--batches N] [--count N] [--seed N]
    .venv/bin/python -m bench.writer_cost --against OTHER/src [--runs N]
    .venv/bin/python -m bench.writer_cost --database-url postgresql://…/EMPTY_DATABASE

It prints one JSON line: process CPU seconds (all threads) per 1,000 messages over `--batches`
requests, after `--warm` requests that fill the store (most users then exist, as in the
benchmark's measured run), and the SQL statements sent per request over `--count` more, by kind
(the writer's Cursor helpers and SQLAlchemy's own executes; an executemany is one). Set
PYTHONPATH to another checkout's src to measure that code with the same traffic, or pass it as
`--against`: each run is then a fresh process, this checkout's and the other's in turn (the
machine is shared and noisy), and the line printed holds each side's median of `--runs` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

import roster
from bench import BATCH, EMAIL_DOMAIN, PLANS, USERS
from roster.api.segment_messages import operations_from
from roster.domain.identifiers import IdentifierMode
from roster.services.ingestion import Message
from roster.services.system import System
from roster.storage import statements

DOOR = "segment"


class Traffic:
    """bench/batch.lua's Segment bodies, one request at a time, parsed as the API parses them."""

    def __init__(self, seed: int, tag: str) -> None:
        self.random = random.Random(seed)
        self.tag = tag
        self.requests = 0
        self.seen = 0

    def body(self) -> bytes:
        self.requests += 1
        parts = []
        for i in range(1, BATCH + 1):
            n = self.random.randrange(USERS)
            message_id = f"{self.tag}-1-{self.requests}-{i}"
            self.seen += 1
            if i % 2 == 1:
                plan = self.random.choice(PLANS)
                parts.append(
                    f'{{"type":"identify","userId":"user-{n}","messageId":"{message_id}",'
                    f'"traits":{{"email":"user-{n}{EMAIL_DOMAIN}","plan":"{plan}",'
                    f'"seen":{self.seen}}}}}'
                )
            else:
                parts.append(
                    f'{{"type":"track","userId":"user-{n}","event":"Order Completed",'
                    f'"messageId":"{message_id}","properties":{{"revenue":9.99,"sku":"sku-1",'
                    f'"n":{self.seen}}}}}'
                )
        return ('{"batch":[' + ",".join(parts) + "]}").encode()

    def messages(self, mode: IdentifierMode) -> list[Message]:
        batch: list[dict[str, Any]] = orjson.loads(self.body())["batch"]
        usable = []
        for message in batch:
            ops = operations_from(message, mode)
            usable.append(Message(ops[0], message["type"], message["messageId"], tuple(ops[1:])))
        return usable


@contextmanager
def counting(system: System) -> Iterator[Counter[str]]:
    """Count the statements sent: each call of the writer's Cursor helpers, and each execute
    SQLAlchemy sends (BEGIN and COMMIT are not statements it sends through a cursor)."""
    counts: Counter[str] = Counter()
    originals = {}
    # many_returning: PostgreSQL only, and absent from older checkouts (--against).
    names = ("run", "many", "many_returning", "one", "all", "execute")
    for name in (name for name in names if hasattr(statements.Cursor, name)):
        original = getattr(statements.Cursor, name)
        originals[name] = original

        def counted(self: Any, *args: Any, _name: str = name, _original: Any = original) -> Any:
            counts[_name] += 1
            return _original(self, *args)

        setattr(statements.Cursor, name, counted)

    def on_execute(*_args: Any) -> None:
        counts["sqlalchemy"] += 1

    engine = system.database.writer
    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield counts
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
        for name, original in originals.items():
            setattr(statements.Cursor, name, original)


def measure(
    warm: int, batches: int, count: int, seed: int, database_url: str | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="roster-writer-cost-") as folder:
        url = database_url or f"sqlite:///{Path(folder) / 'roster.db'}"
        system = System.open(url, Path(folder))
        try:
            workspace = system.workspaces.create("bench")["workspace_id"]
            mode = system.workspaces.mode(workspace)
            traffic = Traffic(seed, "cost")
            ingestion = system.ingestion

            def apply(requests: int) -> tuple[float, float]:
                """CPU and wall seconds to apply `requests` requests (their parsing not
                counted)."""
                spent = waited = 0.0
                for _ in range(requests):
                    messages = traffic.messages(mode)
                    started, clock = time.process_time(), time.perf_counter()
                    ingestion.apply_sync(workspace, messages, DOOR, isolate=True)
                    spent += time.process_time() - started
                    waited += time.perf_counter() - clock
                return spent, waited

            apply(warm)
            cpu, wall = apply(batches)
            with counting(system) as counts:
                apply(count)
            with system.database.reader.connect() as connection:
                people: int = connection.execute(
                    sa.text("select count(*) from people")
                ).scalar_one()
        finally:
            system.close()
    return {
        "roster": str(Path(roster.__file__).parent),
        "cpu_per_1000_messages": round(cpu / (batches * BATCH) * 1000, 4),
        "wall_per_1000_messages": round(wall / (batches * BATCH) * 1000, 4),
        "statements_per_request": round(sum(counts.values()) / count, 2),
        "by_kind": {kind: round(n / count, 2) for kind, n in sorted(counts.items())},
        "people": people,
        "warm": warm,
        "batches": batches,
    }


def _run_once(src: str | None, args: list[str]) -> dict[str, Any]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([src, str(Path(__file__).resolve().parent.parent)])
    out = subprocess.run(
        [sys.executable, "-m", "bench.writer_cost", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.splitlines()[-1])
    return result


def against(other: str, runs: int, args: list[str]) -> dict[str, Any]:
    """This checkout and `other` (a src folder), run in turn `runs` times each: medians."""
    sides: dict[str, list[dict[str, Any]]] = {"this": [], "other": []}
    for _ in range(runs):
        sides["this"].append(_run_once(None, args))
        sides["other"].append(_run_once(other, args))
    summary = {}
    for side, results in sides.items():
        cpu = [result["cpu_per_1000_messages"] for result in results]
        summary[side] = {
            "roster": results[0]["roster"],
            "cpu_per_1000_messages_median": round(statistics.median(cpu), 4),
            "cpu_runs": cpu,
            "statements_per_request": results[0]["statements_per_request"],
            "by_kind": results[0]["by_kind"],
        }
    return {"runs": runs, **summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.writer_cost", description=__doc__)
    parser.add_argument("--warm", type=int, default=150, help="requests applied first")
    parser.add_argument("--batches", type=int, default=100, help="requests timed")
    parser.add_argument("--count", type=int, default=20, help="requests whose SQL is counted")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database-url",
        help="an empty database to measure on instead of a new SQLite file "
        "(PostgreSQL: wall seconds count its round trips)",
    )
    parser.add_argument("--against", help="another checkout's src folder, measured in turn")
    parser.add_argument("--runs", type=int, default=5, help="runs of each side (--against)")
    args = parser.parse_args(argv)
    if args.against and args.database_url:
        parser.error("--against runs each side on a new SQLite file: drop --database-url")
    if args.against:
        names = ("warm", "batches", "count", "seed")
        passed = [f"--{name}={getattr(args, name)}" for name in names]
        print(json.dumps(against(args.against, args.runs, passed)))
        return 0
    found = measure(args.warm, args.batches, args.count, args.seed, args.database_url)
    print(json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
