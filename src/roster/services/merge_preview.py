"""What merging people into one would give (docs/identity.md I6, docs/web.md "Duplicates"): each
side as it is now, and the person the merges would leave, with where each value comes from.

The result is not predicted: the merges are rehearsed (services/explain.py, docs/decisions.md
"Explain rehearses the call"). One rehearsed writer request reads the sides, a second runs the
merges exactly as `roster duplicates --merge` makes them (Hygiene, each merge on its own) and
reads the person they leave in the same transaction; both are rolled back. So the preview says
what the identity rules do, refusals included, and writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from roster.domain.context import Outcome
from roster.domain.errors import Citation, RosterError
from roster.domain.identifiers import Reference
from roster.services.hygiene import Hygiene
from roster.services.ingestion import Result
from roster.storage.rehearsal import PersonSnapshot, read_snapshot
from roster.storage.writer import Transaction

if TYPE_CHECKING:
    from roster.services.system import System

# Where a value of the result comes from, as the preview's table says it.
KEPT, MERGED_IN, BOTH, MERGE = "Kept", "Merged in", "Both", "Merge"


@dataclass(frozen=True)
class Refusal:
    """A merge the rules refuse: whom it would have merged in, why, and the rules that led
    there (I6.1)."""

    cio_id: str
    reason: str
    rules: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class Row:
    """One line of the preview's table: a field, its value on each side (None: none) and in
    the result, and where the result's value comes from ("" when it has none)."""

    section: str  # "Identifiers", "Attributes" or "Belongings"
    name: str
    kept: Any
    merged_in: tuple[Any, ...]
    result: Any
    source: str


@dataclass(frozen=True)
class MergePreview:
    primary_cio_id: str
    secondary_cio_ids: tuple[str, ...]
    primary: PersonSnapshot | None  # None: no such person
    secondaries: tuple[PersonSnapshot | None, ...]
    result: PersonSnapshot | None  # None when no merge would happen
    rules: tuple[Citation, ...] = ()  # in the order the merges cite them
    refusals: tuple[Refusal, ...] = ()
    rows: tuple[Row, ...] = field(default=())

    @property
    def secondary(self) -> PersonSnapshot | None:
        """The one secondary of a preview of one merge."""
        return self.secondaries[0] if self.secondaries else None

    @property
    def refused(self) -> str | None:
        """Why the merge would be refused (the first refusal's reason), None when it would not."""
        return self.refusals[0].reason if self.refusals else None


def preview_merge(system: System, workspace_id: int, primary: str, secondary: str) -> MergePreview:
    """What merging the person with cio_id `secondary` into the one with cio_id `primary`
    would give (with or without `cio_`). Writes nothing."""
    return preview_merges(system, workspace_id, primary, [secondary])


def preview_merges(
    system: System, workspace_id: int, primary: str, secondaries: Sequence[str]
) -> MergePreview:
    """What merging each of `secondaries`, in order, into `primary` would give, as
    `roster duplicates --merge` merges a group: a refused merge is listed with its reason and
    the others go on. Writes nothing."""
    primary = primary.removeprefix("cio_")
    wanted = tuple(s.removeprefix("cio_") for s in secondaries)
    rehearsal = system.explain.rehearsal(system, workspace_id)
    rehearsed = rehearsal.system
    writer = rehearsed.ingestion.writer  # the rehearsal's: every request is rolled back

    def sides(tx: Transaction) -> tuple[PersonSnapshot | None, ...]:
        return tuple(read_snapshot(tx, workspace_id, cio_id) for cio_id in (primary, *wanted))

    before: tuple[PersonSnapshot | None, ...] = writer.run_sync(sides)
    after: list[PersonSnapshot | None] = []

    def then(tx: Transaction, results: list[Result]) -> None:
        after.append(read_snapshot(tx, workspace_id, primary))

    hygiene = Hygiene(rehearsed.ingestion, rehearsed.lookups, rehearsed.database)
    results = hygiene.merge_each_sync(
        workspace_id,
        Reference("cio_id", primary),
        [Reference("cio_id", cio_id) for cio_id in wanted],
        then=then,
    )
    rules: list[Citation] = []
    refusals: list[Refusal] = []
    for cio_id, result in zip(wanted, results, strict=True):
        if isinstance(result, RosterError):
            refusals.append(Refusal(cio_id, result.message, tuple(result.rules)))
            rules.extend(result.rules)
        else:
            assert isinstance(result, Outcome)
            rules.extend(result.rules)
    merged_any = len(refusals) < len(wanted)
    result_profile = after[0] if after and merged_any else None
    return MergePreview(
        primary_cio_id=primary,
        secondary_cio_ids=wanted,
        primary=before[0],
        secondaries=before[1:],
        result=result_profile,
        rules=tuple(rules),
        refusals=tuple(refusals),
        rows=_rows(before[0], before[1:], result_profile),
    )


