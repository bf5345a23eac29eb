"""The merge preview on both databases (docs/identity.md I6): what it says a merge gives is what
the real merge then does, it writes nothing, and it answers a merge the rules refuse with the
reason."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from roster.domain.identifiers import IdentifierMode, Reference
from roster.domain.operations import Operation
from roster.services.duplicates import Merged
from roster.services.hygiene import Hygiene
from roster.services.ingestion import Message
from roster.services.merge_preview import (
    KEPT,
    MERGED_IN,
    MergePreview,
    preview_merge,
    preview_merges,
)
from roster.services.system import System
from tests.api.stored import DATA_TABLES
from tests.domain.builders import ID_ONLY, add_device, event, identify


def _workspace(system: System) -> int:
    name = f"preview-{uuid.uuid4().hex[:10]}"
    return int(system.workspaces.create(name, IdentifierMode.ID_ONLY)["workspace_id"])


def _apply(system: System, workspace_id: int, *ops: Operation) -> None:
    done = system.ingestion.apply_sync(workspace_id, [Message(op) for op in ops], "track_v1")
    assert all(not isinstance(result, Exception) for result in done), done


def _cio(system: System, workspace_id: int, id_: str) -> str:
    return system.lookups.get(workspace_id, Reference("id", id_)).cio_id


def _everything(system: System, workspace_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the workspace holds, ingestion log included, in a stable order."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with system.database.reader.connect() as connection:
        for table in (*DATA_TABLES, "ingestion_log", "conflicts"):
            rows = connection.execute(
                sa.text(f"select * from {table} where workspace_id = :w"), {"w": workspace_id}
            )
            found[table] = sorted((tuple(map(repr, row)) for row in rows), key=repr)
    return found


def _as_read(system: System, workspace_id: int, cio_id: str) -> dict[str, Any]:
    """The person as the App API's reads show them after the real merge."""
    view = system.lookups.view(workspace_id, Reference("cio_id", cio_id))
    person = view.person
    return {
        "id": person.id,
        "email": person.email,
        "cio_id": person.cio_id,
        "created": person.created_in_roster_at,
        "attributes": person.attributes,
        "unsubscribed": person.unsubscribed,
        "devices": tuple(sorted(d.token for d in view.devices)),
        "anonymous_ids": tuple(sorted(view.anonymous_ids)),
        "events": len(list(system.lookups.events(workspace_id, cio_id))),
    }


def _as_previewed(preview: MergePreview) -> dict[str, Any]:
    result = preview.result
    assert result is not None
    person = result.person
    return {
        "id": person.id,
        "email": person.email,
        "cio_id": person.cio_id,
        "created": person.created_in_roster_at,
        "attributes": person.attributes,
        "unsubscribed": person.unsubscribed,
        "devices": result.devices,
        "anonymous_ids": result.anonymous_ids,
        "events": result.events,
    }


def _row(preview: MergePreview, name: str) -> tuple[Any, tuple[Any, ...], Any, str]:
    (row,) = [r for r in preview.rows if r.name == name]
    return row.kept, row.merged_in, row.result, row.source


def test_i6_2_the_preview_of_a_merge_is_what_the_merge_then_does(system):
    workspace_id = _workspace(system)
    _apply(
        system,
        workspace_id,
        identify(ID_ONLY, "ada-1", email="ada@example.com", plan="pro"),
        identify(ID_ONLY, "ada-2", email="ADA@example.com", plan="free", city="Paris"),
        identify(ID_ONLY, "ada-2", unsubscribed=True),
        add_device(ID_ONLY, "ada-1", "token-kept"),
        add_device(ID_ONLY, "ada-2", "token-merged"),
        event(ID_ONLY, "ada-1", "signed_up"),
        event(ID_ONLY, "ada-2", "opened", anonymous_id="anon-1"),
        event(ID_ONLY, "ada-2", "clicked"),
    )
    kept, merged = _cio(system, workspace_id, "ada-1"), _cio(system, workspace_id, "ada-2")

    preview = preview_merge(system, workspace_id, kept, f"cio_{merged}")

    assert preview.refused is None
    assert preview.primary is not None and preview.secondary is not None
    assert (preview.primary.person.cio_id, preview.secondary.person.cio_id) == (kept, merged)
    assert (preview.primary.events, preview.secondary.events) == (1, 2)
    assert preview.secondary.person.unsubscribed and not preview.primary.person.unsubscribed
    assert _row(preview, "plan") == ("pro", ("free",), "pro", KEPT)  # the primary's value stays
    assert _row(preview, "city") == (None, ("Paris",), "Paris", MERGED_IN)  # one it lacks
    assert _row(preview, "unsubscribed") == (False, (True,), True, MERGED_IN)
    assert _row(preview, "devices") == (1, (1,), 2, "Both")
    assert _row(preview, "events") == (1, (2,), 3, "Both")
    assert [rule.rule for rule in preview.rules][:1] == ["I6.2"]

    hygiene = Hygiene(system.ingestion, system.lookups, system.database)
    hygiene.merge_sync(workspace_id, Reference("cio_id", kept), Reference("cio_id", merged))

    assert _as_previewed(preview) == _as_read(system, workspace_id, kept)
    assert system.lookups.find(workspace_id, Reference("cio_id", merged)) is None


