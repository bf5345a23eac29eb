"""The read side's fixed data set (PRODUCT targets: 1,000,000 people with 20 attributes each),
written straight into a migrated SQLite database with bulk SQL: building it through the API
would take longer than everything it measures.

The shape, by a person's number i (0-based, row order = creation order):
- most people have the id `user-i` and the email `user-i@example.com`;
- every tenth (i % 10 == 3) is a lead: the email only, no id ("people with an email but no
  id", the filter the targets name);
- one in a hundred (i % 100 == 7) has the id only, and a conflict record ties it to the lead
  four places before it (i - 4, also i % 100 == 3): a call carried both identifiers and the
  email was held by the lead (docs/identity.md I5.2). These are the duplicate finder's
  id-only + email-only pairs, 1% of the people;
- 20 attributes: `plan` (free, pro, team: an equality the filters are measured on), `created_at`
  (unix seconds), 9 numbers `n1`..`n9`, 9 strings `s1`..`s9`, each with its timestamp.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

from bench import EMAIL_DOMAIN, PLANS, console

PEOPLE = 1_000_000
CHUNK = 20_000
T0 = 1_700_000_000.0


def is_lead(i: int) -> bool:
    return i % 10 == 3


def is_id_only(i: int) -> bool:
    return i % 100 == 7


def person_id(i: int) -> str | None:
    return None if is_lead(i) else f"user-{i}"


def person_email(i: int) -> str | None:
    return None if is_id_only(i) else f"user-{i}{EMAIL_DOMAIN}"


def cio_id(i: int) -> str:
    return f"{i + 1:012x}"


def _attributes(i: int) -> tuple[str, str]:
    values: dict[str, object] = {"plan": PLANS[i % len(PLANS)], "created_at": int(T0) + i}
    for n in range(1, 10):
        values[f"n{n}"] = (i * n) % 1000
        values[f"s{n}"] = f"value-{(i + n) % 500}"
    times = dict.fromkeys(values, T0 + i)
    return orjson.dumps(values).decode(), orjson.dumps(times).decode()


def _people_rows(workspace_id: int, start: int, stop: int) -> Iterator[tuple[object, ...]]:
    for i in range(start, stop):
        email = person_email(i)
        attributes, times = _attributes(i)
        yield (
            workspace_id,
            i + 1,
            cio_id(i),
            person_id(i),
            email,
            email.casefold() if email else None,
            attributes,
            times,
            int(T0) + i,
            T0 + i,
        )


def _identifier_rows(workspace_id: int, start: int, stop: int) -> Iterator[tuple[object, ...]]:
    for i in range(start, stop):
        id_, email = person_id(i), person_email(i)
        if id_ is not None:
            yield (workspace_id, "id", id_, i + 1)
        if email is not None:
            yield (workspace_id, "email", email.casefold(), i + 1)


def _conflict_rows(workspace_id: int, start: int, stop: int) -> Iterator[tuple[object, ...]]:
    for i in range(start, stop):
        if is_id_only(i):
            lead = i - 4
            email = person_email(lead)
            assert email is not None and is_lead(lead)
            reason = "The identifier is already associated with a different profile."
            yield (workspace_id, "email", email.casefold(), "track_v1", i + 1, lead + 1, reason,
                   1, T0 + i, T0 + i)  # fmt: skip


def build(database: Path, workspace_id: int, people: int = PEOPLE) -> float:
    """Writes `people` people into the workspace; the seconds it took."""
    started = time.perf_counter()
    db = sqlite3.connect(database)
    try:
        db.execute("pragma synchronous = off")
        with console.status(f"Writing {people:,} people into {database.name} ...") as status:
            for start in range(0, people, CHUNK):
                stop = min(people, start + CHUNK)
                db.executemany(
                    "insert into people (workspace_id, pk, cio_id, id, email, email_folded, "
                    "attributes, attribute_times, created_in_roster_at, updated_at) "
                    "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _people_rows(workspace_id, start, stop),
                )
                db.executemany(
                    "insert into identifiers (workspace_id, kind, value, person_pk) "
                    "values (?, ?, ?, ?)",
                    _identifier_rows(workspace_id, start, stop),
                )
                db.executemany(
                    "insert into conflicts (workspace_id, kind, value, door, person_pk, "
                    "holder_pk, reason, count, first_seen, last_seen) "
                    "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _conflict_rows(workspace_id, start, stop),
                )
                db.commit()
                status.update(f"Writing {people:,} people into {database.name} ... {stop:,}")
        db.execute("analyze")
        db.commit()
    finally:
        db.close()
    return time.perf_counter() - started
