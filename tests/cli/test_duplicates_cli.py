"""`roster duplicates [--merge] [--yes] [--json]` (docs/api.md §6; docs/identity.md I1.4, I5.2,
I6, I6.4), run as a command against SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from roster.domain.identifiers import IdentifierMode, Reference
from roster.domain.operations import Operation
from roster.services.ingestion import Message
from roster.services.system import System
from roster.storage.vault import KEY_FILE
from tests.domain.builders import EMAIL_OR_ID, ID_ONLY, identify
from tests.domain.personas import ADA, GRACE, LINUS
from tests.server import ROSTER, roster_environment


@pytest.fixture
def classic(system: System) -> dict[str, Any]:
    """An id_only workspace where Ada signed up three times and Grace twice, once in capitals."""
    ws = system.workspaces.create(f"classic-{uuid.uuid4().hex[:8]}", IdentifierMode.ID_ONLY)
    _apply(
        system,
        ws,
        identify(ID_ONLY, ADA.id, email=ADA.email),
        identify(ID_ONLY, GRACE.id, email=GRACE.email),
        identify(ID_ONLY, "ada-work", email=ADA.email),
        identify(ID_ONLY, "grace-2", email=" GRACE@example.com"),
        identify(ID_ONLY, "ada-phone", email=ADA.email, plan="pro"),
    )
    return ws


def _apply(system: System, ws: dict[str, Any], *ops: Operation) -> None:
    done = system.ingestion.apply_sync(
        int(ws["workspace_id"]), [Message(op) for op in ops], "track_v1"
    )
    assert all(not isinstance(result, Exception) for result in done), done


def _find(system: System, ws: dict[str, Any], id_: str) -> Any:
    return system.lookups.find(int(ws["workspace_id"]), Reference("id", id_))


def _groups(roster_cli, ws: dict[str, Any]) -> list[dict[str, Any]]:
    done = roster_cli("duplicates", "--json", "--workspace", ws["name"])
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["count"] == len(answer["duplicates"])
    found: list[dict[str, Any]] = answer["duplicates"]
    return found


def test_duplicates_lists_each_group_with_its_oldest_person_to_keep(
    roster_cli, system, classic, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "200")
    ada, grace = _groups(roster_cli, classic)
    assert (ada["reason"], ada["size"]) == ("same_email", 3)
    assert [p["id"] for p in ada["people"]] == [ADA.id, "ada-work", "ada-phone"]
    assert ada["primary"] == _find(system, classic, ADA.id).cio_id
    assert (grace["reason"], [p["id"] for p in grace["people"]]) == (
        "email_case",
        [GRACE.id, "grace-2"],
    )

    table = roster_cli("duplicates", "--workspace", classic["name"])
    assert table.returncode == 0, table.stderr
    for shown in ("same_email", "email_case", f"cio_{ada['primary']}", "ada-phone", "2 groups"):
        assert shown in table.stdout, table.stdout


def test_a_workspace_without_duplicates_says_so(roster_cli, apply):
    apply(identify(EMAIL_OR_ID, ADA.id, email=ADA.email))
    done = roster_cli("duplicates")
    assert done.returncode == 0, done.stderr
    assert "No duplicates" in done.stdout


def test_merge_not_confirmed_merges_nobody(roster_cli, system, classic):
    before = _groups(roster_cli, classic)
    done = roster_cli("duplicates", "--merge", "--workspace", classic["name"])  # stdin: nothing
    assert done.returncode != 0
    assert "Merge 3 people into the oldest of their 2 groups?" in done.stderr
    assert _groups(roster_cli, classic) == before
    assert _find(system, classic, "ada-work") is not None


def test_i6_4_merge_yes_merges_every_group_into_its_oldest_and_each_merge_is_undone(
    roster_cli, system, classic
):
    ada_cio = _find(system, classic, ADA.id).cio_id
    grace_cio = _find(system, classic, GRACE.id).cio_id

    done = roster_cli("duplicates", "--merge", "--yes", "--json", "--workspace", classic["name"])

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "groups_merged": 2,
        "people_merged": 3,
        "refused": [],
        "refused_count": 0,
        "kept": [{"cio_id": ada_cio, "merged": 2}, {"cio_id": grace_cio, "merged": 1}],
    }
    assert _groups(roster_cli, classic) == []
    ada = _find(system, classic, ADA.id)
    assert (ada.cio_id, ada.attributes.get("plan")) == (ada_cio, "pro")
    for gone in ("ada-work", "ada-phone", "grace-2"):
        assert _find(system, classic, gone) is None

    for ref in (f"cio_{ada_cio}", f"cio_{ada_cio}", f"cio_{grace_cio}"):
        undone = roster_cli("unmerge", ref, "--workspace", classic["name"])
        assert undone.returncode == 0, undone.stderr
    for back in ("ada-work", "ada-phone", "grace-2"):
        assert _find(system, classic, back) is not None
    assert [g["size"] for g in _groups(roster_cli, classic)] == [3, 2]


def test_i5_2_merge_yes_joins_an_id_only_person_and_the_lead_a_conflict_tied(
    roster_cli, apply, system, workspace
):
    system.workspaces.change_settings(int(workspace["workspace_id"]), auto_merge=False)
    apply(identify(EMAIL_OR_ID, LINUS.id), identify(EMAIL_OR_ID, LINUS.email, newsletter=True))
    apply(identify(EMAIL_OR_ID, LINUS.id, email=LINUS.email))
    (pair,) = _groups(roster_cli, workspace)
    assert pair["reason"] == "conflict_pair"

    done = roster_cli("duplicates", "--merge", "--yes")

    assert done.returncode == 0, done.stderr
    assert f"roster unmerge cio_{pair['primary']}" in done.stdout
    linus = _find(system, workspace, LINUS.id)
    assert (linus.cio_id, linus.email) == (pair["primary"], LINUS.email)
    assert linus.attributes.get("newsletter") is True
    assert _groups(roster_cli, workspace) == []


def test_yes_without_merge_is_refused_with_exit_code_2(roster_cli):
    done = roster_cli("duplicates", "--yes")
    assert done.returncode == 2
    assert "--merge" in done.stderr


def test_the_installed_command_asks_and_merges_nothing_when_answered_no(
    database_url, system, classic, tmp_path: Path
):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / KEY_FILE).write_text("test-secret\n")
    done = subprocess.run(
        [str(ROSTER), "duplicates", "--merge", "--database-url", database_url,
         "--workspace", classic["name"]],
        env=roster_environment(data_dir),
        input="n\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Nothing was merged." in done.stdout
    assert "same_email" in done.stdout  # the plan was shown before the question
    assert _find(system, classic, "ada-work") is not None
