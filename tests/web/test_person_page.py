"""The person page in Chromium (docs/web.md, "Person page"): what it shows, each of its actions,
the confirmation before each destructive one, and bad input. People are made through the Track
API over HTTP, and what the page did is read back through the App API."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import Ui, accessible

pytestmark = pytest.mark.server


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def _customer(ui: Ui, ref: str, id_type: str = "id") -> dict[str, Any] | None:
    """The person as the App API answers them, None when there is no such person."""
    answer = ui.app_api("GET", f"/v1/customers/{ref}/attributes", params={"id_type": id_type})
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.text
    customer: dict[str, Any] = answer.json()["customer"]
    return customer


def _person(ui: Ui, ref: str, **attributes: Any) -> dict[str, Any]:
    ui.identify(ref, **attributes)
    found = _customer(ui, ref)
    assert found is not None
    return found


def _event(ui: Ui, ref: str, name: str, type_: str = "event") -> None:
    with ui.roster.track_http() as track:
        body = {"name": name, "type": type_}
        answer = track.post(f"/api/v1/customers/{ref}/events", json=body)
        answer.raise_for_status()


def _open(page: Page, customer: dict[str, Any]) -> None:
    page.goto(f"/people/{customer['identifiers']['cio_id']}")


def _attribute_row(page: Page, name: str) -> Any:
    return page.locator(
        "#attributes tbody tr", has=page.locator("th", has_text=re.compile(f"^{name}$"))
    )


def test_find_a_person_by_email_and_see_who_they_are_and_what_happened(
    logged_in: Page, ui: Ui, axe_script: Path
) -> None:
    ref, email = f"show-{_tag()}", f"show-{_tag()}@example.com"
    ui.identify(ref, email=email, plan="pro", anonymous_id=f"anon-{ref}")
    _event(ui, ref, "signed_up")
    _event(ui, ref, "/pricing", "page")
    ui.identify(ref, email=f"other-{email}")  # refused by id: a failed change, with its reason
    with ui.roster.track_http() as track:
        track.put(
            f"/api/v1/customers/{ref}/devices",
            json={"device": {"id": f"token-{ref}", "platform": "ios"}},
        ).raise_for_status()
        track.put(
            f"/api/v1/customers/{ref}",
            json={
                "cio_relationships": [
                    {
                        "identifiers": {"object_type_id": "1", "object_id": "acme"},
                        "relationship_attributes": {"role": "admin"},
                    }
                ]
            },
        ).raise_for_status()
    cio_id = _customer(ui, ref)["identifiers"]["cio_id"]  # type: ignore[index]

    page = logged_in
    page.get_by_label("Search by id, email, cio_id").fill(email)
    page.get_by_role("button", name="Search").click()
    page.locator("table.people tbody tr").first.get_by_role("link", name=email).click()
    expect(page).to_have_url(re.compile(f"/people/{cio_id}$"))
    identifiers = page.locator("#identifiers")
    expect(identifiers).to_contain_text(cio_id)
    expect(identifiers).to_contain_text(ref)
    expect(identifiers).to_contain_text(email)
    expect(_attribute_row(page, "plan")).to_contain_text("pro")
    expect(page.locator("#subscription-state")).to_contain_text("Subscribed")
    timeline = page.locator("#timeline tbody tr")
    expect(timeline.filter(has_text="Event").filter(has_text="signed_up")).to_have_count(1)
    expect(timeline.filter(has_text="Page").filter(has_text="/pricing")).to_have_count(1)
    expect(timeline.filter(has_text="Attribute change").filter(has_text="plan")).to_have_count(1)
    failed = timeline.filter(has_text="Failed change")
    expect(failed).to_contain_text(f"other-{email} refused: email cannot be changed without a cio_")
    expect(page.locator("#devices")).to_contain_text(f"token-{ref}")
    expect(page.locator("#relationships")).to_contain_text("acme")
    expect(page.locator("#relationships")).to_contain_text("admin")
    expect(page.locator("#anonymous-ids")).to_contain_text(f"anon-{ref}")
    expect(page.get_by_role("link", name="Undo merge…")).to_have_count(0)  # nothing to undo
    assert accessible(page, axe_script) == []


def test_the_timeline_pages_back_by_cursor_without_repeats(logged_in: Page, ui: Ui) -> None:
    ref = f"long-{_tag()}"
    customer = _person(ui, ref)
    for n in range(30):
        _event(ui, ref, f"step_{n:02d}")
    page = logged_in
    _open(page, customer)
    names = page.locator("#timeline tbody tr td:nth-child(3)")
    first = names.all_inner_texts()
    assert len(first) == 25
    page.get_by_role("link", name="Older").click()
    expect(page).to_have_url(re.compile(r"\?start="))
    second = names.all_inner_texts()
    steps = [name for name in first + second if name.startswith("step_")]
    assert sorted(steps) == [f"step_{n:02d}" for n in range(30)]  # each once, none skipped
    expect(page.get_by_role("link", name="Older")).to_have_count(0)
    page.get_by_role("link", name="Newest").click()
    assert names.all_inner_texts() == first


def test_edit_an_attribute_and_see_it_with_when_it_was_set(logged_in: Page, ui: Ui) -> None:
    ref = f"edit-{_tag()}"
    customer = _person(ui, ref, plan="free")
    page = logged_in
    _open(page, customer)
    page.get_by_label("Attribute", exact=True).fill("plan")
    page.get_by_label("Value").fill("team")
    page.get_by_role("button", name="Set attribute").click()
    expect(page.locator("p.flash")).to_contain_text("Saved: plan is now team")
    row = _attribute_row(page, "plan")
    expect(row).to_contain_text("team")
    expect(row.locator("time")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"))
    stored = _customer(ui, ref)
    assert stored is not None and stored["attributes"]["plan"] == "team"
    expect(
        page.locator("#timeline tbody tr")
        .filter(has_text="Attribute change")
        .filter(has_text="free → team")
    ).to_have_count(1)

    page.get_by_label("Attribute", exact=True).fill("plan")
    page.get_by_label("Value").fill("")
    page.get_by_role("button", name="Set attribute").click()
    expect(page.locator("p.flash")).to_contain_text("Removed plan")
    expect(_attribute_row(page, "plan")).to_have_count(0)
    stored = _customer(ui, ref)
    assert stored is not None and "plan" not in stored["attributes"]


def test_an_empty_or_too_long_attribute_name_is_a_message_and_saves_nothing(
    logged_in: Page, ui: Ui
) -> None:
    ref = f"badname-{_tag()}"
    customer = _person(ui, ref, plan="free")
    page = logged_in
    _open(page, customer)
    page.get_by_label("Value").fill("x")
    page.get_by_role("button", name="Set attribute").click()
    expect(page.get_by_role("alert")).to_contain_text("the attribute name is empty")

    page.get_by_label("Attribute", exact=True).fill("n" * 151)
    page.get_by_role("button", name="Set attribute").click()
    expect(page.get_by_role("alert")).to_contain_text("cannot be longer than 150 bytes")
    expect(page.get_by_label("Attribute", exact=True)).to_have_value("n" * 151)  # kept to fix

    page.get_by_label("Attribute", exact=True).fill("_cio_plan")
    page.get_by_role("button", name="Set attribute").click()
    expect(page.get_by_role("alert")).to_contain_text("'_cio_plan' is reserved")

    page.get_by_label("Attribute", exact=True).fill("email")
    page.get_by_role("button", name="Set attribute").click()
    expect(page.get_by_role("alert")).to_contain_text("'email' is an identifier")
    stored = _customer(ui, ref)
    assert stored is not None
    assert set(stored["attributes"]) == {"plan", "id", "cio_id", "_created_in_roster_at"}


def test_unsubscribe_and_resubscribe(logged_in: Page, ui: Ui) -> None:
    ref = f"sub-{_tag()}"
    customer = _person(ui, ref)
    page = logged_in
    _open(page, customer)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("#subscription-state")).to_contain_text("Unsubscribed")
    assert _customer(ui, ref)["unsubscribed"] is True  # type: ignore[index]
    page.get_by_role("button", name="Resubscribe").click()
    expect(page.locator("#subscription-state")).to_contain_text("Subscribed")
    assert _customer(ui, ref)["unsubscribed"] is False  # type: ignore[index]


def test_merge_through_the_preview_then_undo_the_merge(
    logged_in: Page, ui: Ui, axe_script: Path
) -> None:
    tag = _tag()
    keep = _person(ui, f"keep-{tag}", email=f"keep-{tag}@example.com", plan="pro")
    gone = _person(ui, f"gone-{tag}", email=f"gone-{tag}@example.com", city="Oslo")
    page = logged_in
    _open(page, keep)
    page.get_by_role("link", name="Merge with another person…").click()
    page.get_by_label("The other person's id, email or cio_id").fill(f"gone-{tag}@example.com")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name=re.compile("^Preview merging")).click()
    preview = page.locator("table.preview")
    expect(preview).to_contain_text(keep["identifiers"]["cio_id"])
    expect(preview).to_contain_text(gone["identifiers"]["cio_id"])
    city = preview.locator("tbody tr", has=page.locator("th", has_text=re.compile("^city$")))
    expect(city.locator("td")).to_have_text(["none", "Oslo", "Oslo", "Merged in"])
    plan = preview.locator("tbody tr", has=page.locator("th", has_text=re.compile("^plan$")))
    expect(plan.locator("td")).to_have_text(["pro", "none", "pro", "Kept"])
    expect(page.locator("#what-happens")).to_contain_text("stops existing as a person of their own")
    expect(page.locator(".merge-preview .rules")).to_contain_text("I6")
    assert _customer(ui, f"gone-{tag}") is not None  # the preview changed nothing
    swap = page.get_by_role("link", name=f"Keep gone-{tag}@example.com instead")
    expect(swap).to_have_attribute(
        "href", f"/people/{gone['identifiers']['cio_id']}/merge/{keep['identifiers']['cio_id']}"
    )
    assert accessible(page, axe_script) == []

    page.get_by_role("button", name=re.compile("^Merge ")).click()
    expect(page.locator("p.flash")).to_contain_text(f"Merged gone-{tag}@example.com")
    assert _customer(ui, f"gone-{tag}") is None
    merged_view = _customer(ui, f"keep-{tag}")
    assert merged_view is not None and merged_view["attributes"]["city"] == "Oslo"
    expect(page.locator("#timeline tbody tr").filter(has_text="Merge")).not_to_have_count(0)

    page.get_by_role("link", name="Undo merge…").click()
    expect(page.locator("#what-happens")).to_contain_text("becomes a person of their own again")
    assert accessible(page, axe_script) == []
    page.get_by_role("button", name="Undo merge").click()
    expect(page.locator("p.flash")).to_contain_text("is a person of their own again")
    back = _customer(ui, f"gone-{tag}")
    assert back is not None
    assert back["identifiers"]["cio_id"] == gone["identifiers"]["cio_id"]
    assert back["attributes"]["city"] == "Oslo"
    kept_view = _customer(ui, f"keep-{tag}")
    assert kept_view is not None and "city" not in kept_view["attributes"]
    expect(page.get_by_role("link", name="Undo merge…")).to_have_count(0)
    expect(page.locator("#timeline tbody tr").filter(has_text="Unmerge")).to_have_count(1)


def test_a_refused_unmerge_is_a_message_and_changes_nothing(logged_in: Page, ui: Ui) -> None:
    tag = _tag()
    keep = _person(ui, f"rk-{tag}", email=f"rk-{tag}@example.com")
    _person(ui, f"rg-{tag}")
    merged = ui.app_api(
        "POST",
        "/v1/merge_customers",
        json={"primary": {"id": f"rk-{tag}"}, "secondary": {"id": f"rg-{tag}"}},
    )
    assert merged.status_code == 200, merged.text
    ui.identify(f"rg-{tag}", plan="new")  # the secondary's id now names a new person
    newcomer = _customer(ui, f"rg-{tag}")
    page = logged_in
    _open(page, keep)
    page.get_by_role("link", name="Undo merge…").click()
    page.get_by_role("button", name="Undo merge").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was changed")
    expect(page.get_by_role("alert")).to_contain_text("cannot be undone")
    assert _customer(ui, f"rg-{tag}") == newcomer


def test_delete_asks_first_then_the_person_is_gone(logged_in: Page, ui: Ui) -> None:
    ref = f"del-{_tag()}"
    customer = _person(ui, ref, email=f"{ref}@example.com")
    page = logged_in
    _open(page, customer)
    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Delete {ref}@example.com?")
    expect(page.locator("#what-happens")).to_contain_text("cannot be brought back")
    assert _customer(ui, ref) is not None  # asking changed nothing
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page).to_have_url(re.compile(r"/people$"))
    expect(page.locator("p.flash")).to_contain_text(f"Deleted {ref}@example.com")
    assert _customer(ui, ref) is None
    page.goto(f"/people/{customer['identifiers']['cio_id']}")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def test_delete_and_suppress_puts_the_identifiers_on_the_suppression_list(
    logged_in: Page, ui: Ui
) -> None:
    ref = f"sup-{_tag()}"
    customer = _person(ui, ref, email=f"{ref}@example.com")
    page = logged_in
    _open(page, customer)
    page.get_by_role("link", name="Delete and suppress…").click()
    expect(page.locator("#what-happens")).to_contain_text("go on the suppression list")
    expect(page.locator("#what-happens")).to_contain_text(f"id {ref}, email {ref}@example.com")
    page.get_by_role("button", name="Delete and suppress").click()
    expect(page).to_have_url(re.compile(r"/people$"))
    expect(page.locator("p.flash")).to_contain_text("Deleted and suppressed")
    assert _customer(ui, ref) is None
    cio_id = customer["identifiers"]["cio_id"]
    for kind, value in (("id", ref), ("email", f"{ref}@example.com"), ("cio_id", cio_id)):
        checked = ui.app_api("GET", "/api/suppressions/check", params={kind: value}).json()
        assert checked["suppressed"] is True, (kind, checked)
        assert checked["entry"]["door"] == "web"
    ui.identify(ref, plan="again")  # a call that uses a suppressed identifier is ignored
    assert _customer(ui, ref) is None


def test_an_unknown_cio_id_is_the_not_found_page(logged_in: Page) -> None:
    for path in ("/people/nosuchperson", "/people/nosuchperson/delete", "/people/%00x/merge"):
        answer = logged_in.goto(path)
        assert answer is not None and answer.status == 404, path
        expect(logged_in.get_by_role("heading", name="Not found")).to_be_visible()


def test_merging_a_person_with_themselves_is_a_message_and_changes_nothing(
    logged_in: Page, ui: Ui
) -> None:
    ref = f"self-{_tag()}"
    customer = _person(ui, ref, email=f"{ref}@example.com")
    cio_id = customer["identifiers"]["cio_id"]
    page = logged_in
    page.goto(f"/people/{cio_id}/merge?q={ref}")
    expect(page.locator("#merge-candidates")).to_contain_text("cannot be merged with themselves")
    expect(page.get_by_role("link", name=re.compile("^Preview merging"))).to_have_count(0)
    answer = page.goto(f"/people/{cio_id}/merge/{cio_id}")
    assert answer is not None and answer.status == 400
    expect(page.get_by_role("alert")).to_contain_text("cannot be merged with themselves")
    # Posted all the same (a form made by hand): the same message, nothing merged.
    page.goto(f"/people/{cio_id}")
    token = page.locator("input[name='csrf_token']").first.get_attribute("value")
    posted = page.request.post(
        f"/people/{cio_id}/merge/cio_{cio_id}", form={"csrf_token": token or ""}
    )
    assert posted.status == 400
    assert "cannot be merged with themselves" in posted.text()
    assert _customer(ui, ref) == customer


def test_a_stale_form_changes_nothing_and_says_so(logged_in: Page, ui: Ui) -> None:
    ref = f"stale-{_tag()}"
    customer = _person(ui, ref, plan="free")
    page = logged_in
    _open(page, customer)
    page.locator("form[action$='/attributes'] input[name='csrf_token']").evaluate(
        "input => input.value = 'stale'"
    )
    page.get_by_label("Attribute", exact=True).fill("plan")
    page.get_by_label("Value").fill("stolen")
    page.get_by_role("button", name="Set attribute").click()
    expect(page.get_by_role("alert")).to_contain_text("This form has expired")
    _open(page, customer)
    page.get_by_role("link", name="Delete…").click()
    page.locator("form input[name='csrf_token']").last.evaluate("input => input.value = 'stale'")
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("This form has expired")
    stored = _customer(ui, ref)
    assert stored is not None and stored["attributes"]["plan"] == "free"


def test_odd_input_is_a_message_never_a_server_error(logged_in: Page, ui: Ui) -> None:
    ref = f"odd-{_tag()}"
    customer = _person(ui, ref, plan="free")
    cio_id = customer["identifiers"]["cio_id"]
    page = logged_in
    answer = page.goto(f"/people/{cio_id}?start=not-a-cursor")
    assert answer is not None and answer.status == 400
    expect(page.get_by_role("alert")).to_contain_text("start must be a cursor returned as next")
    expect(page.locator("#timeline")).to_be_visible()  # the newest entries instead

    answer = page.goto(f"/people/{cio_id}/merge?q=a%00b")
    assert answer is not None and answer.status == 400
    expect(page.get_by_role("alert")).to_contain_text("cannot contain NUL characters")

    page.goto(f"/people/{cio_id}")
    token = page.locator("input[name='csrf_token']").first.get_attribute("value") or ""
    for form in ({"name": "plan", "value": "a\x00b"}, {"name": "p\x00", "value": "x"}):
        posted = page.request.post(
            f"/people/{cio_id}/attributes", form={"csrf_token": token, **form}
        )
        assert posted.status == 400, posted.text()
        assert "cannot contain NUL characters" in posted.text()
    long_value = page.request.post(
        f"/people/{cio_id}/attributes",
        form={"csrf_token": token, "name": "plan", "value": "v" * 1001},
    )
    assert long_value.status == 400
    assert "cannot be longer than 1000 bytes" in long_value.text()
    stored = _customer(ui, ref)
    assert stored is not None and stored["attributes"]["plan"] == "free"
