"""Logging in and out, and the People page, in Chromium (docs/web.md)."""

from __future__ import annotations

import csv
import io
import re
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import Ui, accessible, log_in

pytestmark = pytest.mark.server


def _email() -> str:
    return f"p-{uuid.uuid4().hex[:8]}@example.com"


def test_every_page_needs_a_login_and_the_login_page_brings_you_back(page: Page, ui: Ui) -> None:
    page.goto("/people?q=someone")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.get_by_role("heading", name="Log in to roster")).to_be_visible()
    log_in(page, ui, "/people?q=someone")
    expect(page).to_have_url(re.compile(r"/people\?q=someone$"))
    expect(page.get_by_label("Search by id, email, cio_id")).to_have_value("someone")


def test_a_wrong_password_is_refused_on_the_page_and_sets_no_session(page: Page, ui: Ui) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(ui.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    assert not [c for c in page.context.cookies() if c["name"] == "roster_session"]


def test_the_session_cookie_is_httponly_and_samesite_lax(logged_in: Page) -> None:
    (cookie,) = [c for c in logged_in.context.cookies() if c["name"] == "roster_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # plain HTTP here; under TLS it is Secure


def test_find_a_person_by_email_and_page_through_everyone(
    logged_in: Page, ui: Ui, axe_script: Path
) -> None:
    email = _email()
    ui.identify(f"find-{uuid.uuid4().hex[:6]}", email=email, plan="pro")
    page = logged_in
    page.get_by_label("Search by id, email, cio_id").fill(email)
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.people tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(email)
    assert accessible(page, axe_script) == []

    page.get_by_label("Search by id, email, cio_id").fill("plan=pro")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table.people tbody tr", has_text=email)).to_have_count(1)


def test_more_people_than_a_page_are_paged_by_cursor_without_repeats(
    logged_in: Page, ui: Ui
) -> None:
    tag = uuid.uuid4().hex[:6]
    for n in range(55):
        ui.identify(f"many-{tag}-{n:02d}", batch=tag)
    page = logged_in
    page.goto(f"/people?attribute=batch&value={tag}")
    first = page.locator("table.people tbody tr td:first-child").all_inner_texts()
    assert len(first) == 50
    page.get_by_role("link", name="Next page").click()
    second = page.locator("table.people tbody tr td:first-child").all_inner_texts()
    assert sorted(first + second) == [f"many-{tag}-{n:02d}" for n in range(55)]
    assert first == sorted(first)  # oldest first: the order they were created


def test_the_filters_show_email_but_no_id(logged_in: Page, ui: Ui) -> None:
    tag = uuid.uuid4().hex[:6]
    lead = _email()
    with httpx.Client(base_url=ui.base_url, auth=(ui.roster.site_id, ui.roster.track_api_key)) as c:
        c.put(f"/api/v1/customers/{lead}", json={"tag": tag}).raise_for_status()
    ui.identify(f"customer-{tag}", email=_email(), tag=tag)
    page = logged_in
    page.goto(f"/people?attribute=tag&value={tag}")
    expect(page.locator("table.people tbody tr")).to_have_count(2)
    page.get_by_label("Show").select_option(label="Email but no id")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.people tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(lead)


def test_export_csv_downloads_what_the_filter_shows(logged_in: Page, ui: Ui) -> None:
    tag = uuid.uuid4().hex[:6]
    emails = sorted(_email() for _ in range(3))
    for n, email in enumerate(emails):
        ui.identify(f"exp-{tag}-{n}", email=email, cohort=tag)
    ui.identify(f"other-{tag}", email=_email(), cohort="someone else")
    page = logged_in
    page.goto(f"/people?attribute=cohort&value={tag}")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    text = Path(download.value.path()).read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(row["email"] for row in rows) == emails
    expect(page.get_by_role("status").filter(has_text="Exported")).to_contain_text("3 people")


def test_empty_search_and_a_search_that_finds_no_one_say_what_to_do(logged_in: Page) -> None:
    page = logged_in
    page.get_by_role("button", name="Search").click()  # empty: everyone
    expect(page).to_have_url(re.compile(r"/people\?q=&"))
    page.get_by_label("Search by id, email, cio_id").fill(f"nobody-{uuid.uuid4().hex}")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No one matches this search")).to_be_visible()


def test_a_filter_the_grammar_refuses_is_a_message_not_a_500(logged_in: Page) -> None:
    page = logged_in
    response = page.goto("/people?attribute=" + "x" * 300 + "&value=1")
    assert response is not None and response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("cannot be longer")


def test_an_unknown_address_is_a_page_in_the_uis_style(logged_in: Page) -> None:
    response = logged_in.goto("/no-such-page")
    assert response is not None and response.status == 404
    expect(logged_in.get_by_role("heading", name="Not found")).to_be_visible()
    expect(logged_in.get_by_text("Request id:")).to_be_visible()


def test_a_stale_csrf_token_changes_nothing_and_says_so(logged_in: Page) -> None:
    page = logged_in
    page.locator("form[action='/logout'] input[name='csrf_token']").evaluate(
        "input => input.value = 'stale'"
    )
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("alert")).to_contain_text("This form has expired")
    page.goto("/people")  # still logged in: the logout did not happen
    expect(page.get_by_role("heading", name="People")).to_be_visible()


def test_log_out_and_be_refused(logged_in: Page, ui: Ui) -> None:
    page = logged_in
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "roster_session"]
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You have logged out.")
    page.goto("/people")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    # The old cookie, replayed, is refused by the pages and by the API.
    replayed = httpx.get(
        f"{ui.base_url}/api/ingestion-log", cookies={"roster_session": cookie["value"]}
    )
    assert replayed.status_code == 401


def test_an_expired_session_goes_to_the_login_page_saying_so(page: Page, ui: Ui) -> None:
    page.context.add_cookies([{"name": "roster_session", "value": "made.up", "url": ui.base_url}])
    page.goto("/people")
    expect(page.get_by_role("alert")).to_have_text("Your session has ended: log in again.")


def test_the_login_page_is_accessible(page: Page, axe_script: Path) -> None:
    page.goto("/login")
    assert accessible(page, axe_script) == []