def test_i6_2_the_preview_takes_an_identifier_the_primary_lacks_and_the_older_creation(system):
    workspace_id = _workspace(system)
    _apply(system, workspace_id, identify(ID_ONLY, "grace", email="grace@example.com"))
    _apply(system, workspace_id, identify(ID_ONLY, "grace-new", plan="team"))
    older, newer = _cio(system, workspace_id, "grace"), _cio(system, workspace_id, "grace-new")

    # Merging the older person into the newer one: the newer keeps its id, takes the email.
    preview = preview_merge(system, workspace_id, newer, older)

    assert _row(preview, "id") == ("grace-new", ("grace",), "grace-new", KEPT)
    assert _row(preview, "email")[2:] == ("grace@example.com", MERGED_IN)
    hygiene = Hygiene(system.ingestion, system.lookups, system.database)
    hygiene.merge_sync(workspace_id, Reference("cio_id", newer), Reference("cio_id", older))
    assert _as_previewed(preview) == _as_read(system, workspace_id, newer)


def test_a_group_preview_merges_each_in_order_as_the_duplicate_finder_then_does(system):
    workspace_id = _workspace(system)
    _apply(
        system,
        workspace_id,
        *(identify(ID_ONLY, f"lin-{n}", email="Linus@Example.com", n=n) for n in range(3)),
        identify(ID_ONLY, "lin-2", team="kernel"),
    )
    ((group,), _) = system.duplicates.page(workspace_id, "", 10)
    others = [m.cio_id for m in group.people[1:]]

    preview = preview_merges(system, workspace_id, group.primary.cio_id, others)

    assert preview.refusals == ()
    assert _row(preview, "team") == (None, (None, "kernel"), "kernel", MERGED_IN)
    hygiene = Hygiene(system.ingestion, system.lookups, system.database)
    merged = Merged()
    system.duplicates.merge(workspace_id, group, hygiene, merged)
    assert merged.people == 2
    assert _as_previewed(preview) == _as_read(system, workspace_id, group.primary.cio_id)


def test_the_preview_writes_nothing(system):
    workspace_id = _workspace(system)
    _apply(
        system,
        workspace_id,
        identify(ID_ONLY, "ada-1", email="ada@example.com", plan="pro"),
        identify(ID_ONLY, "ada-2", email="ada@example.com", unsubscribed=True),
        add_device(ID_ONLY, "ada-2", "token-2"),
        event(ID_ONLY, "ada-2", "opened"),
    )
    kept, merged = _cio(system, workspace_id, "ada-1"), _cio(system, workspace_id, "ada-2")
    before = _everything(system, workspace_id)

    preview = preview_merge(system, workspace_id, kept, merged)
    refused = preview_merge(system, workspace_id, kept, kept)

    assert preview.result is not None and refused.result is None
    assert _everything(system, workspace_id) == before


def test_i6_1_merging_a_person_into_themselves_is_refused_with_the_reason(system):
    workspace_id = _workspace(system)
    _apply(system, workspace_id, identify(ID_ONLY, "ada", plan="pro"))
    ada = _cio(system, workspace_id, "ada")

    preview = preview_merge(system, workspace_id, ada, ada)

    assert preview.refused == "the primary and secondary are the same person"
    assert preview.result is None
    assert preview.primary is not None and preview.primary.person.attributes == {"plan": "pro"}
    assert "I6.1" in [rule.rule for rule in preview.rules]
    assert _row(preview, "plan") == ("pro", ("pro",), None, "")


def test_i6_1_an_unknown_cio_id_is_refused_with_the_reason(system):
    workspace_id = _workspace(system)
    _apply(system, workspace_id, identify(ID_ONLY, "ada"))
    ada = _cio(system, workspace_id, "ada")

    unknown_secondary = preview_merge(system, workspace_id, ada, "cio_0000000000ff")
    unknown_primary = preview_merge(system, workspace_id, "0000000000ff", ada)

    assert unknown_secondary.refused == "no secondary person with cio_id '0000000000ff'"
    assert unknown_secondary.secondary is None and unknown_secondary.result is None
    assert unknown_primary.refused == "no primary person with cio_id '0000000000ff'"
    assert unknown_primary.primary is None and unknown_primary.secondary is not None
