"""What the writer spends on Segment `/v1/batch` traffic, in process and without HTTP: a fresh
SQLite system, the traffic of bench/batch.lua (alternately an identify with traits email, plan
and seen and a track "Order Completed" of a user drawn from USERS, BATCH messages a request)
read by the Segment parser the API uses, and applied through the ingestion service and the
writer as the API applies it (isolated messages, one request a transaction).

    .venv/bin/python -m bench.writer_cost [--warm N] [--batches N] [--count N] [--seed N]

It prints one JSON line: process CPU seconds (all threads) per 1,000 messages over `--batches`
requests, after `--warm` requests that fill the store (most users then exist, as in the
benchmark's measured run), and the SQL statements sent per request over `--count` more, by kind
(the writer's Cursor helpers and SQLAlchemy's own executes; an executemany is one). Set
PYTHONPATH to another checkout's src to measure that code with the same traffic.
"""

from __future__ import annotations

import argparse
import json
import random
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
    for name in ("run", "many", "one", "all", "execute"):
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


def measure(warm: int, batches: int, count: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="roster-writer-cost-") as folder:
        system = System.open(f"sqlite:///{Path(folder) / 'roster.db'}", Path(folder))
        try:
            workspace = system.workspaces.create("bench")["workspace_id"]
            mode = system.workspaces.mode(workspace)
            traffic = Traffic(seed, "cost")
            ingestion = system.ingestion

            def apply(requests: int) -> float:
                """CPU seconds to apply `requests` requests (their parsing not counted)."""
                spent = 0.0
                for _ in range(requests):
                    messages = traffic.messages(mode)
                    started = time.process_time()
                    ingestion.apply_sync(workspace, messages, DOOR, isolate=True)
                    spent += time.process_time() - started
                return spent

            apply(warm)
            cpu = apply(batches)
            with counting(system) as counts:
                apply(count)
            with system.database.reader.connect() as connection:
                people = connection.execute(sa.text("select count(*) from people")).scalar_one()
        finally:
            system.close()
    return {
        "roster": str(Path(roster.__file__).parent),
        "cpu_per_1000_messages": round(cpu / (batches * BATCH) * 1000, 4),
        "statements_per_request": round(sum(counts.values()) / count, 2),
        "by_kind": {kind: round(n / count, 2) for kind, n in sorted(counts.items())},
        "people": people,
        "warm": warm,
        "batches": batches,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.writer_cost", description=__doc__)
    parser.add_argument("--warm", type=int, default=150, help="requests applied first")
    parser.add_argument("--batches", type=int, default=100, help="requests timed")
    parser.add_argument("--count", type=int, default=20, help="requests whose SQL is counted")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.warm, args.batches, args.count, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
