"""`roster delete --from-csv F [--column id|email|cio_id]` (docs/api.md §6; docs/identity.md
I9.1), run as a command against SQLite and PostgreSQL. A bad file deletes nobody."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from roster.services.system import System
from tests.api.calls import rows
from tests.domain.builders import EMAIL_OR_ID, event, identify


def _csv(tmp_path: Path, content: str | bytes, name: str = "people.csv") -> str:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return str(path)


def _live(system: System, workspace, *ids: str) -> set[str]:
    found = rows(
        system,
        "select id from people where workspace_id = :w",
        w=workspace["workspace_id"],
    )
    return {row[0] for row in found} & set(ids)


def _deletions(system: System, workspace) -> int:
    return rows(
        system,
        "select count(*) from activities where workspace_id = :w and type = 'profile_delete'",
        w=workspace["workspace_id"],
    )[0][0]


def test_i9_1_deletes_the_listed_people_and_a_second_run_finds_them_gone(
    roster_cli, apply, system: System, workspace, tmp_path
):
    apply(
        identify(EMAIL_OR_ID, "csv-a"),
        event(EMAIL_OR_ID, "csv-a", "seen"),
        identify(EMAIL_OR_ID, "csv-b"),
        identify(EMAIL_OR_ID, "csv-keep"),
    )
    path = _csv(tmp_path, "name,id\nAda,csv-a\nBob,csv-b\nNobody,csv-nobody\n\n")

    first = roster_cli("delete", "--from-csv", path, "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {
        "deleted": 2,
        "not_found": 1,
        "refused": [],
        "refused_count": 0,
    }
    assert _live(system, workspace, "csv-a", "csv-b", "csv-keep") == {"csv-keep"}
    assert _deletions(system, workspace) == 2  # one profile_delete per person

    second = roster_cli("delete", "--from-csv", path, "--json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["deleted"] == 0
    assert json.loads(second.stdout)["not_found"] == 3
    assert _deletions(system, workspace) == 2


def test_the_summary_names_each_refused_row_by_line_and_why(
    roster_cli, apply, tmp_path, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "200")
    apply(identify(EMAIL_OR_ID, "csv-ok"))
    path = _csv(tmp_path, 'id\ncsv-ok\n""\nundefined\n')
    done = roster_cli("delete", "--from-csv", path)
    assert done.returncode == 0, done.stderr
    assert "Deleted by list" in done.stdout
    assert "placeholder" in done.stdout and "empty" in done.stdout
    summary = roster_cli("delete", "--from-csv", path, "--json")
    refused = json.loads(summary.stdout)["refused"]
    assert [(entry["line"], entry["ref"]) for entry in refused] == [(3, ""), (4, "undefined")]


def test_an_email_column_is_read_whatever_its_case_with_a_bom_and_crlf_lines(
    roster_cli, apply, system: System, workspace, tmp_path
):
    apply(identify(EMAIL_OR_ID, "csv-mail", email="mail@example.com"))
    path = _csv(tmp_path, "\ufeffName,Email\r\nM,MAIL@example.com\r\n".encode())
    done = roster_cli("delete", "--from-csv", path, "--column", "email", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["deleted"] == 1
    assert _live(system, workspace, "csv-mail") == set()


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("name,email\nAda,a@example.com\n", "line 1: the header has no 'id' column"),
        ("id,id\nx\n", "line 1: the header names the 'id' column more than once"),
        ("", "the file is empty"),
        ("name,id\nAda,csv-first\nBob\n", "line 3: the row has 1 cells and no 'id' column"),
        (b"id\ncsv-first\ncaf\xe9\n", "line 3 is not valid UTF-8"),
        (b"\xff\xfei\x00d\x00\n\x00", "NUL byte"),
        ('id\ncsv-first\n"unclosed\n', "line"),
    ],
)
def test_a_bad_file_is_refused_naming_the_line_and_nobody_is_deleted(
    roster_cli, apply, system: System, workspace, tmp_path, content, says
):
    apply(identify(EMAIL_OR_ID, "csv-first"))
    done = roster_cli("delete", "--from-csv", _csv(tmp_path, content))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert says in " ".join(done.stderr.split()), done.stderr
    assert "Nothing was deleted" in done.stderr
    assert "Traceback" not in done.stderr
    assert _live(system, workspace, "csv-first") == {"csv-first"}


def test_a_missing_file_an_unknown_column_or_workspace_exits_2_saying_what_to_do(
    roster_cli, database_url, tmp_path
):
    path = _csv(tmp_path, "id\nx\n")
    cases = [
        (("delete", "--from-csv", str(tmp_path / "nope.csv")), "no such file"),
        (("delete", "--from-csv", path, "--column", "phone"), "--column must be one of"),
    ]
    for args, says in cases:
        done = roster_cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert says in done.stderr
    unknown = roster_cli("delete", "--from-csv", path, "--workspace", "no-such-workspace")
    assert unknown.returncode == 2
    assert "no workspace named 'no-such-workspace'" in unknown.stderr
