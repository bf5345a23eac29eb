"""`--profile DIR`: py-spy samples the SQLite /v1/batch server during its measured run, and the
report names the functions of src/roster where the time went."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import BenchError, console

ROSTER_FRAME = re.compile(r"[(/]roster/")  # a py-spy frame in roster's own source
LINE_NUMBER = re.compile(r":\d+\)$")
PROFILE_FILE = "segment-batch-sqlite.txt"


def py_spy() -> Path:
    """py-spy from the venv, or what to do to have it."""
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        raise BenchError(
            f"--profile needs py-spy in the venv ({spy} is missing): "
            f"{Path(sys.executable).parent / 'pip'} install py-spy"
        )
    return spy


def start_profile(pid: int, folder: Path, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy sampling the server for the measured run, as collapsed stacks."""
    spy = py_spy()
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        str(spy), "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
        "--rate", "200", "--format", "raw", "--output", str(folder / PROFILE_FILE),
        "--nonblocking",
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish_profile(spy: subprocess.Popen[bytes], folder: Path) -> dict[str, Any]:
    """The functions of src/roster with the most samples: anywhere on the stack, and as the
    innermost roster function (time in it or in the libraries it calls)."""
    _, err = spy.communicate(timeout=60)
    path = folder / PROFILE_FILE
    if spy.returncode != 0 or not path.exists():
        console.print(f"[yellow]warning:[/] py-spy failed: {err.decode(errors='replace')[-300:]}")
        return {"error": err.decode(errors="replace")[-300:]}
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
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

    def top(counts: dict[str, int]) -> list[dict[str, Any]]:
        ranked = sorted(counts.items(), key=lambda item: -item[1])[:15]
        return [
            {"frame": frame, "share": round(count / total, 3) if total else 0.0}
            for frame, count in ranked
        ]

    on_stack, on_top = top(inclusive), top(own)
    console.print(f"  py-spy: {total} samples in {path}; roster frames with most samples:")
    for row in on_stack[:10]:
        console.print(f"    {row['share']:6.1%}  {row['frame']}")
    console.print("  ... and those innermost in roster (the roster frame nearest the top):")
    for row in on_top[:10]:
        console.print(f"    {row['share']:6.1%}  {row['frame']}")
    return {"samples": total, "file": str(path), "inclusive": on_stack, "own": on_top}


# Written by hand from a `--profile` run (py-spy, 200 samples/s, the SQLite /v1/batch server
# during its measured run), shown on docs/benchmarks.md. Update it with each profile taken.
WHERE_TIME_GOES = """\
A py-spy profile of the SQLite `/v1/batch` server during its measured run (2026-12-01, commit
6dfc0e4, 2,329 samples, a noisy machine; shares of all samples of the server process):

| where | share |
|---|---:|
| the writer thread, in all | 66% |
| … reading what a batch needs first (`Ingestion._prefetch`: people, identifiers) | 14% |
| … the identity rules applied to each message (`engine.apply`, its SQL reads included) | 26% |
| … writing the batch's rows (`SqlStore.flush`, `save_person`, `add_event`) | 12% |
| … COMMIT | 7% |
| the event loop, in all (HTTP, routing, parsing, the hand-off to the writer) | 28% |
| … a request id for each request (`uuid.uuid4`: a read of the kernel's random source) | 6% |
| … the NUL and size checks of each message of a batch, each scanning the whole body | 4% |
| … turning messages into operations (`operations_from`) | 5% |

SQL executed by sqlite3 itself (`Cursor.one`, `many`, `all`, `run`, inside the items above) is
40% of all samples: the writer is the bottleneck, and half of its time is SQLite's.

What was cut after it: request ids are now a per-process random prefix and a counter (the 6% of
`uuid4`), and a batch's body is looked at once for NULs and size, not once per message (most of
the 4%). Writing the batch's rows is mostly index upkeep: since migration 0014 the events'
anonymous-id and merge indexes and the activities' merge index hold only the rows that have one,
so an ordinary event writes two index entries fewer and each activity one
(`tests/storage/test_partial_indexes.py` checks that every look-up by those columns still uses
them).

The write path, measured in process (`.venv/bin/python -m bench.writer_cost`): a fresh SQLite
system, this traffic read by the Segment parser and applied through the ingestion service and
the writer without HTTP, 150 requests to fill the store, then process CPU seconds per 1,000
messages over the next 300 requests (`--batches 300`; a change marked 150 was measured over 150)
and the SQL statements sent per request over 20 more. `--against OLD/src --runs 7` runs the
previous commit's code and the new one in turn, 7 fresh processes each; CPU figures are the
medians (the machine is shared: single runs vary by about 10%), statement counts are exact.
Each change was measured against the code just before it:

1. SQLite: a request's events are written in one executemany, after one query for which of its
   event ids are stored, so that a stored event id, or one repeated in the request, is still
   dropped exactly. PostgreSQL still writes each event at once: another server process may store
   the same event id meanwhile, and only the insert itself says which one keeps it.
2. A save that changes only attributes leaves the indexed columns (id, email,
   created_in_roster_at) alone, so that SQLite does not rewrite the person's index entries.
3. `/metrics`: a request's counts are added up first, and each counter moves once a request,
   not once a message.
4. The prefetch fetches emails only for messages whose id names nobody or a person without an
   email (the only ones the rules look up by email): one query still, with fewer values.

| change | statements per request | CPU s per 1,000 messages, median of 7 | kept |
|---|---|---|---|
| 1 | 145.7 → 95.75 | 0.111 → 0.105 (150; lower in 5 of 7 pairs) | yes |
| 2 | 76.8 → 76.8 | 0.1121 → 0.1122 (150); 0.1237 → 0.1158 (lower in 7 of 7) | yes |
| 3 | 76.8 → 76.8 | 0.0971 → 0.0921 (lower in 6 of 7 pairs) | yes |
| 4 | 76.8 → 76.8 | 0.0986 → 0.0955 (lower in only 4 of 7 pairs: noise) | no |
| 1 to 3, against the code before them | 125.6 → 76.8 | 0.1214 → 0.1163 (lower in 6 of 7 pairs) | |

Together the kept changes send 39% fewer statements a request, and save about 4% of the
writer's CPU in the last comparison (the separate comparisons, taken at quieter and busier
moments of the machine, do not add up to more than that with any confidence). The changes
do not bring `/v1/batch` near 0.60 of the floor: see what is left below.

Not tried: skipping the UPDATE of a person whose values did not change, since every identify
sets `updated_at` and so no save in this traffic is unchanged (the narrower UPDATE above is what
such a save can be spared). Statement counts depend on the store's fill: over 20 requests after
300 (first row) a request sends more (new people) than after 450 (the other rows).

What is left, from py-spy on the harness's writer thread (after the events change): SQLite's own
work. Of the writer's samples, COMMIT is 20% (synchronous=FULL: kept), the executemany of the
held-back activities and events 17%, single-row writes 14% (a person's UPDATE for each identify,
a new person's identifier rows), the prefetch's queries 9% and single-row reads and inserts
(`Cursor.one`: a new person's cio_id check and row) 6%; the identity rules' own Python is a few
percent. Still to do: the routing and middleware layers around each request (about 7% of the
event loop's samples before the handler runs)."""
