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
