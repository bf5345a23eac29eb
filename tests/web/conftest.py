"""The web UI in a real Chromium (Debian's /usr/bin/chromium) driven by Playwright, against a
real `roster serve` on SQLite (docs/web.md, "How the UI is tested"). Each main page is also
checked by axe-core (tests/web/package-lock.json): no serious or critical violation."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import IN_CI
from tests.server import RunningRoster, run_roster

pytestmark = pytest.mark.server

HERE = Path(__file__).parent
CHROMIUM = Path(os.environ.get("ROSTER_TEST_CHROMIUM", "/usr/bin/chromium"))
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery"


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what}: CI=true requires it (.ci/run installs it)", pytrace=False)
    pytest.skip(f"SKIPPED LOUDLY: {what}; the web UI tests did not run")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one test module (not the whole session: Playwright's sync API keeps an
    event loop of its own, which must not outlive the module into other tests)."""
    if not CHROMIUM.exists():
        _missing(f"Chromium is not at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core from npm (tests/web/package-lock.json), installed into node_modules once."""
    installed = HERE / "node_modules" / ".package-lock.json"
    lock = HERE / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        if shutil.which("npm") is None:
            _missing("npm is needed to install axe-core")
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    return AXE


@dataclass
class Ui:
    """A running roster with a workspace and a login for it."""

    roster: RunningRoster
    email: str
    password: str

    @property
    def base_url(self) -> str:
        return self.roster.base_url

    def identify(self, ref: str, **attributes: Any) -> None:
        """A person, sent the way a client sends one (Track API v1)."""
        with self.roster.track_http() as track:
            track.put(f"/api/v1/customers/{ref}", json=attributes).raise_for_status()

    def app_api(self, method: str, path: str, **options: Any) -> httpx.Response:
        with httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.roster.app_api_key}"},
            timeout=30.0,
        ) as client:
            return client.request(method, path, **options)


def make_login(roster: RunningRoster, email: str, *options: str) -> None:
    """`roster users create EMAIL --password-stdin`, as an operator runs it."""
    command = [str(roster.roster), "users", "create", email, "--password-stdin"]
    done = subprocess.run(
        [*command, "--database-url", roster.database_url, *options],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "ROSTER_DATA_DIR": str(roster.data_dir)},
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    folder = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{folder / 'roster.db'}"
    with RunningRoster(url, folder / "data") as roster:
        email = f"ops-{uuid.uuid4().hex[:6]}@example.com"
        make_login(roster, email)
        yield Ui(roster, email, PASSWORD)


@pytest.fixture
def page(browser: Browser, ui: Ui) -> Iterator[Page]:
    """A fresh browser context (no cookies) on the roster's address."""
    context = browser.new_context(base_url=ui.base_url, accept_downloads=True)
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    try:
        yield opened
    finally:
        context.close()


def log_in(page: Page, ui: Ui, target: str = "/people") -> None:
    page.goto(target)
    page.get_by_label("Email").fill(ui.email)
    page.get_by_label("Password").fill(ui.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{target}*")


@pytest.fixture
def logged_in(page: Page, ui: Ui) -> Page:
    log_in(page, ui)
    return page


def accessible(page: Page, axe_script: Path) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(axe_script))
    results: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


__all__ = ["PASSWORD", "Ui", "accessible", "log_in", "make_login", "run_roster"]
