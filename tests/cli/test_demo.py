"""`roster demo` loads its sample through the real HTTP APIs, and it lands as the rules say."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from roster.cli import app
from roster.domain.identifiers import IdentifierMode, read_reference
from roster.services.system import System


def test_demo_loads_leads_visitors_an_unsubscribe_a_duplicate_pair_and_a_group(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    env = {"ROSTER_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(app, ["demo", "--database-url", url], env=env)
    assert result.exit_code == 0, result.output
    assert "Loaded" in result.output
    credentials = json.loads((tmp_path / "data" / "demo.json").read_text())
    system = System.open(url, tmp_path / "data")
    try:
        ws = credentials["workspace_id"]
        lookups = system.lookups

        def find(raw: str):
            return lookups.find(ws, read_reference(raw, IdentifierMode.EMAIL_OR_ID))

        ada = find("user-1")
        assert ada is not None and ada.email == "ada@example.com"  # the lead became a customer
        assert ada.attributes["first_name"] == "Ada"
        assert find("user-3").unsubscribed
        linus = find("user-10")
        pages = [e.name for e in lookups.events(ws, linus.cio_id) if e.type == "page"]
        assert sorted(pages) == [
            "https://example.com/",
            "https://example.com/pricing",
            "https://example.com/signup",
        ]
        assert find("user-20").pk != find("alan@example.com").pk  # the duplicate pair
        acme, more = lookups.object(ws, "1", "acme")
        assert more == ""
        assert acme["attributes"] == {"name": "Acme Corp", "industry": "manufacturing"}
        assert [r["id"] for r in acme["relationships"]] == ["user-1", "user-3"]
    finally:
        system.close()


def test_demo_twice_adds_no_duplicate_events(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    env = {"ROSTER_DATA_DIR": str(tmp_path / "data")}
    for _ in range(2):
        assert CliRunner().invoke(app, ["demo", "--database-url", url], env=env).exit_code == 0
    credentials = json.loads((tmp_path / "data" / "demo.json").read_text())
    system = System.open(url, tmp_path / "data")
    try:
        ws = credentials["workspace_id"]
        person = system.lookups.find(ws, read_reference("user-10", IdentifierMode.EMAIL_OR_ID))
        assert len(list(system.lookups.events(ws, person.cio_id))) == 4
    finally:
        system.close()
