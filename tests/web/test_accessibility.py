"""Every main page of the web UI checked by axe-core in Chromium (docs/web.md, "How the UI is
tested"): no serious or critical violation, with people and entries on the pages, empty, and
on the error pages; the keyboard's focus is visible; the People page fits a phone's width."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.server import create_workspace
from tests.web.conftest import PASSWORD, Ui, accessible, log_in, make_login

pytestmark = pytest.mark.server


@dataclass(frozen=True)
class Seen:
    """A page as a user sees it: where to go, whether logged in, what the page must say (so
    that axe checks the page meant, not a login form or an error), and its status."""

    path: str
    says: str
    logged_in: bool = True
    status: int = 200
    then: Callable[[Page], None] | None = None


def _stale_form(page: Page) -> None:
    """A form posted with a CSRF token that is not the session's: the 403 page."""
    page.locator("form[action='/logout'] input[name='csrf_token']").evaluate(
        "input => input.value = 'stale'"
    )
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("alert")).to_contain_text("This form has expired")


def _refused(page: Page) -> None:
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()


PAGES: dict[str, Seen] = {
    "login": Seen("/login", "Log in to roster", logged_in=False),
    "login, refused": Seen(
        "/login", "Wrong email or password", logged_in=False, then=lambda page: _refused(page)
    ),
    "people": Seen("/people", "People"),
    "people, searched": Seen("/people?q=plan%3Dpro", "Next page"),
    "people, no match": Seen("/people?q=nobody-at-all", "No one matches"),
    "people, refused filter": Seen(
        "/people?attribute=" + "x" * 300, "cannot be longer", status=400
    ),
    "settings": Seen("/workspace", "Identifier mode"),
    "credentials": Seen("/workspace/credentials", "App API key"),
    "segment set-up": Seen("/workspace/segment", "Webhooks (Actions)"),
    "suppressions": Seen("/workspace/suppressions", "Suppression list"),
    "ingestion log": Seen("/workspace/ingestion-log", "a track call needs an event name"),
    "outbox": Seen("/workspace/outbox", "Welcome"),
    "404": Seen("/no-such-page", "Not found", status=404),
    "403": Seen("/people", "This form has expired", then=_stale_form),
}  # fmt: skip


@pytest.fixture(scope="module")
def filled(ui: Ui) -> Ui:
    """The module's workspace with more people than a page, a suppressed person, a dropped
    Segment message and a message in the outbox; and another workspace, so that the pages have
    the workspace switcher."""
    with ui.roster.track_http() as track:
        for n in range(55):
            body = {"email": f"a11y-{n}@example.com", "plan": "pro"}
            track.put(f"/api/v1/customers/a11y-{n}", json=body).raise_for_status()
        track.put("/api/v1/customers/gone", json={"email": "gone@example.com"}).raise_for_status()
        track.post("/api/v1/customers/gone/suppress").raise_for_status()
    # A second workspace with a long name: the login sees the switcher on every page.
    create_workspace(ui.roster.database_url, ui.roster.data_dir, f"zz-{'long-name-' * 4}")
    dropped = [{"type": "track", "userId": "a11y-1", "messageId": "no-event"}]
    httpx.post(
        f"{ui.base_url}/v1/batch", auth=(ui.roster.write_key, ""), json={"batch": dropped}
    ).raise_for_status()
    sent = ui.app_api("POST", "/v1/send/email", json={
        "transactional_message_id": 7, "identifiers": {"id": "a11y-1"},
        "to": "a11y-1@example.com", "subject": "Welcome", "from": "shop@example.com",
        "body": "Hello"})  # fmt: skip
    assert sent.status_code == 200, sent.text
    return ui


@pytest.mark.parametrize("name", list(PAGES))
def test_every_main_page_has_no_serious_or_critical_axe_violation(
    name: str, page: Page, filled: Ui, axe_script: Path
) -> None:
    seen = PAGES[name]
    if seen.logged_in:
        log_in(page, filled)
    answer = page.goto(seen.path)
    assert answer is not None and answer.status == seen.status
    if seen.then is not None:
        seen.then(page)
    expect(page.locator("main")).to_contain_text(seen.says)

    assert accessible(page, axe_script) == []


def test_the_people_page_of_an_empty_workspace_is_accessible(
    page: Page, ui: Ui, axe_script: Path
) -> None:
    empty = create_workspace(ui.roster.database_url, ui.roster.data_dir, f"zz-{uuid.uuid4().hex}")
    email = f"empty-{uuid.uuid4().hex[:6]}@example.com"
    make_login(ui.roster, email, "--workspace", empty["name"])
    log_in(page, Ui(ui.roster, email, PASSWORD))

    expect(page.get_by_role("heading", name="No people yet")).to_be_visible()
    assert accessible(page, axe_script) == []


def _focus_ring(page: Page) -> dict[str, Any]:
    """The focused element and how it is drawn: its outline and box shadow."""
    found: dict[str, Any] = page.evaluate(
        """() => {
          const e = document.activeElement, s = getComputedStyle(e);
          return {tag: e.tagName, id: e.id, text: e.textContent.trim(),
                  outlineStyle: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth),
                  outlineColor: s.outlineColor, boxShadow: s.boxShadow};
        }"""
    )
    return found


def _visible(ring: dict[str, Any]) -> bool:
    outline = ring["outlineStyle"] != "none" and ring["outlineWidth"] >= 2
    return outline or ring["boxShadow"] not in ("", "none")


def test_the_keyboard_focus_is_visible_on_the_search_box_and_the_first_link(
    page: Page, filled: Ui
) -> None:
    log_in(page, filled)
    page.keyboard.press("Tab")  # from the page's start: the skip link comes first
    first_link = _focus_ring(page)
    assert first_link["tag"] == "A", first_link
    assert _visible(first_link), first_link

    for _ in range(30):  # on through the header to the search box
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    search = _focus_ring(page)
    assert search["id"] == "q", search
    assert _visible(search), search
    # Not the browser's default ring, which may be thin or faint: roster's own.
    assert search["outlineWidth"] >= 3 and search["outlineColor"] == "rgb(242, 169, 0)"


@pytest.fixture
def phone(browser: Browser, ui: Ui) -> Page:
    context = browser.new_context(base_url=ui.base_url, viewport={"width": 390, "height": 844})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    return opened


# The page's width, the window's, and what reaches past the window (outside scrolling boxes).
WIDER = """() => {
  const wider = [...document.querySelectorAll("body *")].filter(e =>
    e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest("pre"));
  return [document.scrollingElement.scrollWidth, window.innerWidth,
          wider.slice(0, 5).map(e => e.outerHTML.slice(0, 120))];
}"""


@pytest.mark.parametrize("path", ["/people", "/people?q=plan%3Dpro", "/workspace/credentials"])
def test_the_pages_fit_a_phone_s_width_without_scrolling_sideways(
    phone: Page, filled: Ui, path: str
) -> None:
    try:
        log_in(phone, filled)
        phone.goto(path)
        page_width, window_width, wider = phone.evaluate(WIDER)
        assert page_width <= window_width, wider
    finally:
        phone.context.close()
