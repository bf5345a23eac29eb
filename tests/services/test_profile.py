"""The person page's read service on both databases (docs/web.md, "Person page"): a person by
cio_id with what the App API's attributes read gives, their timeline newest first in keyset
pages that neither skip nor repeat an entry while entries arrive, and whether a merge into them
can be undone."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from roster.domain.errors import InvalidInput, NotFound
from roster.domain.identifiers import IdentifierMode, Reference
from roster.domain.operations import Identify, Merge, Operation, TrackEvent
from roster.services.hygiene import Hygiene
from roster.services.ingestion import Message
from roster.services.profile import Profiles
from roster.services.system import System


def _workspace(system: System) -> int:
    made = system.workspaces.create(f"profile-{uuid.uuid4().hex[:10]}", IdentifierMode.EMAIL_OR_ID)
    return int(made["workspace_id"])


def _apply(system: System, workspace_id: int, *ops: Operation) -> None:
    done = system.ingestion.apply_sync(workspace_id, [Message(op) for op in ops], "track_v1")
    assert all(not isinstance(result, Exception) for result in done), done


def _profiles(system: System) -> Profiles:
    return Profiles(system.lookups, system.database)


def _cio_id(system: System, workspace_id: int, id_: str) -> str:
    return system.lookups.get(workspace_id, Reference("id", id_)).cio_id


def test_a_person_is_read_by_cio_id_with_or_without_the_prefix_and_only_by_it(system):
    workspace_id = _workspace(system)
    _apply(system, workspace_id, Identify(Reference("id", "ada"), {"plan": "pro"}))
    cio_id = _cio_id(system, workspace_id, "ada")
    profiles = _profiles(system)
    for address in (cio_id, f"cio_{cio_id}"):
        view = profiles.view(workspace_id, address)
        assert (view.person.id, view.person.attributes["plan"]) == ("ada", "pro")
        assert "plan" in view.person.attribute_times
    for address in ("ada", "nobody", "", "cio_", "x\x00y", "z" * 500):
        with pytest.raises(NotFound):
            profiles.view(workspace_id, address)


def test_the_timeline_pages_newest_first_without_skipping_or_repeating(system):
    workspace_id = _workspace(system)
    ref = Reference("id", "grace")
    _apply(system, workspace_id, Identify(ref, {"plan": "free"}))
    _apply(system, workspace_id, *(TrackEvent(ref, f"step_{n:02d}") for n in range(12)))
    cio_id = _cio_id(system, workspace_id, "grace")
    profiles = _profiles(system)

    first = profiles.read(workspace_id, cio_id, limit=5)
    assert len(first.timeline) == 5 and first.older
    _apply(system, workspace_id, TrackEvent(ref, "late"))  # arrives between two pages
    seen = list(first.timeline)
    older = first.older
    while older:
        page = profiles.read(workspace_id, cio_id, older, limit=5)
        seen += page.timeline
        older = page.older
    keys = [(source, activity.pk) for source, activity in seen]
    assert len(keys) == len(set(keys))
    names = [activity.name for source, activity in seen if source == "e"]
    assert sorted(names) == [f"step_{n:02d}" for n in range(12)]  # "late" is newer: not here
    times = [activity.timestamp for _, activity in seen]
    assert times == sorted(times, reverse=True)
    kinds = {activity.type for source, activity in seen if source == "a"}
    assert {"profile_create", "attribute_change"} <= kinds


def test_a_cursor_roster_did_not_make_is_refused(system):
    workspace_id = _workspace(system)
    _apply(system, workspace_id, Identify(Reference("id", "linus"), {}))
    cio_id = _cio_id(system, workspace_id, "linus")
    for start in ("not-a-cursor", "WzEsInoiLDJd"):  # [1,"z",2]: a source roster has not
        with pytest.raises(InvalidInput):
            _profiles(system).read(workspace_id, cio_id, start)


def test_a_merge_can_be_undone_until_it_is(system):
    workspace_id = _workspace(system)
    _apply(
        system,
        workspace_id,
        Identify(Reference("id", "keep"), {}),
        Identify(Reference("id", "gone"), {"city": "Oslo"}),
    )
    keep = _cio_id(system, workspace_id, "keep")
    gone = _cio_id(system, workspace_id, "gone")
    profiles = _profiles(system)
    assert not profiles.read(workspace_id, keep).can_unmerge
    _apply(system, workspace_id, Merge(Reference("cio_id", keep), Reference("cio_id", gone)))
    merged = profiles.read(workspace_id, keep)
    assert merged.can_unmerge and merged.merge is not None
    assert merged.merge.secondary.cio_id == gone
    assert merged.view.person.attributes["city"] == "Oslo"
    hygiene = Hygiene(system.ingestion, system.lookups, system.database)
    back = Reference("cio_id", keep)
    asyncio.run(hygiene.unmerge(workspace_id, back, IdentifierMode.EMAIL_OR_ID, "web"))
    assert not profiles.read(workspace_id, keep).can_unmerge
    assert profiles.view(workspace_id, gone).person.attributes == {"city": "Oslo"}
