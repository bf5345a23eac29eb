"""The read side's benchmark (bench/dataset.py, bench/read_side.py) on a small data set: the data
is a state roster itself could have made, and every part measures against a real server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.dataset import build, is_id_only, is_lead
from roster.testing.integrity import count_in_database
from roster.testing.server import create_workspace

PEOPLE = 3_000


def test_the_data_set_has_its_documented_shape_and_passes_the_identity_checks(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'roster.db'}"
    workspace_id = int(create_workspace(url, tmp_path / "data")["workspace_id"])

    build(tmp_path / "roster.db", workspace_id, PEOPLE)

    assert set(count_in_database(url, workspace_id).values()) == {0}
    db = sqlite3.connect(tmp_path / "roster.db")
    leads = db.execute("select count(*) from people where id is null").fetchone()[0]
    id_only = db.execute("select count(*) from people where email is null").fetchone()[0]
    pairs = db.execute(
        "select count(*) from conflicts c join people a on a.pk = c.person_pk "
        "join people b on b.pk = c.holder_pk where a.email is null and b.id is null"
    ).fetchone()[0]
    attributes = db.execute("select attributes from people limit 1").fetchone()[0]
    db.close()
    assert leads == sum(is_lead(i) for i in range(PEOPLE)) == PEOPLE // 10
    assert id_only == pairs == sum(is_id_only(i) for i in range(PEOPLE)) == PEOPLE // 100
    assert attributes.count(":") == 20
