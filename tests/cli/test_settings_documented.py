"""Every setting has help text and is documented in docs/configuration.md."""

from __future__ import annotations

from pathlib import Path

from roster.settings import Settings

DOC = Path(__file__).parents[2] / "docs" / "configuration.md"


def test_every_setting_has_help_text():
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no help text"


def test_every_setting_is_documented():
    text = DOC.read_text()
    for name in Settings.model_fields:
        assert f"ROSTER_{name.upper()}" in text, f"ROSTER_{name.upper()} is not in {DOC.name}"
