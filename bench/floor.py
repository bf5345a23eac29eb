"""The raw-SQL ingestion floor: the least a store must do for the Segment /v1/batch benchmark's
traffic, with nothing of roster in the way (no HTTP, no validation, no identity rules).

The traffic is that of bench/batch.lua: messages alternate identify and track, each for a
user drawn at random from a fixed set, committed `batch` to a transaction. An identify creates
the person with an id and an email identifier, or merges its traits into the person's stored
attributes; a track stores one event on the person. SQLite in WAL mode with synchronous=NORMAL,
through the standard library's sqlite3 only, so that this file runs on its own:

    python bench/floor.py [--path DIR] [--events N] [--users N] [--batch N]

It prints one JSON line: {"floor_events_per_s": ..., "events": ..., "batch": ..., "sqlite": ...}.
`make bench` runs it on the same disk as the servers it measures and reports /v1/batch's events/s
as a share of this one's.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

TABLES = (
    "create table people (pk integer primary key, cio_id text not null unique, "
    "attributes text not null, updated_at integer not null)",
    "create table identifiers (kind text not null, value text not null, "
    "person_pk integer not null, primary key (kind, value)) without rowid",
    "create table events (pk integer primary key, event_id text not null unique, "
    "person_pk integer, name text not null, data text not null, ts integer not null)",
    "create index events_by_person on events (person_pk, ts)",
)
FIND = "select person_pk from identifiers where kind = 'id' and value = ?"
READ = "select attributes from people where pk = ?"
CREATE = "insert into people (cio_id, attributes, updated_at) values (?, ?, ?)"
IDENTIFY = "insert into identifiers (kind, value, person_pk) values (?, ?, ?)"
MERGE = "update people set attributes = ?, updated_at = ? where pk = ?"
EVENT = "insert into events (event_id, person_pk, name, data, ts) values (?, ?, ?, ?, ?)"
PLANS = ("free", "pro", "team")


def identify(
    db: sqlite3.Connection, user: str, person: int | None, traits: dict[str, object], n: int
) -> None:
    if person is None:
        created = db.execute(CREATE, (uuid.uuid4().hex[:12], json.dumps(traits), n)).lastrowid
        db.execute(IDENTIFY, ("id", user, created))
        db.execute(IDENTIFY, ("email", f"{user}@example.com", created))
        return
    (stored,) = db.execute(READ, (person,)).fetchone()
    db.execute(MERGE, (json.dumps(json.loads(stored) | traits), n, person))


def track(db: sqlite3.Connection, person: int | None, n: int) -> None:
    data = {"revenue": 9.99, "sku": "sku-1", "n": n}
    db.execute(EVENT, (str(uuid.uuid4()), person, "Order Completed", json.dumps(data), n))


def ingest(path: Path, events: int, users: int, batch: int, seed: int = 7) -> float:
    """Write `events` messages into a new database at `path`; events per second."""
    db = sqlite3.connect(path, isolation_level=None)  # transactions are ours to begin
    db.execute("pragma journal_mode=wal")
    db.execute("pragma synchronous=normal")
    for statement in TABLES:
        db.execute(statement)
    draw = random.Random(seed)
    start = time.perf_counter()
    for first in range(0, events, batch):
        db.execute("begin immediate")
        for n in range(first, min(first + batch, events)):
            user = f"user-{draw.randrange(users)}"
            found = db.execute(FIND, (user,)).fetchone()
            person = found[0] if found else None
            if n % 2 == 0:
                identify(db, user, person, {"plan": draw.choice(PLANS), "seen": n}, n)
            else:
                track(db, person, n)
        db.execute("commit")
    elapsed = time.perf_counter() - start
    db.close()
    return events / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--path", default=None, help="folder for the database (default: temp)")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.path, prefix="floor-") as folder:
        rate = ingest(Path(folder) / "floor.db", args.events, args.users, args.batch)
    found = {"events": args.events, "batch": args.batch, "sqlite": sqlite3.sqlite_version}
    print(json.dumps({"floor_events_per_s": round(rate), **found}))


if __name__ == "__main__":
    main()
