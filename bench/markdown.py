"""A Markdown table, for docs/benchmarks.md: one helper that every section of the page uses
(this module imports nothing of the bench, so that any of its modules may)."""

from __future__ import annotations


def table(header: list[str], align: str, rows: list[list[str]]) -> str:
    """A Markdown table; `align` has one letter a column: l(eft) or r(ight)."""
    rule = "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"
    lines = ["| " + " | ".join(line) + " |" for line in (header, *rows)]
    return "\n".join([lines[0], rule, *lines[1:]])
