"""`roster merge PRIMARY SECONDARY` and `roster unmerge REF` (docs/api.md §6; docs/identity.md I6,
I6.4), run as a command against SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from roster.domain.identifiers import Reference
from roster.services.system import System
from tests.domain.builders import EMAIL_OR_ID, event, identify
from tests.domain.personas import ADA, GRACE


def _person(system: System, workspace: dict[str, Any], kind: str, value: str) -> Any:
    return system.lookups.find(int(workspace["workspace_id"]), Reference(kind, value))  # type: ignore[arg-type]


def test_i6_4_merge_then_unmerge_on_the_command_line_gives_grace_back(
    roster_command, apply, system, workspace
):
    apply(
        identify(EMAIL_OR_ID, ADA.id, email=ADA.email),
        identify(EMAIL_OR_ID, GRACE.id, email=GRACE.email, plan="free"),
        event(EMAIL_OR_ID, GRACE.id, "signed_up"),
    )
    grace_before = _person(system, workspace, "id", GRACE.id)
    ada_cio = _person(system, workspace, "id", ADA.id).cio_id

    merged = roster_command("merge", ADA.email, f"cio_{grace_before.cio_id}")
    assert merged.returncode == 0, merged.stderr
    assert f"roster unmerge cio_{ada_cio}" in merged.stdout
    assert _person(system, workspace, "id", GRACE.id) is None

    unmerged = roster_command("unmerge", ADA.id, "--json")

    assert unmerged.returncode == 0, unmerged.stderr
    assert json.loads(unmerged.stdout) == {
        "primary": {"cio_id": ada_cio, "id": ADA.id, "email": ADA.email},
        "secondary": {"cio_id": grace_before.cio_id, "id": GRACE.id, "email": GRACE.email},
    }
    grace = _person(system, workspace, "id", GRACE.id)
    assert (grace.pk, grace.attributes, grace.attribute_times) == (
        grace_before.pk,
        grace_before.attributes,
        grace_before.attribute_times,
    )
    events = system.lookups.events(int(workspace["workspace_id"]), grace.cio_id)
    assert [e.name for e in events] == ["signed_up"]


def test_i6_4_unmerge_with_nothing_to_undo_fails_with_the_reason(roster_cli, apply):
    apply(identify(EMAIL_OR_ID, ADA.id))

    done = roster_cli("unmerge", ADA.id)

    assert done.returncode == 2
    assert "no merge to undo" in done.stderr


def test_i6_1_merge_of_a_missing_person_fails_naming_the_side(roster_cli, apply):
    apply(identify(EMAIL_OR_ID, ADA.id))

    done = roster_cli("merge", ADA.id, "nobody-1")

    assert done.returncode == 2
    assert "no secondary person" in done.stderr


def test_i6_4_unmerge_of_an_unknown_person_fails_naming_it(roster_cli, apply):
    apply(identify(EMAIL_OR_ID, ADA.id))  # the workspace is not empty; the person is unknown

    done = roster_cli("unmerge", "cio_ffffffffffff")

    assert done.returncode == 2
    assert "ffffffffffff" in done.stderr
