"""`roster backup` and `roster restore` (docs/api.md §6, docs/operations.md "Backups"): an online
SQLite backup of a serving roster under load, restored into a new file that passes the identity
checks and holds every call answered before the backup began; the refusals, each one line with
exit code 2; PostgreSQL's advice to use pg_dump."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from roster.services import backups
from roster.storage import migrate
from roster.testing.integrity import count_in_database
from tests.cli.conftest import run_in_process
from tests.server import RunningRoster, create_workspace, run_roster

STEP_LIMIT = 20.0


class Load:
    """A thread identifying a new person per call, keeping the ids answered 200, in order."""

    def __init__(self, running: RunningRoster) -> None:
        self.running = running
        self.answered: list[str] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._send, daemon=True)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(15)

    def _send(self) -> None:
        prefix = f"load-{uuid.uuid4().hex[:6]}"
        with self.running.track_http() as http:
            count = 0
            while not self._stop.is_set():
                count += 1
                ref = f"{prefix}-{count}"
                try:
                    response = http.put(f"/api/v1/customers/{ref}", json={"plan": "backup"})
                except httpx.HTTPError as error:
                    self.failures.append(f"{ref}: {error!r}")
                    continue
                if response.status_code == 200:
                    with self._lock:
                        self.answered.append(ref)

    def so_far(self) -> list[str]:
        with self._lock:
            return list(self.answered)

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + STEP_LIMIT
        while len(self.so_far()) < count:
            assert time.monotonic() < deadline, f"{count} calls not answered: {self.failures}"
            time.sleep(0.02)


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[RunningRoster]:
    with RunningRoster(f"sqlite:///{tmp_path / 'serving.db'}", tmp_path / "data") as running:
        yield running


def _ids(database_url: str, workspace_id: int) -> set[str]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            query = sa.text("select id from people where workspace_id = :w and id is not null")
            return {row[0] for row in connection.execute(query, {"w": workspace_id})}
    finally:
        engine.dispose()


def _restore(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_in_process(["restore", *args], tmp_path / "data")


def _one_error_line(done: subprocess.CompletedProcess[str], *words: str) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert "Traceback" not in done.stderr
    return lines[0]


@pytest.mark.server
def test_a_backup_taken_under_load_restores_every_call_answered_before_it_began(
    serving: RunningRoster, tmp_path: Path
):
    output = tmp_path / "roster-backup.db"
    restored = f"sqlite:///{tmp_path / 'restored.db'}"
    with Load(serving) as load:
        load.wait_for(30)
        before = load.so_far()
        done = run_roster(
            "backup", "--output", str(output), "--database-url", serving.database_url,
            data_dir=serving.data_dir,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        during = len(load.so_far())
        load.wait_for(during + 10)  # the server went on answering after the backup

        # A restore into the database the server is using is refused, even with --force.
        refused = _restore(tmp_path, str(output), "--database-url", serving.database_url, "--force")
        _one_error_line(refused, "in use", "stop the server")
    assert load.failures == []
    assert f"to {output}" in done.stdout

    restoring = _restore(tmp_path, str(output), "--database-url", restored)
    assert restoring.returncode == 0, restoring.stderr
    assert "Restored" in restoring.stdout

    assert set(count_in_database(restored, serving.workspace_id).values()) == {0}
    kept = _ids(restored, serving.workspace_id)
    assert set(before) <= kept
    assert kept <= set(load.so_far())  # nothing that was never answered


@pytest.mark.server
def test_a_backup_in_small_steps_is_one_snapshot_while_the_server_commits_between_steps(
    serving: RunningRoster, tmp_path: Path
):
    """Each step copies 8 pages; between steps the server answers (and commits) more calls.
    The copy neither waits for the writer nor starts over, and holds the database as it was
    when it began."""
    output = tmp_path / "stepped.db"
    steps: list[int] = []
    seen_at_first_step: list[int] = []
    with Load(serving) as load:
        load.wait_for(50)
        before = load.so_far()

        def between_steps(copied: int, total: int) -> None:
            answered = len(load.so_far())
            # A copy that started over (SQLite does when another connection commits between
            # steps and the copy does not hold a snapshot) would run for as long as the load.
            assert not steps or copied > steps[-1], f"the copy started over: {steps}, {copied}"
            if not steps:
                seen_at_first_step.append(answered)
            steps.append(copied)
            load.wait_for(answered + 2)

        backups.backup(serving.database_url, output, between_steps, pages_per_step=8)
        after = load.so_far()
    assert len(steps) > 3 and steps == sorted(steps)
    # The writer committed between every two steps while the copy held its snapshot.
    assert len(after) >= seen_at_first_step[0] + 2 * len(steps)

    copy = f"sqlite:///{output}"
    assert set(count_in_database(copy, serving.workspace_id).values()) == {0}
    kept = _ids(copy, serving.workspace_id)
    assert set(before) <= kept
    # The one call in flight when the snapshot began may have committed before it and been
    # counted as answered only after the first step: every later one is not in the copy.
    assert not kept & set(after[seen_at_first_step[0] + 1 :])


def test_restore_refuses_a_target_that_holds_data_unless_forced(tmp_path: Path):
    data_dir = tmp_path / "data"
    source = f"sqlite:///{tmp_path / 'source.db'}"
    target = f"sqlite:///{tmp_path / 'target.db'}"
    kept = create_workspace(source, data_dir, "kept")
    other = create_workspace(target, data_dir, "other")
    output = tmp_path / "source-backup.db"
    done = run_in_process(["backup", "--output", str(output), "--database-url", source], data_dir)
    assert done.returncode == 0, done.stderr

    refused = _restore(tmp_path, str(output), "--database-url", target)
    _one_error_line(refused, "holds data", "--force", "Nothing was changed")
    with contextlib.closing(sqlite3.connect(tmp_path / "target.db")) as connection:
        assert connection.execute("pragma journal_mode").fetchone()[0] == "wal"  # as it was
    listed = run_in_process(["workspaces", "list", "--json", "--database-url", target], data_dir)
    assert '"other"' in listed.stdout and '"kept"' not in listed.stdout

    forced = _restore(tmp_path, str(output), "--database-url", target, "--force")
    assert forced.returncode == 0, forced.stderr
    listed = run_in_process(["workspaces", "list", "--json", "--database-url", target], data_dir)
    assert '"kept"' in listed.stdout and '"other"' not in listed.stdout
    assert kept["workspace_id"] and other["workspace_id"]


def test_restore_refuses_a_file_that_is_not_a_sqlite_database(tmp_path: Path):
    text = tmp_path / "notes.txt"
    text.write_text("these are not the pages you are looking for\n" * 200)
    target = tmp_path / "target.db"
    done = _restore(tmp_path, str(text), "--database-url", f"sqlite:///{target}")
    _one_error_line(done, str(text), "not a SQLite database")
    assert not target.exists()


def test_restore_refuses_a_sqlite_database_that_is_not_roster_s(tmp_path: Path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("create table recipes (name text)")
    target = tmp_path / "target.db"
    done = _restore(tmp_path, str(other), "--database-url", f"sqlite:///{target}")
    _one_error_line(done, str(other), "not a roster database")
    assert not target.exists()


def test_restore_of_a_missing_file_says_so(tmp_path: Path):
    missing = tmp_path / "no-such-backup.db"
    done = _restore(tmp_path, str(missing), "--database-url", f"sqlite:///{tmp_path / 't.db'}")
    _one_error_line(done, "no such file", str(missing))


def test_restore_migrates_a_backup_of_an_older_schema_to_the_current_one(tmp_path: Path):
    old = tmp_path / "old.db"
    engine = sa.create_engine(f"sqlite:///{old}")
    try:
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(migrate.MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0005")
    finally:
        engine.dispose()
    target = f"sqlite:///{tmp_path / 'target.db'}"

    done = _restore(tmp_path, str(old), "--database-url", target)
    assert done.returncode == 0, done.stderr
    assert f"migrated from schema 0005 to {migrate.head()}" in " ".join(done.stdout.split())
    migrated = sa.create_engine(target)
    try:
        assert migrate.is_current(migrated)
    finally:
        migrated.dispose()


def test_backup_refuses_to_overwrite_a_file(tmp_path: Path):
    data_dir = tmp_path / "data"
    source = f"sqlite:///{tmp_path / 'source.db'}"
    create_workspace(source, data_dir)
    output = tmp_path / "exists.db"
    output.write_text("keep me")
    done = run_in_process(["backup", "--output", str(output), "--database-url", source], data_dir)
    _one_error_line(done, "exists already")
    assert output.read_text() == "keep me"


def test_backup_of_postgresql_prints_the_pg_dump_command_without_the_password(tmp_path: Path):
    url = "postgresql://roster:s3cret-pw@db.example:5433/roster?sslmode=require"
    done = run_in_process(
        ["backup", "--output", "roster.dump", "--database-url", url], tmp_path / "data"
    )
    line = _one_error_line(done, "pg_dump --format=custom --file=roster.dump")
    assert "'postgresql://roster@db.example:5433/roster?sslmode=require'" in line
    assert "s3cret-pw" not in done.stdout + done.stderr

    restoring = _restore(tmp_path, "roster.dump", "--database-url", url)
    line = _one_error_line(restoring, "pg_restore --clean --if-exists --no-owner")
    assert "s3cret-pw" not in restoring.stdout + restoring.stderr
