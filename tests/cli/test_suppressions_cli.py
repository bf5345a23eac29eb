"""`roster suppressions list|check|unsuppress` (docs/api.md §6; docs/identity.md I9.2, I9.3), run
as a command against SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re

from roster.services.system import System
from tests.domain.builders import EMAIL_OR_ID, identify, suppress

HEX64 = re.compile(r"[0-9a-f]{64}")


def _listed(roster_cli) -> list[dict]:
    done = roster_cli("suppressions", "list", "--json")
    assert done.returncode == 0, done.stderr
    entries: list[dict] = json.loads(done.stdout)["suppressions"]
    return entries


def test_i9_2_list_shows_a_suppressed_persons_hashes_as_one_group_never_the_values(
    roster_cli, apply, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "200")  # a terminal wide enough for whole hashes
    apply(
        identify(EMAIL_OR_ID, "cli-ada", email="Ada@Example.com"), suppress(EMAIL_OR_ID, "cli-ada")
    )

    entries = _listed(roster_cli)
    assert len(entries) == 3
    assert {entry["door"] for entry in entries} == {"track_v1"}
    assert len({entry["group"] for entry in entries}) == 1
    assert all(HEX64.fullmatch(entry["hash"]) for entry in entries)

    table = roster_cli("suppressions", "list")
    assert table.returncode == 0, table.stderr
    assert "track_v1" in table.stdout
    assert all(entry["hash"] in table.stdout for entry in entries)
    for value in ("cli-ada", "Ada@Example.com", "ada@example.com"):
        assert value not in table.stdout + table.stderr


def test_list_limit_shows_the_newest_entries_only(roster_command, apply):
    for n in range(3):
        apply(suppress(EMAIL_OR_ID, f"cli-limit-{n}"))
    newest = _listed(roster_command)[:2]
    done = roster_command("suppressions", "list", "--json", "--limit", "2")
    assert json.loads(done.stdout)["suppressions"] == newest


def test_check_exits_0_for_a_suppressed_email_in_any_case_and_1_for_anything_else(
    roster_cli, apply
):
    apply(
        identify(EMAIL_OR_ID, "cli-grace", email="grace@example.com"),
        suppress(EMAIL_OR_ID, "cli-grace"),
    )

    found = roster_cli("suppressions", "check", "--email", " GRACE@example.com", "--json")
    assert found.returncode == 0, found.stderr
    answer = json.loads(found.stdout)
    assert answer["suppressed"] is True
    assert answer["entry"]["door"] == "track_v1"
    assert answer["hash"] in {entry["hash"] for entry in _listed(roster_cli)}

    said = roster_cli("suppressions", "check", "--id", "cli-grace")
    assert said.returncode == 0 and "is suppressed" in said.stdout, said.stdout

    missing = roster_cli("suppressions", "check", "--id", "never-suppressed")
    assert missing.returncode == 1
    assert "not suppressed" in missing.stdout


def test_i9_3_unsuppress_by_one_identifier_frees_the_whole_group(roster_cli, apply):
    apply(
        identify(EMAIL_OR_ID, "cli-hopper", email="hopper@example.com"),
        suppress(EMAIL_OR_ID, "cli-hopper"),
        suppress(EMAIL_OR_ID, "cli-bystander"),
    )
    done = roster_cli("suppressions", "unsuppress", "--email", "hopper@example.com")
    assert done.returncode == 0, done.stderr
    assert "3 entries" in done.stdout
    assert roster_cli("suppressions", "check", "--id", "cli-hopper").returncode == 1
    assert roster_cli("suppressions", "check", "--id", "cli-bystander").returncode == 0

    again = roster_cli("suppressions", "unsuppress", "--id", "cli-hopper")
    assert again.returncode == 1
    assert "Nothing was changed" in again.stdout


def test_i9_3_unsuppress_by_hash_frees_the_group_it_belongs_to(roster_cli, apply, system: System):
    apply(
        identify(EMAIL_OR_ID, "cli-turing", email="turing@example.com"),
        suppress(EMAIL_OR_ID, "cli-turing"),
    )
    one = next(entry for entry in _listed(roster_cli) if entry["hash"] != entry["group"])
    done = roster_cli("suppressions", "unsuppress", "--hash", one["hash"])
    assert done.returncode == 0, done.stderr
    assert _listed(roster_cli) == []


def test_bad_requests_exit_2_with_a_message_saying_what_to_give(roster_cli):
    cases = [
        (("suppressions", "check"), "exactly one"),
        (("suppressions", "check", "--id", "a", "--email", "a@b.io"), "exactly one"),
        (("suppressions", "unsuppress", "--hash", "not-a-hash"), "64 lowercase"),
        (("suppressions", "check", "--id", "x" * 151), "150"),
        (("suppressions", "list", "--limit", "0"), "--limit"),
    ]
    for args, says in cases:
        done = roster_cli(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert says in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
