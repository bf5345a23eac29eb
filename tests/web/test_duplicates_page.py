"""The Duplicates page in Chromium (docs/web.md, "Duplicates"): the finder's groups with their
merge previews, "Merge into oldest" after a confirmation, a group that changed since, a stale
form, and the empty state. Each test has a workspace of its own (id_only, where one email in
two letter cases is two people) and a login that sees only it."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from roster.web.duplicates import PAGE
from tests.server import create_workspace
from tests.web.conftest import PASSWORD, Ui, accessible, make_login

pytestmark = pytest.mark.server


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def _workspace(ui: Ui) -> dict[str, Any]:
    return create_workspace(
        ui.roster.database_url, ui.roster.data_dir, f"dup-{_tag()}", "--identifiers", "id_only"
    )


def _log_in(page: Page, ui: Ui, ws: dict[str, Any]) -> None:
    email = f"dup-{_tag()}@example.com"
    make_login(ui.roster, email, "--workspace", ws["name"])
    page.goto("/duplicates")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/duplicates")


def _identify(ui: Ui, ws: dict[str, Any], ref: str, **attributes: Any) -> None:
    with httpx.Client(
        base_url=ui.base_url, auth=(ws["site_id"], ws["track_api_key"]), timeout=30.0
    ) as track:
        track.put(f"/api/v1/customers/{ref}", json=attributes).raise_for_status()


def _app(ui: Ui, ws: dict[str, Any], method: str, path: str, **options: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {ws['app_api_key']}"}
    return httpx.request(method, ui.base_url + path, headers=headers, timeout=30.0, **options)


def _groups(ui: Ui, ws: dict[str, Any]) -> list[dict[str, Any]]:
    answer = _app(ui, ws, "GET", "/api/duplicates")
    assert answer.status_code == 200, answer.text
    groups: list[dict[str, Any]] = answer.json()["duplicates"]
    return groups


def _customer(ui: Ui, ws: dict[str, Any], cio_id: str) -> httpx.Response:
    return _app(ui, ws, "GET", f"/v1/customers/{cio_id}/attributes", params={"id_type": "cio_id"})


def _seed(ui: Ui, ws: dict[str, Any], tag: str) -> None:
    """Two groups: Ada three times (one email in three letter cases), Bob twice."""
    _identify(ui, ws, f"ada-1-{tag}", email=f"ada-{tag}@example.com", plan="pro")
    _identify(ui, ws, f"ada-2-{tag}", email=f"ADA-{tag}@example.com", plan="free", city="Paris")
    _identify(ui, ws, f"ada-3-{tag}", email=f"Ada-{tag}@Example.com", unsubscribed=True)
    _identify(ui, ws, f"bob-1-{tag}", email=f"bob-{tag}@example.com")
    _identify(ui, ws, f"bob-2-{tag}", email=f"BOB-{tag}@example.com")


def test_a_group_and_its_preview_are_shown_and_merged_into_the_oldest_after_asking(
    page: Page, ui: Ui, axe_script: Path
) -> None:
    ws, tag = _workspace(ui), _tag()
    _seed(ui, ws, tag)
    ada_group = next(g for g in _groups(ui, ws) if g["email"] == f"ada-{tag}@example.com")
    oldest, *others = [p["cio_id"] for p in ada_group["people"]]
    _log_in(page, ui, ws)

    expect(page.locator("p.count")).to_have_text("2 groups of duplicates in this workspace.")
    group = page.locator("section.group", has_text=f"ada-{tag}@example.com")
    expect(group.get_by_role("heading", level=2)).to_contain_text("3 people")
    expect(group).to_contain_text("Their emails differ only in letter case")
    people = group.locator("table.people tbody tr")
    expect(people).to_have_count(3)
    expect(people.first).to_contain_text(f"ada-1-{tag}")
    expect(people.first).to_contain_text("Kept (the oldest)")
    expect(people.first.get_by_role("link", name=oldest)).to_have_attribute(
        "href", f"/people/{oldest}"
    )
    preview = group.locator("table.preview")
    expect(preview.locator("caption")).to_contain_text(f"into cio_{oldest} would give")
    for field, kept, result, source in (
        ("plan", "pro", "pro", "Kept"),
        ("city", "none", "Paris", "Merged in"),
        ("unsubscribed", "no", "yes", "Merged in"),
    ):
        row = preview.locator("tr", has=page.locator(f"th[scope=row]:text-is('{field}')"))
        cells = row.locator("td")
        expect(cells.first).to_have_text(kept)
        expect(cells.nth(3)).to_have_text(result)  # kept, two merged in, then the result
        expect(cells.nth(4)).to_have_text(source)
    expect(group.locator(".rules")).to_contain_text("I6.2")
    assert accessible(page, axe_script) == []

    group.get_by_role("button", name="Merge into oldest").click()
    expect(page.get_by_role("heading", name="Merge into the oldest?")).to_be_visible()
    expect(page.locator("#what-happens")).to_contain_text(
        f"2 people will be merged into cio_{oldest} (ada-{tag}@example.com), the oldest; "
        "this can be undone from the person's page with Undo merge"
    )
    expect(page.locator("table.preview")).to_be_visible()
    assert accessible(page, axe_script) == []
    assert _customer(ui, ws, others[0]).status_code == 200  # asking merged nothing

    page.get_by_role("button", name="Merge 2 people").click()
    expect(page).to_have_url(re.compile(r"/duplicates$"))
    expect(page.get_by_role("status")).to_have_text(
        f"Merged 2 people into cio_{oldest} (ada-{tag}@example.com); Undo merge on their page "
        "undoes the latest. 1 group of duplicates left."
    )
    expect(page.locator("p.count")).to_have_text("1 group of duplicates in this workspace.")
    expect(page.locator("section.group")).to_have_count(1)
    expect(page.locator("section.group")).to_contain_text(f"bob-{tag}@example.com")

    kept = _customer(ui, ws, oldest).json()["customer"]
    assert (kept["attributes"]["plan"], kept["attributes"]["city"]) == ("pro", "Paris")
    assert kept["unsubscribed"] is True
    assert [_customer(ui, ws, cio_id).status_code for cio_id in others] == [404, 404]
    assert [g["email"] for g in _groups(ui, ws)] == [f"bob-{tag}@example.com"]

    # Each merge is undone on its own, the latest first.
    undone = _app(ui, ws, "POST", f"/v1/customers/{oldest}/unmerge", params={"id_type": "cio_id"})
    assert undone.status_code == 200, undone.text
    assert [_customer(ui, ws, cio_id).status_code for cio_id in others] == [404, 200]


def test_a_group_that_changed_since_it_was_shown_merges_nothing_and_says_so(
    page: Page, ui: Ui
) -> None:
    ws, tag = _workspace(ui), _tag()
    _seed(ui, ws, tag)
    ada_group = next(g for g in _groups(ui, ws) if g["email"] == f"ada-{tag}@example.com")
    oldest, second, third = [p["cio_id"] for p in ada_group["people"]]
    _log_in(page, ui, ws)
    page.locator("section.group", has_text=f"ada-{tag}@example.com").get_by_role(
        "button", name="Merge into oldest"
    ).click()
    expect(page.get_by_role("heading", name="Merge into the oldest?")).to_be_visible()

    # Meanwhile, someone merges the third Ada into the second one.
    merged = _app(
        ui,
        ws,
        "POST",
        "/v1/merge_customers",
        json={"primary": {"cio_id": second}, "secondary": {"cio_id": third}},
    )
    assert merged.status_code == 200, merged.text
    page.get_by_role("button", name="Merge 2 people").click()

    expect(page.get_by_role("heading", name="This group changed")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was merged.")
    assert [_customer(ui, ws, cio_id).status_code for cio_id in (oldest, second)] == [200, 200]
    page.get_by_role("link", name="Back to Duplicates").click()
    expect(page.locator("section.group", has_text=f"ada-{tag}@example.com")).to_contain_text(
        "2 people"
    )


def test_groups_are_paged_by_the_finders_cursor_without_repeats(page: Page, ui: Ui) -> None:
    ws, tag = _workspace(ui), _tag()
    emails = [f"p{n:02}-{tag}@example.com" for n in range(PAGE + 1)]
    for email in emails:
        _identify(ui, ws, f"one-{email}", email=email)
        _identify(ui, ws, f"two-{email}", email=email.upper())
    _log_in(page, ui, ws)

    headings = page.locator("section.group h2")
    first = [text.split()[0] for text in headings.all_inner_texts()]
    assert len(first) == PAGE
    next_page = page.get_by_role("link", name="Next page")
    assert "start=" in (next_page.get_attribute("href") or "")
    next_page.click()
    expect(page.get_by_role("link", name="First page")).to_be_visible()
    second = [text.split()[0] for text in headings.all_inner_texts()]
    assert first + second == emails


def test_a_stale_form_merges_nothing_and_says_so(page: Page, ui: Ui) -> None:
    ws, tag = _workspace(ui), _tag()
    _seed(ui, ws, tag)
    _log_in(page, ui, ws)
    group = page.locator("section.group", has_text=f"bob-{tag}@example.com")
    group.locator("input[name='csrf_token']").evaluate("input => input.value = 'stale'")
    group.get_by_role("button", name="Merge into oldest").click()

    expect(page.get_by_role("alert")).to_contain_text("This form has expired")
    assert len(_groups(ui, ws)) == 2
    page.goto("/duplicates")
    expect(page.locator("p.count")).to_have_text("2 groups of duplicates in this workspace.")


def test_a_workspace_without_duplicates_says_what_the_page_is_for(
    page: Page, ui: Ui, axe_script: Path
) -> None:
    ws, tag = _workspace(ui), _tag()
    _identify(ui, ws, f"solo-{tag}", email=f"solo-{tag}@example.com")
    _log_in(page, ui, ws)

    expect(page.get_by_role("heading", name="No duplicates found")).to_be_visible()
    expect(page.locator("section.empty")).to_contain_text("merge each group into its oldest")
    expect(page.locator("section.group")).to_have_count(0)
    expect(page.get_by_role("link", name="Duplicates")).to_have_attribute("aria-current", "page")
    assert accessible(page, axe_script) == []

    answer = page.goto("/duplicates?start=not-a-cursor")
    assert answer is not None and answer.status == 400
    expect(page.get_by_role("alert")).to_contain_text("start")
