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
