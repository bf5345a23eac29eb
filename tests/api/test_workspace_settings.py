"""GET and PATCH /api/workspace/settings (docs/api.md §5, docs/identity.md I1.4 and I1.5),
through the wire, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

URL = "/api/workspace/settings"
DEFAULTS = {
    "identifier_mode": "email_or_id",
    "allow_email_update_by_id": False,
    "auto_merge": True,
    "strict_conflicts": False,
    "anonymous_retention_days": 30,
}


def _settings(client: Any, app_key: dict[str, str]) -> dict[str, Any]:
    answer = client.get(URL, headers=app_key)
    assert answer.status_code == 200, answer.text
    settings: dict[str, Any] = answer.json()
    return settings


def test_i1_5_a_new_workspace_answers_its_five_settings_with_their_defaults(client, app_key):
    assert _settings(client, app_key) == DEFAULTS


def test_i1_5_patch_changes_the_keys_it_names_and_answers_the_new_object(client, app_key):
    changed = {
        "allow_email_update_by_id": True,
        "auto_merge": False,
        "strict_conflicts": True,
        "anonymous_retention_days": 7,
    }
    answer = client.patch(URL, json=changed, headers=app_key)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {**DEFAULTS, **changed}
    assert _settings(client, app_key) == {**DEFAULTS, **changed}
    # A key left out keeps its value.
    again = client.patch(URL, json={"auto_merge": True}, headers=app_key)
    assert again.json() == {**DEFAULTS, **changed, "auto_merge": True}


def test_i1_4_patch_switches_to_id_only_and_back_when_no_email_is_shared(client, app_key):
    to_id_only = client.patch(URL, json={"identifier_mode": "id_only"}, headers=app_key)
    assert to_id_only.json()["identifier_mode"] == "id_only"
    back = client.patch(URL, json={"identifier_mode": "email_or_id"}, headers=app_key)
    assert back.status_code == 200, back.text
    assert back.json() == DEFAULTS


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("identifier_mode", "classic"),
        ("identifier_mode", 1),
        ("identifier_mode", None),
        ("identifier_mode", ["id_only"]),
        ("auto_merge", "false"),
        ("auto_merge", 0),
        ("strict_conflicts", "true"),
        ("strict_conflicts", 1),
        ("allow_email_update_by_id", None),
        ("allow_email_update_by_id", {"on": True}),
        ("anonymous_retention_days", -1),
        ("anonymous_retention_days", 0),
        ("anonymous_retention_days", 36_501),
        ("anonymous_retention_days", 2**40),
        ("anonymous_retention_days", 7.5),
        ("anonymous_retention_days", "30"),
        ("anonymous_retention_days", True),
        ("anonymous_retention_days", None),
    ],
)
def test_a_bad_value_is_refused_with_400_naming_the_setting_and_nothing_changes(
    client, app_key, key, value
):
    # A valid change beside the bad one must not be applied either.
    other = "auto_merge" if key != "auto_merge" else "strict_conflicts"
    body = {other: not DEFAULTS[other], key: value}
    answer = client.patch(URL, json=body, headers=app_key)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalid_request"
    assert key in answer.json()["message"]
    assert _settings(client, app_key) == DEFAULTS


@pytest.mark.parametrize("key", ["colour", "workspace_id", "self", "name", "site_id"])
def test_an_unknown_key_is_refused_with_400_naming_it_and_nothing_changes(client, app_key, key):
    answer = client.patch(URL, json={"auto_merge": False, key: "x"}, headers=app_key)
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"] == f"unknown setting '{key}'"
    assert _settings(client, app_key) == DEFAULTS


@pytest.mark.parametrize("body", [b"[]", b'"auto_merge"', b"", b"{not json", b"null"])
def test_a_body_that_is_not_a_json_object_is_refused_with_400(client, app_key, body):
    answer = client.patch(URL, content=body, headers=app_key)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalid_request"
    assert _settings(client, app_key) == DEFAULTS


def test_i1_4_switching_to_email_or_id_is_refused_with_409_while_people_share_an_email(
    client, track, app_key
):
    client.patch(URL, json={"identifier_mode": "id_only"}, headers=app_key)
    for ref in ("u1", "u2", "u3"):
        email = "other@example.com" if ref == "u3" else f"Shared@example.com{' ' * (ref == 'u2')}"
        answer = client.put(f"/api/v1/customers/{ref}", json={"email": email}, headers=track)
        assert answer.status_code == 200, answer.text
    sharing = {
        client.get(f"/v1/customers/{ref}/attributes", headers=app_key).json()["customer"][
            "identifiers"
        ]["cio_id"]
        for ref in ("u1", "u2")
    }
    refused = client.patch(
        URL, json={"identifier_mode": "email_or_id", "auto_merge": False}, headers=app_key
    )
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["code"] == "setting_refused"
    assert "share an email" in body["message"]
    assert set(body["holders"]) == sharing and len(body["holders"]) == 2
    assert _settings(client, app_key) == {**DEFAULTS, "identifier_mode": "id_only"}


def test_settings_need_the_workspaces_app_api_key(client, workspace, app_key):
    assert client.get(URL).status_code == 401
    assert client.patch(URL, json={"auto_merge": False}).status_code == 401
    wrong = {"Authorization": f"Bearer {workspace['track_api_key']}"}
    assert client.get(URL, headers=wrong).status_code == 401
    refused = client.patch(URL, json={"auto_merge": False}, headers=wrong)
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthorized"
    assert _settings(client, app_key) == DEFAULTS


def test_a_change_touches_only_the_callers_workspace(client, system, app_key):
    other = system.workspaces.create("settings-other-" + app_key["Authorization"][-8:])
    other_key = {"Authorization": f"Bearer {other['app_api_key']}"}
    client.patch(URL, json={"strict_conflicts": True}, headers=other_key)
    assert _settings(client, app_key) == DEFAULTS
    assert _settings(client, other_key)["strict_conflicts"] is True


def test_i2_3_a_switch_to_id_only_is_seen_by_the_next_track_call_at_once(client, track, app_key):
    # The first call caches the mode (email_or_id): an email-shaped reference is an email.
    client.put("/api/v1/customers/first@example.com", json={"plan": "a"}, headers=track)
    assert client.get(URL, headers=app_key).json()["identifier_mode"] == "email_or_id"
    first = client.get("/v1/customers?email=first@example.com", headers=app_key).json()
    assert [p["id"] for p in first["results"]] == [None]
    client.patch(URL, json={"identifier_mode": "id_only"}, headers=app_key)
    # Within the credential cache's 10 seconds, the same process reads the new mode.
    client.put("/api/v1/customers/second@example.com", json={"plan": "b"}, headers=track)
    second = client.get("/v1/customers/second@example.com/attributes", headers=app_key)
    assert second.status_code == 200, second.text
    assert second.json()["customer"]["id"] == "second@example.com"


def test_i5_2_strict_conflicts_turned_on_by_patch_makes_the_next_conflict_a_409(
    client, track, app_key
):
    client.put("/api/v1/customers/u1", json={"email": "a@example.com"}, headers=track)
    client.put("/api/v1/customers/u2", json={"plan": "x"}, headers=track)
    lenient = client.put("/api/v1/customers/u2", json={"email": "a@example.com"}, headers=track)
    assert lenient.status_code == 200
    client.patch(URL, json={"strict_conflicts": True}, headers=app_key)
    strict = client.put(
        "/api/v1/customers/u2", json={"email": "a@example.com", "plan": "y"}, headers=track
    )
    assert strict.status_code == 409, strict.text
    u2 = client.get("/v1/customers/u2/attributes", headers=app_key).json()["customer"]
    assert u2["attributes"]["plan"] == "x"


def test_i6_5_auto_merge_turned_off_by_patch_keeps_the_two_people_apart(
    client, system, track, app_key, workspace
):
    client.patch(URL, json={"auto_merge": False}, headers=app_key)
    client.put("/api/v1/customers/u1", json={"plan": "a"}, headers=track)
    client.put("/api/v1/customers/b@example.com", json={"plan": "b"}, headers=track)
    client.put("/api/v1/customers/u1", json={"email": "b@example.com"}, headers=track)
    people = system.lookups.people(workspace["workspace_id"])
    assert {(p.id, p.email) for p in people} == {(None, "b@example.com"), ("u1", None)}


def _documented_answers() -> list[tuple[int, dict[str, Any]]]:
    """The status and body of each example answer in docs/api.md's workspace-settings part."""
    text = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    start = text.index("**Workspace settings**")
    part = text[start : text.index("\n**", start)]  # up to the next bold heading
    answers = []
    for block in re.findall(r"```json\n(.*?)```", part, flags=re.DOTALL):
        for status, body in re.findall(r"^(\d{3}) (.*?)(?=^\d{3} |\Z)", block, re.M | re.S):
            answers.append((int(status), json.loads(body)))
    return answers


def test_the_settings_answers_shown_in_docs_api_md_are_what_roster_answers(client, track, app_key):
    documented = _documented_answers()
    assert [status for status, _ in documented] == [200, 400, 400, 400, 409]
    assert documented[0][1] == _settings(client, app_key)
    refusals = [
        client.patch(URL, json=body, headers=app_key)
        for body in ({"colour": "x"}, {"auto_merge": "yes"}, {"anonymous_retention_days": 0})
    ]
    assert [(a.status_code, a.json()) for a in refusals] == documented[1:4]
    client.patch(URL, json={"identifier_mode": "id_only"}, headers=app_key)
    for ref in ("u1", "u2"):
        client.put(f"/api/v1/customers/{ref}", json={"email": "s@example.com"}, headers=track)
    refused = client.patch(URL, json={"identifier_mode": "email_or_id"}, headers=app_key)
    shown = documented[4][1]
    assert refused.status_code == 409
    assert {**refused.json(), "holders": shown["holders"]} == shown
    assert len(refused.json()["holders"]) == len(shown["holders"])
