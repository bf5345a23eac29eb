"""A workspace's settings, as the identity rules see them (docs/identity.md I1.5)."""

from __future__ import annotations

from dataclasses import dataclass

from roster.domain.identifiers import IdentifierMode


@dataclass(frozen=True)
class WorkspaceRules:
    workspace_id: int
    identifier_mode: IdentifierMode = IdentifierMode.EMAIL_OR_ID
    allow_email_update_by_id: bool = False
    auto_merge: bool = True
    strict_conflicts: bool = False
    anonymous_retention_days: int = 30
    suppression_secret: bytes = b""

    @property
    def emails_identify(self) -> bool:
        return self.identifier_mode is IdentifierMode.EMAIL_OR_ID
