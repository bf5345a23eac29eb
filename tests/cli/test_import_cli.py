"""`roster import people F.csv [--empty-cells keep|clear] [--json]` (docs/api.md §6), run as a
command against SQLite and PostgreSQL. A bad file imports nothing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from roster.domain.identifiers import Reference
from roster.services.system import System
from tests.api.stored import footprint
from tests.domain.builders import EMAIL_OR_ID, identify


def _csv(tmp_path: Path, content: str | bytes) -> str:
    path = tmp_path / "people.csv"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return str(path)


def _attributes(system: System, workspace: dict[str, Any], id_: str) -> dict[str, Any] | None:
    found = system.lookups.find(int(workspace["workspace_id"]), Reference("id", id_))
    return None if found is None else found.attributes


def test_imports_the_rows_and_prints_the_summary_as_json(
    roster_cli, system: System, workspace, tmp_path
):
    path = _csv(tmp_path, 'id,email,age,note\ncli-a,a@example.com,7,"x\ny"\ncli-b,nope,1,\n')
    done = roster_cli("import", "people", path, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "imported": 1,
        "created": 1,
        "updated": 0,
        "failed": [{"line": 4, "reason": "email 'nope' is not a valid email address"}],
        "failed_count": 1,
        "refused": [],
        "refused_count": 0,
    }
    assert _attributes(system, workspace, "cli-a") == {"age": 7, "note": "x\ny"}


def test_empty_cells_clear_removes_what_keep_leaves(
    roster_cli, apply, system: System, workspace, tmp_path
):
    apply(identify(EMAIL_OR_ID, "cli-c", plan="pro", age=2))
    path = _csv(tmp_path, "id,plan,age\ncli-c,,3\n")
    assert roster_cli("import", "people", path, "--json").returncode == 0
    assert _attributes(system, workspace, "cli-c") == {"plan": "pro", "age": 3}
    assert roster_cli("import", "people", path, "--empty-cells", "clear").returncode == 0
    assert _attributes(system, workspace, "cli-c") == {"age": 3}


def test_the_summary_table_names_each_failed_row_by_line_and_why(roster_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    path = _csv(tmp_path, "id,plan\ncli-d,pro\nundefined,pro\n")
    done = roster_cli("import", "people", path)
    assert done.returncode == 0, done.stderr
    assert "Imported" in done.stdout and "Failed rows" in done.stdout
    assert "placeholder" in done.stdout and " 3 " in done.stdout


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"id,plan\ncli-x,\xff\n", "line 2 is not valid UTF-8"),
        (b"name\ncli-x\n", "neither an 'id' nor an 'email' column"),
        (b"id,plan\ncli-x,pro\ncli-y,pro,extra\n", "line 3: the row has 3 cells"),
    ],
)
def test_a_bad_file_ends_with_exit_code_2_naming_the_line_and_imports_nothing(
    roster_cli, system: System, workspace, tmp_path, content: bytes, says: str
):
    before = footprint(system, int(workspace["workspace_id"]))
    done = roster_cli("import", "people", _csv(tmp_path, content))
    assert done.returncode == 2
    assert says in done.stderr and "Nothing was imported" in done.stderr
    assert footprint(system, int(workspace["workspace_id"])) == before


def test_an_unknown_empty_cells_choice_or_a_missing_file_ends_with_exit_code_2(
    roster_cli, tmp_path
):
    path = _csv(tmp_path, "id\ncli-z\n")
    wrong = roster_cli("import", "people", path, "--empty-cells", "drop")
    assert wrong.returncode == 2 and "--empty-cells must be one of keep, clear" in wrong.stderr
    missing = roster_cli("import", "people", str(tmp_path / "nowhere.csv"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_the_installed_command_imports_in_batches_with_the_same_answer(
    roster_command, system: System, workspace, tmp_path
):
    rows = "".join(f"cli-many-{n},{n}\n" for n in range(1203))
    done = roster_command("import", "people", _csv(tmp_path, "id,n\n" + rows), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["created"] == 1203
    assert _attributes(system, workspace, "cli-many-1202") == {"n": 1202}


def test_roster_export_then_import_into_a_new_workspace_brings_back_everyone(
    roster_cli, apply, system: System, workspace, tmp_path
):
    apply(
        identify(EMAIL_OR_ID, "cli-rt-ada", email="Ada@Example.com", plan="pro", seats=3),
        identify(EMAIL_OR_ID, "cli-rt-bob", note='says "hi", twice\nthen goes', zip="02134"),
        identify(EMAIL_OR_ID, "cli-rt-cy", unsubscribed=True, tags=["a", 1], created_at=1700000000),
    )
    output = tmp_path / "people.csv"
    exported = roster_cli("export", "people", "--output", str(output), "--json")
    assert exported.returncode == 0, exported.stderr

    target = system.workspaces.create(f"cli-rt-{uuid.uuid4().hex[:8]}")
    imported = roster_cli(
        "import", "people", str(output), "--json", "--workspace", str(target["name"])
    )
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["created"] == 3
    for id_ in ("cli-rt-ada", "cli-rt-bob", "cli-rt-cy"):
        before = system.lookups.find(int(workspace["workspace_id"]), Reference("id", id_))
        after = system.lookups.find(int(target["workspace_id"]), Reference("id", id_))
        assert before is not None and after is not None
        assert after.email == before.email
        typed = {name: (type(value), value) for name, value in after.attributes.items()}
        assert typed == {name: (type(value), value) for name, value in before.attributes.items()}