# -- the table ---------------------------------------------------------------------------------

_ABSENT: Any = None


def _source(values: Sequence[Any], result: Any) -> str:
    """Which side the result's value is: the primary's (kept) or a secondary's (merged in)."""
    if result is None:
        return ""
    if values and values[0] == result:
        return KEPT
    if any(value == result for value in values[1:]):
        return MERGED_IN
    return MERGE


def _items_source(items: Sequence[tuple[Any, ...] | None], result: tuple[Any, ...] | None) -> str:
    """Which sides' items (devices, anonymous ids, relationships) the result holds."""
    if not result:
        return ""
    held = set(result)
    primary = bool(items and items[0] and held & set(items[0]))
    secondary = any(side and held & set(side) for side in items[1:])
    if primary and secondary:
        return BOTH
    return KEPT if primary else MERGED_IN if secondary else MERGE


def _rows(
    primary: PersonSnapshot | None,
    secondaries: Sequence[PersonSnapshot | None],
    result: PersonSnapshot | None,
) -> tuple[Row, ...]:
    profiles = (primary, *secondaries)
    rows: list[Row] = []

    def scalar(section: str, name: str, read: Callable[[PersonSnapshot], Any]) -> None:
        values = [read(p) if p is not None else _ABSENT for p in profiles]
        value = read(result) if result is not None else _ABSENT
        rows.append(Row(section, name, values[0], tuple(values[1:]), value, _source(values, value)))

    def identifier(name: str) -> Callable[[PersonSnapshot], Any]:
        return lambda p: getattr(p.person, name)

    def attribute(name: str) -> Callable[[PersonSnapshot], Any]:
        return lambda p: p.person.attributes.get(name, _ABSENT)

    for name in ("id", "email", "cio_id"):
        scalar("Identifiers", name, identifier(name))
    scalar("Identifiers", "created", lambda p: p.person.created_in_roster_at)
    names: dict[str, None] = {}
    for profile in (*profiles, result):
        if profile is not None:
            names.update(dict.fromkeys(n for n in profile.person.attributes if n != "unsubscribed"))
    for name in sorted(names):
        scalar("Attributes", name, attribute(name))
    scalar("Attributes", "unsubscribed", lambda p: p.person.unsubscribed)
    belongings: tuple[tuple[str, Callable[[PersonSnapshot], tuple[Any, ...]]], ...] = (
        ("devices", lambda p: p.devices),
        ("anonymous ids", lambda p: p.anonymous_ids),
        ("relationships", lambda p: p.relationships),
    )
    for name, read in belongings:
        items = [read(p) if p is not None else None for p in profiles]
        held = read(result) if result is not None else None
        counts = [len(i) if i is not None else _ABSENT for i in items]
        rows.append(
            Row(
                "Belongings",
                name,
                counts[0],
                tuple(counts[1:]),
                len(held) if held is not None else _ABSENT,
                _items_source(items, held),
            )
        )
    events = [p.events if p is not None else _ABSENT for p in profiles]
    total = result.events if result is not None else _ABSENT
    had = [bool(n) for n in events]
    source = "" if not total else BOTH if had[0] and any(had[1:]) else KEPT if had[0] else MERGED_IN
    rows.append(Row("Belongings", "events", events[0], tuple(events[1:]), total, source))
    return tuple(rows)
