"""The pictures of the web UI (`make screenshots`, tools/screenshots.py) and the docs that show
them agree: every picture README.md and docs/*.md show exists, every picture the script drew is
shown somewhere, and each was drawn at the size docs/web.md says (docs are claims)."""

from __future__ import annotations

import re
import struct
from pathlib import Path

from tools.screenshots import LAPTOP, OUT, PHONE, REPO, SHOTS

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# Markdown's ![alt](path) and HTML's <img src="path">.
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)|<img\s[^>]*src=\"([^\"]+)\"")


def shown() -> dict[Path, list[str]]:
    """Every image the docs show, resolved, with the documents that show it."""
    found: dict[Path, list[str]] = {}
    for doc in DOCS:
        for match in IMAGE.finditer(doc.read_text()):
            target = match[1] or match[2]
            if "://" in target:
                continue
            found.setdefault((doc.parent / target).resolve(), []).append(doc.name)
    return found


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_every_picture_the_docs_show_exists() -> None:
    missing = {str(path.relative_to(REPO)): docs for path, docs in shown().items()
               if not path.is_file()}  # fmt: skip
    assert missing == {}
    assert len(shown()) >= 6  # the README's "What it looks like" and docs/web.md show them


def test_every_picture_the_script_drew_is_shown_in_the_readme_or_the_docs() -> None:
    drawn = [OUT / f"{shot.name}.png" for shot in SHOTS if (OUT / f"{shot.name}.png").exists()]
    assert {"login", "people", "people-search", "people-phone"} <= {p.stem for p in drawn}
    assert [p.name for p in drawn if p.resolve() not in shown()] == []
    # And nothing in docs/images/ that the script does not draw (a picture no run refreshes).
    assert {p.name for p in OUT.glob("*.png")} <= {f"{shot.name}.png" for shot in SHOTS}


def test_each_picture_was_drawn_at_the_width_docs_web_md_states() -> None:
    web = " ".join((REPO / "docs" / "web.md").read_text().split())
    assert f"a laptop's width ({LAPTOP[0]}x{LAPTOP[1]})" in web
    assert f"at a phone's ({PHONE[0]}x{PHONE[1]})" in web
    for shot in SHOTS:
        path = OUT / f"{shot.name}.png"
        if path.exists():
            width, height = png_size(path)
            assert width == shot.size[0], shot.name
            assert height == shot.size[1] or (shot.full_page and height >= shot.size[1])
    assert {shot.size for shot in SHOTS} == {LAPTOP, PHONE}
