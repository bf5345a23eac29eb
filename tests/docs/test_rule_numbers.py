"""The rule numbers and wire sections that code, tests and docs cite exist in docs/identity.md and
docs/api.md: the repository carries its own rule book."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
IDENTITY = ROOT / "docs" / "identity.md"
API = ROOT / "docs" / "api.md"
CITING = ["src", "tests", "docs", "bench", "README.md", "CONTRIBUTING.md", "CHANGELOG.md"]


def numbered_rules(markdown: str) -> dict[str, str]:
    """Every rule of a rule book written as `## I3. Title` headings, each followed by a numbered
    list: {"I3.1": "its first line", ...}. The list must count 1, 2, 3 … under each heading."""
    rules: dict[str, str] = {}
    section: str | None = None
    expected = 1
    for line in markdown.splitlines():
        heading = re.match(r"## (I\d+)\. ", line)
        if heading:
            section, expected = heading.group(1), 1
            continue
        if line.startswith("## "):
            section = None
            continue
        item = re.match(r"(\d+)\. (.*)", line)
        if section is not None and item:
            assert int(item.group(1)) == expected, (
                f"{section}: item {item.group(1)} after {expected - 1}"
            )
            rules[f"{section}.{expected}"] = item.group(2)
            expected += 1
    return rules


def _cited_text() -> list[tuple[Path, str]]:
    files: list[Path] = []
    for name in CITING:
        path = ROOT / name
        files += (
            [path] if path.is_file() else sorted(path.rglob("*.py")) + sorted(path.rglob("*.md"))
        )
    return [(path, path.read_text()) for path in files]


def test_the_rule_reader_counts_each_sections_list():
    book = "## I1. One\n\n1. a\n2. b\n   - not a rule\n\n## I2. Two\n\n1. c\n\n## Other\n\n1. d\n"
    assert numbered_rules(book) == {"I1.1": "a", "I1.2": "b", "I2.1": "c"}


def test_docs_identity_md_numbers_sections_i1_to_i10_each_from_rule_1():
    rules = numbered_rules(IDENTITY.read_text())
    sections = list(dict.fromkeys(rule.split(".")[0] for rule in rules))
    assert sections == [f"I{n}" for n in range(1, 11)]
    assert max(int(rule.split(".")[1]) for rule in rules if rule.startswith("I10.")) == 6


def test_every_rule_cited_in_the_repository_is_in_docs_identity_md():
    rules = numbered_rules(IDENTITY.read_text())
    missing = set()
    for path, text in _cited_text():
        for major, minor in re.findall(r"\bI(\d+)\.(\d+)\b", text):
            if f"I{major}.{minor}" not in rules:
                missing.add(f"I{major}.{minor} in {path.relative_to(ROOT)}")
        for major, minor in re.findall(r"\btest_i(\d+)_(\d+)_", text):
            if f"I{major}.{minor}" not in rules:
                missing.add(f"test_i{major}_{minor}_ in {path.relative_to(ROOT)}")
    assert not missing, sorted(missing)


def test_every_wire_section_cited_in_the_repository_is_a_section_of_docs_api_md():
    sections = set(re.findall(r"^## (§\d+) ", API.read_text(), flags=re.MULTILINE))
    assert sections == {f"§{n}" for n in range(8)}
    missing = {
        f"{cited} in {path.relative_to(ROOT)}"
        for path, text in _cited_text()
        for cited in re.findall(r"§\d+", text)
        if cited not in sections
    }
    assert not missing, sorted(missing)
