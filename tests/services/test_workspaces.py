"""Workspaces: create, authenticate, change settings (I1.4, I1.5)."""

from __future__ import annotations

import uuid

import pytest

from roster.domain.errors import InvalidInput, NotFound, SettingRefused, Unauthorized
from roster.domain.identifiers import IdentifierMode, read_given, read_reference
from roster.domain.operations import Identify
from roster.services.ingestion import Message
from roster.services.system import System


def _identify(system: System, ws: int, ref: str, email: str, mode: IdentifierMode) -> None:
    op = Identify(reference=read_reference(ref, mode), body_email=read_given(email, "email"))
    system.ingestion.apply_sync(ws, [Message(op)], "test")


def test_credentials_authenticate_only_their_workspace(system: System, workspace):
    ws = workspace["workspace_id"]
    assert system.workspaces.for_track(workspace["site_id"], workspace["track_api_key"]) == ws
    assert system.workspaces.for_app_key(workspace["app_api_key"]) == ws
    assert system.workspaces.for_write_key(workspace["write_key"]) == ws
    with pytest.raises(Unauthorized):
        system.workspaces.for_track(workspace["site_id"], workspace["app_api_key"])
    with pytest.raises(Unauthorized):
        system.workspaces.for_app_key(workspace["track_api_key"])


def test_names_are_unique(system: System):
    name = f"unique-{uuid.uuid4().hex[:6]}"
    system.workspaces.create(name)
    with pytest.raises(InvalidInput, match="already exists"):
        system.workspaces.create(name)


def test_settings_change_and_are_validated(system: System, workspace):
    ws = workspace["workspace_id"]
    changed = system.workspaces.change_settings(
        ws, allow_email_update_by_id=True, auto_merge=False, anonymous_retention_days=7
    )
    assert changed["allow_email_update_by_id"] is True
    assert changed["auto_merge"] is False
    assert changed["anonymous_retention_days"] == 7
    with pytest.raises(InvalidInput, match="anonymous_retention_days"):
        system.workspaces.change_settings(ws, anonymous_retention_days=0)
    with pytest.raises(InvalidInput, match="unknown setting"):
        system.workspaces.change_settings(ws, colour="blue")
    with pytest.raises(NotFound):
        system.workspaces.change_settings(10**9, auto_merge=True)


def test_i1_4_switching_to_email_or_id_is_refused_while_an_email_is_shared(system: System):
    created = system.workspaces.create(
        f"idonly-{uuid.uuid4().hex[:6]}", identifier_mode=IdentifierMode.ID_ONLY
    )
    ws = created["workspace_id"]
    _identify(system, ws, "u1", "shared@example.com", IdentifierMode.ID_ONLY)
    _identify(system, ws, "u2", "Shared@example.com", IdentifierMode.ID_ONLY)
    with pytest.raises(SettingRefused) as refused:
        system.workspaces.change_settings(ws, identifier_mode="email_or_id")
    holders = sorted(p.cio_id for p in system.lookups.people(ws))
    assert refused.value.holders == holders
    assert system.workspaces.get(ws)["identifier_mode"] == "id_only"


def test_i1_4_switching_to_email_or_id_makes_emails_identify(system: System):
    created = system.workspaces.create(
        f"idonly-{uuid.uuid4().hex[:6]}", identifier_mode=IdentifierMode.ID_ONLY
    )
    ws = created["workspace_id"]
    _identify(system, ws, "u1", "one@example.com", IdentifierMode.ID_ONLY)
    system.workspaces.change_settings(ws, identifier_mode="email_or_id")
    person = system.lookups.find(ws, read_reference("ONE@example.com", IdentifierMode.EMAIL_OR_ID))
    assert person is not None and person.id == "u1"


def test_a_new_key_replaces_the_old_one_which_stops_working_at_once(system: System, workspace):
    ws, workspaces = workspace["workspace_id"], system.workspaces
    old = workspace["app_api_key"]
    assert workspaces.for_app_key(old) == ws  # cached from here on
    before = workspaces.keys(ws)["app_api_key"]
    new = workspaces.new_key(ws, "app_api_key")
    assert new != old
    with pytest.raises(Unauthorized):
        workspaces.for_app_key(old)  # not answered from the cache
    assert workspaces.for_app_key(new) == ws
    after = workspaces.keys(ws)["app_api_key"]
    assert before is not None and after is not None and after >= before
    # The other kinds are untouched.
    assert workspaces.for_write_key(workspace["write_key"]) == ws
    assert workspaces.for_track(workspace["site_id"], workspace["track_api_key"]) == ws


def test_a_revoked_key_is_refused_at_once_and_a_new_one_can_be_made(system: System, workspace):
    ws, workspaces = workspace["workspace_id"], system.workspaces
    site, track = workspace["site_id"], workspace["track_api_key"]
    assert workspaces.for_track(site, track) == ws
    workspaces.revoke_key(ws, "track_api_key")
    with pytest.raises(Unauthorized):
        workspaces.for_track(site, track)
    assert workspaces.keys(ws)["track_api_key"] is None
    with pytest.raises(NotFound, match="no track_api_key"):
        workspaces.revoke_key(ws, "track_api_key")
    new = workspaces.new_key(ws, "track_api_key")
    assert workspaces.for_track(site, new) == ws
    assert workspaces.keys(ws)["track_api_key"] is not None


def test_keys_are_one_workspaces_and_of_known_kinds(system: System, workspace):
    ws = workspace["workspace_id"]
    other = system.workspaces.create(f"other-{uuid.uuid4().hex[:6]}")
    system.workspaces.revoke_key(other["workspace_id"], "write_key")
    assert system.workspaces.for_write_key(workspace["write_key"]) == ws
    with pytest.raises(InvalidInput, match="a key is one of"):
        system.workspaces.new_key(ws, "webhook_secret")
    with pytest.raises(NotFound):
        system.workspaces.new_key(10**9, "write_key")
    with pytest.raises(NotFound):
        system.workspaces.keys(10**9)


def test_the_webhook_secret_is_opened_for_its_workspace(system: System, workspace):
    ws = workspace["workspace_id"]
    assert system.workspaces.webhook_secret(ws) == workspace["webhook_secret"]
    with pytest.raises(NotFound):
        system.workspaces.webhook_secret(10**9)


def test_what_is_sealed_to_be_shown_once_opens_only_unaltered(system: System):
    sealed = system.workspaces.seal_shown_once({"key": "k-1"})
    assert "k-1" not in sealed
    assert system.workspaces.open_shown_once(sealed) == {"key": "k-1"}
    altered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    assert system.workspaces.open_shown_once(altered) is None
    assert system.workspaces.open_shown_once("not sealed") is None
