"""`make screenshots`: the web UI's main pages drawn into docs/images/ by Debian's Chromium
(/usr/bin/chromium) through Playwright, from a real `roster serve` on a temporary SQLite database
holding the demo's people (src/roster/demo.py, what `make run` loads).

    .venv/bin/python -m tools.screenshots [--out docs/images] [--chromium /usr/bin/chromium]

Each row of SHOTS is one picture: a page, the window it is drawn in, and what to do first. A page
that answers 404 (one this roster does not have) is skipped with a note, not an error.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright
from rich.console import Console
from rich.progress import Progress

from roster import demo
from roster.testing.server import RunningRoster, create_workspace, run_roster

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "images"
CHROMIUM = Path(os.environ.get("ROSTER_TEST_CHROMIUM", "/usr/bin/chromium"))
LOGIN = "demo@example.com"
PASSWORD = "screenshots-only"  # a login of a throw-away database
LAPTOP = (1280, 800)
PHONE = (390, 844)
console = Console()


@dataclass(frozen=True)
class Shot:
    """One picture: `path` may name `{cio_id}` (the demo's user-1); `logged_in` False draws the
    page as a visitor without a session sees it."""

    name: str  # docs/images/<name>.png
    path: str
    size: tuple[int, int] = LAPTOP
    logged_in: bool = True
    full_page: bool = False


SHOTS: tuple[Shot, ...] = (
    Shot("login", "/login", logged_in=False),
    Shot("people", "/people", full_page=True),
    Shot("people-search", "/people?q=plan%3Dpro"),
    Shot("people-phone", "/people", size=PHONE),
    Shot("person", "/people/{cio_id}", full_page=True),
    Shot("duplicates", "/duplicates"),
    Shot("workspace-settings", "/workspace", full_page=True),
    Shot("credentials", "/workspace/credentials"),
    Shot("segment-setup", "/workspace/segment", full_page=True),
    Shot("ingestion-log", "/workspace/ingestion-log"),
)
# Segment messages roster accepts but cannot use: what the ingestion log shows.
DROPPED = [
    {"type": "track", "userId": "user-1", "messageId": "checkout-7", "properties": {"total": 7}},
    {"type": "track", "userId": "user-2", "messageId": "plan-9", "event": "", "properties": {}},
]


def prepare(folder: Path) -> tuple[RunningRoster, str]:
    """A roster on a new SQLite database in `folder` with the demo's people, a login and a
    few ingestion-log entries: the server (started) and the demo's user-1's cio_id."""
    url = f"sqlite:///{folder / 'roster.db'}"
    credentials = create_workspace(url, folder / "data", "demo")
    made = run_roster(
        "users", "create", LOGIN, "--password-stdin", "--database-url", url,
        data_dir=folder / "data", input=PASSWORD + "\n",
    )  # fmt: skip
    if made.returncode != 0:
        raise RuntimeError(f"roster users create failed: {made.stdout}{made.stderr}")
    roster = RunningRoster(url, folder / "data", credentials=credentials)
    roster.start()
    demo.load(roster.base_url, credentials)
    auth = {"Authorization": f"Bearer {roster.write_key}"}
    httpx.post(
        f"{roster.base_url}/v1/batch", json={"batch": DROPPED}, headers=auth, timeout=30
    ).raise_for_status()
    _duplicate_pair(roster)
    with roster.app_api() as app:
        cio_id = str(app.must("user-1")["identifiers"]["cio_id"])
    return roster, cio_id


def _duplicate_pair(roster: RunningRoster) -> None:
    """A pair for the Duplicates page: a person known by id, a lead known by the same human's
    email, and a call that carries both, which the identity rules refuse to merge on their own
    with auto-merge off (docs/identity.md I5.2): the duplicate finder's conflict pair."""

    def auto_merge(on: bool) -> None:
        httpx.patch(
            f"{roster.base_url}/api/workspace/settings",
            json={"auto_merge": on},
            headers={"Authorization": f"Bearer {roster.app_api_key}"},
            timeout=30,
        ).raise_for_status()

    auto_merge(False)
    with roster.track_http() as track:
        for ref, body in (
            ("mae-1", {"plan": "pro", "first_name": "Mae"}),
            ("mae.jemison@example.org", {"source": "newsletter"}),
            ("mae-1", {"email": "mae.jemison@example.org"}),
        ):
            track.put(f"/api/v1/customers/{ref}", json=body).raise_for_status()
    auto_merge(True)  # the demo's setting, as the settings page shows it


def log_in(page: Page, login: tuple[str, str]) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(login[0])
    page.get_by_label("Password").fill(login[1])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/people")


def take(
    shots: tuple[Shot, ...],
    base_url: str,
    cio_id: str,
    out: Path,
    chromium: Path = CHROMIUM,
    login: tuple[str, str] = (LOGIN, PASSWORD),
) -> list[str]:
    """Draws every shot into `out` as `login`: the names of those written (a page that answers
    404 is skipped, saying so)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright, Progress(console=console) as progress:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True)
        task = progress.add_task("Screenshots", total=len(shots))
        contexts: dict[tuple[tuple[int, int], bool], Any] = {}
        try:
            for shot in shots:
                progress.update(task, description=f"{shot.name} ({shot.size[0]}px)")
                key = (shot.size, shot.logged_in)
                if key not in contexts:
                    width, height = shot.size
                    contexts[key] = browser.new_context(
                        base_url=base_url, viewport={"width": width, "height": height}
                    )
                    if shot.logged_in:
                        log_in(contexts[key].new_page(), login)
                page = contexts[key].new_page()
                answer = page.goto(shot.path.format(cio_id=cio_id))
                if answer is not None and answer.status == 404:
                    progress.console.print(
                        f"[yellow]{shot.name}:[/] {shot.path} answers 404 on this roster; skipped"
                    )
                else:
                    page.screenshot(path=out / f"{shot.name}.png", full_page=shot.full_page)
                    written.append(shot.name)
                page.close()
                progress.advance(task)
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.screenshots", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--out", type=Path, default=OUT, help=f"default {OUT.relative_to(REPO)}")
    parser.add_argument("--chromium", type=Path, default=CHROMIUM)
    args = parser.parse_args(argv)
    if not args.chromium.exists():
        console.print(f"[bold red]No Chromium at {args.chromium}[/] (apt-get install chromium).")
        return 1
    with tempfile.TemporaryDirectory(prefix="roster-screenshots-") as folder:
        with console.status("Starting roster with the demo's people ..."):
            roster, cio_id = prepare(Path(folder))
        try:
            written = take(SHOTS, roster.base_url, cio_id, args.out, args.chromium)
        finally:
            roster.stop()
    console.print(f"Wrote {len(written)} of {len(SHOTS)} screenshots into {args.out}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
