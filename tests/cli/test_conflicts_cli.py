"""`roster conflicts` and `roster conflicts resolve ID` (docs/api.md §6; docs/identity.md I3.3,
I5.2, I6.4), run as a command against SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from roster.domain.identifiers import Reference
from roster.services.system import System
from tests.domain.builders import EMAIL_OR_ID, event, identify


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:8]


def _listed(roster_cli, *args: str) -> list[dict[str, Any]]:
    done = roster_cli("conflicts", "--json", *args)
    assert done.returncode == 0, done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout)["conflicts"]
    return found


def _lead_blocks_an_id_change(apply, tag: str) -> None:
    """A customer (id + email) and an id-only lead with an event; a call by the customer's
    email brings the lead's id, which an email reference cannot change (I3.3)."""
    apply(
        identify(EMAIL_OR_ID, f"cli-{tag}", email=f"{tag}@example.com"),
        identify(EMAIL_OR_ID, f"lead-{tag}"),
        event(EMAIL_OR_ID, f"lead-{tag}", "signed_up"),
    )
    apply(identify(EMAIL_OR_ID, f"{tag}@example.com", id=f"lead-{tag}"))


def _person(system: System, workspace: dict[str, Any], id_: str) -> Any:
    return system.lookups.find(int(workspace["workspace_id"]), Reference("id", id_))


def test_conflicts_lists_a_refused_id_change_with_its_door_count_and_people(
    roster_cli, apply, tag, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "250")
    _lead_blocks_an_id_change(apply, tag)
    apply(identify(EMAIL_OR_ID, f"{tag}@example.com", id=f"lead-{tag}"))
    (listed,) = _listed(roster_cli)
    assert (listed["identifier"], listed["value"]) == ("id", f"lead-{tag}")
    assert (listed["door"], listed["count"]) == ("track_v1", 2)
    assert listed["person"]["id"] == f"cli-{tag}"
    assert listed["holder"]["id"] == f"lead-{tag}"

    table = roster_cli("conflicts")
    assert table.returncode == 0, table.stderr
    for shown in (f"lead-{tag}", "track_v1", listed["person"]["cio_id"], "cio_ reference"):
        assert shown in table.stdout, table.stdout


def test_resolve_shows_the_merge_asks_and_changes_nothing_when_not_confirmed(
    roster_cli, apply, tag
):
    _lead_blocks_an_id_change(apply, tag)
    (listed,) = _listed(roster_cli)
    done = roster_cli("conflicts", "resolve", listed["id"])
    assert done.returncode != 0
    assert f"merge cio_{listed['holder']['cio_id']}" in done.stdout
    assert f"id: cli-{tag} -> lead-{tag}" in done.stdout
    assert _listed(roster_cli) == [listed]


def test_resolve_yes_merges_the_lead_in_and_roster_unmerge_undoes_it(
    roster_cli, apply, tag, system, workspace
):
    _lead_blocks_an_id_change(apply, tag)
    (listed,) = _listed(roster_cli)
    done = roster_cli("conflicts", "resolve", listed["id"], "--yes")
    assert done.returncode == 0, done.stderr
    cio_id = listed["person"]["cio_id"]
    assert f"roster unmerge cio_{cio_id}" in done.stdout
    merged = _person(system, workspace, f"lead-{tag}")
    assert (merged.cio_id, merged.email) == (cio_id, f"{tag}@example.com")
    assert _listed(roster_cli) == []
    (resolved,) = _listed(roster_cli, "--all")
    assert resolved["resolved_at"] is not None
    assert resolved["door"] == "track_v1"

    undone = roster_cli("unmerge", f"cio_{cio_id}", "--json")
    assert undone.returncode == 0, undone.stderr
    assert json.loads(undone.stdout)["secondary"]["id"] == f"lead-{tag}"
    back = _person(system, workspace, f"lead-{tag}")
    assert back.cio_id == listed["holder"]["cio_id"]
    # The customer's own id, replaced by the lead's in the merge, is theirs again (I6.4).
    customer = _person(system, workspace, f"cli-{tag}")
    assert (customer.cio_id, customer.email) == (cio_id, f"{tag}@example.com")
    names = [e.name for e in system.lookups.events(int(workspace["workspace_id"]), back.cio_id)]
    assert names == ["signed_up"]


def test_resolve_refuses_a_holder_that_is_no_orphan_unless_forced(
    roster_cli, apply, tag, system, workspace
):
    apply(
        identify(EMAIL_OR_ID, f"cli-{tag}", email=f"{tag}@example.com"),
        identify(EMAIL_OR_ID, f"lead-{tag}", email=f"lead-{tag}@example.com"),
    )
    apply(identify(EMAIL_OR_ID, f"{tag}@example.com", id=f"lead-{tag}"))
    (listed,) = _listed(roster_cli)
    refused = roster_cli("conflicts", "resolve", listed["id"], "--yes")
    assert refused.returncode == 2
    assert "not an orphan" in refused.stderr + refused.stdout
    assert _listed(roster_cli) == [listed]
    forced = roster_cli("conflicts", "resolve", listed["id"], "--yes", "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["person"]["id"] == f"lead-{tag}"
    assert _person(system, workspace, f"lead-{tag}").cio_id == listed["person"]["cio_id"]


@pytest.mark.parametrize(("given", "says"), [("987654321", "no conflict"), ("x7", "conflict")])
def test_resolve_names_an_unknown_or_malformed_conflict_with_exit_code_2(roster_cli, given, says):
    done = roster_cli("conflicts", "resolve", given, "--yes")
    assert done.returncode == 2
    assert says in done.stderr + done.stdout


def test_the_installed_command_lists_conflicts_as_json(roster_command, apply, tag):
    _lead_blocks_an_id_change(apply, tag)
    done = roster_command("conflicts", "--json")
    assert done.returncode == 0, done.stderr
    (listed,) = json.loads(done.stdout)["conflicts"]
    assert (listed["value"], listed["count"]) == (f"lead-{tag}", 1)
