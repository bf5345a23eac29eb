"""An unmerge and a call that takes one of the secondary's identifiers, at the same time, through
two writers on one PostgreSQL database (docs/identity.md I6.4, I10.5): they take turns, so either
the secondary comes back first and the call updates it, or the call's person takes the identifier
first and the unmerge is refused with the reason. Never a failed commit, never two owners."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from roster.domain.errors import UnmergeRefused
from roster.domain.identifiers import IdentifierMode, Reference
from roster.services.hygiene import Hygiene
from roster.services.ingestion import Message
from roster.services.system import System
from tests.domain.builders import EMAIL_OR_ID, identify, merge

ROUNDS = 12


@pytest.fixture(scope="module")
def writers(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[System]]:
    """Two roster cores on one database: two writers, as two server processes have."""
    data = Path(tmp_path_factory.mktemp("data"))
    opened = [System.open(postgres_url, data, "test-secret") for _ in range(2)]
    try:
        yield opened
    finally:
        for system in opened:
            system.close()


def _race(first: Any, second: Any) -> list[BaseException | None]:
    """Run both at once (as near as threads allow); what each raised, if anything."""
    start = threading.Barrier(2)
    raised: list[BaseException | None] = [None, None]

    def run(n: int, work: Any) -> None:
        start.wait()
        try:
            work()
        except BaseException as error:  # reported to the test thread
            raised[n] = error

    threads = [threading.Thread(target=run, args=(n, w)) for n, w in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return raised


def test_i6_4_an_unmerge_and_a_call_taking_a_freed_identifier_take_turns(
    writers: list[System],
) -> None:
    one, two = writers
    ws = int(one.workspaces.create(f"race-{uuid.uuid4().hex[:8]}")["workspace_id"])
    hygiene = Hygiene(one.ingestion, one.lookups, one.database)
    outcomes = []
    for n in range(ROUNDS):
        ada, grace = f"ada-{n}", f"grace-{n}"
        one.ingestion.apply_sync(
            ws,
            [
                Message(identify(EMAIL_OR_ID, ada, email=f"{ada}@example.com")),
                Message(identify(EMAIL_OR_ID, grace, email=f"{grace}@example.com")),
                Message(merge(EMAIL_OR_ID, ("id", ada), ("id", grace))),  # Grace's id is freed
            ],
            "test",
        )

        raised = _race(
            lambda ada=ada: hygiene.unmerge_sync(
                ws, Reference("id", ada), IdentifierMode.EMAIL_OR_ID
            ),
            lambda grace=grace: two.ingestion.apply_sync(
                ws, [Message(identify(EMAIL_OR_ID, grace, plan="new"))], "test", strict=True
            ),
        )

        assert raised[1] is None, raised[1]
        holder = one.lookups.find(ws, Reference("id", grace))
        assert holder is not None
        if raised[0] is None:  # the unmerge went first: the call updated the returned Grace
            assert holder.email == f"{grace}@example.com"
            assert holder.attributes == {"plan": "new"}
            outcomes.append("unmerged")
        else:  # the call went first: a new Grace holds the id, and the unmerge says so
            assert isinstance(raised[0], UnmergeRefused), repr(raised[0])
            assert f"cio_{holder.cio_id}" in raised[0].message
            assert holder.email is None
            outcomes.append("refused")
    assert len(outcomes) == ROUNDS
