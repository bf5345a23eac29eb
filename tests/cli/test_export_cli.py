"""`roster export people` (docs/api.md §6), run as a command against SQLite and PostgreSQL: the
file it writes is the App API export's download (§4), byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from roster.app import create_app
from roster.services.system import System
from roster.settings import Settings
from tests.api.calls import bearer
from tests.domain.builders import EMAIL_OR_ID, identify

PRO = {"attribute": {"field": "plan", "operator": "eq", "value": "pro"}}


def _people(apply) -> None:
    apply(
        identify(EMAIL_OR_ID, "cli-exp-ada", email="ada@example.com", plan="pro", seats=3),
        identify(EMAIL_OR_ID, "cli-exp-bob", plan="free", note='says "hi", twice\nthen goes'),
        identify(EMAIL_OR_ID, "cli-exp-cy", plan="pro", unsubscribed=True, tags=["a"]),
    )


def _downloaded(system: System, workspace: dict[str, Any], **body: Any) -> bytes:
    app = create_app(Settings(public_url="http://roster.test"), system=system)
    key = bearer(str(workspace["app_api_key"]))
    with TestClient(app) as client:
        made = client.post("/v1/exports/customers", json=body, headers=key)
        assert made.status_code == 200, made.text
        link = client.get(f"/v1/exports/{made.json()['export']['id']}/download", headers=key)
        parts = urlsplit(link.json()["link"])
        answer = client.get(f"{parts.path}?{parts.query}")
        assert answer.status_code == 200, answer.text
        return answer.content


def test_the_exported_file_is_the_download_byte_for_byte(
    roster_cli, apply, system: System, workspace, tmp_path: Path
):
    _people(apply)
    output = tmp_path / "people.csv"

    done = roster_cli("export", "people", "--output", str(output))
    assert done.returncode == 0, done.stderr
    assert output.read_bytes() == _downloaded(system, workspace)
    assert done.stdout == f"Exported 3 people (4 attribute columns) to {output}\n"


def test_filter_and_attributes_choose_the_same_people_and_columns_as_the_api(
    roster_cli, apply, system: System, workspace, tmp_path: Path
):
    _people(apply)
    output = tmp_path / "pro.csv"

    done = roster_cli(
        "export",
        "people",
        "--output",
        str(output),
        "--filter",
        json.dumps(PRO),
        "--attributes",
        "seats, tags",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["exported"] == 2 and summary["output"] == str(output)
    assert summary["columns"][-2:] == ["seats", "tags"]
    downloaded = _downloaded(system, workspace, filters=PRO, attributes=["seats", "tags"])
    assert output.read_bytes() == downloaded


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("{plan: pro}", "--filter is not valid JSON"),
        ('{"attribute": {"field": "plan", "operator": "gt"}}', "--filter.attribute.operator"),
        ('{"nor": []}', "--filter"),
    ],
)
def test_a_bad_filter_ends_with_exit_code_2_naming_the_problem_and_writes_nothing(
    roster_cli, apply, tmp_path: Path, given, says
):
    _people(apply)
    output = tmp_path / "never.csv"
    done = roster_cli("export", "people", "--output", str(output), "--filter", given)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert says in done.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "data"]


def test_bad_attributes_and_a_missing_directory_end_with_exit_code_2(roster_cli, tmp_path: Path):
    bad = roster_cli("export", "people", "--output", str(tmp_path / "a.csv"), "--attributes", ",")
    assert bad.returncode == 2 and "attributes" in bad.stderr
    nowhere = roster_cli("export", "people", "--output", str(tmp_path / "no" / "a.csv"))
    assert nowhere.returncode == 2 and "no such directory" in nowhere.stderr


def test_export_people_runs_as_an_installed_command(roster_command, apply, tmp_path: Path):
    _people(apply)
    output = tmp_path / "people.csv"
    done = roster_command("export", "people", "--output", str(output), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["exported"] == 3
    assert output.read_bytes().startswith(
        b"cio_id,id,email,created_at,_created_in_roster_at,unsubscribed,"
    )
