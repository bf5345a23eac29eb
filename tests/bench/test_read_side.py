"""The read side's benchmark (bench/dataset.py, bench/read_side.py) on a small data set: the data
is a state roster itself could have made, and every part measures against a real server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.dataset import build, is_id_only, is_lead
from bench.read_side import DELETED, figures, read_side
from bench.report import read_side_section
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


def test_every_part_of_the_read_side_is_measured_against_a_real_server(tmp_path: Path):
    # 30,000 people in pages of 5: page 50 exists for the filters and the duplicate finder.
    measured = read_side(tmp_path, people=30_000, samples=3, page_size=5)

    skipped = {part: found["reason"] for part, found in measured.items()
               if isinstance(found, dict) and found.get("skipped")}  # fmt: skip
    assert skipped == {}
    export = measured["export"]
    assert export["rows"] == 30_000
    # Past 8,000 people the server writes the file with a helper process, whose peak RSS the
    # export's figure adds to the server's.
    assert export["helpers"] == 1 and export["helper_peak_rss_mb"] > 5
    assert export["server_peak_rss_mb"] == round(
        export["server_process_peak_rss_mb"] + export["helper_peak_rss_mb"], 1
    )
    with_ids = sum(not is_lead(i) for i in range(30_000))
    assert measured["delete_by_list"]["deleted"] == min(DELETED, with_ids)
    found = figures(measured)
    assert found["csv_export_rows_per_s"] > 0
    assert found["search_p95_ms_max"] > 0
    assert found["duplicate_pages_p95_ms_max"] > 0
    # The People page, logged in, 50 a page: 3,000 leads and 10,000 on plan pro have a page 50.
    page = measured["people_page"]
    assert set(page) == {"email_term", "id_term", "attribute_eq", "email_but_no_id"}
    assert set(page["email_term"]) == set(page["id_term"]) == {"page_1"}
    assert set(page["attribute_eq"]) == set(page["email_but_no_id"]) == {"page_1", "page_50"}
    for timings in page.values():
        for timing in timings.values():
            # The server's time is part of what the client waited for.
            assert 0 < timing["p50_ms"] <= timing["p95_ms"] <= timing["client_p95_ms"]
    assert found["people_page_p95_ms_max"] == max(
        timing["p95_ms"] for timings in page.values() for timing in timings.values()
    )
    section = read_side_section({"read_side": measured})
    p95 = page["email_but_no_id"]["page_50"]["p95_ms"]
    assert "| People page, server time: Show: email but no id, page 50 (client p95 " in section
    assert f" | {p95:.1f} | " in section


def test_a_list_shorter_than_50_pages_has_its_last_page_measured_and_named_by_its_number(
    tmp_path: Path,
):
    # 2,000 people: 200 leads (4 People pages) and 20 duplicate pairs (pages of 5: 4).
    measured = read_side(tmp_path, people=2_000, samples=2, page_size=5)

    assert set(measured["duplicates"]) == {"page_1", "page_4"}
    assert set(measured["people_page"]["email_but_no_id"]) == {"page_1", "page_4"}
