"""The figures docs/web.md gives about logins are the ones the code uses (docs are claims)."""

from __future__ import annotations

from pathlib import Path

from roster.services import logins, workspaces
from roster.web import duplicates, workspace_lists

# Whitespace folded, so that a figure may sit across a line break.
WEB = " ".join((Path(__file__).parents[2] / "docs" / "web.md").read_text().split())


def test_the_login_limits_and_lifetimes_docs_web_md_states_are_the_codes() -> None:
    assert f"at least {logins.MIN_PASSWORD} characters" in WEB
    assert f"at most {logins.MAX_PASSWORD:,}" in WEB
    assert f"a session of {logins.SESSION_SECONDS // 3600} hours" in WEB
    assert f"after {logins.FAILURES_PER_EMAIL} failures for one email" in WEB
    assert f"or {logins.FAILURES_PER_ADDRESS} from one address" in WEB
    assert f"within {logins.FAILURE_WINDOW // 60} minutes" in WEB
    assert f"`{logins.SESSION_COOKIE}`" in WEB


def test_the_workspace_pages_figures_docs_web_md_states_are_the_codes() -> None:
    assert f"good for {workspaces.SHOWN_ONCE_SECONDS} seconds" in WEB
    assert f"may still accept the old key for up to {workspaces._CACHE_SECONDS:.0f} seconds" in WEB
    assert f"The three lists show {workspace_lists.PAGE} entries a page" in WEB


def test_the_duplicates_pages_figures_docs_web_md_states_are_the_codes() -> None:
    assert f"counted up to {duplicates.COUNTED:,}" in WEB
    assert f"shows {duplicates.PAGE} groups a page" in WEB
    assert f"previews the merge of its first {duplicates.PREVIEWED} others" in WEB
