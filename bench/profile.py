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
them). Still to do, from the same profile: fewer SQL round trips per message in the identity
rules (a message reads its person again after the prefetch), executemany for a group's events,
and the routing and middleware layers around each request (about 7% of the event loop's
samples before the handler runs)."""
