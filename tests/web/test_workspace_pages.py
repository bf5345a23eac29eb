"""The workspace's pages in Chromium (docs/web.md, "Workspace pages"): settings, credentials,
Segment set-up, suppression list, ingestion log, outbox, and the workspace switcher.

Tests that change a workspace's keys or identifier mode, or need a login limited to some
workspaces, make workspaces of their own (named to sort after the fixture's, so that the
fixture's login keeps landing on its own workspace)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.server import create_workspace
from tests.web.conftest import PASSWORD, Ui, accessible, make_login

pytestmark = pytest.mark.server


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def _workspace(ui: Ui, *options: str, name: str | None = None) -> dict[str, Any]:
    """A new workspace in the running roster (`roster workspaces create --json`)."""
    name = name or f"zz-{_tag()}"
    return create_workspace(ui.roster.database_url, ui.roster.data_dir, name, *options)


def _login_for(ui: Ui, *workspaces: dict[str, Any]) -> str:
    """A login that sees only these workspaces (`roster users create --workspace ...`)."""
    email = f"limited-{_tag()}@example.com"
    make_login(ui.roster, email, *[o for ws in workspaces for o in ("--workspace", ws["name"])])
    return email


def _log_in(page: Page, email: str, target: str) -> None:
    page.goto(target)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{target}")


def _track(ui: Ui, ws: dict[str, Any]) -> httpx.Client:
    return httpx.Client(
        base_url=ui.base_url, auth=(ws["site_id"], ws["track_api_key"]), timeout=30.0
    )


def _app(ui: Ui, ws: dict[str, Any], method: str, path: str, **options: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {ws['app_api_key']}"}
    return httpx.request(method, ui.base_url + path, headers=headers, timeout=30.0, **options)


def _segment_identify(ui: Ui, write_key: str, user_id: str) -> int:
    """A Segment library's identify with this write key: the answer's status."""
    answer = httpx.post(
        f"{ui.base_url}/v1/identify",
        auth=(write_key, ""),
        json={"userId": user_id, "traits": {"plan": "pro"}},
        timeout=30.0,
    )
    return answer.status_code


def _accepting(messages: list[str]) -> Any:
    """A dialog handler that accepts the confirm and keeps its question."""

    def handle(dialog: Dialog) -> None:
        messages.append(dialog.message)
        dialog.accept()

    return handle


def _email_of(ui: Ui, ref: str) -> Any:
    answer = ui.app_api("GET", f"/v1/customers/{ref}/attributes")
    assert answer.status_code == 200, answer.text
    return answer.json()["customer"]["attributes"].get("email")


# -- settings --------------------------------------------------------------------------------------


def test_a_setting_changed_on_the_page_applies_to_the_next_identify_call(
    logged_in: Page, ui: Ui, axe_script: Path
) -> None:
    ref = f"setting-{_tag()}"
    old, new = f"{ref}-old@example.com", f"{ref}-new@example.com"
    ui.identify(ref, email=old)
    ui.identify(ref, email=new)
    assert _email_of(ui, ref) == old  # off: an id reference cannot change an email (I5.4)

    page = logged_in
    page.goto("/workspace")
    switch = page.get_by_label("Allow email update by id")
    expect(switch).not_to_be_checked()
    switch.check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_contain_text("Saved: allow email update by id on")
    expect(page.get_by_label("Allow email update by id")).to_be_checked()
    assert accessible(page, axe_script) == []

    ui.identify(ref, email=new)
    assert _email_of(ui, ref) == new

    page.get_by_label("Allow email update by id").uncheck()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_contain_text("allow email update by id off")
    settings = ui.app_api("GET", "/api/workspace/settings").json()
    assert settings["allow_email_update_by_id"] is False


def test_a_retention_the_settings_refuse_is_a_message_and_nothing_is_saved(
    logged_in: Page, ui: Ui
) -> None:
    page = logged_in
    page.goto("/workspace")
    before = ui.app_api("GET", "/api/workspace/settings").json()
    page.get_by_label("Strict conflicts").check()
    page.get_by_label("Anonymous retention (days)").fill("0")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Save settings").click()
    assert posted.value.status == 400
    expect(page.get_by_role("alert")).to_contain_text(
        "Nothing was saved: anonymous_retention_days must be a whole number of days"
    )
    assert ui.app_api("GET", "/api/workspace/settings").json() == before  # strict not saved
    expect(page.get_by_label("Strict conflicts")).not_to_be_checked()


def test_a_refused_switch_of_identifier_mode_names_the_people_in_the_way(
    page: Page, ui: Ui, axe_script: Path
) -> None:
    ws = _workspace(ui, "--identifiers", "id_only")
    with _track(ui, ws) as track:
        track.put("/api/v1/customers/u1", json={"email": "shared@example.com"}).raise_for_status()
        track.put("/api/v1/customers/u2", json={"email": "Shared@example.com"}).raise_for_status()
    holders = sorted(
        _app(ui, ws, "GET", f"/v1/customers/{ref}/attributes").json()["customer"]["identifiers"][
            "cio_id"
        ]
        for ref in ("u1", "u2")
    )
    _log_in(page, _login_for(ui, ws), "/workspace")
    expect(page.get_by_role("heading", name="Identifier mode: id_only")).to_be_visible()

    questions: list[str] = []
    page.once("dialog", _accepting(questions))
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Switch to email_or_id").click()
    assert posted.value.status == 409
    assert "Switch this workspace to email_or_id?" in questions[0]
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The identifier mode was not changed")
    links = alert.get_by_role("link")
    expect(links).to_have_count(2)
    assert sorted(links.all_inner_texts()) == holders
    expect(page.get_by_role("heading", name="Identifier mode: id_only")).to_be_visible()
    assert _app(ui, ws, "GET", "/api/workspace/settings").json()["identifier_mode"] == "id_only"
    assert accessible(page, axe_script) == []


# -- credentials -----------------------------------------------------------------------------------


def test_make_a_new_key_and_revoke_it_and_the_api_follows_at_once(
    page: Page, ui: Ui, axe_script: Path
) -> None:
    ws = _workspace(ui)
    old = ws["write_key"]
    assert _segment_identify(ui, old, "k-1") == 200  # and the server caches the key now
    _log_in(page, _login_for(ui, ws), "/workspace/credentials")

    # Revoking asks first; saying no changes nothing.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Revoke the Segment write key").click()
    assert _segment_identify(ui, old, "k-2") == 200

    questions: list[str] = []
    page.once("dialog", _accepting(questions))
    page.get_by_role("button", name="Make a new Segment write key").click()
    expect(page.get_by_role("status")).to_contain_text("Made a new Segment write key")
    assert "The current one stops working at once" in questions[0]
    shown = page.get_by_role("textbox", name="Segment write key")
    new = shown.input_value()
    assert new and new != old
    assert accessible(page, axe_script) == []
    assert _segment_identify(ui, old, "k-3") == 401
    assert _segment_identify(ui, new, "k-4") == 200

    page.reload()  # shown once: not again
    expect(page.get_by_role("textbox", name="Segment write key")).to_have_count(0)
    assert new not in page.content()

    page.once("dialog", _accepting(questions))
    page.get_by_role("button", name="Revoke the Segment write key").click()
    expect(page.get_by_role("status")).to_contain_text("Revoked the Segment write key")
    assert "Calls that use it are refused (401) at once" in questions[1]
    assert _segment_identify(ui, new, "k-5") == 401
    expect(page.get_by_role("button", name="Make a Segment write key")).to_be_visible()
    # The other keys are untouched.
    assert _app(ui, ws, "GET", "/api/workspace/settings").status_code == 200


def test_an_unknown_kind_of_key_is_a_404_page(logged_in: Page) -> None:
    page = logged_in
    page.goto("/workspace/credentials")
    token = page.locator("form[action='/logout'] input[name='csrf_token']").input_value()
    answer = page.request.post(
        "/workspace/credentials/webhook_secret/new", form={"csrf_token": token}
    )
    assert answer.status == 404
    assert "no kind of key named" in answer.text()


# -- Segment set-up --------------------------------------------------------------------------------


def test_the_segment_page_gives_a_webhook_url_and_secret_that_work(
    logged_in: Page, ui: Ui, axe_script: Path
) -> None:
    page = logged_in
    page.goto("/workspace/segment")
    url = page.get_by_label("Webhook URL").input_value()
    assert url == f"{ui.base_url}/segment/webhook/{ui.roster.webhook_id}"
    expect(page.get_by_label("Webhook secret")).to_be_hidden()
    page.get_by_text("Reveal the webhook secret").click()
    secret = page.get_by_label("Webhook secret").input_value()
    assert secret == ui.roster.webhook_secret
    assert accessible(page, axe_script) == []

    ref = f"hook-{_tag()}"
    body = json.dumps({"type": "identify", "userId": ref, "traits": {"plan": "webhook"}}).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    answer = httpx.post(
        url,
        content=body,
        headers={"Content-Type": "application/json", "X-Signature": signature},
        timeout=30.0,
    )
    assert answer.status_code == 200, answer.text
    person = ui.app_api("GET", f"/v1/customers/{ref}/attributes").json()["customer"]
    assert person["attributes"]["plan"] == "webhook"


# -- the lists -------------------------------------------------------------------------------------


def test_a_suppressed_person_is_listed_checked_and_unsuppressed(
    logged_in: Page, ui: Ui, axe_script: Path
) -> None:
    ref = f"supp-{_tag()}"
    email = f"{ref}@example.com"
    ui.identify(ref, email=email)
    with ui.roster.track_http() as track:
        track.post(f"/api/v1/customers/{ref}/suppress").raise_for_status()

    page = logged_in
    page.goto("/workspace/suppressions")
    page.get_by_label("Identifier").select_option("email")
    page.get_by_label("Value").fill(email.upper())  # emails compare without letter case
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("status")).to_contain_text("is suppressed")
    hash_ = page.locator(".check input[name='hash']").input_value()
    expect(page.locator("table.list code.hash", has_text=hash_)).to_have_count(1)
    assert accessible(page, axe_script) == []

    questions: list[str] = []
    page.once("dialog", _accepting(questions))
    page.get_by_role("button", name=f"Unsuppress {email.upper()}").click()
    expect(page.get_by_role("status")).to_contain_text("Unsuppressed: 3 identifiers are free")
    assert "every identifier suppressed with it become free" in questions[0]
    expect(page.locator("table.list code.hash", has_text=hash_)).to_have_count(0)

    ui.identify(ref, email=email)  # no longer blocked: the person can come back
    assert _email_of(ui, ref) == email


def test_the_ingestion_log_shows_why_segment_messages_were_dropped_page_by_page(
    logged_in: Page, ui: Ui, axe_script: Path
) -> None:
    tag = _tag()
    batch = [{"type": "identify", "messageId": f"dropped-{tag}-{n:02d}"} for n in range(55)]
    answer = httpx.post(
        f"{ui.base_url}/v1/batch", auth=(ui.roster.write_key, ""), json={"batch": batch}
    )
    assert answer.status_code == 200  # Segment's answer, though every message was dropped
    entries = ui.app_api("GET", "/api/ingestion-log", params={"limit": 1}).json()["entries"]
    reason = entries[0]["reason"]

    page = logged_in
    page.goto("/workspace/ingestion-log")
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(50)
    newest = rows.filter(has_text=f"dropped-{tag}-54")
    expect(newest).to_contain_text("segment")
    expect(newest).to_contain_text(reason)
    assert accessible(page, axe_script) == []
    first = page.locator("table.list tbody tr td:nth-child(4)").all_inner_texts()
    page.get_by_role("link", name="Next page").click()
    second = page.locator("table.list tbody tr td:nth-child(4)").all_inner_texts()
    ours = {message["messageId"] for message in batch}
    seen = [text for text in first + second if text in ours]
    assert sorted(seen) == sorted(ours)  # every one, none twice


def test_the_outbox_shows_a_message_sent_through_the_transactional_api(
    logged_in: Page, ui: Ui, axe_script: Path
) -> None:
    ref = f"mail-{_tag()}"
    to = f"{ref}@example.com"
    sent = ui.app_api(
        "POST",
        "/v1/send/email",
        json={
            "transactional_message_id": 7,
            "identifiers": {"id": ref},
            "to": to,
            "subject": f"Welcome {ref}",
            "from": "shop@example.com",
            "body": "Hello",
        },
    )
    assert sent.status_code == 200, sent.text
    delivery_id = sent.json()["delivery_id"]

    page = logged_in
    page.goto("/workspace/outbox")
    row = page.locator("table.list tbody tr", has_text=delivery_id)
    expect(row).to_contain_text("email")
    expect(row).to_contain_text(to)
    expect(row).to_contain_text(f"Welcome {ref}")
    expect(row.get_by_role("link", name=ref)).to_be_visible()
    assert accessible(page, axe_script) == []


def test_a_new_workspaces_pages_say_what_to_do_next(page: Page, ui: Ui, axe_script: Path) -> None:
    ws = _workspace(ui)
    _log_in(page, _login_for(ui, ws), "/workspace")
    expected = {
        "/workspace": "Save settings",
        "/workspace/credentials": "Make a new Track API key",
        "/workspace/segment": "Webhooks (Actions) destination",
        "/workspace/suppressions": "No one is suppressed",
        "/workspace/ingestion-log": "Nothing dropped so far",
        "/workspace/outbox": "No message yet",
    }
    for path, text in expected.items():
        page.goto(path)
        expect(page.get_by_text(text).first).to_be_visible()
        nav = page.get_by_role("navigation", name="Workspace pages")
        expect(nav.locator("[aria-current='page']")).to_have_attribute("href", path)
        assert accessible(page, axe_script) == [], path


# -- the workspace switcher ------------------------------------------------------------------------


def _person_in(ui: Ui, ws: dict[str, Any], ref: str) -> None:
    with _track(ui, ws) as track:
        track.put(f"/api/v1/customers/{ref}", json={"plan": "switch"}).raise_for_status()


def test_a_login_with_two_workspaces_switches_between_them(
    page: Page, ui: Ui, axe_script: Path
) -> None:
    tag = _tag()
    first = _workspace(ui, name=f"zz-{tag}-a")
    second = _workspace(ui, name=f"zz-{tag}-b")
    _person_in(ui, first, f"in-a-{tag}")
    _person_in(ui, second, f"in-b-{tag}")
    _log_in(page, _login_for(ui, first, second), "/people")

    people = page.locator("table.people tbody tr")
    expect(people).to_have_count(1)
    expect(people.first).to_contain_text(f"in-a-{tag}")
    switcher = page.get_by_label("Workspace", exact=True)
    expect(switcher).to_have_value(str(first["workspace_id"]))
    assert accessible(page, axe_script) == []

    switcher.select_option(label=second["name"])
    page.get_by_role("button", name="Switch").click()
    flash = page.get_by_role("status").filter(has_text="Now looking")
    expect(flash).to_have_text(f"Now looking at the workspace {second['name']}.")
    expect(people).to_have_count(1)
    expect(people.first).to_contain_text(f"in-b-{tag}")
    # The workspace pages follow the switch too.
    page.goto("/workspace/segment")
    assert page.get_by_label("Webhook URL").input_value().endswith(second["webhook_id"])


def test_a_login_limited_to_one_workspace_cannot_switch_to_another(page: Page, ui: Ui) -> None:
    tag = _tag()
    mine = _workspace(ui, name=f"zz-{tag}-mine")
    other = _workspace(ui, name=f"zz-{tag}-other")
    _person_in(ui, mine, f"mine-{tag}")
    _person_in(ui, other, f"other-{tag}")
    _log_in(page, _login_for(ui, mine), "/people")
    expect(page.get_by_label("Workspace", exact=True)).to_have_count(0)  # no switcher

    token = page.locator("form[action='/logout'] input[name='csrf_token']").input_value()
    for workspace_id in (other["workspace_id"], ui.roster.workspace_id):
        answer = page.request.post(
            "/workspace/switch",
            form={"csrf_token": token, "workspace_id": str(workspace_id)},
            max_redirects=0,
        )
        assert answer.status == 303
        page.goto("/people")
        flash = page.get_by_role("status").filter(has_text="workspace")
        expect(flash).to_have_text("That workspace is not one this login may see.")
        people = page.locator("table.people tbody tr")
        expect(people).to_have_count(1)
        expect(people.first).to_contain_text(f"mine-{tag}")
    expect(page.get_by_text(re.compile(rf"other-{tag}"))).to_have_count(0)
