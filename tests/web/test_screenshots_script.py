"""`make screenshots` (tools/screenshots.py) against a real roster: it logs in, draws each page
of its table at that row's size, and skips a page that answers 404, saying so."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.test_screenshots import png_size
from tests.web.conftest import CHROMIUM, Ui, _missing
from tools.screenshots import LAPTOP, PHONE, SHOTS, Shot, take

pytestmark = pytest.mark.server


def test_the_script_draws_each_page_at_its_size_and_skips_one_that_answers_404(
    ui: Ui, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not CHROMIUM.exists():
        _missing(f"Chromium is not at {CHROMIUM} (apt-get install chromium)")
    ui.identify("shot-1", email="shot-1@example.com", plan="pro")
    shots = (
        Shot("login", "/login", logged_in=False),
        Shot("people", "/people", full_page=True),
        Shot("people-phone", "/people?q=plan%3Dpro", size=PHONE),
        Shot("nowhere", "/no-such-page/{cio_id}"),
    )

    written = take(shots, ui.base_url, "0123", tmp_path, login=(ui.email, ui.password))

    assert written == ["login", "people", "people-phone"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "login.png", "people-phone.png", "people.png"
    ]  # fmt: skip
    assert png_size(tmp_path / "login.png") == LAPTOP
    assert png_size(tmp_path / "people-phone.png") == PHONE
    assert png_size(tmp_path / "people.png")[0] == LAPTOP[0]
    assert "/no-such-page/{cio_id} answers 404 on this roster; skipped" in capsys.readouterr().out
    # The table already names the pages still to come, skipped until they exist.
    assert {"/people/{cio_id}", "/duplicates"} <= {shot.path for shot in SHOTS}
