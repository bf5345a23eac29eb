"""`roster explain` (docs/api.md §6): what a call would do, with nothing written, as sentences or
as the JSON POST /api/explain answers; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from roster.services.system import System
from tests.api.stored import footprint, logged
from tests.domain.builders import EMAIL_OR_ID, identify

ADA_ID, ADA_EMAIL = "cli-ada", "ada@example.com"
BOB_PATH = "/api/v1/customers/cli-bob"


def test_explain_says_in_sentences_why_bobs_call_would_update_ada(
    roster_cli: Any, apply: Any, system: System, workspace: dict[str, Any]
) -> None:
    apply(identify(EMAIL_OR_ID, ADA_ID, email=ADA_EMAIL))
    before = footprint(system, workspace["workspace_id"]), logged(system, workspace["workspace_id"])

    done = roster_cli(
        "explain",
        "--door",
        "track_v1",
        "--method",
        "PUT",
        "--path",
        BOB_PATH,
        "--body",
        json.dumps({"email": ADA_EMAIL, "plan": "pro"}),
    )

    assert done.returncode == 0, done.stderr
    assert (
        footprint(system, workspace["workspace_id"]),
        logged(system, workspace["workspace_id"]),
    ) == before
    text = done.stdout
    assert f"PUT {BOB_PATH} (track_v1) would be answered 200 {{}}" in text
    assert "Nothing was written" in text
    assert f"I3.3  no person has id 'cli-bob'; the person with email '{ADA_EMAIL}'" in text
    assert 'plan null -> "pro"' in text
    assert 'id "cli-bob": id cannot be changed without a cio_ reference' in text


def test_explain_json_reads_the_body_from_a_file_and_takes_headers(
    roster_cli: Any, apply: Any, tmp_path: Any
) -> None:
    apply(identify(EMAIL_OR_ID, ADA_ID, email=ADA_EMAIL))
    apply(identify(EMAIL_OR_ID, "cli-grace"))
    body = tmp_path / "call.json"
    body.write_text(json.dumps({"email": ADA_EMAIL}))

    done = roster_cli(
        "explain",
        "--door",
        "track_v1",
        "--method",
        "PUT",
        "--path",
        "/api/v1/customers/cli-grace",
        "--body",
        f"@{body}",
        "--header",
        "X-Strict-Mode: 1",
        "--json",
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["answer"]["status"] == 409
    assert report["answer"]["body"]["code"] == "conflict"
    assert report["written"] is False
    [message] = report["messages"]
    assert message["rules"][-1]["why"] == "strict mode: a conflict rejects the whole call"


def test_explain_of_an_app_api_call_says_whom_it_would_delete_and_why_a_merge_is_refused(
    roster_cli: Any, apply: Any, system: System, workspace: dict[str, Any]
) -> None:
    apply(identify(EMAIL_OR_ID, ADA_ID, email=ADA_EMAIL))
    before = footprint(system, workspace["workspace_id"]), logged(system, workspace["workspace_id"])
    app = ("explain", "--door", "app", "--method", "POST", "--path")
    merge = {"primary": {"id": ADA_ID}, "secondary": {"id": "cli-nobody"}}

    deleted = roster_cli(*app, "/v1/customers/delete", "--body", json.dumps({"ids": [ADA_ID]}))
    refused = roster_cli(*app, "/v1/merge_customers", "--body", json.dumps(merge))

    assert deleted.returncode == 0, deleted.stderr
    assert refused.returncode == 0, refused.stderr
    assert (
        footprint(system, workspace["workspace_id"]),
        logged(system, workspace["workspace_id"]),
    ) == before
    assert '(app) would be answered 200 {"deleted": 1' in deleted.stdout
    assert "I9.1  cio_" in deleted.stdout and ": profile_delete" in deleted.stdout
    assert "would be answered 404" in refused.stdout
    assert "not applied: no secondary person with id 'cli-nobody'" in refused.stdout
    assert "I6.1  merge refused: no secondary person with id 'cli-nobody'" in refused.stdout


def test_explain_refuses_an_unknown_door_and_a_body_that_is_no_json(roster_cli: Any) -> None:
    door = roster_cli("explain", "--door", "v3", "--method", "PUT", "--path", BOB_PATH)
    body = roster_cli(
        "explain", "--door", "track_v1", "--method", "PUT", "--path", BOB_PATH, "--body", "{"
    )

    assert door.returncode != 0 and "door must be one of" in door.stderr
    assert body.returncode != 0 and "--body is not JSON" in body.stderr


def test_explain_runs_as_the_installed_command(roster_command: Any) -> None:
    done = roster_command(
        "explain",
        "--door",
        "segment",
        "--method",
        "POST",
        "--path",
        "/v1/identify",
        "--body",
        json.dumps({"userId": "cli-new", "traits": {"plan": "free"}}),
        "--json",
    )

    assert done.returncode == 0, done.stderr
    [message] = json.loads(done.stdout)["messages"]
    assert message["person"] == {"cio_id": None, "new": True}
    assert message["rules"][0]["rule"] == "I3.5"
